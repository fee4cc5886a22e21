// Crash safety of the real binary (SPEC §4 "kill -9 at any instant loses nothing; at most the
// batch in flight is sent again" — with batches_in_flight batches in flight, at most those): a
// large sync is killed with SIGKILL many times and restarted
// each time, then the fakes are compared by sets and the pushes are counted.
//
// The instants: `crmsync once` with crashpoint.so preloaded dies right before its N-th I/O call
// (N random), before its N-th write to SQLite's WAL (inside a commit, between frames), half-way
// through such a write (a torn frame), or before its N-th fsync (the commit point); and
// `crmsync run` is killed from the fake Marketo the moment the k-th Sync Leads arrives, either
// before Marketo executes it or after (the batch applied, its acknowledgement never read), or
// from the fake Salesforce as a query page is requested. No test hook exists in crmsync itself.
//
// CRMSYNC_CRASH_SEED=<seed> replays a run; the seed is printed on failure.

#include "crmsync/core/timestamp.hpp"
#include "crmsync/state/store.hpp"

#include "config_text.hpp"
#include "fake_marketo.hpp"
#include "fake_salesforce.hpp"
#include "process.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mount.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <sched.h>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace crmsync {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using fakes::fault_spec;
using testing::child_exit;
using namespace std::chrono_literals;

constexpr std::size_t batch_size = 300;  // Marketo's Sync Leads maximum, the sink's batch
// Batches one stream has sent and not committed at once (limits.batches_in_flight below, kept
// under the default of 10 so the bound says something about a 3000-record sync): a kill can
// lose the acknowledgement of each.
constexpr std::size_t batches_in_flight = 3;
constexpr auto child_limit = 120s;  // a generous bound for one run on a loaded machine

struct sync_fixture {
    fs::path dir;
    fs::path state_dir;        // the directory of state.db (a test may mount something there)
    std::string source_extra;  // more keys for the stream's source: map (", bulk_threshold: 1000")
    fakes::fake_salesforce sf{fakes::sf_options{}};
    fakes::fake_marketo mkto{fakes::mkto_options{
        .limits = {.calls_per_20s = 100000, .max_concurrency = 10, .daily_quota = 10000000}}};
    explicit sync_fixture(fs::path d, std::optional<fs::path> state = std::nullopt)
        : dir(std::move(d)), state_dir(state.value_or(dir / "state")) {
        fs::remove_all(dir);
        fs::create_directories(dir / "mappings");
        fs::create_directories(state_dir);
        sf.set_max_page_size(500);
        write_config();
    }

