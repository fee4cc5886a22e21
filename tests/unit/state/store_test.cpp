#include "crmsync/state/store.hpp"

#include "temp_dir.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>
#include <vector>

namespace crmsync::state {
namespace {

using namespace std::chrono_literals;
using testing::at_ms;
using testing::make_digest;
using testing::query_int;
using testing::temp_dir;

class store_test : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = store::open(path_, clock_.fn());
        ASSERT_TRUE(s) << s.error().message();
        store_ = std::move(*s);
    }

    std::int64_t now_ms() const { return clock_.now.time_since_epoch().count(); }

    static rejection reject(std::string id,
                            category c = category::validation,
                            std::string code = "1003",
                            std::uint8_t seed = 0) {
        return rejection{std::move(id),
                         c,
                         std::move(code),
                         "Value for field 'email' is invalid",
                         R"({"email":"not-an-email"})",
                         make_digest(seed)};
    }

    void commit(const batch_commit& b) {
        auto r = store_->commit_batch(b);
        ASSERT_TRUE(r) << r.error().message();
    }

    // Every row of every table, read through a second connection: "nothing landed" means this
    // is byte-for-byte what it was before.
    std::string dump() const {
        auto db = sqlite::connection::open(path_);
        if (!db)
            return "cannot open: " + db.error().message();
        std::string out;
        for (const char* sql : {
                 "SELECT stream || '|' || modstamp_ms || '|' || record_id || '|' || updated_ms "
                 "FROM watermarks ORDER BY stream",
                 "SELECT stream || '|' || record_id || '|' || hex(digest) || '|' || updated_ms "
                 "FROM record_digests ORDER BY stream, record_id",
                 "SELECT id || '|' || stream || '|' || record_id || '|' || category || '|' || code "
                 "|| '|' || message || '|' || last_seen_ms || '|' || attempts FROM error_log "
                 "ORDER BY id",
                 "SELECT stream || '|' || created || '|' || updated || '|' || unchanged || '|' || "
                 "rejected FROM stream_totals ORDER BY stream",
             }) {
            auto s = db->prepare("dump", sql);
            if (!s)
                return "cannot dump: " + s.error().message();
            for (;;) {
                auto row = s->step("dump");
                if (!row)
                    return "cannot dump: " + row.error().message();
                if (!*row)
                    break;
                out += s->column_text(0) + "\n";
            }
            out += "--\n";
        }
        return out;
    }

    temp_dir dir_;
    std::filesystem::path path_ = dir_ / "state.db";
    testing::manual_clock clock_;
    std::unique_ptr<store> store_;
};

// ---- watermarks ---------------------------------------------------------------------------

TEST_F(store_test, watermark_round_trips_with_millisecond_precision) {
    EXPECT_EQ(store_->load_watermark("contacts").value(), std::nullopt);
    const watermark wm{*timestamp::parse("2013-05-20T20:49:32.123+0000"), "003000000000001AAA"};
    ASSERT_TRUE(store_->set_watermark("contacts", wm));
    const auto got = store_->load_watermark("contacts").value();
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, wm);
    EXPECT_EQ(got->modstamp.to_salesforce(), "2013-05-20T20:49:32.123+0000");
    EXPECT_EQ(store_->load_watermark("leads").value(), std::nullopt);  // per stream
}

TEST_F(store_test, commit_batch_never_moves_the_watermark_backwards) {
    batch_commit b;
    b.stream = "contacts";
    b.new_watermark = watermark{at_ms(2000), "003B"};
    commit(b);

    b.new_watermark = watermark{at_ms(1999), "003Z"};  // older stamp
    commit(b);
    EXPECT_EQ(store_->load_watermark("contacts").value(), (watermark{at_ms(2000), "003B"}));

    b.new_watermark = watermark{at_ms(2000), "003A"};  // same stamp, smaller id
    commit(b);
    EXPECT_EQ(store_->load_watermark("contacts").value(), (watermark{at_ms(2000), "003B"}));

    b.new_watermark = watermark{at_ms(2000), "003C"};  // same stamp, next id
    commit(b);
    EXPECT_EQ(store_->load_watermark("contacts").value(), (watermark{at_ms(2000), "003C"}));

    b.new_watermark = watermark{at_ms(2001), ""};
    commit(b);
    EXPECT_EQ(store_->load_watermark("contacts").value(), (watermark{at_ms(2001), ""}));

    b.new_watermark.reset();  // absent: left as it is
    commit(b);
    EXPECT_EQ(store_->load_watermark("contacts").value(), (watermark{at_ms(2001), ""}));
}

