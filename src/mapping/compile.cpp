// YAML field map -> immutable plan, with every problem reported at its position (STYLE rule 4).
// The grammar is documented in include/crmsync/mapping/compile.hpp.

#include "crmsync/mapping/compile.hpp"

#include "crmsync/config/enum_table.hpp"
#include "crmsync/config/schema.hpp"

#include "detail_plan.hpp"
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <map>

namespace crmsync::mapping {
namespace {

using config::map_view;
using config::position;
using detail::compiled_field;
using detail::step;

constexpr std::array<std::string_view, 11> field_keys{"to",
                                                      "from",
                                                      "coalesce",
                                                      "constant",
                                                      "concat",
                                                      "map",
                                                      "unmapped",
                                                      "transform",
                                                      "required",
                                                      "default",
                                                      "description"};
constexpr std::array<std::string_view, 4> input_keys{"from", "coalesce", "constant", "concat"};
constexpr std::array<std::string_view, 1> literal_keys{"literal"};
constexpr std::array<std::string_view, 4> condition_keys{"field", "is", "equals", "in"};
constexpr std::array<std::string_view, 3> condition_ops{"is", "equals", "in"};
constexpr std::array<std::string_view, 3> phone_keys{"format", "region", "invalid"};

enum class transform_kind {
    trim,
    lower,
    upper,
    title,
    collapse_spaces,
    truncate,
    date,
    phone,
    fallback
};
// Keep in step with transform_names() in transforms.cpp.
constexpr config::enum_table<transform_kind, 9> transform_kinds{
    "transform",
    {{{"trim", transform_kind::trim},
      {"lower", transform_kind::lower},
      {"upper", transform_kind::upper},
      {"title", transform_kind::title},
      {"collapse_spaces", transform_kind::collapse_spaces},
      {"truncate", transform_kind::truncate},
      {"date", transform_kind::date},
      {"phone", transform_kind::phone},
      {"default", transform_kind::fallback}}}};

// libphonenumber's format names, spelt as its API and documentation spell them.
constexpr config::enum_table<phone_style, 4> phone_styles{
    "phone format",
    {{{"E164", phone_style::e164},
      {"INTERNATIONAL", phone_style::international},
      {"NATIONAL", phone_style::national},
      {"RFC3966", phone_style::rfc3966}}}};

constexpr config::enum_table<detail::invalid_phone_policy, 3> invalid_phone_policies{
    "invalid phone policy",
    {{{"reject", detail::invalid_phone_policy::reject},
      {"pass", detail::invalid_phone_policy::pass},
      {"clear", detail::invalid_phone_policy::clear}}}};

constexpr config::enum_table<detail::unmapped_policy, 3> unmapped_policies{
    "unmapped policy",
    {{{"reject", detail::unmapped_policy::reject},
      {"pass", detail::unmapped_policy::pass},
      {"default", detail::unmapped_policy::use_default}}}};

constexpr config::enum_table<detail::condition_op, 2> is_ops{
    "condition",
    {{{"empty", detail::condition_op::empty}, {"not_empty", detail::condition_op::not_empty}}}};

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    lower(out);
    return out;
}

std::string describe_value(const value& v) {
    return v.is_null() ? std::string("~") : v.text();
}

class compiler {
public:
    compiler(const config::stream& s, config::diagnostics& problems)
        : stream_(s), r_(s.file, problems) {}

