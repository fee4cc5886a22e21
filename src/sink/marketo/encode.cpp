#include "crmsync/sink/marketo/encode.hpp"

#include "crmsync/sink/json_text.hpp"
#include "crmsync/sink/marketo/result_codes.hpp"

#include "detail_envelope.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crmsync::sink::marketo {
namespace {

using json = nlohmann::json;

// Each field's key as it is written before its value: "\"email\":". Built once per body: field
// names were half of what escaping a batch cost, repeated for every record.
std::vector<std::string> encoded_keys(const std::vector<std::string>& fields) {
    std::vector<std::string> keys;
    keys.reserve(fields.size());
    for (const auto& f : fields) {
        std::string k;
        append_json_string(k, f);
        k += ':';
        keys.push_back(std::move(k));
    }
    return keys;
}

void append_record(std::string& out, const std::vector<std::string>& keys, const payload& p) {
    out += '{';
    for (std::size_t i = 0; i < keys.size() && i < p.fields.size(); ++i) {
        if (i)
            out += ',';
        out += keys[i];
        append_json_value(out, p.fields[i]);
    }
    out += '}';
}

// `,"input":[...]}`: the records, and the end of the body.
void append_input(std::string& out,
                  const std::vector<std::string>& fields,
                  std::span<const payload> batch) {
    out += ",\"input\":[";
    const auto keys = encoded_keys(fields);
    bool first = true;
    for (const auto& p : batch) {
        if (!first)
            out += ',';
        first = false;
        append_record(out, keys, p);
    }
    out += "]}";
}

}  // namespace

std::string encode_record(const std::vector<std::string>& fields, const payload& p) {
    std::string out;
    append_record(out, encoded_keys(fields), p);
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
    append_input(out, fields, batch);
    return out;
}

std::string encode_sync_custom_objects(const custom_object_options& o,
                                       const std::vector<std::string>& fields,
                                       std::span<const payload> batch) {
    std::string out = "{\"action\":";
    append_json_string(out, o.action);
    out += ",\"dedupeBy\":";
    append_json_string(out, o.dedupe_by);
    append_input(out, fields, batch);
    return out;
}

result<std::vector<record_outcome>> decode_sync_response(std::string_view body,
                                                         std::size_t expected,
                                                         std::string_view what) {
    auto res = detail::read_envelope(body, what);
    if (!res)
        return res.error();
    return detail::decode_results(*res, expected, what);
}

}  // namespace crmsync::sink::marketo
