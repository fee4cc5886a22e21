#include "crmsync/source/salesforce/client.hpp"

#include "crmsync/config/duration.hpp"
#include "crmsync/core/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace crmsync::source::salesforce {
namespace asio = boost::asio;
namespace {

constexpr std::chrono::milliseconds query_timeout{120'000};  // pages of 2,000 wide records are slow

}  // namespace

http::disposition classify(const failure& f) {
    using http::disposition;
    if (f.code == errc::token_expired)
        return disposition::refresh_token;
    if (f.code == errc::timeout || f.code == errc::connect_failed || f.code == errc::transient ||
        f.code == errc::rate_limited) {
        return disposition::retry;
    }
    if (f.code == errc::bad_response && f.http_status == 0) {
        // A body cut short or garbled on the wire; the same request usually succeeds.
        return disposition::retry;
    }
    // Connection resets and partial messages surface as Asio/Beast codes.
    if (f.code.category() != crmsync_category())
        return disposition::retry;
    return disposition::fail;
}

failure failure_from_response(unsigned status,
                              std::string_view body,
                              std::string_view retry_after) {
    const api_error e = parse_error(body);
    failure f;
    f.http_status = status;
    f.vendor_code = e.code;
    f.retry_after = http::parse_retry_after(retry_after);
    const std::string what = e.code.empty()
                                 ? fmt::format("http {}", status)
                                 : fmt::format("http {}: {}: {}", status, e.code, e.message);
    f.detail = what;
    if (status == 401 && e.code == "INVALID_SESSION_ID") {
        f.code = make_error_code(errc::token_expired);
    } else if (status == 403 && e.code == "REQUEST_LIMIT_EXCEEDED") {
        // The org's rolling 24 h allocation (or the concurrent long-request cap) is spent;
        // retrying within this run only burns more (Airbyte treats it as fatal too).
        f.code = make_error_code(errc::quota_exhausted);
    } else if (status == 429) {
        f.code = make_error_code(errc::rate_limited);
    } else if (status >= 500 || status == 408) {
        f.code = make_error_code(errc::transient);
    } else if (status == 401 || status == 403) {
        f.code = make_error_code(errc::auth_rejected);
    } else {
        f.code = make_error_code(errc::request_rejected);
    }
    return f;
}

bool cursor_lost(const failure& f, bool next_page) {
    if (f.http_status != 400)
        return false;
    return f.vendor_code == "INVALID_QUERY_LOCATOR" || (next_page && f.vendor_code.empty());
}

result<std::string> token_request_body(const config::salesforce_auth& auth,
                                       std::string_view assertion) {
    using config::auth_flow;
    switch (auth.flow) {
        case auth_flow::client_credentials:
            return http::form_encode({{"grant_type", "client_credentials"},
                                      {"client_id", auth.client_id},
                                      {"client_secret", auth.client_secret.reveal()}});
        case auth_flow::password:
            return http::form_encode({{"grant_type", "password"},
                                      {"client_id", auth.client_id},
                                      {"client_secret", auth.client_secret.reveal()},
                                      {"username", auth.username},
                                      {"password", auth.password.reveal()}});
        case auth_flow::refresh_token: {
            std::vector<std::pair<std::string, std::string>> form{
                {"grant_type", "refresh_token"},
                {"refresh_token", auth.refresh_token.reveal()},
                {"client_id", auth.client_id}};
            if (!auth.client_secret.empty())
                form.emplace_back("client_secret", auth.client_secret.reveal());
            return http::form_encode(form);
        }
        case auth_flow::jwt_bearer:
            if (assertion.empty()) {
                return make_failure(errc::config_invalid,
                                    "the jwt_bearer flow needs a signed assertion");
            }
            // api-reference §1.2: no client_secret; the signed assertion is the credential.
            return http::form_encode({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                      {"assertion", std::string(assertion)}});
    }
    return make_failure(errc::config_invalid, "unknown auth flow");
}

long budget_calls(long limit, double budget) {
    // limit * budget carries binary rounding ("29%" is 0.28999..., so 100 * 0.29 < 29): nudge
    // it up by far less than one request before flooring, so a whole-number share is not lost.
    return static_cast<long>(std::floor(static_cast<double>(limit) * budget + 1e-6));
}

budget_recheck plan_budget_recheck(long allowed, std::chrono::milliseconds limits_every) {
    using std::chrono::milliseconds;
    constexpr milliseconds day = std::chrono::hours(24);
    const milliseconds every = std::max(limits_every, milliseconds{1});
    const long wanted = static_cast<long>((day.count() + every.count() - 1) / every.count());
    const long reserve = std::max(1L, std::min(wanted, allowed / 20));
    // A reserve smaller than a day's reads at `every` spaces the reads out instead: it must
    // last until the rolling window has let go of the calls that spent the budget.
    const milliseconds spaced{(day.count() + reserve - 1) / reserve};
    return {.reserve = reserve, .every = std::max(every, spaced)};
}

result<void> check_api_budget(std::string_view source,
                              const std::optional<api_usage>& usage,
                              double budget,
                              long reserve) {
    if (!usage || usage->limit <= 0)
        return {};
    const auto allowed = budget_calls(usage->limit, budget);
    if (usage->used < allowed - reserve)
        return {};
    std::string detail =
        fmt::format("API budget reached: {} of {} daily requests used (budget {:g}%)",
                    usage->used,
                    usage->limit,
                    budget * 100);
    if (reserve > 0) {
        detail += fmt::format(
            "; {} of its {} requests are kept for reading /limits until the budget has room",
            reserve,
            allowed);
    }
    failure f = make_failure(errc::quota_exhausted, std::move(detail));
    f.context(fmt::format("salesforce {}", source));
    return f;
}

client::client(http::client& http, config::source cfg, http::retry_context retry, clock_fn now)
    : http_(http), cfg_(std::move(cfg)), retry_(std::move(retry)), now_(std::move(now)) {}

result<std::string> client::jwt_assertion() {
    if (!key_) {
        // Read once and kept: a refresh then never depends on the file system, and a bad key
        // surfaces at the first token request. A rotated key file takes effect on reload.
        auto k = signing_key::load(cfg_.auth.private_key_file);
        if (!k)
            return k.error();
        key_.emplace(std::move(*k));
    }
    // A fresh assertion per token request: each is valid for 3 minutes only.
    return make_jwt(cfg_.auth, *key_, jwt_audience(cfg_.login_url), now_());
}

asio::awaitable<result<void>> client::authenticate() {
    const std::string what = fmt::format("salesforce {} token", cfg_.name);
    std::string assertion;
    if (cfg_.auth.flow == config::auth_flow::jwt_bearer) {
        auto a = jwt_assertion();
        if (!a)
            co_return with_context(result<void>(a.error()), what);
        assertion = std::move(*a);
    }
    auto body = token_request_body(cfg_.auth, assertion);
    if (!body)
        co_return with_context(result<void>(body.error()), what);
    http::request req;
    req.method = boost::beast::http::verb::post;
    req.url = cfg_.login_url + "/services/oauth2/token";
    req.content_type = "application/x-www-form-urlencoded";
    req.body = std::move(*body);
    // A grant only issues a token (api-reference §1.2): asking twice costs nothing but a token.
    req.idempotent = true;
    auto classify_token = [](const failure& f) {
        // Refused credentials are final; only transport trouble is worth another try.
        return f.code == errc::auth_rejected ? http::disposition::fail : classify(f);
    };
    auto no_refresh = []() -> asio::awaitable<result<void>> { co_return result<void>{}; };
    auto attempt = [&]() -> asio::awaitable<result<http::response>> {
        auto r = co_await http_.send(req);
        if (!r || r->status == 200)
            co_return r;
        failure f = failure_from_response(r->status, r->body, r->header("Retry-After"));
        if (r->status == 400 || r->status == 401 || r->status == 403) {
            // api-reference §1.2: refused credentials come back as 400
            // {"error","error_description"}.
            f.code = make_error_code(errc::auth_rejected);
        }
        co_return f;
    };
    auto r = co_await http::retry_call<http::response>(retry_, attempt, classify_token, no_refresh);
    if (!r)
        co_return with_context(result<void>(r.error()), what);
    auto t = parse_token(r->body);
    if (!t)
        co_return with_context(result<void>(t.error()), what);
    token_ = std::move(*t);
    if (!usage_) {
        // Sforce-Limit-Info only arrives with an API response, so without this the first query
        // of a run would go out unchecked against the api_budget (SPEC §4).
        if (auto l = co_await read_limits(budget_gate::ordinary); !l)
            co_return l;
    }
    co_return result<void>{};
}

asio::awaitable<result<void>> client::within_budget(budget_gate gate) {
    if (!usage_ || usage_->limit <= 0)
        co_return result<void>{};
    if (gate == budget_gate::limits_read)
        co_return check_api_budget(cfg_.name, usage_, cfg_.api_budget);
    auto plan =
        plan_budget_recheck(budget_calls(usage_->limit, cfg_.api_budget), cfg_.limits_every);
    auto held = check_api_budget(cfg_.name, usage_, cfg_.api_budget, plan.reserve);
    if (held) {
        next_limits_read_.reset();
        co_return held;
    }
    // Held: nothing but a call shows the usage falling as the rolling day moves on, so read
    // /limits once per interval, from the reserve (one read for every stream of the source).
    if (!next_limits_read_)
        next_limits_read_ = limits_usage_ ? limits_usage_->at + plan.every : now_();
    if (now_() >= *next_limits_read_ &&
        usage_->used < budget_calls(usage_->limit, cfg_.api_budget)) {
        next_limits_read_ = now_() + plan.every;
        if (auto l = co_await read_limits(budget_gate::limits_read); !l)
            co_return l;
        plan = plan_budget_recheck(budget_calls(usage_->limit, cfg_.api_budget), cfg_.limits_every);
        held = check_api_budget(cfg_.name, usage_, cfg_.api_budget, plan.reserve);
        if (held) {
            next_limits_read_.reset();
            co_return held;
        }
    }
    failure f = held.error();
    if (usage_->used >= budget_calls(usage_->limit, cfg_.api_budget)) {
        // Other integrations spent the reserve too: even a /limits read would cross the budget,
        // which is a ceiling (SPEC §4). An operator's reload or restart reads /limits again.
        f.detail += "; not even a /limits read fits, so it resumes on reload or restart";
    } else {
        f.retry_after = std::max(
            std::chrono::milliseconds{1},
            std::chrono::duration_cast<std::chrono::milliseconds>(*next_limits_read_ - now_()));
    }
    co_return f;
}

asio::awaitable<result<void>> client::read_limits(budget_gate gate) {
    const std::string url = fmt::format("/services/data/v{}/limits/", cfg_.api_version);
    auto op = [this, &url, gate]() { return limits_once(url, gate); };
    // The token is seconds old; a 401 now is not an expiry worth another token round trip.
    auto no_refresh = []() -> asio::awaitable<result<void>> { co_return result<void>{}; };
    auto u = co_await http::retry_call<api_usage>(retry_, op, classify, no_refresh);
    if (!u) {
        const failure& f = u.error();
        if (f.code == errc::auth_rejected || f.code == errc::request_rejected) {
            // /limits needs "View Setup and Configuration" (api-reference §1.8). Without it the
            // budget is learnt from the first query's Sforce-Limit-Info instead: that one call
            // goes unchecked, which beats refusing to sync. Quota and transport failures still
            // end the call below.
            co_return result<void>{};
        }
        co_return with_context(result<void>(f), fmt::format("limits {}", cfg_.name));
    }
    limits_usage_ = usage_reading{.usage = *u, .at = now_()};
    // The newest figure, also when it is lower than the last: the rolling day moved on.
    usage_ = *u;
    co_return result<void>{};
}

asio::awaitable<result<http::response>> client::get_once(std::string url) {
    co_return co_await call_once(boost::beast::http::verb::get, std::move(url), std::string{});
}

asio::awaitable<result<http::response>> client::call_once(boost::beast::http::verb method,
                                                          std::string url,
                                                          std::string body,
                                                          budget_gate gate,
                                                          std::optional<bool> idempotent) {
    if (!token_) {
        auto a = co_await authenticate();
        if (!a)
            co_return a.error();
    }
    if (auto b = co_await within_budget(gate); !b)
        co_return b.error();
    http::request req;
    req.method = method;
    req.url = url.starts_with("http") ? url : token_->instance_url + url;
    req.headers.emplace_back("Authorization", "Bearer " + token_->access_token);
    if (!body.empty()) {
        req.content_type = "application/json";
        req.body = std::move(body);
    }
    req.timeout = query_timeout;
    req.idempotent = idempotent;
    auto r = co_await http_.send(std::move(req));
    if (!r)
        co_return r;
    if (auto h = r->header("Sforce-Limit-Info"); !h.empty()) {
        if (auto u = parse_limit_info(h)) {
            usage_ = u;
            header_usage_ = usage_reading{.usage = *u, .at = now_()};
        }
    }
    if (r->status >= 200 && r->status < 300)
        co_return r;
    co_return failure_from_response(r->status, r->body, r->header("Retry-After"));
}

asio::awaitable<result<void>> client::refresh() {
    token_.reset();
    co_return co_await authenticate();
}

asio::awaitable<result<api_usage>> client::limits_once(std::string url, budget_gate gate) {
    auto r = co_await call_once(boost::beast::http::verb::get, std::move(url), std::string{}, gate);
    if (!r)
        co_return r.error();
    // Parsed inside the retry loop: a body garbled on the wire is retried like a page.
    auto u = parse_limits(r->body);
    if (!u)
        co_return u;
    // The resource can lag consumption (api-reference §1.8) while the header on this very
    // response is current: keep whichever reports more use.
    if (const auto h = parse_limit_info(r->header("Sforce-Limit-Info")); h && h->used > u->used)
        co_return *h;
    co_return u;
}

template <class T, class Parse>
asio::awaitable<result<T>> client::fetch(std::string url, Parse parse) {
    auto once = [this, &url, &parse]() -> asio::awaitable<result<T>> {
        auto r = co_await get_once(url);
        if (!r)
            co_return r.error();
        // A body that does not parse after a 200 was cut or garbled on the wire (http_status
        // stays 0), so classify() retries it like any transport failure.
        co_return parse(r->body);
    };
    auto refresh_op = [this]() { return refresh(); };
    co_return co_await http::retry_call<T>(retry_, once, classify, refresh_op);
}

asio::awaitable<result<query_page>> client::fetch_page(std::string url, const column_set& columns) {
    co_return co_await fetch<query_page>(std::move(url), [&columns](std::string_view body) {
        return parse_query_page(body, columns);
    });
}

asio::awaitable<result<object_describe>> client::describe(const std::string& object) {
    const std::string url =
        fmt::format("/services/data/v{}/sobjects/{}/describe/", cfg_.api_version, object);
    co_return with_context(co_await fetch<object_describe>(url, parse_describe),
                           fmt::format("describe {} {}", object, cfg_.name));
}

asio::awaitable<result<query_page>> client::query(const std::string& soql,
                                                  const column_set& columns,
                                                  bool all) {
    const std::string url = fmt::format("/services/data/v{}/{}?q={}",
                                        cfg_.api_version,
                                        all ? "queryAll" : "query",
                                        http::url_encode(soql));
    co_return with_context(co_await fetch_page(url, columns),
                           fmt::format("{} {}", all ? "queryAll" : "query", cfg_.name));
}

asio::awaitable<result<query_page>> client::next(const std::string& next_records_url,
                                                 const column_set& columns) {
    co_return with_context(co_await fetch_page(next_records_url, columns),
                           fmt::format("next page {}", cfg_.name));
}

namespace {

// A create whose answer never came whole may have made its job all the same: the request
// arrived (no connect failure) and nothing says Salesforce refused it.
bool answer_maybe_lost(const failure& f) {
    if (f.code == errc::connect_failed)
        return false;
    return f.http_status == 0 || f.http_status >= 500;
}

}  // namespace

asio::awaitable<result<bulk_job>> client::create_query_job(const std::string& soql, bool all) {
    const std::string url = fmt::format("/services/data/v{}/jobs/query", cfg_.api_version);
    const std::string body = bulk_job_request(soql, all);
    const sys_ms first_attempt = now_();
    bool maybe_lost = false;
    auto once = [this, &url, &body, &maybe_lost]() -> asio::awaitable<result<bulk_job>> {
        // Not idempotent (each create makes a job, api-reference §1.10): a kept-alive connection
        // closed under it may have carried it to Salesforce, so the retry below decides.
        auto r = co_await call_once(
            boost::beast::http::verb::post, url, body, budget_gate::ordinary, false);
        if (!r) {
            maybe_lost = maybe_lost || answer_maybe_lost(r.error());
            co_return r.error();
        }
        auto job = parse_bulk_job(r->body);
        // A 200 whose body did not parse: the job exists, its id is what was lost.
        maybe_lost = maybe_lost || !job;
        co_return job;
    };
    auto refresh_op = [this]() { return refresh(); };
    const std::string what = fmt::format("create bulk query job {}", cfg_.name);
    auto job = co_await http::retry_call<bulk_job>(retry_, once, classify, refresh_op);
    if (!job)
        co_return with_context(std::move(job), what);
    own_jobs_.insert(job->id);
    if (maybe_lost) {
        // Not idempotent: the lost attempt's job would run to completion unread, costing the
        // org a job of its daily allocation.
        auto aborted = co_await abort_duplicates(*job, first_attempt);
        if (!aborted)
            co_return with_context(result<bulk_job>(aborted.error()), what);
        job->duplicates_aborted = std::move(*aborted);
    }
    co_return job;
}

asio::awaitable<result<std::vector<std::string>>> client::abort_duplicates(const bulk_job& kept,
                                                                           sys_ms first_attempt) {
    // Salesforce's clock is not ours: a job made by a lost attempt may carry a createdDate a
    // little before the attempt by our clock.
    constexpr std::chrono::minutes clock_skew{5};
    // A listing page holds up to 1,000 jobs; an org keeps its jobs for days, so the pages read
    // for one create are bounded (a job older than the first attempt is never ours anyway).
    constexpr int max_pages = 20;
    std::vector<std::string> aborted;
    std::optional<std::string> url =
        fmt::format("/services/data/v{}/jobs/query?jobType=V2Query", cfg_.api_version);
    for (int page = 0; url && page < max_pages; ++page) {
        auto list = co_await fetch<bulk_job_list>(*url, parse_bulk_job_list);
        if (!list) {
            co_return with_context(result<std::vector<std::string>>(list.error()),
                                   "list bulk query jobs");
        }
        for (const auto& j : list->jobs) {
            const bool same = j.id != kept.id && !own_jobs_.count(j.id) &&
                              iequals_ascii(j.object, kept.object) &&
                              j.operation == kept.operation && j.created_by == kept.created_by;
            const bool in_window = j.created && kept.created &&
                                   j.created->at >= first_attempt - clock_skew &&
                                   j.created->at <= kept.created->at;
            if (!same || !in_window)
                continue;
            if (j.state != "UploadComplete" && j.state != "InProgress")
                continue;  // ended already: it holds nothing more than its results
            const std::string id = j.id;
            if (auto a = co_await abort_query_job(id); !a)
                co_return a.error();
            aborted.push_back(id);
        }
        url = list->next_records_url;
    }
    co_return aborted;
}

asio::awaitable<result<bulk_job>> client::abort_query_job(const std::string& id) {
    const std::string url =
        fmt::format("/services/data/v{}/jobs/query/{}", cfg_.api_version, http::url_encode(id));
    const std::string body = R"({"state":"Aborted"})";
    auto once = [this, &url, &body]() -> asio::awaitable<result<bulk_job>> {
        // Idempotent: a job set to Aborted twice stays Aborted; the repeat's 400 is read below.
        auto r = co_await call_once(
            boost::beast::http::verb::patch, url, body, budget_gate::ordinary, true);
        if (!r)
            co_return r.error();
        co_return parse_bulk_job(r->body);
    };
    auto refresh_op = [this]() { return refresh(); };
    auto job = co_await http::retry_call<bulk_job>(retry_, once, classify, refresh_op);
    if (!job && job.error().http_status == 400) {
        // A retried abort whose first answer was lost meets a job no longer abortable: ask
        // what it is now.
        auto now = co_await fetch<bulk_job>(url, parse_bulk_job);
        if (now && now->state != "UploadComplete" && now->state != "InProgress")
            co_return now;
    }
    co_return with_context(std::move(job),
                           fmt::format("abort bulk query job {} {}", id, cfg_.name));
}

asio::awaitable<result<bulk_job>> client::wait_for_query_job(const std::string& id) {
    const std::string url =
        fmt::format("/services/data/v{}/jobs/query/{}", cfg_.api_version, http::url_encode(id));
    const std::string what = fmt::format("bulk query job {} {}", id, cfg_.name);
    // Polls back off like retries (base doubling to cap), so a job of hours costs a few
    // hundred polls, not one per second; each poll is one API call of the daily allocation.
    auto delay = retry_.policy.base;
    // Measured on the steady clock: a job stuck in Salesforce's queue must not hold the stream
    // for ever, and a wall-clock jump must not end a healthy one.
    const auto deadline = std::chrono::steady_clock::now() + cfg_.bulk_timeout;
    for (;;) {
        auto job = co_await fetch<bulk_job>(url, parse_bulk_job);
        if (!job)
            co_return with_context(std::move(job), what);
        if (job->state == "JobComplete")
            co_return job;
        if (job->state == "Failed" || job->state == "Aborted") {
            failure f =
                make_failure(errc::request_rejected,
                             job->error_message.empty()
                                 ? fmt::format("job {}", job->state)
                                 : fmt::format("job {}: {}", job->state, job->error_message));
            f.vendor_code = job->state;
            f.context(what);
            co_return f;
        }
        if (job->state != "UploadComplete" && job->state != "InProgress") {
            co_return with_context(
                result<bulk_job>(make_failure(errc::bad_response,
                                              fmt::format("unknown job state {}", job->state))),
                what);
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            std::string detail = fmt::format("job still {} after the bulk_timeout of {}",
                                             job->state,
                                             config::format_duration(cfg_.bulk_timeout));
            if (auto a = co_await abort_query_job(id); a) {
                detail += "; aborted it";
            } else {
                detail += "; aborting it failed: " + a.error().message();
            }
            failure f = make_failure(errc::timeout, std::move(detail));
            f.vendor_code = job->state;
            f.context(what);
            co_return f;
        }
        asio::steady_timer timer(co_await asio::this_coro::executor, delay);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return make_failure(errc::cancelled, "bulk query job wait cancelled");
        delay = std::min(retry_.policy.cap, delay * 2);
    }
}

asio::awaitable<result<query_page>> client::query_job_results(
    const bulk_job& job,
    const std::optional<std::string>& locator,
    const std::vector<std::string>& columns,
    const std::vector<cell_kind>& kinds,
    long max_records) {
    std::string url = fmt::format("/services/data/v{}/jobs/query/{}/results?maxRecords={}",
                                  cfg_.api_version,
                                  http::url_encode(job.id),
                                  max_records);
    if (locator)
        url += "&locator=" + http::url_encode(*locator);
    const auto delimiter = delimiter_char(job.column_delimiter);
    if (!delimiter) {
        co_return make_failure(
            errc::bad_response,
            fmt::format(
                "bulk query job {}: unknown columnDelimiter {}", job.id, job.column_delimiter));
    }
    auto once = [&]() -> asio::awaitable<result<query_page>> {
        auto r = co_await get_once(url);
        if (!r)
            co_return r.error();
        // Parsed inside the retry, like a page: a set cut short on the wire is read again.
        auto table = parse_csv(r->body, *delimiter, job.line_ending);
        if (!table)
            co_return table.error();
        auto records = records_from_csv(*table, columns, kinds);
        if (!records)
            co_return records.error();
        query_page page;
        page.records = std::move(*records);
        page.total_size = job.records_processed;
        // The string "null" when no set follows (api-reference §1.10 [SF-BULK2-RES]).
        if (const auto next = r->header("Sforce-Locator"); !next.empty() && next != "null")
            page.next_records_url = std::string(next);
        co_return page;
    };
    auto refresh_op = [this]() { return refresh(); };
    co_return with_context(
        co_await http::retry_call<query_page>(retry_, once, classify, refresh_op),
        fmt::format("bulk query results {} {}", job.id, cfg_.name));
}

}  // namespace crmsync::source::salesforce
