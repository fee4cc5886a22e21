#include "crmsync/sink/marketo/encode.hpp"

#include "crmsync/sink/marketo/result_codes.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crmsync::sink::marketo {
namespace {

using json = nlohmann::json;

void append_string(std::string& out, std::string_view s) {
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out += fmt::format("\\u{:04x}", c);
                } else {
                    out += ch;  // UTF-8 passes through; Marketo reads UTF-8
                }
        }
    }
    out += '"';
}

void append_value(std::string& out, const value& v) {
    switch (v.type()) {
        case value::kind::null:
            out += "null";
            break;
        case value::kind::boolean:
            out += v.as_bool() ? "true" : "false";
            break;
        case value::kind::number:
            out += v.text();
            break;
        case value::kind::string:
            append_string(out, v.text());
            break;
    }
}

void append_record(std::string& out, const std::vector<std::string>& fields, const payload& p) {
    out += '{';
    for (std::size_t i = 0; i < fields.size() && i < p.fields.size(); ++i) {
        if (i)
            out += ',';
        append_string(out, fields[i]);
        out += ':';
        append_value(out, p.fields[i]);
    }
    out += '}';
}

std::string code_text(const json& c) {
    // [MK-ERR] codes are quoted integer strings; some mocks send numbers.
    if (c.is_string())
        return c.get<std::string>();
    if (c.is_number_integer())
        return std::to_string(c.get<long>());
    return {};
}

}  // namespace

std::string encode_record(const std::vector<std::string>& fields, const payload& p) {
    std::string out;
    append_record(out, fields, p);
    return out;
}

std::string encode_sync_leads(const sync_options& o,
                              const std::vector<std::string>& fields,
                              std::span<const payload> batch) {
    std::string out = "{\"action\":";
    append_string(out, o.action);
    out += ",\"lookupField\":";
    append_string(out, o.lookup_field);
    if (!o.partition.empty()) {
        out += ",\"partitionName\":";
        append_string(out, o.partition);
    }
    out += ",\"input\":[";
    bool first = true;
    for (const auto& p : batch) {
        if (!first)
            out += ',';
        first = false;
        append_record(out, fields, p);
    }
    out += "]}";
    return out;
}

result<std::vector<record_outcome>> decode_sync_response(std::string_view body,
                                                         std::size_t expected) {
    const json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return make_failure(
            errc::bad_response,
            fmt::format("leads.json: body is not a JSON object ({} bytes)", body.size()));
    }
    const auto success = j.find("success");
    if (success == j.end() || !success->is_boolean()) {
        return make_failure(errc::bad_response, "leads.json: no success flag");
    }
    if (!success->get<bool>()) {
        std::string code, message;
        if (auto errs = j.find("errors");
            errs != j.end() && errs->is_array() && !errs->empty() && errs->front().is_object()) {
            code = code_text(errs->front().value("code", json()));
            message = errs->front().value("message", "");
        }
        failure f =
            make_failure(code.empty() ? errc::bad_response : classify_response_code(code),
                         fmt::format("leads.json: {} {}", code.empty() ? "?" : code, message));
        f.vendor_code = code;
        return f;
    }
    const auto res = j.find("result");
    if (res == j.end() || !res->is_array() || res->size() != expected) {
        return make_failure(errc::bad_response,
                            fmt::format("leads.json: expected {} results, got {}",
                                        expected,
                                        res != j.end() && res->is_array() ? res->size() : 0));
    }
    std::vector<record_outcome> out;
    out.reserve(expected);
    for (const auto& item : *res) {
        const std::string status = item.is_object() ? item.value("status", "") : "";
        if (status == "created" || status == "updated") {
            out.push_back(delivered{status == "created"});
            continue;
        }
        if (status != "skipped") {
            return make_failure(errc::bad_response,
                                fmt::format("leads.json: unknown record status '{}'", status));
        }
        rejected r;
        // Docs and examples use a `reasons` array; the swagger schema a singular `reason`.
        const json* reason = nullptr;
        if (auto rs = item.find("reasons"); rs != item.end() && rs->is_array() && !rs->empty()) {
            reason = &rs->front();
        } else if (auto r1 = item.find("reason"); r1 != item.end() && r1->is_object()) {
            reason = &*r1;
        }
        if (reason && reason->is_object()) {
            r.code = code_text(reason->value("code", json()));
            r.message = reason->value("message", "");
        }
        r.category = classify_reason_code(r.code);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace crmsync::sink::marketo
