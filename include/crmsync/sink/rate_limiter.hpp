#pragma once
// Client-side call accounting for a destination (SPEC §4 "Limits are respected"): at most N
// calls in any rolling window. Pure: the caller passes the time, and gets back how long to
// wait before the next call may start.

#include <chrono>
#include <cstddef>
#include <deque>

namespace crmsync::sink {

class window_limiter {
public:
    using time_point = std::chrono::steady_clock::time_point;

    window_limiter(std::size_t max_calls, std::chrono::milliseconds window)
        : max_calls_(max_calls), window_(window) {}

    // Zero when a call may start at `now` (and records it); otherwise the wait until a slot
    // frees, and nothing is recorded.
    std::chrono::milliseconds try_acquire(time_point now);

    std::size_t in_window(time_point now);

private:
    void expire(time_point now);

    std::size_t max_calls_;
    std::chrono::milliseconds window_;
    std::deque<time_point> starts_;
};

}  // namespace crmsync::sink
