#pragma once
// One catch-up cycle of one stream (STYLE.md "Data flow"): read every change in the window
// [watermark - overlap, now - settle) page by page in (SystemModstamp, Id) order, map each
// record, skip those whose payload digest is unchanged, push the rest in batches, and commit
// each acknowledged batch — watermark, digests, error-log rows — in one SQLite transaction.
// A failure leaves the watermark at the last committed batch: nothing is lost, at most the
// batch in flight is sent again (SPEC §4).

#include "crmsync/core/clock.hpp"
#include "crmsync/core/error.hpp"
#include "crmsync/core/hash.hpp"
#include "crmsync/daemon/runtime.hpp"
#include "crmsync/state/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crmsync::daemon {

struct cycle_summary {
    std::int64_t run_id = 0;
    std::int64_t read = 0, created = 0, updated = 0, unchanged = 0, rejected = 0, skipped = 0;
    std::int64_t deleted = 0;  // deletes: delete — records removed from the destination
    std::int64_t pages = 0, batches = 0;
    std::optional<state::watermark> watermark;
};

struct cycle_control {
    // Set by SIGTERM/SIGINT: the cycle stops between batches, after its last commit.
    const std::atomic<bool>* stopping = nullptr;
};

// Pure: the SOQL window for a watermark (none: the initial load reads everything).
struct window {
    std::optional<timestamp> from;
    timestamp before;
};
window compute_window(const std::optional<state::watermark>& wm,
                      std::chrono::milliseconds overlap,
                      std::chrono::milliseconds settle,
                      sys_ms now);

// Pure: a destination key as the pipeline compares the keys of batches in flight (a batch
// waits while one of its keys is being written): 64 bits of FNV-1a over its bytes in lower
// case, since Marketo matches string keys (an email) without regard to case. Keys that hash
// alike only make a batch wait for the other's answer, never send out of order.
std::uint64_t key_hash(std::string_view key) noexcept;

// Pure: what the state keeps per record to recognise it unchanged: the digest of its mapped
// payload, or, when the mapping rejected it (no payload exists), of its source values.
digest fingerprint(const record& r, const mapping::map_result& mapped);

// Pure: under deletes: flag, what a deleted record becomes — the payload {key, flag value} the
// flag sink sends, and the digest stored for it; under deletes: delete, the payload {key} whose
// person is removed. Nullopt when the record has no key (no
// person to address).
struct flag_mark {
    payload p;
    digest d;
};
std::optional<flag_mark> deletion_mark(const stream_runtime& s, const record& r);

// Runs the cycle and logs its summary line. The failure, if any, is the first one that stopped
// the cycle (after retries), with context.
boost::asio::awaitable<result<cycle_summary>> run_cycle(stream_runtime& s,
                                                        state::store& store,
                                                        const clock_fn& now,
                                                        cycle_control control = {});

}  // namespace crmsync::daemon
