#include "crmsync/sink/marketo/encode.hpp"

#include "crmsync/sink/json_text.hpp"
#include "crmsync/sink/marketo/result_codes.hpp"

#include "detail_envelope.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <simdjson.h>

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
    // The body in one allocation, not grown through a dozen copies of itself (which showed in
    // profiles): each field adds its key, its text and at most six bytes of quotes, comma or
    // null; only escapes can take it further, and then the string simply grows.
    std::size_t per_record = 2;
    for (const auto& k : keys)
        per_record += k.size() + 6;
    std::size_t size = out.size() + 2 + batch.size() * (per_record + 1);
    for (const auto& p : batch) {
        for (const auto& v : p.fields)
            size += v.text().size();
    }
    out.reserve(size);
    bool first = true;
    for (const auto& p : batch) {
        if (!first)
            out += ',';
        first = false;
        append_record(out, keys, p);
    }
    out += "]}";
}

// ---- the fast path: simdjson ------------------------------------------------------------------
//
// A Sync Leads answer is read once per batch, one result per record (SPEC §6: our cost per
// record must stay far below the API's); nlohmann spent about 6,000 instructions per record on
// it. simdjson reads the common answer, success with every record created or updated; anything
// else (a response-level error, a skipped record, a `seq`, a body simdjson does not accept, a
// member that is not what it must be) goes to reference_sync_response, which stays the one
// reading of every other case, errors and their messages included. Duplicate keys: the last one
// wins, as in nlohmann. tests/unit/sink/marketo_encode_test.cpp compares both on each input.

namespace dom = simdjson::dom;

std::optional<std::vector<record_outcome>> fast_sync_response(std::string_view body,
                                                              std::size_t expected) {
    thread_local dom::parser parser;
    thread_local std::string padded;  // simdjson reads up to SIMDJSON_PADDING past the end
    padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    padded.assign(body);
    dom::element doc;
    dom::object top;
    if (parser.parse(padded.data(), body.size(), false).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(top) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    std::optional<dom::element> success, results;
    for (const auto field : top) {
        if (field.key == "success")
            success = field.value;
        else if (field.key == "result")
            results = field.value;
    }
    bool ok = false;
    dom::array list;
    if (!success || success->get_bool().get(ok) != simdjson::SUCCESS || !ok || !results ||
        results->get_array().get(list) != simdjson::SUCCESS || list.size() != expected) {
        return std::nullopt;
    }
    std::vector<record_outcome> out;
    out.reserve(expected);
    for (const auto item : list) {
        dom::object o;
        if (item.get_object().get(o) != simdjson::SUCCESS)
            return std::nullopt;
        std::optional<dom::element> status;
        for (const auto field : o) {
            if (field.key == "status")
                status = field.value;
            else if (field.key == "seq")
                return std::nullopt;  // a custom-object answer, placed by its input index
        }
        std::string_view s;
        if (!status || status->get_string().get(s) != simdjson::SUCCESS)
            return std::nullopt;
        if (s == "created")
            out.emplace_back(delivered{true});
        else if (s == "updated")
            out.emplace_back(delivered{false});
        else
            return std::nullopt;
    }
    return out;
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

bool sync_action_is_idempotent(std::string_view action) noexcept {
    return action == "createOrUpdate" || action == "updateOnly";
}

result<std::vector<record_outcome>> decode_sync_response(std::string_view body,
                                                         std::size_t expected,
                                                         std::string_view what) {
    if (auto fast = fast_sync_response(body, expected))
        return std::move(*fast);
    return reference_sync_response(body, expected, what);
}

result<std::vector<record_outcome>> reference_sync_response(std::string_view body,
                                                            std::size_t expected,
                                                            std::string_view what) {
    auto res = detail::read_envelope(body, what);
    if (!res)
        return res.error();
    return detail::decode_results(*res, expected, what);
}

}  // namespace crmsync::sink::marketo
