#include "crmsync/state/migrate.hpp"

#include "crmsync/state/pragmas.hpp"
#include "crmsync/state/store.hpp"

#include "temp_dir.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <vector>

namespace crmsync::state {
namespace {

using testing::query_int;
using testing::query_text;
using testing::temp_dir;

const timestamp applied = testing::at_ms(1'700'000'000'000);

sqlite::connection open_configured(const std::filesystem::path& path) {
    auto db = sqlite::connection::open(path);
    if (!db)
        ADD_FAILURE() << db.error().message();
    auto r = apply_pragmas(*db);
    if (!r)
        ADD_FAILURE() << r.error().message();
    return std::move(*db);
}

TEST(migrate, embedded_migrations_are_numbered_from_one_without_gaps) {
    const auto all = embedded_migrations();
    ASSERT_FALSE(all.empty());
    for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
        EXPECT_FALSE(all[i].name.empty());
        EXPECT_FALSE(all[i].sql.empty());
    }
    EXPECT_EQ(all.front().name, "init");
}

TEST(migrate, applied_once_and_recorded) {
    temp_dir dir;
    const auto path = dir / "state.db";
    const int latest = embedded_migrations().back().version;
    {
        auto s = store::open(path);
        ASSERT_TRUE(s) << s.error().message();
        EXPECT_EQ((*s)->schema_version(), latest);
    }
    const auto applied_at =
        query_text(path, "SELECT applied_at FROM schema_migrations WHERE version = 1");
    {
        auto s = store::open(path);  // second open: nothing left to apply
        ASSERT_TRUE(s) << s.error().message();
        EXPECT_EQ((*s)->schema_version(), latest);
    }
    EXPECT_EQ(query_int(path, "SELECT count(*) FROM schema_migrations"), latest);
    EXPECT_EQ(query_int(path, "SELECT max(version) FROM schema_migrations"), latest);
    EXPECT_EQ(query_text(path, "SELECT name FROM schema_migrations WHERE version = 1"), "init");
    EXPECT_EQ(query_text(path, "SELECT applied_at FROM schema_migrations WHERE version = 1"),
              applied_at);
}

TEST(migrate, applied_at_comes_from_the_clock) {
    temp_dir dir;
    const auto path = dir / "state.db";
    testing::manual_clock clock;
    clock.now = sys_ms{std::chrono::milliseconds{1'368'996'572'000}};
    auto s = store::open(path, clock.fn());
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(query_text(path, "SELECT applied_at FROM schema_migrations WHERE version = 1"),
              "2013-05-19T20:49:32.000Z");
}

TEST(migrate, database_from_a_newer_binary_is_refused_and_left_alone) {
    temp_dir dir;
    const auto path = dir / "state.db";
    ASSERT_TRUE(store::open(path));
    testing::exec_sql(path,
                      "INSERT INTO schema_migrations (version, name, applied_at) "
                      "VALUES (9999, 'from_the_future', 'later')");

    auto s = store::open(path);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, errc::state_failed);
    const auto& detail = s.error().detail;
    EXPECT_NE(detail.find(path.string()), std::string::npos) << detail;
    EXPECT_NE(detail.find("schema version 9999 is newer"), std::string::npos) << detail;
    EXPECT_NE(detail.find(fmt::format("({})", embedded_migrations().back().version)),
              std::string::npos)
        << detail;
    EXPECT_EQ(query_int(path, "SELECT count(*) FROM schema_migrations"),
              embedded_migrations().back().version + 1);
}

TEST(migrate, a_failing_migration_leaves_nothing_behind) {
    temp_dir dir;
    const auto path = dir / "state.db";
    auto db = open_configured(path);
    const std::vector<migration> all{
        {1, "one", "CREATE TABLE a (x INTEGER);"},
        // The first statement succeeds, the second fails: neither it nor the row may stay.
        {2, "two", "CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);"},
    };
    auto r = migrate(db, all, applied);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::state_failed);
    EXPECT_NE(r.error().detail.find("apply migration 0002_two: no such table: nowhere"),
              std::string::npos)
        << r.error().detail;
    EXPECT_EQ(schema_version(db).value(), 1);
    EXPECT_EQ(query_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'a'"), 1);
    EXPECT_EQ(query_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'b'"), 0);

    // Fixed, the same migration then applies on the next start.
    const std::vector<migration> fixed{all[0], {2, "two", "CREATE TABLE b (x INTEGER);"}};
    auto again = migrate(db, fixed, applied);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(*again, 2);
}

TEST(migrate, pending_migrations_apply_in_order_on_an_existing_database) {
    temp_dir dir;
    const auto path = dir / "state.db";
    auto db = open_configured(path);
    std::vector<migration> all{{1, "one", "CREATE TABLE a (x INTEGER);"}};
    ASSERT_EQ(migrate(db, all, applied).value(), 1);
    all.push_back({2, "two", "ALTER TABLE a ADD COLUMN y TEXT;"});
    all.push_back({3, "three", "CREATE INDEX a_y ON a (y);"});
    ASSERT_EQ(migrate(db, all, applied).value(), 3);
    EXPECT_EQ(query_text(path,
                         "SELECT group_concat(name, ',') FROM "
                         "(SELECT name FROM schema_migrations ORDER BY version)"),
              "one,two,three");
}

TEST(migrate, a_migration_that_commits_itself_is_detected) {
    temp_dir dir;
    auto db = open_configured(dir / "state.db");
    const std::vector<migration> all{{1, "sneaky", "CREATE TABLE a (x INTEGER); COMMIT;"}};
    auto r = migrate(db, all, applied);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("must not contain BEGIN/COMMIT"), std::string::npos)
        << r.error().detail;
}

TEST(migrate, a_list_with_gaps_is_refused) {
    temp_dir dir;
    auto db = open_configured(dir / "state.db");
    const std::vector<migration> all{{1, "one", "SELECT 1;"}, {3, "three", "SELECT 1;"}};
    auto r = migrate(db, all, applied);
    ASSERT_FALSE(r);
    EXPECT_EQ(schema_version(db).value(), 0);
}

TEST(migrate, the_initial_schema_is_strict_and_checked) {
    temp_dir dir;
    const auto path = dir / "state.db";
    ASSERT_TRUE(store::open(path));
    for (const char* table :
         {"watermarks", "record_digests", "runs", "error_log", "stream_totals"}) {
        EXPECT_EQ(
            query_int(path,
                      fmt::format("SELECT strict FROM pragma_table_list WHERE name = '{}'", table)),
            1)
            << table;
    }
}

}  // namespace
}  // namespace crmsync::state
