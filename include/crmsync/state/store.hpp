#pragma once
// crmsync's durable state in one SQLite file (WAL): watermarks per stream, the digest of the
// last payload per record, the error log of rejected records, run history, each
// destination's daily API quota as counted, and each source's daily API use as reported.
//
// The rule that makes SPEC §4 "No change is lost" hold: commit_batch() writes the new
// watermark, the digests of what was delivered, and the error-log rows of what was rejected
// in ONE transaction, called only after the destination acknowledged the batch.
//
// Threading: a store belongs to one thread (the daemon's io thread); it holds one SQLite
// connection opened without SQLite's own mutex. Other processes (`crmsync status`, `errors`,
// `watermark`) open their own store on the same file: WAL lets them read while the daemon
// writes, and busy_timeout makes concurrent writers wait for each other instead of failing.
// Every function reports failures as errc::state_failed values; none throws.

#include "crmsync/core/clock.hpp"
#include "crmsync/core/error.hpp"
#include "crmsync/core/hash.hpp"
#include "crmsync/core/outcome.hpp"
#include "crmsync/core/timestamp.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::state {

// The position of a stream in the CRM's change order: (SystemModstamp, Id).
struct watermark {
    timestamp modstamp;
    std::string id;

    friend auto operator<=>(const watermark&, const watermark&) = default;
};

struct delivered_record {
    std::string record_id;
    digest payload_digest;
};

struct rejection {
    std::string record_id;
    crmsync::category category = category::other;
    std::string code;
    std::string message;
    std::string payload_json;  // what was (or would have been) sent
    digest payload_digest{};   // so an unchanged rejected record is not sent again
};

struct batch_commit {
    std::string stream;
    std::optional<watermark> new_watermark;   // absent: leave the watermark as it is
    std::vector<delivered_record> delivered;  // also clears their open error-log rows
    std::vector<rejection> rejected;
    // Error-log entries closed without a delivery: `errors retry` found that today's mapping
    // skips the record, so it is no longer a rejection. Digests are left as they are.
    std::vector<std::string> resolved;
    std::int64_t run_id = 0;
    std::int64_t created = 0, updated = 0, unchanged = 0;
    // Where the run that read this batch found the watermark (load_watermark at its start,
    // then its own commits). When set and the stored watermark differs, an operator moved it
    // (`watermark set/reset`) during the run: the deliveries are still recorded, but the
    // watermark stays where the operator put it instead of being carried forward again.
    std::optional<std::optional<watermark>> read_from;
};

enum class commit_effect { applied, watermark_superseded };

struct error_entry {
    std::int64_t id = 0;
    std::string stream;
    std::string record_id;
    crmsync::category category = category::other;
    std::string code;
    std::string message;
    std::string payload_json;
    timestamp first_seen;
    timestamp last_seen;
    int attempts = 0;
};

struct error_filter {
    std::optional<std::string> stream;
    std::optional<crmsync::category> category;
    std::optional<timestamp> since;
    std::vector<std::int64_t> ids;  // empty: any id
    std::size_t limit = 1000;       // 0: no limit
};

struct run_entry {
    std::int64_t id = 0;
    std::string stream;
    timestamp started;
    std::optional<timestamp> finished;
    std::string status;  // running | ok | failed | paused | cancelled
    std::int64_t read = 0, created = 0, updated = 0, unchanged = 0, rejected = 0;
    std::string error;
};

struct run_counts {
    std::int64_t read = 0, created = 0, updated = 0, unchanged = 0, rejected = 0;
};

struct stream_status {
    std::string stream;
    std::optional<state::watermark> watermark;  // qualified: the member hides the type
    std::optional<run_entry> last_run;
    std::int64_t synced_total = 0;  // created + updated over all runs
    std::int64_t unchanged_total = 0;
    std::map<std::string, std::int64_t> open_errors_by_category;  // categories with open errors
};

