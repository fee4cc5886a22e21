// The limits of one Marketo instance, proved on the fake (which counts what arrives and answers
// 606, 615 and 607 past them [MK-ERR]): the call window and the concurrency limit shared by
// every sink of a session, the daily quota seeded from stats/usage, and 607.

#include "crmsync/daemon/scheduler.hpp"
#include "crmsync/sink/marketo/sink.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "fake_marketo.hpp"
#include "manual_clock.hpp"
#include "run_coroutine.hpp"
#include <gtest/gtest.h>

#include <random>

namespace crmsync::sink::marketo {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

config::destination destination(const fakes::fake_marketo& mk, int per_window, int concurrency) {
    config::destination d;
    d.name = "mkto";
    d.base_url = mk.base_url();
    d.client_id = "fake-mkto-client";
    d.client_secret = secret("fake-mkto-secret");
    d.limits.calls_per_20s = per_window;
    d.limits.concurrency = concurrency;
    return d;
}

payload person(int i) {
    return payload{{value::string("p" + std::to_string(i) + "@example.com"),
                    value::string("003" + std::to_string(i))}};
}

const std::vector<std::string> fields{"email", "sfdcContactId"};

class marketo_limits : public ::testing::Test {
protected:
    http::retry_context retry() {
        http::retry_context r;
        r.policy = {.base = 1ms, .cap = 2ms, .max_attempts = 3};
        r.rng = &rng;
        return r;
    }
    std::mt19937_64 rng{42};
};

// Four streams' sinks pushing at once through one session: the fake, on the real clock with a
// window shortened to 400 ms, never sees more than 5 calls in a window or 3 in flight, and so
// never answers 606 or 615 — while both limits are reached, so neither is slack.
TEST_F(marketo_limits, sinks_sharing_a_session_stay_within_the_window_and_the_concurrency) {
    fakes::fake_marketo mk{fakes::mkto_options{
        .limits = {.calls_per_20s = 5, .max_concurrency = 3, .window = 400ms}, .latency = 40ms}};
    constexpr int sinks = 4;
    constexpr int batches = 5;
    asio::io_context ioc;
    http::client client(ioc.get_executor());
    session s(client, destination(mk, 5, 3), {.window = 400ms});
    std::vector<std::unique_ptr<lead_sink>> all;
    int delivered = 0;
    int finished = 0;
    for (int k = 0; k < sinks; ++k) {
        all.push_back(std::make_unique<lead_sink>(
            s,
            sync_options{.action = "createOrUpdate", .lookup_field = "sfdcContactId"},
            fields,
            retry()));
        asio::co_spawn(
            ioc,
            [&, k]() -> asio::awaitable<void> {
                for (int b = 0; b < batches; ++b) {
                    const std::vector<payload> batch{person(k * 100 + b)};
                    auto r = co_await all[static_cast<std::size_t>(k)]->push(batch);
                    EXPECT_TRUE(r) << r.error().message();
                    if (r && std::holds_alternative<crmsync::delivered>(r->at(0)))
                        ++delivered;
                }
            },
            [&](std::exception_ptr e) {
                EXPECT_FALSE(e);
                ++finished;
            });
    }
    ioc.run();
    ASSERT_EQ(finished, sinks);
    EXPECT_EQ(delivered, sinks * batches);
    EXPECT_EQ(mk.push_calls().size(), static_cast<std::size_t>(sinks * batches));
    const auto errors = mk.errors_sent();
    EXPECT_FALSE(errors.contains("606")) << errors.at("606") << " calls over the window";
    EXPECT_FALSE(errors.contains("615")) << errors.at("615") << " calls over the concurrency";
    EXPECT_EQ(mk.peak_calls_in_window(), 5) << "the window was full, never over";
    EXPECT_EQ(mk.peak_concurrency(), 3) << "the concurrency was reached, never passed";
    EXPECT_EQ(s.in_flight(), 0u);
}

// SIGTERM's grace can end with one call on the wire and another waiting for its place; the
// daemon then destroys both suspended frames (daemon::io_context::shutdown) while the session
// lives, in an order Asio does not promise. Each must leave the session clean: the waiting call
// off its list of timers, whose next release would otherwise cancel a timer in a freed frame,
// and the call on the wire's place given back.
TEST_F(marketo_limits, calls_destroyed_mid_wait_at_shutdown_leave_the_session_clean) {
    fakes::fake_marketo mk{fakes::mkto_options{.latency = 30s}};
    daemon::io_context ioc;
    http::client client(ioc.get_executor());
    session s(client, destination(mk, 100, 1), {});
    lead_sink sink(s,
                   sync_options{.action = "createOrUpdate", .lookup_field = "sfdcContactId"},
                   fields,
                   retry());
    int finished = 0;
    for (int k = 0; k < 2; ++k)
        asio::co_spawn(
            ioc,
            [&, k]() -> asio::awaitable<void> {
                const std::vector<payload> batch{person(k)};
                (void)co_await sink.push(batch);
            },
            [&](std::exception_ptr) { ++finished; });
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!(s.in_flight() == 1 && s.waiting() == 1) && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_for(100ms);
    ASSERT_EQ(s.in_flight(), 1u) << "one call on the wire";
    ASSERT_EQ(s.waiting(), 1u) << "one call waiting for its place";

    ioc.shutdown();
    EXPECT_EQ(finished, 0) << "both frames were destroyed, not finished";
    EXPECT_EQ(s.waiting(), 0u);
    EXPECT_EQ(s.in_flight(), 0u);
}

class marketo_quota : public marketo_limits {
protected:
    // Runs `body` with a session on the fake and a lead sink.
    void with_sink(const std::function<asio::awaitable<void>(session&, lead_sink&)>& body) {
        testing::run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            http::client client(ex);
            auto d = destination(mk, 100, 10);
            d.limits.daily_calls = 10;
            session s(client, d, {.now = clock.fn()});
            lead_sink sink(
                s,
                sync_options{.action = "createOrUpdate", .lookup_field = "sfdcContactId"},
                fields,
                retry());
            co_await body(s, sink);
        });
    }

    fakes::manual_clock clock{timestamp::parse("2026-11-23T10:00:00Z")->at};  // 04:00 CST
    fakes::fake_marketo mk{fakes::mkto_options{.limits = {.daily_quota = 10}, .clock = clock.fn()}};
};

