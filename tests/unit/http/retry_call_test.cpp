// retry_call (http/disposition.hpp): the one loop every source and sink retries through. The
// operations are scripted results, so each test states exactly which attempt sees what.

#include "crmsync/http/disposition.hpp"

#include "run_coroutine.hpp"
#include <gtest/gtest.h>

#include <deque>
#include <vector>

namespace crmsync::http {
namespace {

namespace asio = boost::asio;
using crmsync::testing::run_coroutine;
using std::chrono::milliseconds;

// Codes stand in for a vendor's classification: timeout → retry, token_expired → refresh,
// anything else → fail.
disposition classify_for_test(const failure& f) {
    if (f.code == errc::token_expired)
        return disposition::refresh_token;
    if (f.code == errc::timeout)
        return disposition::retry;
    return disposition::fail;
}

struct scripted {
    std::deque<result<int>> answers;  // one per call of op(); success once they run out
    std::deque<result<void>> refreshes;
    int calls = 0;
    int refresh_calls = 0;
};

struct outcome {
    result<int> r{0};
    std::vector<int> retried_attempts;
    std::vector<milliseconds> delays;
};

outcome run(scripted& s, int max_attempts = 4) {
    outcome out;
    std::mt19937_64 rng(7);
    retry_context ctx;
    ctx.policy = {.base = milliseconds(1), .cap = milliseconds(2), .max_attempts = max_attempts};
    ctx.rng = &rng;
    ctx.on_retry = [&](int attempt, const failure&, milliseconds delay) {
        out.retried_attempts.push_back(attempt);
        out.delays.push_back(delay);
    };
    auto op = [&s]() -> asio::awaitable<result<int>> {
        ++s.calls;
        if (s.answers.empty())
            co_return 42;
        auto r = s.answers.front();
        s.answers.pop_front();
        co_return r;
    };
    auto refresh = [&s]() -> asio::awaitable<result<void>> {
        ++s.refresh_calls;
        if (s.refreshes.empty())
            co_return result<void>{};
        auto r = s.refreshes.front();
        s.refreshes.pop_front();
        co_return r;
    };
    run_coroutine([&](asio::any_io_executor) -> asio::awaitable<void> {
        out.r = co_await retry_call<int>(ctx, op, classify_for_test, refresh);
    });
    return out;
}

failure code(errc e) {
    return make_failure(e, "scripted");
}

TEST(retry_call, transient_failures_are_retried_until_success) {
    scripted s{.answers = {code(errc::timeout), code(errc::timeout)}};
    const auto o = run(s);
    ASSERT_TRUE(o.r);
    EXPECT_EQ(*o.r, 42);
    EXPECT_EQ(s.calls, 3);
    EXPECT_EQ(o.retried_attempts, (std::vector<int>{1, 2}));
}

TEST(retry_call, a_final_failure_is_returned_at_once) {
    scripted s{.answers = {code(errc::request_rejected)}};
    const auto o = run(s);
    ASSERT_FALSE(o.r);
    EXPECT_EQ(o.r.error().code, errc::request_rejected);
    EXPECT_EQ(s.calls, 1);
    EXPECT_TRUE(o.retried_attempts.empty());
}

TEST(retry_call, the_budget_counts_every_attempt_and_names_itself) {
    scripted s{.answers = {code(errc::timeout),
                           code(errc::timeout),
                           code(errc::timeout),
                           code(errc::timeout),
                           code(errc::timeout)}};
    const auto o = run(s, 4);
    ASSERT_FALSE(o.r);
    EXPECT_EQ(o.r.error().code, errc::timeout);
    EXPECT_EQ(o.r.error().message(), "gave up after 4 attempts: scripted");
    EXPECT_EQ(s.calls, 4);
}

TEST(retry_call, retry_after_from_the_peer_sets_the_wait) {
    failure f = code(errc::timeout);
    f.retry_after = milliseconds(30);
    scripted s{.answers = {f}};
    const auto start = std::chrono::steady_clock::now();
    const auto o = run(s);
    ASSERT_TRUE(o.r);
    ASSERT_EQ(o.delays.size(), 1u);
    EXPECT_EQ(o.delays[0], milliseconds(30));
    EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(30));
}

TEST(retry_call, an_expired_token_is_refreshed_once_without_spending_an_attempt) {
    scripted s{.answers = {code(errc::token_expired)}};
    const auto o = run(s, 1);
    ASSERT_TRUE(o.r);
    EXPECT_EQ(s.refresh_calls, 1);
    EXPECT_EQ(s.calls, 2);
}

TEST(retry_call, a_fresh_token_refused_again_ends_the_call) {
    scripted s{.answers = {code(errc::token_expired), code(errc::token_expired)}};
    const auto o = run(s);
    ASSERT_FALSE(o.r);
    EXPECT_EQ(o.r.error().code, errc::token_expired);
    EXPECT_EQ(s.refresh_calls, 1);
    EXPECT_EQ(s.calls, 2);
}

TEST(retry_call, a_transient_failure_of_the_refresh_is_retried_like_the_call) {
    // Found by the fault-injection suite: a garbled token response during a refresh used to
    // end the call (and stop the stream) although the same request succeeds a moment later.
    scripted s{.answers = {code(errc::token_expired)}, .refreshes = {code(errc::timeout)}};
    const auto o = run(s);
    ASSERT_TRUE(o.r) << o.r.error().message();
    EXPECT_EQ(s.refresh_calls, 1);
    EXPECT_EQ(s.calls, 2);
    EXPECT_EQ(o.retried_attempts, (std::vector<int>{1}));
}

TEST(retry_call, a_final_failure_of_the_refresh_ends_the_call) {
    scripted s{.answers = {code(errc::token_expired)}, .refreshes = {code(errc::auth_rejected)}};
    const auto o = run(s);
    ASSERT_FALSE(o.r);
    EXPECT_EQ(o.r.error().code, errc::auth_rejected);
    EXPECT_EQ(s.calls, 1);
}

}  // namespace
}  // namespace crmsync::http