    void write_config() const {
        std::ofstream(dir / "crmsync.yaml") << testing::main_config{
            .state_dir = state_dir,
            .sf_url = sf.base_url(),
            .mkto_url = mkto.base_url(),
            .mkto_keys = {
                fmt::format("limits: {{ calls_per_20s: 100000, concurrency: 10, "
                            "daily_calls: 10000000, batches_in_flight: {} }}",
                            batches_in_flight)}}.text();
        std::ofstream(dir / "mappings" / "contacts.yaml") << R"(
stream: contacts
source: { from: org, object: Contact, every: 1s)" << source_extra
                                                          << R"( }
destination:
  to: mkto
  key: { source: Id, destination: sfdcContactId }
fields:
  - { to: email, from: Email, transform: [trim, lower], required: true }
  - { to: firstName, from: FirstName }
  - { to: lastName, from: LastName }
  - { to: leadScore, from: Lead_Score__c }
)";
    }

    // `n` contacts changed over the past hour, old enough for any settle window.
    void seed(int n, int first = 0) {
        const auto start = system_now() - 1h;
        for (int i = first; i < first + n; ++i) {
            sf.insert("Contact",
                      {{"FirstName", fmt::format("First{}", i)},
                       {"LastName", fmt::format("Last{}", i)},
                       {"Email", fmt::format(" Person{}@Example.com", i)},
                       {"Lead_Score__c", i % 100}},
                      timestamp{start + std::chrono::milliseconds(i * 700)});
        }
    }

    std::string config() const { return (dir / "crmsync.yaml").string(); }
    std::string state() const { return (state_dir / "state.db").string(); }

    pid_t start(const std::string& command,
                const std::vector<std::string>& extra_env,
                const std::string& log) const {
        std::vector<std::string> env{"PATH=/usr/bin:/bin", "CRMSYNC_CONFIG=" + config()};
        // An ASan build refuses a preloaded library ahead of its runtime unless told it is fine.
        env.push_back("ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0");
        env.insert(env.end(), extra_env.begin(), extra_env.end());
        return testing::spawn({CRMSYNC_BINARY, command}, {.env = env, .log_file = log});
    }

    child_exit run(const std::string& command,
                   const std::vector<std::string>& extra_env,
                   const std::string& log) const {
        const pid_t pid = start(command, extra_env, log);
        EXPECT_GT(pid, 0);
        return testing::wait_exit(pid, child_limit);
    }

    // Every Sync Leads input record the fake received, in order, by CRM id.
    std::vector<std::string> pushed_ids() const {
        std::vector<std::string> ids;
        for (const auto& call : mkto.push_calls()) {
            if (!call.is_object() || !call.contains("input"))
                continue;
            for (const auto& r : call["input"])
                ids.push_back(r.value("sfdcContactId", ""));
        }
        return ids;
    }

    // Every contact in Marketo exactly once, with the values the mapping gives its CRM record;
    // no other person.
    void expect_same_sets() const {
        std::map<std::string, json> expected;
        for (const auto& id : sf.ids("Contact")) {
            const auto c = *sf.get("Contact", id);
            std::string email = c["Email"].get<std::string>();
            email.erase(0, email.find_first_not_of(' '));
            std::transform(email.begin(), email.end(), email.begin(), [](unsigned char ch) {
                return static_cast<char>(std::tolower(ch));
            });
            expected[id] = {{"email", email},
                            {"firstName", c["FirstName"]},
                            {"lastName", c["LastName"]},
                            {"leadScore", c["Lead_Score__c"]}};
        }
        std::map<std::string, json> actual;
        std::size_t wrong = 0;
        for (const auto& l : mkto.leads()) {
            const std::string id = l.value("sfdcContactId", "");
            EXPECT_EQ(actual.count(id), 0u) << "two persons for " << id;
            json got = json::object();
            for (const char* f : {"email", "firstName", "lastName", "leadScore"})
                got[f] = l.value(f, json());
            actual[id] = got;
            const auto want = expected.find(id);
            if (want == expected.end()) {
                ADD_FAILURE() << "extra person " << l.dump();
            } else if (want->second != got && ++wrong <= 5) {
                ADD_FAILURE() << id << ": want " << want->second.dump() << ", got " << got.dump();
            }
        }
        std::size_t missing = 0;
        for (const auto& [id, want] : expected) {
            if (!actual.count(id) && ++missing <= 5)
                ADD_FAILURE() << "missing " << id;
        }
        EXPECT_EQ(missing, 0u);
        EXPECT_EQ(wrong, 0u);
        EXPECT_EQ(actual.size(), expected.size());
    }
};

std::string test_dir(const char* what) {
    return (fs::temp_directory_path() /
            fmt::format("crmsync-{}-{}-{}",
                        what,
                        ::getpid(),
                        ::testing::UnitTest::GetInstance()->current_test_info()->name()))
        .string();
}

// "io wal sync" counts a whole run made, from crashpoint.so.
std::array<long, 3> read_counts(const fs::path& file) {
    std::array<long, 3> c{0, 0, 0};
    std::ifstream in(file);
    in >> c[0] >> c[1] >> c[2];
    return c;
}

std::uint64_t crash_seed() {
    if (const char* s = std::getenv("CRMSYNC_CRASH_SEED"))
        return std::strtoull(s, nullptr, 10);
    return std::random_device{}();
}

