// End-to-end behaviour of SPEC §4 through the real modules: config files on disk, the compiled
// plan, the SQLite state, the HTTP client, and the fake Salesforce and Marketo servers.

#include "crmsync/core/central_time.hpp"
#include "crmsync/observability/health.hpp"
#include "crmsync/observability/metrics.hpp"
#include "crmsync/sink/sink.hpp"

#include "config_text.hpp"
#include "fake_marketo.hpp"
#include "fake_salesforce.hpp"
#include "in_process.hpp"
#include "manual_clock.hpp"
#include "prometheus_text.hpp"
#include "rsa_test_key.hpp"
#include "test_client.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace crmsync {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

const sys_ms t0 = timestamp::parse("2026-11-23T10:00:00Z")->at;

const char* mapping_fields = R"(
fields:
  - { to: email, from: Email, transform: [trim, lower], required: true }
  - { to: firstName, from: FirstName, transform: [trim] }
  - { to: lastName, from: LastName }
  - to: city
    coalesce: [MailingCity, City_A__c, City_U__c]
  - to: salutation
    from: Salutation
    map: { "Mr.": Monsieur, "Ms.": Madame, "Mrs.": Madame }
    unmapped: reject
  - { to: leadScore, from: Lead_Score__c }
)";

class sync : public ::testing::Test {
protected:
    void SetUp() override {
        sf_ = std::make_unique<fakes::fake_salesforce>(fakes::sf_options{.clock = clock_.fn()});
        mkto_ = std::make_unique<fakes::fake_marketo>(fakes::mkto_options{.clock = clock_.fn()});
        dir_ = testing::fresh_test_dir("sync");
        write_config();
    }

    void TearDown() override { fs::remove_all(dir_); }

    // `sf_auth_` replaces the client_credentials auth map and `api_budget_` adds the key, so
    // tests can switch flows or budgets without a second config template.
    void write_config(const std::string& sf_secret = "fake-sf-secret") {
        const std::string auth = sf_auth_.empty() ? fmt::format(
                                                        "{{ flow: client_credentials, client_id: "
                                                        "fake-sf-client, client_secret: \"{}\" }}",
                                                        sf_secret)
                                                  : sf_auth_;
        testing::main_config main{.state_dir = dir_,
                                  .sf_url = sf_->base_url(),
                                  .mkto_url = mkto_->base_url(),
                                  .sf_auth = auth};
        if (!api_budget_.empty())
            main.sf_keys.push_back("api_budget: " + api_budget_);
        main.sf_keys.insert(main.sf_keys.end(), sf_keys_.begin(), sf_keys_.end());
        std::ofstream(dir_ / "crmsync.yaml") << main.text();
        const std::string deletes =
            (deletes_.empty() ? "" : ", deletes: " + deletes_) +
            (bulk_threshold_.empty() ? "" : ", bulk_threshold: " + bulk_threshold_);
        std::ofstream(dir_ / "mappings" / "contacts.yaml") << R"(
stream: contacts
source: { from: org, object: Contact, where: "Email != null", settle: 30s, overlap: 5m)"
                                                           << deletes << R"( }
destination:
  to: mkto
  object: lead
  action: createOrUpdate
  key: { source: Id, destination: sfdcContactId }
)" << mapping_fields << extra_fields_;
    }

    // A runtime as `crmsync once` builds it, with a short backoff so retry budgets end fast;
    // tests may adjust its streams before running it, and run it more than once.
    std::unique_ptr<testing::in_process_daemon> make_session() {
        daemon::options opts;
        opts.backoff = {.base = 1ms, .cap = 5ms, .max_attempts = 4};
        opts.now = clock_.fn();
        return std::make_unique<testing::in_process_daemon>(dir_ / "crmsync.yaml", opts);
    }

    // One `crmsync once`, as the CLI runs it.
    std::vector<daemon::stream_result> run_once() { return make_session()->run_once(); }

    std::unique_ptr<state::store> open_store() {
        auto st = state::store::open(dir_ / "state.db");
        EXPECT_TRUE(st);
        return std::move(*st);
    }

    std::string contact(int i, std::optional<timestamp> at = std::nullopt) {
        static const char* salutations[] = {"Mr.", "Ms.", "Mrs."};
        return sf_->insert("Contact",
                           {{"FirstName", fmt::format(" First{} ", i)},
                            {"LastName", fmt::format("Last{}", i)},
                            {"Email", fmt::format("Person{}@Example.com", i)},
                            {"MailingCity", i % 3 == 0 ? json("Paris") : json(nullptr)},
                            {"City_A__c", i % 3 == 1 ? json("Lyon") : json(nullptr)},
                            {"City_U__c", "Nantes"},
                            {"Salutation", salutations[i % 3]},
                            {"Lead_Score__c", i}},
                           at);
    }

    // CRM fields whose values Marketo's person fields cannot all hold: a long text mapped to
    // the 255-character `title`, and a legacy text date mapped to the `birthDate` date.
    void map_preflight_fields() {
        sf_->add_field("Contact", {.name = "About__c", .type = "textarea", .length = 32000});
        sf_->add_field("Contact", {.name = "Birth_Text__c", .type = "string", .length = 20});
        extra_fields_ =
            "  - { to: title, from: About__c }\n"
            "  - { to: birthDate, from: Birth_Text__c }\n";
        write_config();
    }

    // A contact whose About__c (mapped to title, 255 characters) holds 300.
    std::string long_text_contact() {
        return sf_->insert("Contact",
                           {{"LastName", "Long"},
                            {"Email", "long@example.com"},
                            {"About__c", std::string(300, 'x')}},
                           timestamp{t0});
    }

    // Every Sync Leads input record the fake received, across all calls.
    std::size_t records_pushed() const {
        std::size_t n = 0;
        for (const auto& call : mkto_->push_calls())
            n += call["input"].size();
        return n;
    }

    std::set<std::string> persons_by_crm_id() const {
        std::set<std::string> ids;
        for (const auto& l : mkto_->leads()) {
            if (l.contains("sfdcContactId") && l["sfdcContactId"].is_string())
                ids.insert(l["sfdcContactId"]);
        }
        return ids;
    }

    void advance(std::chrono::milliseconds d) { clock_.set(clock_.now() + d); }

    fakes::manual_clock clock_{t0};
    std::unique_ptr<fakes::fake_salesforce> sf_;
    std::unique_ptr<fakes::fake_marketo> mkto_;
    fs::path dir_;
    std::string sf_auth_;     // YAML flow map for sources.org.auth; empty = client_credentials
    std::string api_budget_;  // sources.org.api_budget; empty = the default (100%)
    std::vector<std::string> sf_keys_;  // more "key: value" lines of sources.org
    std::string deletes_;               // the stream's source.deletes; empty = the default (ignore)
    std::string bulk_threshold_;        // the stream's source.bulk_threshold; empty = the default
    std::string extra_fields_;          // more `fields:` entries after mapping_fields
};

using testing::expect_ok;

TEST_F(sync, n_contacts_give_n_persons_and_a_second_run_sends_nothing) {
    std::set<std::string> ids;
    for (int i = 0; i < 250; ++i)
        ids.insert(contact(i, timestamp{t0 + std::chrono::milliseconds(i * 37)}));
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(persons_by_crm_id(), ids);
    EXPECT_EQ(mkto_->push_calls().size(), 1u);  // 250 records fit one batch of 300

    const auto person = mkto_->find("sfdcContactId", *ids.begin());
    ASSERT_EQ(person.size(), 1u);
    EXPECT_EQ(person[0]["email"].get<std::string>().find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
              std::string::npos);

    const auto calls = mkto_->push_calls().size();
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->push_calls().size(), calls) << "unchanged records must not be sent again";
    auto st = open_store()->status({"contacts"});
    ASSERT_TRUE(st);
    EXPECT_EQ((*st)[0].synced_total, 250);
    EXPECT_EQ((*st)[0].unchanged_total, 250);  // the second run re-read them in the overlap window
}

