#include "crmsync/source/salesforce/describe.hpp"

#include "crmsync/core/json_member.hpp"
#include "crmsync/core/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace crmsync::source::salesforce {
namespace {

using json = nlohmann::json;

}  // namespace

const field_describe* object_describe::find(std::string_view field) const {
    const auto it = std::find_if(fields.begin(), fields.end(), [&](const field_describe& f) {
        return iequals_ascii(f.name, field);
    });
    return it == fields.end() ? nullptr : &*it;
}

const field_describe* object_describe::find_relationship(std::string_view relationship) const {
    const auto it = std::find_if(fields.begin(), fields.end(), [&](const field_describe& f) {
        return f.type == "reference" && iequals_ascii(f.relationship_name, relationship);
    });
    return it == fields.end() ? nullptr : &*it;
}

result<object_describe> parse_describe(std::string_view body) {
    const json j = json::parse(body, nullptr, false);
    const auto bad = [](std::string what) {
        return make_failure(errc::bad_response, "describe response: " + what);
    };
    if (j.is_discarded())
        return bad(fmt::format("body is not valid JSON ({} bytes)", body.size()));
    if (!j.is_object())
        return bad("not a JSON object");
    object_describe out;
    out.name = string_member(j, "name");
    if (out.name.empty())
        return bad("no object name");
    out.custom = bool_member(j, "custom", false);
    const auto fields = j.find("fields");
    if (fields == j.end() || !fields->is_array())
        return bad(fmt::format("{}: no fields array", out.name));
    out.fields.reserve(fields->size());
    std::size_t index = 0;
    for (const auto& f : *fields) {
        if (!f.is_object())
            return bad(fmt::format("{}: field {} is not an object", out.name, index));
        field_describe d;
        d.name = string_member(f, "name");
        d.type = string_member(f, "type");
        if (d.name.empty() || d.type.empty())
            return bad(fmt::format("{}: field {} has no name or type", out.name, index));
        if (const auto len = f.find("length"); len != f.end() && len->is_number_unsigned())
            d.length = len->get<std::size_t>();
        d.nillable = bool_member(f, "nillable", true);
        d.restricted_picklist = bool_member(f, "restrictedPicklist", false);
        d.relationship_name = string_member(f, "relationshipName");
        if (const auto pv = f.find("picklistValues"); pv != f.end() && pv->is_array()) {
            for (const auto& v : *pv) {
                // Inactive values can no longer be chosen in the CRM; only active ones arrive.
                if (v.is_object() && bool_member(v, "active", true) && v.contains("value") &&
                    v["value"].is_string()) {
                    d.picklist.push_back(v["value"].get<std::string>());
                }
            }
        }
        if (const auto rt = f.find("referenceTo"); rt != f.end() && rt->is_array()) {
            for (const auto& r : *rt) {
                if (r.is_string())
                    d.reference_to.push_back(r.get<std::string>());
            }
        }
        out.fields.push_back(std::move(d));
        ++index;
    }
    return out;
}

}  // namespace crmsync::source::salesforce