TEST(crash, sigkill_at_random_instants_loses_nothing_and_resends_at_most_the_batches_in_flight) {
    const std::uint64_t seed = crash_seed();
    SCOPED_TRACE(fmt::format("CRMSYNC_CRASH_SEED={}", seed));
    std::mt19937_64 rng(seed);
    constexpr int records = 3000;

    // How many instants a whole sync has, per kind, and how many of them a run that finds
    // nothing to do spends anyway (start-up, token, the query, its commit): measured on an
    // identical twin.
    std::array<long, 3> whole{};
    std::array<long, 3> idle{};
    {
        sync_fixture twin(test_dir("crash-twin"));
        twin.seed(records);
        const auto counts = twin.dir / "counts";
        for (auto* out : {&whole, &idle}) {
            const auto r = twin.run(
                "once",
                {"LD_PRELOAD=" CRMSYNC_CRASHPOINT, "CRMSYNC_CRASH_COUNT=" + counts.string()},
                (twin.dir / "once.log").string());
            ASSERT_TRUE(r.exited && r.code == 0) << testing::read_file(twin.dir / "once.log");
            *out = read_counts(counts);
        }
        ASSERT_GT(whole[1], 20) << "WAL writes of a whole sync";
        ASSERT_GT(whole[2], 10) << "syncs of a whole sync";
        fs::remove_all(twin.dir);
    }

    sync_fixture f(test_dir("crash"));
    f.seed(records);

    // The kill plan: every kind of instant, shuffled. A preloaded kill falls uniformly within
    // what the run ahead has to do: its start-up plus the share of the sync still undone, but
    // at most twice an even share of the whole, so that the kills spread over the sync.
    enum class kind { io, wal, torn, sync, push_before, push_after, page };
    std::vector<kind> plan;
    plan.insert(plan.end(), 10, kind::io);
    plan.insert(plan.end(), 4, kind::wal);
    plan.insert(plan.end(), 3, kind::torn);
    plan.insert(plan.end(), 3, kind::sync);
    plan.insert(plan.end(), 3, kind::push_before);
    plan.insert(plan.end(), 3, kind::push_after);
    plan.insert(plan.end(), 2, kind::page);
    std::shuffle(plan.begin(), plan.end(), rng);
    const auto instant = [&](int kind_index, std::size_t left) {
        const long work = whole[kind_index] - idle[kind_index];
        const long ahead = idle[kind_index] + std::min(work * static_cast<long>(left) / records,
                                                       2 * work / static_cast<long>(plan.size()));
        return 1 + static_cast<long>(rng() % static_cast<std::uint64_t>(std::max<long>(1, ahead)));
    };

    std::vector<std::size_t> pushes_before_run;  // records pushed when each run started
    int kills = 0;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        const std::string log = (f.dir / fmt::format("run-{}.log", i)).string();
        const kind k = plan[i];
        const std::size_t left = records - std::min<std::size_t>(records, f.mkto.leads().size());
        if (left == 0 && (k == kind::push_before || k == kind::push_after))
            continue;  // no Sync Leads would come to be killed at
        pushes_before_run.push_back(f.pushed_ids().size());
        child_exit r;
        std::string what;
        if (k == kind::io || k == kind::wal || k == kind::torn || k == kind::sync) {
            static const char* names[] = {"io", "wal", "torn", "sync"};
            const long at = instant(k == kind::io ? 0 : k == kind::sync ? 2 : 1, left);
            what = fmt::format("{} #{}", names[static_cast<int>(k)], at);
            r = f.run("once",
                      {"LD_PRELOAD=" CRMSYNC_CRASHPOINT,
                       fmt::format("CRMSYNC_CRASH_ON={}", names[static_cast<int>(k)]),
                       fmt::format("CRMSYNC_CRASH_AT={}", at)},
                      log);
        } else {
            // `crmsync run`, killed by the fake the moment the chosen request arrives. The k-th
            // Sync Leads of this run surely comes while records remain unsent (each run sends
            // at least one batch per 300 records it has not delivered yet), and every cycle
            // (each second) reads at least one page.
            std::atomic<pid_t> pid{0};
            fault_spec hit =
                k == kind::push_after ? fault_spec::hang(30s) : fault_spec::connection_reset(false);
            hit.on_arrival = [&pid] {
                pid_t p = 0;
                while ((p = pid.load()) == 0)  // the child asked before spawn() returned
                    std::this_thread::yield();
                ::kill(p, SIGKILL);
            };
            std::vector<fault_spec> script;
            std::string prefix;
            if (k == kind::page) {
                prefix = "/services/data/v61.0/query";
                script.assign(rng() % 3, fault_spec::pass());
            } else {
                prefix = "/rest/v1/leads.json";
                const std::size_t batches = (left + batch_size - 1) / batch_size;
                script.assign(rng() % std::min<std::size_t>(batches, 3), fault_spec::pass());
            }
            what = fmt::format("run, request #{} of {}{}",
                               script.size() + 1,
                               prefix,
                               k == kind::push_after ? " after Marketo applied it" : "");
            script.push_back(hit);
            if (k == kind::page)
                f.sf.fail_next(prefix, script);
            else
                f.mkto.fail_next(prefix, script);
            const pid_t child = f.start("run", {}, log);
            ASSERT_GT(child, 0);
            pid = child;
            r = testing::wait_exit(child, child_limit);
            f.sf.clear_faults();
            f.mkto.clear_faults();
        }
        if (std::getenv("CRMSYNC_CRASH_VERBOSE"))
            std::cerr << what << ": " << (r.exited ? "exit " + std::to_string(r.code) : "killed")
                      << ", " << f.mkto.leads().size() << " persons\n";
        ASSERT_FALSE(r.timed_out) << what << "\n" << testing::read_file(log);
        if (r.exited) {
            // The sync finished before the chosen instant: fine, as long as it succeeded.
            ASSERT_EQ(r.code, 0) << what << "\n" << testing::read_file(log);
        } else {
            ASSERT_TRUE(r.killed_by(SIGKILL)) << what << ": signal " << r.signal << "\n"
                                              << testing::read_file(log);
            ++kills;
        }
    }

    // The last restart, with nothing in its way, finishes the sync.
    pushes_before_run.push_back(f.pushed_ids().size());
    const std::string last_log = (f.dir / "last.log").string();
    const auto last = f.run("once", {}, last_log);
    ASSERT_TRUE(last.exited && last.code == 0) << testing::read_file(last_log);
    pushes_before_run.push_back(f.pushed_ids().size());

    f.expect_same_sets();

    // Each restart sends again at most what was in flight when the previous run died. Pushes
    // are counted by when the fake recorded them: a killed process may have had up to
    // batches_in_flight - 1 more calls on the wire, which the fake records only after the next
    // run began, so one run's count may hold those too. The total is exact either way.
    const auto ids = f.pushed_ids();
    std::set<std::string> seen;
    std::size_t resent_total = 0;
    for (std::size_t run = 0; run + 1 < pushes_before_run.size(); ++run) {
        std::size_t resent = 0;
        for (std::size_t p = pushes_before_run[run]; p < pushes_before_run[run + 1]; ++p)
            resent += seen.insert(ids[p]).second ? 0 : 1;
        EXPECT_LE(resent, batch_size * (2 * batches_in_flight - 1)) << "run " << run;
        resent_total += resent;
    }
    EXPECT_EQ(ids.size(), records + resent_total);
    EXPECT_LE(resent_total, static_cast<std::size_t>(kills) * batch_size * batches_in_flight);
    EXPECT_GE(kills, 15) << "most of the plan should have landed before the sync finished";
    RecordProperty("kills", kills);
    RecordProperty("resent", static_cast<int>(resent_total));

    // The state is sound and caught up: a run finds nothing to send, and the watermark is the
    // newest record's position.
    auto st = state::store::open(f.state());
    ASSERT_TRUE(st) << st.error().message();
    auto errors = (*st)->list_errors({.limit = 0});
    ASSERT_TRUE(errors);
    EXPECT_TRUE(errors->empty());
    const auto wm = (*st)->load_watermark("contacts");
    ASSERT_TRUE(wm && *wm);
    const auto newest = f.sf.ids("Contact");
    std::optional<state::watermark> max;
    for (const auto& id : newest) {
        const auto c = *f.sf.get("Contact", id);
        state::watermark w{*timestamp::parse(c["SystemModstamp"].get<std::string>()), id};
        if (!max || *max < w)
            max = w;
    }
    EXPECT_EQ(**wm, *max);
    if (!HasFailure())
        fs::remove_all(f.dir);
}