TEST_F(sync, mapping_applies_fallbacks_translation_and_normalisation) {
    const auto a = contact(0, timestamp{t0});  // MailingCity Paris
    const auto b = contact(1, timestamp{t0});  // City_A__c Lyon
    const auto c = contact(2, timestamp{t0});  // only City_U__c Nantes
    advance(1min);
    expect_ok(run_once());
    const auto pa = mkto_->find("sfdcContactId", a).at(0);
    EXPECT_EQ(pa["city"], "Paris");
    EXPECT_EQ(pa["salutation"], "Monsieur");
    EXPECT_EQ(pa["firstName"], "First0");
    EXPECT_EQ(pa["email"], "person0@example.com");
    EXPECT_EQ(mkto_->find("sfdcContactId", b).at(0)["city"], "Lyon");
    EXPECT_EQ(mkto_->find("sfdcContactId", c).at(0)["city"], "Nantes");
    EXPECT_EQ(mkto_->find("sfdcContactId", c).at(0)["salutation"], "Madame");
}

TEST_F(sync, rejected_records_land_in_the_error_log_and_do_not_block_the_stream) {
    for (int i = 0; i < 20; ++i)
        contact(i, timestamp{t0});
    const auto doctor =
        sf_->insert("Contact",
                    {{"LastName", "Who"}, {"Email", "who@example.com"}, {"Salutation", "Dr."}},
                    timestamp{t0});
    const auto invalid =
        sf_->insert("Contact", {{"LastName", "Bad"}, {"Email", "not-an-email"}}, timestamp{t0});
    const auto dup = sf_->insert(
        "Contact", {{"LastName", "Twin"}, {"Email", "twin@example.com"}}, timestamp{t0});
    mkto_->add_person({{"email", "twin1@example.com"}, {"sfdcContactId", dup}});
    mkto_->add_person({{"email", "twin2@example.com"}, {"sfdcContactId", dup}});
    advance(1min);
    expect_ok(run_once());

    auto errors = open_store()->list_errors({});
    ASSERT_TRUE(errors);
    std::map<std::string, state::error_entry> by_record;
    for (const auto& e : *errors)
        by_record[e.record_id] = e;
    ASSERT_EQ(by_record.size(), 3u);
    EXPECT_EQ(by_record[doctor].category, category::validation);
    EXPECT_EQ(by_record[doctor].code, "UNMAPPED_VALUE");
    EXPECT_EQ(by_record[invalid].category, category::validation);
    EXPECT_FALSE(by_record[invalid].payload_json.empty()) << "the payload that was sent is kept";
    EXPECT_EQ(by_record[dup].category, category::duplicate);
    EXPECT_EQ(by_record[dup].code, "1007");
    EXPECT_EQ(persons_by_crm_id().size(), 21u);  // 20 good ones + the pre-existing twins' id

    // Unchanged rejected records are not sent again; a fixed one is delivered and leaves the log.
    const auto pushed = records_pushed();
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(records_pushed(), pushed);
    sf_->update("Contact", invalid, {{"Email", "fixed@example.com"}});
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(records_pushed(), pushed + 1);
    errors = open_store()->list_errors({});
    ASSERT_TRUE(errors);
    EXPECT_EQ(errors->size(), 2u);
}

TEST_F(sync, one_changed_contact_costs_exactly_one_upsert) {
    std::vector<std::string> ids;
    for (int i = 0; i < 50; ++i)
        ids.push_back(contact(i, timestamp{t0}));
    advance(1min);
    expect_ok(run_once());
    const auto calls = mkto_->push_calls().size();
    sf_->update("Contact", ids[7], {{"FirstName", "Renamed"}});
    advance(1min);
    expect_ok(run_once());
    ASSERT_EQ(mkto_->push_calls().size(), calls + 1);
    const auto last = mkto_->push_calls().back();
    ASSERT_EQ(last["input"].size(), 1u);
    EXPECT_EQ(last["input"][0]["firstName"], "Renamed");
    EXPECT_EQ(last["input"][0]["sfdcContactId"], ids[7]);
}

TEST_F(sync, a_change_to_an_unmapped_field_sends_nothing) {
    std::vector<std::string> ids;
    for (int i = 0; i < 10; ++i)
        ids.push_back(contact(i, timestamp{t0}));
    advance(1min);
    expect_ok(run_once());
    const auto calls = mkto_->push_calls().size();
    sf_->update("Contact", ids[3], {{"Phone", "+33 1 23 45 67 89"}});
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->push_calls().size(), calls);
}

TEST_F(sync, same_timestamp_ties_split_across_pages_are_all_delivered) {
    sf_->set_max_page_size(200);
    std::set<std::string> ids;
    // 450 records in one second: SOQL sees them as one timestamp, pages split them.
    for (int i = 0; i < 450; ++i)
        ids.insert(contact(i, timestamp{t0 + std::chrono::milliseconds(i % 1000)}));
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(persons_by_crm_id(), ids);
    EXPECT_EQ(records_pushed(), 450u);
}