// A run that read from one watermark must not carry it past an operator's `watermark set` or
// `reset` made while it ran: that would silently undo the backfill the operator asked for.
TEST_F(store_test, commit_batch_leaves_a_watermark_an_operator_moved_during_the_run) {
    const watermark before{at_ms(5000), "003E"};
    ASSERT_TRUE(store_->set_watermark("contacts", before));

    batch_commit b;
    b.stream = "contacts";
    b.read_from = before;
    b.new_watermark = watermark{at_ms(6000), "003F"};
    EXPECT_EQ(store_->commit_batch(b).value(), commit_effect::applied);
    EXPECT_EQ(store_->load_watermark("contacts").value(), b.new_watermark);

    const watermark operator_point{at_ms(1000), ""};
    ASSERT_TRUE(store_->set_watermark("contacts", operator_point));
    b.read_from = watermark{at_ms(6000), "003F"};  // what the run still believes
    b.new_watermark = watermark{at_ms(7000), "003G"};
    b.delivered = {{"003G", make_digest(7)}};
    EXPECT_EQ(store_->commit_batch(b).value(), commit_effect::watermark_superseded);
    EXPECT_EQ(store_->load_watermark("contacts").value(), operator_point);
    // The delivery itself is still recorded.
    EXPECT_EQ(store_->load_digests("contacts", {"003G"}).value().at("003G"), make_digest(7));

    // After a reset there is no row at all; the stale run must not create one either.
    ASSERT_TRUE(store_->set_watermark("contacts", std::nullopt));
    EXPECT_EQ(store_->commit_batch(b).value(), commit_effect::watermark_superseded);
    EXPECT_EQ(store_->load_watermark("contacts").value(), std::nullopt);

    // A run that started from "no watermark" and still finds none moves it as usual.
    b.read_from = std::optional<watermark>{};
    EXPECT_EQ(store_->commit_batch(b).value(), commit_effect::applied);
    EXPECT_EQ(store_->load_watermark("contacts").value(), b.new_watermark);
}

TEST_F(store_test, set_watermark_can_move_back_and_reset) {
    batch_commit b;
    b.stream = "contacts";
    b.new_watermark = watermark{at_ms(5000), "003B"};
    commit(b);

    ASSERT_TRUE(store_->set_watermark("contacts", watermark{at_ms(1000), ""}));
    EXPECT_EQ(store_->load_watermark("contacts").value(), (watermark{at_ms(1000), ""}));

    ASSERT_TRUE(store_->set_watermark("contacts", std::nullopt));
    EXPECT_EQ(store_->load_watermark("contacts").value(), std::nullopt);
    ASSERT_TRUE(store_->set_watermark("contacts", std::nullopt));  // idempotent
}

// ---- digests ------------------------------------------------------------------------------

TEST_F(store_test, digests_of_delivered_and_rejected_records_load_and_forget) {
    batch_commit b;
    b.stream = "contacts";
    b.delivered = {{"003A", make_digest(1)}, {"003B", make_digest(2)}};
    b.rejected = {reject("003C", category::validation, "1003", 3)};
    commit(b);
    batch_commit other;
    other.stream = "leads";
    other.delivered = {{"003A", make_digest(9)}};
    commit(other);

    auto got = store_->load_digests("contacts", {"003A", "003B", "003C", "003D"}).value();
    EXPECT_EQ(got.size(), 3u);
    EXPECT_EQ(got.at("003A"), make_digest(1));
    EXPECT_EQ(got.at("003B"), make_digest(2));
    EXPECT_EQ(got.at("003C"), make_digest(3));
    EXPECT_EQ(store_->load_digests("leads", {"003A"}).value().at("003A"), make_digest(9));
    EXPECT_TRUE(store_->load_digests("contacts", {}).value().empty());

    // A newer payload replaces the digest.
    b.rejected.clear();
    b.delivered = {{"003A", make_digest(7)}};
    commit(b);
    EXPECT_EQ(store_->load_digests("contacts", {"003A"}).value().at("003A"), make_digest(7));

    ASSERT_TRUE(store_->forget_digests("contacts", {"003A", "003X"}));
    got = store_->load_digests("contacts", {"003A", "003B", "003C"}).value();
    EXPECT_EQ(got.size(), 2u);
    EXPECT_FALSE(got.contains("003A"));

    ASSERT_TRUE(store_->forget_all_digests("contacts"));
    EXPECT_TRUE(store_->load_digests("contacts", {"003A", "003B", "003C"}).value().empty());
    EXPECT_EQ(store_->load_digests("leads", {"003A"}).value().size(), 1u);  // other stream kept
}

TEST_F(store_test, digests_load_and_forget_in_bulk) {
    // More ids than one statement takes, with half of them never seen.
    batch_commit b;
    b.stream = "contacts";
    std::vector<std::string> ids;
    for (int i = 0; i < 2000; ++i) {
        ids.push_back(fmt::format("003{:015}", i));
        if (i % 2 == 0)
            b.delivered.push_back({ids.back(), make_digest(static_cast<std::uint8_t>(i))});
    }
    commit(b);

    auto got = store_->load_digests("contacts", ids).value();
    ASSERT_EQ(got.size(), 1000u);
    for (int i = 0; i < 2000; i += 2) {
        EXPECT_EQ(got.at(ids[static_cast<std::size_t>(i)]),
                  make_digest(static_cast<std::uint8_t>(i)));
    }

    const std::vector<std::string> first_1200(ids.begin(), ids.begin() + 1200);
    ASSERT_TRUE(store_->forget_digests("contacts", first_1200));
    EXPECT_EQ(store_->load_digests("contacts", ids).value().size(), 400u);
}