    std::shared_ptr<const plan> run() {
        const std::size_t before = r_.problem_count();
        add_key();
        if (stream_.phone_region.IsDefined() && !stream_.phone_region.IsNull()) {
            if (auto region = phone_region(stream_.phone_region, "phone_region"))
                stream_region_ = std::move(*region);
        }
        if (!stream_.fields.IsDefined() || stream_.fields.IsNull()) {
            r_.problem(stream_.where,
                       fmt::format("stream '{}' has no 'fields' to map", stream_.name));
        } else if (!stream_.fields.IsSequence()) {
            r_.problem(stream_.fields,
                       fmt::format("'fields' must be a list of field entries, not {}",
                                   config::type_name(stream_.fields)));
        } else {
            std::size_t i = 0;
            for (const auto& entry : stream_.fields)
                field(entry, i++);
        }
        if (stream_.skip_if.IsDefined() && !stream_.skip_if.IsNull())
            skip_if(stream_.skip_if);
        if (r_.problem_count() != before)
            return nullptr;
        return std::make_shared<detail::compiled_plan>(std::move(columns_),
                                                       std::move(info_),
                                                       std::move(fields_),
                                                       key_field_,
                                                       std::move(conditions_));
    }

private:
    // The column holding a CRM field, added on first use. Salesforce names are
    // case-insensitive and SOQL refuses a field selected twice, so "email" reuses "Email".
    std::size_t column(const std::string& name) {
        const std::string folded = ascii_lower(name);
        const auto [it, added] = column_index_.emplace(folded, columns_.size());
        if (added)
            columns_.push_back(name);
        return it->second;
    }

    // A CRM field name from a scalar; reports what is not one.
    std::optional<std::string> field_name(const YAML::Node& n,
                                          std::string_view what,
                                          std::string_view hint = {}) {
        auto t = r_.text(n, what);
        if (!t)
            return std::nullopt;
        if (!config::is_field_path(*t)) {
            r_.problem(n, fmt::format("'{}' is not a Salesforce field name{}", *t, hint));
            return std::nullopt;
        }
        return t;
    }

    // Registers a destination field; false (and a diagnostic) when it is written already.
    bool claim(const std::string& name, const position& where, const YAML::Node* node) {
        const auto [it, added] = destinations_.emplace(ascii_lower(name), where);
        if (added)
            return true;
        if (key_field_name_ == it->first) {
            r_.problem(*node,
                       fmt::format("destination field '{}' is the stream key "
                                   "(destination.key.destination), filled from {}; it cannot "
                                   "be mapped again",
                                   name,
                                   stream_.destination.key.source));
        } else {
            r_.problem(*node,
                       fmt::format("destination field '{}' is written twice; first at {}:{}:{}",
                                   name,
                                   it->second.file,
                                   it->second.line,
                                   it->second.column));
        }
        return false;
    }

    void add_key() {
        const auto& key = stream_.destination.key;
        if (key.destination.empty() || !config::is_field_path(key.source)) {
            r_.problem(stream_.where,
                       fmt::format("stream '{}' has no valid destination.key (source and "
                                   "destination)",
                                   stream_.name));
            return;
        }
        key_field_name_ = ascii_lower(key.destination);
        destinations_.emplace(key_field_name_, stream_.where);
        key_field_ = fields_.size();
        compiled_field f;
        f.name = key.destination;
        f.sources = key.source;
        f.in = detail::in_column{column(key.source)};
        f.required = true;
        fields_.push_back(std::move(f));
        info_.push_back(field_info{key.destination,
                                   {key.source},
                                   {},
                                   true,
                                   "stream key (destination.key)",
                                   stream_.where});
    }