// A destination's daily API quota as counted (migrations/0002): its current quota day.
struct quota_day {
    std::string destination;
    std::string day;  // the US Central date the quota day is, "2026-12-01"
    std::int64_t calls = 0;
    std::optional<timestamp> spent_until;  // no call before this (Marketo 607 or the limit)
};

// A Salesforce source's daily API use as the org reported it (migrations/0003): `origin` is
// "sforce_limit_info" (the header of the last API response a run saw) or "limits" (the
// DailyApiRequests read of /limits at the start, used = Max - Remaining).
struct api_usage_reading {
    std::string source;
    std::string origin;
    std::int64_t used = 0;
    std::int64_t max = 0;
    timestamp read_at;
};

enum class quota_change {
    add,    // calls += n (n < 0 gives reserved calls back; never below zero)
    raise,  // calls = max(calls, n): the destination's own, higher count
    spent,  // no call until `spent_until`
};

class store {
public:
    // Opens (creating if needed) the database, sets and verifies the PRAGMAs, applies pending
    // migrations (compiled into the binary from migrations/*.sql), each in one transaction with
    // its version row. errc::state_failed if the file cannot be opened or written, or if its
    // schema version is newer than this binary knows.
    static result<std::unique_ptr<store>> open(const std::filesystem::path& path);
    // The same, with the clock that stamps what the store records on its own (error-log
    // first/last seen, digest and watermark update times, migrations' applied_at).
    static result<std::unique_ptr<store>> open(const std::filesystem::path& path, clock_fn clock);
    ~store();

    int schema_version() const;

    result<std::optional<watermark>> load_watermark(std::string_view stream);
    result<void> set_watermark(std::string_view stream, const std::optional<watermark>& wm);

    // Digests of the last payload handled for each of these record ids (delivered or
    // rejected); ids never seen are absent from the map.
    result<std::map<std::string, digest>> load_digests(std::string_view stream,
                                                       const std::vector<std::string>& ids);
    // Forget the digests (errors retry, watermark reset): those records are sent again.
    result<void> forget_digests(std::string_view stream, const std::vector<std::string>& ids);
    result<void> forget_all_digests(std::string_view stream);

    // Never moves the watermark backwards (set_watermark can).
    result<commit_effect> commit_batch(const batch_commit& batch);

    result<std::int64_t> begin_run(std::string_view stream, timestamp now);
    result<void> finish_run(std::int64_t run_id,
                            timestamp now,
                            std::string_view status,
                            const run_counts& counts,
                            std::string_view error);
    // Drops all but the newest `keep` runs of a stream; returns how many went. Run history is
    // for `status` and audits, so a daemon polling every minute must not grow it forever.
    result<std::int64_t> trim_runs(std::string_view stream, std::int64_t keep);

    // Newest (last_seen) first.
    result<std::vector<error_entry>> list_errors(const error_filter& f);
    result<std::optional<error_entry>> get_error(std::int64_t id);
    // Deletes entries last seen before `before`; returns how many.
    result<std::int64_t> purge_errors(timestamp before);

    // Changes a destination's count for quota day `day` and returns the day's row after it. A
    // day later than the stored one starts from zero; an earlier one changes nothing (a process
    // whose day is over) and returns an empty row of that day.
    result<quota_day> update_quota(std::string_view destination,
                                   std::string_view day,
                                   quota_change change,
                                   std::int64_t calls,
                                   std::optional<timestamp> spent_until = std::nullopt);
    // The stored row (any day), for `status`.
    result<std::optional<quota_day>> load_quota(std::string_view destination);

    // Stores a reading unless the stored one of the same source and origin is newer.
    result<void> record_api_usage(const api_usage_reading& reading);
    // The stored readings of a source, sforce_limit_info before limits; empty when none.
    result<std::vector<api_usage_reading>> load_api_usage(std::string_view source);

    // One entry per named stream, in the given order, read from one consistent snapshot.
    result<std::vector<stream_status>> status(const std::vector<std::string>& streams);

private:
    struct impl;
    explicit store(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace crmsync::state
