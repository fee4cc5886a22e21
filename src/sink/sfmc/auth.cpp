#include "crmsync/sink/sfmc/auth.hpp"

#include "crmsync/core/json_member.hpp"
#include "crmsync/http/url.hpp"
#include "crmsync/sink/json_text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace crmsync::sink::sfmc {
namespace asio = boost::asio;
namespace {

using json = nlohmann::json;

// Renew a minute early so a token never lapses between our check and the server's; a very
// short-lived token is still used for half its life.
constexpr std::chrono::seconds token_margin{60};

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
    });
}

// "https://x.rest.marketingcloudapis.com/" → "https://x.rest.marketingcloudapis.com".
result<std::string> instance_base(const json& j, const char* key, bool required) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
        if (!required)
            return std::string{};
        return make_failure(errc::bad_response, fmt::format("token response has no {}", key));
    }
    std::string base = it->get<std::string>();
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    // The token is sent to this host: it must be https (or a loopback fake), like any base URL.
    if (auto u = http::url::parse(base + "/"); !u)
        return with_context(result<std::string>(u.error()), key);
    return base;
}

}  // namespace

std::string encode_token_request(const config::destination& d) {
    std::string out = "{\"grant_type\":\"client_credentials\",\"client_id\":";
    append_json_string(out, d.client_id);
    out += ",\"client_secret\":";
    append_json_string(out, d.client_secret.reveal());
    if (!d.account_id.empty()) {
        out += ",\"account_id\":";
        if (all_digits(d.account_id))
            out += d.account_id;  // "optional number: MID of the target business unit"
        else
            append_json_string(out, d.account_id);  // let the server say what is wrong with it
    }
    out += '}';
    return out;
}

result<token_grant> decode_token_response(unsigned status, std::string_view body) {
    const json j = json::parse(body, nullptr, false);
    if (status != 200) {
        // [SFMC-DEVTOOLS-AUTH] 401 {"error":"invalid_client","error_description":...}.
        std::string what;
        if (j.is_object()) {
            what = string_member(j, "error");
            if (const auto d = string_member(j, "error_description"); !d.empty())
                what += (what.empty() ? "" : ": ") + d;
            if (what.empty())
                what = string_member(j, "message");
        }
        const errc e = status == 400 || status == 401 || status == 403 ? errc::auth_rejected
                       : status == 429                                 ? errc::rate_limited
                       : status >= 500                                 ? errc::transient
                                                                       : errc::request_rejected;
        failure f = make_failure(e,
                                 what.empty() ? fmt::format("token: http {}", status)
                                              : fmt::format("token: http {}: {}", status, what));
        f.http_status = status;
        f.vendor_code = string_member(j, "error");
        return f;
    }
    if (!j.is_object()) {
        return make_failure(
            errc::bad_response,
            fmt::format("token response is not a JSON object ({} bytes)", body.size()));
    }
    token_grant g;
    const auto token = j.find("access_token");
    const auto expires = j.find("expires_in");
    if (token == j.end() || !token->is_string() || token->get<std::string>().empty())
        return make_failure(errc::bad_response, "token response has no access_token");
    if (expires == j.end() || !expires->is_number_integer() || expires->get<long long>() <= 0)
        return make_failure(errc::bad_response, "token response has no positive expires_in");
    g.access_token = token->get<std::string>();
    g.expires_in = std::chrono::seconds(expires->get<long long>());
    auto rest = instance_base(j, "rest_instance_url", true);
    if (!rest)
        return rest.error();
    g.rest_base = std::move(*rest);
    // Only describe needs the SOAP base; its absence is reported there.
    auto soap = instance_base(j, "soap_instance_url", false);
    if (!soap)
        return soap.error();
    g.soap_base = std::move(*soap);
    return g;
}

session::session(http::client& http,
                 config::destination cfg,
                 clock_fn now,
                 std::chrono::milliseconds window)
    : http_(http),
      cfg_(std::move(cfg)),
      now_(now ? std::move(now) : clock_fn(system_now)),
      window_(static_cast<std::size_t>(std::max(1, cfg_.limits.calls_per_20s)), window) {}

asio::awaitable<result<void>> session::authenticate() {
    http::request req;
    req.method = boost::beast::http::verb::post;
    req.url = cfg_.auth_url + "/v2/token";
    req.content_type = "application/json";
    req.body = encode_token_request(cfg_);
    // A client-credentials grant only issues a token [SFMC-TOKEN]: a repeat costs a token.
    req.idempotent = true;
    ++token_requests_;
    const auto asked_at = now_();
    auto r = co_await http_.send(std::move(req));
    // The caller names the destination: the sink's push or describe, or authenticate().
    if (!r)
        co_return with_context(result<void>(r.error()), "token");
    auto g = decode_token_response(r->status, r->body);
    if (!g)
        co_return g.error();
    const auto life = std::chrono::duration_cast<std::chrono::milliseconds>(g->expires_in);
    renew_at_ = asked_at + std::max(life - std::chrono::milliseconds(token_margin), life / 2);
    grant_ = std::move(*g);
    co_return result<void>{};
}

asio::awaitable<result<token_grant>> session::grant() {
    if (!grant_ || now_() >= renew_at_) {
        auto a = co_await authenticate();
        if (!a)
            co_return a.error();
    }
    co_return *grant_;
}

asio::awaitable<void> session::acquire_slot() {
    for (;;) {
        const auto wait = window_.try_acquire(std::chrono::steady_clock::now());
        if (wait.count() == 0)
            break;
        asio::steady_timer t(co_await asio::this_coro::executor, wait);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    ++calls_;
}

}  // namespace crmsync::sink::sfmc
