#include "crmsync/state/pragmas.hpp"

#include "crmsync/state/store.hpp"

#include "temp_dir.hpp"
#include <gtest/gtest.h>

namespace crmsync::state {
namespace {

using testing::temp_dir;

TEST(pragmas, are_set_and_read_back) {
    temp_dir dir;
    auto db = sqlite::connection::open(dir / "state.db");
    ASSERT_TRUE(db) << db.error().message();
    auto r = apply_pragmas(*db);
    ASSERT_TRUE(r) << r.error().message();

    EXPECT_EQ(db->pragma_text("journal_mode").value(), "wal");
    EXPECT_EQ(db->pragma_int("synchronous").value(), 2);  // FULL
    EXPECT_EQ(db->pragma_int("foreign_keys").value(), 1);
    EXPECT_EQ(db->pragma_int("busy_timeout").value(), busy_timeout_ms);
}

TEST(pragmas, store_file_is_in_wal_mode) {
    // journal_mode is the one PRAGMA stored in the file: a second connection sees it.
    temp_dir dir;
    auto s = store::open(dir / "state.db");
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(testing::query_text(dir / "state.db", "PRAGMA journal_mode"), "wal");
}

TEST(pragmas, store_enforces_foreign_keys) {
    // foreign_keys is per connection, so check the store's own: a rejection that names a run
    // which does not exist must fail.
    temp_dir dir;
    auto s = store::open(dir / "state.db");
    ASSERT_TRUE(s) << s.error().message();
    batch_commit b;
    b.stream = "contacts";
    b.run_id = 4242;
    b.rejected.push_back(rejection{"003A", category::validation, "1003", "bad", "{}", {}});
    auto r = (*s)->commit_batch(b);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("FOREIGN KEY constraint failed"), std::string::npos)
        << r.error().detail;
}

TEST(pragmas, readers_do_not_block_the_writer) {
    // What WAL buys: `crmsync status` holding a read snapshot while the daemon commits.
    temp_dir dir;
    const auto path = dir / "state.db";
    auto s = store::open(path);
    ASSERT_TRUE(s) << s.error().message();

    auto reader = sqlite::connection::open(path);
    ASSERT_TRUE(reader);
    auto snapshot =
        sqlite::transaction::begin(*reader, sqlite::transaction::mode::deferred, "read");
    ASSERT_TRUE(snapshot);
    auto q = reader->prepare("read", "SELECT count(*) FROM watermarks");
    ASSERT_TRUE(q);
    ASSERT_TRUE(q->step("read").value());
    EXPECT_EQ(q->column_int(0), 0);

    batch_commit b;
    b.stream = "contacts";
    b.new_watermark = watermark{testing::at_ms(1000), "003A"};
    auto r = (*s)->commit_batch(b);
    ASSERT_TRUE(r) << r.error().message();
}

}  // namespace
}  // namespace crmsync::state
