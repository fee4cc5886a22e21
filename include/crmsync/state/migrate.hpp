#pragma once
// Schema migrations (SPEC §5, STYLE.md rule 11): numbered SQL files from migrations/, embedded
// into the binary at build time (src/state/embed_migrations.cmake), applied in order, each in ONE
// transaction together with its row in schema_migrations.

#include "crmsync/core/error.hpp"
#include "crmsync/core/timestamp.hpp"
#include "crmsync/state/sqlite.hpp"

#include <span>
#include <string_view>

namespace crmsync::state {

struct migration {
    int version;            // 1, 2, 3... from the file name's NNNN
    std::string_view name;  // the rest of the file name: "init" for 0001_init.sql
    std::string_view sql;
};

// migrations/*.sql in version order, versions 1..N without gaps (the build checks).
std::span<const migration> embedded_migrations() noexcept;

// Applies every migration of `all` newer than the database's version, oldest first; returns the
// database's version afterwards. Each step re-reads the version under BEGIN IMMEDIATE, so two
// processes starting at once apply each migration exactly once. A database whose version is
// newer than the last of `all` is refused with errc::state_failed and left untouched.
// `applied_at` is recorded in schema_migrations (ISO-8601, for operators).
[[nodiscard]] result<int> migrate(sqlite::connection& db,
                                  std::span<const migration> all,
                                  timestamp applied_at);

// The version recorded in schema_migrations (0 for a new database).
[[nodiscard]] result<int> schema_version(sqlite::connection& db);

}  // namespace crmsync::state
