#pragma once
// A stream's field map compiled once into an immutable plan (SPEC §3). Mapping a record does no
// YAML work and no string-keyed lookups: source values arrive in source_columns() order and
// the payload leaves in destination_fields() order.

#include "crmsync/config/diagnostics.hpp"
#include "crmsync/config/model.hpp"
#include "crmsync/core/outcome.hpp"
#include "crmsync/core/record.hpp"

#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace crmsync::mapping {

// What the data dictionary (mapping-doc) and preview traces show about one destination field.
struct field_info {
    std::string destination;              // destination field name
    std::vector<std::string> sources;     // CRM fields it reads, in fallback order
    std::vector<std::string> transforms;  // as written: "trim", "date: %Y-%m-%d", "map(3)"
    bool required = false;
    std::string description;
    config::position where;
};

using map_result = std::variant<payload, rejected>;

class plan {
public:
    virtual ~plan() = default;

    // CRM fields the SOQL must select, in the order record::columns holds them. Includes the
    // key's source field (usually Id) when a field uses it. Never SystemModstamp.
    virtual const std::vector<std::string>& source_columns() const = 0;
    virtual const std::vector<field_info>& destination_fields() const = 0;
    // Index into destination_fields() of the key's destination field (always present).
    virtual std::size_t key_field() const = 0;

    // Pure. A payload, or a validation rejection with our own code (REQUIRED_MISSING,
    // UNMAPPED_VALUE, INVALID_DATE, ...) naming the destination field.
    virtual map_result apply(const record& r) const = 0;
    // The record-level skip_if condition; false when the stream has none.
    virtual bool skip(const record& r) const = 0;
};

// Compiles stream.fields and stream.skip_if. On any problem, adds a diagnostic with the
// position in the mapping file and returns null.
std::shared_ptr<const plan> compile(const config::stream& stream, config::diagnostics& problems);

}  // namespace crmsync::mapping
