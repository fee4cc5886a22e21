#pragma once
// The concrete plan: each destination field compiled into an input (column indices resolved),
// a vector of small step structs and a hashed picklist table, so mapping a record does no
// YAML work and no string-keyed lookup except the one hash probe a `map` needs.

#include "crmsync/mapping/plan.hpp"
#include "crmsync/mapping/transforms.hpp"

#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace crmsync::mapping::detail {

struct op_trim {};
struct op_lower {};
struct op_upper {};
struct op_title {};
struct op_collapse_spaces {};
struct op_truncate {
    std::size_t code_points = 0;
};
struct op_date {
    date_format format;
};
// What a `phone` step does with a text that is not a phone number.
enum class invalid_phone_policy { reject, pass, clear };
struct op_phone {
    phone_style style = phone_style::e164;
    std::string region;  // empty: numbers must carry their country code
    invalid_phone_policy invalid = invalid_phone_policy::reject;
};
struct op_default {
    value fallback;
};
using step = std::variant<op_trim,
                          op_lower,
                          op_upper,
                          op_title,
                          op_collapse_spaces,
                          op_truncate,
                          op_date,
                          op_phone,
                          op_default>;

struct in_column {
    std::size_t column = 0;
};
struct in_coalesce {
    std::vector<std::size_t> columns;
};
struct in_constant {
    value constant;
};
struct concat_part {
    std::size_t column = 0;
    std::string literal;
    bool is_literal = false;
};
struct in_concat {
    std::vector<concat_part> parts;
};
using input = std::variant<in_column, in_coalesce, in_constant, in_concat>;

enum class unmapped_policy { reject, pass, use_default };

struct value_map {
    std::unordered_map<std::string, value> entries;
    unmapped_policy unmapped = unmapped_policy::reject;
};

struct compiled_field {
    std::string name;     // destination field
    std::string sources;  // "Email" or "MailingCity, City_A__c": for rejection messages
    input in;
    std::vector<step> steps;
    std::optional<value_map> map;
    std::optional<value> fallback;  // `default:`
    bool required = false;
};

enum class condition_op { empty, not_empty, equals, in };

struct condition {
    std::size_t column = 0;
    condition_op op = condition_op::empty;
    std::vector<std::string> values;  // texts compared with value::text()
};

class compiled_plan final : public plan {
public:
    compiled_plan(std::vector<std::string> columns,
                  std::vector<field_info> info,
                  std::vector<compiled_field> fields,
                  std::size_t key_field,
                  std::vector<condition> skip_if)
        : columns_(std::move(columns)),
          info_(std::move(info)),
          fields_(std::move(fields)),
          key_field_(key_field),
          skip_if_(std::move(skip_if)) {}

    const std::vector<std::string>& source_columns() const override { return columns_; }
    const std::vector<field_info>& destination_fields() const override { return info_; }
    std::size_t key_field() const override { return key_field_; }
    map_result apply(const record& r) const override;
    bool skip(const record& r) const override;

private:
    std::vector<std::string> columns_;
    std::vector<field_info> info_;
    std::vector<compiled_field> fields_;  // same order as info_
    std::size_t key_field_;
    std::vector<condition> skip_if_;  // OR'ed
};

}  // namespace crmsync::mapping::detail
