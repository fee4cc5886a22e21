#pragma once
// One decision point for what a failed call means (STYLE.md convention 3): each source and sink
// classifies its vendor's failures into a disposition, and retry_call() acts on it the same
// way everywhere: transient → backoff with full jitter (Retry-After honoured) within a budget;
// expired token → one refresh, then the call again; anything else → the failure goes up.

#include "crmsync/core/error.hpp"
#include "crmsync/http/retry.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <random>

namespace crmsync::http {

enum class disposition {
    retry,          // transient: back off and try again
    refresh_token,  // the access token was refused: get a new one once, then try again
    fail,           // retrying cannot help (bad request, quota spent, credentials refused)
};

struct retry_context {
    backoff_policy policy;
    std::mt19937_64* rng = nullptr;
    // Called before each backoff wait with the attempt number, the failure and the delay, so
    // the caller can log api_call_failed; may be empty.
    std::function<void(int, const failure&, std::chrono::milliseconds)> on_retry;
};

// Runs op() until it succeeds, fails for good, or the retry budget is spent. `classify` maps a
// failure to a disposition; `refresh` obtains a new token (a transient failure of it costs an
// attempt like the call's own; any other failure of it ends the call).
template <class T, class Op, class Classify, class Refresh>
boost::asio::awaitable<result<T>> retry_call(const retry_context& ctx,
                                             Op op,
                                             Classify classify,
                                             Refresh refresh) {
    bool refreshed = false;
    int attempt = 0;
    for (;;) {
        result<T> r = co_await op();
        if (r)
            co_return r;
        failure f = r.error();
        switch (classify(f)) {
            case disposition::fail:
                co_return r;
            case disposition::refresh_token: {
                if (refreshed) {
                    // A fresh token was refused too: refreshing again would loop forever
                    // (jsforce's isSessionExpired reasoning, api-reference §1.2).
                    co_return r;
                }
                refreshed = true;
                result<void> t = co_await refresh();
                if (t)
                    continue;
                // The token endpoint fails transiently too (a 503, a reset, a garbled body).
                // That costs an attempt and a backoff like any transient failure; the next
                // attempt asks for its own token, since the refused one was dropped.
                if (classify(t.error()) != disposition::retry)
                    co_return t.error();
                f = t.error();
                break;
            }
            case disposition::retry:
                break;
        }
        ++attempt;
        if (attempt >= ctx.policy.max_attempts) {
            failure out = f;
            out.context("gave up after " + std::to_string(attempt) + " attempts");
            co_return out;
        }
        const auto delay = backoff_delay(ctx.policy, attempt, f.retry_after, *ctx.rng);
        if (ctx.on_retry)
            ctx.on_retry(attempt, f, delay);
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
        auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec)
            co_return make_failure(errc::cancelled, "retry wait cancelled");
    }
}

}  // namespace crmsync::http
