#pragma once
// The connection settings every state connection runs with (STYLE.md rule 11): each PRAGMA is
// set, read back and checked, and src/state/pragmas.cpp says why it has its value.

#include "crmsync/core/error.hpp"
#include "crmsync/state/sqlite.hpp"

#include <cstdint>

namespace crmsync::state {

// CLI commands and the daemon share the file; a writer waits this long for another's
// transaction (each is one batch: milliseconds) before giving up with SQLITE_BUSY.
inline constexpr std::int64_t busy_timeout_ms = 5000;

// busy_timeout=5000, journal_mode=WAL, synchronous=FULL, foreign_keys=ON; errc::state_failed
// naming the PRAGMA if SQLite refused or kept another value (WAL in a read-only directory).
[[nodiscard]] result<void> apply_pragmas(sqlite::connection& db);

}  // namespace crmsync::state