// ---- the state directory failing under the daemon --------------------------------------------

// A private mount namespace for this test process, so tmpfs and read-only bind mounts vanish
// with it whatever happens. Needs CAP_SYS_ADMIN, and a process with a single thread (call it
// before any fake starts its server thread).
// CRMSYNC_TEST_NO_MOUNTS=1 takes the fallbacks, as on a machine without the capability.
bool private_mounts() {
    if (std::getenv("CRMSYNC_TEST_NO_MOUNTS") || ::unshare(CLONE_NEWNS) != 0)
        return false;
    return ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}

// PRAGMA integrity_check on the state file, "ok" when sound.
std::string integrity(const std::string& path) {
    sqlite3* db = nullptr;
    std::string out = "cannot open";
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return out;
}

// Every CRM record at or before the watermark is in Marketo: the watermark never passed a
// record that was not delivered.
void expect_watermark_covered(const sync_fixture& f, const std::optional<state::watermark>& wm) {
    if (!wm)
        return;
    std::set<std::string> persons;
    for (const auto& l : f.mkto.leads())
        persons.insert(l.value("sfdcContactId", ""));
    std::size_t uncovered = 0;
    for (const auto& id : f.sf.ids("Contact")) {
        const auto c = *f.sf.get("Contact", id);
        const state::watermark at{*timestamp::parse(c["SystemModstamp"].get<std::string>()), id};
        if (at <= *wm && !persons.count(id) && ++uncovered <= 5)
            ADD_FAILURE() << id << " is behind the watermark but not in Marketo";
    }
    EXPECT_EQ(uncovered, 0u);
}

