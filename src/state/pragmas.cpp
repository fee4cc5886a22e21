#include "crmsync/state/pragmas.hpp"

#include "crmsync/core/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace crmsync::state {

// Every PRAGMA is set, then read back: SQLite ignores an unknown or inapplicable PRAGMA
// silently, and each of these is a durability or correctness promise (STYLE.md rule 11).
result<void> apply_pragmas(sqlite::connection& db) {
    // First, so that even the switch to WAL below waits for another process's lock instead of
    // failing at once: `crmsync status` and the daemon open the same file.
    if (auto r =
            db.exec("set busy_timeout", fmt::format("PRAGMA busy_timeout = {}", busy_timeout_ms));
        !r) {
        return r.error();
    }
    auto timeout = db.pragma_int("busy_timeout");
    if (!timeout)
        return timeout.error();
    if (*timeout != busy_timeout_ms) {
        return make_failure(
            errc::state_failed,
            fmt::format("busy_timeout is {} ms, expected {}", *timeout, busy_timeout_ms));
    }

    // WAL: readers (`crmsync status`, `errors list` while the daemon runs) never block the
    // writer and the writer never blocks them; a commit is one append to the -wal file. It is
    // persistent in the file, but setting it on every open costs nothing and repairs a file
    // someone switched back. It needs the directory writable (-wal and -shm files) and a local
    // filesystem (shared memory), so when SQLite keeps another mode we stop with that reason.
    auto mode = db.pragma_text("journal_mode = WAL");
    if (!mode)
        return mode.error();
    const std::string got = to_lower_ascii(*mode);
    if (got != "wal") {
        return make_failure(errc::state_failed,
                            fmt::format("journal_mode stayed '{}' instead of 'wal': WAL needs the "
                                        "directory to be writable (for the -wal and -shm files) "
                                        "and a local filesystem",
                                        got));
    }

    // FULL, not NORMAL. kill -9 (SPEC §4) is safe either way: in WAL mode a commit is in the
    // OS page cache before COMMIT returns. The difference is power loss or a kernel crash:
    // NORMAL skips the fsync at commit, so the file can come back without its last commits.
    // One transaction per batch means it comes back consistent (the watermark, digests and
    // error-log rows of a batch go back together, and re-reading re-sends idempotent upserts),
    // but what was already reported would silently be undone: error ids already printed in
    // log lines (`errors show ID`), and an operator's acknowledged `watermark set`, `errors
    // purge` or `errors retry`. FULL costs one fsync per batch, nothing next to an API call.
    if (auto r = db.exec("set synchronous", "PRAGMA synchronous = FULL"); !r)
        return r.error();
    auto sync = db.pragma_int("synchronous");
    if (!sync)
        return sync.error();
    if (*sync != 2) {
        return make_failure(errc::state_failed,
                            fmt::format("synchronous is {}, expected 2 (FULL)", *sync));
    }

    // Off by default in SQLite, per connection: without it error_log.run_id may point nowhere.
    if (auto r = db.exec("set foreign_keys", "PRAGMA foreign_keys = ON"); !r)
        return r.error();
    auto fk = db.pragma_int("foreign_keys");
    if (!fk)
        return fk.error();
    if (*fk != 1) {
        return make_failure(errc::state_failed,
                            fmt::format("foreign_keys is {}, expected 1 (ON)", *fk));
    }
    return {};
}

}  // namespace crmsync::state
