#include "crmsync/daemon/schema_check.hpp"

#include "crmsync/core/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <set>

namespace crmsync::daemon {
namespace {

using source::salesforce::field_describe;
using source::salesforce::object_describe;

// How one mapping entry uses a source column, read from the plan's own description of its
// steps (mapping::field_info::transforms).
struct usage {
    const mapping::field_info* info = nullptr;  // null: skip_if, the key, or the daemon itself
    bool date = false;                          // date: FORMAT parses the value
    bool map = false;      // map compares the value's text with the table's keys
    bool phone = false;    // phone: E164 parses digits
    bool text_op = false;  // trim, lower, concat...: the value is used as text
    std::optional<std::size_t> truncate;

    bool plain() const { return !date && !map && !phone && !text_op; }
};

usage usage_of(const mapping::field_info& info) {
    usage u;
    u.info = &info;
    for (const auto& t : info.transforms) {
        if (t.starts_with("date:")) {
            u.date = true;
        } else if (t.starts_with("map(")) {
            u.map = true;
        } else if (t.starts_with("phone")) {
            u.phone = true;
        } else if (t.starts_with("truncate: ")) {
            std::size_t n = 0;
            const auto digits = std::string_view(t).substr(10);
            if (std::from_chars(digits.data(), digits.data() + digits.size(), n).ec == std::errc{})
                u.truncate = n;
            u.text_op = true;
        } else if (t.starts_with("default:") || t.starts_with("constant:")) {
            // A default is used as it is written; it does not read the column.
        } else {
            u.text_op = true;  // trim, lower, upper, title, collapse_spaces, concat(n)
        }
    }
    return u;
}

bool accepts(value_class destination, value_class source) {
    switch (destination) {
        case value_class::text:
        case value_class::other:  // a type we do not know: the destination decides per value
            return source != value_class::other;
        case value_class::number:
            return source == value_class::number;
        case value_class::boolean:
            return source == value_class::boolean;
        case value_class::date:
        case value_class::datetime:
            // Salesforce renders both as ISO-8601; destinations parse either.
            return source == value_class::date || source == value_class::datetime;
        case value_class::time:
            return source == value_class::time;
    }
    return false;
}

// The first reason this use of a field of class `c` cannot work, or nothing.
std::optional<std::string> type_problem(const usage& u,
                                        const field_describe& f,
                                        value_class c,
                                        const sink::object_schema* destination,
                                        const field_describe* previous) {
    const auto is = fmt::format("has type {}", f.type);
    if (c == value_class::other)
        return fmt::format("{}, a compound or binary value that cannot be mapped", is);
    if (u.date && c != value_class::date && c != value_class::datetime && c != value_class::text) {
        return fmt::format("{}; the date transform of {} needs a date, dateTime or text field",
                           is,
                           u.info->destination);
    }
    if (u.map && c != value_class::text && c != value_class::number && c != value_class::boolean) {
        return fmt::format(
            "{}; the map of {} needs a text, number or boolean field", is, u.info->destination);
    }
    if (u.phone && c != value_class::text && c != value_class::number)
        return fmt::format("{}; the phone transform needs a text or number field", is);
    if (!u.plain() || u.info == nullptr)
        return std::nullopt;
    const sink::field_schema* d = destination ? destination->find(u.info->destination) : nullptr;
    if (d) {
        const value_class want = destination_class(d->type);
        if (accepts(want, c))
            return std::nullopt;
        if (c == value_class::text) {
            // Text may hold what the field takes ("42", "2013-05-20"): a mapping may copy a text
            // field there on purpose, and preflight and the destination judge each value. A
            // field that was something else when this process last looked and is text now is
            // another matter: its values are no longer what the mapping was written for.
            if (previous && salesforce_class(previous->type) != value_class::text) {
                return fmt::format(
                    "changed type from {} to {}; destination field {} ({}) takes "
                    "{} values",
                    previous->type,
                    f.type,
                    d->name,
                    d->type,
                    to_string(want));
            }
            return std::nullopt;
        }
        return fmt::format("{} ({}), which destination field {} ({}) cannot take",
                           is,
                           to_string(c),
                           d->name,
                           d->type);
    }
    if (!destination && previous && salesforce_class(previous->type) != c) {
        // Nothing to judge the new type against but the old one.
        return fmt::format("changed type from {} to {}", previous->type, f.type);
    }
    return std::nullopt;
}

class checker {
public:
    checker(const schema_inputs& in, check_depth depth, std::vector<schema_finding>& out)
        : in_(in), depth_(depth), out_(out) {}