std::optional<state::watermark> stored_watermark(const sync_fixture& f) {
    auto st = state::store::open(f.state());
    EXPECT_TRUE(st) << st.error().message();
    if (!st)
        return std::nullopt;
    auto wm = (*st)->load_watermark("contacts");
    EXPECT_TRUE(wm);
    return wm ? *wm : std::nullopt;
}

// Lines of a JSON log at level error, and whether anything looks like a crash.
std::vector<std::string> error_lines(const std::string& log) {
    std::vector<std::string> out;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        if (line.find(R"("level":"error")") != std::string::npos)
            out.push_back(line);
    }
    return out;
}

// A Bulk API 2.0 initial load killed mid-delivery (the 4th Sync Leads of the load, after
// Marketo applied it or before) has set no watermark, so the next process restarts the load with
// a new job; the digests of what was delivered make those records unchanged: nothing is lost and
// at most the batches in flight are sent twice (docs/architecture.md "Initial load through Bulk
// API 2.0").
TEST(crash, a_bulk_load_killed_mid_delivery_restarts_and_loses_nothing) {
    for (const bool applied : {true, false}) {
        SCOPED_TRACE(applied ? "killed after Marketo applied the batch" : "killed before");
        sync_fixture f(test_dir(applied ? "bulk-after" : "bulk-before"));
        f.source_extra = ", bulk_threshold: 1000";
        f.write_config();
        constexpr int records = 3000;
        f.seed(records);
        std::atomic<pid_t> pid{0};
        fault_spec hit = applied ? fault_spec::hang(30s) : fault_spec::connection_reset(false);
        hit.on_arrival = [&pid] {
            pid_t p = 0;
            while ((p = pid.load()) == 0)
                std::this_thread::yield();
            ::kill(p, SIGKILL);
        };
        f.mkto.fail_next("/rest/v1/leads.json",
                         {fault_spec::pass(), fault_spec::pass(), fault_spec::pass(), hit});
        const std::string log = (f.dir / "run.log").string();
        const pid_t child = f.start("run", {}, log);
        ASSERT_GT(child, 0);
        pid = child;
        const auto killed = testing::wait_exit(child, child_limit);
        ASSERT_FALSE(killed.timed_out) << testing::read_file(log);
        ASSERT_FALSE(killed.exited) << testing::read_file(log);
        f.mkto.clear_faults();
        EXPECT_EQ(f.sf.bulk_jobs_created(), 1u);
        // Batches 5 and 6 may have been in flight beside the 4th (batches_in_flight).
        EXPECT_GE(f.mkto.leads().size(), applied ? 1200u : 900u);
        EXPECT_LE(f.mkto.leads().size(), 900u + batch_size * batches_in_flight);
        {
            auto st = state::store::open(f.state());
            ASSERT_TRUE(st);
            EXPECT_FALSE((*st)->load_watermark("contacts").value()) << "no watermark mid-load";
        }
        const auto before = f.pushed_ids().size();
        const std::string again = (f.dir / "once.log").string();
        const auto r = f.run("once", {}, again);
        ASSERT_TRUE(r.exited && r.code == 0) << testing::read_file(again);
        EXPECT_EQ(f.sf.bulk_jobs_created(), 2u) << "the load restarted with a new job";
        f.expect_same_sets();
        // The restart sends what was not committed: at most the batches in flight twice.
        EXPECT_LE(f.pushed_ids().size() - before, records + 0u);
        EXPECT_LE(f.pushed_ids().size(), records + batch_size * batches_in_flight);
        auto st = state::store::open(f.state());
        ASSERT_TRUE(st);
        EXPECT_TRUE((*st)->load_watermark("contacts").value());
        fs::remove_all(f.dir);
    }
}

