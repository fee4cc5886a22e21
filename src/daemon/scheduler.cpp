#include "crmsync/daemon/scheduler.hpp"

#include "crmsync/daemon/notify.hpp"
#include "crmsync/daemon/stream_cycle.hpp"
#include "crmsync/observability/events.hpp"
#include "crmsync/observability/health.hpp"
#include "crmsync/observability/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <functional>
#include <list>
#include <random>

namespace crmsync::daemon {
namespace asio = boost::asio;
std::vector<stream_result> run_once(asio::io_context& ioc,
                                    runtime& rt,
                                    state::store& store,
                                    const std::vector<std::string>& only) {
    std::vector<stream_result> results;
    for (auto& s : rt.streams()) {
        if (!only.empty() && std::find(only.begin(), only.end(), s.cfg->name) == only.end())
            continue;
        results.push_back({s.cfg->name, result<void>{}});
    }
    if (results.empty())
        return results;

    std::atomic<bool> stopping{false};
    std::size_t remaining = results.size();
    // SIGINT/SIGTERM during `once` stop after the current batch, as in the daemon.
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec)
            stopping = true;
    });
    for (std::size_t i = 0; i < results.size(); ++i) {
        auto* s = rt.find(results[i].stream);
        asio::co_spawn(
            ioc,
            [s, &store, &rt, &stopping]() -> asio::awaitable<result<void>> {
                auto r = co_await run_cycle(*s, store, rt.opts().now, {.stopping = &stopping});
                if (!r)
                    co_return r.error();
                co_return result<void>{};
            },
            [&, i](std::exception_ptr e, result<void> r) {
                results[i].outcome = e ? result<void>(failure_from_exception(e)) : std::move(r);
                if (--remaining == 0)
                    signals.cancel();
            });
    }
    ioc.restart();
    ioc.run();
    return results;
}

void run_forever(asio::io_context& ioc,
                 runtime& rt,
                 state::store& store,
                 const run_settings& settings) {
    std::atomic<bool> stopping{false};
    std::list<asio::steady_timer> timers;
    std::size_t running = rt.streams().size();
    std::mt19937_64 rng{std::random_device{}()};

    asio::steady_timer force_stop(ioc);
    notifier notify(ioc);
    bool others_stopped = false;
    const auto stop_others = [&] {
        if (!others_stopped && settings.on_stop)
            settings.on_stop();
        others_stopped = true;
    };
    // SIGHUP's default action would end the daemon; until reload exists, say so and go on.
    asio::signal_set hangup(ioc, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_hangup =
        [&](const boost::system::error_code& ec, int) {
            if (ec)
                return;
            observability::warn(
                "Reload is not supported yet; restart crmsync to apply configuration changes.");
            hangup.async_wait(on_hangup);
        };
    hangup.async_wait(on_hangup);
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec)
            return;
        observability::info("Shutting down.", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        stopping = true;
        notify.stopping();
        stop_others();
        hangup.cancel();
        for (auto& t : timers)
            t.cancel();
        force_stop.expires_after(settings.grace);
        force_stop.async_wait([&](const boost::system::error_code& fec) {
            if (fec)
                return;
            observability::warn("Cycles did not finish within the grace period; stopping now.",
                                {{"grace_ms", settings.grace.count()}});
            ioc.stop();
        });
    });

    for (auto& s : rt.streams()) {
        auto& timer = timers.emplace_back(ioc);
        // Spread first starts over up to a tenth of the interval.
        const auto every = s.cfg->source.every;
        const auto first = std::chrono::milliseconds(
            std::uniform_int_distribution<long>(0, std::max<long>(0, every.count() / 10))(rng));
        asio::co_spawn(
            ioc,
            [&s, &store, &rt, &stopping, &timer, &notify, first]() -> asio::awaitable<void> {
                auto delay = first;
                while (!stopping) {
                    timer.expires_after(delay);
                    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
                    if (stopping)
                        break;
                    const auto started = std::chrono::steady_clock::now();
                    // The cycle logs its own summary and failure lines; the loop just goes on,
                    // so a failing stream retries at its next interval without blocking others.
                    const auto r =
                        co_await run_cycle(s, store, rt.opts().now, {.stopping = &stopping});
                    notify.stream_ran(s.cfg->name, r);
                    const auto spent = std::chrono::steady_clock::now() - started;
                    delay =
                        std::max(std::chrono::milliseconds{0},
                                 s.cfg->source.every -
                                     std::chrono::duration_cast<std::chrono::milliseconds>(spent));
                }
            },
            [&, name = s.cfg->name](std::exception_ptr e) {
                if (e) {
                    observability::error(
                        "Stream loop ended by an internal error.",
                        {{"stream", name}, {"error", failure_from_exception(e).message()}});
                }
                if (--running == 0) {
                    signals.cancel();
                    hangup.cancel();
                    force_stop.cancel();
                    notify.stopping();
                    stop_others();
                }
            });
    }
    std::vector<std::string> names;
    for (const auto& s : rt.streams())
        names.push_back(s.cfg->name);
    observability::health().track(names);
    observability::declare_event_metrics();
    observability::info("Started.", {{"streams", rt.streams().size()}});
    notify.ready();
    ioc.restart();
    ioc.run();
    observability::info("Stopped.");
}

}  // namespace crmsync::daemon
