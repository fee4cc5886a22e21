#pragma once
// The data dictionary of compiled streams (`crmsync mapping-doc`, SPEC §2), built only from
// what the validator compiled (plan::destination_fields()), so the document cannot drift from
// what the daemon does (STYLE rule 12), and, where the caller read it (mapping-doc --online),
// the destination's describe of each field. Pure: text in, text out, no I/O.

#include "crmsync/config/model.hpp"
#include "crmsync/mapping/plan.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::mapping {

// What the destination's describe says of one destination field.
struct described_field {
    std::string type;                   // the destination's own type name
    std::optional<std::size_t> length;  // maximum length in characters, where there is one
};

struct documented_stream {
    const config::stream* cfg = nullptr;
    const plan* map = nullptr;
    // Set when the destination's describe was read: one entry per map->destination_fields(),
    // in that order; nullopt for a field the describe does not list.
    std::optional<std::vector<std::optional<described_field>>> described;
};

// One "## stream" section per stream, sorted by name: what it reads and writes, then a table
// with one row per destination field in the order the payload is built (the key first).
std::string dictionary_markdown(std::span<const documented_stream> streams);

// RFC 4180: CRLF line ends, a header row
//   stream,destination_field,type,length,source_fields,transforms,required,key,description
// and one row per destination field, streams sorted by name. Source fields are joined with
// ", " (fallback order) and transforms with " > " (evaluation order). type and length are
// empty where the describe was not read or has none; type is "(not in destination)" for a
// field a read describe does not list.
std::string dictionary_csv(std::span<const documented_stream> streams);

// One CSV field: quoted, with quotes doubled, when it holds a comma, quote, CR or LF.
std::string csv_field(std::string_view text);

}  // namespace crmsync::mapping