TEST(state_directory, a_full_disk_stops_the_run_with_one_clear_error_and_loses_nothing) {
    const fs::path mount_point = test_dir("full-disk-state");
    fs::remove_all(mount_point);
    fs::create_directories(mount_point);
    // A real full filesystem where possible: a 256 KiB tmpfs holds the migrated state but not the
    // write-ahead log of a 3000-record sync. Otherwise RLIMIT_FSIZE makes the same writes fail
    // (EFBIG instead of ENOSPC; SQLite reports a full disk or an I/O error).
    const bool tmpfs =
        private_mounts() &&
        ::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=256k,mode=0755") == 0;
    sync_fixture f(test_dir("full-disk"), mount_point);
    f.seed(3000);
    const std::string log = (f.dir / "full.log").string();
    child_exit r;
    if (tmpfs) {
        const pid_t pid = f.start("once", {}, log);
        ASSERT_GT(pid, 0);
        r = testing::wait_exit(pid, child_limit);
    } else {
        const pid_t pid =
            testing::spawn({CRMSYNC_BINARY, "once"},
                           {.env = {"PATH=/usr/bin:/bin", "CRMSYNC_CONFIG=" + f.config()},
                            .log_file = log,
                            .max_file_size = 512 * 1024});
        ASSERT_GT(pid, 0);
        r = testing::wait_exit(pid, child_limit);
    }
    const auto text = testing::read_file(log);
    if (std::getenv("CRMSYNC_CRASH_VERBOSE"))
        std::cerr << text;
    ASSERT_TRUE(r.exited) << "no crash: signal " << r.signal << "\n" << text;
    EXPECT_EQ(r.code, 1) << text;
    const auto errors = error_lines(text);
    ASSERT_FALSE(errors.empty()) << text;
    const std::string why = tmpfs ? "database or disk is full" : "disk";
    for (const auto& e : errors)
        EXPECT_NE(e.find(why), std::string::npos) << "one cause, named: " << e;
    EXPECT_NE(errors.front().find("state"), std::string::npos) << errors.front();
    EXPECT_GT(f.mkto.leads().size(), 0u) << "the disk filled up during the sync, not before";
    EXPECT_LT(f.mkto.leads().size(), 3000u) << text;

    // Space comes back (the tmpfs grows, or the limit is gone): the state opens with its last
    // committed watermark, which covers only delivered records, and the next run completes.
    if (tmpfs) {
        ASSERT_EQ(::mount(nullptr, mount_point.c_str(), nullptr, MS_REMOUNT, "size=64m"), 0);
    }
    expect_watermark_covered(f, stored_watermark(f));
    const auto again = f.run("once", {}, (f.dir / "again.log").string());
    ASSERT_TRUE(again.exited && again.code == 0)
        << testing::read_file((f.dir / "again.log").string());
    f.expect_same_sets();
    EXPECT_EQ(integrity(f.state()), "ok");
    fs::remove_all(f.dir);
    if (tmpfs)
        ::umount(mount_point.c_str());
    fs::remove_all(mount_point);
}

