#pragma once
// Named telemetry events (STYLE.md rule 6): one struct per event, one emit() that writes the
// log line and increments the event's metrics (metrics.hpp), so the names and fields of a kind
// of line, and the counters that go with it, are decided in one place. A new event adds its
// metrics in events.cpp next to its log line, and its rows to docs/operations.md.

#include "crmsync/core/error.hpp"
#include "crmsync/core/outcome.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace crmsync::observability {

struct batch_sent {
    std::string stream;
    std::string object;
    std::int64_t batch_id = 0;
    std::size_t sent = 0, created = 0, updated = 0, rejected = 0;
    std::int64_t duration_ms = 0;  // from handing the batch over to its commit
    // The position the batch's commit moved the watermark to (SystemModstamp, Id).
    std::string watermark;
    std::string watermark_id;
};

struct record_rejected {
    std::string stream;
    std::string object;
    std::string record_id;
    category cat = category::other;
    std::string code;
    std::string message;
    bool preflight = false;  // rejected by our own checks before any API call
};

// One `errors retry` of one stream's entries, after its last commit.
struct errors_retried {
    std::string stream;
    std::string object;
    std::size_t retried = 0, delivered = 0, rejected = 0, deleted = 0, not_found = 0, skipped = 0;
    std::int64_t duration_ms = 0;
};

struct stream_run_finished {
    std::string stream;
    std::string object;
    std::int64_t run_id = 0;
    std::string status;  // ok | failed | paused | cancelled
    std::int64_t read = 0, created = 0, updated = 0, unchanged = 0, rejected = 0, skipped = 0;
    std::int64_t deleted = 0;  // removed from the destination (deletes: delete); logged when > 0
    std::int64_t pages = 0, batches = 0;
    std::int64_t duration_ms = 0;
    std::string watermark;  // ISO-8601, empty when none
    std::string error;
    // The source org's daily API use as "used/limit" (SPEC §4 api_budget); empty when not known
    // yet, and the field is then left out of the line.
    std::string api_usage;
    // floor(limit * api_budget): the requests this source may use of that limit (with api_usage).
    std::int64_t api_budget_calls = 0;
};

struct api_call_failed {
    std::string stream;
    std::string system;  // salesforce | marketo | sfmc
    int attempt = 0;
    std::int64_t retry_in_ms = 0;
    failure what;
};

struct stream_failed {
    std::string stream;
    std::string object;
    failure what;
};

// `watermark set/reset` ran while this stream was reading: the run ends early and the next
// one starts from the operator's point.
struct watermark_superseded {
    std::string stream;
    std::string object;
};

// Salesforce no longer knew the query's cursor (400 INVALID_QUERY_LOCATOR on a nextRecordsUrl:
// locators expire, and the retry of a page whose answer was lost meets a released one). The
// run sent and committed what it had read and queries again from its committed watermark
// (warn line; crmsync_query_restarts_total).
struct query_restarted {
    std::string stream;
    std::string object;
    std::string from;  // ISO-8601 watermark the new query reads behind; empty: from the start
    int restart = 0;   // 1 for the first restart of this run
    failure what;
};

// An initial load past source.bulk_threshold goes through a Bulk API 2.0 query job (info line;
// crmsync_bulk_loads_total). `records`: the window's size as the first REST page counted it.
struct bulk_load_started {
    std::string stream;
    std::string object;
    std::string job_id;
    long records = 0;
    // Jobs a create whose answer was lost left behind, aborted (logged when any).
    std::vector<std::string> duplicates_aborted;
};

// A stream read its destination object's describe (for preflight and drift checks). Logged at
// warn when required destination fields are not mapped: preflight then rejects every record.
struct destination_described {
    std::string stream;
    std::string object;  // the destination object (lead, custom:<apiName>, ...)
    std::size_t fields = 0;
    std::vector<std::string> unmapped_required;
};

// The describe failed after retries; the stream goes on with the last one read (have_older) or
// without preflight, and tries again next cycle.
struct destination_describe_failed {
    std::string stream;
    std::string object;
    bool have_older = false;
    failure what;
};

// One HTTP exchange with a source or destination, answered or not (debug line; counts
// crmsync_api_calls_total and crmsync_api_call_duration_seconds). Never carries the URL: a
// query string may hold what the caller did not mean to publish.
struct api_call {
    std::string system;    // salesforce | marketo | sfmc
    std::string instance;  // the source or destination name in the configuration
    std::string method;    // GET, POST
    unsigned status = 0;   // HTTP status; 0 when no response arrived
    std::string error;     // failure message when no response arrived
    std::int64_t duration_ms = 0;
};

// What a system reports of its daily quota (debug line; sets crmsync_api_quota_limit_calls and
// crmsync_api_quota_remaining_calls). `limit` is what crmsync may use: for Salesforce the
// api_budget share of the org's allocation, for Marketo the daily quota of the instance.
// Salesforce: emitted by the daemon from every Sforce-Limit-Info header. Marketo: emit it
// wherever the daily quota is read or counted (stats/usage, the persisted counter).
struct api_quota {
    std::string system;
    std::string instance;
    std::int64_t used = 0;
    std::int64_t limit = 0;
};