// An initial load past source.bulk_threshold reads through one Bulk API 2.0 job (api-reference
// §1.10) instead of REST pages: every record arrives once, with the values REST paging gives
// (the next cycle reads the overlap through REST and finds each one unchanged: CSV cells are
// typed as JSON types them, so the digests agree), over two result sets joined by
// Sforce-Locator, and the watermark is the greatest position read.
TEST_F(sync, a_large_initial_load_goes_through_one_bulk_job_and_arrives_complete) {
    sf_->set_max_page_size(500);
    std::set<std::string> ids;
    for (int i = 0; i < 10'100; ++i)
        ids.insert(contact(i, timestamp{t0 + std::chrono::milliseconds(i * 10)}));
    sf_->insert("Contact", {{"LastName", "NoMail"}}, timestamp{t0});  // outside `where`
    bulk_threshold_ = "1000";
    write_config();
    sf_->set_bulk_job_outcome(3);  // three polls answer InProgress
    advance(10min);
    expect_ok(run_once());
    EXPECT_EQ(sf_->bulk_jobs_created(), 1u);
    EXPECT_EQ(sf_->queries().size(), 1u) << "one REST page, whose totalSize chose bulk";
    EXPECT_EQ(sf_->bulk_result_calls(), 2u) << "10,000 rows a set, then the last 100";
    const auto bulk = sf_->bulk_queries();
    ASSERT_EQ(bulk.size(), 1u);
    EXPECT_NE(bulk[0].find("(Email != null)"), std::string::npos) << bulk[0];
    EXPECT_EQ(bulk[0].find("ORDER BY"), std::string::npos) << bulk[0];
    EXPECT_EQ(persons_by_crm_id(), ids);
    EXPECT_EQ(records_pushed(), ids.size());
    const auto person = mkto_->find("sfdcContactId", *ids.begin());
    ASSERT_EQ(person.size(), 1u);
    EXPECT_EQ(person[0]["city"], "Paris") << person[0].dump();
    EXPECT_EQ(person[0]["firstName"], "First0");
    EXPECT_EQ(person[0]["salutation"], "Monsieur");
    EXPECT_EQ(person[0]["leadScore"], 0);
    auto wm = open_store()->load_watermark("contacts");
    ASSERT_TRUE(wm && *wm);
    EXPECT_EQ((*wm)->modstamp.to_iso(), "2026-11-23T10:01:40.000Z");  // the last contact's

    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(sf_->bulk_jobs_created(), 1u) << "with a watermark, REST reads the changes";
    EXPECT_EQ(records_pushed(), ids.size()) << "the REST re-read found every record unchanged";
}

// A Bulk API 2.0 job stuck in UploadComplete/InProgress must not hold the stream for ever:
// after the source's bulk_timeout the job is aborted (PATCH state Aborted) and the run fails
// with one line naming the job; nothing was sent and the watermark stays unset, so the next
// run loads again through a new job.
TEST_F(sync, a_bulk_job_stuck_in_progress_is_aborted_at_the_bulk_timeout_and_the_run_fails) {
    sf_->set_max_page_size(200);
    for (int i = 0; i < 1'200; ++i)
        contact(i, timestamp{t0 + std::chrono::milliseconds(i)});
    bulk_threshold_ = "1000";
    sf_keys_ = {"bulk_timeout: 300ms"};
    write_config();
    sf_->set_bulk_job_outcome(1'000'000'000);  // Salesforce never gets to it
    advance(10min);
    const auto results = run_once();
    ASSERT_EQ(results.size(), 1u);
    ASSERT_FALSE(results[0].outcome);
    const auto& f = results[0].outcome.error();
    EXPECT_EQ(f.code, errc::timeout) << f.message();
    auto jobs = sf_->bulk_jobs();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].second, "Aborted");
    EXPECT_NE(f.message().find(fmt::format("bulk query job {} org: job still InProgress after the "
                                           "bulk_timeout of 300ms; aborted it",
                                           jobs[0].first)),
              std::string::npos)
        << f.message();
    EXPECT_EQ(records_pushed(), 0u);
    auto wm = open_store()->load_watermark("contacts");
    ASSERT_TRUE(wm);
    EXPECT_FALSE(*wm) << "the watermark is untouched";

    sf_->set_bulk_job_outcome(1);
    advance(1min);
    expect_ok(run_once());
    jobs = sf_->bulk_jobs();
    ASSERT_EQ(jobs.size(), 2u);
    EXPECT_EQ(jobs[1].second, "JobComplete");
    EXPECT_EQ(persons_by_crm_id().size(), 1'200u);
}

// The answer to a Bulk job's creation lost after Salesforce made the job (the connection
// reset once the work was done): the retry makes a second job, and the first must not be left
// to run unread. The client lists the org's query jobs (page by page) and aborts the one its
// lost attempt made; a job made before the attempt (another integration's) is left alone.
TEST_F(sync, a_bulk_job_whose_creation_answer_was_lost_is_aborted_not_left_behind) {
    sf_->set_max_page_size(200);
    for (int i = 0; i < 1'200; ++i)
        contact(i, timestamp{t0 + std::chrono::milliseconds(i)});
    bulk_threshold_ = "1000";
    write_config();
    const auto token = sf_->issue_token();
    const auto other = fakes::test::request(
        "POST",
        sf_->base_url() + "/services/data/v61.0/jobs/query",
        json{{"operation", "query"}, {"query", "SELECT Id FROM Contact"}}.dump(),
        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
    ASSERT_EQ(other.status, 200u) << other.body;
    sf_->set_job_list_page_size(1);  // every job on a page of its own: nextRecordsUrl paging
    sf_->fail_next("/services/data/v61.0/jobs/query",
                   {fakes::fault_spec::connection_reset(/*executed=*/true)});
    advance(10min);
    expect_ok(run_once());
    const auto jobs = sf_->bulk_jobs();
    ASSERT_EQ(jobs.size(), 3u) << "the other integration's, the lost answer's, the one read";
    EXPECT_EQ(jobs[0].first, other.json()["id"]);
    EXPECT_EQ(jobs[0].second, "UploadComplete") << "not ours: left alone";
    EXPECT_EQ(jobs[1].second, "Aborted") << "the job whose answer was lost is not left behind";
    EXPECT_EQ(jobs[2].second, "JobComplete");
    EXPECT_EQ(persons_by_crm_id().size(), 1'200u);
    EXPECT_EQ(records_pushed(), 1'200u);
}

// A load under the threshold, or with bulk_threshold: 0, pages through REST as before.
TEST_F(sync, an_initial_load_under_the_bulk_threshold_or_with_it_off_pages_through_rest) {
    sf_->set_max_page_size(200);
    for (int i = 0; i < 600; ++i)
        contact(i, timestamp{t0 + std::chrono::milliseconds(i * 10)});
    bulk_threshold_ = "600";
    write_config();
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(sf_->bulk_jobs_created(), 0u);
    EXPECT_EQ(records_pushed(), 600u);
    ASSERT_TRUE(open_store()->set_watermark("contacts", std::nullopt));
    bulk_threshold_ = "0";
    write_config();
    sf_->insert("Contact", {{"LastName", "New"}, {"Email", "new@example.com"}}, timestamp{t0});
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(sf_->bulk_jobs_created(), 0u);
    EXPECT_EQ(persons_by_crm_id().size(), 601u);
}

TEST_F(sync, a_window_of_thousands_of_pages_is_read_to_the_end_in_full_batches) {
    // Salesforce may return far fewer rows than asked [SF-QUERYOPTS]: at one row a page, 2,100
    // contacts are 2,100 pages, each following the last nextRecordsUrl, with ten records in
    // every second so that ties straddle every page boundary.
    sf_->set_max_page_size(1);
    std::set<std::string> ids;
    for (int i = 0; i < 2100; ++i)
        ids.insert(contact(i, timestamp{t0 + std::chrono::milliseconds(i * 100)}));
    advance(10min);
    const auto calls_before = sf_->api_calls();
    expect_ok(run_once());
    EXPECT_EQ(persons_by_crm_id(), ids);
    const auto pushes = mkto_->push_calls();
    ASSERT_EQ(pushes.size(), 7u);
    for (const auto& call : pushes)
        EXPECT_EQ(call["input"].size(), 300u);
    // One query, 2,099 next pages, plus the start-up /limits and describes.
    EXPECT_GE(sf_->api_calls() - calls_before, 2100);
    EXPECT_LT(sf_->api_calls() - calls_before, 2110);
    auto wm = open_store()->load_watermark("contacts");
    ASSERT_TRUE(wm && *wm);
    // The API shows whole seconds (api-reference §1.3), so that is what the watermark holds.
    EXPECT_EQ((*wm)->modstamp.at, t0 + std::chrono::milliseconds(209'000))
        << "the watermark reaches the last record of the last page";

    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->push_calls().size(), 7u) << "re-read in the overlap window, not re-sent";
}

TEST_F(sync, batches_fill_across_pages) {
    // Pages of 200, batches of 300: payloads left at a page's end wait for the next page, so
    // 900 records take three full calls, not five (SPEC §4 "as large as the API allows").
    sf_->set_max_page_size(200);
    std::set<std::string> ids;
    for (int i = 0; i < 900; ++i)
        ids.insert(contact(i, timestamp{t0 + std::chrono::milliseconds(i)}));
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(persons_by_crm_id(), ids);
    const auto calls = mkto_->push_calls();
    ASSERT_EQ(calls.size(), 3u);
    for (const auto& call : calls)
        EXPECT_EQ(call["input"].size(), 300u);
}

TEST_F(sync, a_failure_between_pages_loses_nothing_and_resends_nothing_committed) {
    sf_->set_max_page_size(200);
    std::set<std::string> ids;
    for (int i = 0; i < 450; ++i)
        ids.insert(contact(i, timestamp{t0 + std::chrono::seconds(i % 3)}));
    advance(1min);
    // The second page fails on every attempt of the retry budget (4 in these tests): the run
    // stops after committing page one, as a kill between pages would.
    sf_->fail_next(
        "/services/data/v61.0/query/",
        std::vector<fakes::fault_spec>(4, fakes::fault_spec::http(503, "<html>down</html>")));
    auto first = run_once();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_FALSE(first[0].outcome);
    EXPECT_EQ(sf_->pending_faults(), 0u);
    EXPECT_EQ(records_pushed(), 200u);
    auto wm = open_store()->load_watermark("contacts");
    ASSERT_TRUE(wm && *wm) << "page one's batch was acknowledged, so its watermark is committed";

    // The next run re-reads from the watermark minus the overlap: everything arrives, and page
    // one's records are recognised as unchanged instead of being sent again.
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(persons_by_crm_id(), ids);
    EXPECT_EQ(records_pushed(), 450u);
}

TEST_F(sync, a_contact_committed_late_with_an_older_timestamp_is_delivered) {
    for (int i = 0; i < 5; ++i)
        contact(i, timestamp{t0 + std::chrono::seconds(i)});
    advance(1min);
    expect_ok(run_once());
    auto wm = open_store()->load_watermark("contacts");
    ASSERT_TRUE(wm && *wm);
    // A transaction that started before the watermark commits now (api-reference §1.3).
    const auto late = sf_->insert_late("Contact",
                                       {{"LastName", "Late"}, {"Email", "late@example.com"}},
                                       timestamp{(*wm)->modstamp.at - 2min});
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->find("sfdcContactId", late).size(), 1u);
}

TEST_F(sync, expired_tokens_on_both_sides_are_renewed_once_and_the_run_succeeds) {
    const auto id = contact(0, timestamp{t0});
    advance(1min);
    expect_ok(run_once());
    sf_->update("Contact", id, {{"FirstName", "Again"}});
    sf_->expire_tokens();
    mkto_->expire_tokens();
    advance(1min);
    const auto token_requests = sf_->token_requests();
    expect_ok(run_once());
    EXPECT_EQ(mkto_->find("sfdcContactId", id).at(0)["firstName"], "Again");
    EXPECT_GT(sf_->token_requests(), token_requests);
}

TEST_F(sync, transient_failures_on_both_sides_are_retried_not_rejected) {
    std::set<std::string> ids;
    for (int i = 0; i < 30; ++i)
        ids.insert(contact(i, timestamp{t0}));
    advance(1min);
    sf_->fail_next("/services/data",
                   {fakes::fault_spec::http(503, "<html>unavailable</html>"),
                    fakes::fault_spec::truncated_body()});
    mkto_->fail_next("/rest/v1/leads.json",
                     {fakes::fault_spec::vendor("606"),
                      fakes::fault_spec::vendor("604"),
                      fakes::fault_spec::http(502, "<html>bad gateway</html>")});
    expect_ok(run_once());
    EXPECT_EQ(persons_by_crm_id(), ids);
    auto errors = open_store()->list_errors({});
    ASSERT_TRUE(errors);
    EXPECT_TRUE(errors->empty()) << "transient failures are never rejections";
}

TEST_F(sync, malformed_json_from_either_side_is_retried_not_a_crash) {
    std::set<std::string> ids;
    for (int i = 0; i < 5; ++i)
        ids.insert(contact(i, timestamp{t0}));
    advance(1min);
    sf_->fail_next("/services/data", {fakes::fault_spec::garbled_json()});
    mkto_->fail_next("/rest/v1/leads.json", {fakes::fault_spec::garbled_json()});
    expect_ok(run_once());
    EXPECT_EQ(persons_by_crm_id(), ids);
}

TEST_F(sync, refused_credentials_fail_the_stream_as_auth_rejected) {
    contact(0, timestamp{t0});
    advance(1min);
    write_config("wrong-secret");
    const auto results = run_once();
    ASSERT_EQ(results.size(), 1u);
    ASSERT_FALSE(results[0].outcome);
    EXPECT_EQ(results[0].outcome.error().code, errc::auth_rejected);
    EXPECT_EQ(results[0].outcome.error().message().find("wrong-secret"), std::string::npos);
    EXPECT_TRUE(mkto_->leads().empty());
}

// What /readyz and /metrics read: each run sets the stream's health, and the named events and
// the API call observer count what the run did.
TEST_F(sync, runs_set_stream_health_and_count_records_and_api_calls) {
    auto& health = observability::health();
    health.track({"contacts"});
    const auto counter = [](const std::string& name,
                            const std::map<std::string, std::string>& labels) {
        const auto m = testing::parse_exposition(observability::metrics().render());
        EXPECT_TRUE(m.problems.empty()) << m.problems.front();
        return m.value(name, labels).value_or(0);
    };
    const std::map<std::string, std::string> stream{{"stream", "contacts"}};
    const std::map<std::string, std::string> sf_ok{
        {"system", "salesforce"}, {"instance", "org"}, {"status", "2xx"}};
    const auto read0 = counter("crmsync_records_read_total", stream);
    const auto sent0 = counter("crmsync_records_sent_total", stream);
    const auto calls0 = counter("crmsync_api_calls_total", sf_ok);
    for (int i = 0; i < 5; ++i)
        contact(i, timestamp{t0});
    advance(1min);
    expect_ok(run_once());
    auto h = health.snapshot().at(0);
    EXPECT_EQ(h.state, observability::stream_state::ok);
    EXPECT_EQ(h.watermark, t0) << "the committed watermark, for the lag gauge";
    EXPECT_EQ(counter("crmsync_records_read_total", stream) - read0, 5);
    EXPECT_EQ(counter("crmsync_records_sent_total", stream) - sent0, 5);
    EXPECT_GE(counter("crmsync_api_calls_total", sf_ok) - calls0, 2) << "token, limits, query";
    EXPECT_GT(
        counter("crmsync_api_quota_limit_calls", {{"system", "salesforce"}, {"instance", "org"}}),
        0)
        << "from Sforce-Limit-Info";

    contact(9, timestamp{t0 + 30s});
    advance(1min);
    mkto_->fail_next("/rest/v1/leads.json", {fakes::fault_spec::vendor("607")});
    ASSERT_FALSE(run_once()[0].outcome);
    h = health.snapshot().at(0);
    EXPECT_EQ(h.state, observability::stream_state::paused);
    EXPECT_FALSE(health.ready());

    write_config("wrong-secret");
    ASSERT_FALSE(run_once()[0].outcome);
    h = health.snapshot().at(0);
    EXPECT_EQ(h.state, observability::stream_state::auth_failed);
    EXPECT_EQ(h.reason.find("wrong-secret"), std::string::npos);

    write_config();
    clock_.set(next_us_central_midnight(clock_.now()));  // the 607 above spent the day
    expect_ok(run_once());
    EXPECT_TRUE(health.ready());
    health.track({});
}

TEST_F(sync, daily_quota_reached_pauses_the_stream_and_keeps_the_watermark) {
    for (int i = 0; i < 5; ++i)
        contact(i, timestamp{t0});
    advance(1min);
    mkto_->fail_next("/rest/v1/leads.json", {fakes::fault_spec::vendor("607")});
    const auto results = run_once();
    ASSERT_EQ(results.size(), 1u);
    ASSERT_FALSE(results[0].outcome);
    EXPECT_EQ(results[0].outcome.error().code, errc::quota_exhausted);
    EXPECT_TRUE(results[0].outcome.error().retry_after) << "the time until the reset";
    auto wm = open_store()->load_watermark("contacts");
    ASSERT_TRUE(wm);
    EXPECT_FALSE(*wm) << "nothing was acknowledged, so the watermark must not move";
    // Marketo refuses until midnight US Central time, so a run before it (a restart, too)
    // does not even try: the pause is kept in the state.
    advance(1min);
    const auto pushes = mkto_->push_calls().size();
    const auto again = run_once();
    ASSERT_FALSE(again[0].outcome);
    EXPECT_EQ(again[0].outcome.error().code, errc::quota_exhausted);
    EXPECT_EQ(mkto_->push_calls().size(), pushes);
    auto q = open_store()->load_quota("mkto");
    ASSERT_TRUE(q && *q);
    EXPECT_EQ((*q)->spent_until, timestamp{next_us_central_midnight(clock_.now())});
    clock_.set(next_us_central_midnight(clock_.now()));
    expect_ok(run_once());
    EXPECT_EQ(mkto_->leads().size(), 5u);
}

TEST_F(sync, jwt_bearer_flow_signs_in_with_the_private_key_and_syncs) {
    const testing::rsa_test_key key;
    // The org verifies assertions with the certificate uploaded to the connected app.
    sf_ = std::make_unique<fakes::fake_salesforce>(
        fakes::sf_options{.jwt_public_key_pem = key.public_pem(), .clock = clock_.fn()});
    const auto key_file = dir_ / "sf-jwt.pem";
    std::ofstream(key_file) << key.private_pem();
    sf_auth_ = fmt::format(
        "{{ flow: jwt_bearer, client_id: fake-sf-client, username: {}, private_key_file: {} }}",
        sf_->options().username,
        key_file.string());
    write_config();

    std::set<std::string> ids;
    for (int i = 0; i < 3; ++i)
        ids.insert(contact(i, timestamp{t0}));
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(persons_by_crm_id(), ids);
    EXPECT_EQ(sf_->token_requests(), 1u);

    // An expired session is renewed with a new assertion (exp is now + 3 min on the fake's
    // clock, so a reused one would be refused by now).
    sf_->update("Contact", *ids.begin(), {{"FirstName", "Again"}});
    sf_->expire_tokens();
    advance(10min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->find("sfdcContactId", *ids.begin()).at(0)["firstName"], "Again");
}

TEST_F(sync, jwt_signed_by_a_key_the_org_does_not_know_is_auth_rejected) {
    const testing::rsa_test_key known;
    const testing::rsa_test_key ours;
    sf_ = std::make_unique<fakes::fake_salesforce>(
        fakes::sf_options{.jwt_public_key_pem = known.public_pem(), .clock = clock_.fn()});
    const auto key_file = dir_ / "sf-jwt.pem";
    std::ofstream(key_file) << ours.private_pem();
    sf_auth_ = fmt::format(
        "{{ flow: jwt_bearer, client_id: fake-sf-client, username: {}, private_key_file: {} }}",
        sf_->options().username,
        key_file.string());
    write_config();
    contact(0, timestamp{t0});
    advance(1min);
    const auto results = run_once();
    ASSERT_EQ(results.size(), 1u);
    ASSERT_FALSE(results[0].outcome);
    EXPECT_EQ(results[0].outcome.error().code, errc::auth_rejected);
    EXPECT_TRUE(mkto_->leads().empty());
}

TEST_F(sync, api_budget_spent_by_other_integrations_pauses_before_any_query) {
    for (int i = 0; i < 5; ++i)
        contact(i, timestamp{t0});
    advance(1min);
    sf_->set_daily_limit(1000);
    sf_->set_api_usage(150);  // other integrations already used 15% of the day
    api_budget_ = "10%";
    write_config();
    const auto results = run_once();
    ASSERT_EQ(results.size(), 1u);
    ASSERT_FALSE(results[0].outcome);
    EXPECT_EQ(results[0].outcome.error().code, errc::quota_exhausted);
    EXPECT_NE(results[0].outcome.error().message().find(
                  "API budget reached: 151 of 1000 daily requests used (budget 10%)"),
              std::string::npos)
        << results[0].outcome.error().message();
    EXPECT_TRUE(sf_->queries().empty()) << "the budget holds before the first query";
    EXPECT_EQ(records_pushed(), 0u);
    auto wm = open_store()->load_watermark("contacts");
    ASSERT_TRUE(wm);
    EXPECT_FALSE(*wm);

    api_budget_ = "50%";
    write_config();
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(records_pushed(), 5u);
    EXPECT_LT(sf_->api_usage(), 500);
}

TEST_F(sync, api_budget_reached_mid_run_stops_reading_at_the_limit) {
    sf_->set_max_page_size(200);
    for (int i = 0; i < 1000; ++i)
        contact(i, timestamp{t0 + std::chrono::milliseconds(i)});
    advance(1min);
    sf_->set_daily_limit(1000);
    sf_->set_api_usage(90);
    // 100 requests, 5 of them kept for /limits reads while paused (a twentieth): /limits (91),
    // describe Contact (92), page 1 (93), 2 (94), 3 (95), then stop.
    api_budget_ = "10%";
    write_config();
    const auto results = run_once();
    ASSERT_EQ(results.size(), 1u);
    ASSERT_FALSE(results[0].outcome);
    EXPECT_EQ(results[0].outcome.error().code, errc::quota_exhausted);
    EXPECT_EQ(sf_->api_usage(), 95) << "the budget is a ceiling, never crossed";
    EXPECT_EQ(records_pushed(), 600u) << "pages read before the limit are delivered";
}

// While the api_budget holds a stream, nothing but a call can show the rolling day freeing
// room: the client reads /limits once per limits_every (from the requests it keeps for that)
// and the stream goes on in the same process once the budget has room; before a read is due
// a held run makes no call at all.
TEST_F(sync, a_budget_pause_reads_limits_once_per_interval_and_resumes_when_the_day_frees_room) {
    for (int i = 0; i < 5; ++i)
        contact(i, timestamp{t0});
    advance(1min);
    sf_->set_daily_limit(100'000);
    // 10% allows 10,000; a read every 5 minutes for a day keeps 288 of them, so ordinary calls
    // stop at 9,712.
    sf_->set_api_usage(9'711);
    api_budget_ = "10%";
    sf_keys_ = {"limits_every: 5m"};
    write_config();
    auto session = make_session();  // one client for every run, as in `crmsync run`
    auto expect_paused = [&](const std::vector<daemon::stream_result>& results,
                             std::chrono::milliseconds next_read) {
        ASSERT_EQ(results.size(), 1u);
        ASSERT_FALSE(results[0].outcome);
        const auto& f = results[0].outcome.error();
        EXPECT_EQ(f.code, errc::quota_exhausted) << f.message();
        EXPECT_NE(f.message().find("288 of its 10000 requests are kept for reading /limits"),
                  std::string::npos)
            << f.message();
        EXPECT_EQ(f.retry_after, next_read) << "the scheduler runs it again when /limits is due";
    };
    expect_paused(session->run_once(), 5min);
    EXPECT_EQ(sf_->api_usage(), 9'712) << "the start-up /limits read only";

    advance(4min);
    expect_paused(session->run_once(), 1min);
    EXPECT_EQ(sf_->api_usage(), 9'712) << "no call before the next read is due";

    advance(1min);
    expect_paused(session->run_once(), 5min);
    EXPECT_EQ(sf_->api_usage(), 9'713) << "one /limits read, still no room";
    EXPECT_TRUE(sf_->queries().empty());

    // The calls that filled the budget have left Salesforce's rolling window.
    sf_->set_api_usage(5'000);
    advance(5min);
    expect_ok(session->run_once());
    EXPECT_EQ(records_pushed(), 5u);
    EXPECT_EQ(sf_->queries().size(), 1u);
}

}  // namespace
}  // namespace crmsync

namespace crmsync {
namespace {

constexpr const char* flag_deletes = "{ flag: { field: crmDeleted, value: true } }";

TEST_F(sync, a_deleted_contact_is_flagged_with_one_update_only_call_and_never_again) {
    deletes_ = flag_deletes;
    write_config();
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i)
        ids.push_back(contact(i, timestamp{t0}));
    advance(1min);
    expect_ok(run_once());
    const auto calls = mkto_->push_calls().size();

    sf_->remove("Contact", ids[2]);
    advance(1min);
    expect_ok(run_once());
    ASSERT_EQ(mkto_->push_calls().size(), calls + 1);
    const auto last = mkto_->push_calls().back();
    EXPECT_EQ(last["action"], "updateOnly");
    EXPECT_EQ(last["lookupField"], "sfdcContactId");
    EXPECT_EQ(last["input"], json::array({{{"sfdcContactId", ids[2]}, {"crmDeleted", true}}}));
    const auto person = mkto_->find("sfdcContactId", ids[2]);
    ASSERT_EQ(person.size(), 1u);
    EXPECT_EQ(person[0]["crmDeleted"], true);
    EXPECT_EQ(person[0]["firstName"], "First2") << "the mark leaves the other fields alone";
    EXPECT_GT(sf_->query_all_calls(), 0u);
    EXPECT_NE(sf_->queries().back().find("IsDeleted"), std::string::npos);

    // The deleted record is re-read in the overlap window: its stored digest makes it free.
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->push_calls().size(), calls + 1);
}

TEST_F(sync, a_contact_deleted_before_it_was_ever_synced_makes_no_person) {
    deletes_ = flag_deletes;
    write_config();
    const auto kept = contact(1, timestamp{t0});
    const auto gone = contact(2, timestamp{t0});
    sf_->remove("Contact", gone);
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(persons_by_crm_id(), std::set<std::string>{kept});
    // The mark went out updateOnly in a call of its own, and Marketo's 1004 is not a rejection.
    std::size_t update_only = 0;
    for (const auto& call : mkto_->push_calls()) {
        if (call["action"] == "updateOnly") {
            ++update_only;
            EXPECT_EQ(call["input"].size(), 1u);
        }
    }
    EXPECT_EQ(update_only, 1u);
    auto errors = open_store()->list_errors({});
    ASSERT_TRUE(errors);
    EXPECT_TRUE(errors->empty());

    const auto calls = mkto_->push_calls().size();
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->push_calls().size(), calls) << "a 1004 is settled, not asked again";
}

TEST_F(sync, with_deletes_delete_a_deleted_contact_removes_its_person_once) {
    deletes_ = "delete";
    write_config();
    const auto kept = contact(1, timestamp{t0});
    const auto gone = contact(2, timestamp{t0});
    const auto never_synced = contact(3, timestamp{t0});
    sf_->remove("Contact", never_synced);
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(persons_by_crm_id(), (std::set<std::string>{kept, gone}));

    sf_->remove("Contact", gone);
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(persons_by_crm_id(), std::set<std::string>{kept}) << "the person is deleted";
    EXPECT_EQ(sf_->queries().back().find("IsDeleted") != std::string::npos, true);
    auto errors = open_store()->list_errors({});
    ASSERT_TRUE(errors);
    EXPECT_TRUE(errors->empty());

    // Re-read in the overlap window: settled, no lookup or delete again. A person created
    // meanwhile with the same key (another integration) is therefore left alone.
    const auto extra = mkto_->add_person({{"email", "again@example.com"}, {"sfdcContactId", gone}});
    advance(1min);
    expect_ok(run_once());
    EXPECT_TRUE(mkto_->lead(extra).has_value());

    // Restored from the recycle bin: sent in full, so the person comes back.
    sf_->undelete("Contact", never_synced);
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->find("sfdcContactId", never_synced).size(), 1u);
}

TEST_F(sync, with_deletes_delete_a_key_two_persons_share_is_logged_as_duplicate_not_guessed) {
    deletes_ = "delete";
    write_config();
    const auto twin = contact(1, timestamp{t0});
    sf_->remove("Contact", twin);
    const auto a = mkto_->add_person({{"email", "a@example.com"}, {"sfdcContactId", twin}});
    const auto b = mkto_->add_person({{"email", "b@example.com"}, {"sfdcContactId", twin}});
    advance(1min);
    expect_ok(run_once());
    EXPECT_TRUE(mkto_->lead(a).has_value());
    EXPECT_TRUE(mkto_->lead(b).has_value());
    auto errors = open_store()->list_errors({});
    ASSERT_TRUE(errors);
    ASSERT_EQ(errors->size(), 1u);
    EXPECT_EQ((*errors)[0].record_id, twin);
    EXPECT_EQ((*errors)[0].category, category::duplicate);
    EXPECT_EQ((*errors)[0].code, "DELETE_AMBIGUOUS");
}

TEST_F(sync, a_contact_restored_from_the_recycle_bin_is_sent_in_full_again) {
    deletes_ = flag_deletes;
    // Mapping the flag field from IsDeleted too is how a restore clears the mark.
    extra_fields_ = "  - { to: crmDeleted, from: IsDeleted }\n";
    write_config();
    const auto id = contact(3, timestamp{t0});
    advance(1min);
    expect_ok(run_once());
    sf_->remove("Contact", id);
    advance(1min);
    expect_ok(run_once());
    const auto calls = mkto_->push_calls().size();

    sf_->undelete("Contact", id);
    advance(1min);
    expect_ok(run_once());
    ASSERT_EQ(mkto_->push_calls().size(), calls + 1);
    const auto last = mkto_->push_calls().back();
    EXPECT_EQ(last["action"], "createOrUpdate");
    ASSERT_EQ(last["input"].size(), 1u);
    EXPECT_EQ(last["input"][0]["sfdcContactId"], id);
    EXPECT_EQ(last["input"][0]["firstName"], "First3");
    EXPECT_EQ(last["input"][0]["crmDeleted"], false);
    const auto person = mkto_->find("sfdcContactId", id);
    ASSERT_EQ(person.size(), 1u);
    EXPECT_EQ(person[0]["crmDeleted"], false);
}

TEST_F(sync, with_deletes_ignore_a_deleted_contact_reads_no_deletes_and_sends_nothing) {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i)
        ids.push_back(contact(i, timestamp{t0}));
    advance(1min);
    expect_ok(run_once());
    const auto calls = mkto_->push_calls().size();
    sf_->remove("Contact", ids[1]);
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->push_calls().size(), calls);
    EXPECT_EQ(sf_->query_all_calls(), 0u);
    for (const auto& q : sf_->queries())
        EXPECT_EQ(q.find("IsDeleted"), std::string::npos) << q;
    for (const auto& l : mkto_->leads())
        EXPECT_FALSE(l.contains("crmDeleted") && l["crmDeleted"] == true);
}

// The ids of every record in a Sync Leads input the fake received.
std::set<std::string> pushed_ids(const fakes::fake_marketo& mkto) {
    std::set<std::string> ids;
    for (const auto& call : mkto.push_calls()) {
        for (const auto& in : call["input"])
            ids.insert(in.value("sfdcContactId", ""));
    }
    return ids;
}

// A Lead stream keyed by sfdcLeadId beside a Contact stream keyed by sfdcContactId, both into
// Marketo persons; only the lead stream maps the score.
class conversion : public sync {
protected:
    void write_streams(const std::string& converted) {
        std::ofstream(dir_ / "mappings" / "contacts.yaml") << R"(
stream: contacts
source: { from: org, object: Contact, settle: 30s }
destination: { to: mkto, object: lead, key: { source: Id, destination: sfdcContactId } }
fields:
  - { to: email, from: Email, transform: [lower] }
  - { to: lastName, from: LastName }
  - { to: title, from: Title }
)";
        std::ofstream(dir_ / "mappings" / "leads.yaml") << fmt::format(R"(
stream: leads
source: {{ from: org, object: Lead, settle: 30s, converted: {} }}
destination: {{ to: mkto, object: lead, key: {{ source: Id, destination: sfdcLeadId }} }}
fields:
  - {{ to: email, from: Email, transform: [lower] }}
  - {{ to: lastName, from: LastName }}
  - {{ to: leadScore, from: Lead_Score__c }}
)",
                                                                       converted);
    }

    std::string lead(const std::string& name, int score) {
        return sf_->insert("Lead",
                           {{"LastName", name},
                            {"Company", "ACME"},
                            {"Status", "Open - Not Contacted"},
                            {"Email", name + "@example.com"},
                            {"Lead_Score__c", score}});
    }

    void run_streams(testing::in_process_daemon& s, const std::vector<std::string>& names) {
        advance(1min);
        for (const auto& n : names)
            expect_ok(s.run_once({n}));
    }
};

TEST_F(conversion, follow_contact_re_keys_the_leads_person_and_keeps_its_score) {
    write_streams("follow_contact");
    auto s = make_session();
    const auto l = lead("ada", 42);
    run_streams(*s, {"leads"});
    ASSERT_EQ(mkto_->leads().size(), 1u);

    const auto c = sf_->convert_lead(l, {{"Title", "CTO"}});
    run_streams(*s, {"leads", "contacts"});
    const auto persons = mkto_->leads();
    ASSERT_EQ(persons.size(), 1u) << "the conversion leaves no second person: "
                                  << json(persons).dump();
    EXPECT_EQ(persons[0]["sfdcLeadId"], l);
    EXPECT_EQ(persons[0]["sfdcContactId"], c);
    EXPECT_EQ(persons[0]["leadScore"], 42) << "lead-only data survives the conversion";
    EXPECT_EQ(persons[0]["title"], "CTO");

    // The contact's own fields stay the contact stream's: a converted lead that changes again
    // carries its score, never its older copy of the name.
    sf_->update("Contact", c, {{"LastName", "Lovelace"}});
    sf_->update("Lead", l, {{"Lead_Score__c", 50}});
    run_streams(*s, {"contacts", "leads"});
    EXPECT_EQ(mkto_->leads().size(), 1u);
    EXPECT_EQ(mkto_->leads()[0]["lastName"], "Lovelace");
    EXPECT_EQ(mkto_->leads()[0]["leadScore"], 50);

    const auto calls = mkto_->push_calls().size();
    run_streams(*s, {"leads", "contacts"});
    EXPECT_EQ(mkto_->push_calls().size(), calls) << "an unchanged converted lead is not resent";
}

TEST_F(conversion, a_lead_converted_before_its_first_sync_lands_on_its_contacts_person_only) {
    write_streams("follow_contact");
    auto s = make_session();
    const auto l = lead("grace", 7);
    const auto c = sf_->convert_lead(l);
    // The contact's stream has already made the person: the score is carried onto it.
    run_streams(*s, {"contacts", "leads"});
    const auto persons = mkto_->leads();
    ASSERT_EQ(persons.size(), 1u) << json(persons).dump();
    EXPECT_EQ(persons[0]["sfdcContactId"], c);
    EXPECT_EQ(persons[0]["leadScore"], 7);
    EXPECT_FALSE(persons[0].contains("sfdcLeadId") && persons[0]["sfdcLeadId"] == l)
        << "the lead is not keyed as a person of its own";
}

TEST_F(conversion, skip_leaves_converted_leads_out_and_syncs_the_others) {
    write_streams("skip");
    auto s = make_session();
    const auto converted = lead("hopper", 3);
    sf_->convert_lead(converted);
    const auto open = lead("lamarr", 9);
    run_streams(*s, {"leads"});
    const auto persons = mkto_->leads();
    ASSERT_EQ(persons.size(), 1u) << json(persons).dump();
    EXPECT_EQ(persons[0]["sfdcLeadId"], open);
}

TEST_F(sync, preflight_rejects_too_long_and_mistyped_values_before_any_call) {
    map_preflight_fields();
    const auto good = contact(0, timestamp{t0});
    // The fake describes title as a string of 255 characters and birthDate as a date.
    const auto long_text = long_text_contact();
    const auto mistyped = sf_->insert(
        "Contact",
        {{"LastName", "Typed"}, {"Email", "typed@example.com"}, {"Birth_Text__c", "20/05/2013"}},
        timestamp{t0});
    advance(1min);
    expect_ok(run_once());

    EXPECT_EQ(pushed_ids(*mkto_), std::set<std::string>{good});  // no call spent on the others
    auto errors = open_store()->list_errors({});
    ASSERT_TRUE(errors);
    std::map<std::string, state::error_entry> by_record;
    for (const auto& e : *errors)
        by_record[e.record_id] = e;
    ASSERT_EQ(by_record.size(), 2u);
    EXPECT_EQ(by_record[long_text].category, category::validation);
    EXPECT_EQ(by_record[long_text].code, "PREFLIGHT_TOO_LONG");
    EXPECT_EQ(by_record[long_text].message,
              "field 'title' holds 300 characters; the destination allows 255: '" +
                  std::string(40, 'x') + "...'");
    // Nothing was sent, but the payload that would have been is kept for `errors show`.
    EXPECT_NE(by_record[long_text].payload_json.find(long_text), std::string::npos);
    EXPECT_EQ(by_record[mistyped].code, "PREFLIGHT_TYPE");
    EXPECT_EQ(by_record[mistyped].message,
              "field 'birthDate': value '20/05/2013' is not a date (YYYY-MM-DD), as its "
              "destination type date requires");

    // Re-read unchanged in the overlap window: neither sent nor logged again.
    const auto calls = mkto_->push_calls().size();
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->push_calls().size(), calls);
    errors = open_store()->list_errors({});
    ASSERT_TRUE(errors);
    for (const auto& e : *errors)
        EXPECT_EQ(e.attempts, 1) << e.record_id;
}

TEST_F(sync, a_batch_that_preflight_rejects_whole_costs_no_sync_call) {
    map_preflight_fields();
    for (int i = 0; i < 3; ++i) {
        sf_->insert("Contact",
                    {{"LastName", fmt::format("Long{}", i)},
                     {"Email", fmt::format("long{}@example.com", i)},
                     {"About__c", std::string(256, 'y')}},
                    timestamp{t0});
    }
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->push_calls().size(), 0u);
    auto st = open_store()->status({"contacts"});
    ASSERT_TRUE(st);
    EXPECT_EQ((*st)[0].open_errors_by_category,
              (std::map<std::string, std::int64_t>{{"validation", 3}}));
}

// Describes the destination as the real sink does, then marks one field required, as a custom
// object's dedupe fields or a data extension's required columns are. (Marketo's lead describe
// marks only the lookup field, which the mapping already requires as the stream key.)
class requiring_sink final : public sink::sink {
public:
    requiring_sink(std::unique_ptr<crmsync::sink::sink> inner, std::string field)
        : inner_(std::move(inner)), field_(std::move(field)) {}

    std::size_t max_batch() const override { return inner_->max_batch(); }
    boost::asio::awaitable<result<void>> authenticate() override { return inner_->authenticate(); }
    boost::asio::awaitable<result<std::vector<record_outcome>>> push(
        std::span<const payload> batch) override {
        return inner_->push(batch);
    }
    boost::asio::awaitable<result<crmsync::sink::object_schema>> describe() override {
        auto schema = co_await inner_->describe();
        if (schema) {
            for (auto& f : schema->fields)
                f.required = f.required || f.name == field_;
        }
        co_return schema;
    }
    std::string to_json(const payload& p) const override { return inner_->to_json(p); }

private:
    std::unique_ptr<crmsync::sink::sink> inner_;
    std::string field_;
};

TEST_F(sync, a_required_destination_field_left_empty_is_rejected_before_sending) {
    const auto nameless =
        sf_->insert("Contact", {{"Email", "nameless@example.com"}}, timestamp{t0});
    const auto named = sf_->insert(
        "Contact", {{"LastName", "Named"}, {"Email", "named@example.com"}}, timestamp{t0});
    advance(1min);
    auto session = make_session();
    auto& stream = session->runtime().streams().at(0);
    stream.sink = std::make_unique<requiring_sink>(std::move(stream.sink), "lastName");
    expect_ok(session->run_once());

    EXPECT_EQ(pushed_ids(*mkto_), std::set<std::string>{named});
    auto errors = open_store()->list_errors({});
    ASSERT_TRUE(errors);
    ASSERT_EQ(errors->size(), 1u);
    EXPECT_EQ((*errors)[0].record_id, nameless);
    EXPECT_EQ((*errors)[0].category, category::validation);
    EXPECT_EQ((*errors)[0].code, "PREFLIGHT_REQUIRED");
    EXPECT_EQ((*errors)[0].message, "field 'lastName' is required by the destination and is empty");
}

TEST_F(sync, a_failing_describe_sends_without_preflight_and_does_not_stop_the_stream) {
    map_preflight_fields();
    const auto good = contact(0, timestamp{t0});
    const auto long_text = long_text_contact();
    // More 503s than the retry budget (4 attempts): the describe fails for this cycle.
    mkto_->fail_next("/rest/v1/leads/describe.json",
                     std::vector<fakes::fault_spec>(4, fakes::fault_spec::http(503, "busy")));
    advance(1min);
    expect_ok(run_once());

    // Both were sent; Marketo itself refused the long city, as it would without preflight.
    EXPECT_EQ(pushed_ids(*mkto_), (std::set<std::string>{good, long_text}));
    auto errors = open_store()->list_errors({});
    ASSERT_TRUE(errors);
    ASSERT_EQ(errors->size(), 1u);
    EXPECT_EQ((*errors)[0].record_id, long_text);
    EXPECT_EQ((*errors)[0].category, category::validation);
    EXPECT_FALSE((*errors)[0].code.starts_with("PREFLIGHT")) << (*errors)[0].code;
}

TEST_F(sync, the_describe_is_read_at_start_and_again_after_a_quarter_of_an_hour) {
    const auto id = contact(0, timestamp{t0});
    auto session = make_session();
    // The first cycle describes for the drift check even with nothing to send yet:
    // stats/usage (the day's first call seeds the quota count), describe.json + describe2.json.
    expect_ok(session->run_once());
    EXPECT_EQ(mkto_->calls_today(), 3);

    advance(1min);
    expect_ok(session->run_once());  // the same describe serves preflight; one Sync Leads
    EXPECT_EQ(mkto_->calls_today(), 4);

    sf_->update("Contact", id, {{"LastName", "Changed"}});
    advance(1min);
    expect_ok(session->run_once());  // the describe read a minute ago is used again
    EXPECT_EQ(mkto_->calls_today(), 5);

    sf_->update("Contact", id, {{"LastName", "Changed again"}});
    advance(15min);
    expect_ok(session->run_once());
    EXPECT_EQ(mkto_->calls_today(), 8);
}

}  // namespace
}  // namespace crmsync