TEST(state_directory, a_read_only_state_directory_fails_clearly_sends_nothing_and_keeps_the_state) {
    // As root, permissions do not stop writes: a read-only bind mount does. Without root, the
    // permission bits do.
    const bool root = ::geteuid() == 0;
    if (root && !private_mounts())
        GTEST_SKIP() << "root without CAP_SYS_ADMIN: no way to make a directory read-only";
    sync_fixture f(test_dir("read-only"));
    f.seed(1000);
    auto r = f.run("once", {}, (f.dir / "first.log").string());
    ASSERT_TRUE(r.exited && r.code == 0) << testing::read_file((f.dir / "first.log").string());
    const auto before = stored_watermark(f);
    ASSERT_TRUE(before);
    f.seed(500, 1000);
    const auto calls = f.mkto.push_calls().size();

    const auto dir = f.state_dir.string();
    if (root) {
        ASSERT_EQ(::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr), 0);
        ASSERT_EQ(::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr),
                  0);
    } else {
        fs::permissions(f.state_dir, fs::perms::owner_read | fs::perms::owner_exec);
        for (const auto& e : fs::directory_iterator(f.state_dir))
            fs::permissions(e.path(), fs::perms::owner_read);
    }
    const std::string log = (f.dir / "read-only.log").string();
    r = f.run("once", {}, log);
    const auto text = testing::read_file(log);
    if (std::getenv("CRMSYNC_CRASH_VERBOSE"))
        std::cerr << text;
    ASSERT_TRUE(r.exited) << "no crash: signal " << r.signal << "\n" << text;
    EXPECT_EQ(r.code, 1) << text;
    EXPECT_NE(text.find(f.state()), std::string::npos) << "the error names the file:\n" << text;
    EXPECT_EQ(f.mkto.push_calls().size(), calls) << "nothing is sent that cannot be recorded";

    if (root) {
        ASSERT_EQ(::umount(dir.c_str()), 0);
    } else {
        fs::permissions(f.state_dir, fs::perms::owner_all);
        for (const auto& e : fs::directory_iterator(f.state_dir))
            fs::permissions(e.path(), fs::perms::owner_read | fs::perms::owner_write);
    }
    EXPECT_EQ(stored_watermark(f), before) << "the state is as the last good run left it";
    r = f.run("once", {}, (f.dir / "again.log").string());
    ASSERT_TRUE(r.exited && r.code == 0) << testing::read_file((f.dir / "again.log").string());
    f.expect_same_sets();
    EXPECT_EQ(integrity(f.state()), "ok");
    fs::remove_all(f.dir);
}

}  // namespace
}  // namespace crmsync
