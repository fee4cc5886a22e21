#include "crmsync/state/sqlite.hpp"

#include <boost/assert.hpp>

#include <fmt/format.h>
#include <sqlite3.h>

#include <cerrno>
#include <climits>
#include <system_error>
#include <unistd.h>

namespace crmsync::state::sqlite {
namespace {

std::string system_error_text(int err) {
    return std::generic_category().message(err);
}

// What an operator can do about the codes that are not bugs in crmsync. SQLite's own message
// ("attempt to write a readonly database") says what happened but not where or why.
std::string hint(sqlite3* db, int rc) {
    const char* file = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
    const std::string path = file != nullptr && *file != '\0' ? fmt::format("'{}'", file)
                                                              : std::string("the state database");
    const int sys = db != nullptr ? sqlite3_system_errno(db) : 0;
    switch (rc & 0xff) {
        case SQLITE_FULL:
            return fmt::format("the filesystem holding {} is full", path);
        case SQLITE_READONLY:
            return fmt::format("{} or its directory is read-only for this user", path);
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return "another process held the database lock longer than busy_timeout";
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return fmt::format("{} is not a crmsync state database, or it is damaged", path);
        case SQLITE_CANTOPEN:
            return fmt::format("cannot open {} or its -wal/-shm files", path);
        case SQLITE_IOERR:
            return sys != 0 ? fmt::format("I/O error on {}: {}", path, system_error_text(sys))
                            : fmt::format("I/O error on {}", path);
        case SQLITE_PERM:
            return fmt::format("access to {} was denied", path);
        default:
            return {};
    }
}

// SQLite reports only "unable to open database file", and its errno is from its last attempt
// (often a probe for a journal), so ask the filesystem what stands in the way.
std::string why_cannot_open(const std::filesystem::path& path, const std::filesystem::path& dir) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        return "it is a directory";
    if (std::filesystem::exists(path, ec)) {
        if (::access(path.c_str(), R_OK | W_OK) != 0) {
            return fmt::format("this user may not read and write it: {}", system_error_text(errno));
        }
    } else if (::access(dir.c_str(), W_OK | X_OK) != 0) {
        return fmt::format(
            "this user may not create files in '{}': {}", dir.string(), system_error_text(errno));
    }
    // access() says yes but open() failed: root on a read-only or special filesystem, a
    // security module, or a -wal/-shm file owned by another user.
    return fmt::format("this user cannot create or open it or its -wal/-shm files in '{}'",
                       dir.string());
}

}  // namespace

failure sqlite_failure(sqlite3* db, int rc, std::string_view operation) {
    // sqlite3_errmsg describes the most recent failed call on `db`; fall back to the generic
    // text when `rc` came from somewhere else (a remembered bind error, a null handle).
    const bool current = db != nullptr && sqlite3_extended_errcode(db) == rc;
    const std::string what = current ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const std::string why = hint(db, rc);
    auto f = make_failure(errc::state_failed,
                          why.empty() ? fmt::format("{}: {}", operation, what)
                                      : fmt::format("{}: {} ({})", operation, what, why));
    f.vendor_code = std::to_string(rc);
    return f;
}

// ---- statement ----------------------------------------------------------------------------

statement::statement(statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      bind_rc_(std::exchange(other.bind_rc_, SQLITE_OK)),
      bind_index_(other.bind_index_) {}

statement& statement::operator=(statement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(stmt_);
        stmt_ = std::exchange(other.stmt_, nullptr);
        bind_rc_ = std::exchange(other.bind_rc_, SQLITE_OK);
        bind_index_ = other.bind_index_;
    }
    return *this;
}

statement::~statement() {
    sqlite3_finalize(stmt_);  // a no-op on nullptr
}

namespace {
// An empty string_view or span may carry a null pointer, which SQLite would bind as NULL, not as
// '' or an empty blob: NOT NULL columns must not see that difference.
constexpr char empty_text[] = "";
}  // namespace

void statement::remember(int rc, int index) noexcept {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
        bind_rc_ = rc;
        bind_index_ = index;
    }
}

statement& statement::bind_int(int index, std::int64_t v) noexcept {
    remember(sqlite3_bind_int64(stmt_, index, v), index);
    return *this;
}

statement& statement::bind_text_with(int index, std::string_view v, destructor d) noexcept {
    const char* data = v.data() != nullptr ? v.data() : empty_text;
    remember(sqlite3_bind_text64(stmt_, index, data, v.size(), d, SQLITE_UTF8), index);
    return *this;
}

