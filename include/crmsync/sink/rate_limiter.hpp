#pragma once
// Client-side call accounting for a destination (SPEC §4 "Limits are respected"). Pure: the
// caller passes the time, and gets back whether a call may start now or how long to wait.
//
// window_limiter: at most N call starts in any rolling window (Marketing Cloud's cap).
// call_limiter: Marketo's two per-instance limits at once [MK-BEST]: at most `max_calls` calls
// in any rolling `window` (100 / 20 s, error 606) and at most `max_in_flight` at once (10,
// error 615).

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>

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

// Where in a call's life the window counts it. The server counts a call when the request
// arrives, which is somewhere between our start and our end; counting it at the start (as
// window_limiter does) lets a later call reach the server less than `window` after an earlier
// one when the earlier request travelled slower than the later, and the server then answers
// 606 (the benchmark saw 13 of 500 calls refused so). So a call holds its window slot from
// its start (it may arrive at once) until `window` after its end (it may have arrived only
// just before the answer left): any two calls the server counts are then at least `window`
// apart whenever they are `max_calls` apart in our count. It needs no guessed margin and costs
// one round trip per slot per window. The same holds for calls that time out or break: we
// cannot know whether they arrived, so they are counted like the others.
class call_limiter {
public:
    using time_point = std::chrono::steady_clock::time_point;

    call_limiter(std::size_t max_calls, std::chrono::milliseconds window, std::size_t max_in_flight)
        : max_calls_(max_calls ? max_calls : 1),
          max_in_flight_(max_in_flight ? max_in_flight : 1),
          window_(window) {}

    struct verdict {
        bool granted = false;
        // Not granted: how long until a slot frees in the window; empty when only the end of
        // a call in flight can free one (wait for release()).
        std::optional<std::chrono::milliseconds> wait;
    };

    // Granted: the call counts as started and in flight until release().
    verdict try_acquire(time_point now);
    // The call that try_acquire granted ended at `now` (answered, failed or abandoned).
    void release(time_point now);

    std::size_t in_flight() const noexcept { return in_flight_; }
    // Calls in flight plus calls that ended less than `window` ago.
    std::size_t in_window(time_point now);

private:
    void expire(time_point now);

    std::size_t max_calls_;
    std::size_t max_in_flight_;
    std::chrono::milliseconds window_;
    std::size_t in_flight_ = 0;
    std::deque<time_point> ends_;  // non-decreasing: release() is called with a monotonic clock
};

}  // namespace crmsync::sink