TEST_F(store_test, digests_of_a_batch_in_many_row_statements_keep_order_and_clear_errors) {
    // 123 deliveries: two statements of 50 rows and a tail of 23 one by one. An id delivered
    // twice keeps its last digest, in one statement, across two, and between one and the tail.
    batch_commit seed;
    seed.stream = "contacts";
    seed.rejected = {reject("003000000000000010"), reject("003000000000000110")};
    commit(seed);

    batch_commit b;
    b.stream = "contacts";
    for (int i = 0; i < 120; ++i) {
        b.delivered.push_back(
            {fmt::format("003{:015}", i), make_digest(static_cast<std::uint8_t>(i))});
    }
    b.delivered[7] = {"003000000000000003", make_digest(200)};        // twice in the first 50
    b.delivered[60] = {"003000000000000020", make_digest(201)};       // first 50, then second
    b.delivered.push_back({"003000000000000070", make_digest(202)});  // second, then tail
    b.delivered.push_back({"003000000000000115", make_digest(203)});  // twice in the tail
    b.delivered.push_back({"003999999999999999", make_digest(204)});
    ASSERT_EQ(b.delivered.size(), 123u);
    commit(b);

    std::vector<std::string> ids;
    for (const auto& d : b.delivered)
        ids.push_back(d.record_id);
    const auto got = store_->load_digests("contacts", ids).value();
    EXPECT_EQ(got.size(), 120u - 2u + 1u);  // 7 and 60 were overwritten; one new id
    EXPECT_EQ(got.at("003000000000000003"), make_digest(200));
    EXPECT_EQ(got.at("003000000000000020"), make_digest(201));
    EXPECT_EQ(got.at("003000000000000070"), make_digest(202));
    EXPECT_EQ(got.at("003000000000000115"), make_digest(203));
    EXPECT_EQ(got.at("003999999999999999"), make_digest(204));
    EXPECT_EQ(got.at("003000000000000049"), make_digest(49));
    EXPECT_EQ(got.at("003000000000000050"), make_digest(50));
    EXPECT_EQ(got.at("003000000000000119"), make_digest(119));
    EXPECT_EQ(query_int(path_,
                        fmt::format("SELECT count(*) FROM record_digests WHERE updated_ms = {}",
                                    now_ms())),
              119);
    // Both open entries, one in a 50-row statement's range and one in the tail's, are gone.
    EXPECT_EQ(query_int(path_, "SELECT count(*) FROM error_log"), 0);

    // An empty id in the middle of a 50-row statement fails the whole batch, naming it.
    const std::string snapshot = dump();
    batch_commit bad;
    bad.stream = "contacts";
    for (int i = 0; i < 100; ++i)
        bad.delivered.push_back({fmt::format("004{:015}", i), make_digest(1)});
    bad.delivered[75].record_id.clear();
    auto r = store_->commit_batch(bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("commit batch of contacts: records 004000000000000050 to "
                                    "004000000000000099"),
              std::string::npos)
        << r.error().detail;
    EXPECT_EQ(dump(), snapshot);
}

TEST_F(store_test, ids_are_values_never_sql) {
    const std::string nasty = "003'); DELETE FROM record_digests; --";
    batch_commit b;
    b.stream = "contacts";
    b.delivered = {{nasty, make_digest(1)}, {"003B", make_digest(2)}};
    commit(b);
    ASSERT_TRUE(store_->forget_digests("contacts", {nasty}));
    auto got = store_->load_digests("contacts", {nasty, "003B"}).value();
    EXPECT_EQ(got.size(), 1u);
    EXPECT_TRUE(got.contains("003B"));
}

// ---- atomicity ----------------------------------------------------------------------------

TEST_F(store_test, commit_batch_is_all_or_nothing_on_a_constraint_violation) {
    batch_commit before;
    before.stream = "contacts";
    before.new_watermark = watermark{at_ms(1000), "003A"};
    before.rejected = {reject("003R")};
    before.created = 1;
    commit(before);
    const std::string snapshot = dump();

    batch_commit b;
    b.stream = "contacts";
    b.new_watermark = watermark{at_ms(2000), "003Z"};
    b.delivered = {{"003R", make_digest(5)}, {"003B", make_digest(6)}};  // clears 003R's error
    b.rejected = {reject("003C"), reject("")};  // the empty id breaks a CHECK after the rest ran
    b.created = 2;
    b.updated = 3;
    auto r = store_->commit_batch(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::state_failed);
    EXPECT_NE(r.error().detail.find("commit batch of contacts"), std::string::npos)
        << r.error().detail;
    EXPECT_NE(r.error().detail.find("CHECK constraint failed"), std::string::npos)
        << r.error().detail;

    EXPECT_EQ(dump(), snapshot);
    EXPECT_EQ(store_->load_watermark("contacts").value(), (watermark{at_ms(1000), "003A"}));

    // The store is still usable: the corrected batch commits.
    b.rejected.pop_back();
    commit(b);
    EXPECT_EQ(store_->load_watermark("contacts").value(), (watermark{at_ms(2000), "003Z"}));
    EXPECT_FALSE(store_->get_error(1).value());  // 003R delivered, its entry gone
}

