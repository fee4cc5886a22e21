#include "crmsync/observability/health.hpp"

#include "crmsync/core/clock.hpp"
#include "crmsync/observability/metrics.hpp"

#include <array>
#include <chrono>

namespace crmsync::observability {
namespace {

constexpr std::array<std::string_view, 6> state_names{
    "ok", "running", "paused", "drift", "auth_failed", "failing"};

double seconds(sys_ms t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(stream_state s) noexcept {
    return state_names[static_cast<std::size_t>(s)];
}

bool healthy(stream_state s) noexcept {
    return s == stream_state::ok || s == stream_state::running;
}

stream_state state_after(const failure& f, stream_state before) noexcept {
    if (f.code == errc::cancelled)
        return before == stream_state::running ? stream_state::ok : before;
    if (f.code == errc::quota_exhausted)
        return stream_state::paused;
    if (f.code == errc::schema_drift)
        return stream_state::drift;
    if (f.code == errc::auth_rejected)
        return stream_state::auth_failed;
    return stream_state::failing;
}

void health_registry::track(const std::vector<std::string>& streams) {
    std::lock_guard lock(mutex_);
    std::map<std::string, stream_health, std::less<>> next;
    for (const auto& name : streams) {
        auto it = streams_.find(name);
        if (it != streams_.end()) {
            next.emplace(name, std::move(it->second));
        } else {
            next.emplace(name, stream_health{.stream = name});
        }
    }
    streams_ = std::move(next);
}

void health_registry::run_started(std::string_view stream) {
    std::lock_guard lock(mutex_);
    if (auto it = streams_.find(stream); it != streams_.end())
        it->second.running = true;
}

void health_registry::run_finished(std::string_view stream, const failure* f, sys_ms now) {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(stream);
    if (it == streams_.end())
        return;
    auto& h = it->second;
    h.running = false;
    if (f && f->code == errc::cancelled)
        return;  // a stop or reload says nothing about the stream
    h.last_run = now;
    const auto next = f ? state_after(*f, h.state) : stream_state::ok;
    if (next != h.state)
        h.since = now;
    h.state = next;
    if (!f) {
        h.reason.clear();
        h.until.reset();
        h.consecutive_failures = 0;
        return;
    }
    h.reason = f->message();
    h.until = next == stream_state::paused && f->retry_after
                  ? std::optional<sys_ms>(now + *f->retry_after)
                  : std::nullopt;
    ++h.consecutive_failures;
}

void health_registry::set(std::string_view stream,
                          stream_state state,
                          std::string reason,
                          sys_ms now,
                          std::optional<sys_ms> until) {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(stream);
    if (it == streams_.end())
        return;
    auto& h = it->second;
    // `running` is the run's flag, not a condition anyone else can declare.
    if (state == stream_state::running)
        state = stream_state::ok;
    if (state != h.state)
        h.since = now;
    h.state = state;
    h.reason = state == stream_state::ok ? std::string{} : std::move(reason);
    h.until = state == stream_state::paused ? until : std::nullopt;
}

void health_registry::set_watermark(std::string_view stream, sys_ms modstamp) {
    std::lock_guard lock(mutex_);
    if (auto it = streams_.find(stream); it != streams_.end())
        it->second.watermark = modstamp;
}

std::vector<stream_health> health_registry::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<stream_health> out;
    out.reserve(streams_.size());
    for (const auto& [name, h] : streams_) {
        out.push_back(h);
        if (h.running && h.state == stream_state::ok)
            out.back().state = stream_state::running;
    }
    return out;
}

std::optional<stream_health> health_registry::find(std::string_view stream) const {
    std::lock_guard lock(mutex_);
    const auto it = streams_.find(stream);
    if (it == streams_.end())
        return std::nullopt;
    stream_health h = it->second;
    if (h.running && h.state == stream_state::ok)
        h.state = stream_state::running;
    return h;
}

bool health_registry::ready() const {
    std::lock_guard lock(mutex_);
    for (const auto& [name, h] : streams_) {
        if (!healthy(h.state))
            return false;
    }
    return true;
}

void collect_health(const health_registry& h, registry& into, sys_ms now) {
    auto& state = into.gauges("crmsync_stream_state",
                              "1 for the stream's current state (ok, running, paused, drift, "
                              "auth_failed, failing), 0 for the others.",
                              {"stream", "state"});
    auto& up = into.gauges(
        "crmsync_stream_healthy", "1 when the stream is ok or running, else 0.", {"stream"});
    auto& running = into.gauges(
        "crmsync_stream_running", "1 while a run of the stream is in flight.", {"stream"});
    auto& until = into.gauges("crmsync_stream_paused_until_timestamp_seconds",
                              "When a paused stream's quota is expected back (Unix time).",
                              {"stream"});
    auto& wm = into.gauges("crmsync_watermark_timestamp_seconds",
                           "SystemModstamp of the stream's committed watermark (Unix time).",
                           {"stream"});
    auto& lag = into.gauges("crmsync_watermark_lag_seconds",
                            "Seconds between now and the stream's committed watermark: how far "
                            "the destination is behind the CRM.",
                            {"stream"});
    std::vector<std::pair<label_values, double>> states, ups, runs, untils, wms, lags;
    for (const auto& s : h.snapshot()) {
        for (std::size_t i = 0; i < state_names.size(); ++i) {
            states.push_back({{s.stream, std::string(state_names[i])},
                              static_cast<std::size_t>(s.state) == i ? 1.0 : 0.0});
        }
        ups.push_back({{s.stream}, healthy(s.state) ? 1.0 : 0.0});
        runs.push_back({{s.stream}, s.running ? 1.0 : 0.0});
        if (s.until)
            untils.push_back({{s.stream}, seconds(*s.until)});
        if (s.watermark) {
            wms.push_back({{s.stream}, seconds(*s.watermark)});
            lags.push_back({{s.stream}, std::max(0.0, seconds(now) - seconds(*s.watermark))});
        }
    }
    state.replace(states);
    up.replace(ups);
    running.replace(runs);
    until.replace(untils);
    wm.replace(wms);
    lag.replace(lags);
}

health_registry& health() {
    // Constructed after metrics() (its constructor calls it), so destroyed before it: the
    // collector never outlives the registry it is in.
    struct global {
        health_registry h;
        registry::collector_handle publish;
        global()
            : publish(
                  metrics().add_collector([this] { collect_health(h, metrics(), system_now()); })) {
        }
    };
    static global g;
    return g.h;
}

}  // namespace crmsync::observability
