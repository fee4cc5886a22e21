#pragma once
// The data dictionary of compiled streams (`crmsync mapping-doc`, SPEC §2), built only from
// what the validator compiled (plan::destination_fields()), so the document cannot drift from
// what the daemon does (STYLE rule 12). Pure: text in, text out, no I/O.
//
// Destination types and lengths are not listed: they come from the destination's describe,
// which this build does not read yet.

#include "crmsync/config/model.hpp"
#include "crmsync/mapping/plan.hpp"

#include <span>
#include <string>
#include <string_view>

namespace crmsync::mapping {

struct documented_stream {
    const config::stream* cfg = nullptr;
    const plan* map = nullptr;
};

// One "## stream" section per stream, sorted by name: what it reads and writes, then a table
// with one row per destination field in the order the payload is built (the key first).
std::string dictionary_markdown(std::span<const documented_stream> streams);

// RFC 4180: CRLF line ends, a header row
//   stream,destination_field,source_fields,transforms,required,key,description
// and one row per destination field, streams sorted by name. Source fields are joined with
// ", " (fallback order) and transforms with " > " (evaluation order).
std::string dictionary_csv(std::span<const documented_stream> streams);

// One CSV field: quoted, with quotes doubled, when it holds a comma, quote, CR or LF.
std::string csv_field(std::string_view text);

}  // namespace crmsync::mapping