namespace crmsync {
namespace {

// ---- schema drift (SPEC §4) ----------------------------------------------------------------

// Log lines of `what` whose message is `message`, as JSON.
template <class F>
std::vector<json> lines_logged(F what, std::string_view message) {
    ::testing::internal::CaptureStderr();
    what();
    const std::string out = ::testing::internal::GetCapturedStderr();
    std::vector<json> found;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        const json j = json::parse(line, nullptr, false);
        if (j.is_object() && j.value("message", "") == message)
            found.push_back(j);
    }
    return found;
}

const daemon::stream_result& result_of(const std::vector<daemon::stream_result>& results,
                                       const std::string& stream) {
    for (const auto& r : results) {
        if (r.stream == stream)
            return r;
    }
    throw std::logic_error("no result for " + stream);
}

class drift : public sync {
protected:
    void SetUp() override {
        sync::SetUp();
        // A second stream that reads none of the fields the tests remove.
        std::ofstream(dir_ / "mappings" / "leads.yaml") << R"(
stream: leads
source: { from: org, object: Lead }
destination:
  to: mkto
  key: { source: Id, destination: sfdcLeadId }
fields:
  - { to: email, from: Email, transform: [trim, lower] }
  - { to: lastName, from: LastName }
)";
    }

    std::string lead(int i) {
        return sf_->insert("Lead",
                           {{"LastName", fmt::format("Lead{}", i)},
                            {"Company", "Acme"},
                            {"Email", fmt::format("lead{}@example.com", i)}});
    }
};

