#include "crmsync/sink/rate_limiter.hpp"

#include <boost/assert.hpp>

namespace crmsync::sink {

void window_limiter::expire(time_point now) {
    while (!starts_.empty() && now - starts_.front() >= window_)
        starts_.pop_front();
}

std::chrono::milliseconds window_limiter::try_acquire(time_point now) {
    expire(now);
    if (starts_.size() < max_calls_) {
        starts_.push_back(now);
        return std::chrono::milliseconds{0};
    }
    // The oldest call leaves the window at front + window; round up so we never start early.
    const auto wait = starts_.front() + window_ - now;
    return std::chrono::ceil<std::chrono::milliseconds>(wait);
}

std::size_t window_limiter::in_window(time_point now) {
    expire(now);
    return starts_.size();
}

void call_limiter::expire(time_point now) {
    while (!ends_.empty() && now - ends_.front() >= window_)
        ends_.pop_front();
}

call_limiter::verdict call_limiter::try_acquire(time_point now) {
    expire(now);
    if (in_flight_ >= max_in_flight_)
        return {};  // only a call ending frees a place
    if (in_flight_ + ends_.size() < max_calls_) {
        ++in_flight_;
        return {.granted = true};
    }
    if (ends_.empty())
        return {};  // the window is all calls in flight
    // The oldest ended call leaves the window at its end + window; round up so we never start
    // early.
    return {.wait = std::chrono::ceil<std::chrono::milliseconds>(ends_.front() + window_ - now)};
}

void call_limiter::release(time_point now) {
    BOOST_ASSERT(in_flight_ > 0);
    --in_flight_;
    ends_.push_back(ends_.empty() || now >= ends_.back() ? now : ends_.back());
}

std::size_t call_limiter::in_window(time_point now) {
    expire(now);
    return in_flight_ + ends_.size();
}

}  // namespace crmsync::sink
