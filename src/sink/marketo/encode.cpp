#include "crmsync/sink/marketo/encode.hpp"

#include "crmsync/sink/json_text.hpp"
#include "crmsync/sink/marketo/result_codes.hpp"

#include "detail_envelope.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crmsync::sink::marketo {
namespace {

using json = nlohmann::json;

void append_record(std::string& out, const std::vector<std::string>& fields, const payload& p) {
    out += '{';
    for (std::size_t i = 0; i < fields.size() && i < p.fields.size(); ++i) {
        if (i)
            out += ',';
        append_json_string(out, fields[i]);
        out += ':';
        append_json_value(out, p.fields[i]);
    }
    out += '}';
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
    append_json_string(out, o.action);
    // createDuplicate creates whatever exists [MK-LEADS]: a lookupField would name a dedupe
    // that does not happen.
    if (o.action != "createDuplicate") {
        out += ",\"lookupField\":";
        append_json_string(out, o.lookup_field);
    }
    if (!o.partition.empty()) {
        out += ",\"partitionName\":";
        append_json_string(out, o.partition);
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
    auto res = detail::read_envelope(body, "leads.json");
    if (!res)
        return res.error();
    return detail::decode_results(*res, expected, "leads.json");
}

}  // namespace crmsync::sink::marketo
