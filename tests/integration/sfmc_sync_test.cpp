// End to end into a Marketing Cloud data extension: config files on disk, the compiled plan,
// the SQLite state, the HTTP client, the fake Salesforce and the fake Marketing Cloud tenant
// (api-reference §3). Every code path of the sfmc sink as `crmsync once` runs it.

#include "crmsync/config/load.hpp"
#include "crmsync/daemon/scheduler.hpp"
#include "crmsync/mapping/plan.hpp"

#include <boost/asio/io_context.hpp>

#include "config_text.hpp"
#include "fake_salesforce.hpp"
#include "fake_sfmc.hpp"
#include "manual_clock.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace crmsync {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;
using fakes::fault_spec;

const sys_ms t0 = timestamp::parse("2026-11-23T10:00:00Z")->at;
constexpr const char* de_key = "Contacts_DE";
constexpr const char* rowset_path = "/hub/v1/dataevents/key:Contacts_DE/rowset";

class sfmc_sync : public ::testing::Test {
protected:
    void SetUp() override {
        sf_ = std::make_unique<fakes::fake_salesforce>(fakes::sf_options{.clock = clock_.fn()});
        mc_ = std::make_unique<fakes::fake_sfmc>(
            fakes::sfmc_options{.retry_after = 1, .clock = clock_.fn()});
        mc_->add_data_extension({de_key,
                                 {{.name = "ContactId", .max_length = 18, .primary_key = true},
                                  {.name = "Email", .type = "EmailAddress", .required = true},
                                  {.name = "FirstName", .max_length = 20},
                                  {.name = "LastName", .max_length = 80},
                                  {.name = "City"}}});
        dir_ = fs::temp_directory_path() /
               fmt::format("crmsync-sfmc-{}-{}",
                           ::getpid(),
                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "mappings");
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write_config(int async_threshold = 1000,
                      const std::string& secret = "fake-sfmc-secret",
                      int batch_size = 50) {
        std::ofstream(dir_ / "crmsync.yaml")
            << testing::main_config{.state_dir = dir_,
                                    .sf_url = sf_->base_url(),
                                    .destinations = fmt::format(R"(  bu:
    kind: sfmc
    auth_url: {}
    account_id: "5100001234"
    client_id: fake-sfmc-client
    client_secret: "{}"
    batch_size: {}
    async_threshold: {}
)",
                                                                mc_->base_url(),
                                                                secret,
                                                                batch_size,
                                                                async_threshold)}
                   .text();
        std::ofstream(dir_ / "mappings" / "contacts.yaml") << fmt::format(R"(
stream: contacts_de
source: {{ from: org, object: Contact, settle: 30s, overlap: 5m }}
destination:
  to: bu
  object: data_extension:{}
  key: {{ source: Id, destination: ContactId }}
fields:
  - {{ to: Email, from: Email, transform: [trim, lower], required: true }}
  - {{ to: FirstName, from: FirstName, transform: [trim] }}
  - {{ to: LastName, from: LastName }}
  - {{ to: City, from: MailingCity }}
)",
                                                                          de_key);
    }

    std::vector<daemon::stream_result> run_once() {
        auto loaded = config::load(dir_ / "crmsync.yaml");
        EXPECT_TRUE(loaded.problems.empty()) << loaded.problems.sorted().front().to_string();
        std::vector<daemon::compiled_stream> streams;
        for (const auto& s : loaded.cfg.streams) {
            auto plan = mapping::compile(s, loaded.problems);
            EXPECT_TRUE(plan) << loaded.problems.sorted().front().to_string();
            streams.push_back({s, plan});
        }
        auto st = state::store::open(loaded.cfg.state_path);
        EXPECT_TRUE(st) << st.error().message();
        boost::asio::io_context ioc;
        daemon::options opts;
        opts.backoff = {.base = 1ms, .cap = 5ms, .max_attempts = 4};
        opts.now = clock_.fn();
        auto rt = daemon::runtime::build(ioc.get_executor(), loaded.cfg, std::move(streams), opts);
        EXPECT_TRUE(rt) << rt.error().message();
        return daemon::run_once(ioc, **rt, **st, {});
    }

    std::string contact(int i, std::string email = {}) {
        return sf_->insert(
            "Contact",
            {{"FirstName", fmt::format(" First{} ", i)},
             {"LastName", fmt::format("Last{}", i)},
             {"Email", email.empty() ? fmt::format("Person{}@Example.com", i) : email},
             {"MailingCity", "Paris"}},
            timestamp{t0 + std::chrono::milliseconds(i * 37)});
    }
    std::vector<std::string> contacts(int n) {
        std::vector<std::string> ids;
        for (int i = 0; i < n; ++i)
            ids.push_back(contact(i));
        return ids;
    }

    std::map<std::string, state::error_entry> errors() {
        auto st = state::store::open(dir_ / "state.db");
        EXPECT_TRUE(st);
        auto list = (*st)->list_errors({});
        EXPECT_TRUE(list);
        std::map<std::string, state::error_entry> out;
        for (auto& e : *list)
            out[e.record_id] = e;
        return out;
    }

    std::vector<fakes::sfmc_call> rowset_calls() const {
        std::vector<fakes::sfmc_call> out;
        for (const auto& c : mc_->calls()) {
            if (c.path == rowset_path)
                out.push_back(c);
        }
        return out;
    }

    void advance(std::chrono::milliseconds d) { clock_.set(clock_.now() + d); }

    fakes::manual_clock clock_{t0};
    std::unique_ptr<fakes::fake_salesforce> sf_;
    std::unique_ptr<fakes::fake_sfmc> mc_;
    fs::path dir_;
};

