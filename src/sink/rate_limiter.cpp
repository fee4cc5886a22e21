#include "crmsync/sink/rate_limiter.hpp"

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

}  // namespace crmsync::sink
