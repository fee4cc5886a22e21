#include "crmsync/sink/marketo/describe.hpp"

#include "crmsync/core/json_member.hpp"

#include "detail_envelope.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crmsync::sink::marketo {
namespace {

using json = nlohmann::json;

std::optional<std::size_t> length_at(const json& o) {
    const auto it = o.find("length");
    if (it == o.end() || !it->is_number_integer() || it->get<long long>() <= 0)
        return std::nullopt;
    return static_cast<std::size_t>(it->get<long long>());
}

}  // namespace

result<object_schema> parse_lead_describe(std::string_view body) {
    constexpr std::string_view what = "leads/describe.json";
    auto res = detail::read_envelope(body, what);
    if (!res)
        return res.error();
    object_schema out;
    out.object = "lead";
    for (const auto& item : *res) {
        if (!item.is_object())
            return make_failure(errc::bad_response,
                                fmt::format("{}: a field is not an object", what));
        const auto rest = item.find("rest");
        if (rest == item.end() || rest->is_null())
            continue;  // SOAP-only field: not writable through REST [MK-LEADS]
        field_schema f;
        if (rest->is_object())
            f.name = string_member(*rest, "name");
        if (f.name.empty()) {
            return make_failure(errc::bad_response,
                                fmt::format("{}: a field's rest block has no name", what));
        }
        f.type = string_member(item, "dataType");
        f.length = length_at(item);
        f.read_only = bool_member(*rest, "readOnly", false);
        if (f.name == "id")
            out.id_field = f.name;
        out.fields.push_back(std::move(f));
    }
    if (out.fields.empty()) {
        // Every instance has at least email and id: an empty list is a broken answer, and
        // taking it at its word would make every mapped field look dropped (schema drift).
        return make_failure(errc::bad_response, fmt::format("{}: no REST fields", what));
    }
    return out;
}

result<std::vector<std::string>> parse_lead_search_fields(std::string_view body) {
    constexpr std::string_view what = "leads/describe2.json";
    auto res = detail::read_envelope(body, what);
    if (!res)
        return res.error();
    if (res->empty() || !res->front().is_object())
        return make_failure(errc::bad_response, fmt::format("{}: no lead description", what));
    const auto sf = res->front().find("searchableFields");
    if (sf == res->front().end() || !sf->is_array())
        return make_failure(errc::bad_response, fmt::format("{}: no searchableFields", what));
    std::vector<std::string> out;
    for (const auto& entry : *sf) {
        // A compound entry ([a, b]) is a search over several fields together, which a Sync
        // Leads lookupField (one field) cannot name.
        if (entry.is_array() && entry.size() == 1 && entry.front().is_string())
            out.push_back(entry.front().get<std::string>());
    }
    return out;
}

result<object_schema> parse_custom_object_describe(std::string_view body) {
    constexpr std::string_view what = "customobjects describe.json";
    auto res = detail::read_envelope(body, what);
    if (!res)
        return res.error();
    if (res->empty() || !res->front().is_object())
        return make_failure(errc::bad_response, fmt::format("{}: no object description", what));
    const json& d = res->front();
    object_schema out;
    // The describe names the object `name`; the schema API's describe says `apiName` [MK-CO].
    out.object = string_member(d, "name");
    if (out.object.empty())
        out.object = string_member(d, "apiName");
    out.id_field = string_member(d, "idField");
    const auto strings = [&](const char* key) -> result<std::vector<std::string>> {
        std::vector<std::string> v;
        const auto it = d.find(key);
        if (it == d.end())
            return v;
        if (!it->is_array())
            return make_failure(errc::bad_response, fmt::format("{}: {} is not a list", what, key));
        for (const auto& e : *it) {
            if (!e.is_string())
                return make_failure(errc::bad_response,
                                    fmt::format("{}: {} holds a non-string", what, key));
            v.push_back(e.get<std::string>());
        }
        return v;
    };
    auto dedupe = strings("dedupeFields");
    if (!dedupe)
        return dedupe.error();
    out.key_fields = std::move(*dedupe);
    if (const auto rel = d.find("relationships"); rel != d.end() && rel->is_array()) {
        for (const auto& r : *rel) {
            if (!r.is_object())
                continue;
            auto to = r.find("relatedTo");
            if (to == r.end() || !to->is_object())
                to = r.find("object");
            link_schema l{.field = string_member(r, "field"), .object = {}, .object_field = {}};
            if (to != r.end() && to->is_object()) {
                l.object = string_member(*to, "name");
                l.object_field = string_member(*to, "field");
            }
            if (!l.field.empty())
                out.links.push_back(std::move(l));
        }
    }
    const auto fields = d.find("fields");
    if (fields == d.end() || !fields->is_array() || fields->empty())
        return make_failure(errc::bad_response, fmt::format("{}: no fields", what));
    for (const auto& item : *fields) {
        if (!item.is_object() || string_member(item, "name").empty())
            return make_failure(errc::bad_response, fmt::format("{}: a field has no name", what));
        field_schema f;
        f.name = string_member(item, "name");
        f.type = string_member(item, "dataType");
        f.length = length_at(item);
        const bool sent_anyway = f.name == out.id_field || out.is_key(f.name);
        f.read_only = !bool_member(item, "updateable", true) && !sent_anyway;
        out.fields.push_back(std::move(f));
    }
    return out;
}

}  // namespace crmsync::sink::marketo