    void field(const YAML::Node& node, std::size_t index) {
        // Name the entry by its destination in messages when it has one.
        std::string path = fmt::format("fields[{}]", index);
        if (node.IsMap()) {
            for (auto it = node.begin(); it != node.end(); ++it) {
                if (it->first.IsScalar() && it->first.Scalar() == "to" && it->second.IsScalar()) {
                    path = fmt::format("fields.{}", it->second.Scalar());
                }
            }
        }
        map_view m(r_, node, path, field_keys);
        if (!m.is_map())
            return;
        if (node.IsNull()) {
            r_.problem(node, "empty field entry; expected { to: FIELD, from: CRM_FIELD }");
            return;
        }
        const std::size_t before = r_.problem_count();

        compiled_field f;
        field_info info;
        info.where = m.where();
        if (auto to = m.string("to", true)) {
            f.name = info.destination = *to;
            claim(*to, info.where, m.find("to"));
        }

        // Exactly one input.
        const YAML::Node* first_input = nullptr;
        std::string_view first_name;
        for (const auto key : input_keys) {
            const YAML::Node* k = m.key_node(key);
            if (!k)
                continue;
            if (first_input) {
                r_.problem(*k,
                           fmt::format("'{}' cannot be combined with '{}'; a field reads from "
                                       "exactly one of: from, coalesce, constant, concat",
                                       key,
                                       first_name));
                continue;
            }
            first_input = k;
            first_name = key;
        }
        if (!first_input) {
            r_.problem(
                m.where(),
                fmt::format("field '{}' needs one of: from, coalesce, constant, concat", f.name));
        } else if (first_name == "from") {
            if (const YAML::Node* n = m.require("from")) {
                if (auto name = field_name(*n, m.path("from"))) {
                    f.in = detail::in_column{column(*name)};
                    info.sources.push_back(*name);
                }
            }
        } else if (first_name == "coalesce") {
            read_coalesce(m, f, info);
        } else if (first_name == "constant") {
            value v;  // `constant: ~` is a deliberate null
            if (const YAML::Node* n = m.find("constant")) {
                if (auto s = r_.scalar(*n, m.path("constant")))
                    v = std::move(*s);
            }
            info.transforms.push_back(fmt::format("constant: {}", describe_value(v)));
            f.in = detail::in_constant{std::move(v)};
        } else {
            read_concat(m, f, info);
        }
        f.sources = info.sources.empty() ? std::string("a constant")
                                         : fmt::format("{}", fmt::join(info.sources, ", "));

        if (const YAML::Node* n = m.find("transform"))
            read_steps(*n, m.path("transform"), f, info);
        // map_view::find treats a null value as absent, so `default: ~` (or `default:`) is
        // caught through its key.
        if (const YAML::Node* k = m.key_node("default"); k && !m.find("default")) {
            r_.problem(*k, "'default: ~' has no effect; remove it");
        } else if (auto v = m.scalar("default")) {
            f.fallback = std::move(*v);
        }
        read_map(m, f, info);
        // Listed after map, where it acts, so the data dictionary reads in evaluation order.
        if (f.fallback)
            info.transforms.push_back(fmt::format("default: {}", describe_value(*f.fallback)));
        if (auto v = m.boolean("required"))
            f.required = info.required = *v;
        if (auto v = m.string("description"))
            info.description = std::move(*v);

        if (r_.problem_count() != before)
            return;
        fields_.push_back(std::move(f));
        info_.push_back(std::move(info));
    }

    void read_coalesce(map_view& m, compiled_field& f, field_info& info) {
        const YAML::Node* n = m.require("coalesce");
        if (!n)
            return;
        if (!n->IsSequence() || n->size() == 0) {
            r_.problem(*n, "'coalesce' must be a list of CRM fields, e.g. [MailingCity, City]");
            return;
        }
        detail::in_coalesce in;
        for (const auto& item : *n) {
            if (auto name = field_name(item, m.path("coalesce"))) {
                in.columns.push_back(column(*name));
                info.sources.push_back(*name);
            }
        }
        f.in = std::move(in);
    }

    void read_concat(map_view& m, compiled_field& f, field_info& info) {
        const YAML::Node* n = m.require("concat");
        if (!n)
            return;
        if (!n->IsSequence() || n->size() == 0) {
            r_.problem(*n,
                       "'concat' must be a list of CRM fields and { literal: TEXT } parts, e.g. "
                       "[FirstName, { literal: \" \" }, LastName]");
            return;
        }
        detail::in_concat in;
        bool has_field = false;
        for (const auto& item : *n) {
            detail::concat_part part;
            if (item.IsMap()) {
                map_view lit(r_, item, m.path("concat"), literal_keys);
                if (const YAML::Node* l = lit.require("literal")) {
                    if (auto t = r_.text(*l, "literal"))
                        part.literal = std::move(*t);
                }
                part.is_literal = true;
            } else if (auto name = field_name(item,
                                              m.path("concat"),
                                              "; write literal text as { literal: \"...\" }")) {
                part.column = column(*name);
                info.sources.push_back(*name);
                has_field = true;
            } else {
                continue;
            }
            in.parts.push_back(std::move(part));
        }
        if (!has_field && in.parts.size() == n->size()) {
            r_.problem(*n, "'concat' names no CRM field; use 'constant' for fixed text");
        }
        info.transforms.push_back(fmt::format("concat({})", in.parts.size()));
        f.in = std::move(in);
    }

