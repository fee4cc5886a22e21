#include "crmsync/state/sqlite.hpp"

#include "temp_dir.hpp"
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace crmsync::state::sqlite {
namespace {

using testing::temp_dir;

connection open_or_die(const std::filesystem::path& path) {
    auto db = connection::open(path);
    if (!db)
        ADD_FAILURE() << db.error().message();
    return std::move(*db);
}

std::int64_t count(connection& db, const std::string& table) {
    auto s = db.prepare("count", "SELECT count(*) FROM " + table);
    EXPECT_TRUE(s) << s.error().message();
    auto row = s->step("count");
    EXPECT_TRUE(row && *row);
    return s->column_int(0);
}

TEST(sqlite_transaction, rolls_back_unless_committed) {
    temp_dir dir;
    auto db = open_or_die(dir / "t.db");
    ASSERT_TRUE(db.exec("create", "CREATE TABLE t (x INTEGER)"));
    {
        auto tx = transaction::begin(db, transaction::mode::immediate, "insert");
        ASSERT_TRUE(tx);
        ASSERT_TRUE(db.exec("insert", "INSERT INTO t VALUES (1)"));
        EXPECT_TRUE(db.in_transaction());
    }  // no commit: rolled back
    EXPECT_FALSE(db.in_transaction());
    EXPECT_EQ(count(db, "t"), 0);
    {
        auto tx = transaction::begin(db, transaction::mode::immediate, "insert");
        ASSERT_TRUE(tx);
        ASSERT_TRUE(db.exec("insert", "INSERT INTO t VALUES (1)"));
        ASSERT_TRUE(tx->commit());
    }
    EXPECT_EQ(count(db, "t"), 1);
}

TEST(sqlite_transaction, nested_begin_is_a_failure_not_a_crash) {
    temp_dir dir;
    auto db = open_or_die(dir / "t.db");
    auto outer = transaction::begin(db, transaction::mode::immediate, "outer");
    ASSERT_TRUE(outer);
    auto inner = transaction::begin(db, transaction::mode::immediate, "inner");
    ASSERT_FALSE(inner);
    EXPECT_EQ(inner.error().code, errc::state_failed);
    EXPECT_NE(inner.error().detail.find("inner: begin: "), std::string::npos)
        << inner.error().detail;
}

TEST(sqlite_statement, cached_statement_is_reused_and_reset) {
    temp_dir dir;
    auto db = open_or_die(dir / "t.db");
    ASSERT_TRUE(
        db.exec("create", "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)"));
    constexpr std::string_view sql = "SELECT x FROM t WHERE x >= ?1 ORDER BY x";
    sqlite3_stmt* first = nullptr;
    {
        auto s = db.cached("select", sql);
        ASSERT_TRUE(s);
        first = (*s)->handle();
        (*s)->bind_int(1, 1);
        auto row = (*s)->step("select");
        ASSERT_TRUE(row && *row);
        EXPECT_EQ((*s)->column_int(0), 1);
        // Abandoned after one row: the borrow's end must reset it.
    }
    auto s = db.cached("select", sql);
    ASSERT_TRUE(s);
    EXPECT_EQ((*s)->handle(), first);
    (*s)->bind_int(1, 2);
    std::vector<std::int64_t> got;
    for (;;) {
        auto row = (*s)->step("select");
        ASSERT_TRUE(row);
        if (!*row)
            break;
        got.push_back((*s)->column_int(0));
    }
    EXPECT_EQ(got, (std::vector<std::int64_t>{2, 3}));
}

TEST(sqlite_statement, empty_text_and_blob_bind_as_values_not_null) {
    temp_dir dir;
    auto db = open_or_die(dir / "t.db");
    ASSERT_TRUE(db.exec("create", "CREATE TABLE t (s TEXT NOT NULL, b BLOB NOT NULL)"));
    auto s = db.prepare("insert", "INSERT INTO t VALUES (?1, ?2)");
    ASSERT_TRUE(s);
    s->bind_text(1, std::string_view()).bind_blob(2, std::span<const std::uint8_t>());
    auto r = s->run("insert");
    EXPECT_TRUE(r) << r.error().message();
    EXPECT_EQ(count(db, "t"), 1);
}

TEST(sqlite_statement, bound_references_write_their_bytes_and_reset_forgets_them) {
    temp_dir dir;
    auto db = open_or_die(dir / "t.db");
    ASSERT_TRUE(db.exec("create", "CREATE TABLE t (s TEXT NOT NULL, b BLOB NOT NULL)"));
    auto s = db.prepare("insert", "INSERT INTO t VALUES (?1, ?2)");
    ASSERT_TRUE(s);
    // Two rows through one statement, as commit_batch writes digests: each row's own bytes.
    for (const std::string text : {"0035g0000000001AAA", "0035g0000000002AAA"}) {
        const std::vector<std::uint8_t> blob(16, static_cast<std::uint8_t>(text.back() + 1));
        s->bind_text_ref(1, text).bind_blob_ref(2, blob);
        auto r = s->run("insert");
        ASSERT_TRUE(r) << r.error().message();
        s->reset();
    }
    // After reset nothing is bound: the next row is NULL, which NOT NULL refuses, instead of
    // bytes that may be gone.
    EXPECT_FALSE(s->run("insert"));
    auto q = db.prepare("select", "SELECT s, hex(b) FROM t ORDER BY s");
    ASSERT_TRUE(q);
    std::vector<std::string> got;
    for (;;) {
        auto row = q->step("select");
        ASSERT_TRUE(row);
        if (!*row)
            break;
        got.push_back(q->column_text(0) + " " + q->column_text(1));
    }
    std::string hex;
    for (int i = 0; i < 16; ++i)
        hex += "42";  // 'A' + 1
    EXPECT_EQ(got,
              (std::vector<std::string>{"0035g0000000001AAA " + hex, "0035g0000000002AAA " + hex}));
}

TEST(sqlite_statement, bind_error_is_reported_by_step) {
    temp_dir dir;
    auto db = open_or_die(dir / "t.db");
    auto s = db.prepare("select", "SELECT ?1");
    ASSERT_TRUE(s);
    s->bind_int(7, 1);  // no such parameter
    auto row = s->step("select");
    ASSERT_FALSE(row);
    EXPECT_EQ(row.error().code, errc::state_failed);
    EXPECT_NE(row.error().detail.find("select: bind parameter 7: "), std::string::npos)
        << row.error().detail;
}

TEST(sqlite_statement, more_than_one_statement_is_refused) {
    temp_dir dir;
    auto db = open_or_die(dir / "t.db");
    auto s = db.prepare("two", "SELECT 1; SELECT 2");
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().detail.find("more than one SQL statement"), std::string::npos);
    EXPECT_TRUE(db.prepare("one", "SELECT 1;  \n"));
}

TEST(sqlite_failure, carries_operation_errmsg_and_extended_code) {
    temp_dir dir;
    auto db = open_or_die(dir / "t.db");
    ASSERT_TRUE(db.exec("create", "CREATE TABLE t (x INTEGER CHECK (x > 0))"));
    auto r = db.exec("insert x", "INSERT INTO t VALUES (0)");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::state_failed);
    EXPECT_EQ(r.error().detail, "insert x: CHECK constraint failed: x > 0");
    EXPECT_EQ(r.error().vendor_code, "275");  // SQLITE_CONSTRAINT_CHECK
}