void expect_ok(const std::vector<daemon::stream_result>& results) {
    ASSERT_FALSE(results.empty());
    for (const auto& r : results)
        EXPECT_TRUE(r.outcome) << r.stream << ": " << r.outcome.error().message();
}

TEST_F(sfmc_sync, contacts_become_rows_keyed_by_the_crm_id_and_a_second_run_sends_nothing) {
    write_config();
    const auto ids = contacts(120);
    advance(1min);
    expect_ok(run_once());
    ASSERT_EQ(mc_->rows(de_key).size(), 120u);
    const auto row = mc_->row(de_key, ids[7]);
    ASSERT_TRUE(row);
    EXPECT_EQ((*row)["ContactId"], ids[7]);  // the Subscriber Key rule: the 18-char CRM id
    EXPECT_EQ((*row)["Email"], "person7@example.com");
    EXPECT_EQ((*row)["FirstName"], "First7");
    EXPECT_EQ((*row)["City"], "Paris");
    EXPECT_EQ(rowset_calls().size(), 3u);  // 50 + 50 + 20
    EXPECT_EQ(mc_->token_requests(), 1);

    const auto calls = mc_->calls().size();
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(rowset_calls().size(), 3u) << "unchanged records must not be sent again";
    // A new process describes the data extension at start for the drift check (a token and the
    // SOAP describe); nothing is written.
    const auto after = mc_->calls();
    for (std::size_t i = calls; i < after.size(); ++i) {
        EXPECT_TRUE(after[i].path == "/v2/token" || after[i].path == "/Service.asmx")
            << after[i].method << " " << after[i].path;
    }
    EXPECT_TRUE(errors().empty());
}

TEST_F(sfmc_sync, a_token_that_expires_mid_run_is_renewed_once_and_the_run_goes_on) {
    write_config();
    contacts(120);
    advance(1min);
    // The second rowset call finds the token expired server-side (401 errorcode 0).
    mc_->fail_next("/hub/v1/dataevents", {fault_spec::pass(), fault_spec::vendor("0")});
    expect_ok(run_once());
    EXPECT_EQ(mc_->rows(de_key).size(), 120u);
    EXPECT_EQ(mc_->token_requests(), 2);
    EXPECT_EQ(mc_->errors_sent().at("0"), 1);
    EXPECT_EQ(rowset_calls().size(), 4u);  // 3 chunks + the refused one again
    EXPECT_TRUE(errors().empty());
}

