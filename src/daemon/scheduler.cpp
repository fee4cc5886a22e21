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
#include <map>
#include <random>
#include <set>

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

namespace {

using steady = std::chrono::steady_clock;

// `crmsync run`: one loop per stream of the current runtime. A reload (SIGHUP) that produced a
// new runtime makes every loop of the current one leave after its cycle in flight, if any —
// waiting loops leave at once — and when the last has left, the new runtime's loops start.
// Everything runs on the one io thread, so no state here needs a lock.
class daemon_loop {
public:
    daemon_loop(asio::io_context& ioc,
                runtime& rt,
                state::store& store,
                const run_settings& settings)
        : ioc_(ioc),
          store_(store),
          settings_(settings),
          current_(&rt),
          force_stop_(ioc),
          notify_(ioc),
          hangup_(ioc, SIGHUP),
          signals_(ioc, SIGINT, SIGTERM) {}

    void run() {
        hangup_.async_wait([this](const boost::system::error_code& ec, int) { on_hangup(ec); });
        signals_.async_wait(
            [this](const boost::system::error_code& ec, int sig) { on_signal(ec, sig); });
        start_generation();
        observability::declare_event_metrics();
        observability::info("Started.", {{"streams", current_->streams().size()}});
        notify_.ready();
        ioc_.restart();
        ioc_.run();
        observability::info("Stopped.");
    }

private:
    bool leaving() const { return stopping_ || pending_ != nullptr; }

    void start_generation() {
        std::vector<std::string> names;
        for (const auto& s : current_->streams())
            names.push_back(s.cfg->name);
        observability::health().track(names);
        timers_.clear();
        for (auto& s : current_->streams())
            spawn(s, first_delay(*s.cfg));
    }

    // A stream the daemon already ran keeps its rhythm across a reload (its next run is its
    // last start plus `every`, the new `every` if it changed); a new stream starts within a
    // tenth of its interval, spread so streams do not hit the APIs in lockstep.
    std::chrono::milliseconds first_delay(const config::stream& cfg) {
        const auto every = cfg.source.every;
        if (const auto last = last_start_.find(cfg.name); last != last_start_.end()) {
            const auto due = last->second + every;
            return std::max(
                std::chrono::milliseconds{0},
                std::chrono::duration_cast<std::chrono::milliseconds>(due - steady::now()));
        }
        return std::chrono::milliseconds(
            std::uniform_int_distribution<long>(0, std::max<long>(0, every.count() / 10))(rng_));
    }

    void spawn(stream_runtime& s, std::chrono::milliseconds first) {
        auto& timer = timers_.emplace_back(ioc_);
        ++loops_;
        asio::co_spawn(
            ioc_,
            [this, &s, &timer, first, rt = current_]() -> asio::awaitable<void> {
                auto delay = first;
                while (!leaving()) {
                    timer.expires_after(delay);
                    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
                    if (leaving())
                        break;
                    const auto started = steady::now();
                    last_start_[s.cfg->name] = started;
                    ++in_flight_;
                    // The cycle logs its own summary and failure lines; the loop just goes on,
                    // so a failing stream retries at its next interval without blocking others.
                    const auto r =
                        co_await run_cycle(s, store_, rt->opts().now, {.stopping = &stopping_});
                    --in_flight_;
                    notify_.stream_ran(s.cfg->name, r);
                    const auto spent = steady::now() - started;
                    delay =
                        std::max(std::chrono::milliseconds{0},
                                 s.cfg->source.every -
                                     std::chrono::duration_cast<std::chrono::milliseconds>(spent));
                    // A spent daily quota comes back at its reset (Marketo: midnight US Central),
                    // not at the next interval: runs before it would read the source only to be
                    // refused again.
                    if (!r && r.error().code == errc::quota_exhausted && r.error().retry_after)
                        delay = std::max(delay, *r.error().retry_after);
                }
            },
            [this, name = s.cfg->name](std::exception_ptr e) {
                if (e) {
                    observability::error(
                        "Stream loop ended by an internal error.",
                        {{"stream", name}, {"error", failure_from_exception(e).message()}});
                }
                loop_ended();
            });
    }

