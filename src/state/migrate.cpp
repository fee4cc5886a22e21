#include "crmsync/state/migrate.hpp"

#include <fmt/format.h>

#include <string>

namespace crmsync::state {
namespace {

using sqlite::connection;
using sqlite::transaction;

// The migrator's own bookkeeping, not part of any migration: it must exist before the first
// one runs. applied_at is text for the operator reading it with the sqlite3 shell.
constexpr const char* create_schema_migrations = R"(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at TEXT    NOT NULL
) STRICT)";

result<void> check_sequence(std::span<const migration> all) {
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].version != static_cast<int>(i) + 1) {
            return make_failure(errc::state_failed,
                                fmt::format("migration list is not 1, 2, 3...: entry {} has "
                                            "version {}",
                                            i,
                                            all[i].version));
        }
    }
    return {};
}

// Fails if the migration left rows that break a foreign key: with foreign_keys=ON SQLite checks
// each statement, but a migration that rebuilds a table can still leave dangling references.
result<void> check_foreign_keys(connection& db, std::string_view operation) {
    auto s = db.prepare(operation, "PRAGMA foreign_key_check");
    if (!s)
        return s.error();
    auto row = s->step(operation);
    if (!row)
        return row.error();
    if (*row) {
        return make_failure(
            errc::state_failed,
            fmt::format(
                "{}: leaves a foreign key violation in table {}", operation, s->column_text(0)));
    }
    return {};
}

}  // namespace

result<int> schema_version(connection& db) {
    constexpr std::string_view op = "read schema version";
    auto exists = db.prepare(
        op, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'");
    if (!exists)
        return exists.error();
    auto found = exists->step(op);
    if (!found)
        return found.error();
    if (!*found)
        return 0;

    auto s = db.prepare(op, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!s)
        return s.error();
    auto row = s->step(op);
    if (!row)
        return row.error();
    return static_cast<int>(s->column_int(0));
}

result<int> migrate(connection& db, std::span<const migration> all, timestamp applied_at) {
    if (auto r = check_sequence(all); !r)
        return r.error();
    const int latest = all.empty() ? 0 : all.back().version;

    // One migration per transaction, the version re-read inside it: BEGIN IMMEDIATE holds the
    // write lock, so a second process starting at the same moment waits (busy_timeout) and then
    // sees the version this one recorded instead of applying the same migration twice.
    for (;;) {
        auto tx = transaction::begin(db, transaction::mode::immediate, "migrate");
        if (!tx)
            return tx.error();
        if (auto r = db.exec("migrate: create schema_migrations", create_schema_migrations); !r) {
            return r.error();
        }
        auto current = schema_version(db);
        if (!current)
            return current.error();

        if (*current > latest) {
            // A newer crmsync wrote this file; an older one could corrupt what it does not
            // know (a new column, a new invariant). Refuse without writing anything.
            return make_failure(errc::state_failed,
                                fmt::format("schema version {} is newer than this crmsync "
                                            "understands ({}): the database was written by a "
                                            "newer crmsync; run that version or restore a backup",
                                            *current,
                                            latest));
        }
        if (*current == latest) {
            if (auto r = tx->commit(); !r)
                return r.error();
            return *current;
        }

        const migration& m = all[static_cast<std::size_t>(*current)];  // version current + 1
        const std::string op = fmt::format("apply migration {:04}_{}", m.version, m.name);
        if (auto r = db.exec(op, std::string(m.sql)); !r)
            return r.error();
        if (!db.in_transaction()) {
            // Its own COMMIT already made part of it durable without the version row: the file
            // needs a manual look, and the migration needs fixing (migrations/README.md).
            return make_failure(errc::state_failed,
                                fmt::format("{}: the migration ended the transaction itself; "
                                            "migrations must not contain BEGIN/COMMIT",
                                            op));
        }
        if (auto r = check_foreign_keys(db, op); !r)
            return r.error();

        auto record = db.prepare(
            op, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)");
        if (!record)
            return record.error();
        record->bind_int(1, m.version).bind_text(2, m.name).bind_text(3, applied_at.to_iso());
        if (auto r = record->run(op); !r)
            return r.error();
        if (auto r = tx->commit(); !r)
            return r.error();
    }
}

}  // namespace crmsync::state