TEST_F(sfmc_sync, a_429_with_retry_after_is_honoured) {
    write_config();
    contacts(3);
    advance(1min);
    mc_->fail_next("/hub/v1/dataevents", {fault_spec::vendor("50100")});  // Retry-After: 1
    expect_ok(run_once());
    const auto calls = rowset_calls();
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0].status, 429u);
    // The backoff here is at most 5 ms: only the server's Retry-After explains a full second.
    EXPECT_GE(calls[1].at - calls[0].at, 1000ms);
    EXPECT_EQ(mc_->rows(de_key).size(), 3u);
    EXPECT_TRUE(errors().empty());
}

TEST_F(sfmc_sync, blocked_requests_and_server_errors_are_retried_never_rejected) {
    write_config();
    contacts(3);
    advance(1min);
    mc_->fail_next("/hub/v1/dataevents",
                   {fault_spec::vendor("50200"),
                    fault_spec::http(503, "<html>Service Unavailable</html>"),
                    fault_spec::connection_reset()});
    expect_ok(run_once());
    EXPECT_EQ(mc_->errors_sent().at("50200"), 1);
    EXPECT_EQ(rowset_calls().size(), 4u);
    EXPECT_EQ(mc_->rows(de_key).size(), 3u);
    EXPECT_TRUE(errors().empty());
}

TEST_F(sfmc_sync, transients_past_the_budget_stop_the_stream_and_keep_the_watermark) {
    write_config();
    contacts(3);
    advance(1min);
    mc_->fail_next("/hub/v1/dataevents", std::vector<fault_spec>(4, fault_spec::http(500, "{}")));
    const auto r = run_once();
    ASSERT_EQ(r.size(), 1u);
    ASSERT_FALSE(r[0].outcome);
    EXPECT_EQ(r[0].outcome.error().code, make_error_code(errc::transient));
    EXPECT_TRUE(errors().empty()) << "a transient failure is never a rejection";
    auto st = state::store::open(dir_ / "state.db");
    ASSERT_TRUE(st);
    auto wm = (*st)->load_watermark("contacts_de");
    ASSERT_TRUE(wm);
    EXPECT_FALSE(*wm);
    // The next run delivers everything.
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mc_->rows(de_key).size(), 3u);
}

TEST_F(sfmc_sync, bad_rows_are_isolated_and_logged_while_their_batch_is_delivered) {
    write_config();
    auto ids = contacts(40);
    const auto bad_email = contact(40, "not-an-email");
    const auto no_email = contact(41, "   ");  // trimmed to "": our own `required` check
    const auto long_name = sf_->insert(
        "Contact",
        {{"FirstName", std::string(30, 'x')}, {"LastName", "Long"}, {"Email", "long@example.com"}},
        timestamp{t0 + 2s});
    advance(1min);
    expect_ok(run_once());
    auto log = errors();
    ASSERT_EQ(log.size(), 3u);
    const auto& e = log.at(bad_email);
    EXPECT_EQ(e.category, category::validation);
    EXPECT_EQ(e.code, "10006");
    EXPECT_NE(e.message.find("Email is not a valid email address"), std::string::npos) << e.message;
    const json sent = json::parse(e.payload_json);
    EXPECT_EQ(sent["keys"]["ContactId"], bad_email);
    EXPECT_EQ(sent["values"]["Email"], "not-an-email");
    // Too long for the column the data extension's describe reports (MaxLength 20): refused by
    // our own preflight before any call: it was never sent.
    EXPECT_EQ(log.at(long_name).category, category::validation);
    EXPECT_EQ(log.at(long_name).code, "PREFLIGHT_TOO_LONG");
    for (const auto& body : mc_->rowset_bodies()) {
        for (const auto& row : body)
            EXPECT_NE(row["keys"]["ContactId"], long_name);
    }
    EXPECT_EQ(log.at(no_email).code, "REQUIRED_MISSING");  // our own preflight, never sent
    EXPECT_EQ(mc_->rows(de_key).size(), 40u);
    for (const auto& id : ids)
        EXPECT_TRUE(mc_->row(de_key, id)) << id;

    // Fixed in the CRM: sent again on its own and delivered.
    sf_->update("Contact", bad_email, {{"Email", "fixed@example.com"}});
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mc_->row(de_key, bad_email).value()["Email"], "fixed@example.com");
    EXPECT_FALSE(errors().contains(bad_email));
}