TEST_F(drift, a_vanished_source_field_stops_only_that_stream_with_one_line_until_restart) {
    const auto c = contact(1, timestamp{t0});
    lead(1);
    advance(1min);
    auto p = make_session();
    expect_ok(p->run_once());

    sf_->remove_field("Contact", "Lead_Score__c");
    sf_->update("Contact", c, {{"FirstName", "Changed"}});
    const auto changed_lead = lead(2);
    advance(16min);  // past describe_every (15m by default)
    const auto pushed = records_pushed();
    std::vector<daemon::stream_result> results;
    const auto drift_lines =
        lines_logged([&] { results = p->run_once(); }, "Schema drift detected; stream stopped.");
    ASSERT_EQ(drift_lines.size(), 1u);
    EXPECT_EQ(drift_lines[0]["stream"], "contacts");
    EXPECT_EQ(drift_lines[0]["object"], "Contact");
    EXPECT_EQ(drift_lines[0]["field"], "Lead_Score__c");
    EXPECT_EQ(drift_lines[0]["side"], "source");
    EXPECT_EQ(drift_lines[0]["level"], "error");
    const auto& contacts = result_of(results, "contacts");
    ASSERT_FALSE(contacts.outcome);
    EXPECT_EQ(contacts.outcome.error().code, errc::schema_drift);
    EXPECT_NE(contacts.outcome.error().message().find(
                  "source field Contact.Lead_Score__c does not exist"),
              std::string::npos)
        << contacts.outcome.error().message();
    EXPECT_TRUE(result_of(results, "leads").outcome) << "other streams keep running";
    EXPECT_EQ(records_pushed(), pushed + 1) << "only the new lead went out";
    EXPECT_EQ(mkto_->find("sfdcLeadId", changed_lead).size(), 1u);

    // Stopped: later cycles of this process say nothing and call nothing for that stream.
    const auto calls = sf_->api_calls();
    advance(16min);
    const auto silent =
        lines_logged([&] { results = p->run_once(); }, "Schema drift detected; stream stopped.");
    EXPECT_TRUE(silent.empty());
    EXPECT_EQ(result_of(results, "contacts").outcome.error().code, errc::schema_drift);
    EXPECT_EQ(records_pushed(), pushed + 1);
    // The leads stream described its objects again (15m passed) and read one page: 2 calls.
    EXPECT_EQ(sf_->api_calls(), calls + 2);

    // A restart checks again from scratch: with the field still gone, still stopped...
    p.reset();
    EXPECT_EQ(result_of(run_once(), "contacts").outcome.error().code, errc::schema_drift);
    // ...and once the field is back (or the mapping fixed), the stream runs again.
    sf_->add_field("Contact", {.name = "Lead_Score__c", .type = "double"});
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->find("sfdcContactId", c).at(0)["firstName"], "Changed");
}

