#pragma once
// Per-stream health (SPEC §4 "after the retry budget the stream pauses and is marked
// unhealthy"; issue 6 /readyz): what each configured stream is doing now, read by /readyz, the
// crmsync_stream_* gauges of /metrics, and nothing else. It holds no secrets: `reason` is a
// failure's message(), which never carries one.
//
// States (to_string gives the stable names used in /readyz JSON and the metrics):
// | state       | healthy | meaning                                                          |
// |-------------|---------|------------------------------------------------------------------|
// | ok          | yes     | last run succeeded, or waiting for its first run                 |
// | running     | yes     | a run is in flight and the stream was ok before it               |
// | paused      | no      | a quota is spent (Marketo 607, api_budget); `until` when known   |
// | drift       | no      | stopped on schema drift: a mapped field vanished or changed      |
// | auth_failed | no      | the source or destination refused the credentials                |
// | failing     | no      | the last run failed after the retry budget                       |
//
// A run that starts while the stream is not ok keeps that state (with `running` true), so
// /readyz does not flap to ready for the length of a retry; the run's end decides.
//
// Who sets what:
// - The scheduler (daemon/scheduler.cpp) calls track() with the configured streams at start
//   and after each reload, and the stream cycle calls run_started()/run_finished() around each
//   run. run_finished() derives the state from the failure with state_after() — so the
//   simplest way for a source or sink to put a stream in a state is to fail the run with the
//   right code:
//     errc::quota_exhausted (+ failure::retry_after = time until the quota resets) → paused,
//       until = now + retry_after (e.g. Marketo 607: until 00:00 US Central);
//     errc::schema_drift → drift;  errc::auth_rejected → auth_failed;
//     errc::cancelled (SIGTERM, reload) → the state before the run;  anything else → failing.
// - Code that learns a state outside a run (a periodic describe that finds drift, a quota
//   reading that shows the daily allowance spent) calls set() directly:
//     observability::health().set("contacts", stream_state::drift,
//                                 "Contact.City_A__c no longer exists", now);
//     observability::health().set("contacts", stream_state::paused, "Marketo daily quota spent",
//                                 now, reset_time);
//   A later successful run_finished() returns the stream to ok.
// - set_watermark() records the stream's committed position, for crmsync_watermark_lag_seconds.
//
// Streams not tracked are ignored by every setter, so a late call for a stream a reload
// removed changes nothing. Thread-safe.

#include "crmsync/core/error.hpp"
#include "crmsync/core/timestamp.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::observability {

enum class stream_state { ok, running, paused, drift, auth_failed, failing };

std::string_view to_string(stream_state s) noexcept;
// ok and running.
bool healthy(stream_state s) noexcept;

// Pure: the state a run that ended with `f` leaves its stream in (see the table above);
// `before` is the state when the run started, kept on cancellation.
stream_state state_after(const failure& f, stream_state before) noexcept;

struct stream_health {
    std::string stream;
    stream_state state = stream_state::ok;
    bool running = false;
    std::string reason;               // why it is not ok; empty when ok
    std::optional<sys_ms> until;      // paused: when the quota is expected back
    std::optional<sys_ms> since;      // when the state last changed
    std::optional<sys_ms> last_run;   // when the last run finished
    std::optional<sys_ms> watermark;  // SystemModstamp of the committed watermark
    int consecutive_failures = 0;     // runs in a row that did not end ok (cancelled aside)
};

class health_registry {
public:
    // From now on exactly these streams: new ones start ok (waiting for their first run),
    // removed ones are forgotten, the others keep their state.
    void track(const std::vector<std::string>& streams);

    void run_started(std::string_view stream);
    // `f` null: the run succeeded.
    void run_finished(std::string_view stream, const failure* f, sys_ms now);
    void set(std::string_view stream,
             stream_state state,
             std::string reason,
             sys_ms now,
             std::optional<sys_ms> until = std::nullopt);
    void set_watermark(std::string_view stream, sys_ms modstamp);

    // Every tracked stream, sorted by name; the displayed state is `running` for an ok stream
    // with a run in flight.
    std::vector<stream_health> snapshot() const;
    // One tracked stream as snapshot() shows it; nothing when it is not tracked.
    std::optional<stream_health> find(std::string_view stream) const;
    // Every tracked stream healthy (true when none is tracked).
    bool ready() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, stream_health, std::less<>> streams_;
};

// The process-wide registry the daemon sets and the admin server reads. Its first use also
// registers a collector that publishes it in metrics() (collect_health, at scrape time).
health_registry& health();

class registry;
// Sets, from `h` as of `now`: crmsync_stream_state{stream,state} (1 for the current state, 0
// for the others), crmsync_stream_healthy{stream}, crmsync_stream_running{stream},
// crmsync_stream_paused_until_timestamp_seconds{stream} and, for streams with a watermark,
// crmsync_watermark_timestamp_seconds{stream} and crmsync_watermark_lag_seconds{stream}
// (now - watermark: how far behind the CRM the destination is). Streams a reload removed
// disappear from these gauges.
void collect_health(const health_registry& h, registry& into, sys_ms now);

}  // namespace crmsync::observability
