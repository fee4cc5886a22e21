#pragma once
// Thin RAII over the SQLite C API for the state module (STYLE.md rule 11, modelled on SQLiteCpp's
// Statement and Transaction): a connection that owns its prepared-statement cache, statements
// that report every SQLite error as failure{errc::state_failed, "<operation>: <errmsg>"}, and a
// transaction that rolls back unless committed. Nothing here throws.
//
// Threading: a connection and everything borrowed from it belong to one thread at a time. It is
// opened with SQLITE_OPEN_NOMUTEX, so SQLite does not serialise calls for us; concurrency comes
// from separate connections (another process, another thread), which WAL and busy_timeout handle.

#include "crmsync/core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

// SQLite's own handle types, declared as sqlite3.h declares them, so this header does not pull
// sqlite3.h into modules that only use the state module.
struct sqlite3;
struct sqlite3_stmt;

namespace crmsync::state::sqlite {

// The failure for SQLite result code `rc` on `db`: "<operation>: <sqlite3_errmsg>", plus a hint
// for the codes an operator can act on (disk full, read-only, locked, not a database, cannot
// open). vendor_code holds the extended result code ("2067" for SQLITE_CONSTRAINT_UNIQUE).
failure sqlite_failure(sqlite3* db, int rc, std::string_view operation);

class statement {
public:
    statement() = default;
    explicit statement(sqlite3_stmt* s) noexcept : stmt_(s) {}
    statement(statement&& other) noexcept;
    statement& operator=(statement&& other) noexcept;
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    ~statement();

    // Parameters are 1-based, like SQLite's. Text and blobs are copied (SQLITE_TRANSIENT), so
    // temporaries are safe. A bind error is remembered and returned by the next step().
    statement& bind_int(int index, std::int64_t v) noexcept;
    statement& bind_text(int index, std::string_view v) noexcept;
    statement& bind_blob(int index, std::span<const std::uint8_t> v) noexcept;
    statement& bind_null(int index) noexcept;
    // Not copied (SQLITE_STATIC), for the per-record loops of a batch commit: `v` must stay alive
    // and unchanged until this statement is reset, which also clears its bindings.
    statement& bind_text_ref(int index, std::string_view v) noexcept;
    statement& bind_blob_ref(int index, std::span<const std::uint8_t> v) noexcept;

    // true: a row is available; false: the statement is done.
    [[nodiscard]] result<bool> step(std::string_view operation) noexcept;
    // Steps a statement that returns no row (INSERT, UPDATE, DELETE) to completion.
    [[nodiscard]] result<void> run(std::string_view operation) noexcept;

    // Columns are 0-based, like SQLite's.
    bool column_is_null(int index) const noexcept;
    std::int64_t column_int(int index) const noexcept;
    std::string column_text(int index) const;
    std::span<const std::uint8_t> column_blob(int index) const noexcept;

    // Ends the current execution (releasing the read snapshot a half-read SELECT holds) and
    // clears the bindings, so the next use starts clean.
    void reset() noexcept;

    sqlite3_stmt* handle() const noexcept { return stmt_; }

private:
    using destructor = void (*)(void*);
    statement& bind_text_with(int index, std::string_view v, destructor d) noexcept;
    statement& bind_blob_with(int index, std::span<const std::uint8_t> v, destructor d) noexcept;
    void remember(int rc, int index) noexcept;

    sqlite3_stmt* stmt_ = nullptr;
    int bind_rc_ = 0;  // SQLITE_OK
    int bind_index_ = 0;
};

// A statement borrowed from a connection's cache; reset when the borrow ends, so a SELECT that
// stopped after its first row does not keep a read transaction (and the WAL) pinned.
class statement_ref {
public:
    explicit statement_ref(statement* s) noexcept : s_(s) {}
    statement_ref(statement_ref&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
    statement_ref& operator=(statement_ref&&) = delete;
    statement_ref(const statement_ref&) = delete;
    statement_ref& operator=(const statement_ref&) = delete;
    ~statement_ref() {
        if (s_ != nullptr)
            s_->reset();
    }

    statement* operator->() const noexcept { return s_; }
    statement& operator*() const noexcept { return *s_; }

private:
    statement* s_;
};

class connection {
public:
    // Opens read-write, creating the file if needed. A missing directory, a directory this user
    // cannot write, or a file opened read-only is a failure naming `path`.
    static result<connection> open(const std::filesystem::path& path);

    connection(connection&& other) noexcept;
    connection& operator=(connection&& other) noexcept;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection();

    // Runs one or more statements without parameters (PRAGMAs, migrations).
    [[nodiscard]] result<void> exec(std::string_view operation, const std::string& sql);
    // A fresh statement (for one-off SQL).
    [[nodiscard]] result<statement> prepare(std::string_view operation, std::string_view sql);
    // The cached statement for `sql`, prepared on first use and reset on every reuse. `sql` is
    // the cache key: pass constant text, never text with values in it. One borrow per SQL text
    // at a time: borrowing it again resets the first borrower's statement.
    [[nodiscard]] result<statement_ref> cached(std::string_view operation, std::string_view sql);

    // PRAGMA helpers: the value the PRAGMA statement reports (as SQLite reports it).
    [[nodiscard]] result<std::string> pragma_text(std::string_view pragma);
    [[nodiscard]] result<std::int64_t> pragma_int(std::string_view pragma);

    // Rows changed by the last INSERT, UPDATE or DELETE.
    std::int64_t changes() const noexcept;
    bool in_transaction() const noexcept;

    sqlite3* handle() const noexcept { return db_; }
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    connection(sqlite3* db, std::filesystem::path path) noexcept;
    void close() noexcept;

    sqlite3* db_ = nullptr;
    std::filesystem::path path_;
    // Looks up std::string keys by std::string_view without building a string per call.
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    // Keyed by SQL text; unique_ptr keeps statement addresses stable for statement_ref.
    std::unordered_map<std::string, std::unique_ptr<statement>, text_hash, std::equal_to<>> cache_;
};

// One transaction on a connection: rolled back on destruction unless commit() succeeded, so
// every early `return failure` in a write path undoes what that path had written.
class transaction {
public:
    enum class mode {
        // Takes the write lock at BEGIN, so two writers queue on busy_timeout instead of one
        // failing with SQLITE_BUSY when its read transaction tries to upgrade (which no timeout
        // can resolve). Every write path uses this.
        immediate,
        // A read snapshot: several SELECTs see one consistent state (WAL keeps it stable while
        // the daemon writes).
        deferred,
    };

    [[nodiscard]] static result<transaction> begin(connection& db,
                                                   mode m,
                                                   std::string_view operation);

    transaction(transaction&& other) noexcept
        : db_(std::exchange(other.db_, nullptr)), operation_(std::move(other.operation_)) {}
    transaction& operator=(transaction&&) = delete;
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    ~transaction();

    [[nodiscard]] result<void> commit();

private:
    transaction(connection& db, std::string operation) noexcept
        : db_(&db), operation_(std::move(operation)) {}

    connection* db_;  // null once committed or moved from
    std::string operation_;
};

}  // namespace crmsync::state::sqlite