    void source_fields() {
        const auto& cols = in_.plan->source_columns();
        std::vector<std::string> columns(cols.begin(), cols.end());
        const auto& mode = in_.stream->source;
        // Fields the daemon selects itself (deletes, lead conversion) are checked like mapped
        // ones: without them the stream cannot run either.
        if (mode.deletes.mode != config::deletes_mode::ignore)
            add_unique(columns, "IsDeleted");
        if (mode.converted) {
            add_unique(columns, "IsConverted");
            if (*mode.converted == config::converted_mode::follow_contact)
                add_unique(columns, "ConvertedContactId");
        }
        for (const auto& c : columns)
            source_column(c);
    }

    void destination_fields() {
        if (!in_.destination)
            return;
        const auto& fields = in_.plan->destination_fields();
        for (const auto& info : fields)
            destination_field(info.destination, info.where);
        const auto& del = in_.stream->source.deletes;
        if (del.mode == config::deletes_mode::flag)
            destination_field(del.flag_field, in_.stream->where);
        const auto& dst = *in_.destination;
        const auto& key = in_.plan->destination_fields().at(in_.plan->key_field());
        if (depth_ == check_depth::full && !dst.key_fields.empty() && dst.find(key.destination) &&
            !dst.is_key(key.destination)) {
            add(schema_finding::side::destination,
                dst.object,
                key.destination,
                fmt::format("is the stream key, but {} cannot match records by it (key fields: {})",
                            dst.object,
                            fmt::join(dst.key_fields, ", ")),
                key.where,
                false);
        }
    }

private:
    static void add_unique(std::vector<std::string>& v, const std::string& name) {
        if (std::none_of(
                v.begin(), v.end(), [&](const std::string& c) { return iequals_ascii(c, name); }))
            v.push_back(name);
    }

    void add(schema_finding::side on,
             std::string object,
             std::string field,
             std::string problem,
             const config::position& where,
             bool stops) {
        out_.push_back({.on = on,
                        .object = std::move(object),
                        .field = std::move(field),
                        .problem = std::move(problem),
                        .where = where,
                        .stops_stream = stops});
    }

    std::vector<usage> usages(const std::string& column) const {
        std::vector<usage> out;
        for (const auto& info : in_.plan->destination_fields()) {
            if (std::any_of(info.sources.begin(), info.sources.end(), [&](const std::string& s) {
                    return iequals_ascii(s, column);
                })) {
                out.push_back(usage_of(info));
            }
        }
        if (out.empty())
            out.push_back(usage{});  // skip_if, the key, or a field the daemon reads
        return out;
    }

    // The describe of `column` (following one relationship), with the object it belongs to;
    // reports a missing field or relationship and returns null.
    const field_describe* resolve(const std::string& column,
                                  const config::position& where,
                                  const object_describe*& owner) {
        const auto& src = *in_.source;
        owner = &src;
        const auto dot = column.find('.');
        if (dot == std::string::npos) {
            const auto* f = src.find(column);
            if (!f)
                add(schema_finding::side::source, src.name, column, "does not exist", where, true);
            return f;
        }
        const auto relationship = column.substr(0, dot);
        const auto* ref = src.find_relationship(relationship);
        if (!ref) {
            add(schema_finding::side::source,
                src.name,
                column,
                fmt::format(
                    "names relationship {}, which {} no longer has", relationship, src.name),
                where,
                true);
            return nullptr;
        }
        if (ref->reference_to.size() != 1 || !in_.parents)
            return nullptr;  // polymorphic or not described: the relationship is all we know
        const auto parent =
            std::find_if(in_.parents->begin(), in_.parents->end(), [&](const auto& p) {
                return iequals_ascii(p.first, ref->reference_to.front());
            });
        if (parent == in_.parents->end())
            return nullptr;
        owner = &parent->second;
        const auto field = column.substr(dot + 1);
        const auto* f = parent->second.find(field);
        if (!f) {
            add(schema_finding::side::source,
                parent->second.name,
                field,
                fmt::format("does not exist (read as {}.{})", src.name, column),
                where,
                true);
        }
        return f;
    }

