#include "crmsync/sink/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace crmsync::sink {
namespace {

using namespace std::chrono_literals;

TEST(window_limiter, never_more_than_n_calls_in_any_window) {
    window_limiter w(100, 20s);
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    for (int i = 0; i < 100; ++i)
        EXPECT_EQ(w.try_acquire(t0 + std::chrono::milliseconds(i)).count(), 0);
    // The 101st call must wait until the first leaves the window.
    EXPECT_EQ(w.try_acquire(t0 + 100ms), 20s - 100ms);
    EXPECT_EQ(w.in_window(t0 + 100ms), 100u);
    EXPECT_GT(w.try_acquire(t0 + 20s - 1ms).count(), 0);
    EXPECT_EQ(w.try_acquire(t0 + 20s).count(), 0);
    EXPECT_EQ(w.in_window(t0 + 20s), 100u);
}

TEST(window_limiter, simulated_load_respects_the_limit_everywhere) {
    window_limiter w(10, 1s);
    auto now = std::chrono::steady_clock::time_point{} + 1h;
    std::vector<std::chrono::steady_clock::time_point> starts;
    while (starts.size() < 200) {
        const auto wait = w.try_acquire(now);
        if (wait.count() == 0) {
            starts.push_back(now);
            now += 7ms;
        } else {
            now += wait;
        }
    }
    for (std::size_t i = 10; i < starts.size(); ++i)
        EXPECT_GE(starts[i] - starts[i - 10], 1s) << i;
}

TEST(call_limiter, a_call_holds_its_window_slot_until_window_after_it_ends) {
    call_limiter l(3, 20s, 10);
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    for (int i = 0; i < 3; ++i)
        EXPECT_TRUE(l.try_acquire(t0).granted);
    // All three in flight: only an end frees a slot, and even then not for `window`.
    auto v = l.try_acquire(t0 + 1s);
    EXPECT_FALSE(v.granted);
    EXPECT_FALSE(v.wait);
    l.release(t0 + 5s);  // a slow answer: the server may have counted it as late as this
    v = l.try_acquire(t0 + 5s);
    EXPECT_FALSE(v.granted);
    ASSERT_TRUE(v.wait);
    EXPECT_EQ(*v.wait, 20s);
    EXPECT_FALSE(l.try_acquire(t0 + 25s - 1ms).granted);
    EXPECT_TRUE(l.try_acquire(t0 + 25s).granted);
    EXPECT_EQ(l.in_window(t0 + 25s), 3u);
}

TEST(call_limiter, at_most_max_in_flight_at_once) {
    call_limiter l(100, 20s, 10);
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    for (int i = 0; i < 10; ++i)
        EXPECT_TRUE(l.try_acquire(t0).granted);
    const auto v = l.try_acquire(t0);
    EXPECT_FALSE(v.granted);
    EXPECT_FALSE(v.wait) << "the window has room: only an end can help";
    EXPECT_EQ(l.in_flight(), 10u);
    l.release(t0 + 1ms);
    EXPECT_TRUE(l.try_acquire(t0 + 1ms).granted);
    EXPECT_FALSE(l.try_acquire(t0 + 1ms).granted);
}

// The property the server's count needs (it counts at arrival, somewhere between a call's start
// and its end): in any window of `window` length, at most max_calls calls arrive. Simulated
// with arrival at a random point of each call's life and random durations.
TEST(call_limiter, arrivals_anywhere_in_a_call_never_exceed_the_window) {
    call_limiter l(10, 1s, 4);
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<int> duration_ms(1, 400);
    std::uniform_real_distribution<double> where(0.0, 1.0);
    auto now = std::chrono::steady_clock::time_point{} + 1h;
    struct call {
        std::chrono::steady_clock::time_point ends;
        std::chrono::steady_clock::time_point arrives;
    };
    std::vector<call> in_flight;
    std::vector<std::chrono::steady_clock::time_point> arrivals;
    while (arrivals.size() < 500) {
        const auto v = l.try_acquire(now);
        if (v.granted) {
            const auto d = std::chrono::milliseconds(duration_ms(rng));
            const auto at =
                now + std::chrono::duration_cast<std::chrono::milliseconds>(d * where(rng));
            in_flight.push_back({now + d, at});
            arrivals.push_back(at);
            continue;
        }
        // Next event: the first call to end, or the window freeing a slot.
        auto next = now + v.wait.value_or(std::chrono::hours(1));
        for (const auto& c : in_flight)
            next = std::min(next, c.ends);
        now = next;
        for (auto it = in_flight.begin(); it != in_flight.end();) {
            if (it->ends <= now) {
                l.release(it->ends);
                it = in_flight.erase(it);
            } else {
                ++it;
            }
        }
    }
    std::sort(arrivals.begin(), arrivals.end());
    for (std::size_t i = 10; i < arrivals.size(); ++i)
        EXPECT_GE(arrivals[i] - arrivals[i - 10], 1s) << i;
}

// Two calls, one answered at once and one slow: the window frees the quick one's slot a window
// after its end, the slow one's only a window after the slow answer.
TEST(call_limiter, each_slot_frees_a_window_after_its_own_end) {
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    call_limiter l(2, 1s, 10);
    ASSERT_TRUE(l.try_acquire(t0).granted);
    ASSERT_TRUE(l.try_acquire(t0).granted);
    l.release(t0 + 1ms);
    l.release(t0 + 950ms);
    EXPECT_TRUE(l.try_acquire(t0 + 1001ms).granted);
    const auto v = l.try_acquire(t0 + 1001ms);
    EXPECT_FALSE(v.granted);
    EXPECT_EQ(v.wait, std::optional<std::chrono::milliseconds>(949ms));
    EXPECT_TRUE(l.try_acquire(t0 + 1950ms).granted);
}

}  // namespace
}  // namespace crmsync::sink