// One request to the admin endpoint (debug line; crmsync_admin_requests_total). `path` is one
// of /healthz, /readyz, /metrics, or "other", so a scanner cannot grow the label set.
struct admin_request {
    std::string path;
    unsigned status = 0;
};

// A connection to the admin endpoint closed on accept because max_connections were open
// (debug line, so a flood cannot flood the journal too; crmsync_admin_connections_refused_total).
struct admin_connection_refused {
    std::size_t open = 0;
};

// SIGHUP: the daemon reads its configuration again (info line).
struct reload_requested {};

// One problem that made a reload refuse the new configuration (error line, one per problem);
// `problem` is "file:line:column: message", as `crmsync validate` prints it.
struct config_problem {
    std::string problem;
};

// The new configuration was invalid: the daemon keeps running the old one (error line, after
// the config_problem lines; crmsync_config_reloads_total{result="refused"}).
struct config_reload_refused {
    std::string file;
    std::size_t problems = 0;
};

// The new configuration was valid; it applies once every cycle in flight has finished, so no
// cycle is interrupted (info line).
struct config_reload_accepted {
    std::size_t cycles_in_flight = 0;
};

// The new configuration is running: streams scheduled from it (info line;
// crmsync_config_reloads_total{result="applied"}).
struct config_reloaded {
    std::vector<std::string> streams, added, removed;
};

// Declares every metric the events write, so /metrics lists each (HELP and TYPE) from the
// start, before its first event.
void declare_event_metrics();

// A Marketing Cloud async write could not be read row by row (the request failed as a whole,
// or its results do not line up with the rows sent): the batch goes again through the rowset
// call, which isolates each bad row. Upserts are idempotent, so nothing is written twice.
struct async_write_resent {
    std::string stream;
    std::string object;
    std::string request_id;  // empty when the request was refused before it was queued
    std::string reason;
};

// A mapped field vanished or has a type the mapping cannot use (SPEC §4): the stream stops
// until a reload or restart. One line per stop, naming the first finding.
struct schema_drift_detected {
    std::string stream;
    std::string object;  // holding the field: the stream's, a parent's, the destination's
    std::string field;
    std::string side;  // source | destination
    std::string error;
};

// The stream's source object (and its relationship parents) described for the drift check
// (debug line; counts crmsync_source_describes_total{result="ok"}).
struct source_described {
    std::string stream;
    std::string object;
    std::size_t fields = 0;
};

// A source describe failed after retries: this run goes without the drift check and the next
// one describes again.
struct source_describe_failed {
    std::string stream;
    std::string object;
    failure what;
};

// A stream stopped on a spent quota until it comes back: Marketo's daily quota (607, or
// crmsync's own count reaching limits.daily_calls; back at midnight US Central time) or the
// source's api_budget. One warn line; the stream's health is `paused` until then, and the
// scheduler runs it next when the failure's retry_after says the quota is back.
struct stream_paused {
    std::string stream;
    std::string object;
    std::string until;  // ISO-8601 UTC; empty when not known
    failure what;
};

// A stream whose last run ended paused on a spent quota (the source's api_budget, a
// destination's daily quota) completed a run again: the quota came back by itself (info line;
// crmsync_stream_resumes_total). Its health is back to ok.
struct stream_resumed {
    std::string stream;
    std::string object;
    std::string paused_since;  // ISO-8601 UTC, when the pause began; empty when not known
    std::string api_usage;     // the source org's "used/limit" now; empty when not known
};

// The destination's own count of the day's API calls (Marketo stats/usage) could not be read:
// until it can (the next quota day), the daily quota counts crmsync's calls only (warn line).
struct quota_usage_unread {
    std::string system;
    std::string instance;
    failure what;
};

void emit(const batch_sent& e);
void emit(const record_rejected& e);
void emit(const errors_retried& e);
void emit(const stream_run_finished& e);
void emit(const api_call_failed& e);
void emit(const stream_failed& e);
void emit(const watermark_superseded& e);
void emit(const query_restarted& e);
void emit(const bulk_load_started& e);
void emit(const api_call& e);
void emit(const api_quota& e);
void emit(const destination_described& e);
void emit(const destination_describe_failed& e);
void emit(const admin_request& e);
void emit(const admin_connection_refused& e);
void emit(const async_write_resent& e);
void emit(const stream_paused& e);
void emit(const stream_resumed& e);
void emit(const quota_usage_unread& e);
void emit(const schema_drift_detected& e);
void emit(const source_describe_failed& e);
void emit(const source_described& e);
void emit(const reload_requested& e);
void emit(const config_problem& e);
void emit(const config_reload_refused& e);
void emit(const config_reload_accepted& e);
void emit(const config_reloaded& e);

}  // namespace crmsync::observability