TEST_F(store_test, commit_batch_fails_at_each_step_without_a_trace) {
    // Fail-at-N (STYLE.md rule 7): a trigger planted by another connection aborts the batch at
    // each of its writes in turn. Each time nothing may land; without the fault it converges.
    batch_commit seed;
    seed.stream = "contacts";
    seed.new_watermark = watermark{at_ms(1000), "003A"};
    seed.rejected = {reject("003R")};
    commit(seed);

    batch_commit b;
    b.stream = "contacts";
    b.new_watermark = watermark{at_ms(2000), "003Z"};
    b.delivered = {{"003R", make_digest(5)}};
    b.rejected = {reject("003C")};
    b.created = 1;

    const std::vector<std::string> faults = {
        "BEFORE UPDATE ON watermarks",
        "BEFORE INSERT ON record_digests",
        "BEFORE UPDATE ON record_digests",
        "BEFORE DELETE ON error_log",
        "BEFORE INSERT ON error_log",
        "BEFORE UPDATE ON stream_totals",
    };
    for (const auto& when : faults) {
        SCOPED_TRACE(when);
        const std::string snapshot = dump();
        testing::exec_sql(
            path_,
            "CREATE TRIGGER fault " + when + " BEGIN SELECT RAISE(ABORT, 'injected fault'); END");
        auto r = store_->commit_batch(b);
        ASSERT_FALSE(r);
        EXPECT_NE(r.error().detail.find("injected fault"), std::string::npos) << r.error().detail;
        EXPECT_EQ(dump(), snapshot);
        testing::exec_sql(path_, "DROP TRIGGER fault");
    }
    commit(b);
    EXPECT_EQ(store_->load_watermark("contacts").value(), (watermark{at_ms(2000), "003Z"}));
    EXPECT_EQ(store_->list_errors({}).value().size(), 1u);
    EXPECT_EQ(store_->list_errors({}).value().front().record_id, "003C");
}

// ---- error log ----------------------------------------------------------------------------

TEST_F(store_test, a_repeated_rejection_updates_its_entry_and_counts_attempts) {
    const auto run = store_->begin_run("contacts", at_ms(now_ms()));
    ASSERT_TRUE(run);
    batch_commit b;
    b.stream = "contacts";
    b.run_id = *run;
    b.rejected = {reject("003A", category::validation, "1003")};
    commit(b);
    const auto first_seen = clock_.now;

    clock_.advance(90s);
    b.rejected = {reject("003A", category::duplicate, "1007")};
    b.rejected.front().message = "Multiple lead match lookup criteria";
    commit(b);

    const auto all = store_->list_errors({}).value();
    ASSERT_EQ(all.size(), 1u);
    const auto& e = all.front();
    EXPECT_EQ(e.stream, "contacts");
    EXPECT_EQ(e.record_id, "003A");
    EXPECT_EQ(e.category, category::duplicate);
    EXPECT_EQ(e.code, "1007");
    EXPECT_EQ(e.message, "Multiple lead match lookup criteria");
    EXPECT_EQ(e.payload_json, R"({"email":"not-an-email"})");
    EXPECT_EQ(e.first_seen.at, first_seen);
    EXPECT_EQ(e.last_seen.at, clock_.now);
    EXPECT_EQ(e.attempts, 2);
    const auto one = store_->get_error(e.id).value();
    ASSERT_TRUE(one);
    EXPECT_EQ(one->record_id, "003A");
    EXPECT_EQ(one->attempts, 2);
    EXPECT_EQ(query_int(path_, "SELECT run_id FROM error_log"), *run);
}

TEST_F(store_test, delivery_clears_the_entry_and_ids_are_never_reused) {
    batch_commit b;
    b.stream = "contacts";
    b.rejected = {reject("003A"), reject("003B")};
    commit(b);
    const auto before = store_->list_errors({}).value();
    ASSERT_EQ(before.size(), 2u);
    const std::int64_t max_id = std::max(before[0].id, before[1].id);

    batch_commit fixed;
    fixed.stream = "contacts";
    fixed.delivered = {{"003B", make_digest(4)}};
    commit(fixed);
    auto after = store_->list_errors({}).value();
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after.front().record_id, "003A");

    // Same record id in another stream is another entry, untouched by this delivery.
    b.stream = "leads";
    b.rejected = {reject("003A")};
    commit(b);
    fixed.stream = "leads";
    fixed.delivered = {{"003B", make_digest(4)}};
    commit(fixed);
    EXPECT_EQ(store_->list_errors({}).value().size(), 2u);

    // 003B rejected again: a fresh entry with a fresh id, not the deleted one's.
    b.stream = "contacts";
    b.rejected = {reject("003B")};
    commit(b);
    error_filter f;
    f.stream = "contacts";
    const auto again = store_->list_errors(f).value();
    ASSERT_EQ(again.size(), 2u);
    EXPECT_EQ(again.front().record_id, "003B");
    EXPECT_GT(again.front().id, max_id);
    EXPECT_EQ(again.front().attempts, 1);
}