    void read_steps(const YAML::Node& n,
                    const std::string& path,
                    compiled_field& f,
                    field_info& info) {
        if (n.IsSequence()) {
            for (const auto& item : n)
                read_step(item, path, f, info);
        } else {
            read_step(n, path, f, info);  // `transform: trim` is a list of one
        }
    }

    void read_step(const YAML::Node& item,
                   const std::string& path,
                   compiled_field& f,
                   field_info& info) {
        if (item.IsMap() && item.size() != 1) {
            r_.problem(item,
                       "a transform with an argument is written { name: argument }, "
                       "one per list item");
            return;
        }
        if (!item.IsMap() && !item.IsScalar()) {
            r_.problem(item,
                       fmt::format("'{}' items must be a transform name or {{ name: "
                                   "argument }}, not {}",
                                   path,
                                   config::type_name(item)));
            return;
        }
        // Copy-constructed, never assigned: assigning to a bound YAML::Node rewrites the node
        // it is bound to, inside the admin's document.
        const YAML::Node name_node = item.IsMap() ? YAML::Node(item.begin()->first) : item;
        const YAML::Node arg = item.IsMap() ? YAML::Node(item.begin()->second) : YAML::Node();
        if (!name_node.IsScalar()) {
            r_.problem(name_node, "a transform name must be a string");
            return;
        }
        const std::string& name = name_node.Scalar();
        const auto kind = transform_kinds.parse(name);
        if (!kind) {
            r_.problem(name_node, transform_kinds.unknown(name));
            return;
        }
        const bool takes_arg = *kind == transform_kind::truncate || *kind == transform_kind::date ||
                               *kind == transform_kind::phone || *kind == transform_kind::fallback;
        if (takes_arg && (!item.IsMap() || arg.IsNull())) {
            r_.problem(item,
                       fmt::format("transform '{}' needs an argument: {{ {}: {} }}",
                                   name,
                                   name,
                                   *kind == transform_kind::truncate ? "80"
                                   : *kind == transform_kind::date   ? "\"%Y-%m-%d\""
                                   : *kind == transform_kind::phone  ? "E164"
                                                                     : "VALUE"));
            return;
        }
        if (!takes_arg && item.IsMap()) {
            r_.problem(item,
                       fmt::format("transform '{}' takes no argument; write it as {}", name, name));
            return;
        }
        switch (*kind) {
            case transform_kind::trim:
                f.steps.push_back(detail::op_trim{});
                break;
            case transform_kind::lower:
                f.steps.push_back(detail::op_lower{});
                break;
            case transform_kind::upper:
                f.steps.push_back(detail::op_upper{});
                break;
            case transform_kind::title:
                f.steps.push_back(detail::op_title{});
                break;
            case transform_kind::collapse_spaces:
                f.steps.push_back(detail::op_collapse_spaces{});
                break;
            case transform_kind::truncate: {
                const auto t = r_.text(arg, "truncate");
                if (!t)
                    return;
                std::size_t n = 0;
                const auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
                if (t->empty() || ec != std::errc{} || ptr != t->data() + t->size() || n == 0) {
                    r_.problem(arg,
                               fmt::format("truncate needs a positive number of characters, "
                                           "not '{}'",
                                           *t));
                    return;
                }
                f.steps.push_back(detail::op_truncate{n});
                info.transforms.push_back(fmt::format("truncate: {}", n));
                return;
            }
            case transform_kind::date: {
                const auto t = r_.text(arg, "date");
                if (!t)
                    return;
                std::string problem;
                auto format = date_format::compile(*t, &problem);
                if (!format) {
                    r_.problem(arg, std::move(problem));
                    return;
                }
                f.steps.push_back(detail::op_date{std::move(*format)});
                info.transforms.push_back(fmt::format("date: {}", *t));
                return;
            }
            case transform_kind::phone:
                read_phone(arg, path, f, info);
                return;
            case transform_kind::fallback: {
                auto v = r_.scalar(arg, "default");
                if (!v)
                    return;
                if (v->is_null()) {
                    r_.problem(arg, "'default: ~' has no effect; remove it");
                    return;
                }
                info.transforms.push_back(fmt::format("default: {}", v->text()));
                f.steps.push_back(detail::op_default{std::move(*v)});
                return;
            }
        }
        info.transforms.push_back(name);
    }

