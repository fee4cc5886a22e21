#pragma once
// The Salesforce REST client a stream reads through: OAuth (client_credentials, jwt_bearer,
// refresh_token, password), query/queryAll with nextRecordsUrl paging, Sforce-Limit-Info
// tracking and the api_budget, one token refresh on 401 INVALID_SESSION_ID, and backoff on
// transient failures (SPEC §4).

#include "crmsync/config/model.hpp"
#include "crmsync/core/clock.hpp"
#include "crmsync/core/error.hpp"
#include "crmsync/http/client.hpp"
#include "crmsync/http/disposition.hpp"
#include "crmsync/source/salesforce/auth.hpp"
#include "crmsync/source/salesforce/bulk.hpp"
#include "crmsync/source/salesforce/describe.hpp"
#include "crmsync/source/salesforce/parse.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <random>
#include <set>
#include <string>

namespace crmsync::source::salesforce {

// Pure: what a failed Salesforce call means (api-reference §1.7, Airbyte's handler).
http::disposition classify(const failure& f);

// Pure: turns a non-2xx API response into a failure with the vendor code and context.
failure failure_from_response(unsigned status, std::string_view body, std::string_view retry_after);

// Pure: whether a failed read means Salesforce no longer holds the query's cursor, so the
// stream must query again: its 400 INVALID_QUERY_LOCATOR (an expired or released locator), or,
// on a nextRecordsUrl (`next_page`), a 400 whose body names no errorCode at all. Salesforce
// answers a bad locator with its JSON error array, so such a body was garbled on the way (a
// proxy's HTML page, a body cut short yet framed whole); and the only part of a nextRecordsUrl
// read that can be wrong is its locator. Querying again from the committed watermark is safe
// either way: it loses nothing and is bounded.
bool cursor_lost(const failure& f, bool next_page);

// Pure: the token request form for the configured flow. For jwt_bearer, `assertion` is the
// signed JWT (make_jwt); errc::config_invalid when it is missing.
result<std::string> token_request_body(const config::salesforce_auth& auth,
                                       std::string_view assertion = {});

// Pure: the daily requests the api_budget share `budget` (0..1) of an org's `limit` allows,
// floor(limit * budget) without binary rounding losing a whole-number share.
long budget_calls(long limit, double budget);

// Pure: how a source waits out its spent api_budget. Only a call shows the org's usage, and
// reading /limits again is itself a request of the same budget: so ordinary calls stop
// `reserve` requests short of the budget's `allowed` calls, and while they are held the client
// spends that reserve on /limits, one read per `every`. `every` is the configured
// limits_every, stretched where needed to at least 24 h / reserve, so the reserve outlasts
// Salesforce's rolling day: by then the calls that spent the budget have left the window. The
// reserve is ceil(24 h / every), at most a twentieth of `allowed` (at least 1).
struct budget_recheck {
    long reserve = 0;
    std::chrono::milliseconds every{};
};
budget_recheck plan_budget_recheck(long allowed, std::chrono::milliseconds limits_every);

// Pure: errc::quota_exhausted once `usage` reaches floor(limit * budget) - `reserve`, the
// share of the org's daily API allocation this source may spend (SPEC §3 api_budget, §4
// "never exceeded") less what it keeps for re-reading /limits. Unknown usage passes: there is
// nothing to compare yet.
result<void> check_api_budget(std::string_view source,
                              const std::optional<api_usage>& usage,
                              double budget,
                              long reserve = 0);

class client {
public:
    // `now` dates JWT assertions (tests run the fake org on a manual clock).
    client(http::client& http,
           config::source cfg,
           http::retry_context retry,
           clock_fn now = system_now);

    // Obtains a token now (validate --online, start-up); errc::auth_rejected when refused.
    // After the first token it reads /limits, so the api_budget holds before the first query.
    boost::asio::awaitable<result<void>> authenticate();

    // First page of a query (or queryAll, which also returns deleted records).
    boost::asio::awaitable<result<query_page>> query(const std::string& soql,
                                                     const column_set& columns,
                                                     bool all = false);
    // The page behind a nextRecordsUrl, exactly as returned.
    boost::asio::awaitable<result<query_page>> next(const std::string& next_records_url,
                                                    const column_set& columns);

