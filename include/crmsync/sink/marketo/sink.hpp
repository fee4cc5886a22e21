#pragma once
// Marketo Engage persons through Sync Leads and custom objects through Sync Custom Objects
// (api-reference §2.1-2.3, 2.5, 2.6): identity token kept
// until shortly before expiry, batches of up to 300, calls spaced by the client-side window
// and concurrency limiter and counted against the daily quota, 601/602 answered by one new
// token, 606/615/604/5xx and timeouts retried with backoff, 607 reported as quota_exhausted
// (with the time until the reset) so the stream pauses.

#include "crmsync/config/model.hpp"
#include "crmsync/core/clock.hpp"
#include "crmsync/http/client.hpp"
#include "crmsync/http/disposition.hpp"
#include "crmsync/sink/marketo/encode.hpp"
#include "crmsync/sink/marketo/quota.hpp"
#include "crmsync/sink/rate_limiter.hpp"
#include "crmsync/sink/sink.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::sink::marketo {

// Pure: the failure for a non-200 HTTP answer (Identity or REST), Retry-After included.
failure http_failure(const http::response& r, std::string_view where);

// Pure: what a failed Marketo call means.
http::disposition classify(const failure& f);

// Knobs of a session that are not configuration: the wall clock that dates the quota day, and
// the length of the rate window (Marketo's is 20 s [MK-BEST]; tests shorten it, with the fake's).
struct session_options {
    clock_fn now = system_now;
    std::chrono::milliseconds window{20'000};
};

// What all streams writing to one Marketo instance share: the access token and the instance's
// limits, which are per instance, not per stream [MK-BEST]: at most limits.calls_per_20s calls
// in any rolling 20 s and limits.concurrency in flight (call_limiter), and limits.daily_calls a
// day (daily_quota, durable once count_quota_in() gave it a ledger).
//
// Threading: one io_context thread, like the streams that share it.
class session {
public:
    session(http::client& http, config::destination cfg, session_options options = {});

    // A valid token, fetched or renewed when missing or about to expire.
    boost::asio::awaitable<result<std::string>> token();
    void invalidate_token() { token_.reset(); }
    // Fetches a token now; errc::auth_rejected when the identity service refuses.
    boost::asio::awaitable<result<void>> authenticate();
    // One REST call (`path` under base_url, with its query) with a valid token, counted against
    // the daily quota and the call window, and made only when the window and the concurrency
    // limit have room: the HTTP 200 body, whose envelope the caller reads, or the failure (a
    // non-200 status: errc::transient for 5xx, request_rejected otherwise; quota_exhausted with
    // retry_after when the day's calls are spent). The first call of each quota day reads
    // stats/usage first, so calls of other integrations count too (SPEC §4). `idempotent` is
    // http::request::idempotent: unset, the method's.
    boost::asio::awaitable<result<std::string>> call(boost::beast::http::verb method,
                                                     std::string path,
                                                     std::string body,
                                                     std::chrono::milliseconds timeout,
                                                     std::optional<bool> idempotent = std::nullopt);

    // Counts the daily quota durably in `ledger` from now on (null: in memory only).
    void count_quota_in(quota_ledger* ledger) { quota_.attach(ledger); }
    daily_quota& quota() noexcept { return quota_; }
    // Called when stats/usage could not be read (the count then holds this process's calls
    // only until the next day's reading); may be empty.
    void on_usage_unread(std::function<void(const failure&)> f) { on_usage_unread_ = std::move(f); }

    http::client& http() noexcept { return http_; }
    const config::destination& settings() const noexcept { return cfg_; }
    std::size_t calls() const noexcept { return calls_; }
    // Calls in flight now, and the most ever at once (tests of the concurrency limit).
    std::size_t in_flight() const noexcept { return limiter_.in_flight(); }
    // Calls waiting for a place (tests of the shutdown path).
    std::size_t waiting() const noexcept { return waiting_.size(); }

private:
    class slot;
    // Waits until the call window and the concurrency limit have room; the slot frees its place
    // when destroyed, however the call ended.
    boost::asio::awaitable<slot> acquire_slot();
    void release_slot();
    boost::asio::awaitable<result<std::string>> send(boost::beast::http::verb method,
                                                     const std::string& path,
                                                     std::string body,
                                                     std::chrono::milliseconds timeout,
                                                     std::optional<bool> idempotent);
    boost::asio::awaitable<void> read_usage();

    http::client& http_;
    config::destination cfg_;
    session_options options_;
    call_limiter limiter_;
    daily_quota quota_;
    // Calls waiting for a slot, each on its own timer: release_slot() cancels them so they
    // look again.
    std::list<boost::asio::steady_timer*> waiting_;
    std::function<void(const failure&)> on_usage_unread_;
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
    // Re-keys a person found by its old key (Get Leads, then updateOnly by Marketo id), unless
    // a person already holds the new key: that one is updated instead. Old keys are looked up
    // in rekey_from's field (default: the lookup field).
    boost::asio::awaitable<result<std::vector<record_outcome>>> push_rekeyed(
        std::span<const payload> batch, std::span<const std::string> old_keys) override;
    // Get Leads by the lookup field, then Delete Leads by Marketo id (api-reference §2.3). A key
    // several persons share is rejected as a duplicate: which one to remove is not ours to guess.
    boost::asio::awaitable<result<std::vector<record_outcome>>> remove(
        std::span<const std::string> keys) override;
    void rekey_from(std::string field) { rekey_field_ = std::move(field); }

private:
    // One Sync Leads call with these options and fields, retried.
    boost::asio::awaitable<result<std::vector<record_outcome>>> sync(
        const sync_options& o,
        const std::vector<std::string>& fields,
        std::span<const payload> batch);

    sync_options options_;
    std::string rekey_field_;  // empty: the lookup field
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