    // A region code as libphonenumber knows it; "fr" is read as "FR".
    std::optional<std::string> phone_region(const YAML::Node& n, std::string_view what) {
        auto t = r_.text(n, what);
        if (!t)
            return std::nullopt;
        std::string region = *t;
        upper(region);
        if (!is_phone_region(region)) {
            r_.problem(n,
                       fmt::format("unknown phone region '{}'; expected an ISO 3166-1 two-letter "
                                   "code such as FR, US or GB",
                                   *t));
            return std::nullopt;
        }
        return region;
    }

    // { phone: E164 } or { phone: { format: E164, region: FR, invalid: reject } }.
    void read_phone(const YAML::Node& arg,
                    const std::string& path,
                    compiled_field& f,
                    field_info& info) {
        detail::op_phone op;
        op.region = stream_region_;
        const auto style = [&](const YAML::Node& n) -> bool {
            const auto t = r_.text(n, "phone");
            if (!t)
                return false;
            const auto s = phone_styles.parse(*t);
            if (!s) {
                r_.problem(n, phone_styles.unknown(*t));
                return false;
            }
            op.style = *s;
            return true;
        };
        if (arg.IsMap()) {
            map_view m(r_, arg, path + ".phone", phone_keys);
            const std::size_t before = r_.problem_count();
            if (const YAML::Node* n = m.find("format"))
                style(*n);
            if (const YAML::Node* n = m.find("region")) {
                if (auto region = phone_region(*n, m.path("region")))
                    op.region = std::move(*region);
            }
            if (auto policy = m.choice("invalid", invalid_phone_policies))
                op.invalid = *policy;
            if (r_.problem_count() != before)
                return;
        } else if (!style(arg)) {
            return;
        }
        // "phone: E164", then what differs from the defaults, as an admin would write it.
        std::string shown = fmt::format("phone: {}", phone_styles.name(op.style));
        if (!op.region.empty())
            shown += fmt::format(", region {}", op.region);
        if (op.invalid != detail::invalid_phone_policy::reject)
            shown += fmt::format(", invalid: {}", invalid_phone_policies.name(op.invalid));
        info.transforms.push_back(std::move(shown));
        f.steps.push_back(std::move(op));
    }

    void read_map(map_view& m, compiled_field& f, field_info& info) {
        const YAML::Node* n = m.find("map");
        const YAML::Node* unmapped_key = m.key_node("unmapped");
        if (!n) {
            if (unmapped_key)
                r_.problem(*unmapped_key, "'unmapped' needs a 'map' beside it");
            return;
        }
        if (!n->IsMap()) {
            r_.problem(*n,
                       fmt::format("'{}' must be a map of CRM value to destination value, not {}",
                                   m.path("map"),
                                   config::type_name(*n)));
            return;
        }
        detail::value_map table;
        std::map<std::string, position, std::less<>> seen;
        for (auto it = n->begin(); it != n->end(); ++it) {
            const YAML::Node from = it->first;
            const YAML::Node to = it->second;
            auto key = r_.text(from, "map key");
            if (!key)
                continue;
            if (key->empty()) {
                r_.problem(from,
                           "map key \"\" is never looked up (null and \"\" are not "
                           "translated); use 'default' to fill them");
                continue;
            }
            if (const auto first = seen.find(*key); first != seen.end()) {
                r_.problem(from,
                           fmt::format("'{}' appears twice in the map; first at line {}, "
                                       "column {}",
                                       *key,
                                       first->second.line,
                                       first->second.column));
                continue;
            }
            seen.emplace(*key, r_.at(from));
            auto v = r_.scalar(to, "map value");
            if (!v)
                continue;
            table.entries.emplace(std::move(*key), std::move(*v));
        }
        if (auto policy = m.choice("unmapped", unmapped_policies))
            table.unmapped = *policy;
        if (table.unmapped == detail::unmapped_policy::use_default && !f.fallback) {
            r_.problem(*unmapped_key, "'unmapped: default' needs the field's 'default' value");
        }
        // The policy is shown only when it is not the default (reject), as admins write it.
        info.transforms.push_back(table.unmapped == detail::unmapped_policy::reject
                                      ? fmt::format("map({})", table.entries.size())
                                      : fmt::format("map({}, unmapped: {})",
                                                    table.entries.size(),
                                                    unmapped_policies.name(table.unmapped)));
        f.map = std::move(table);
    }