statement& statement::bind_blob_with(int index,
                                     std::span<const std::uint8_t> v,
                                     destructor d) noexcept {
    remember(v.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                       : sqlite3_bind_blob64(stmt_, index, v.data(), v.size(), d),
             index);
    return *this;
}

statement& statement::bind_text(int index, std::string_view v) noexcept {
    return bind_text_with(index, v, SQLITE_TRANSIENT);
}

statement& statement::bind_blob(int index, std::span<const std::uint8_t> v) noexcept {
    return bind_blob_with(index, v, SQLITE_TRANSIENT);
}

// Copying every record id and digest into SQLite showed in profiles of the batch commit.
statement& statement::bind_text_ref(int index, std::string_view v) noexcept {
    return bind_text_with(index, v, SQLITE_STATIC);
}

statement& statement::bind_blob_ref(int index, std::span<const std::uint8_t> v) noexcept {
    return bind_blob_with(index, v, SQLITE_STATIC);
}

statement& statement::bind_null(int index) noexcept {
    remember(sqlite3_bind_null(stmt_, index), index);
    return *this;
}

result<bool> statement::step(std::string_view operation) noexcept {
    sqlite3* db = sqlite3_db_handle(stmt_);
    if (bind_rc_ != SQLITE_OK) {
        return sqlite_failure(
            db, bind_rc_, fmt::format("{}: bind parameter {}", operation, bind_index_));
    }
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    return sqlite_failure(db, rc, operation);
}

result<void> statement::run(std::string_view operation) noexcept {
    for (;;) {
        auto row = step(operation);
        if (!row)
            return row.error();
        if (!*row)
            return {};
    }
}

bool statement::column_is_null(int index) const noexcept {
    return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

std::int64_t statement::column_int(int index) const noexcept {
    return sqlite3_column_int64(stmt_, index);
}

std::string statement::column_text(int index) const {
    const auto* p = sqlite3_column_text(stmt_, index);
    const int n = sqlite3_column_bytes(stmt_, index);  // after _text: the UTF-8 length
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
                        : std::string();
}

std::span<const std::uint8_t> statement::column_blob(int index) const noexcept {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, index));
    const int n = sqlite3_column_bytes(stmt_, index);
    return p != nullptr ? std::span(p, static_cast<std::size_t>(n))
                        : std::span<const std::uint8_t>();
}

void statement::reset() noexcept {
    if (stmt_ == nullptr)
        return;
    // sqlite3_reset repeats the last step's error code; that error was already reported.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    bind_rc_ = SQLITE_OK;
    bind_index_ = 0;
}

// ---- connection ---------------------------------------------------------------------------

connection::connection(sqlite3* db, std::filesystem::path path) noexcept
    : db_(db), path_(std::move(path)) {}

connection::connection(connection&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      cache_(std::move(other.cache_)) {}

connection& connection::operator=(connection&& other) noexcept {
    if (this != &other) {
        close();
        db_ = std::exchange(other.db_, nullptr);
        path_ = std::move(other.path_);
        cache_ = std::move(other.cache_);
    }
    return *this;
}

connection::~connection() {
    close();
}

void connection::close() noexcept {
    // Statements first: sqlite3_close_v2 would otherwise keep the handle alive as a zombie.
    cache_.clear();
    if (db_ != nullptr)
        sqlite3_close_v2(db_);
    db_ = nullptr;
}

result<connection> connection::open(const std::filesystem::path& path) {
    const std::string what = fmt::format("open state database '{}'", path.string());

    // SQLite says only "unable to open database file"; the usual cause is a missing state
    // directory (systemd's StateDirectory= not set, a typo in `state:`), so name it.
    std::filesystem::path dir = path.parent_path();
    if (dir.empty())
        dir = ".";
    std::error_code ec;
    const auto st = std::filesystem::status(dir, ec);
    if (st.type() == std::filesystem::file_type::not_found) {
        return make_failure(errc::state_failed,
                            fmt::format("{}: directory '{}' does not exist", what, dir.string()));
    }
    if (!ec && st.type() != std::filesystem::file_type::directory) {
        return make_failure(errc::state_failed,
                            fmt::format("{}: '{}' is not a directory", what, dir.string()));
    }

    sqlite3* db = nullptr;
    // NOMUTEX: one connection per thread (see the header); EXRESCODE: extended result codes
    // (SQLITE_CONSTRAINT_CHECK rather than SQLITE_CONSTRAINT) in vendor_code.
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        auto f = sqlite_failure(db, rc, what);
        sqlite3_close_v2(db);  // SQLite may hand back a handle even on failure
        if ((rc & 0xff) == SQLITE_CANTOPEN) {
            f.detail = fmt::format(
                "{}: unable to open database file ({})", what, why_cannot_open(path, dir));
        }
        return f;
    }
    connection c(db, path);
    // SQLITE_OPEN_READWRITE quietly falls back to read-only when the file is write-protected;
    // crmsync would then fail at its first commit, far from the cause.
    if (sqlite3_db_readonly(db, "main") == 1) {
        return make_failure(
            errc::state_failed,
            fmt::format("{}: the file is read-only for this user (check its owner and mode)",
                        what));
    }
    return c;
}

