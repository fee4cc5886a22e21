#include "crmsync/sink/marketo/result_codes.hpp"

#include "detail_envelope.hpp"
#include <fmt/format.h>

#include <optional>

namespace crmsync::sink::marketo::detail {

using json = nlohmann::json;

std::string code_text(const json& c) {
    if (c.is_string())
        return c.get<std::string>();
    if (c.is_number_integer())
        return std::to_string(c.get<long>());
    return {};
}

result<json> read_envelope(std::string_view body, std::string_view what) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return make_failure(
            errc::bad_response,
            fmt::format("{}: body is not a JSON object ({} bytes)", what, body.size()));
    }
    return read_envelope(std::move(j), what);
}

result<json> read_envelope(json&& j, std::string_view what) {
    if (!j.is_object())
        return make_failure(errc::bad_response, fmt::format("{}: body is not a JSON object", what));
    const auto success = j.find("success");
    if (success == j.end() || !success->is_boolean())
        return make_failure(errc::bad_response, fmt::format("{}: no success flag", what));
    if (!success->get<bool>()) {
        std::string code, message;
        if (auto errs = j.find("errors");
            errs != j.end() && errs->is_array() && !errs->empty() && errs->front().is_object()) {
            code = code_text(errs->front().value("code", json()));
            const auto m = errs->front().find("message");
            if (m != errs->front().end() && m->is_string())
                message = m->get<std::string>();
        }
        failure f =
            make_failure(code.empty() ? errc::bad_response : classify_response_code(code),
                         fmt::format("{}: {} {}", what, code.empty() ? "?" : code, message));
        f.vendor_code = code;
        return f;
    }
    // A successful search with no match may leave `result` out [MK-ERR] 702 note; callers that
    // expect items check the count.
    auto res = j.find("result");
    if (res == j.end())
        return json::array();
    if (!res->is_array())
        return make_failure(errc::bad_response, fmt::format("{}: result is not an array", what));
    return std::move(*res);
}

namespace {

result<record_outcome> decode_item(const json& item, std::string_view what) {
    // value() would throw on a non-string status; a hostile body is a bad_response, not a crash.
    std::string status;
    if (const auto st = item.is_object() ? item.find("status") : item.end();
        item.is_object() && st != item.end() && st->is_string()) {
        status = st->get<std::string>();
    }
    // "deleted" answers Delete Leads [MK-LEADS].
    if (status == "created" || status == "updated" || status == "deleted")
        return record_outcome{delivered{status == "created"}};
    if (status != "skipped") {
        return make_failure(errc::bad_response,
                            fmt::format("{}: unknown record status '{}'", what, status));
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
        const auto m = reason->find("message");
        if (m != reason->end() && m->is_string())
            r.message = m->get<std::string>();
    }
    if (reason_is_capacity(r.code)) {
        failure f = make_failure(
            errc::transient,
            fmt::format("{}: record skipped with {} {}: retried later", what, r.code, r.message));
        f.vendor_code = r.code;
        return f;
    }
    r.category = classify_reason_code(r.code);
    return record_outcome{std::move(r)};
}

}  // namespace

result<std::vector<record_outcome>> decode_results(const json& results,
                                                   std::size_t expected,
                                                   std::string_view what) {
    if (results.size() != expected) {
        return make_failure(
            errc::bad_response,
            fmt::format("{}: expected {} results, got {}", what, expected, results.size()));
    }
    // Results come in input order [MK-ERR]; custom-object results also name their input index
    // (`seq` [MK-CO]), which is then trusted over the position, but must cover every input once.
    std::vector<std::optional<record_outcome>> placed(expected);
    for (std::size_t i = 0; i < results.size(); ++i) {
        const auto& item = results[i];
        std::size_t at = i;
        if (const auto seq = item.is_object() ? item.find("seq") : item.end();
            item.is_object() && seq != item.end()) {
            if (!seq->is_number_unsigned() || seq->get<std::uint64_t>() >= expected ||
                placed[seq->get<std::uint64_t>()]) {
                return make_failure(
                    errc::bad_response,
                    fmt::format("{}: result {} has a bad or repeated seq", what, i));
            }
            at = seq->get<std::size_t>();
        } else if (placed[at]) {
            return make_failure(errc::bad_response,
                                fmt::format("{}: result {} has no seq, unlike others", what, i));
        }
        auto o = decode_item(item, what);
        if (!o)
            return o.error();
        placed[at] = std::move(*o);
    }
    std::vector<record_outcome> out;
    out.reserve(expected);
    for (auto& o : placed) {
        if (!o)
            return make_failure(errc::bad_response,
                                fmt::format("{}: a record has no result", what));
        out.push_back(std::move(*o));
    }
    return out;
}

}  // namespace crmsync::sink::marketo::detail
