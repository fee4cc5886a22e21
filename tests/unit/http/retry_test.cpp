#include "crmsync/http/retry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>

namespace crmsync::http {
namespace {

using std::chrono::milliseconds;

TEST(backoff_delay, stays_within_the_full_jitter_ceiling_of_each_attempt) {
    const backoff_policy p{milliseconds(500), milliseconds(60'000), 8};
    std::mt19937_64 rng(42);
    for (int attempt = 1; attempt <= 12; ++attempt) {
        // min(cap, base * 2^(attempt-1)): 500, 1000, 2000, ... 32000, then 60000 from attempt 8.
        const auto ceiling = std::min<long long>(60'000, 500LL << (attempt - 1));
        milliseconds highest{0};
        milliseconds lowest{LLONG_MAX};
        for (int i = 0; i < 2000; ++i) {
            const auto d = backoff_delay(p, attempt, std::nullopt, rng);
            EXPECT_GE(d.count(), 0) << "attempt " << attempt;
            EXPECT_LE(d.count(), ceiling) << "attempt " << attempt;
            highest = std::max(highest, d);
            lowest = std::min(lowest, d);
        }
        // Full jitter spreads over the whole range: 2000 draws reach near both ends.
        EXPECT_GT(highest.count(), ceiling * 9 / 10) << "attempt " << attempt;
        EXPECT_LT(lowest.count(), ceiling / 10 + 1) << "attempt " << attempt;
    }
}

TEST(backoff_delay, cap_holds_for_huge_attempts_without_overflow) {
    const backoff_policy p{milliseconds(500), milliseconds(60'000), 8};
    std::mt19937_64 rng(7);
    for (int attempt : {30, 62, 63, 64, 100, 1000, INT_MAX}) {
        for (int i = 0; i < 200; ++i) {
            const auto d = backoff_delay(p, attempt, std::nullopt, rng);
            EXPECT_GE(d.count(), 0) << attempt;
            EXPECT_LE(d.count(), 60'000) << attempt;
        }
    }
}

TEST(backoff_delay, attempt_below_one_counts_as_the_first_retry) {
    const backoff_policy p{milliseconds(500), milliseconds(60'000), 8};
    std::mt19937_64 rng(1);
    for (int attempt : {0, -1, INT_MIN}) {
        for (int i = 0; i < 200; ++i) {
            EXPECT_LE(backoff_delay(p, attempt, std::nullopt, rng).count(), 500) << attempt;
        }
    }
}

TEST(backoff_delay, base_above_cap_is_capped) {
    const backoff_policy p{milliseconds(10'000), milliseconds(1'000), 8};
    std::mt19937_64 rng(3);
    for (int i = 0; i < 200; ++i) {
        EXPECT_LE(backoff_delay(p, 1, std::nullopt, rng).count(), 1'000);
    }
}

TEST(backoff_delay, is_deterministic_for_a_seed) {
    const backoff_policy p;
    std::mt19937_64 a(99);
    std::mt19937_64 b(99);
    for (int attempt = 1; attempt <= 8; ++attempt) {
        EXPECT_EQ(backoff_delay(p, attempt, std::nullopt, a),
                  backoff_delay(p, attempt, std::nullopt, b));
    }
}

TEST(backoff_delay, longer_retry_after_wins_even_past_the_cap) {
    const backoff_policy p{milliseconds(500), milliseconds(60'000), 8};
    std::mt19937_64 rng(5);
    for (int attempt = 1; attempt <= 8; ++attempt) {
        EXPECT_EQ(backoff_delay(p, attempt, milliseconds(120'000), rng), milliseconds(120'000));
    }
}

TEST(backoff_delay, shorter_retry_after_leaves_the_drawn_delay) {
    const backoff_policy p{milliseconds(500), milliseconds(60'000), 8};
    std::mt19937_64 with(11);
    std::mt19937_64 without(11);
    for (int attempt = 1; attempt <= 8; ++attempt) {
        const auto drawn = backoff_delay(p, attempt, std::nullopt, without);
        const auto got = backoff_delay(p, attempt, milliseconds(1), with);
        EXPECT_EQ(got, std::max(drawn, milliseconds(1))) << attempt;
    }
}

TEST(parse_retry_after, reads_delay_seconds_and_nothing_else) {
    EXPECT_EQ(parse_retry_after("5"), milliseconds(5'000));
    EXPECT_EQ(parse_retry_after("0"), milliseconds(0));
    EXPECT_EQ(parse_retry_after("999999999"), milliseconds(86'400'000)) << "clamped to a day";
    EXPECT_EQ(parse_retry_after(""), std::nullopt);
    EXPECT_EQ(parse_retry_after("-1"), std::nullopt);
    EXPECT_EQ(parse_retry_after("5s"), std::nullopt);
    EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
    EXPECT_EQ(parse_retry_after("99999999999999999999999"), std::nullopt);
}

}  // namespace
}  // namespace crmsync::http
