#include "crmsync/observability/events.hpp"

#include "crmsync/observability/health.hpp"
#include "crmsync/observability/log.hpp"
#include "crmsync/observability/metrics.hpp"

#include <algorithm>

namespace crmsync::observability {
namespace {

using json = nlohmann::json;

// Every metric an event writes, declared once. The names, types and labels here are the ones
// docs/operations.md lists; label values come from bounded sets only (configured names,
// categories, vendor codes, statuses).
struct event_metrics {
    event_metrics() { reload_ok.with({}).set(1); }  // nothing refused yet

    registry& r = metrics();
    counter_family& read =
        r.counters("crmsync_records_read_total", "Records read from the source.", {"stream"});
    counter_family& sent = r.counters("crmsync_records_sent_total",
                                      "Records sent to the destination (in acknowledged batches).",
                                      {"stream"});
    counter_family& delivered =
        r.counters("crmsync_records_delivered_total",
                   "Records the destination accepted, by result (created or updated).",
                   {"stream", "result"});
    counter_family& unchanged =
        r.counters("crmsync_records_unchanged_total",
                   "Records not sent because their mapped payload did not change.",
                   {"stream"});
    counter_family& skipped =
        r.counters("crmsync_records_skipped_total",
                   "Records skipped by skip_if, deletes: ignore, or a delete with nothing to mark.",
                   {"stream"});
    counter_family& rejected = r.counters(
        "crmsync_records_rejected_total",
        "Records written to the error log, by category and code (ours or the destination's).",
        {"stream", "category", "code"});
    counter_family& batches =
        r.counters("crmsync_batches_total", "Batches acknowledged and committed.", {"stream"});
    histogram_family& batch_seconds =
        r.histograms("crmsync_batch_duration_seconds",
                     "Time from sending a batch to committing it, retries included.",
                     {"stream"},
                     latency_buckets());
    counter_family& runs =
        r.counters("crmsync_stream_runs_total",
                   "Stream runs by final status (ok, failed, paused, cancelled).",
                   {"stream", "status"});
    counter_family& failures =
        r.counters("crmsync_stream_failures_total",
                   "Runs that stopped on a failure, by the state it left the stream in.",
                   {"stream", "state"});
    counter_family& retries = r.counters(
        "crmsync_api_retries_total", "API calls retried after a transient failure.", {"system"});
    counter_family& superseded =
        r.counters("crmsync_watermark_superseded_total",
                   "Runs cut short because an operator moved the watermark.",
                   {"stream"});
    counter_family& query_restarts =
        r.counters("crmsync_query_restarts_total",
                   "Queries run again from the committed watermark after Salesforce released "
                   "their cursor (INVALID_QUERY_LOCATOR).",
                   {"stream"});
    counter_family& resumes = r.counters("crmsync_stream_resumes_total",
                                         "Runs that completed after a pause on a spent quota.",
                                         {"stream"});
    counter_family& bulk_loads =
        r.counters("crmsync_bulk_loads_total",
                   "Initial loads read through a Bulk API 2.0 query job (source.bulk_threshold).",
                   {"stream"});
    counter_family& calls = r.counters(
        "crmsync_api_calls_total",
        "HTTP exchanges with a system, by status class (2xx..5xx, or error: no response).",
        {"system", "instance", "status"});
    histogram_family& call_seconds = r.histograms("crmsync_api_call_duration_seconds",
                                                  "Duration of one HTTP exchange.",
                                                  {"system"},
                                                  latency_buckets());
    gauge_family& quota_limit =
        r.gauges("crmsync_api_quota_limit_calls",
                 "Daily API calls crmsync may use (Salesforce: the api_budget share).",
                 {"system", "instance"});
    counter_family& describes =
        r.counters("crmsync_destination_describes_total",
                   "Destination describes read for preflight, by result (ok or failed).",
                   {"stream", "result"});
    counter_family& source_describes =
        r.counters("crmsync_source_describes_total",
                   "Source object describes for schema-drift checks, by result (ok or failed).",
                   {"stream", "result"});
    counter_family& drift = r.counters(
        "crmsync_schema_drift_total",
        "Streams stopped on schema drift, by the side of the field (source or destination).",
        {"stream", "side"});
    gauge_family& quota_left = r.gauges("crmsync_api_quota_remaining_calls",
                                        "Daily API calls left before the limit, as last reported.",
                                        {"system", "instance"});
    counter_family& admin_requests =
        r.counters("crmsync_admin_requests_total",
                   "Requests to the admin endpoint, by path (other: any unknown path) and status.",
                   {"path", "status"});
    counter_family& reloads =
        r.counters("crmsync_config_reloads_total",
                   "Configuration reloads (SIGHUP), by result: applied, or refused (invalid).",
                   {"result"});
    gauge_family& reload_ok =
        r.gauges("crmsync_config_last_reload_successful",
                 "1 unless the last reload was refused (the daemon runs an older configuration).");
    counter_family& admin_refused =
        r.counters("crmsync_admin_connections_refused_total",
                   "Admin connections closed at once because max_connections were open.");
};

event_metrics& m() {
    static event_metrics x;
    return x;
}

std::string status_class(unsigned status) {
    if (status < 100 || status > 599)
        return "error";
    return std::to_string(status / 100) + "xx";
}

}  // namespace

void declare_event_metrics() {
    (void)m();
}

void emit(const batch_sent& e) {
    info("Batch sent.",
         {{"stream", e.stream},
          {"object", e.object},
          {"batch_id", e.batch_id},
          {"sent", e.sent},
          {"created", e.created},
          {"updated", e.updated},
          {"rejected", e.rejected},
          {"duration_ms", e.duration_ms},
          {"watermark", e.watermark},
          {"watermark_id", e.watermark_id}});
    auto& x = m();
    x.sent.with({e.stream}).inc(static_cast<double>(e.sent));
    x.delivered.with({e.stream, "created"}).inc(static_cast<double>(e.created));
    x.delivered.with({e.stream, "updated"}).inc(static_cast<double>(e.updated));
    x.batches.with({e.stream}).inc();
    x.batch_seconds.with({e.stream}).observe(static_cast<double>(e.duration_ms) / 1000.0);
}

void emit(const record_rejected& e) {
    warn("Record rejected.",
         {{"stream", e.stream},
          {"object", e.object},
          {"record_id", e.record_id},
          {"category", to_string(e.cat)},
          {"code", e.code},
          {"preflight", e.preflight},
          {"error", e.message}});
    m().rejected.with({e.stream, std::string(to_string(e.cat)), e.code}).inc();
}

// Log only: retry runs as its own short process, which serves no metrics.
void emit(const errors_retried& e) {
    info("Error-log entries retried.",
         {{"stream", e.stream},
          {"object", e.object},
          {"retried", e.retried},
          {"delivered", e.delivered},
          {"rejected", e.rejected},
          {"deleted", e.deleted},
          {"not_found", e.not_found},
          {"skipped", e.skipped},
          {"duration_ms", e.duration_ms}});
}

void emit(const stream_run_finished& e) {
    json f = {{"stream", e.stream},
              {"object", e.object},
              {"run_id", e.run_id},
              {"status", e.status},
              {"read", e.read},
              {"created", e.created},
              {"updated", e.updated},
              {"unchanged", e.unchanged},
              {"rejected", e.rejected},
              {"skipped", e.skipped},
              {"pages", e.pages},
              {"batches", e.batches},
              {"duration_ms", e.duration_ms},
              {"watermark", e.watermark}};
    if (e.deleted != 0)
        f["deleted"] = e.deleted;
    if (!e.error.empty())
        f["error"] = e.error;
    if (!e.api_usage.empty()) {
        f["api_usage"] = e.api_usage;
        f["api_budget_calls"] = e.api_budget_calls;
    }
    log(e.status == "ok" ? level::info : level::error, "Stream run finished.", f);
    auto& x = m();
    x.read.with({e.stream}).inc(static_cast<double>(e.read));
    x.unchanged.with({e.stream}).inc(static_cast<double>(e.unchanged));
    x.skipped.with({e.stream}).inc(static_cast<double>(e.skipped));
    x.runs.with({e.stream, e.status}).inc();
}

void emit(const api_call_failed& e) {
    warn("API call failed, retrying.",
         {{"stream", e.stream},
          {"system", e.system},
          {"attempt", e.attempt},
          {"retry_in_ms", e.retry_in_ms},
          {"code", e.what.vendor_code},
          {"error", e.what.message()}});
    m().retries.with({e.system}).inc();
}

void emit(const stream_failed& e) {
    error("Stream stopped.",
          {{"stream", e.stream},
           {"object", e.object},
           {"code", e.what.vendor_code},
           {"error", e.what.message()}});
    m().failures.with({e.stream, std::string(to_string(state_after(e.what, stream_state::ok)))})
        .inc();
}

void emit(const watermark_superseded& e) {
    warn("Watermark moved by an operator during the run; the next run starts from it.",
         {{"stream", e.stream}, {"object", e.object}});
    m().superseded.with({e.stream}).inc();
}

void emit(const query_restarted& e) {
    warn("Query cursor lost; querying again from the committed watermark.",
         {{"stream", e.stream},
          {"object", e.object},
          {"from", e.from},
          {"restart", e.restart},
          {"code", e.what.vendor_code},
          {"error", e.what.message()}});
    m().query_restarts.with({e.stream}).inc();
}

void emit(const bulk_load_started& e) {
    json f = {
        {"stream", e.stream}, {"object", e.object}, {"job_id", e.job_id}, {"records", e.records}};
    if (!e.duplicates_aborted.empty())
        f["duplicates_aborted"] = e.duplicates_aborted;
    info("Initial load through a Bulk API 2.0 query job.", f);
    m().bulk_loads.with({e.stream}).inc();
}

void emit(const api_call& e) {
    json f = {{"system", e.system},
              {"instance", e.instance},
              {"method", e.method},
              {"status", e.status},
              {"duration_ms", e.duration_ms}};
    if (!e.error.empty())
        f["error"] = e.error;
    debug("API call.", f);
    auto& x = m();
    x.calls.with({e.system, e.instance, status_class(e.status)}).inc();
    x.call_seconds.with({e.system}).observe(static_cast<double>(e.duration_ms) / 1000.0);
}

void emit(const api_quota& e) {
    debug("API quota read.",
          {{"system", e.system}, {"instance", e.instance}, {"used", e.used}, {"limit", e.limit}});
    auto& x = m();
    x.quota_limit.with({e.system, e.instance}).set(static_cast<double>(e.limit));
    x.quota_left.with({e.system, e.instance})
        .set(static_cast<double>(std::max<std::int64_t>(0, e.limit - e.used)));
}

void emit(const destination_described& e) {
    json f = {{"stream", e.stream}, {"object", e.object}, {"fields", e.fields}};
    m().describes.with({e.stream, "ok"}).inc();
    if (e.unmapped_required.empty()) {
        info("Destination described.", f);
        return;
    }
    f["unmapped_required"] = e.unmapped_required;
    warn(
        "Destination described; required fields are not mapped, so preflight rejects every "
        "record.",
        f);
}

void emit(const destination_describe_failed& e) {
    m().describes.with({e.stream, "failed"}).inc();
    warn(e.have_older ? "Destination describe failed; preflight keeps the last one read."
                      : "Destination describe failed; records are sent without preflight.",
         {{"stream", e.stream},
          {"object", e.object},
          {"code", e.what.vendor_code},
          {"error", e.what.message()}});
}

void emit(const admin_request& e) {
    debug("Admin request.", {{"path", e.path}, {"status", e.status}});
    m().admin_requests.with({e.path, std::to_string(e.status)}).inc();
}

void emit(const admin_connection_refused& e) {
    debug("Admin connection refused: too many open.", {{"open", e.open}});
    m().admin_refused.with({}).inc();
}

void emit(const async_write_resent& e) {
    warn("Async write not readable row by row; resending the batch through the rowset call.",
         {{"stream", e.stream},
          {"object", e.object},
          {"request_id", e.request_id},
          {"error", e.reason}});
}

void emit(const schema_drift_detected& e) {
    m().drift.with({e.stream, e.side}).inc();
    error("Schema drift detected; stream stopped.",
          {{"stream", e.stream},
           {"object", e.object},
           {"field", e.field},
           {"side", e.side},
           {"error", e.error}});
}

void emit(const source_describe_failed& e) {
    m().source_describes.with({e.stream, "failed"}).inc();
    warn("Source describe failed; this run goes without the schema-drift check.",
         {{"stream", e.stream},
          {"object", e.object},
          {"code", e.what.vendor_code},
          {"error", e.what.message()}});
}

void emit(const source_described& e) {
    m().source_describes.with({e.stream, "ok"}).inc();
    debug("Source described.", {{"stream", e.stream}, {"object", e.object}, {"fields", e.fields}});
}

void emit(const reload_requested&) {
    info("Reloading configuration.", {{"signal", "SIGHUP"}});
}

void emit(const config_problem& e) {
    error("Configuration problem.", {{"error", e.problem}});
}

void emit(const config_reload_refused& e) {
    error("Reload refused; keeping the running configuration.",
          {{"file", e.file}, {"problems", e.problems}});
    auto& x = m();
    x.reloads.with({"refused"}).inc();
    x.reload_ok.with({}).set(0);
}

void emit(const config_reload_accepted& e) {
    info("Configuration accepted; it applies once every cycle in flight has finished.",
         {{"cycles_in_flight", e.cycles_in_flight}});
}

void emit(const config_reloaded& e) {
    info("Configuration reloaded.",
         {{"streams", e.streams}, {"added", e.added}, {"removed", e.removed}});
    auto& x = m();
    x.reloads.with({"applied"}).inc();
    x.reload_ok.with({}).set(1);
}

void emit(const stream_paused& e) {
    warn("Stream paused until its API quota comes back.",
         {{"stream", e.stream},
          {"object", e.object},
          {"until", e.until},
          {"code", e.what.vendor_code},
          {"error", e.what.message()}});
    m().failures.with({e.stream, std::string(to_string(stream_state::paused))}).inc();
}

void emit(const stream_resumed& e) {
    json f = {{"stream", e.stream}, {"object", e.object}, {"paused_since", e.paused_since}};
    if (!e.api_usage.empty())
        f["api_usage"] = e.api_usage;
    info("Stream resumed: its API quota has room again.", f);
    m().resumes.with({e.stream}).inc();
}

void emit(const quota_usage_unread& e) {
    warn("Could not read the destination's API usage; the daily quota counts crmsync's calls only.",
         {{"system", e.system},
          {"instance", e.instance},
          {"code", e.what.vendor_code},
          {"error", e.what.message()}});
}

}  // namespace crmsync::observability
