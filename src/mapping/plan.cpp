// Mapping one record: pure, and on the hot path (SPEC §6: our cost per record must stay far
// below the API's).

#include "crmsync/core/text.hpp"

#include <boost/assert.hpp>

#include "detail_plan.hpp"
#include <fmt/format.h>

namespace crmsync::mapping::detail {
namespace {

// A CRM value quoted in a rejection message, cut so one huge text field cannot bloat the
// error log.
std::string quoted(const value& v) {
    return quote_excerpt(v.text());
}

rejected reject(std::string code, std::string message) {
    return rejected{category::validation, std::move(code), std::move(message)};
}

// String steps on a number or boolean work on its text and yield a string.
std::string& as_text(value& v) {
    if (v.type() != value::kind::string)
        v = value::string(std::move(v.text()));
    return v.text();
}

value read_input(const input& in, const record& r) {
    return std::visit(
        [&](const auto& i) -> value {
            using T = std::decay_t<decltype(i)>;
            if constexpr (std::is_same_v<T, in_column>) {
                return r.columns[i.column];
            } else if constexpr (std::is_same_v<T, in_coalesce>) {
                bool all_null = true;
                for (std::size_t c : i.columns) {
                    const value& v = r.columns[c];
                    if (!v.is_empty())
                        return v;
                    all_null = all_null && v.is_null();
                }
                return all_null ? value::null() : value::string({});
            } else if constexpr (std::is_same_v<T, in_constant>) {
                return i.constant;
            } else {
                std::string out;
                bool any = false;
                for (const auto& p : i.parts) {
                    if (p.is_literal) {
                        out += p.literal;
                    } else {
                        const value& v = r.columns[p.column];
                        any = any || !v.is_empty();
                        out += v.text();
                    }
                }
                return any ? value::string(std::move(out)) : value::null();
            }
        },
        in);
}

// Runs one step; a rejection only for a date or phone number that is not one.
std::optional<rejected> run_step(const step& s, value& v, const compiled_field& f) {
    if (const auto* d = std::get_if<op_default>(&s)) {
        if (v.is_empty())
            v = d->fallback;
        return std::nullopt;
    }
    if (v.is_null())
        return std::nullopt;  // steps on null are no-ops
    return std::visit(
        [&](const auto& op) -> std::optional<rejected> {
            using T = std::decay_t<decltype(op)>;
            if constexpr (std::is_same_v<T, op_trim>) {
                trim(as_text(v));
            } else if constexpr (std::is_same_v<T, op_lower>) {
                lower(as_text(v));
            } else if constexpr (std::is_same_v<T, op_upper>) {
                upper(as_text(v));
            } else if constexpr (std::is_same_v<T, op_title>) {
                title(as_text(v));
            } else if constexpr (std::is_same_v<T, op_collapse_spaces>) {
                collapse_spaces(as_text(v));
            } else if constexpr (std::is_same_v<T, op_truncate>) {
                truncate(as_text(v), op.code_points);
            } else if constexpr (std::is_same_v<T, op_date>) {
                if (v.is_empty())
                    return std::nullopt;
                auto out = reformat_date(v.text(), op.format);
                if (!out) {
                    return reject("INVALID_DATE",
                                  fmt::format("field '{}': {} (from {}) is not an ISO-8601 date "
                                              "or datetime",
                                              f.name,
                                              quoted(v),
                                              f.sources));
                }
                v = value::string(std::move(*out));
            } else if constexpr (std::is_same_v<T, op_phone>) {
                if (v.is_empty())
                    return std::nullopt;
                auto out = format_phone(v.text(), op.style, op.region);
                if (auto* number = std::get_if<std::string>(&out)) {
                    v = value::string(std::move(*number));
                    return std::nullopt;
                }
                switch (op.invalid) {
                    case invalid_phone_policy::pass:
                        break;
                    case invalid_phone_policy::clear:
                        v = value::null();
                        break;
                    case invalid_phone_policy::reject:
                        return reject("PHONE_INVALID",
                                      fmt::format("field '{}': {} (from {}) {}",
                                                  f.name,
                                                  quoted(v),
                                                  f.sources,
                                                  describe(std::get<phone_error>(out))));
                }
            }
            return std::nullopt;
        },
        s);
}

}  // namespace

map_result compiled_plan::apply(const record& r) const {
    // The source module fills columns in source_columns() order; anything else is a bug.
    BOOST_ASSERT(r.columns.size() == columns_.size());
    payload out;
    out.fields.reserve(fields_.size());
    for (const auto& f : fields_) {
        value v = read_input(f.in, r);
        for (const auto& s : f.steps) {
            if (auto rejection = run_step(s, v, f))
                return std::move(*rejection);
        }
        if (f.map && !v.is_empty()) {
            if (const auto hit = f.map->entries.find(v.text()); hit != f.map->entries.end()) {
                v = hit->second;
            } else {
                switch (f.map->unmapped) {
                    case unmapped_policy::pass:
                        break;
                    case unmapped_policy::use_default:
                        v = *f.fallback;
                        break;
                    case unmapped_policy::reject:
                        return reject("UNMAPPED_VALUE",
                                      fmt::format("field '{}': value {} (from {}) is not in its "
                                                  "map",
                                                  f.name,
                                                  quoted(v),
                                                  f.sources));
                }
            }
        }
        if (f.fallback && v.is_empty())
            v = *f.fallback;
        if (f.required && v.is_empty()) {
            return reject("REQUIRED_MISSING",
                          fmt::format("required field '{}' is empty (from {})", f.name, f.sources));
        }
        out.fields.push_back(std::move(v));
    }
    return out;
}

bool compiled_plan::skip(const record& r) const {
    BOOST_ASSERT(r.columns.size() == columns_.size());
    for (const auto& c : skip_if_) {
        const value& v = r.columns[c.column];
        switch (c.op) {
            case condition_op::empty:
                if (v.is_empty())
                    return true;
                break;
            case condition_op::not_empty:
                if (!v.is_empty())
                    return true;
                break;
            case condition_op::equals:
            case condition_op::in:
                if (v.is_null())
                    break;
                for (const auto& want : c.values) {
                    if (v.text() == want)
                        return true;
                }
                break;
        }
    }
    return false;
}

}  // namespace crmsync::mapping::detail
