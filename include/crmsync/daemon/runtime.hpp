#pragma once
// Everything a running configuration needs, built once from it: one HTTP client per system
// (each may have its own CA file), one Salesforce client per source, one Marketo or Marketing
// Cloud session per destination (token and call window are per instance or business unit), and
// per stream its compiled plan, column set and sink.

#include "crmsync/config/model.hpp"
#include "crmsync/core/clock.hpp"
#include "crmsync/daemon/destination_schema.hpp"
#include "crmsync/http/client.hpp"
#include "crmsync/http/disposition.hpp"
#include "crmsync/mapping/plan.hpp"
#include "crmsync/sink/marketo/sink.hpp"
#include "crmsync/sink/schema.hpp"
#include "crmsync/sink/sfmc/sink.hpp"
#include "crmsync/sink/sink.hpp"
#include "crmsync/source/salesforce/client.hpp"
#include "crmsync/state/store.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace crmsync::daemon {

// Knobs that are not configuration: tests shorten the backoff and inject the clock.
struct options {
    http::backoff_policy backoff;
    clock_fn now = system_now;
    // Caps every HTTP call's timeout (zero: each call keeps its own, up to minutes), so the
    // fault-injection tests can hang a fake past the deadline without waiting minutes.
    std::chrono::milliseconds http_timeout_cap{0};
};

struct compiled_stream {
    config::stream cfg;
    std::shared_ptr<const mapping::plan> plan;
};

// The source describes a stream was last checked against (SPEC §4 "Schema drift is caught"):
// taken before its first cycle and again every source.describe_every (daemon/schema_watch.hpp).
// The destination's describe is dest_schema, shared with preflight.
struct source_schema {
    std::optional<source::salesforce::object_describe> object;
    // Objects behind relationship paths (Account for Account.Name), by name.
    std::map<std::string, source::salesforce::object_describe> parents;
    std::optional<sys_ms> at;  // when they were taken (the runtime's clock)
};

struct stream_runtime {
    const config::stream* cfg = nullptr;
    std::shared_ptr<const mapping::plan> plan;
    source::salesforce::client* source = nullptr;
    std::unique_ptr<sink::sink> sink;
    // deletes: flag — the same destination, but payloads of {key, flag field} sent updateOnly,
    // so marking a deleted record can never create a person. Null for other modes.
    std::unique_ptr<sink::sink> flag_sink;
    std::size_t key_column = 0;  // index of destination.key.source in plan->source_columns()
    // source.converted (Lead streams): IsConverted and ConvertedContactId are read after the
    // plan's columns, at converted_column and converted_column + 1 (see read_columns).
    std::size_t converted_column = 0;
    // follow_contact — the same destination, with the key and the lead's fields no Contact
    // stream into that object writes (follow_fields: their indices in the lead's payload);
    // a converted lead's carried payload goes through push_rekeyed. Null for other modes.
    std::unique_ptr<sink::sink> follow_sink;
    std::vector<std::size_t> follow_fields;
    // Batches sent and not yet committed, at most (destination limits.batches_in_flight).
    std::size_t batches_in_flight = 1;
    std::unique_ptr<source::salesforce::column_set> columns;
    // The destination object's describe and the preflight checks built from it.
    destination_schema dest_schema;
    source_schema src_schema;
    // Set when schema drift stopped the stream: every later cycle returns it at once, without
    // a line or an API call, until a reload or restart builds a new runtime.
    std::optional<failure> stopped;
    // Set while a cycle runs: closes its run as `cancelled` (run row and summary line, with the
    // counts so far) when the daemon stops before the cycle could — the SIGTERM grace ended and
    // the batch in flight is abandoned, uncommitted. Only ever called on the io thread.
    std::function<void()> abandon_run;
};

// The fields a stream's query selects: the plan's source columns, then the ones the daemon
// reads itself (lead conversion), so record columns keep the plan's indices.
std::vector<std::string> read_columns(const config::stream& s, const mapping::plan& plan);

class runtime {
public:
    // errc::config_invalid for a combination this build cannot run yet (named in the detail).
    static result<std::unique_ptr<runtime>> build(boost::asio::any_io_executor ex,
                                                  const config::config& cfg,
                                                  std::vector<compiled_stream> streams,
                                                  const options& opts);

    std::vector<stream_runtime>& streams() noexcept { return streams_; }
    stream_runtime* find(std::string_view name);
    // Counts every Marketo destination's daily quota in `store` (migrations/0002) from now on,
    // so the count survives restarts and `status` shows a spent quota. `store` must outlive the
    // runtime (the last reservation is given back when the runtime ends).
    void count_quota_in(state::store& store);
    const options& opts() const noexcept { return opts_; }

private:
    runtime() = default;
    // Every system's client: one per source and destination, each with its own CA file.
    http::client& make_http_client(boost::asio::any_io_executor ex, const std::string& ca_file);

    options opts_;
    std::mt19937_64 rng_{std::random_device{}()};
    std::vector<std::unique_ptr<http::client>> http_clients_;
    // Before the sessions: a session gives its unused quota reservation back when it ends.
    std::vector<std::unique_ptr<sink::marketo::quota_ledger>> ledgers_;
    std::map<std::string, std::unique_ptr<source::salesforce::client>> sources_;
    std::map<std::string, std::unique_ptr<sink::marketo::session>> sessions_;
    std::map<std::string, std::unique_ptr<sink::sfmc::session>> sfmc_sessions_;
    std::vector<compiled_stream> compiled_;
    std::vector<stream_runtime> streams_;
};

}  // namespace crmsync::daemon