TEST_F(drift, a_field_retyped_to_one_the_destination_cannot_take_stops_the_stream) {
    contact(1, timestamp{t0});
    advance(1min);
    auto p = make_session();
    expect_ok(p->run_once());
    sf_->remove_field("Contact", "Lead_Score__c");
    sf_->add_field("Contact", {.name = "Lead_Score__c", .type = "string"});
    advance(16min);
    std::vector<daemon::stream_result> results;
    const auto lines =
        lines_logged([&] { results = p->run_once(); }, "Schema drift detected; stream stopped.");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0]["error"].get<std::string>().find(
                  "source field Contact.Lead_Score__c changed type from double to string; "
                  "destination field leadScore (integer) takes number values"),
              std::string::npos)
        << lines[0].dump();
    EXPECT_EQ(result_of(results, "contacts").outcome.error().code, errc::schema_drift);
    EXPECT_TRUE(result_of(results, "leads").outcome);
}

TEST_F(drift, a_vanished_destination_field_stops_the_stream_before_any_rejection) {
    for (int i = 0; i < 3; ++i)
        contact(i, timestamp{t0});
    advance(1min);
    auto p = make_session();
    expect_ok(p->run_once());
    mkto_->remove_field("leadScore");
    for (int i = 3; i < 6; ++i)
        contact(i, timestamp{t0 + 1min});
    advance(16min);
    const auto pushed = records_pushed();
    std::vector<daemon::stream_result> results;
    const auto lines =
        lines_logged([&] { results = p->run_once(); }, "Schema drift detected; stream stopped.");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0]["side"], "destination");
    EXPECT_EQ(lines[0]["field"], "leadScore");
    EXPECT_EQ(lines[0]["object"], "lead");
    EXPECT_EQ(result_of(results, "contacts").outcome.error().code, errc::schema_drift);
    EXPECT_EQ(records_pushed(), pushed) << "nothing was sent to be rejected";
    auto errors = open_store()->list_errors({});
    ASSERT_TRUE(errors);
    EXPECT_TRUE(errors->empty());
}

