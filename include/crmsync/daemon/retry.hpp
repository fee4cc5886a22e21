#pragma once
// `crmsync errors retry` (SPEC §2): the records behind error-log entries are read again from the
// CRM by Id (queryAll, in chunks that keep each URI short: soql::by_ids_chunked), mapped with
// today's plan and pushed, whatever digest the state holds — the point is to send again what an
// admin fixed (a mapping, a duplicate in Marketo, a permission). Each outcome is committed like a
// cycle's batch, without moving the watermark: delivered → the entry goes and the digest is
// stored; rejected again → the entry is updated (code, message, attempts + 1). A record deleted
// in the CRM, or gone altogether, is reported and its entry left for `errors purge`. A record the
// mapping now skips (skip_if) is no longer a rejection: its entry goes. Mapping and preflight
// (the destination's describe, as the cycle checks it) run before anything is sent.

#include "crmsync/core/clock.hpp"
#include "crmsync/core/error.hpp"
#include "crmsync/core/outcome.hpp"
#include "crmsync/daemon/runtime.hpp"
#include "crmsync/state/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::daemon {

enum class retry_result {
    delivered,  // the destination accepted it; the entry is gone
    rejected,   // rejected again (by the mapping or the destination); the entry is updated
    deleted,    // deleted in the CRM (in its recycle bin); the entry stays
    not_found,  // the CRM has no such record (purged, or not visible to the integration user)
    skipped,    // today's mapping skips it (skip_if); the entry is gone
};

std::string_view to_string(retry_result r) noexcept;

struct retried_record {
    std::int64_t error_id = 0;  // the entry retried
    std::string record_id;
    retry_result result = retry_result::delivered;
    std::optional<rejected> rejection;  // rejected: the new code and message
    int attempts = 0;                   // rejected: the entry's attempts now
};

// Retries these entries of one stream (`s` built from today's configuration). Outcomes come
// back in the order of `entries`. A failure (the CRM or the destination unreachable after the
// retry budget, refused credentials) ends the retry; what was committed before it stays.
boost::asio::awaitable<result<std::vector<retried_record>>> retry_errors(
    stream_runtime& s,
    state::store& store,
    const std::vector<state::error_entry>& entries,
    const clock_fn& now);

}  // namespace crmsync::daemon