    // Bulk API 2.0 query jobs (api-reference §1.10). Creates the job (operation queryAll with
    // `all`); polls it with backoff until JobComplete (Failed or Aborted: errc::request_rejected
    // naming the job and Salesforce's errorMessage; still running after the source's
    // bulk_timeout: the job is aborted, errc::timeout); reads one result set of at most
    // `max_records` rows, from `locator` (none: the first). The page's next_records_url is the
    // next Sforce-Locator, absent once Salesforce answers the string "null".
    //
    // Creating a job is not idempotent: when an attempt's answer was lost (no response, a
    // garbled one, a 5xx) and the retry made a job, the org's query jobs are listed and those
    // the lost attempts made are aborted (bulk_job::duplicates_aborted): the same object,
    // operation and creator, created between the first attempt and the job kept, and not a job
    // this client made otherwise. The listing carries no query text, so nothing is reused.
    boost::asio::awaitable<result<bulk_job>> create_query_job(const std::string& soql, bool all);
    boost::asio::awaitable<result<bulk_job>> wait_for_query_job(const std::string& id);
    // PATCH jobs/query/{id} {"state":"Aborted"}: only UploadComplete and InProgress jobs abort.
    boost::asio::awaitable<result<bulk_job>> abort_query_job(const std::string& id);
    boost::asio::awaitable<result<query_page>> query_job_results(
        const bulk_job& job,
        const std::optional<std::string>& locator,
        const std::vector<std::string>& columns,
        const std::vector<cell_kind>& kinds,
        long max_records);

    // The object's fields (sobjects/{Object}/describe/), for schema-drift checks.
    boost::asio::awaitable<result<object_describe>> describe(const std::string& object);

    // The org's daily API usage as last reported (/limits or Sforce-Limit-Info), if known.
    // While the api_budget holds (errc::quota_exhausted with retry_after = the time to the next
    // /limits read, plan_budget_recheck), a call at or after that time reads /limits first and
    // goes ahead if the rolling day freed room.
    std::optional<api_usage> usage() const noexcept { return usage_; }
    // Each source of that figure with when it was read (the client's clock), for `status`:
    // the Sforce-Limit-Info of the last API response, and the /limits read after the first
    // token (api-reference §1.1, §1.8).
    struct usage_reading {
        api_usage usage;
        sys_ms at{};
    };
    std::optional<usage_reading> header_usage() const noexcept { return header_usage_; }
    std::optional<usage_reading> limits_usage() const noexcept { return limits_usage_; }
    const config::source& settings() const noexcept { return cfg_; }

private:
    // What an API call may spend of the api_budget: an ordinary call stops at the reserve kept
    // for /limits reads (plan_budget_recheck); a /limits read may use that reserve.
    enum class budget_gate { ordinary, limits_read };

    boost::asio::awaitable<result<http::response>> get_once(std::string url);
    // One API call of any method: token, api_budget check, Sforce-Limit-Info, error mapping.
    boost::asio::awaitable<result<http::response>> call_once(
        boost::beast::http::verb method,
        std::string url,
        std::string body,
        budget_gate gate = budget_gate::ordinary,
        std::optional<bool> idempotent = std::nullopt);  // http::request::idempotent
    // The api_budget check before a call; reads /limits again when the budget holds and the
    // next read is due.
    boost::asio::awaitable<result<void>> within_budget(budget_gate gate);
    // GET `url` and parse its 200 body, retried and refreshed like every API call.
    template <class T, class Parse>
    boost::asio::awaitable<result<T>> fetch(std::string url, Parse parse);
    boost::asio::awaitable<result<query_page>> fetch_page(std::string url,
                                                          const column_set& columns);
    boost::asio::awaitable<result<void>> refresh();
    // Aborts the jobs lost attempts to create `kept` left behind (create_query_job).
    boost::asio::awaitable<result<std::vector<std::string>>> abort_duplicates(const bulk_job& kept,
                                                                              sys_ms first_attempt);
    boost::asio::awaitable<result<void>> read_limits(budget_gate gate);
    boost::asio::awaitable<result<api_usage>> limits_once(std::string url, budget_gate gate);
    result<std::string> jwt_assertion();

    http::client& http_;
    config::source cfg_;
    http::retry_context retry_;
    clock_fn now_;
    std::optional<signing_key> key_;  // jwt_bearer: read once, at the first token request
    std::optional<token> token_;
    std::optional<api_usage> usage_;
    std::optional<usage_reading> header_usage_;
    std::optional<usage_reading> limits_usage_;
    // While the api_budget holds: when /limits may be read again (the client's clock).
    std::optional<sys_ms> next_limits_read_;
    std::set<std::string> own_jobs_;  // Bulk jobs this client created and kept
};

}  // namespace crmsync::source::salesforce