TEST_F(store_test, resolved_entries_go_without_touching_digests_or_other_streams) {
    batch_commit b;
    b.stream = "contacts";
    b.rejected = {reject("003A", category::validation, "1003", 7), reject("003B")};
    commit(b);
    b.stream = "leads";
    b.rejected = {reject("003A")};
    commit(b);

    batch_commit r;
    r.stream = "contacts";
    r.resolved = {"003A"};
    commit(r);
    error_filter f;
    f.stream = "contacts";
    const auto left = store_->list_errors(f).value();
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left.front().record_id, "003B");
    f.stream = "leads";
    EXPECT_EQ(store_->list_errors(f).value().size(), 1u);
    // The digest of the rejection stays: the record is not sent again until it changes.
    const auto d = store_->load_digests("contacts", {"003A"}).value();
    ASSERT_EQ(d.count("003A"), 1u);
    EXPECT_EQ(d.at("003A"), make_digest(7));
}

TEST_F(store_test, list_errors_filters_and_orders_newest_first) {
    const auto add = [&](std::string stream, std::string id, category c) {
        batch_commit b;
        b.stream = std::move(stream);
        b.rejected = {reject(std::move(id), c)};
        commit(b);
        clock_.advance(1min);
    };
    add("contacts", "003A", category::validation);  // t0
    add("contacts", "003B", category::duplicate);   // t0 + 1m
    add("leads", "00QA", category::validation);     // t0 + 2m
    add("contacts", "003C", category::validation);  // t0 + 3m
    const auto t0 = clock_.now - 4min;

    const auto ids_of = [](const std::vector<error_entry>& v) {
        std::vector<std::string> out;
        for (const auto& e : v)
            out.push_back(e.record_id);
        return out;
    };
    using ids = std::vector<std::string>;

    EXPECT_EQ(ids_of(store_->list_errors({}).value()), (ids{"003C", "00QA", "003B", "003A"}));

    error_filter f;
    f.stream = "contacts";
    EXPECT_EQ(ids_of(store_->list_errors(f).value()), (ids{"003C", "003B", "003A"}));
    f.category = category::validation;
    EXPECT_EQ(ids_of(store_->list_errors(f).value()), (ids{"003C", "003A"}));
    f.since = timestamp{t0 + 1min};  // last_seen >= since
    EXPECT_EQ(ids_of(store_->list_errors(f).value()), (ids{"003C"}));

    error_filter by_category;
    by_category.category = category::validation;
    by_category.limit = 2;
    EXPECT_EQ(ids_of(store_->list_errors(by_category).value()), (ids{"003C", "00QA"}));

    error_filter since;
    since.since = timestamp{t0 + 1min};
    EXPECT_EQ(ids_of(store_->list_errors(since).value()), (ids{"003C", "00QA", "003B"}));

    const auto all = store_->list_errors({}).value();
    error_filter by_id;
    by_id.ids = {all[3].id, all[1].id, all[1].id, 999999};
    EXPECT_EQ(ids_of(store_->list_errors(by_id).value()), (ids{"00QA", "003A"}));
    by_id.stream = "contacts";
    EXPECT_EQ(ids_of(store_->list_errors(by_id).value()), (ids{"003A"}));

    error_filter unlimited;
    unlimited.limit = 0;
    EXPECT_EQ(store_->list_errors(unlimited).value().size(), 4u);

    EXPECT_EQ(store_->get_error(999999).value(), std::nullopt);
}

TEST_F(store_test, list_errors_by_many_ids) {
    batch_commit b;
    b.stream = "contacts";
    for (int i = 0; i < 1200; ++i)
        b.rejected.push_back(reject(fmt::format("003{:06}", i)));
    commit(b);
    const auto all = store_->list_errors({.limit = 0}).value();
    ASSERT_EQ(all.size(), 1200u);

    error_filter f;
    for (std::size_t i = 0; i < all.size(); i += 2)
        f.ids.push_back(all[i].id);
    f.limit = 550;
    const auto got = store_->list_errors(f).value();
    ASSERT_EQ(got.size(), 550u);
    for (std::size_t i = 1; i < got.size(); ++i) {
        EXPECT_GT(got[i - 1].id, got[i].id);  // same last_seen: newest id first
    }
    EXPECT_EQ(got.front().id, all.front().id);
}

TEST_F(store_test, purge_drops_entries_last_seen_before_the_cutoff) {
    batch_commit b;
    b.stream = "contacts";
    b.rejected = {reject("003A"), reject("003B")};
    commit(b);
    clock_.advance(24h);
    const timestamp cutoff{clock_.now};
    b.rejected = {reject("003B"), reject("003C")};  // 003B seen again: kept
    commit(b);

    EXPECT_EQ(store_->purge_errors(cutoff).value(), 1);
    const auto left = store_->list_errors({}).value();
    ASSERT_EQ(left.size(), 2u);
    EXPECT_EQ(left[0].record_id, "003C");
    EXPECT_EQ(left[1].record_id, "003B");
    EXPECT_EQ(store_->purge_errors(cutoff).value(), 0);
}

