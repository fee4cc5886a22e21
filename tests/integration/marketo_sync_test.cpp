// Marketo-side behaviour end to end (SPEC §3-§4, api-reference §2): custom objects linked to
// persons, and the instance's limits, through the real modules against the fake Salesforce and
// the fake Marketo.

#include "config_text.hpp"
#include "fake_marketo.hpp"
#include "fake_salesforce.hpp"
#include "in_process.hpp"
#include "manual_clock.hpp"
#include "sample_objects.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace crmsync {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

const sys_ms t0 = timestamp::parse("2026-11-23T10:00:00Z")->at;

constexpr const char* contacts_mapping = R"(
stream: contacts
source: { from: org, object: Contact, settle: 30s, overlap: 5m }
destination:
  to: mkto
  object: lead
  key: { source: Id, destination: sfdcContactId }
fields:
  - { to: email, from: Email, transform: [trim, lower], required: true }
  - { to: firstName, from: FirstName }
)";

constexpr const char* licenses_mapping = R"(
stream: licenses
source: { from: org, object: License__c, settle: 30s, overlap: 5m }
destination:
  to: mkto
  object: custom:license_c
  action: createOrUpdate
  dedupe_by: dedupeFields
  key: { source: Id, destination: licenseId }
fields:
  - { to: product, from: Product__c }
  - { to: seats, from: Seats__c }
  - { to: contactSfdcId, from: Contact__c, required: true }
)";

class marketo_sync : public ::testing::Test {
protected:
    void SetUp() override {
        sf_ = std::make_unique<fakes::fake_salesforce>(fakes::sf_options{.clock = clock_.fn()});
        sf_->define_object(fakes::license_sf_object());
        mkto_ = std::make_unique<fakes::fake_marketo>(fakes::mkto_options{.clock = clock_.fn()});
        mkto_->add_custom_object(fakes::license_mkto_object());
        dir_ = testing::fresh_test_dir("mkto");
    }

    void TearDown() override { fs::remove_all(dir_); }

    // The main file, with `limits` as the destination's limits map ("" = the defaults), and
    // one mapping file per entry of `mappings` (name → text).
    void write_config(const std::map<std::string, std::string>& mappings,
                      const std::string& limits = "") {
        testing::main_config main{
            .state_dir = dir_, .sf_url = sf_->base_url(), .mkto_url = mkto_->base_url()};
        if (!limits.empty())
            main.mkto_keys.push_back("limits: " + limits);
        std::ofstream(dir_ / "crmsync.yaml") << main.text();
        for (const auto& [name, text] : mappings)
            std::ofstream(dir_ / "mappings" / (name + ".yaml")) << text;
    }

    std::unique_ptr<testing::in_process_daemon> session() {
        daemon::options opts;
        opts.backoff = {.base = 1ms, .cap = 5ms, .max_attempts = 4};
        opts.now = clock_.fn();
        return std::make_unique<testing::in_process_daemon>(dir_ / "crmsync.yaml", opts);
    }

    std::vector<daemon::stream_result> run_once() { return session()->run_once(); }

    std::string contact(int i) {
        return sf_->insert("Contact",
                           {{"FirstName", fmt::format("First{}", i)},
                            {"LastName", fmt::format("Last{}", i)},
                            {"Email", fmt::format("Person{}@Example.com", i)}},
                           timestamp{t0});
    }

    std::string license(const std::string& contact_id, const std::string& product, int seats) {
        return sf_->insert("License__c",
                           {{"Name", product + " license"},
                            {"Product__c", product},
                            {"Seats__c", seats},
                            {"Contact__c", contact_id}},
                           timestamp{t0});
    }

    void advance(std::chrono::milliseconds d) { clock_.set(clock_.now() + d); }

    fakes::manual_clock clock_{t0};
    std::unique_ptr<fakes::fake_salesforce> sf_;
    std::unique_ptr<fakes::fake_marketo> mkto_;
    fs::path dir_;
};

using testing::expect_ok;

