#include "crmsync/sink/sfmc/encode.hpp"

#include "crmsync/core/json_member.hpp"
#include "crmsync/core/text.hpp"
#include "crmsync/sink/json_text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crmsync::sink::sfmc {
namespace {

using json = nlohmann::json;

// Appends "col":value pairs of the columns where is_key == want (or all of them).
void append_columns(
    std::string& out, const row_layout& l, const payload& p, bool all, bool want_key) {
    out += '{';
    bool first = true;
    for (std::size_t i = 0; i < l.columns.size() && i < p.fields.size(); ++i) {
        if (!all && l.is_key[i] != want_key)
            continue;
        if (!first)
            out += ',';
        first = false;
        append_json_string(out, l.columns[i]);
        out += ':';
        append_json_value(out, p.fields[i]);
    }
    out += '}';
}

result<json> parse_object(std::string_view body, std::string_view what) {
    json j = json::parse(body, nullptr, false);
    if (!j.is_object()) {
        return make_failure(
            errc::bad_response,
            fmt::format("{}: body is not a JSON object ({} bytes)", what, body.size()));
    }
    return j;
}

}  // namespace

std::string encode_rowset_row(const row_layout& l, const payload& p) {
    std::string out = "{\"keys\":";
    append_columns(out, l, p, false, true);
    out += ",\"values\":";
    append_columns(out, l, p, false, false);
    out += '}';
    return out;
}

std::string encode_rowset(const row_layout& l, std::span<const payload> batch) {
    std::string out = "[";
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (i)
            out += ',';
        out += encode_rowset_row(l, batch[i]);
    }
    out += ']';
    return out;
}

std::string encode_async_upsert(const row_layout& l, std::span<const payload> batch) {
    std::string out = "{\"items\":[";
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (i)
            out += ',';
        append_columns(out, l, batch[i], true, false);
    }
    out += "]}";
    return out;
}

result<void> decode_rowset_response(std::string_view body) {
    if (json::parse(body, nullptr, false).is_discarded()) {
        return make_failure(errc::bad_response,
                            fmt::format("rowset: reply is not JSON ({} bytes)", body.size()));
    }
    return {};
}

result<std::string> decode_async_accepted(std::string_view body) {
    auto j = parse_object(body, "async rows");
    if (!j)
        return j.error();
    const auto id = j->find("requestId");
    if (id == j->end() || !id->is_string() || id->get<std::string>().empty())
        return make_failure(errc::bad_response, "async rows: reply has no requestId");
    return id->get<std::string>();
}

result<async_status> decode_async_status(std::string_view body) {
    auto j = parse_object(body, "async status");
    if (!j)
        return j.error();
    async_status s;
    const auto st = j->find("status");
    if (st == j->end() || !st->is_object()) {
        // [SFMC-ASYNC-RESULTS-OLD] the error variant: {"requestId", "resultMessages": [...]}.
        if (j->contains("resultMessages")) {
            s.request = async_status::state::error;
            return s;
        }
        return make_failure(errc::bad_response, "async status: reply has no status object");
    }
    const std::string request = string_member(*st, "requestStatus");
    if (iequals_ascii(request, "Pending")) {
        s.request = async_status::state::pending;
    } else if (iequals_ascii(request, "Complete") || iequals_ascii(request, "Completed")) {
        s.request = async_status::state::complete;
    } else if (iequals_ascii(request, "Error")) {
        s.request = async_status::state::error;
    } else {
        return make_failure(errc::bad_response,
                            fmt::format("async status: unknown requestStatus '{}'", request));
    }
    const auto has = st->find("hasErrors");
    s.has_errors = has != st->end() && has->is_boolean() && has->get<bool>();
    s.result_status = string_member(*st, "resultStatus");
    return s;
}

result<async_results_page> decode_async_results(std::string_view body) {
    auto j = parse_object(body, "async results");
    if (!j)
        return j.error();
    async_results_page p;
    const auto number = [&](const char* key) -> long {
        const auto it = j->find(key);
        return it != j->end() && it->is_number_integer() ? it->get<long>() : -1;
    };
    p.page = number("page");
    p.page_size = number("pageSize");
    p.count = number("count");
    const auto items = j->find("items");
    if (p.page < 1 || p.page_size < 1 || p.count < 0 || items == j->end() || !items->is_array()) {
        return make_failure(errc::bad_response,
                            "async results: reply lacks page, pageSize, count or items");
    }
    for (const auto& it : *items) {
        if (!it.is_object())
            return make_failure(errc::bad_response, "async results: an item is not an object");
        async_item item;
        const std::string status = string_member(it, "status");
        item.error_code =
            it.value("errorCode", json()).is_string() ? it["errorCode"].get<std::string>() : "";
        item.message =
            it.value("message", json()).is_string() ? it["message"].get<std::string>() : "";
        item.ok = !iequals_ascii(status, "Error") && item.error_code.empty();
        // A failed row is logged with its reason; a reply that gives none still says so.
        if (!item.ok && item.error_code.empty() && item.message.empty())
            item.message = "failed; the reply gives no errorCode or message";
        p.items.push_back(std::move(item));
    }
    return p;
}

category classify_item_error(const async_item& item) {
    // The documented example: "Violation of PRIMARY KEY constraint ... Cannot insert duplicate
    // key" [SFMC-ASYNC-RESULTS-OLD].
    if (item.message.find("PRIMARY KEY") != std::string::npos ||
        item.message.find("duplicate key") != std::string::npos) {
        return category::duplicate;
    }
    return category::other;
}

}  // namespace crmsync::sink::sfmc