    const field_describe* previous(const object_describe& owner, const std::string& column) const {
        // Only the stream's own object has an earlier describe to compare with.
        if (!in_.previous_source || &owner != in_.source || column.find('.') != std::string::npos)
            return nullptr;
        return in_.previous_source->find(column);
    }

    void source_column(const std::string& column) {
        const auto uses = usages(column);
        const config::position& where =
            uses.front().info ? uses.front().info->where : in_.stream->where;
        const object_describe* owner = nullptr;
        const field_describe* f = resolve(column, where, owner);
        if (!f)
            return;
        const value_class c = salesforce_class(f->type);
        for (const auto& u : uses) {
            const auto& at = u.info ? u.info->where : in_.stream->where;
            if (auto p = type_problem(u, *f, c, in_.destination, previous(*owner, column))) {
                add(schema_finding::side::source, owner->name, column, std::move(*p), at, true);
                return;  // one line per field: the first use that breaks says enough
            }
        }
        if (depth_ == check_depth::full) {
            for (const auto& u : uses)
                source_fit(*owner, column, *f, c, u);
        }
    }

    // validate --online: will the values fit the destination field they are copied to?
    void source_fit(const object_describe& owner,
                    const std::string& column,
                    const field_describe& f,
                    value_class c,
                    const usage& u) {
        if (!u.info || !in_.destination || u.date || u.phone)
            return;
        const sink::field_schema* d = in_.destination->find(u.info->destination);
        if (!d)
            return;  // reported as a destination finding
        const auto side = schema_finding::side::source;
        const value_class want = destination_class(d->type);
        if (u.plain() && c == value_class::text && want != value_class::text &&
            want != value_class::other) {
            const bool dated = want == value_class::date || want == value_class::datetime;
            add(side,
                owner.name,
                column,
                fmt::format("has type {} (text), but destination field {} ({}) takes {} values; "
                            "{}",
                            f.type,
                            d->name,
                            d->type,
                            to_string(want),
                            dated ? "parse it with a date: transform"
                                  : "values that do not read as one are rejected"),
                u.info->where,
                false);
        }
        const std::size_t src_len = c == value_class::text ? f.length : 0;
        if (d->length && *d->length > 0 && !u.map) {
            if (u.truncate && *u.truncate > *d->length) {
                add(side,
                    owner.name,
                    column,
                    fmt::format("is truncated to {} characters, but destination field {} takes "
                                "at most {}",
                                *u.truncate,
                                d->name,
                                *d->length),
                    u.info->where,
                    false);
            } else if (!u.truncate && src_len > *d->length) {
                add(side,
                    owner.name,
                    column,
                    fmt::format("holds up to {} characters, but destination field {} takes at "
                                "most {}; longer values are rejected (add truncate: {})",
                                src_len,
                                d->name,
                                *d->length,
                                *d->length),
                    u.info->where,
                    false);
            }
        }
        if (!d->picklist.empty() && u.plain() && !f.picklist.empty()) {
            std::vector<std::string> missing;
            for (const auto& v : f.picklist) {
                if (std::none_of(d->picklist.begin(), d->picklist.end(), [&](const std::string& x) {
                        return x == v;
                    })) {
                    missing.push_back("'" + v + "'");
                }
            }
            if (!missing.empty()) {
                add(side,
                    owner.name,
                    column,
                    fmt::format("has picklist value{} {} that destination field {} does not "
                                "allow; add a map",
                                missing.size() == 1 ? "" : "s",
                                fmt::join(missing, ", "),
                                d->name),
                    u.info->where,
                    false);
            }
        }
    }

