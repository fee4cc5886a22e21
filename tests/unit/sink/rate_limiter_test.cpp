#include "crmsync/sink/rate_limiter.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace crmsync::sink
