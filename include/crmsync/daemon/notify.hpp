#pragma once
// The systemd service protocol (sd_notify(3)) for `crmsync run` under Type=notify: READY=1 once
// every stream is scheduled, STATUS= with each stream's last run, WATCHDOG=1 at half the
// unit's WatchdogSec, STOPPING=1 on shutdown. Without NOTIFY_SOCKET (not started by systemd)
// every call does nothing, so the daemon runs the same from a shell.

#include "crmsync/core/error.hpp"
#include "crmsync/daemon/stream_cycle.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <string>
#include <string_view>

namespace crmsync::daemon {

class notifier {
public:
    explicit notifier(boost::asio::io_context& ioc);

    // READY=1, and the watchdog pings start if the unit set WatchdogSec.
    void ready();
    // Records a stream's last run and sends STATUS= with every stream's last run, e.g.
    // "contacts: read 7, created 7, updated 0, rejected 0; leads: failed (...)".
    void stream_ran(const std::string& stream, const result<cycle_summary>& run);
    // RELOADING=1 with MONOTONIC_USEC (sd_notify(3)) when SIGHUP arrives, READY=1 once the
    // reload was decided (applied or refused): `systemctl reload` waits in between.
    void reloading();
    void reloaded();
    // STOPPING=1 (once); ends the watchdog pings so the io_context can run out of work.
    void stopping();

private:
    void ping();

    bool enabled_;
    bool stopping_ = false;  // both SIGTERM and the last stream loop ending say STOPPING
    boost::asio::steady_timer watchdog_;
    std::chrono::microseconds watchdog_every_{0};
    std::map<std::string, std::string> streams_;  // sorted: STATUS reads the same every time
};

}  // namespace crmsync::daemon
