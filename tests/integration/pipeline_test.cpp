// Several batches in flight per stream (issue 5; SPEC §4 "the watermark moves only after the
// batch holding a record was acknowledged"): the real binary against the fake Salesforce and a
// fake Marketo whose answers are delayed, reordered or refused. Each commit's watermark is read
// from its "Batch sent." line, written right after the commit.

#include <crmsync/core/text.hpp>

#include "config_text.hpp"
#include "fake_marketo.hpp"
#include "fake_salesforce.hpp"
#include "process.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace crmsync {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using fakes::fault_spec;
using namespace std::chrono_literals;

constexpr std::size_t batch_size = 300;  // Marketo's Sync Leads maximum [MK-LEADS]
constexpr auto child_limit = 120s;       // a generous bound for one run on a loaded machine

class pipeline : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               fmt::format("crmsync-pipeline-{}-{}",
                           ::getpid(),
                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "mappings");
        sf_.set_max_page_size(1000);
    }
    void TearDown() override { fs::remove_all(dir_); }

    // `limits`: the destination's limits map; `key_and_fields`: the mapping from its key on.
    void write_config(const std::string& limits, const std::string& key_and_fields = R"(
  key: { source: Id, destination: sfdcContactId }
fields:
  - { to: email, from: Email, required: true }
  - { to: firstName, from: FirstName }
)") const {
        std::ofstream(dir_ / "crmsync.yaml") << testing::main_config{
            .state_dir = dir_,
            .sf_url = sf_.base_url(),
            .mkto_url = mkto_.base_url(),
            .log_level = "info",
            .mkto_keys = {"limits: " + limits}}.text();
        std::ofstream(dir_ / "mappings" / "contacts.yaml") << R"(
