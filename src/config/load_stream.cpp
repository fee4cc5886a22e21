// One mapping file: a stream's source window, its destination, and (kept as YAML for
// mapping::compile) its fields and skip_if.

#include "crmsync/config/enum_table.hpp"
#include "crmsync/config/schema.hpp"
#include "crmsync/core/text.hpp"

#include "detail_load.hpp"
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace crmsync::config::detail {
namespace {

constexpr std::array<std::string_view, 7> stream_keys{
    "stream", "description", "source", "destination", "phone_region", "skip_if", "fields"};
constexpr std::array<std::string_view, 10> source_keys{"from",
                                                       "object",
                                                       "where",
                                                       "every",
                                                       "settle",
                                                       "overlap",
                                                       "deletes",
                                                       "converted",
                                                       "describe_every",
                                                       "bulk_threshold"};
constexpr std::array<std::string_view, 6> destination_keys{
    "to", "object", "action", "key", "partition", "dedupe_by"};
constexpr std::array<std::string_view, 2> key_keys{"source", "destination"};
constexpr std::array<std::string_view, 1> deletes_keys{"flag"};
constexpr std::array<std::string_view, 2> flag_keys{"field", "value"};

// A name among the configured ones, or a diagnostic at the reference with the list.
template <class Map>
bool check_reference(reader& r,
                     const YAML::Node& node,
                     std::string_view what,
                     const std::string& name,
                     const Map& configured,
                     const std::string& main_file) {
    if (configured.contains(name))
        return true;
    if (configured.empty()) {
        r.problem(node, fmt::format("unknown {} '{}'; {} defines none", what, name, main_file));
        return false;
    }
    std::vector<std::string_view> names;
    for (const auto& [n, _] : configured)
        names.push_back(n);
    r.problem(node, unknown_message(what, name, names));
    return false;
}

void read_deletes(reader& r, const YAML::Node& node, deletes_policy& out) {
    if (node.IsScalar()) {
        auto t = r.text(node, "source.deletes");
        if (!t)
            return;
        if (auto mode = deletes_modes.parse(*t)) {
            out.mode = *mode;
        } else {
            r.problem(node,
                      fmt::format("unknown deletes mode '{}'; expected one of: ignore, delete, "
                                  "{{ flag: {{ field: F, value: V }} }}",
                                  *t));
        }
        return;
    }
    map_view m(r, node, "source.deletes", deletes_keys);
    if (!m.is_map())
        return;
    const YAML::Node* flag = m.require("flag");
    if (!flag)
        return;
    map_view f(r, *flag, "source.deletes.flag", flag_keys);
    if (!f.is_map())
        return;
    out.mode = deletes_mode::flag;
    // The destination field that marks the record deleted (a Marketo or data extension name).
    if (auto field = f.string("field", true))
        out.flag_field = std::move(*field);
    if (f.require("value")) {
        if (auto v = f.scalar("value"))
            out.flag_value = std::move(*v);
    }
}

void read_source(reader& r, const YAML::Node& node, const config& cfg, stream_source& s) {
    map_view m(r, node, "source", source_keys);
    if (!m.is_map())
        return;
    if (auto from = m.string("from", true)) {
        check_reference(r, *m.find("from"), "source", *from, cfg.sources, cfg.file);
        s.from = std::move(*from);
    }
    if (auto object = m.string("object", true)) {
        // Pasted into SOQL and the describe URL: only an API name may pass.
        if (is_api_name(*object)) {
            s.object = std::move(*object);
        } else {
            r.problem(*m.find("object"),
                      fmt::format("'{}' is not a Salesforce object API name", *object));
        }
    }
    if (auto v = m.string("where"))
        s.where = std::move(*v);
    if (auto v = m.duration_value("every")) {
        if (v->count() > 0) {
            s.every = *v;
        } else {
            r.problem(*m.find("every"), "'source.every' must be longer than 0s");
        }
    }
    if (auto v = m.duration_value("settle"))
        s.settle = *v;
    if (auto v = m.duration_value("describe_every")) {
        if (v->count() > 0) {
            s.describe_every = *v;
        } else {
            r.problem(*m.find("describe_every"), "'source.describe_every' must be longer than 0s");
        }
    }
    if (auto v = m.duration_value("overlap"))
        s.overlap = *v;
    if (auto v = m.integer("bulk_threshold", 0, 1'000'000'000))
        s.bulk_threshold = *v;
    if (const YAML::Node* d = m.find("deletes"))
        read_deletes(r, *d, s.deletes);
    if (auto v = m.choice("converted", converted_modes)) {
        // SPEC §3: conversion exists only for Leads (api-reference §1.6).
        if (!s.object.empty() && !iequals_ascii(s.object, "Lead")) {
            r.problem(*m.find("converted"),
                      fmt::format("'converted' applies to Lead streams only; this stream reads "
                                  "'{}'",
                                  s.object));
        } else {
            s.converted = *v;
        }
    }
}

// lead | custom:<apiName> | data_extension:<externalKey>; the kind it needs, or nullopt.
std::optional<destination_kind> object_kind(std::string_view object) {
    const auto name_ok = [](std::string_view s, bool dash) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [dash](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                   (dash && (c == '-' || c == '.'));
        });
    };
    if (object == "lead")
        return destination_kind::marketo;
    if (object.starts_with("custom:") && name_ok(object.substr(7), false)) {
        return destination_kind::marketo;
    }
    // External keys go into the URL path (key:{key}); GUID-style keys carry '-'.
    if (object.starts_with("data_extension:") && name_ok(object.substr(15), true)) {
        return destination_kind::sfmc;
    }
    return std::nullopt;
}

void read_destination(reader& r, const YAML::Node& node, const config& cfg, stream_destination& d) {
    map_view m(r, node, "destination", destination_keys);
    if (!m.is_map())
        return;
    const destination* target = nullptr;
    if (auto to = m.string("to", true)) {
        if (check_reference(r, *m.find("to"), "destination", *to, cfg.destinations, cfg.file)) {
            target = &cfg.destinations.at(*to);
        }
        d.to = std::move(*to);
    }
    std::optional<destination_kind> needs = destination_kind::marketo;  // the default "lead"
    if (auto object = m.string("object")) {
        needs = object_kind(*object);
        if (!needs) {
            r.problem(*m.find("object"),
                      fmt::format("invalid destination object '{}'; expected lead, "
                                  "custom:<apiName> or data_extension:<externalKey>",
                                  *object));
        }
        d.object = std::move(*object);
    }
    const YAML::Node& object_node = m.find("object") ? *m.find("object") : m.node();
    if (target && needs && *needs != target->kind) {
        r.problem(object_node,
                  fmt::format("object '{}' needs a {} destination, but '{}' is {}",
                              d.object,
                              to_string(*needs),
                              target->name,
                              to_string(target->kind)));
    }
    const auto action = m.choice("action", sync_actions);
    if (action)
        d.action = sync_actions.name(*action);
    if (action && needs) {
        // Data extension rows are upserted by primary key (api-reference §3.2); custom
        // objects have no createDuplicate (§2.5).
        const bool sfmc = *needs == destination_kind::sfmc;
        const bool custom = d.object.starts_with("custom:");
        if ((sfmc && *action != sync_action::create_or_update) ||
            (custom && *action == sync_action::create_duplicate)) {
            r.problem(*m.find("action"),
                      fmt::format("action '{}' is not supported for {} objects",
                                  d.action,
                                  sfmc ? "data_extension" : "custom"));
        }
    }
    if (auto v = m.string("partition")) {
        // partitionName exists only on Marketo's lead sync, and only for creating actions
        // (api-reference §2.3).
        const bool creates = !action || *action == sync_action::create_only ||
                             *action == sync_action::create_or_update;
        if (d.object != "lead" || !creates) {
            r.problem(*m.find("partition"),
                      "'partition' applies to Marketo lead streams with action createOnly or "
                      "createOrUpdate only");
        } else {
            d.partition = std::move(*v);
        }
    }
    if (const auto mode = m.choice("dedupe_by", dedupe_modes)) {
        // dedupeBy belongs to Marketo's custom-object sync, and idField (marketoGUID, which
        // Marketo assigns) can only address records that exist (api-reference §2.5).
        if (!d.object.starts_with("custom:")) {
            r.problem(*m.find("dedupe_by"), "'dedupe_by' applies to Marketo custom objects only");
        } else if (*mode == dedupe_mode::id_field && d.action != "updateOnly") {
            r.problem(*m.find("dedupe_by"),
                      fmt::format("dedupe_by idField needs action updateOnly, not {}", d.action));
        } else {
            d.dedupe_by = *mode;
        }
    }
    if (const YAML::Node* key = m.require("key")) {
        map_view k(r, *key, "destination.key", key_keys);
        if (auto v = k.string("source")) {
            if (is_field_path(*v)) {
                d.key.source = std::move(*v);
            } else {
                r.problem(*k.find("source"),
                          fmt::format("'{}' is not a Salesforce field name", *v));
            }
        }
        if (auto v = k.string("destination", true)) {
            // Marketo's own lead id addresses existing persons only: lookupField `id` is valid
            // with updateOnly alone [MK-LEADS], any other action skips every record (1003).
            if (*v == "id" && target && target->kind == destination_kind::marketo &&
                d.object == "lead" && d.action != "updateOnly") {
                r.problem(*k.find("destination"),
                          fmt::format("key destination 'id' (the Marketo lead id) needs action "
                                      "updateOnly, not {}",
                                      d.action));
            }
            if (d.dedupe_by == dedupe_mode::id_field && *v != "marketoGUID") {
                r.problem(*k.find("destination"),
                          fmt::format("with dedupe_by idField the key destination is "
                                      "marketoGUID, not '{}'",
                                      *v));
            }
            d.key.destination = std::move(*v);
        }
    }
}

}  // namespace

void read_stream_file(const std::string& file,
                      config& cfg,
                      stream_index& seen,
                      diagnostics& problems) {
    const auto doc = parse_file(file, problems);
    if (!doc)
        return;
    reader r(file, problems);
    map_view top(r, *doc, "", stream_keys);
    if (!top.is_map())
        return;
    if (doc->IsNull()) {
        r.problem(position{file, 0, 0}, "the mapping file is empty");
        return;
    }

    stream s;
    s.file = file;
    s.where = r.at(*doc);
    bool duplicate = false;
    if (auto name = top.string("stream", true)) {
        const YAML::Node& n = *top.find("stream");
        s.where = r.at(n);
        if (!is_config_name(*name)) {
            r.problem(
                n,
                fmt::format("stream name '{}' may only hold letters, digits, '_' and '-'", *name));
        }
        if (const auto first = seen.find(*name); first != seen.end()) {
            r.problem(n,
                      fmt::format("duplicate stream '{}'; first defined at {}:{}:{}",
                                  *name,
                                  first->second.file,
                                  first->second.line,
                                  first->second.column));
            duplicate = true;
        } else {
            seen.emplace(*name, s.where);
        }
        s.name = std::move(*name);
    }
    if (auto v = top.string("description"))
        s.description = std::move(*v);
    if (const YAML::Node* n = top.require("source"))
        read_source(r, *n, cfg, s.source);
    if (const YAML::Node* n = top.require("destination")) {
        read_destination(r, *n, cfg, s.destination);
    }
    // Assigning into a default-constructed Node rebinds it; these are never reassigned after,
    // since YAML::Node's assignment to a bound node rewrites the node it was bound to.
    if (const YAML::Node* n = top.find("fields"))
        s.fields = *n;
    if (const YAML::Node* n = top.find("skip_if"))
        s.skip_if = *n;
    if (const YAML::Node* n = top.find("phone_region"))
        s.phone_region = *n;
    if (!duplicate)
        cfg.streams.push_back(std::move(s));
}

}  // namespace crmsync::config::detail
