#pragma once
// A settable clock for tests: the fakes call it on their io thread while the test thread moves it,
// so the instant is an atomic. `fn()` yields the clock_fn the fakes take.

#include "crmsync/core/clock.hpp"
#include "crmsync/core/timestamp.hpp"

#include <atomic>
#include <chrono>
#include <memory>

namespace crmsync::fakes {

class manual_clock {
public:
    explicit manual_clock(sys_ms start = system_now())
        : now_(std::make_shared<std::atomic<std::int64_t>>(start.time_since_epoch().count())) {}

    sys_ms now() const { return sys_ms(std::chrono::milliseconds(now_->load())); }
    void set(sys_ms t) { now_->store(t.time_since_epoch().count()); }
    void set(const timestamp& t) { set(t.at); }
    void advance(std::chrono::milliseconds d) { now_->fetch_add(d.count()); }

    // Shares the instant with the returned function, so it stays valid after the clock object
    // goes away.
    clock_fn fn() const {
        return [now = now_] { return sys_ms(std::chrono::milliseconds(now->load())); };
    }

private:
    std::shared_ptr<std::atomic<std::int64_t>> now_;
};

}  // namespace crmsync::fakes