TEST_F(drift, a_field_removed_between_describes_is_named_at_the_first_failing_query) {
    contact(1, timestamp{t0});
    advance(1min);
    auto p = make_session();
    expect_ok(p->run_once());
    sf_->remove_field("Contact", "City_U__c");
    sf_->insert("Contact", {{"LastName", "New"}, {"Email", "new@example.com"}});
    advance(1min);  // well within describe_every: the query itself is the first to notice
    std::vector<daemon::stream_result> results;
    const auto lines =
        lines_logged([&] { results = p->run_once(); }, "Schema drift detected; stream stopped.");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0]["field"], "City_U__c");
    EXPECT_EQ(result_of(results, "contacts").outcome.error().code, errc::schema_drift);
}

TEST_F(drift, describes_are_repeated_every_describe_every_not_every_cycle) {
    fs::remove(dir_ / "mappings" / "leads.yaml");  // only the contacts stream
    contact(1, timestamp{t0});
    advance(1min);
    auto p = make_session();
    expect_ok(p->run_once());
    const auto after_first = sf_->api_calls();
    advance(1min);
    expect_ok(p->run_once());
    EXPECT_EQ(sf_->api_calls(), after_first + 1) << "one query page, no describe";
    advance(15min);
    expect_ok(p->run_once());
    EXPECT_EQ(sf_->api_calls(), after_first + 3) << "describe again, then the page";
}

}  // namespace
}  // namespace crmsync
