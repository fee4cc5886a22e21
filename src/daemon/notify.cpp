#include "crmsync/daemon/notify.hpp"

#include <fmt/format.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <ctime>

namespace crmsync::daemon {

notifier::notifier(boost::asio::io_context& ioc)
    : enabled_(std::getenv("NOTIFY_SOCKET") != nullptr), watchdog_(ioc) {
    std::uint64_t usec = 0;
    // Half the interval, as sd_watchdog_enabled(3) advises, so one late ping is not fatal.
    if (enabled_ && sd_watchdog_enabled(0, &usec) > 0)
        watchdog_every_ = std::chrono::microseconds(usec / 2);
}

void notifier::ready() {
    if (!enabled_)
        return;
    sd_notify(0, "READY=1");
    if (watchdog_every_.count() > 0)
        ping();
}

void notifier::ping() {
    sd_notify(0, "WATCHDOG=1");
    watchdog_.expires_after(watchdog_every_);
    watchdog_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
            ping();
    });
}

void notifier::stream_ran(const std::string& stream, const result<cycle_summary>& run) {
    if (!enabled_)
        return;
    streams_[stream] = run ? fmt::format("read {}, created {}, updated {}, rejected {}",
                                         run->read,
                                         run->created,
                                         run->updated,
                                         run->rejected)
                           : "failed (" + run.error().code.message() + ")";
    std::string status = "STATUS=";
    const char* separator = "";
    for (const auto& [name, text] : streams_) {
        status += separator + name + ": " + text;
        separator = "; ";
    }
    sd_notify(0, status.c_str());
}

void notifier::reloading() {
    if (!enabled_ || stopping_)
        return;
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const auto usec = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000u +
                      static_cast<std::uint64_t>(now.tv_nsec) / 1'000u;
    sd_notify(0, fmt::format("RELOADING=1\nMONOTONIC_USEC={}", usec).c_str());
}

void notifier::reloaded() {
    if (enabled_ && !stopping_)
        sd_notify(0, "READY=1");
}

void notifier::stopping() {
    watchdog_.cancel();
    if (enabled_ && !stopping_)
        sd_notify(0, "STOPPING=1");
    stopping_ = true;
}

}  // namespace crmsync::daemon
