#pragma once
// Marketo Engage persons through Sync Leads and custom objects through Sync Custom Objects
// (api-reference §2.1-2.3, 2.5, 2.6): identity token kept
// until shortly before expiry, batches of up to 300, calls spaced by the client-side window
// limiter, 601/602 answered by one new token, 606/615/604/5xx and timeouts retried with
// backoff, 607 reported as quota_exhausted so the stream pauses.

#include "crmsync/config/model.hpp"
#include "crmsync/core/clock.hpp"
#include "crmsync/http/client.hpp"
#include "crmsync/http/disposition.hpp"
#include "crmsync/sink/marketo/encode.hpp"
#include "crmsync/sink/rate_limiter.hpp"
#include "crmsync/sink/sink.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::sink::marketo {

// Pure: the failure for a non-200 HTTP answer (Identity or REST), Retry-After included.
failure http_failure(const http::response& r, std::string_view where);

// Pure: what a failed Marketo call means.
http::disposition classify(const failure& f);

// What all streams writing to one Marketo instance share: the access token and the call
// window (the 100 calls / 20 s limit is per instance, not per stream [MK-BEST]).
class session {
public:
    session(http::client& http, config::destination cfg);

    // A valid token, fetched or renewed when missing or about to expire.
    boost::asio::awaitable<result<std::string>> token();
    void invalidate_token() { token_.reset(); }
    // Fetches a token now; errc::auth_rejected when the identity service refuses.
    boost::asio::awaitable<result<void>> authenticate();
    // Waits until the call window has room, then counts one call.
    boost::asio::awaitable<void> acquire_slot();
    // One REST call (`path` under base_url, with its query) with a valid token, counted against
    // the call window: the HTTP 200 body, whose envelope the caller reads, or the failure
    // (a non-200 status: errc::transient for 5xx, request_rejected otherwise).
    boost::asio::awaitable<result<std::string>> call(boost::beast::http::verb method,
                                                     std::string path,
                                                     std::string body,
                                                     std::chrono::milliseconds timeout);

    http::client& http() noexcept { return http_; }
    const config::destination& settings() const noexcept { return cfg_; }
    std::size_t calls() const noexcept { return calls_; }

private:
    http::client& http_;
    config::destination cfg_;
    window_limiter window_;
    std::optional<std::string> token_;
    std::chrono::steady_clock::time_point token_expires_{};
    std::size_t calls_ = 0;
};

// What both Marketo sinks share: the instance's session, the stream's destination fields, the
// retry policy, and the parts that do not depend on the object.
class object_sink : public sink {
public:
    std::size_t max_batch() const override { return 300; }  // Lead DB batch [MK-LEADS][MK-CO]
    boost::asio::awaitable<result<void>> authenticate() override;
    std::string to_json(const payload& p) const override;

protected:
    object_sink(session& s, std::vector<std::string> fields, http::retry_context retry);

    session& session_;
    std::vector<std::string> fields_;
    http::retry_context retry_;
};

// Persons through Sync Leads for one stream (its field list and lookup field).
class lead_sink final : public object_sink {
public:
    lead_sink(session& s,
              sync_options options,
              std::vector<std::string> fields,
              http::retry_context retry);

    boost::asio::awaitable<result<std::vector<record_outcome>>> push(
        std::span<const payload> batch) override;
    // leads/describe.json for the fields, describe2.json for the lookup fields.
    boost::asio::awaitable<result<object_schema>> describe() override;
    // Get Leads by the lookup field (lookup.hpp).
    boost::asio::awaitable<result<std::vector<nlohmann::json>>> read_current(
        std::span<const std::string> keys, std::span<const std::string> fields) override;

private:
    sync_options options_;
};

// Records of one Marketo custom object (`custom:<apiName>`) through Sync Custom Objects
// (api-reference §2.5): matched by the object's dedupe fields or by marketoGUID (idField,
// updateOnly only), each result placed back in input order by its seq.
class custom_object_sink final : public object_sink {
public:
    custom_object_sink(session& s,
                       std::string api_name,
                       custom_object_options options,
                       std::string key_field,
                       std::vector<std::string> fields,
                       http::retry_context retry);

    boost::asio::awaitable<result<std::vector<record_outcome>>> push(
        std::span<const payload> batch) override;
    // customobjects/{apiName}/describe.json; the dedupe fields (dedupeFields) or marketoGUID
    // (idField) are marked required, as every record of this stream's syncs must carry them.
    boost::asio::awaitable<result<object_schema>> describe() override;
    // The custom object's query by the key field (filterType = the key's destination field,
    // idField for marketoGUID [MK-CO]), as lookup.hpp does for persons.
    boost::asio::awaitable<result<std::vector<nlohmann::json>>> read_current(
        std::span<const std::string> keys, std::span<const std::string> fields) override;

private:
    std::string api_name_;
    custom_object_options options_;
    std::string key_field_;
};

}  // namespace crmsync::sink::marketo
