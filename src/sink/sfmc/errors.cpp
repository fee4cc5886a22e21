#include "crmsync/sink/sfmc/errors.hpp"

#include "crmsync/core/json_member.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>

namespace crmsync::sink::sfmc {
namespace {

using json = nlohmann::json;

std::optional<std::chrono::milliseconds> seconds_header(std::string_view v) {
    // Retry-After is delta-seconds here [SFMC-RATE]; an HTTP-date is not sent by this API.
    while (!v.empty() && v.front() == ' ')
        v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ')
        v.remove_suffix(1);
    long s = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
    if (ec != std::errc{} || p != v.data() + v.size() || s < 0)
        return std::nullopt;
    return std::chrono::seconds(s);
}

std::string code_text(const json& c) {
    if (c.is_number_integer())
        return std::to_string(c.get<long long>());
    if (c.is_string())
        return c.get<std::string>();
    return {};
}

errc errc_for(unsigned status) {
    if (status == 400 || status == 403 || status == 404 || status == 415)
        return errc::request_rejected;
    if (status == 401)
        return errc::token_expired;
    if (status == 429)
        return errc::rate_limited;
    if (status >= 500)
        return errc::transient;
    return errc::http_status;
}

bool in_range(std::string_view code, int lo, int hi) {
    int n = 0;
    const auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), n);
    return ec == std::errc{} && p == code.data() + code.size() && n >= lo && n <= hi;
}

}  // namespace

failure rest_failure(const http::response& r) {
    const json j = json::parse(r.body, nullptr, false);
    failure f;
    f.http_status = r.status;
    if (!j.is_object()) {
        // A 400/403 that is not the documented error object cannot be attributed to records;
        // 401/429/5xx mean the same whatever the body says (often an HTML page from the edge).
        const bool needs_body = r.status == 400 || r.status == 403;
        f.code =
            needs_body ? make_error_code(errc::bad_response) : make_error_code(errc_for(r.status));
        f.detail = fmt::format(
            "http {}: body is not a JSON error object ({} bytes)", r.status, r.body.size());
    } else {
        f.code = errc_for(r.status);
        f.vendor_code = code_text(j.value("errorcode", json()));
        std::string message = string_member(j, "message");
        // 10006 "Aggregate Error: check additionalErrors for detailed error messages" [SFMC-ERR].
        if (auto more = j.find("additionalErrors"); more != j.end() && more->is_array()) {
            std::string details;
            for (const auto& e : *more) {
                if (!e.is_object() || !e.value("message", json()).is_string())
                    continue;
                details += details.empty() ? "" : "; ";
                details += e["message"].get<std::string>();
            }
            if (!details.empty())
                message = message.empty() ? details : message + ": " + details;
        }
        f.detail = message.empty() ? fmt::format("http {}", r.status) : std::move(message);
        if (r.status == 429) {
            if (auto ra = j.find("retryAfter");
                ra != j.end() && ra->is_number_integer() && ra->get<long>() >= 0)
                f.retry_after = std::chrono::seconds(ra->get<long>());
        }
    }
    if (r.status == 429) {
        if (auto h = seconds_header(r.header("Retry-After")))
            f.retry_after = h;  // the header is the HTTP contract; the body repeats it
    }
    return f;
}

decision classify(const failure& f) {
    using http::disposition;
    if (f.code.category() != crmsync_category())
        return {disposition::retry, {}};  // connection reset, EOF mid-reply: transport trouble
    switch (static_cast<errc>(f.code.value())) {
        case errc::token_expired:  // 401 errorcode 0 "Not Authorized", SOAP "Token Expired"
            return {disposition::refresh_token, {}};
        case errc::rate_limited:  // 429 50100 (Retry-After) and 50200 (blocked, no Retry-After)
        case errc::transient:     // 5xx, SOAP faults from throttling [SFMC-RATE-SOAP]
        case errc::timeout:
        case errc::connect_failed:
            return {disposition::retry, {}};
        case errc::bad_response:
            // A success reply we could not read: the write may have happened, and upserts are
            // idempotent, so asking again is safe. A 4xx we could not read says no more.
            if (f.http_status == 0 || f.http_status >= 500)
                return {disposition::retry, {}};
            return {disposition::fail, {}};
        case errc::request_rejected:
            if (f.http_status == 400 && in_range(f.vendor_code, 10000, 10006))
                return {disposition::fail, category::validation};
            if (f.http_status == 403)
                return {disposition::fail, category::access};  // 20000 / 20001 / 20002
            return {disposition::fail, {}};                    // 404 unknown key, 415, ...
        default:
            return {disposition::fail, {}};  // auth_rejected, cancelled, invalid_url, ...
    }
}

rejected rejection(const failure& f, category c) {
    return rejected{.category = c,
                    .code = f.vendor_code.empty() ? std::to_string(f.http_status) : f.vendor_code,
                    .message = f.detail};
}

}  // namespace crmsync::sink::sfmc