TEST_F(marketo_quota, other_integrations_usage_is_read_first_and_counts) {
    mk.set_calls_today(9);  // another integration used 9 of 10; the usage call is the 10th
    with_sink([&](session& s, lead_sink& sink) -> asio::awaitable<void> {
        const std::vector<payload> batch{person(1)};
        auto r = co_await sink.push(batch);
        EXPECT_FALSE(r);
        if (r)
            co_return;
        EXPECT_EQ(r.error().code, errc::quota_exhausted) << r.error().message();
        EXPECT_EQ(r.error().retry_after, std::optional<std::chrono::milliseconds>(20h))
            << "until midnight US Central time, 06:00 UTC";
        EXPECT_EQ(s.quota().used(), 10);
    });
    EXPECT_TRUE(mk.push_calls().empty()) << "no Sync Leads call once the day is spent";
    EXPECT_FALSE(mk.errors_sent().contains("607")) << "refused before Marketo had to";
}

TEST_F(marketo_quota, a_607_pauses_until_the_reset_without_another_call) {
    with_sink([&](session&, lead_sink& sink) -> asio::awaitable<void> {
        const std::vector<payload> batch{person(1)};
        EXPECT_TRUE(co_await sink.push(batch));
        mk.set_calls_today(10);  // the rest of the day went elsewhere: Marketo answers 607
        auto r = co_await sink.push(batch);
        EXPECT_FALSE(r);
        if (r)
            co_return;
        EXPECT_EQ(r.error().code, errc::quota_exhausted);
        EXPECT_EQ(r.error().vendor_code, "607");
        EXPECT_TRUE(r.error().retry_after);
        const auto pushes = mk.push_calls().size();
        r = co_await sink.push(batch);
        EXPECT_FALSE(r);
        EXPECT_EQ(mk.push_calls().size(), pushes) << "spent: no call until the reset";
        clock.set(timestamp::parse("2026-11-24T06:00:00Z")->at);
        r = co_await sink.push(batch);
        EXPECT_TRUE(r) << r.error().message();
    });
    EXPECT_EQ(mk.errors_sent().at("607"), 1);
}

}  // namespace
}  // namespace crmsync::sink::marketo