    void loop_ended() {
        if (--loops_ != 0)
            return;
        if (!stopping_ && pending_) {
            swap();
            return;
        }
        // Shutdown, or (a bug) every loop ended on its own: nothing is left to run.
        finish();
    }

    // Every loop of the current runtime has left: the pending one takes over.
    void swap() {
        std::set<std::string> before, after;
        for (const auto& s : current_->streams())
            before.insert(s.cfg->name);
        // The old runtime goes only now: no cycle of it is left, so no send is in flight on
        // its HTTP clients.
        owned_ = std::move(pending_);
        current_ = owned_.get();
        observability::config_reloaded e;
        for (const auto& s : current_->streams()) {
            after.insert(s.cfg->name);
            e.streams.push_back(s.cfg->name);
            if (!before.count(s.cfg->name))
                e.added.push_back(s.cfg->name);
        }
        for (const auto& name : before) {
            if (!after.count(name)) {
                e.removed.push_back(name);
                last_start_.erase(name);
            }
        }
        start_generation();
        observability::emit(e);
        notify_.reloaded();
    }

    void on_hangup(const boost::system::error_code& ec) {
        if (ec || stopping_)
            return;
        notify_.reloading();
        observability::emit(observability::reload_requested{});
        // The callback validates and logs every problem itself; null keeps what runs.
        auto next = settings_.reload ? settings_.reload() : nullptr;
        if (next && !stopping_) {
            pending_ = std::move(next);  // a second SIGHUP before the swap: the newest wins
            observability::emit(
                observability::config_reload_accepted{.cycles_in_flight = in_flight_});
            // Waiting loops wake and leave now; those in a cycle leave when it ends.
            for (auto& t : timers_)
                t.cancel();
            if (loops_ == 0)
                swap();
        } else {
            notify_.reloaded();
        }
        hangup_.async_wait([this](const boost::system::error_code& e, int) { on_hangup(e); });
    }

    void on_signal(const boost::system::error_code& ec, int sig) {
        if (ec)
            return;
        observability::info("Shutting down.", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        stopping_ = true;
        pending_.reset();
        notify_.stopping();
        stop_others();
        hangup_.cancel();
        for (auto& t : timers_)
            t.cancel();
        if (loops_ == 0) {
            finish();
            return;
        }
        force_stop_.expires_after(settings_.grace);
        force_stop_.async_wait([this](const boost::system::error_code& fec) {
            if (fec)
                return;
            observability::warn("Cycles did not finish within the grace period; stopping now.",
                                {{"grace_ms", settings_.grace.count()}});
            // Their frames never resume: each closes its run here, so `status` does not show a
            // run of a stopped daemon as still running.
            for (auto& s : current_->streams()) {
                if (s.abandon_run)
                    s.abandon_run();
            }
            ioc_.stop();
        });
    }

    void finish() {
        signals_.cancel();
        hangup_.cancel();
        force_stop_.cancel();
        notify_.stopping();
        stop_others();
    }

    void stop_others() {
        if (!others_stopped_ && settings_.on_stop)
            settings_.on_stop();
        others_stopped_ = true;
    }

    asio::io_context& ioc_;
    state::store& store_;
    const run_settings& settings_;
    runtime* current_;
    std::unique_ptr<runtime> owned_;    // the current runtime once a reload replaced the first
    std::unique_ptr<runtime> pending_;  // accepted by a reload, waiting for the loops to leave
    std::atomic<bool> stopping_{false};
    std::list<asio::steady_timer> timers_;
    std::size_t loops_ = 0;
    std::size_t in_flight_ = 0;
    std::map<std::string, steady::time_point> last_start_;
    std::mt19937_64 rng_{std::random_device{}()};
    bool others_stopped_ = false;
    asio::steady_timer force_stop_;
    notifier notify_;
    asio::signal_set hangup_;
    asio::signal_set signals_;
};

}  // namespace

void run_forever(io_context& ioc, runtime& rt, state::store& store, const run_settings& settings) {
    daemon_loop loop(ioc, rt, store, settings);
    loop.run();
    // Cycles abandoned at the end of the grace: their frames go now, while the runtimes (the
    // loop owns those of reloads) and their sessions are still there (io_context, above).
    ioc.shutdown();
}

}  // namespace crmsync::daemon
