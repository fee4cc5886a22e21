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

// A field of this object that holds a reference to a record of another object: a Marketo
// custom object's link to persons (relationships[] in its describe, api-reference §2.5).
struct link_schema {
    std::string field;         // this object's field that holds the reference
    std::string object;        // the object referred to ("Lead", a parent custom object)
    std::string object_field;  // that object's field the value must match
};

struct object_schema {
    std::string object;  // lead, a custom object's apiName, a data extension's external key
    std::vector<field_schema> fields;
    // Fields a record can be matched by when it is upserted: Marketo lead lookup fields
    // (describe2 searchableFields), custom-object dedupe fields, a data extension's primary
    // key. Empty when the destination does not say.
    std::vector<std::string> key_fields;
    // The field holding the destination's own record id, which it assigns (Marketo lead `id`,
    // custom object `marketoGUID`); empty when there is none.
    std::string id_field;
    std::vector<link_schema> links;

    // Exact name first; destinations treat field names case-insensitively (Marketo REST names,
    // Marketing Cloud columns), so a mapping that differs only in case still finds its field.
    const field_schema* find(std::string_view name) const;
    // Whether `name` is one of key_fields, compared like find().
    bool is_key(std::string_view name) const;
};

}  // namespace crmsync::sink
