#pragma once
// Preflight: a mapped payload checked against the destination object's describe before any API
// call is spent on it (SPEC §4 "validation ... including the daemon's own preflight check").
// Pure. The checks are compiled once per schema into one entry per payload field, so checking
// a record does no name lookups.
//
// | code               | the record is rejected when                                        |
// |--------------------|--------------------------------------------------------------------|
// | PREFLIGHT_REQUIRED | a field the destination requires is null or "" (or is not mapped)  |
// | PREFLIGHT_TOO_LONG | a value has more characters (code points) than the field's length  |
// | PREFLIGHT_PICKLIST | a value is not one of a restricted field's picklist values         |
// | PREFLIGHT_TYPE     | a value the field's type cannot hold (see below)                   |
//
// All are category validation; messages name the field and the limit, and quote at most 40
// characters of a value. Null and "" are only ever checked by PREFLIGHT_REQUIRED: they clear a
// field, which every type allows. Fields the describe does not list are not checked (a
// destination field that disappeared is schema drift, not a per-record problem).
//
// Types are checked only where a wrong value is certain, so a value the destination would take
// is never refused (the destination still validates everything else itself):
//   integer, score, percent (Marketo), Number (Marketing Cloud): a whole number, "12" or "12.0"
//   float, currency (Marketo), Decimal (Marketing Cloud): a decimal number ("-1.5", "2e3")
//   boolean (Marketo), Boolean (Marketing Cloud): true, false, 1 or 0 (any case)
//   date, datetime (Marketo): starts with a calendar date YYYY-MM-DD (W3C / ISO 8601)
// Any other type (string, text, email, phone, url, Text, Date, ...) takes any text.

#include "crmsync/core/outcome.hpp"
#include "crmsync/core/record.hpp"
#include "crmsync/sink/schema.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace crmsync::sink {

class preflight {
public:
    // `fields`: the destination field of each payload position (plan::destination_fields()).
    preflight(std::span<const std::string> fields, const object_schema& schema);

    // The first problem of `p` (fields in payload order, then required fields not mapped), or
    // nullopt when the destination should accept it as far as its describe tells.
    std::optional<rejected> check(const payload& p) const;

    // Required, writable destination fields the payload does not carry: every record is
    // rejected for them, so callers may want to report them once.
    const std::vector<std::string>& unmapped_required() const noexcept { return unmapped_; }

    enum class value_kind { any, integer, decimal, boolean, date };

private:
    struct field_check {
        std::string name;  // as the mapping writes it
        std::string type;  // the destination's type name, for messages
        value_kind kind = value_kind::any;
        std::optional<std::size_t> length;
        bool required = false;
        std::vector<std::string> picklist;  // sorted; empty: any value
        bool checked = false;               // false: the describe does not list the field
    };

    std::optional<rejected> check_field(const field_check& c, const value& v) const;

    std::vector<field_check> checks_;  // one per payload field, same order
    std::vector<std::string> unmapped_;
};

// The check a destination type name gets (exact spelling, as each destination's describe
// writes it; see the table above).
preflight::value_kind kind_of_type(std::string_view type) noexcept;

}  // namespace crmsync::sink