TEST_F(sfmc_sync, access_denied_rejects_the_records_as_access_and_the_stream_goes_on) {
    write_config();
    const auto ids = contacts(3);
    advance(1min);
    mc_->fail_next("/hub/v1/dataevents", {fault_spec::vendor("20002")});
    expect_ok(run_once());
    const auto log = errors();
    ASSERT_EQ(log.size(), 3u);
    for (const auto& id : ids) {
        EXPECT_EQ(log.at(id).category, category::access);
        EXPECT_EQ(log.at(id).code, "20002");
        EXPECT_EQ(log.at(id).message, "Insufficient Privileges");
    }
    EXPECT_EQ(rowset_calls().size(), 1u);
}

TEST_F(sfmc_sync, large_batches_go_through_the_async_api_with_polling_and_per_item_errors) {
    write_config(/*async_threshold=*/25, "fake-sfmc-secret", /*batch_size=*/10);
    mc_->set_async_pending_polls(2);
    std::string broken;
    for (int i = 0; i < 56; ++i) {
        const auto id = contact(i, i == 10 ? "broken@" : "");
        if (i == 10)
            broken = id;
    }
    advance(1min);
    expect_ok(run_once());
    // 56 records: two batches of 25 through the async API, the last 6 in one rowset call.
    EXPECT_EQ(mc_->count("PUT", "/data/v1/async/dataextensions/key:Contacts_DE/rows"), 2u);
    // Each request: 2 Pending polls and Complete; the one with an error also 1 results page.
    EXPECT_EQ(mc_->count("GET", "/data/v1/async/"), 3u + 1u + 3u);
    EXPECT_EQ(rowset_calls().size(), 1u);
    EXPECT_EQ(mc_->rows(de_key).size(), 55u);
    const auto log = errors();
    ASSERT_EQ(log.size(), 1u);
    const auto& e = log.begin()->second;
    EXPECT_EQ(e.record_id, broken);
    EXPECT_EQ(e.code, "UnexpectedError");
    EXPECT_EQ(e.category, category::other);  // async per-item codes are not documented
    EXPECT_NE(e.message.find("not a valid email address"), std::string::npos);
    EXPECT_EQ(json::parse(e.payload_json)["values"]["Email"], "broken@");
}

TEST_F(sfmc_sync, an_async_request_that_fails_whole_is_resent_through_rowset) {
    write_config(/*async_threshold=*/25, "fake-sfmc-secret", /*batch_size=*/10);
    mc_->fail_next_async_request();
    contacts(25);
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mc_->count("PUT", "/data/v1/async/dataextensions/key:Contacts_DE/rows"), 1u);
    EXPECT_EQ(rowset_calls().size(), 3u);  // 10 + 10 + 5
    EXPECT_EQ(mc_->rows(de_key).size(), 25u);
    EXPECT_TRUE(errors().empty());
}

TEST_F(sfmc_sync, malformed_json_replies_are_retried_without_a_crash) {
    write_config();
    contacts(3);
    advance(1min);
    mc_->fail_next("/hub/v1/dataevents", {fault_spec::garbled_json()});
    mc_->fail_next("/v2/token", {fault_spec::garbled_json()});
    expect_ok(run_once());
    EXPECT_EQ(mc_->token_requests(), 2);
    EXPECT_EQ(rowset_calls().size(), 2u);
    EXPECT_EQ(mc_->rows(de_key).size(), 3u);
}

TEST_F(sfmc_sync, refused_credentials_fail_the_run_as_auth_rejected) {
    write_config(1000, "wrong-secret");
    contacts(3);
    advance(1min);
    const auto r = run_once();
    ASSERT_EQ(r.size(), 1u);
    ASSERT_FALSE(r[0].outcome);
    EXPECT_EQ(r[0].outcome.error().code, make_error_code(errc::auth_rejected));
    EXPECT_EQ(r[0].outcome.error().message().find("wrong-secret"), std::string::npos);
    // One refused token request for the describe that feeds preflight, one for the push:
    // neither is retried.
    EXPECT_EQ(mc_->token_requests(), 2);
    EXPECT_TRUE(mc_->rows(de_key).empty());
}

}  // namespace
}  // namespace crmsync
