#pragma once
// A destination object's fields as its describe reports them (Marketo leads/describe and
// custom-object describe, api-reference §2.4-2.5; Marketing Cloud data-extension columns): the
// one shape that preflight validation, schema-drift checks, `validate --online` and
// `mapping-doc` read, whatever the destination.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::sink {

struct field_schema {
    std::string name;                   // the API name, exactly as the destination spells it
    std::string type;                   // the destination's own type name (string, email, Text...)
    std::optional<std::size_t> length;  // maximum length in characters, where there is one
    bool required = false;              // the destination refuses a record without a value
    bool read_only = false;             // cannot be written through the API
    std::vector<std::string> picklist;  // the allowed values when restricted; empty: any value
};

struct object_schema {
    std::string object;  // lead, a custom object's apiName, a data extension's external key
    std::vector<field_schema> fields;

    // Exact name first; destinations treat field names case-insensitively (Marketo REST names,
    // Marketing Cloud columns), so a mapping that differs only in case still finds its field.
    const field_schema* find(std::string_view name) const;
};

}  // namespace crmsync::sink