stream: contacts
source: { from: org, object: Contact }
destination:
  to: mkto)" << key_and_fields;
    }

    // `n` contacts an hour old, one millisecond apart: the query reads them in this order.
    void seed(int n) {
        const auto start = system_now() - 1h;
        for (int i = 0; i < n; ++i) {
            ids_.push_back(sf_.insert("Contact",
                                      {{"FirstName", fmt::format("First{}", i)},
                                       {"Email", fmt::format("person{}@example.com", i)}},
                                      timestamp{start + std::chrono::milliseconds(i)}));
        }
    }

    // `crmsync once`; its log lines, parsed.
    std::vector<json> once(int expected_exit) {
        const std::string log = (dir_ / fmt::format("once{}.log", runs_++)).string();
        const pid_t pid = testing::spawn(
            {CRMSYNC_BINARY, "once"},
            {.env = {"PATH=/usr/bin:/bin", "CRMSYNC_CONFIG=" + (dir_ / "crmsync.yaml").string()},
             .log_file = log});
        EXPECT_GT(pid, 0);
        const auto r = testing::wait_exit(pid, child_limit);
        const std::string text = testing::read_file(log);
        EXPECT_TRUE(r.exited) << text;
        EXPECT_EQ(r.code, expected_exit) << text;
        std::vector<json> lines;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) {
            auto j = json::parse(line, nullptr, false);
            if (j.is_object())
                lines.push_back(std::move(j));
        }
        return lines;
    }

    // The watermark id each commit that sent records wrote, in log order.
    static std::vector<std::string> committed(const std::vector<json>& lines) {
        std::vector<std::string> out;
        for (const auto& l : lines) {
            if (l.value("message", "") == "Batch sent.")
                out.push_back(l.value("watermark_id", ""));
        }
        return out;
    }

    // The stored watermark's record id (empty when none).
    std::string stored_watermark_id() const {
        sqlite3* db = nullptr;
        std::string id;
        if (sqlite3_open_v2((dir_ / "state.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
            SQLITE_OK) {
            sqlite3_stmt* st = nullptr;
            if (sqlite3_prepare_v2(db,
                                   "SELECT record_id FROM watermarks WHERE stream = 'contacts'",
                                   -1,
                                   &st,
                                   nullptr) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW) {
                id = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
            }
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
        return id;
    }

    // Position of a record in the query's order.
    std::size_t position(const std::string& id) const {
        return static_cast<std::size_t>(std::find(ids_.begin(), ids_.end(), id) - ids_.begin());
    }

    // Every contact in Marketo exactly once with its CRM values; no other person.
    void expect_same_sets() const {
        std::map<std::string, json> want;
        for (std::size_t i = 0; i < ids_.size(); ++i) {
            want[ids_[i]] = {{"email", fmt::format("person{}@example.com", i)},
                             {"firstName", fmt::format("First{}", i)}};
        }
        std::map<std::string, json> got;
        for (const auto& l : mkto_.leads()) {
            const std::string id = l.value("sfdcContactId", "");
            EXPECT_FALSE(got.contains(id)) << "two persons for " << id;
            got[id] = {{"email", l.value("email", json())},
                       {"firstName", l.value("firstName", json())}};
        }
        EXPECT_EQ(got, want);
    }

    // CRM ids of every Sync Leads input the fake received, in arrival order.
    std::vector<std::string> pushed_ids() const {
        std::vector<std::string> out;
        for (const auto& call : mkto_.push_calls()) {
            if (call.is_object() && call.contains("input")) {
                for (const auto& r : call["input"])
                    out.push_back(r.value("sfdcContactId", ""));
            }
        }
        return out;
    }

    fs::path dir_;
    fakes::fake_salesforce sf_{fakes::sf_options{}};
    fakes::fake_marketo mkto_{fakes::mkto_options{}};
    std::vector<std::string> ids_;  // in query order
    int runs_ = 0;
};

TEST_F(pipeline, several_batches_are_in_flight_never_more_than_the_limit) {
    // Every answer takes a while, so a sequential cycle would never have two calls open.
    mkto_.set_latency(250ms);
    write_config("{ calls_per_20s: 1000, concurrency: 10, batches_in_flight: 4 }");
    seed(static_cast<int>(batch_size) * 10);
    const auto lines = once(0);
    EXPECT_GT(mkto_.peak_concurrency(), 1) << "batches overlap";
    EXPECT_LE(mkto_.peak_concurrency(), 4) << "never more than batches_in_flight";
    EXPECT_EQ(mkto_.push_calls().size(), 10u);
    expect_same_sets();
    EXPECT_EQ(stored_watermark_id(), ids_.back());
    EXPECT_EQ(committed(lines).size(), 10u);
}

TEST_F(pipeline, by_default_a_stream_keeps_up_to_the_instances_concurrency_in_flight) {
    mkto_.set_latency(250ms);
    write_config("{ calls_per_20s: 1000, concurrency: 3 }");
    seed(static_cast<int>(batch_size) * 8);
    once(0);
    EXPECT_GT(mkto_.peak_concurrency(), 1);
    EXPECT_LE(mkto_.peak_concurrency(), 3);
    expect_same_sets();
}

TEST_F(pipeline, answers_out_of_order_commit_in_order) {
    // The first batch is answered last, the second second to last: each commit must still wait
    // for every batch before it, so the watermarks come in record order.
    mkto_.fail_next("/rest/v1/leads.json", {fault_spec::hang(1500ms), fault_spec::hang(700ms)});
    mkto_.set_latency(50ms);
    write_config("{ calls_per_20s: 1000, concurrency: 10, batches_in_flight: 5 }");
    seed(static_cast<int>(batch_size) * 7);
    const auto lines = once(0);
    EXPECT_GT(mkto_.peak_concurrency(), 2);
    std::vector<std::string> want;
    for (std::size_t b = 1; b <= 7; ++b)
        want.push_back(ids_[b * batch_size - 1]);  // each batch's last record
    EXPECT_EQ(committed(lines), want);
    EXPECT_EQ(stored_watermark_id(), ids_.back());
    expect_same_sets();
}

TEST_F(pipeline, a_failed_middle_batch_loses_nothing_though_later_ones_succeeded) {
    // The third batch is refused for good (610: the request itself is wrong [MK-ERR], never
    // retried); the fourth, in flight beside it, is applied by Marketo. One page holds every
    // record, so the four batches are handed over before the first answer.
    sf_.set_max_page_size(2000);
    mkto_.set_latency(300ms);
    const std::size_t n = batch_size * 6;
    seed(static_cast<int>(n));
    fault_spec refused = fault_spec::vendor("610");
    refused.body_contains = ids_[2 * batch_size + 7];
    mkto_.fail_next("/rest/v1/leads.json", {refused});
    write_config("{ calls_per_20s: 1000, concurrency: 10, batches_in_flight: 4 }");
    const auto first = once(1);
    ASSERT_EQ(mkto_.pending_faults(), 0u);

    // The run committed only what comes before the refused batch, though Marketo holds
    // records after it.
    const std::string wm = stored_watermark_id();
    const std::size_t committed_to = wm.empty() ? 0 : position(wm) + 1;
    EXPECT_LE(committed_to, 2 * batch_size);
    std::set<std::size_t> held;
    for (const auto& l : mkto_.leads())
        held.insert(position(l.value("sfdcContactId", "")));
    ASSERT_FALSE(held.empty());
    EXPECT_GT(*held.rbegin(), committed_to) << "a batch after the refused one was applied";
    EXPECT_LT(held.size(), n) << "the refused batch is missing";
    for (const auto& id : committed(first))
        EXPECT_LT(position(id), committed_to);

    // The next run sends everything past the watermark again, the refused batch included.
    const std::size_t pushed_before = pushed_ids().size();
    once(0);
    const auto pushed = pushed_ids();
    std::set<std::string> resent(pushed.begin() + static_cast<std::ptrdiff_t>(pushed_before),
                                 pushed.end());
    for (std::size_t i = committed_to; i < n; ++i)
        EXPECT_TRUE(resent.contains(ids_[i])) << "record " << i << " was not sent again";
    expect_same_sets();
    EXPECT_EQ(stored_watermark_id(), ids_.back());
}

TEST_F(pipeline, a_batch_writing_a_key_still_in_flight_waits_for_that_answer) {
    // The person's key is the email. The third batch's last contact shares the first contact's
    // email, in other case: it must not go while the first batch, which writes the same person,
    // is unanswered, since Marketo may create two persons on closely timed upserts of one key
    // [MK-LEADS]. The second batch shares no key, so it still overlaps the first.
    mkto_.set_latency(1s);
    write_config("{ calls_per_20s: 1000, concurrency: 10, batches_in_flight: 4 }",
                 R"(
  key: { source: Email, destination: email }
fields:
  - { to: firstName, from: FirstName }
)");
    const std::size_t n = batch_size * 3;
    const auto start = system_now() - 1h;
    for (std::size_t i = 0; i < n; ++i) {
        const bool shared = i == n - 1;
        ids_.push_back(
            sf_.insert("Contact",
                       {{"FirstName", shared ? std::string("Latest") : fmt::format("First{}", i)},
                        {"Email",
                         shared ? std::string("Person0@Example.COM")
                                : fmt::format("person{}@example.com", i)}},
                       timestamp{start + std::chrono::milliseconds(i)}));
    }
    once(0);

    EXPECT_EQ(mkto_.push_calls().size(), 3u);
    EXPECT_GE(mkto_.peak_concurrency(), 2) << "the batches with no shared key overlap";
    EXPECT_LE(mkto_.peak_concurrency(), 2) << "the third batch went while the first was unanswered";
    // One person per email, and the shared one holds the later record's values: the batches
    // were applied in record order.
    const auto leads = mkto_.leads();
    EXPECT_EQ(leads.size(), n - 1);
    std::size_t shared_persons = 0;
    for (const auto& l : leads) {
        if (to_lower_ascii(l.value("email", "")) == "person0@example.com") {
            ++shared_persons;
            EXPECT_EQ(l.value("firstName", ""), "Latest");
        }
    }
    EXPECT_EQ(shared_persons, 1u);
    EXPECT_EQ(stored_watermark_id(), ids_.back());
}

}  // namespace
}  // namespace crmsync