// ---- runs and status ----------------------------------------------------------------------

TEST_F(store_test, runs_are_recorded) {
    const auto id = store_->begin_run("contacts", at_ms(1000)).value();
    EXPECT_GT(id, 0);
    auto st = store_->status({"contacts"}).value();
    ASSERT_TRUE(st.front().last_run);
    EXPECT_EQ(st.front().last_run->status, "running");
    EXPECT_FALSE(st.front().last_run->finished);

    ASSERT_TRUE(store_->finish_run(id, at_ms(4500), "failed", {7, 1, 2, 3, 1}, "http 503"));
    st = store_->status({"contacts"}).value();
    const auto& run = *st.front().last_run;
    EXPECT_EQ(run.id, id);
    EXPECT_EQ(run.stream, "contacts");
    EXPECT_EQ(run.started, at_ms(1000));
    EXPECT_EQ(run.finished, at_ms(4500));
    EXPECT_EQ(run.status, "failed");
    EXPECT_EQ(run.read, 7);
    EXPECT_EQ(run.created, 1);
    EXPECT_EQ(run.updated, 2);
    EXPECT_EQ(run.unchanged, 3);
    EXPECT_EQ(run.rejected, 1);
    EXPECT_EQ(run.error, "http 503");

    EXPECT_GT(store_->begin_run("contacts", at_ms(5000)).value(), id);
    EXPECT_EQ(store_->status({"contacts"}).value().front().last_run->status, "running");
}

TEST_F(store_test, finishing_an_unknown_run_or_with_an_unknown_status_fails) {
    auto r = store_->finish_run(12345, at_ms(1), "ok", {}, "");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::state_failed);
    EXPECT_NE(r.error().detail.find("no such run"), std::string::npos);

    const auto id = store_->begin_run("contacts", at_ms(1)).value();
    r = store_->finish_run(id, at_ms(2), "great", {}, "");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("CHECK constraint failed"), std::string::npos);
}

TEST_F(store_test, status_reports_each_named_stream_in_order) {
    const auto run = store_->begin_run("contacts", at_ms(1000)).value();
    batch_commit b;
    b.stream = "contacts";
    b.run_id = run;
    b.new_watermark = watermark{at_ms(1500), "003C"};
    b.delivered = {{"003A", make_digest(1)}, {"003B", make_digest(2)}};
    b.rejected = {reject("003C", category::duplicate),
                  reject("003D", category::validation),
                  reject("003E", category::validation)};
    b.created = 1;
    b.updated = 1;
    b.unchanged = 4;
    commit(b);
    b.new_watermark.reset();
    b.delivered = {{"003F", make_digest(3)}};
    b.rejected.clear();
    b.created = 0;
    b.updated = 1;
    b.unchanged = 2;
    commit(b);
    ASSERT_TRUE(store_->finish_run(run, at_ms(2000), "ok", {9, 1, 2, 6, 3}, ""));

    const auto st = store_->status({"leads", "contacts"}).value();
    ASSERT_EQ(st.size(), 2u);

    EXPECT_EQ(st[0].stream, "leads");  // nothing known yet: empty, not an error
    EXPECT_EQ(st[0].watermark, std::nullopt);
    EXPECT_EQ(st[0].last_run, std::nullopt);
    EXPECT_EQ(st[0].synced_total, 0);
    EXPECT_EQ(st[0].unchanged_total, 0);
    EXPECT_TRUE(st[0].open_errors_by_category.empty());

    EXPECT_EQ(st[1].stream, "contacts");
    EXPECT_EQ(st[1].watermark, (watermark{at_ms(1500), "003C"}));
    ASSERT_TRUE(st[1].last_run);
    EXPECT_EQ(st[1].last_run->status, "ok");
    EXPECT_EQ(st[1].synced_total, 3);
    EXPECT_EQ(st[1].unchanged_total, 6);
    EXPECT_EQ(st[1].open_errors_by_category,
              (std::map<std::string, std::int64_t>{{"duplicate", 1}, {"validation", 2}}));
    EXPECT_EQ(query_int(path_, "SELECT rejected FROM stream_totals WHERE stream = 'contacts'"), 3);

    EXPECT_TRUE(store_->status({}).value().empty());
}

// ---- opening ------------------------------------------------------------------------------

TEST(store_open, missing_directory_names_the_path) {
    temp_dir dir;
    const auto path = dir.path() / "no" / "such" / "state.db";
    auto s = store::open(path);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, errc::state_failed);
    EXPECT_NE(s.error().detail.find(path.string()), std::string::npos) << s.error().detail;
    EXPECT_NE(s.error().detail.find("does not exist"), std::string::npos) << s.error().detail;
}

TEST(store_open, parent_that_is_a_file_names_the_path) {
    temp_dir dir;
    std::ofstream(dir / "plain") << "not a directory";
    const auto path = dir / "plain" / "state.db";
    auto s = store::open(path);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, errc::state_failed);
    EXPECT_NE(s.error().detail.find(path.string()), std::string::npos) << s.error().detail;
    EXPECT_NE(s.error().detail.find("is not a directory"), std::string::npos) << s.error().detail;
}