TEST(sqlite_failure, disk_full_says_so_and_names_the_file) {
    temp_dir dir;
    const auto path = dir / "t.db";
    auto db = open_or_die(path);
    // max_page_count makes SQLite report SQLITE_FULL exactly as a full filesystem does.
    ASSERT_TRUE(db.exec("create", "CREATE TABLE t (b BLOB); PRAGMA max_page_count = 8"));
    result<void> r;
    for (int i = 0; i < 100 && r; ++i) {
        r = db.exec("fill", "INSERT INTO t VALUES (zeroblob(4096))");
    }
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::state_failed);
    EXPECT_NE(r.error().detail.find("fill: database or disk is full"), std::string::npos)
        << r.error().detail;
    EXPECT_NE(r.error().detail.find("is full"), std::string::npos);
    EXPECT_NE(r.error().detail.find(path.string()), std::string::npos) << r.error().detail;
}

TEST(sqlite_failure, read_only_says_so) {
    temp_dir dir;
    auto db = open_or_die(dir / "t.db");
    ASSERT_TRUE(db.exec("create", "CREATE TABLE t (x INTEGER); PRAGMA query_only = 1"));
    auto r = db.exec("insert", "INSERT INTO t VALUES (1)");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("read-only for this user"), std::string::npos)
        << r.error().detail;
}

TEST(sqlite_connection, missing_directory_names_the_path) {
    temp_dir dir;
    const auto path = dir.path() / "missing" / "state.db";
    auto db = connection::open(path);
    ASSERT_FALSE(db);
    EXPECT_EQ(db.error().code, errc::state_failed);
    EXPECT_EQ(db.error().detail,
              "open state database '" + path.string() + "': directory '" +
                  (dir.path() / "missing").string() + "' does not exist");
}

TEST(sqlite_connection, moved_connection_keeps_its_cache) {
    temp_dir dir;
    auto a = open_or_die(dir / "t.db");
    ASSERT_TRUE(a.cached("select", "SELECT 1"));
    connection b = std::move(a);
    EXPECT_EQ(a.handle(), nullptr);
    auto s = b.cached("select", "SELECT 1");
    ASSERT_TRUE(s);
    auto row = (*s)->step("select");
    ASSERT_TRUE(row && *row);
    EXPECT_EQ((*s)->column_int(0), 1);
}

}  // namespace
}  // namespace crmsync::state::sqlite