    void skip_if(const YAML::Node& n) {
        if (n.IsSequence()) {
            if (n.size() == 0)
                r_.problem(n, "'skip_if' lists no condition");
            std::size_t i = 0;
            for (const auto& c : n)
                condition(c, fmt::format("skip_if[{}]", i++));
        } else {
            condition(n, "skip_if");
        }
    }

    void condition(const YAML::Node& n, const std::string& path) {
        map_view m(r_, n, path, condition_keys);
        if (!m.is_map())
            return;
        detail::condition c;
        const YAML::Node* field = m.require("field");
        std::optional<std::string> name;
        if (field)
            name = field_name(*field, m.path("field"));

        const YAML::Node* op_key = nullptr;
        for (const auto key : condition_ops) {
            const YAML::Node* k = m.key_node(key);
            if (!k)
                continue;
            if (op_key) {
                r_.problem(*k,
                           fmt::format("'{}' cannot be combined with '{}' in one condition; "
                                       "use a list of conditions",
                                       key,
                                       op_key->Scalar()));
                return;
            }
            op_key = k;
        }
        if (!op_key) {
            r_.problem(
                m.where(),
                fmt::format("'{}' needs one of: is: empty | not_empty, equals: V, in: [..]", path));
            return;
        }
        const std::string op = op_key->Scalar();
        if (op == "is") {
            const auto o = m.choice("is", is_ops);
            if (!o) {
                if (!m.find("is"))
                    m.require("is");
                return;
            }
            c.op = *o;
        } else if (op == "equals") {
            const YAML::Node* v = m.require("equals", "use 'is: empty' to test for no value");
            if (!v)
                return;
            auto t = r_.text(*v, m.path("equals"));
            if (!t)
                return;
            c.op = detail::condition_op::equals;
            c.values.push_back(std::move(*t));
        } else {
            const YAML::Node* v = m.require("in");
            if (!v)
                return;
            if (!v->IsSequence() || v->size() == 0) {
                r_.problem(*v,
                           fmt::format("'{}' must be a non-empty list of values", m.path("in")));
                return;
            }
            c.op = detail::condition_op::in;
            for (const auto& item : *v) {
                if (auto t = r_.text(item, m.path("in")))
                    c.values.push_back(std::move(*t));
            }
        }
        if (!name)
            return;
        c.column = column(*name);
        conditions_.push_back(std::move(c));
    }

    const config::stream& stream_;
    config::reader r_;
    std::vector<std::string> columns_;
    std::map<std::string, std::size_t, std::less<>> column_index_;  // folded name -> column
    std::map<std::string, position, std::less<>> destinations_;     // folded name -> where
    std::string key_field_name_;                                    // folded
    std::string stream_region_;  // phone_region: what `phone` steps use unless they name one
    std::vector<field_info> info_;
    std::vector<compiled_field> fields_;
    std::size_t key_field_ = 0;
    std::vector<detail::condition> conditions_;
};

}  // namespace

std::shared_ptr<const plan> compile(const config::stream& stream, config::diagnostics& problems) {
    return compiler(stream, problems).run();
}

plans compile_all(const config::config& cfg, config::diagnostics& problems) {
    plans out;
    for (const auto& s : cfg.streams) {
        if (auto p = compile(s, problems))
            out.emplace(s.name, std::move(p));
    }
    return out;
}

}  // namespace crmsync::mapping