TEST(store_open, unwritable_directory_names_the_path) {
    // /sys refuses new files even to root, unlike a chmod-ed directory.
    const std::filesystem::path path = "/sys/crmsync-state-test.db";
    if (::access("/sys", F_OK) != 0)
        GTEST_SKIP() << "no /sys on this system";
    auto s = store::open(path);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, errc::state_failed);
    EXPECT_NE(s.error().detail.find("open state database '" + path.string() + "'"),
              std::string::npos)
        << s.error().detail;
}

// Root ignores permission bits, and CI runs as root. There `check` runs in a child process that
// first becomes `nobody` and owns `dir`, so the bits bind it as they bind the daemon's user. The
// check returns what went wrong, empty when nothing did.
void as_unprivileged(const std::filesystem::path& dir, const std::function<std::string()>& check) {
    if (::geteuid() != 0) {
        EXPECT_EQ(check(), "");
        return;
    }
    constexpr uid_t nobody = 65534;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
        ASSERT_EQ(::chown(e.path().c_str(), nobody, nobody), 0) << e.path();
    ASSERT_EQ(::chown(dir.c_str(), nobody, nobody), 0);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string why = "could not become nobody";
        if (::setgid(nobody) == 0 && ::setuid(nobody) == 0)
            why = check();
        (void)!::write(fds[1], why.data(), why.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string why;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        why.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the check crashed";
    EXPECT_EQ(why, "");
}

// What is wrong with a failed open's error, empty when it names `path` and holds `words`.
std::string names(const result<std::unique_ptr<store>>& s,
                  const std::filesystem::path& path,
                  std::string_view words = {}) {
    if (s)
        return "the store opened";
    const std::string& d = s.error().detail;
    if (s.error().code != errc::state_failed)
        return "code " + s.error().message();
    if (d.find(path.string()) == std::string::npos || d.find(words) == std::string::npos)
        return "detail: " + d;
    return {};
}

TEST(store_open, read_only_directory_names_the_path) {
    temp_dir dir;
    const auto ro = dir / "ro";
    std::filesystem::create_directory(ro);
    std::filesystem::permissions(
        ro, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    const auto path = ro / "state.db";
    as_unprivileged(dir.path(), [&] { return names(store::open(path), path); });
    std::filesystem::permissions(ro, std::filesystem::perms::owner_all);
}

TEST(store_open, read_only_file_names_the_path) {
    temp_dir dir;
    const auto path = dir / "state.db";
    ASSERT_TRUE(store::open(path));
    ::chmod(path.c_str(), 0444);
    as_unprivileged(dir.path(), [&] { return names(store::open(path), path, "read-only"); });
}

TEST(store_open, a_file_that_is_not_a_database_names_the_path) {
    temp_dir dir;
    const auto path = dir / "state.db";
    std::ofstream(path) << std::string(4096, 'x');
    auto s = store::open(path);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, errc::state_failed);
    EXPECT_NE(s.error().detail.find(path.string()), std::string::npos) << s.error().detail;
    EXPECT_NE(s.error().detail.find("not a crmsync state database"), std::string::npos)
        << s.error().detail;
}

TEST(store_open, two_stores_share_one_file) {
    // The daemon and a CLI command: both open (migrations already applied), both see each
    // other's commits.
    temp_dir dir;
    const auto path = dir / "state.db";
    auto daemon = store::open(path);
    ASSERT_TRUE(daemon) << daemon.error().message();
    auto cli = store::open(path);
    ASSERT_TRUE(cli) << cli.error().message();

    batch_commit b;
    b.stream = "contacts";
    b.new_watermark = watermark{at_ms(42), "003A"};
    ASSERT_TRUE((*daemon)->commit_batch(b));
    EXPECT_EQ((*cli)->load_watermark("contacts").value(), b.new_watermark);
    ASSERT_TRUE((*cli)->set_watermark("contacts", std::nullopt));
    EXPECT_EQ((*daemon)->load_watermark("contacts").value(), std::nullopt);
}

TEST_F(store_test, trim_runs_keeps_the_newest_runs_of_that_stream_only) {
    std::vector<std::int64_t> contacts;
    for (int i = 0; i < 5; ++i)
        contacts.push_back(store_->begin_run("contacts", at_ms(1000 + i)).value());
    const auto leads = store_->begin_run("leads", at_ms(2000)).value();
    store_->begin_run("leads", at_ms(2001)).value();
    // A rejection logged by a run that is trimmed away stays in the error log.
    batch_commit b;
    b.stream = "contacts";
    b.run_id = contacts.front();
    b.rejected = {reject("003A", category::validation)};
    commit(b);

    EXPECT_EQ(store_->trim_runs("contacts", 2).value(), 3);
    EXPECT_EQ(store_->trim_runs("contacts", 2).value(), 0);
    // keep is at least 1: the run in progress is never dropped.
    EXPECT_EQ(store_->trim_runs("leads", 0).value(), 1);

    const auto st = store_->status({"contacts", "leads"}).value();
    ASSERT_TRUE(st[0].last_run);
    EXPECT_EQ(st[0].last_run->id, contacts.back());
    ASSERT_TRUE(st[1].last_run);
    EXPECT_GT(st[1].last_run->id, leads);
    EXPECT_EQ(store_->list_errors({}).value().size(), 1u);
}

TEST_F(store_test, quota_counts_add_raise_spend_and_start_each_day_from_zero) {
    auto q = store_->update_quota("mkto", "2026-11-23", quota_change::add, 50);
    ASSERT_TRUE(q) << q.error().message();
    EXPECT_EQ(q->calls, 50);
    EXPECT_FALSE(q->spent_until);
    q = store_->update_quota("mkto", "2026-11-23", quota_change::add, -20);  // given back
    EXPECT_EQ(q->calls, 30);
    q = store_->update_quota("mkto", "2026-11-23", quota_change::add, -100);
    EXPECT_EQ(q->calls, 0) << "never below zero";
    q = store_->update_quota("mkto", "2026-11-23", quota_change::raise, 900);
    EXPECT_EQ(q->calls, 900) << "Marketo's own, higher count";
    q = store_->update_quota("mkto", "2026-11-23", quota_change::raise, 10);
    EXPECT_EQ(q->calls, 900) << "a lower report never lowers it";
    const timestamp reset = at_ms(1'764'050'400'000);
    q = store_->update_quota("mkto", "2026-11-23", quota_change::spent, 0, reset);
    EXPECT_EQ(q->calls, 900);
    EXPECT_EQ(q->spent_until, reset);
    EXPECT_EQ(store_->update_quota("other", "2026-11-23", quota_change::add, 3)->calls, 3)
        << "each destination has its own count";

    q = store_->update_quota("mkto", "2026-11-24", quota_change::add, 5);
    EXPECT_EQ(q->calls, 5) << "a new quota day starts from zero";
    EXPECT_FALSE(q->spent_until) << "and is not spent";
    q = store_->update_quota("mkto", "2026-11-23", quota_change::add, 7);
    EXPECT_EQ(q->day, "2026-11-23");
    EXPECT_EQ(q->calls, 0) << "a day that is over changes nothing";
    const auto row = store_->load_quota("mkto");
    ASSERT_TRUE(row && *row);
    EXPECT_EQ((*row)->day, "2026-11-24");
    EXPECT_EQ((*row)->calls, 5);
    EXPECT_FALSE(*store_->load_quota("never"));
}

TEST_F(store_test, quota_counts_of_two_processes_add_up) {
    auto other = store::open(path_, clock_.fn());
    ASSERT_TRUE(other);
    ASSERT_TRUE(store_->update_quota("mkto", "2026-11-23", quota_change::add, 50));
    const auto q = (*other)->update_quota("mkto", "2026-11-23", quota_change::add, 50);
    ASSERT_TRUE(q);
    EXPECT_EQ(q->calls, 100);
}

}  // namespace
}  // namespace crmsync::state

