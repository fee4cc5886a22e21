#include "crmsync/sink/marketo/sink.hpp"

#include "crmsync/sink/marketo/result_codes.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crmsync::sink::marketo {
namespace asio = boost::asio;
namespace {

// Sync Leads may take up to 90 s server-side [MK-LEADS]; give it a little more.
constexpr std::chrono::milliseconds push_timeout{100'000};
// Renew a minute early so a token never expires between our check and Marketo's.
constexpr std::chrono::seconds token_margin{60};

}  // namespace

http::disposition classify(const failure& f) {
    using http::disposition;
    if (f.code == errc::token_expired)
        return disposition::refresh_token;
    if (f.code == errc::rate_limited || f.code == errc::transient || f.code == errc::timeout ||
        f.code == errc::connect_failed) {
        return disposition::retry;
    }
    if (f.code == errc::bad_response && f.http_status == 0)
        return disposition::retry;
    if (f.code.category() != crmsync_category())
        return disposition::retry;  // resets, partial reads
    return disposition::fail;
}

session::session(http::client& http, config::destination cfg)
    : http_(http),
      cfg_(std::move(cfg)),
      window_(static_cast<std::size_t>(std::max(1, cfg_.limits.calls_per_20s)),
              std::chrono::seconds(20)) {}

asio::awaitable<result<void>> session::authenticate() {
    http::request req;
    // [MK-AUTH]: credentials travel in the query string of the identity call; the http client
    // never logs query strings, and neither do we. Identity calls are not counted [MK-SWAGGER-ID].
    req.url = cfg_.base_url + "/identity/oauth/token?" +
              http::form_encode({{"grant_type", "client_credentials"},
                                 {"client_id", cfg_.client_id},
                                 {"client_secret", cfg_.client_secret.reveal()}});
    auto r = co_await http_.send(std::move(req));
    const auto where = fmt::format("marketo {}: identity", cfg_.name);
    if (!r)
        co_return with_context(result<void>(r.error()), where);
    if (r->status != 200) {
        failure f = make_failure(r->status == 401 || r->status == 400 || r->status == 403
                                     ? errc::auth_rejected
                                 : r->status >= 500 ? errc::transient
                                                    : errc::request_rejected,
                                 fmt::format("{}: http {}", where, r->status));
        f.http_status = r->status;
        co_return f;
    }
    const auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (!j.is_object() || !j.contains("access_token") || !j["access_token"].is_string() ||
        !j.contains("expires_in") || !j["expires_in"].is_number_integer()) {
        co_return make_failure(errc::bad_response, where + ": malformed token response");
    }
    token_ = j["access_token"].get<std::string>();
    token_expires_ =
        std::chrono::steady_clock::now() + std::chrono::seconds(j["expires_in"].get<long>());
    co_return result<void>{};
}

asio::awaitable<result<std::string>> session::token() {
    if (!token_ || std::chrono::steady_clock::now() + token_margin >= token_expires_) {
        auto a = co_await authenticate();
        if (!a)
            co_return a.error();
    }
    co_return *token_;
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

lead_sink::lead_sink(session& s,
                     sync_options options,
                     std::vector<std::string> fields,
                     http::retry_context retry)
    : session_(s),
      options_(std::move(options)),
      fields_(std::move(fields)),
      retry_(std::move(retry)) {}

std::string lead_sink::to_json(const payload& p) const {
    return encode_record(fields_, p);
}

asio::awaitable<result<void>> lead_sink::authenticate() {
    // Transport failures on the identity call are worth the same retries as any other call.
    auto op = [this]() { return session_.authenticate(); };
    auto no_refresh = []() -> asio::awaitable<result<void>> { co_return result<void>{}; };
    co_return co_await http::retry_call<void>(retry_, op, classify, no_refresh);
}

asio::awaitable<result<std::vector<record_outcome>>> lead_sink::push_once(const std::string& body,
                                                                          std::size_t n) {
    auto token = co_await session_.token();
    if (!token)
        co_return token.error();
    co_await session_.acquire_slot();
    http::request req;
    req.method = boost::beast::http::verb::post;
    req.url = session_.settings().base_url + "/rest/v1/leads.json";
    req.headers.emplace_back("Authorization", "Bearer " + *token);
    req.content_type = "application/json";
    req.body = body;
    req.timeout = push_timeout;
    auto r = co_await session_.http().send(std::move(req));
    if (!r)
        co_return r.error();
    if (r->status != 200) {
        // [MK-ERR] HTTP-level: 413 payload too large, 414 URI too long, 5xx from the edge.
        failure f = make_failure(r->status >= 500 ? errc::transient : errc::request_rejected,
                                 fmt::format("leads.json: http {}", r->status));
        f.http_status = r->status;
        co_return f;
    }
    co_return decode_sync_response(r->body, n);
}

asio::awaitable<result<std::vector<record_outcome>>> lead_sink::push(
    std::span<const payload> batch) {
    const std::string body = encode_sync_leads(options_, fields_, batch);
    auto op = [this, &body, n = batch.size()]() { return push_once(body, n); };
    auto refresh = [this]() -> asio::awaitable<result<void>> {
        session_.invalidate_token();
        co_return co_await session_.authenticate();
    };
    co_return with_context(
        co_await http::retry_call<std::vector<record_outcome>>(retry_, op, classify, refresh),
        fmt::format("marketo {}", session_.settings().name));
}

}  // namespace crmsync::sink::marketo