TEST_F(marketo_sync, a_crm_custom_object_becomes_marketo_custom_object_records_linked_to_persons) {
    write_config({{"contacts", contacts_mapping}, {"licenses", licenses_mapping}});
    std::map<std::string, std::string> owner;  // license id → contact id
    for (int i = 0; i < 3; ++i) {
        const auto c = contact(i);
        owner[license(c, "Pro", 5 + i)] = c;
        owner[license(c, "Team", 50)] = c;
    }
    advance(1min);
    expect_ok(run_once());

    const auto records = mkto_->custom_records("license_c");
    ASSERT_EQ(records.size(), owner.size());
    for (const auto& r : records) {
        const std::string id = r["licenseId"];
        ASSERT_TRUE(owner.contains(id)) << r;
        EXPECT_EQ(r["contactSfdcId"], owner[id]);
        const auto person = mkto_->linked_person("license_c", r);
        ASSERT_TRUE(person) << "the record links to exactly one person: " << r;
        EXPECT_EQ((*person)["sfdcContactId"], owner[id]);
    }
    const auto calls = mkto_->custom_push_calls("license_c");
    ASSERT_EQ(calls.size(), 1u) << "six records fit one Sync Custom Objects call";
    EXPECT_EQ(calls[0]["action"], "createOrUpdate");
    EXPECT_EQ(calls[0]["dedupeBy"], "dedupeFields");

    // Unchanged records cost nothing; one changed license is one update of one record.
    advance(1min);
    expect_ok(run_once());
    EXPECT_EQ(mkto_->custom_push_calls("license_c").size(), 1u);
    const auto changed = owner.begin()->first;
    sf_->update("License__c", changed, {{"Seats__c", 99}});
    advance(1min);
    expect_ok(run_once());
    const auto after = mkto_->custom_push_calls("license_c");
    ASSERT_EQ(after.size(), 2u);
    ASSERT_EQ(after.back()["input"].size(), 1u);
    EXPECT_EQ(after.back()["input"][0]["licenseId"], changed);
    EXPECT_EQ(after.back()["input"][0]["seats"], 99);
    EXPECT_EQ(mkto_->custom_records("license_c").size(), owner.size()) << "updated, not added";
}

TEST_F(marketo_sync, custom_object_rejections_go_to_the_error_log_by_category) {
    // createOnly: a record that already exists in Marketo is skipped (1017, duplicate); a
    // license with no contact is rejected by our own required check before any call.
    std::string mapping = licenses_mapping;
    mapping.replace(mapping.find("action: createOrUpdate"), 22, "action: createOnly");
    write_config({{"licenses", mapping}});
    const auto c = contact(1);
    const auto existing = license(c, "Pro", 1);
    const auto orphan = sf_->insert(
        "License__c", {{"Name", "x"}, {"Product__c", "Pro"}, {"Seats__c", 1}}, timestamp{t0});
    const auto fresh = license(c, "Team", 2);
    // Another integration created this license's record already.
    mkto_->add_custom_record("license_c", {{"licenseId", existing}, {"product", "Pro"}});
    advance(1min);
    expect_ok(run_once());
    auto st = session();
    auto errors = st->store().list_errors({});
    ASSERT_TRUE(errors);
    std::map<std::string, state::error_entry> by_record;
    for (const auto& e : *errors)
        by_record[e.record_id] = e;
    ASSERT_TRUE(by_record.contains(orphan));
    EXPECT_EQ(by_record[orphan].category, category::validation);
    EXPECT_EQ(by_record[orphan].code, "REQUIRED_MISSING");
    ASSERT_TRUE(by_record.contains(existing));
    EXPECT_EQ(by_record[existing].category, category::duplicate);
    EXPECT_EQ(by_record[existing].code, "1017");
    EXPECT_NE(by_record[existing].payload_json.find(c), std::string::npos)
        << "the payload that was sent is kept";
    EXPECT_FALSE(by_record.contains(fresh));
    EXPECT_EQ(mkto_->custom_records("license_c").size(), 2u);
}

}  // namespace
}  // namespace crmsync