namespace crmsync::state {
namespace {

TEST_F(store_test, api_usage_readings_per_source_and_origin_newest_wins) {
    EXPECT_TRUE(store_->load_api_usage("org").value().empty());
    const auto t1 = at_ms(1'764'050'400'000);
    const auto t2 = at_ms(1'764'050'460'000);
    ASSERT_TRUE(store_->record_api_usage(
        {.source = "org", .origin = "limits", .used = 100, .max = 15000, .read_at = t1}));
    ASSERT_TRUE(store_->record_api_usage({.source = "org",
                                          .origin = "sforce_limit_info",
                                          .used = 120,
                                          .max = 15000,
                                          .read_at = t2}));
    ASSERT_TRUE(store_->record_api_usage(
        {.source = "other", .origin = "limits", .used = 7, .max = 100, .read_at = t1}));
    // An older reading (another process that finished later) changes nothing.
    ASSERT_TRUE(store_->record_api_usage({.source = "org",
                                          .origin = "sforce_limit_info",
                                          .used = 110,
                                          .max = 15000,
                                          .read_at = t1}));
    auto u = store_->load_api_usage("org");
    ASSERT_TRUE(u) << u.error().message();
    ASSERT_EQ(u->size(), 2u);
    EXPECT_EQ((*u)[0].origin, "sforce_limit_info");
    EXPECT_EQ((*u)[0].used, 120);
    EXPECT_EQ((*u)[0].read_at, t2);
    EXPECT_EQ((*u)[1].origin, "limits");
    EXPECT_EQ((*u)[1].used, 100);
    EXPECT_EQ((*u)[1].max, 15000);
    ASSERT_TRUE(store_->record_api_usage(
        {.source = "org", .origin = "limits", .used = 150, .max = 16000, .read_at = t2}));
    EXPECT_EQ(store_->load_api_usage("org").value()[1].max, 16000);
    EXPECT_EQ(store_->load_api_usage("other").value().size(), 1u);
    // The origin is one of two names (CHECK in migrations/0003).
    EXPECT_FALSE(store_->record_api_usage(
        {.source = "org", .origin = "guess", .used = 1, .max = 2, .read_at = t2}));
}

}  // namespace
}  // namespace crmsync::state