result<void> connection::exec(std::string_view operation, const std::string& sql) {
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        return sqlite_failure(db_, rc, operation);
    return {};
}

namespace {

result<statement> prepare_with(sqlite3* db,
                               std::string_view operation,
                               std::string_view sql,
                               unsigned flags) {
    if (sql.size() > static_cast<std::size_t>(INT_MAX)) {
        return make_failure(errc::state_failed, fmt::format("{}: SQL text too long", operation));
    }
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc =
        sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), flags, &raw, &tail);
    statement s(raw);
    if (rc != SQLITE_OK)
        return sqlite_failure(db, rc, operation);
    if (raw == nullptr) {
        return make_failure(errc::state_failed, fmt::format("{}: empty SQL statement", operation));
    }
    // Everything after the first statement would be silently ignored: refuse it (a bug).
    for (const char* p = tail; p != nullptr && p < sql.data() + sql.size(); ++p) {
        if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';') {
            return make_failure(errc::state_failed,
                                fmt::format("{}: more than one SQL statement", operation));
        }
    }
    return s;
}

}  // namespace

result<statement> connection::prepare(std::string_view operation, std::string_view sql) {
    return prepare_with(db_, operation, sql, 0);
}

result<statement_ref> connection::cached(std::string_view operation, std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
        it->second->reset();  // reset on reuse, whatever the previous borrower left behind
        return statement_ref(it->second.get());
    }
    // PERSISTENT: these statements live as long as the store, so SQLite should not take their
    // memory from its lookaside pool meant for short-lived ones.
    auto s = prepare_with(db_, operation, sql, SQLITE_PREPARE_PERSISTENT);
    if (!s)
        return s.error();
    auto [it, inserted] =
        cache_.emplace(std::string(sql), std::make_unique<statement>(std::move(*s)));
    return statement_ref(it->second.get());
}

result<std::string> connection::pragma_text(std::string_view pragma) {
    const std::string op = fmt::format("PRAGMA {}", pragma);
    auto s = prepare(op, op);
    if (!s)
        return s.error();
    auto row = s->step(op);
    if (!row)
        return row.error();
    if (!*row)
        return std::string();
    return s->column_text(0);
}

result<std::int64_t> connection::pragma_int(std::string_view pragma) {
    const std::string op = fmt::format("PRAGMA {}", pragma);
    auto s = prepare(op, op);
    if (!s)
        return s.error();
    auto row = s->step(op);
    if (!row)
        return row.error();
    if (!*row) {
        return make_failure(errc::state_failed, fmt::format("{}: returned no value", op));
    }
    return s->column_int(0);
}

std::int64_t connection::changes() const noexcept {
    return sqlite3_changes64(db_);
}

bool connection::in_transaction() const noexcept {
    return db_ != nullptr && sqlite3_get_autocommit(db_) == 0;
}

// ---- transaction --------------------------------------------------------------------------

result<transaction> transaction::begin(connection& db, mode m, std::string_view operation) {
    const std::string op(operation);
    const auto r = db.exec(fmt::format("{}: begin", op),
                           m == mode::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    if (!r)
        return r.error();
    return transaction(db, op);
}

result<void> transaction::commit() {
    BOOST_ASSERT(db_ != nullptr);
    auto r = db_->exec(fmt::format("{}: commit", operation_), "COMMIT");
    if (!r)
        return r;  // still open: the destructor rolls it back
    db_ = nullptr;
    return {};
}

transaction::~transaction() {
    // SQLite may already have rolled back on its own (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM
    // abort the whole transaction); ROLLBACK then would only fail with "no transaction".
    if (db_ != nullptr && db_->in_transaction()) {
        sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

}  // namespace crmsync::state::sqlite
