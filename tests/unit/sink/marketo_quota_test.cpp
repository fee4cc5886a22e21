#include "crmsync/sink/marketo/quota.hpp"

#include "manual_clock.hpp"
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

namespace crmsync::sink::marketo {
namespace {

using namespace std::chrono_literals;

// What the state database does for the daemon (state::store::update_quota), kept in memory.
struct memory_ledger final : quota_ledger {
    std::map<std::string, ledger_state, std::less<>> days;
    int writes = 0;

    result<ledger_state> add(std::string_view day, std::int64_t calls) override {
        ++writes;
        auto& d = days[std::string(day)];
        d.count = std::max<std::int64_t>(d.count + calls, 0);
        return d;
    }
    result<ledger_state> at_least(std::string_view day, std::int64_t total) override {
        ++writes;
        auto& d = days[std::string(day)];
        d.count = std::max(d.count, total);
        return d;
    }
    result<void> spent(std::string_view day, sys_ms) override {
        ++writes;
        days[std::string(day)].spent = true;
        return {};
    }
};

sys_ms at(const char* iso) {
    return timestamp::parse(iso)->at;
}

class quota : public ::testing::Test {
protected:
    fakes::manual_clock clock{at("2026-11-23T10:00:00Z")};  // 04:00 CST, 23 November
    memory_ledger ledger;
};

TEST_F(quota, counts_every_call_and_refuses_the_one_past_the_limit_until_midnight_central) {
    daily_quota q(5, &ledger, clock.fn());
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(q.count_call()) << i;
    EXPECT_EQ(q.used(), 5);
    EXPECT_EQ(ledger.days["2026-11-23"].count, 5);
    auto r = q.count_call();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::quota_exhausted);
    ASSERT_TRUE(r.error().retry_after);
    // Midnight CST on 24 November is 06:00 UTC: 20 hours from 10:00 UTC.
    EXPECT_EQ(*r.error().retry_after, 20h);
    clock.set(at("2026-11-24T05:59:59Z"));
    EXPECT_FALSE(q.count_call());
    clock.set(at("2026-11-24T06:00:00Z"));
    EXPECT_TRUE(q.count_call()) << "a new quota day";
    EXPECT_EQ(q.day(), "2026-11-24");
    EXPECT_EQ(q.used(), 1);
}

TEST_F(quota, a_restart_continues_the_day_it_left_and_a_crash_counts_a_block_at_most) {
    std::map<std::string, ledger_state, std::less<>> crashed;
    {
        daily_quota q(50'000, &ledger, clock.fn());  // blocks of 50
        for (int i = 0; i < 120; ++i)
            ASSERT_TRUE(q.count_call());
        EXPECT_EQ(ledger.writes, 3) << "one write per block of 50, not one per call";
        EXPECT_EQ(ledger.days["2026-11-23"].count, 150) << "reserved ahead";
        crashed = ledger.days;  // what a kill -9 now would leave behind
    }
    EXPECT_EQ(ledger.days["2026-11-23"].count, 120) << "a clean end gives the unused 30 back";
    {
        daily_quota q(50'000, &ledger, clock.fn());
        ASSERT_TRUE(q.count_call());
        EXPECT_EQ(q.used(), 121) << "the day's count survived the restart";
    }
    ledger.days = crashed;
    daily_quota q(50'000, &ledger, clock.fn());
    ASSERT_TRUE(q.count_call());
    EXPECT_EQ(q.used(), 151) << "after a crash the unused block counts as used: over, never under";
}

TEST_F(quota, the_last_calls_of_a_day_are_never_reserved_past_the_limit) {
    daily_quota q(2'020, &ledger, clock.fn());  // blocks of 2
    for (int i = 0; i < 2'020; ++i)
        ASSERT_TRUE(q.count_call()) << i;
    EXPECT_EQ(ledger.days["2026-11-23"].count, 2'020);
    EXPECT_FALSE(q.count_call());
}

TEST_F(quota, a_607_spends_the_day_whatever_was_counted_and_a_restart_remembers_it) {
    {
        daily_quota q(50'000, &ledger, clock.fn());
        ASSERT_TRUE(q.count_call());
        const failure f = q.spent(make_failure(errc::quota_exhausted, "607 Daily quota reached"));
        ASSERT_TRUE(f.retry_after);
        EXPECT_EQ(*f.retry_after, 20h);
        EXPECT_FALSE(q.count_call());
    }
    daily_quota again(50'000, &ledger, clock.fn());
    const auto r = again.count_call();
    ASSERT_FALSE(r) << "no call at all until the reset, not one more 607";
    EXPECT_EQ(r.error().code, errc::quota_exhausted);
    clock.set(at("2026-11-24T06:00:00Z"));
    EXPECT_TRUE(again.count_call());
}

TEST_F(quota, marketo_reported_usage_raises_the_count_for_our_day_only) {
    daily_quota q(1'000, &ledger, clock.fn());
    EXPECT_TRUE(q.wants_usage());
    ASSERT_TRUE(q.reported("2026-11-23", 990));
    EXPECT_FALSE(q.wants_usage());
    EXPECT_EQ(q.used(), 990);
    ASSERT_TRUE(q.reported("2026-11-22", 10'000)) << "yesterday's figure says nothing of today";
    EXPECT_EQ(q.used(), 990);
    for (int i = 0; i < 10; ++i)
        ASSERT_TRUE(q.count_call()) << i;
    EXPECT_FALSE(q.count_call());
    clock.set(at("2026-11-24T06:00:00Z"));
    EXPECT_TRUE(q.wants_usage()) << "once per quota day";
}

TEST_F(quota, summer_days_end_at_05_00_utc) {
    clock.set(at("2026-07-01T04:59:59Z"));
    daily_quota q(1, &ledger, clock.fn());
    ASSERT_TRUE(q.count_call());
    EXPECT_EQ(q.day(), "2026-06-30");
    const auto r = q.count_call();
    ASSERT_FALSE(r);
    EXPECT_EQ(*r.error().retry_after, 1s);
}

TEST_F(quota, without_a_ledger_the_count_is_kept_in_memory) {
    daily_quota q(3, nullptr, clock.fn());
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(q.count_call());
    EXPECT_FALSE(q.count_call());
}

TEST(marketo_usage, parses_the_documented_body) {
    std::ifstream in(std::string(CRMSYNC_FIXTURES) + "/marketo/stats_usage_response.json");
    std::stringstream body;
    body << in.rdbuf();
    const auto u = parse_usage(body.str());
    ASSERT_TRUE(u) << u.error().message();
    EXPECT_EQ(u->date, "2015-10-17");
    EXPECT_EQ(u->total, 1120);
    for (const char* bad : {R"({"success":true,"result":[]})",
                            R"({"success":true,"result":[{"date":"2015-10-17"}]})",
                            R"({"success":true,"result":[{"date":1,"total":3}]})",
                            R"({"success":true,"result":[{"date":"2015-10-17","total":-3}]})",
                            "not json"}) {
        const auto r = parse_usage(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, errc::bad_response) << bad;
    }
    const auto spent = parse_usage(
        R"({"success":false,"errors":[{"code":"607","message":"Daily quota reached"}]})");
    ASSERT_FALSE(spent);
    EXPECT_EQ(spent.error().code, errc::quota_exhausted);
}

}  // namespace
}  // namespace crmsync::sink::marketo
