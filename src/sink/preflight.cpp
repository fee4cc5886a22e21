#include "crmsync/sink/preflight.hpp"

#include "crmsync/core/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <string_view>
#include <utility>

namespace crmsync::sink {
namespace {

// Enough of a value to recognise it in the CRM, short enough for a log line.
constexpr std::size_t quoted_points = 40;
// Picklists can be long; the message lists this many values, then how many there are.
constexpr std::size_t listed_values = 10;

rejected reject(std::string code, std::string message) {
    return rejected{category::validation, std::move(code), std::move(message)};
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// [+-]digits[.zeros]: "12", "-3", "12.0" (Salesforce sends whole-number fields as 12.0).
bool is_whole_number(std::string_view s) {
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
        ++i;
    const std::size_t digits_from = i;
    while (i < s.size() && is_digit(s[i]))
        ++i;
    if (i == digits_from)
        return false;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && s[i] == '0')
            ++i;
    }
    return i == s.size();
}

// [+-](digits[.digits]|.digits)([eE][+-]digits): a JSON or plain decimal number.
bool is_decimal(std::string_view s) {
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
        ++i;
    std::size_t digits = 0;
    while (i < s.size() && is_digit(s[i]))
        ++i, ++digits;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && is_digit(s[i]))
            ++i, ++digits;
    }
    if (digits == 0)
        return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-'))
            ++i;
        const std::size_t exp_from = i;
        while (i < s.size() && is_digit(s[i]))
            ++i;
        if (i == exp_from)
            return false;
    }
    return i == s.size();
}

bool is_boolean(std::string_view s) {
    return iequals_ascii(s, "true") || iequals_ascii(s, "false") || s == "1" || s == "0";
}

// A calendar date YYYY-MM-DD, alone or followed by a time ('T' or ' ').
bool starts_with_date(std::string_view s) {
    if (s.size() < 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (!is_digit(s[i]))
            return false;
    }
    if (s.size() > 10 && s[10] != 'T' && s[10] != ' ')
        return false;
    // Digits checked above; read in place (stoi's string and strtol call showed in profiles:
    // this runs for every date field of every record).
    const auto num = [&](std::size_t from, std::size_t n) {
        int v = 0;
        for (std::size_t i = from; i < from + n; ++i)
            v = v * 10 + (s[i] - '0');
        return v;
    };
    const int y = num(0, 4);
    const int m = num(5, 2);
    const int d = num(8, 2);
    const std::chrono::year_month_day ymd{std::chrono::year{y},
                                          std::chrono::month{static_cast<unsigned>(m)},
                                          std::chrono::day{static_cast<unsigned>(d)}};
    return ymd.ok();
}

std::string_view kind_text(preflight::value_kind k) {
    switch (k) {
        case preflight::value_kind::integer:
            return "a whole number";
        case preflight::value_kind::decimal:
            return "a number";
        case preflight::value_kind::boolean:
            return "true or false";
        case preflight::value_kind::date:
            return "a date (YYYY-MM-DD)";
        case preflight::value_kind::any:
            break;
    }
    return "any text";
}

}  // namespace

preflight::value_kind kind_of_type(std::string_view type) noexcept {
    // Marketo's dataType values (field types reference) and Marketing Cloud's FieldType values.
    // Marketing Cloud's Date columns take many formats, so they are not checked.
    static constexpr std::array<std::pair<std::string_view, preflight::value_kind>, 11> table{{
        {"integer", preflight::value_kind::integer},
        {"score", preflight::value_kind::integer},
        {"percent", preflight::value_kind::integer},
        {"Number", preflight::value_kind::integer},
        {"float", preflight::value_kind::decimal},
        {"currency", preflight::value_kind::decimal},
        {"Decimal", preflight::value_kind::decimal},
        {"boolean", preflight::value_kind::boolean},
        {"Boolean", preflight::value_kind::boolean},
        {"date", preflight::value_kind::date},
        {"datetime", preflight::value_kind::date},
    }};
    for (const auto& [name, kind] : table) {
        if (name == type)
            return kind;
    }
    return preflight::value_kind::any;
}

preflight::preflight(std::span<const std::string> fields, const object_schema& schema) {
    checks_.reserve(fields.size());
    std::vector<const field_schema*> used;
    for (const auto& name : fields) {
        field_check c;
        c.name = name;
        if (const field_schema* f = schema.find(name)) {
            used.push_back(f);
            c.checked = true;
            c.type = f->type;
            c.kind = kind_of_type(f->type);
            c.length = f->length;
            c.required = f->required;
            c.picklist = f->picklist;
            std::sort(c.picklist.begin(), c.picklist.end());
        }
        checks_.push_back(std::move(c));
    }
    for (const auto& f : schema.fields) {
        if (f.required && !f.read_only && std::find(used.begin(), used.end(), &f) == used.end())
            unmapped_.push_back(f.name);
    }
}

std::optional<rejected> preflight::check_field(const field_check& c, const value& v) const {
    if (v.is_empty()) {
        if (c.required) {
            return reject(
                "PREFLIGHT_REQUIRED",
                fmt::format("field '{}' is required by the destination and is empty", c.name));
        }
        return std::nullopt;
    }
    const std::string& text = v.text();
    // A text has at most as many characters as bytes: only one longer in bytes is counted.
    if (c.length && text.size() > *c.length) {
        if (const std::size_t n = code_points(text); n > *c.length) {
            return reject("PREFLIGHT_TOO_LONG",
                          fmt::format("field '{}' holds {} characters; the destination allows {}: "
                                      "{}",
                                      c.name,
                                      n,
                                      *c.length,
                                      quote_excerpt(text, quoted_points)));
        }
    }
    if (!c.picklist.empty() && !std::binary_search(c.picklist.begin(), c.picklist.end(), text)) {
        const std::size_t shown = std::min(listed_values, c.picklist.size());
        std::string allowed =
            fmt::format("{}", fmt::join(c.picklist.begin(), c.picklist.begin() + shown, ", "));
        if (shown < c.picklist.size())
            allowed += fmt::format(", ... ({} in all)", c.picklist.size());
        return reject("PREFLIGHT_PICKLIST",
                      fmt::format("field '{}': value {} is not one of the destination's values: {}",
                                  c.name,
                                  quote_excerpt(text, quoted_points),
                                  allowed));
    }
    bool fits = true;
    switch (c.kind) {
        case value_kind::any:
            break;
        case value_kind::integer:
            fits = is_whole_number(text);
            break;
        case value_kind::decimal:
            fits = is_decimal(text);
            break;
        case value_kind::boolean:
            fits = is_boolean(text);
            break;
        case value_kind::date:
            fits = starts_with_date(text);
            break;
    }
    if (!fits) {
        return reject("PREFLIGHT_TYPE",
                      fmt::format("field '{}': value {} is not {}, as its destination type {} "
                                  "requires",
                                  c.name,
                                  quote_excerpt(text, quoted_points),
                                  kind_text(c.kind),
                                  c.type));
    }
    return std::nullopt;
}

std::optional<rejected> preflight::check(const payload& p) const {
    const std::size_t n = std::min(p.fields.size(), checks_.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (!checks_[i].checked)
            continue;
        if (auto why = check_field(checks_[i], p.fields[i]))
            return why;
    }
    if (!unmapped_.empty()) {
        return reject("PREFLIGHT_REQUIRED",
                      fmt::format("field '{}' is required by the destination and is not mapped",
                                  unmapped_.front()));
    }
    return std::nullopt;
}

}  // namespace crmsync::sink