    void destination_field(const std::string& name, const config::position& where) {
        const auto& dst = *in_.destination;
        const auto* d = dst.find(name);
        if (!d) {
            add(schema_finding::side::destination, dst.object, name, "does not exist", where, true);
            return;
        }
        if (depth_ == check_depth::full && d->read_only) {
            add(schema_finding::side::destination,
                dst.object,
                name,
                "is read-only; values sent to it are refused",
                where,
                false);
        }
    }

    const schema_inputs& in_;
    check_depth depth_;
    std::vector<schema_finding>& out_;
};

}  // namespace

std::string_view to_string(value_class c) noexcept {
    switch (c) {
        case value_class::text:
            return "text";
        case value_class::number:
            return "number";
        case value_class::boolean:
            return "boolean";
        case value_class::date:
            return "date";
        case value_class::datetime:
            return "dateTime";
        case value_class::time:
            return "time";
        case value_class::other:
            return "other";
    }
    return "other";
}

value_class salesforce_class(std::string_view type) noexcept {
    static constexpr std::string_view text[] = {"string",
                                                "textarea",
                                                "email",
                                                "phone",
                                                "url",
                                                "picklist",
                                                "multipicklist",
                                                "combobox",
                                                "encryptedstring",
                                                "id",
                                                "reference"};
    static constexpr std::string_view number[] = {"int", "double", "currency", "percent", "long"};
    const auto in = [&](const auto& list) {
        return std::any_of(std::begin(list), std::end(list), [&](std::string_view t) {
            return iequals_ascii(t, type);
        });
    };
    if (in(text))
        return value_class::text;
    if (in(number))
        return value_class::number;
    if (iequals_ascii(type, "boolean"))
        return value_class::boolean;
    if (iequals_ascii(type, "date"))
        return value_class::date;
    if (iequals_ascii(type, "datetime"))
        return value_class::datetime;
    if (iequals_ascii(type, "time"))
        return value_class::time;
    return value_class::other;  // address, location, base64, anyType, complexvalue, ...
}

value_class destination_class(std::string_view type) noexcept {
    static const std::map<std::string, value_class, std::less<>> table{
        // Marketo dataTypes [MK-LEADS][MK-CO]
        {"string", value_class::text},
        {"text", value_class::text},
        {"email", value_class::text},
        {"phone", value_class::text},
        {"url", value_class::text},
        {"reference", value_class::text},
        {"integer", value_class::number},
        {"float", value_class::number},
        {"currency", value_class::number},
        {"score", value_class::number},
        {"percent", value_class::number},
        {"boolean", value_class::boolean},
        {"date", value_class::date},
        {"datetime", value_class::datetime},
        // Marketing Cloud data-extension field types
        {"emailaddress", value_class::text},
        {"locale", value_class::text},
        {"number", value_class::number},
        {"decimal", value_class::number},
    };
    const auto it = table.find(to_lower_ascii(type));
    return it == table.end() ? value_class::other : it->second;
}

std::string schema_finding::message() const {
    return fmt::format(
        "{} field {}.{} {}", on == side::source ? "source" : "destination", object, field, problem);
}

std::vector<schema_finding> check_schema(const schema_inputs& in, check_depth depth) {
    std::vector<schema_finding> out;
    checker c(in, depth, out);
    c.source_fields();
    c.destination_fields();
    return out;
}

std::vector<std::string> parent_objects(const mapping::plan& plan,
                                        const source::salesforce::object_describe& source) {
    std::set<std::string> out;
    for (const auto& c : plan.source_columns()) {
        const auto dot = c.find('.');
        if (dot == std::string::npos)
            continue;
        const auto* ref = source.find_relationship(c.substr(0, dot));
        if (ref && ref->reference_to.size() == 1)
            out.insert(ref->reference_to.front());
    }
    return {out.begin(), out.end()};
}

}  // namespace crmsync::daemon
