// The real crmsync binary: exit codes (SPEC §2), every configuration problem listed with its
// position, and a sync against the fakes as an operator would run it.

#include "crmsync/core/central_time.hpp"

#include "config_text.hpp"
#include "daemon_process.hpp"
#include "fake_marketo.hpp"
#include "fake_salesforce.hpp"
#include "process.hpp"
#include "prometheus_text.hpp"
#include "run_command.hpp"
#include "test_client.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <poll.h>
#include <set>
#include <signal.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace crmsync {
namespace {

namespace fs = std::filesystem;

using testing::contacts_mapping;
using testing::run;
using testing::run_result;

class cli : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               fmt::format("crmsync-cli-{}-{}",
                           ::getpid(),
                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "mappings");
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / name) << text;
    }
    std::string config() const { return (dir_ / "crmsync.yaml").string(); }
    // A valid main file with source 'org' and Marketo destination 'mkto', for mapping checks.
    void write_main() {
        write("crmsync.yaml", R"(state: /tmp/x.db
sources:
  org: { kind: salesforce, login_url: https://login.salesforce.com, auth: { flow: client_credentials, client_id: x, client_secret: y } }
destinations:
  mkto: { kind: marketo, base_url: https://1-2-3.mktorest.com, client_id: a, client_secret: b }
mappings: mappings/*.yaml
)");
    }

    fs::path dir_;
};

TEST_F(cli, version_and_help) {
    auto r = run("--version");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("crmsync"), std::string::npos);
    r = run("help once");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--stream"), std::string::npos);
}

TEST_F(cli, bad_usage_exits_2) {
    EXPECT_EQ(run("frobnicate").exit_code, 2);
    EXPECT_EQ(run("").exit_code, 2);
    EXPECT_EQ(run("errors list --category nonsense -c /nonexistent.yaml").exit_code, 2);
}

TEST_F(cli, validate_lists_every_problem_with_its_position_and_exits_2) {
    write("crmsync.yaml", R"(state: /tmp/x.db
sources:
  org:
    kind: salesforce
    login_url: http://login.example.com
    auth: { flow: jwt, client_id: x, client_secret: y }
destinations:
  mkto: { kind: marketo, base_url: https://1-2-3.mktorest.com, client_id: a, client_secret: "${CRMSYNC_TEST_UNSET_VARIABLE}" }
mappings: mappings/*.yaml
)");
    write("mappings/contacts.yaml", R"(stream: contacts
source: { from: org, object: Contact, every: 5 minutes }
destination:
  to: mkto
  key: { source: Id, destination: sfdcContactId }
fields:
  - { to: email, from: Email, transfrom: [trim] }
  - { to: city, from: MailingCity, transform: [trim, uppercase] }
)");
    const auto r = run("validate -c " + config(), "env -u CRMSYNC_TEST_UNSET_VARIABLE");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    const auto main_file = config();
    const auto mapping = (dir_ / "mappings" / "contacts.yaml").string();
    // Every problem, each with file:line:column, in one run.
    EXPECT_NE(r.out.find(main_file + ":5:"), std::string::npos) << r.out;  // http:// off loopback
    EXPECT_NE(r.out.find(main_file + ":6:"), std::string::npos) << r.out;  // unknown flow
    EXPECT_NE(r.out.find(main_file + ":8:"), std::string::npos) << r.out;  // unset variable
    EXPECT_NE(r.out.find(mapping + ":2:"), std::string::npos) << r.out;    // bad duration
    EXPECT_NE(r.out.find(mapping + ":7:"), std::string::npos) << r.out;    // unknown key transfrom
    EXPECT_NE(r.out.find(mapping + ":8:"), std::string::npos) << r.out;    // unknown transform
    EXPECT_NE(r.out.find("CRMSYNC_TEST_UNSET_VARIABLE"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("did you mean 'transform'"), std::string::npos) << r.out;
}

TEST_F(cli, validate_refuses_a_flag_on_the_key_and_what_a_data_extension_cannot_do) {
    write("crmsync.yaml", R"(state: /tmp/x.db
sources:
  org: { kind: salesforce, login_url: https://login.salesforce.com, auth: { flow: client_credentials, client_id: x, client_secret: y } }
destinations:
  mkto: { kind: marketo, base_url: https://1-2-3.mktorest.com, client_id: a, client_secret: b }
  bu: { kind: sfmc, auth_url: https://x.auth.marketingcloudapis.com, account_id: "5100001234", client_id: a, client_secret: b }
mappings: mappings/*.yaml
)");
    const auto stream = [](const std::string& name,
                           const std::string& object,
                           const std::string& source,
                           const std::string& to) {
        return fmt::format(R"(stream: {}
source: {{ from: org, object: {}, {} }}
destination:
  to: {}
  object: {}
  key: {{ source: Id, destination: sfdcContactId }}
fields:
  - {{ to: email, from: Email }}
)",
                           name,
                           object,
                           source,
                           to,
                           to == "bu" ? "data_extension:DE" : "lead");
    };
    write("mappings/a.yaml", stream("removed", "Contact", "deletes: delete", "mkto"));
    write("mappings/b.yaml",
          stream("on_key",
                 "Contact",
                 "deletes: { flag: { field: sfdcContactId, value: true } }",
                 "mkto"));
    write("mappings/c.yaml", stream("de_removed", "Contact", "deletes: delete", "bu"));
    write("mappings/d.yaml", stream("de_followed", "Lead", "converted: follow_contact", "bu"));
    write("mappings/e.yaml", stream("followed", "Lead", "converted: follow_contact", "mkto"));
    auto r = run("validate -c " + config());
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("stream on_key: deletes flag field 'sfdcContactId' is the stream key"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("stream de_removed: 'deletes: delete' is not supported for data "
                         "extensions (Marketing Cloud documents no row delete)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("stream de_followed: 'converted: follow_contact' is not supported for "
                         "data extensions"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("3 problems found"), std::string::npos) << r.out;

    // Removing persons and following contacts run on Marketo; a flag elsewhere than the key too.
    fs::remove(dir_ / "mappings" / "c.yaml");
    fs::remove(dir_ / "mappings" / "d.yaml");
    write(
        "mappings/b.yaml",
        stream(
            "flagged", "Contact", "deletes: { flag: { field: crmDeleted, value: true } }", "mkto"));
    r = run("validate -c " + config());
    EXPECT_EQ(r.exit_code, 0) << r.out;
}

// validate's own checks run after loading and report at the stream's position; one that quotes
// a value substituted at another position names its reference, like the loader's messages.
TEST_F(cli, validate_never_quotes_a_substituted_value_in_a_check_made_after_loading) {
    write_main();
    write("mappings/a.yaml", R"(stream: on_key
source: { from: org, object: Contact, deletes: { flag: { field: "${CRMSYNC_T_KEY}", value: true } } }
destination:
  to: mkto
  key: { source: Id, destination: "${CRMSYNC_T_KEY}" }
fields:
  - { to: email, from: Email }
)");
    const auto r = run("validate -c " + config(), "CRMSYNC_T_KEY=sfdcS3cretKey__c");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("stream on_key: deletes flag field '${CRMSYNC_T_KEY}' is the stream key"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("S3cret"), std::string::npos) << r.out;
}

TEST_F(cli, validate_checks_phone_regions_and_formats_where_they_are_written) {
    write_main();
    const auto mapping = [](const std::string& region, const std::string& format) {
        return fmt::format(R"(stream: contacts
phone_region: {}
source: {{ from: org, object: Contact }}
destination:
  to: mkto
  key: {{ source: Id, destination: sfdcContactId }}
fields:
  - {{ to: phone, from: Phone, transform: [{{ phone: {} }}] }}
)",
                           region,
                           format);
    };
    write("mappings/contacts.yaml", mapping("FRA", "E.164"));
    const auto file = (dir_ / "mappings" / "contacts.yaml").string();
    auto r = run("validate -c " + config());
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find(file + ":2:15: unknown phone region 'FRA'"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(file + ":8:52: unknown phone format 'E.164'; did you mean 'E164'?"),
              std::string::npos)
        << r.out;
    write("mappings/contacts.yaml", mapping("FR", "E164"));
    r = run("validate -c " + config());
    EXPECT_EQ(r.exit_code, 0) << r.out;
}

TEST_F(cli, validate_accepts_a_marketo_custom_object_stream_and_checks_dedupe_by) {
    write_main();
    const auto mapping = [](const std::string& destination) {
        return fmt::format(R"(stream: licenses
source: {{ from: org, object: License__c }}
destination: {}
fields:
  - {{ to: contactSfdcId, from: Contact__c }}
)",
                           destination);
    };
    write("mappings/licenses.yaml",
          mapping("{ to: mkto, object: custom:license_c, dedupe_by: dedupeFields, key: { source: "
                  "Id, destination: licenseId } }"));
    auto r = run("validate -c " + config());
    EXPECT_EQ(r.exit_code, 0) << r.out;
    write("mappings/licenses.yaml",
          mapping("{ to: mkto, object: custom:license_c, dedupe_by: idField, key: { source: "
                  "Guid__c, destination: marketoGUID } }"));
    r = run("validate -c " + config());
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("dedupe_by idField needs action updateOnly, not createOrUpdate"),
              std::string::npos)
        << r.out;
}

TEST_F(cli, a_missing_config_file_exits_2) {
    const auto r = run("validate -c " + (dir_ / "nope.yaml").string());
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("nope.yaml"), std::string::npos);
}

class cli_sync : public cli {
protected:
    void SetUp() override {
        cli::SetUp();
        write("mappings/contacts.yaml", contacts_mapping());
    }

    void write_main(const std::string& sf_secret) {
        testing::main_config main{
            .state_dir = dir_,
            .sf_url = sf_.base_url(),
            .mkto_url = mkto_.base_url(),
            .log_level = log_level_,
            .sf_auth =
                R"({ flow: client_credentials, client_id: fake-sf-client, client_secret: "${CRMSYNC_TEST_SF_SECRET}" })",
            .top = extra_main_ + "\n"};
        if (!api_budget_.empty())
            main.sf_keys.push_back("api_budget: " + api_budget_);
        main.sf_keys.insert(main.sf_keys.end(), sf_keys_.begin(), sf_keys_.end());
        write("crmsync.yaml", main.text());
        env_ = "CRMSYNC_TEST_SF_SECRET=" + sf_secret;
    }

    // `crmsync run` on this config, its output read line by line.
    std::unique_ptr<testing::daemon_process> start_daemon() {
        return std::make_unique<testing::daemon_process>(
            CRMSYNC_BINARY,
            std::vector<std::string>{"run", "-c", config()},
            std::vector<std::string>{env_});
    }

    // "http://ADDRESS" of the daemon's admin endpoint once it says it listens; empty if it
    // never did.
    static std::string admin_url(testing::daemon_process& d) {
        const auto listening = d.wait_for_log("Admin endpoint listening.");
        return listening ? "http://" + (*listening)["address"].get<std::string>() : std::string{};
    }

    // GET /metrics: answered in the Prometheus text format, and parsed.
    static testing::exposition scrape_metrics(const std::string& admin) {
        const auto r = fakes::test::request("GET", admin + "/metrics");
        EXPECT_EQ(r.status, 200u) << r.ec.message();
        EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
        auto m = testing::parse_exposition(r.body);
        EXPECT_TRUE(m.problems.empty()) << m.problems.front() << "\n" << r.body;
        return m;
    }

    // Starts `crmsync run` in the background with stderr (the logs) to `log`; -1 if it failed.
    pid_t spawn_run(const std::string& log, std::vector<std::string> extra_env = {}) {
        std::vector<std::string> env{env_, "PATH=/usr/bin:/bin"};
        env.insert(env.end(), extra_env.begin(), extra_env.end());
        return testing::spawn({CRMSYNC_BINARY, "run", "-c", config()},
                              {.env = env, .log_file = log});
    }

    fakes::fake_salesforce sf_;
    fakes::fake_marketo mkto_;
    std::string env_;
    std::string extra_main_;            // more top-level keys for crmsync.yaml (admin:)
    std::string api_budget_;            // sources.org.api_budget; empty = the default (100%)
    std::vector<std::string> sf_keys_;  // more "key: value" lines of sources.org
    std::string log_level_ = "info";
};

// The JSON lines preview prints (logs go to stderr, interleaved by run()).
std::vector<nlohmann::json> preview_lines(const std::string& out) {
    std::vector<nlohmann::json> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with(R"({"record_id":)"))
            lines.push_back(nlohmann::json::parse(line));
    }
    return lines;
}

// The preview lines of `out` by record id.
std::map<std::string, nlohmann::json> preview_by_id(const std::string& out) {
    std::map<std::string, nlohmann::json> by_id;
    for (const auto& l : preview_lines(out))
        by_id[l["record_id"].get<std::string>()] = l;
    return by_id;
}

TEST_F(cli_sync, once_syncs_logs_a_summary_and_status_reports_it) {
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    for (int i = 0; i < 12; ++i) {
        sf_.insert(
            "Contact",
            {{"LastName", fmt::format("L{}", i)}, {"Email", fmt::format("p{}@example.com", i)}},
            past);
    }
    sf_.insert("Contact", {{"LastName", "NoMail"}}, past);  // required email missing → rejected
    write_main("fake-sf-secret");
    auto r = run("once -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find(R"("message":"Stream run finished.")"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(R"("created":12)"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("fake-sf-secret"), std::string::npos) << "secrets never reach logs";
    EXPECT_EQ(mkto_.leads().size(), 12u);

    r = run("status --json -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["streams"][0]["stream"], "contacts");
    EXPECT_EQ(j["streams"][0]["synced_total"], 12);
    EXPECT_EQ(j["streams"][0]["open_errors"]["validation"], 1);

    // With a state, preview starts from its watermark (read only): the overlap window re-reads
    // the 13 records, all already handled, so each says "unchanged" as the next cycle would
    // count it; and the state is left as it was.
    r = run("preview --stream contacts --limit 20 -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    const auto again = preview_lines(r.out);
    EXPECT_EQ(again.size(), 13u) << r.out;
    for (const auto& line : again)
        EXPECT_EQ(line["action"], "unchanged") << line.dump();
    r = run("status --json -c " + config(), env_);
    EXPECT_EQ(nlohmann::json::parse(r.out), j) << r.out;

    r = run("errors list --json -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    const auto e = nlohmann::json::parse(r.out);
    ASSERT_EQ(e["errors"].size(), 1u);
    EXPECT_EQ(e["errors"][0]["code"], "REQUIRED_MISSING");
    r = run(fmt::format("errors show {} -c {}", e["errors"][0]["id"].get<long>(), config()), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;

    // Purging by age keeps today's entry; purging everything up to a minute from now drops it.
    r = run("errors purge --before 1d -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("0 entries"), std::string::npos) << r.out;
    const auto later = timestamp{system_now() + std::chrono::minutes(1)}.to_iso();
    r = run("errors purge --before " + later + " -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("1 entry"), std::string::npos) << r.out;
    EXPECT_EQ(run("errors purge --before yesterday -c " + config(), env_).exit_code, 2);
}

// Marketo's daily quota spent (by other integrations, here): the run stops paused with one warn
// line, status shows the pause and its end (midnight US Central time), and the next `once`, a
// new process, makes no Marketo call at all: the pause is in the state, not in memory.
TEST_F(cli_sync, a_spent_daily_quota_pauses_visibly_and_survives_a_restart) {
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    sf_.insert("Contact", {{"LastName", "L"}, {"Email", "p@example.com"}}, past);
    mkto_.set_calls_today(mkto_.options().limits.daily_quota);
    write_main("fake-sf-secret");
    auto r = run("once -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find(R"("message":"Stream paused until its API quota comes back.")"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find(R"("status":"paused")"), std::string::npos) << r.out;
    EXPECT_TRUE(mkto_.push_calls().empty());
    const auto refused = mkto_.errors_sent().at("607");

    r = run("status --json -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    const auto s = nlohmann::json::parse(r.out)["streams"][0];
    EXPECT_EQ(s["last_run"]["status"], "paused");
    EXPECT_EQ(s["paused"]["reason"], "quota") << s.dump();
    EXPECT_EQ(s["paused"]["destination"], "mkto");
    EXPECT_EQ(s["paused"]["until"], timestamp{next_us_central_midnight(system_now())}.to_iso());
    EXPECT_EQ(s["quota"]["limit"], 50000);
    EXPECT_EQ(s["quota"]["day"], us_central_date_text(system_now()));
    r = run("status -c " + config(), env_);
    EXPECT_NE(r.out.find("paused on quota: mkto"), std::string::npos) << r.out;

    r = run("once -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(mkto_.errors_sent().at("607"), refused) << "no call until the reset";
    EXPECT_TRUE(mkto_.push_calls().empty());
}

// The source's daily API use (SPEC §2 status, §4 limits): each run records what the org
// reported (Sforce-Limit-Info, and /limits at the start) in the state; status shows it next to
// the api_budget share, the summary line carries it, and a spent budget shows as a pause with
// its reason, also from a new process.
TEST_F(cli_sync, status_shows_the_sources_api_usage_and_a_budget_pause_with_its_reason) {
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    for (int i = 0; i < 3; ++i)
        sf_.insert("Contact",
                   {{"LastName", fmt::format("L{}", i)}, {"Email", fmt::format("p{}@x.com", i)}},
                   past);
    sf_.set_api_usage(1000);  // other integrations' calls today
    api_budget_ = "20%";      // 3000 of the fake org's 15000
    write_main("fake-sf-secret");
    auto r = run("once -c " + config(), env_);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    // The first call after the token is /limits (the 1001st of the day); the last response's
    // header reports every call this run made.
    const auto used = sf_.api_usage();
    EXPECT_GT(used, 1001);
    EXPECT_NE(r.out.find(fmt::format(R"("api_usage":"{}/15000")", used)), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find(R"("api_budget_calls":3000)"), std::string::npos) << r.out;

    r = run("status --json -c " + config(), env_);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    auto s = nlohmann::json::parse(r.out)["streams"][0];
    const auto& u = s["api_usage"];
    EXPECT_EQ(u["source"], "org") << s.dump();
    EXPECT_EQ(u["used"], used);
    EXPECT_EQ(u["limit"], 15000);
    EXPECT_EQ(u["origin"], "sforce_limit_info");
    EXPECT_DOUBLE_EQ(u["api_budget"].get<double>(), 0.2);
    EXPECT_EQ(u["budget_calls"], 3000);
    EXPECT_EQ(u["limits"]["used"], 1001);
    EXPECT_EQ(u["limits"]["limit"], 15000);
    EXPECT_TRUE(s["paused"].is_null()) << s.dump();
    r = run("status -c " + config(), env_);
    EXPECT_NE(
        r.out.find(fmt::format("api usage: org {}/15000 daily requests, budget 20% = 3000", used)),
        std::string::npos)
        << r.out;

    // The org's other integrations spend the rest of this source's share.
    sf_.set_api_usage(2999);
    r = run("once -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find(R"("status":"paused")"), std::string::npos) << r.out;
    EXPECT_EQ(sf_.api_usage(), 3000) << "only the /limits read: the budget holds";
    r = run("status --json -c " + config(), env_);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    s = nlohmann::json::parse(r.out)["streams"][0];
    EXPECT_EQ(s["last_run"]["status"], "paused");
    EXPECT_NE(s["last_run"]["error"].get<std::string>().find("API budget reached: 3000 of 15000"),
              std::string::npos)
        << s.dump();
    EXPECT_EQ(s["api_usage"]["used"], 3000);
    EXPECT_EQ(s["paused"]["reason"], "api_budget") << s.dump();
    EXPECT_EQ(s["paused"]["source"], "org");
    EXPECT_EQ(s["paused"]["used"], 3000);
    EXPECT_EQ(s["paused"]["budget_calls"], 3000);
    r = run("status -c " + config(), env_);
    EXPECT_NE(r.out.find("paused on api_budget: org has used 3000 of the 3000 daily requests its "
                         "budget of 20% allows"),
              std::string::npos)
        << r.out;
}

// A stream held by its api_budget makes no call, so only a /limits read shows the rolling day
// freeing room: the daemon reads /limits once per limits_every from the reserve it keeps for
// that, and resumes by itself once the budget has room (no SIGHUP, no restart). Pause and
// resume are visible in the log, /readyz and status.
TEST_F(cli_sync, a_stream_paused_on_its_api_budget_resumes_by_itself_when_the_day_frees_room) {
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    for (int i = 0; i < 3; ++i)
        sf_.insert("Contact",
                   {{"LastName", fmt::format("L{}", i)}, {"Email", fmt::format("b{}@x.com", i)}},
                   past);
    // 50% of 10,000,000 allows 5,000,000 requests; a read per second for a day keeps 86,400 of
    // them (plan_budget_recheck), so ordinary calls stop at 4,913,600.
    sf_.set_daily_limit(10'000'000);
    sf_.set_api_usage(4'913'599);  // with the start-up /limits read: the threshold, reached
    api_budget_ = "50%";
    sf_keys_ = {"limits_every: 1s"};
    extra_main_ = "admin: { listen: \"127.0.0.1:0\" }";
    write("mappings/contacts.yaml", contacts_mapping(", every: 1s"));
    write_main("fake-sf-secret");
    auto d = start_daemon();
    ASSERT_TRUE(d->started());
    const auto base = admin_url(*d);
    ASSERT_FALSE(base.empty()) << d->output();
    const auto paused = d->wait_for_log("Stream paused until its API quota comes back.");
    ASSERT_TRUE(paused) << d->output();
    EXPECT_NE((*paused)["error"].get<std::string>().find(
                  "API budget reached: 4913600 of 10000000 daily requests used (budget 50%); "
                  "86400 of its 5000000 requests are kept for reading /limits"),
              std::string::npos)
        << paused->dump();
    // Held, each re-read costs one request of the reserve, and nothing else goes out. A run
    // may come a little before the read is due: a few pauses later one has happened.
    for (int i = 0; i < 5 && sf_.api_usage() == 4'913'600; ++i) {
        ASSERT_TRUE(d->wait_for_log("Stream paused until its API quota comes back.",
                                    {},
                                    std::chrono::seconds(30),
                                    d->line_count()))
            << d->output();
    }
    EXPECT_GT(sf_.api_usage(), 4'913'600) << "the re-read of /limits counts";
    EXPECT_LT(sf_.api_usage(), 5'000'000);
    EXPECT_TRUE(sf_.queries().empty()) << "no query while the budget holds";
    EXPECT_TRUE(mkto_.leads().empty());
    // The first run ended paused before this line: a later run keeps the state while it runs.
    auto r = fakes::test::request("GET", base + "/readyz");
    EXPECT_EQ(r.status, 503u) << r.body;
    EXPECT_EQ(r.json()["streams"][0]["state"], "paused") << r.body;
    // status reads the newest run, which may be one still in flight: ask until one has closed.
    nlohmann::json s;
    for (int i = 0; i < 30 && s["paused"].is_null(); ++i)
        s = nlohmann::json::parse(run("status --json -c " + config(), env_).out)["streams"][0];
    EXPECT_EQ(s["paused"]["reason"], "api_budget") << s.dump();

    // A day after the calls that spent it, the rolling window has let go of them.
    sf_.set_api_usage(1'000'000);
    const auto resumed = d->wait_for_log("Stream resumed: its API quota has room again.");
    ASSERT_TRUE(resumed) << d->output();
    EXPECT_EQ((*resumed)["stream"], "contacts");
    EXPECT_FALSE((*resumed)["paused_since"].get<std::string>().empty()) << resumed->dump();
    EXPECT_EQ(mkto_.leads().size(), 3u);
    r = fakes::test::request("GET", base + "/readyz");
    EXPECT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.json()["streams"][0]["state"], "ok") << r.body;
    const auto m = scrape_metrics(base);
    EXPECT_EQ(m.value("crmsync_stream_resumes_total", {{"stream", "contacts"}}), 1);
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait_exit(std::chrono::seconds(10)), 0) << d->output();
    s = nlohmann::json::parse(run("status --json -c " + config(), env_).out)["streams"][0];
    EXPECT_TRUE(s["paused"].is_null()) << s.dump();
    EXPECT_EQ(s["last_run"]["status"], "ok") << s.dump();
}

// A Bulk API 2.0 job that ends Failed (or a refused job) stops the run with one line naming the
// job and Salesforce's message, exit 1, no watermark; the next run loads again and completes.
TEST_F(cli_sync, a_failed_bulk_load_stops_with_one_clear_line_and_the_next_run_loads_again) {
    write("mappings/contacts.yaml", contacts_mapping(", bulk_threshold: 300"));
    sf_.set_max_page_size(200);
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    for (int i = 0; i < 450; ++i)
        sf_.insert("Contact",
                   {{"LastName", fmt::format("L{}", i)}, {"Email", fmt::format("p{}@x.com", i)}},
                   past);
    write_main("fake-sf-secret");
    sf_.set_bulk_job_outcome(2, "Failed", "InvalidBatch : Failed to process query");
    auto r = run("once -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find(R"("message":"Initial load through a Bulk API 2.0 query job.")"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find(R"("message":"Stream stopped.")"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("job Failed: InvalidBatch : Failed to process query"), std::string::npos)
        << r.out;
    EXPECT_TRUE(mkto_.leads().empty());
    auto s = nlohmann::json::parse(run("status --json -c " + config(), env_).out)["streams"][0];
    EXPECT_EQ(s["last_run"]["status"], "failed");
    EXPECT_TRUE(s["watermark"].is_null());

    sf_.set_bulk_unsupported("Contact");
    r = run("once -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("INVALIDENTITY"), std::string::npos) << r.out;

    sf_.set_bulk_unsupported("Contact", false);
    sf_.set_bulk_job_outcome(1);
    r = run("once -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(mkto_.leads().size(), 450u);
    EXPECT_EQ(sf_.bulk_jobs_created(), 2u)
        << "the Failed job, then this one (INVALIDENTITY made none)";
    s = nlohmann::json::parse(run("status --json -c " + config(), env_).out)["streams"][0];
    EXPECT_FALSE(s["watermark"].is_null());
}

TEST_F(cli_sync, watermark_reset_replays_every_record_and_set_replays_from_a_time) {
    const auto old_time = timestamp{system_now() - std::chrono::hours(2)};
    const auto new_time = timestamp{system_now() - std::chrono::minutes(10)};
    for (int i = 0; i < 4; ++i)
        sf_.insert("Contact",
                   {{"LastName", "Old"}, {"Email", fmt::format("o{}@example.com", i)}},
                   old_time);
    for (int i = 0; i < 3; ++i)
        sf_.insert("Contact",
                   {{"LastName", "New"}, {"Email", fmt::format("n{}@example.com", i)}},
                   new_time);
    write_main("fake-sf-secret");
    const auto pushed = [this] {
        std::size_t n = 0;
        for (const auto& call : mkto_.push_calls())
            n += call["input"].size();
        return n;
    };
    ASSERT_EQ(run("once -c " + config(), env_).exit_code, 0);
    ASSERT_EQ(pushed(), 7u);
    ASSERT_EQ(run("once -c " + config(), env_).exit_code, 0);
    ASSERT_EQ(pushed(), 7u) << "nothing changed";

    // set: records changed since the time are sent again, older ones are not.
    auto r =
        run("watermark set --stream contacts --to " +
                timestamp{system_now() - std::chrono::minutes(30)}.to_iso() + " -c " + config(),
            env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    ASSERT_EQ(run("once -c " + config(), env_).exit_code, 0);
    EXPECT_EQ(pushed(), 10u);

    // reset: everything is read and sent again.
    r = run("watermark reset --stream contacts -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    auto st = nlohmann::json::parse(run("status --json -c " + config(), env_).out);
    EXPECT_TRUE(st["streams"][0]["watermark"].is_null());
    ASSERT_EQ(run("once -c " + config(), env_).exit_code, 0);
    EXPECT_EQ(pushed(), 17u);

    EXPECT_EQ(
        run("watermark set --stream nope --to 2026-01-01T00:00:00Z -c " + config(), env_).exit_code,
        2);
    EXPECT_EQ(run("watermark set --stream contacts --to soon -c " + config(), env_).exit_code, 2);
}

TEST_F(cli_sync, preview_prints_payloads_and_rejections_sends_nothing_and_moves_no_watermark) {
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    const auto anne =
        sf_.insert("Contact", {{"LastName", "Durand"}, {"Email", "  Anne@Example.COM "}}, past);
    const auto nomail = sf_.insert("Contact", {{"LastName", "NoMail"}}, past);
    sf_.insert("Contact", {{"LastName", "Third"}, {"Email", "third@example.com"}}, past);
    write_main("fake-sf-secret");

    auto r = run("preview --stream contacts --limit 2 --trace -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    ASSERT_EQ(preview_lines(r.out).size(), 2u) << "--limit 2: " << r.out;
    auto by_id = preview_by_id(r.out);
    ASSERT_EQ(by_id.count(anne), 1u) << r.out;
    ASSERT_EQ(by_id.count(nomail), 1u) << r.out;
    const auto& sent = by_id[anne];
    EXPECT_EQ(sent["action"], "send");
    EXPECT_EQ(sent["payload"],
              (nlohmann::json{
                  {"sfdcContactId", anne}, {"email", "anne@example.com"}, {"lastName", "Durand"}}));
    EXPECT_EQ(sent["trace"]["email"], nlohmann::json::array({"Email"}));
    EXPECT_EQ(sent["trace"]["sfdcContactId"], nlohmann::json::array({"Id"}));
    const auto& refused = by_id[nomail];
    EXPECT_EQ(refused["action"], "reject");
    EXPECT_FALSE(refused.contains("payload"));
    EXPECT_EQ(refused["rejection"]["category"], "validation");
    EXPECT_EQ(refused["rejection"]["code"], "REQUIRED_MISSING");

    // --id reads exactly those records; without --trace there is no trace.
    r = run("preview --stream contacts --id " + anne + " -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    const auto lines = preview_lines(r.out);
    ASSERT_EQ(lines.size(), 1u) << r.out;
    EXPECT_EQ(lines[0]["record_id"], anne);
    EXPECT_FALSE(lines[0].contains("trace"));

    // Nothing reached Marketo and no state was written.
    EXPECT_TRUE(mkto_.push_calls().empty());
    EXPECT_TRUE(mkto_.leads().empty());
    EXPECT_FALSE(fs::exists(dir_ / "state.db"));
    r = run("status --json -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j["streams"][0]["watermark"].is_null()) << r.out;
    EXPECT_TRUE(j["streams"][0]["last_run"].is_null()) << r.out;

    EXPECT_EQ(run("preview --stream nope -c " + config(), env_).exit_code, 2);
    EXPECT_EQ(run("preview -c " + config(), env_).exit_code, 2) << "--stream is required";
    EXPECT_EQ(run("preview --stream contacts --id not-an-id -c " + config(), env_).exit_code, 2);
    EXPECT_EQ(run("preview --stream contacts --limit 0 -c " + config(), env_).exit_code, 2);
}

TEST_F(cli_sync, preview_rejects_what_preflight_would_and_still_sends_nothing) {
    // An admin's Marketo instance whose lastName holds 5 characters.
    mkto_.remove_field("lastName");
    mkto_.add_field({.name = "lastName", .length = 5});
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    const auto short_name =
        sf_.insert("Contact", {{"LastName", "Roy"}, {"Email", "roy@example.com"}}, past);
    const auto long_name =
        sf_.insert("Contact", {{"LastName", "Durand"}, {"Email", "durand@example.com"}}, past);
    write_main("fake-sf-secret");
    const auto r = run("preview --stream contacts -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    auto by_id = preview_by_id(r.out);
    EXPECT_EQ(by_id[short_name]["action"], "send") << r.out;
    const auto& refused = by_id[long_name];
    EXPECT_EQ(refused["action"], "reject") << r.out;
    EXPECT_EQ(refused["rejection"]["code"], "PREFLIGHT_TOO_LONG");
    EXPECT_EQ(refused["rejection"]["message"],
              "field 'lastName' holds 6 characters; the destination allows 5: 'Durand'");
    EXPECT_EQ(refused["payload"]["lastName"], "Durand");  // what would have been sent
    EXPECT_TRUE(mkto_.push_calls().empty());
    EXPECT_FALSE(fs::exists(dir_ / "state.db"));
}

TEST_F(cli_sync, preview_diff_shows_per_record_what_would_change_and_sends_nothing) {
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    const auto moved =
        sf_.insert("Contact", {{"LastName", "Durand"}, {"Email", "anne@example.com"}}, past);
    const auto same =
        sf_.insert("Contact", {{"LastName", "Roy"}, {"Email", "roy@example.com"}}, past);
    const auto fresh =
        sf_.insert("Contact", {{"LastName", "New"}, {"Email", "new@example.com"}}, past);
    const auto twin =
        sf_.insert("Contact", {{"LastName", "Twin"}, {"Email", "twin@example.com"}}, past);
    // What Marketo holds now: Anne under an old email and name, Roy as the CRM has him, two
    // persons for the twin, none for the new contact.
    mkto_.add_person(
        {{"sfdcContactId", moved}, {"email", "anne.old@example.com"}, {"lastName", "Martin"}});
    mkto_.add_person({{"sfdcContactId", same}, {"email", "roy@example.com"}, {"lastName", "Roy"}});
    mkto_.add_person({{"sfdcContactId", twin}, {"email", "twin1@example.com"}});
    mkto_.add_person({{"sfdcContactId", twin}, {"email", "twin2@example.com"}});
    const auto persons = mkto_.leads();
    write_main("fake-sf-secret");

    const auto r = run("preview --stream contacts --diff -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    auto by_id = preview_by_id(r.out);
    ASSERT_EQ(by_id.size(), 4u) << r.out;
    EXPECT_EQ(by_id[moved]["destination"], "exists");
    EXPECT_EQ(
        by_id[moved]["changes"],
        (nlohmann::json{{"email", {{"from", "anne.old@example.com"}, {"to", "anne@example.com"}}},
                        {"lastName", {{"from", "Martin"}, {"to", "Durand"}}}}));
    EXPECT_EQ(by_id[same]["destination"], "exists");
    EXPECT_EQ(by_id[same]["changes"], nlohmann::json::object());
    EXPECT_EQ(by_id[fresh]["destination"], "new");
    EXPECT_FALSE(by_id[fresh].contains("changes"));
    EXPECT_EQ(by_id[twin]["destination"], "duplicates");
    EXPECT_EQ(by_id[twin]["matches"], 2);

    // Only read: no Sync Leads call, the persons as they were, no state written.
    EXPECT_TRUE(mkto_.push_calls().empty());
    EXPECT_EQ(mkto_.leads(), persons);
    EXPECT_FALSE(fs::exists(dir_ / "state.db"));

    // Without --diff nothing is read back and the lines carry no destination.
    const auto plain = run("preview --stream contacts -c " + config(), env_);
    for (const auto& l : preview_lines(plain.out))
        EXPECT_FALSE(l.contains("destination")) << l;
}

TEST_F(cli_sync, preview_diff_leaves_out_what_the_cycle_would_not_send) {
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    const auto nomail = sf_.insert("Contact", {{"LastName", "NoMail"}}, past);
    write_main("fake-sf-secret");
    const auto r = run("preview --stream contacts --diff -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    const auto lines = preview_lines(r.out);
    ASSERT_EQ(lines.size(), 1u) << r.out;
    EXPECT_EQ(lines[0]["record_id"], nomail);
    EXPECT_EQ(lines[0]["action"], "reject");
    EXPECT_FALSE(lines[0].contains("destination"));
}

TEST_F(cli, preview_diff_on_a_data_extension_says_it_is_not_available_before_any_call) {
    // Nothing listens at these addresses: the refusal must come before any call.
    write("crmsync.yaml", R"(state: /tmp/crmsync-cli-none/state.db
sources:
  org: { kind: salesforce, login_url: http://127.0.0.1:9, auth: { flow: client_credentials, client_id: x, client_secret: y } }
destinations:
  bu: { kind: sfmc, auth_url: http://127.0.0.1:9, account_id: "5100001234", client_id: a, client_secret: b }
mappings: mappings/*.yaml
)");
    write("mappings/de.yaml", R"(stream: contacts_de
source: { from: org, object: Contact }
destination:
  to: bu
  object: data_extension:Contacts_DE
  key: { source: Id, destination: ContactId }
fields:
  - { to: Email, from: Email }
)");
    const auto r = run("preview --stream contacts_de --diff -c " + config());
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("preview --diff is not available for Marketing Cloud data extensions "
                         "(stream contacts_de writes data_extension:Contacts_DE)"),
              std::string::npos)
        << r.out;
}

TEST_F(cli_sync, preview_shows_the_marks_deletes_flag_would_send_and_their_diff) {
    write("mappings/contacts.yaml",
          contacts_mapping(", deletes: { flag: { field: crmDeleted, value: true } }"));
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    const auto alive =
        sf_.insert("Contact", {{"LastName", "Alive"}, {"Email", "alive@example.com"}}, past);
    const auto gone =
        sf_.insert("Contact", {{"LastName", "Gone"}, {"Email", "gone@example.com"}}, past);
    const auto never =
        sf_.insert("Contact", {{"LastName", "Never"}, {"Email", "never@example.com"}}, past);
    mkto_.add_person(
        {{"sfdcContactId", gone}, {"email", "gone@example.com"}, {"crmDeleted", false}});
    // Deleted in the past: a window ends before the second now is in, so a change made in
    // this second would only show in the next preview.
    sf_.remove("Contact", gone, past);
    sf_.remove("Contact", never, past);  // deleted before it ever reached Marketo
    write_main("fake-sf-secret");

    auto r = run("preview --stream contacts --diff -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    auto by_id = preview_by_id(r.out);
    ASSERT_EQ(by_id.size(), 3u) << r.out;
    EXPECT_EQ(by_id[alive]["action"], "send");
    EXPECT_EQ(by_id[gone]["action"], "flag");
    EXPECT_EQ(by_id[gone]["payload"],
              (nlohmann::json{{"sfdcContactId", gone}, {"crmDeleted", true}}));
    EXPECT_EQ(by_id[gone]["destination"], "exists");
    EXPECT_EQ(by_id[gone]["changes"],
              (nlohmann::json{{"crmDeleted", {{"from", false}, {"to", true}}}}));
    EXPECT_EQ(by_id[never]["action"], "flag");
    EXPECT_EQ(by_id[never]["destination"], "absent");  // updateOnly finds nothing to mark

    // --id reads a deleted record too (queryAll), as the cycle would.
    r = run("preview --stream contacts --id " + gone + " -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    const auto lines = preview_lines(r.out);
    ASSERT_EQ(lines.size(), 1u) << r.out;
    EXPECT_EQ(lines[0]["action"], "flag");
    EXPECT_TRUE(mkto_.push_calls().empty());
}

TEST_F(cli_sync, mapping_doc_prints_the_dictionary_as_markdown_or_csv) {
    write_main("fake-sf-secret");
    auto r = run("mapping-doc -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("## contacts"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("| `email` |  |  | `Email` | `trim`, `lower` | yes |  |  |"),
              std::string::npos)
        << r.out;
    r = run("mapping-doc --format csv --stream contacts -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out,
              "stream,destination_field,type,length,source_fields,transforms,required,key,"
              "description\r\n"
              "contacts,sfdcContactId,,,Id,,true,true,stream key (destination.key)\r\n"
              "contacts,email,,,Email,trim > lower,true,false,\r\n"
              "contacts,lastName,,,LastName,,false,false,\r\n");
    EXPECT_TRUE(mkto_.push_calls().empty());
    EXPECT_EQ(run("mapping-doc --format xml -c " + config(), env_).exit_code, 2);
    EXPECT_EQ(run("mapping-doc --stream nope -c " + config(), env_).exit_code, 2);
    r = run("help mapping-doc");
    EXPECT_NE(r.out.find("--online"), std::string::npos) << r.out;
}

TEST_F(cli_sync, mapping_doc_online_lists_the_destination_types_and_lengths) {
    write("mappings/contacts.yaml", R"(stream: contacts
source: { from: org, object: Contact, settle: 0s }
destination:
  to: mkto
  key: { source: Id, destination: sfdcContactId }
fields:
  - { to: email, from: Email, transform: [trim, lower], required: true }
  - { to: leadScore, from: Score__c }
  - { to: nickname__c, from: LastName }
)");
    write_main("fake-sf-secret");
    auto r = run("mapping-doc --online --format csv -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    // The fake's describe, as Marketo's leads/describe reports it [MK-LEADS].
    EXPECT_NE(r.out.find("contacts,sfdcContactId,string,18,Id,"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("contacts,email,email,255,Email,"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("contacts,leadScore,integer,,Score__c,"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("contacts,nickname__c,(not in destination),,LastName,"), std::string::npos)
        << r.out;
    EXPECT_TRUE(mkto_.push_calls().empty());

    // A destination that refuses the credentials: exit 3, one line, no half dictionary.
    std::ifstream in(dir_ / "crmsync.yaml");
    std::string text{std::istreambuf_iterator<char>(in), {}};
    text.replace(text.find("fake-mkto-secret"), 16, "not-the-mkto-secret");
    write("crmsync.yaml", text);
    r = run("mapping-doc --online -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_NE(r.out.find("mapping-doc --online: stream contacts: describe destination lead"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("Data dictionary"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("not-the-mkto-secret"), std::string::npos) << r.out;
}

// stdout alone (stderr, the log, to `log`): for commands whose --json output is parsed while
// they also log.
run_result run_stdout(const std::string& args, const std::string& env, const fs::path& log) {
    return run(args, env, log.string());
}

TEST_F(cli_sync, errors_retry_replays_rejections_with_todays_mapping_and_empties_the_log) {
    const auto mapping = [&](const std::string& salutations) {
        write("mappings/contacts.yaml",
              contacts_mapping(
                  "", "  - { to: salutation, from: Salutation, map: " + salutations + " }\n"));
    };
    mapping(R"({ "Mr.": Monsieur })");
    // An admin's Marketo instance whose lastName holds 5 characters.
    mkto_.remove_field("lastName");
    mkto_.add_field({.name = "lastName", .length = 5});
    write_main("fake-sf-secret");
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    const auto contact = [&](const std::string& last, const std::string& salutation) {
        return sf_.insert(
            "Contact",
            {{"LastName", last}, {"Email", last + "@example.com"}, {"Salutation", salutation}},
            past);
    };
    // Enough doctors that reading them back by Id takes several queries.
    std::set<std::string> doctors;
    for (int i = 0; i < 100; ++i)
        doctors.insert(contact(fmt::format("d{}", i), "Dr."));
    const auto prof = contact("prof", "Prof.");
    const auto purged = contact("gone", "Dr.");
    const auto binned = contact("bin", "Dr.");
    const auto durand = contact("Durand", "Mr.");  // too long for lastName: preflight
    contact("ok", "Mr.");
    const auto first = run("once -c " + config(), env_);
    ASSERT_EQ(first.exit_code, 0) << first.out;
    ASSERT_EQ(mkto_.leads().size(), 1u);
    const auto listed = nlohmann::json::parse(run("errors list --json -c " + config(), env_).out);
    ASSERT_EQ(listed["errors"].size(), 104u) << listed.dump();
    std::map<std::string, std::int64_t> entry;
    for (const auto& e : listed["errors"])
        entry[e["record_id"].get<std::string>()] = e["id"].get<std::int64_t>();

    // The admin fixes the mapping and Marketo's field; meanwhile the CRM loses two records.
    mapping(R"({ "Mr.": Monsieur, "Dr.": Docteur })");
    mkto_.remove_field("lastName");
    mkto_.add_field({.name = "lastName", .length = 80});
    sf_.purge("Contact", purged);
    sf_.remove("Contact", binned);
    const auto queries_before = sf_.queries().size();

    // Bad usage changes nothing.
    EXPECT_EQ(run("errors retry --category nope -c " + config(), env_).exit_code, 2);
    EXPECT_EQ(run("errors retry --stream nope -c " + config(), env_).exit_code, 2);
    auto r = run("errors retry 999999 " + std::to_string(entry[prof]) + " -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("no error log entry 999999"), std::string::npos) << r.out;
    EXPECT_EQ(sf_.queries().size(), queries_before) << "nothing was read";

    const auto log = dir_ / "retry.log";
    r = run_stdout("errors retry --json -c " + config(), env_, log);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto out = nlohmann::json::parse(r.out);
    EXPECT_EQ(out["counts"],
              (nlohmann::json{{"delivered", 101},
                              {"deleted", 1},
                              {"not_found", 1},
                              {"rejected", 1},
                              {"skipped", 0},
                              {"unknown_stream", 0}}))
        << r.out;
    ASSERT_EQ(out["retried"].size(), 104u);
    std::int64_t last_id = 0;
    for (const auto& x : out["retried"]) {
        EXPECT_GT(x["id"].get<std::int64_t>(), last_id) << "oldest entry first";
        last_id = x["id"];
        const auto id = x["record_id"].get<std::string>();
        EXPECT_EQ(x["id"], entry[id]);
        EXPECT_EQ(x["stream"], "contacts");
        if (doctors.count(id) || id == durand) {
            EXPECT_EQ(x["result"], "delivered") << x.dump();
        } else if (id == prof) {
            EXPECT_EQ(x,
                      (nlohmann::json{{"id", entry[prof]},
                                      {"stream", "contacts"},
                                      {"record_id", prof},
                                      {"result", "rejected"},
                                      {"category", "validation"},
                                      {"code", "UNMAPPED_VALUE"},
                                      {"message", x["message"]},
                                      {"attempts", 2}}));
            EXPECT_NE(x["message"].get<std::string>().find("'Prof.'"), std::string::npos);
        } else if (id == purged) {
            EXPECT_EQ(x["result"], "not_found") << x.dump();
        } else {
            EXPECT_EQ(id, binned);
            EXPECT_EQ(x["result"], "deleted") << x.dump();
        }
    }
    // Delivered with today's mapping; Durand's payload had not changed, only Marketo's field.
    EXPECT_EQ(mkto_.leads().size(), 102u);
    const auto dr = mkto_.find("sfdcContactId", *doctors.begin());
    ASSERT_EQ(dr.size(), 1u);
    EXPECT_EQ(dr[0]["salutation"], "Docteur");
    EXPECT_EQ(mkto_.find("sfdcContactId", durand).size(), 1u);
    // Read back by Id through queryAll, in queries that each keep the URI short.
    const auto queries = sf_.queries();
    std::size_t by_id = 0;
    for (std::size_t i = queries_before; i < queries.size(); ++i) {
        if (queries[i].find("WHERE Id IN (") == std::string::npos)
            continue;
        ++by_id;
        EXPECT_LE(queries[i].size(), 1'800u);
    }
    EXPECT_GE(by_id, 2u);
    // The log says what happened, record by record and in one summary line.
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find(R"("message":"Error-log entries retried.")"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("delivered":101)"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("code":"UNMAPPED_VALUE")"), std::string::npos) << text;

    // What is left: the one still rejected (updated) and the two the CRM no longer has.
    auto left = nlohmann::json::parse(run("errors list --json -c " + config(), env_).out);
    ASSERT_EQ(left["errors"].size(), 3u) << left.dump();
    std::set<std::string> left_ids;
    for (const auto& e : left["errors"]) {
        left_ids.insert(e["record_id"].get<std::string>());
        if (e["record_id"] == prof) {
            EXPECT_EQ(e["attempts"], 2);
        }
    }
    EXPECT_EQ(left_ids, (std::set<std::string>{prof, purged, binned}));

    // A named entry alone, in text: retried again although nothing changed.
    r = run_stdout(
        "errors retry --category validation " + std::to_string(entry[prof]) + " -c " + config(),
        env_,
        log);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("0 delivered, 1 rejected again"), std::string::npos) << r.out;
    // Only the named one: the two the CRM no longer has were not tried again.
    left = nlohmann::json::parse(
        run("errors list --json --category validation -c " + config(), env_).out);
    ASSERT_EQ(left["errors"].size(), 3u);
    for (const auto& e : left["errors"])
        EXPECT_EQ(e["attempts"], e["record_id"] == prof ? 3 : 1) << e.dump();

    // The admin maps Prof. too: the log keeps only what the CRM no longer has.
    mapping(R"({ "Mr.": Monsieur, "Dr.": Docteur, "Prof.": Professeur })");
    r = run_stdout("errors retry --json -c " + config(), env_, log);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(nlohmann::json::parse(r.out)["counts"]["delivered"], 1);
    left = nlohmann::json::parse(run("errors list --json -c " + config(), env_).out);
    EXPECT_EQ(left["errors"].size(), 2u);
    EXPECT_EQ(mkto_.find("sfdcContactId", prof).at(0)["salutation"], "Professeur");
}

TEST_F(cli_sync, refused_credentials_exit_3_without_printing_the_secret) {
    write_main("definitely-wrong-secret");
    const auto r = run("once -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_EQ(r.out.find("definitely-wrong-secret"), std::string::npos) << r.out;
}

TEST_F(cli_sync, a_process_killed_between_pages_resumes_from_its_last_commit_losing_no_tie) {
    // 450 contacts inside one second, pages of 200, no overlap: the only thing that brings back
    // the tied records of the committed second is the inclusive lower bound (SPEC §4).
    write("mappings/contacts.yaml", R"(stream: contacts
source: { from: org, object: Contact, settle: 0s, overlap: 0s }
destination:
  to: mkto
  key: { source: Id, destination: sfdcContactId }
fields:
  - { to: email, from: Email, required: true }
)");
    const auto second =
        std::chrono::floor<std::chrono::seconds>(system_now() - std::chrono::minutes(10));
    std::set<std::string> ids;
    for (int i = 0; i < 450; ++i) {
        ids.insert(sf_.insert("Contact",
                              {{"LastName", "Tie"}, {"Email", fmt::format("t{}@example.com", i)}},
                              timestamp{second + std::chrono::milliseconds(i * 2)}));
    }
    sf_.set_max_page_size(200);
    // Page two is served; page three hangs far beyond this test, so the process is killed
    // while it waits for it: after the batch of 300 was committed, with 100 read and unsent.
    sf_.fail_next("/services/data/v61.0/query/",
                  {fakes::fault_spec::pass(), fakes::fault_spec::hang(std::chrono::minutes(10))});
    write_main("fake-sf-secret");
    {
        testing::daemon_process once(
            CRMSYNC_BINARY, {"once", "-c", config()}, std::vector<std::string>{env_});
        ASSERT_TRUE(once.started());
        ASSERT_TRUE(once.wait_for_log("Batch sent.", {}, std::chrono::seconds(60)))
            << fmt::format("{}", fmt::join(once.lines(), "\n"));
        once.signal(SIGKILL);
        EXPECT_FALSE(once.wait_exit(std::chrono::seconds(30))) << "killed, not exited";
    }
    ASSERT_EQ(mkto_.push_calls().size(), 1u);
    EXPECT_EQ(mkto_.push_calls()[0]["input"].size(), 300u);

    auto r = run("once -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::set<std::string> persons;
    for (const auto& l : mkto_.leads())
        persons.insert(l.value("sfdcContactId", ""));
    EXPECT_EQ(persons, ids);
    std::size_t pushed = 0;
    for (const auto& call : mkto_.push_calls())
        pushed += call["input"].size();
    EXPECT_EQ(pushed, 450u) << "the 300 committed before the kill are not sent again";
    EXPECT_NE(r.out.find(R"("unchanged":300)"), std::string::npos) << r.out;
}

TEST_F(cli_sync, run_syncs_on_schedule_and_stops_cleanly_on_sigterm) {
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    for (int i = 0; i < 7; ++i) {
        sf_.insert(
            "Contact",
            {{"LastName", fmt::format("L{}", i)}, {"Email", fmt::format("r{}@example.com", i)}},
            past);
    }
    write_main("fake-sf-secret");
    auto d = start_daemon();
    ASSERT_TRUE(d->started());
    // The first cycle starts within a tenth of the 1m interval.
    ASSERT_TRUE(d->wait_for_log("Stream run finished.")) << d->output();
    EXPECT_EQ(mkto_.leads().size(), 7u);

    // SIGHUP reloads (its default action would end the daemon).
    d->signal(SIGHUP);
    EXPECT_TRUE(d->wait_for_log("Configuration reloaded.")) << d->output();

    const auto t0 = std::chrono::steady_clock::now();
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait_exit(std::chrono::seconds(10)), 0) << d->output();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
    const auto text = d->output();
    EXPECT_NE(text.find("Shutting down."), std::string::npos) << text;
    EXPECT_NE(text.find("Stopped."), std::string::npos) << text;
}

// SIGTERM while Marketo holds the answer to a Sync Leads batch (SPEC §5): the daemon exits 0
// within 10 s, the watermark stays behind every record that was not acknowledged, and the next
// start sends exactly what was not acknowledged, so nothing is lost.
TEST_F(cli_sync, sigterm_with_a_batch_unanswered_exits_0_in_time_and_a_restart_loses_nothing) {
    // 650 contacts one second apart, so each Sync Leads batch of 300 [MK-SYNC] ends at a
    // distinct SystemModstamp: batch 1 is records 0-299, batch 2 (held) 300-599.
    const auto past = timestamp{system_now() - std::chrono::minutes(30)};
    std::vector<std::string> ids;
    std::map<std::string, timestamp> modstamp;
    for (int i = 0; i < 650; ++i) {
        const timestamp at{past.at + std::chrono::seconds(i)};
        ids.push_back(sf_.insert(
            "Contact",
            {{"LastName", fmt::format("L{}", i)}, {"Email", fmt::format("t{}@example.com", i)}},
            at));
        modstamp[ids.back()] = at;
    }
    // Marketo answers the first batch and holds the second for two minutes, having done the
    // work (the client cannot tell an unanswered batch from one not yet executed).
    auto arrived = std::make_shared<std::promise<void>>();
    auto held = fakes::fault_spec::hang(std::chrono::minutes(2));
    held.on_arrival = [arrived] { arrived->set_value(); };
    // Batch 3 (records 600-649) is in flight beside batch 2 (limits.batches_in_flight) and
    // may arrive first: the hold is for the call carrying batch 2.
    held.body_contains = ids[300];
    mkto_.fail_next("/rest/v1/leads.json", {fakes::fault_spec::pass(), held});
    write_main("fake-sf-secret");
    auto d = start_daemon();
    ASSERT_TRUE(d->started());
    ASSERT_EQ(arrived->get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready)
        << d->output();

    const auto t0 = std::chrono::steady_clock::now();
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait_exit(std::chrono::seconds(10)), 0) << d->output();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
    const auto pushed = mkto_.push_calls();
    ASSERT_EQ(pushed.size(), 3u) << "every batch, the one after the held one beside it";
    std::set<std::string> held_ids;
    for (const auto& call : pushed) {
        if (call["input"][0]["sfdcContactId"] == ids[300]) {
            for (const auto& p : call["input"])
                held_ids.insert(p["sfdcContactId"].get<std::string>());
        }
    }
    ASSERT_EQ(held_ids.size(), 300u);

    // The acknowledged batch is committed; the watermark is behind every held record.
    auto r = run("status --json -c " + config(), env_);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto wm = nlohmann::json::parse(r.out)["streams"][0]["watermark"];
    ASSERT_TRUE(wm.is_object()) << r.out;
    const auto at = timestamp::parse(wm["modstamp"].get<std::string>());
    ASSERT_TRUE(at) << wm;
    for (const auto& id : held_ids)
        EXPECT_LT(*at, modstamp[id]) << "the watermark passed unacknowledged record " << id;
    // Batch 3 was answered too, but commits only after batch 2: it is sent again below.
    EXPECT_EQ(wm["id"], ids[299]) << "the answered batch was committed";
    // The abandoned run is closed as cancelled, with what it did, in its row and its summary.
    const auto last_run = nlohmann::json::parse(r.out)["streams"][0]["last_run"];
    EXPECT_EQ(last_run["status"], "cancelled") << r.out;
    EXPECT_TRUE(last_run["finished"].is_string()) << r.out;
    EXPECT_EQ(last_run["created"], 300) << r.out;
    const auto summary = d->wait_for_log("Stream run finished.");
    ASSERT_TRUE(summary) << d->output();
    EXPECT_EQ((*summary)["status"], "cancelled");
    EXPECT_EQ((*summary)["created"], 300);

    // A restart sends exactly what was not acknowledged, and Marketo then holds every record.
    d = start_daemon();
    ASSERT_TRUE(d->started());
    ASSERT_TRUE(d->wait_for_log("Stream run finished.")) << d->output();
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait_exit(std::chrono::seconds(10)), 0) << d->output();
    std::set<std::string> resent;
    const auto after = mkto_.push_calls();
    for (std::size_t i = pushed.size(); i < after.size(); ++i) {
        for (const auto& p : after[i]["input"])
            resent.insert(p["sfdcContactId"].get<std::string>());
    }
    EXPECT_EQ(resent, std::set<std::string>(ids.begin() + 300, ids.end()));
    std::set<std::string> in_marketo;
    for (const auto& lead : mkto_.leads())
        in_marketo.insert(lead["sfdcContactId"].get<std::string>());
    EXPECT_EQ(in_marketo, std::set<std::string>(ids.begin(), ids.end()));
}

// The line number of the first log line with this message at or after `from`, or npos.
std::size_t line_of(const std::vector<std::string>& lines,
                    std::string_view message,
                    std::size_t from = 0) {
    const std::string needle = fmt::format(R"("message":"{}")", message);
    for (std::size_t i = from; i < lines.size(); ++i) {
        if (lines[i].find(needle) != std::string::npos)
            return i;
    }
    return std::string::npos;
}

TEST_F(cli_sync, sighup_applies_a_valid_config_between_cycles_and_keeps_the_old_when_invalid) {
    const auto every_second = [](const std::string& fields) {
        return contacts_mapping(", every: 1s", fields);
    };
    write("mappings/contacts.yaml", every_second(""));
    log_level_ = "debug";
    write_main("fake-sf-secret");
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    const auto first = sf_.insert(
        "Contact", {{"FirstName", "Ann"}, {"LastName", "A"}, {"Email", "a@example.com"}}, past);
    // The first push hangs 3 s: the cycle is in flight when SIGHUP comes.
    mkto_.fail_next("/rest/v1/leads.json", {fakes::fault_spec::hang(std::chrono::seconds(3))});
    auto d = start_daemon();
    ASSERT_TRUE(d->started());
    // The identity call comes right before the push: from here the first cycle is in flight.
    ASSERT_TRUE(d->wait_for_log("API call.", [](const nlohmann::json& j) {
        return j["system"] == "marketo";
    })) << d->output();

    // A valid reload: firstName mapped, and a second stream.
    write("mappings/contacts.yaml", every_second("  - { to: firstName, from: FirstName }\n"));
    write("mappings/leads.yaml", R"(stream: leads
source: { from: org, object: Lead, settle: 0s, every: 1s }
destination:
  to: mkto
  key: { source: Id, destination: sfdcLeadId }
fields:
  - { to: email, from: Email, required: true }
)");
    d->signal(SIGHUP);
    const auto reloaded = d->wait_for_log("Configuration reloaded.");
    ASSERT_TRUE(reloaded) << d->output();
    EXPECT_EQ((*reloaded)["added"], nlohmann::json::array({"leads"}));
    EXPECT_EQ((*reloaded)["streams"], nlohmann::json::array({"contacts", "leads"}));
    auto lines = d->lines();
    const auto accepted = line_of(
        lines, "Configuration accepted; it applies once every cycle in flight has finished.");
    ASSERT_NE(accepted, std::string::npos) << d->output();
    // The cycle in flight was not interrupted: it sent its batch, with the mapping it started
    // with, and finished before the new configuration took over.
    const auto sent = line_of(lines, "Batch sent.", accepted);
    const auto finished = line_of(lines, "Stream run finished.", accepted);
    const auto applied = line_of(lines, "Configuration reloaded.", accepted);
    EXPECT_LT(sent, applied) << d->output();
    EXPECT_LT(finished, applied) << d->output();
    ASSERT_FALSE(mkto_.push_calls().empty());
    EXPECT_FALSE(mkto_.push_calls()[0]["input"][0].contains("firstName"))
        << mkto_.push_calls()[0].dump();
    EXPECT_EQ(mkto_.push_calls()[0]["input"][0]["sfdcContactId"], first);

    // The new mapping and the new stream run.
    const auto second = sf_.insert(
        "Contact", {{"FirstName", "Bob"}, {"LastName", "B"}, {"Email", "b@example.com"}}, past);
    sf_.insert("Lead", {{"Email", "lead@example.com"}, {"LastName", "L"}, {"Company", "C"}}, past);
    ASSERT_TRUE(d->wait_for_log("Batch sent.", [](const nlohmann::json& j) {
        return j["stream"] == "leads";
    })) << d->output();
    ASSERT_TRUE(d->wait_for_log(
        "Batch sent.",
        [](const nlohmann::json& j) { return j["stream"] == "contacts"; },
        std::chrono::seconds(30),
        applied))
        << d->output();
    auto bob = mkto_.find("sfdcContactId", second);
    ASSERT_EQ(bob.size(), 1u);
    EXPECT_EQ(bob[0]["firstName"], "Bob");
    EXPECT_EQ(mkto_.find("email", "lead@example.com").size(), 1u);

    // An invalid reload: every problem logged with its position, one summary, the old kept.
    write("mappings/contacts.yaml",
          every_second("  - { to: firstName, from: FirstName, transform: [titel] }\n"
                       "  - { to: city, form: MailingCity }\n"));
    const auto before_bad = d->line_count();
    d->signal(SIGHUP);
    const auto refused = d->wait_for_log("Reload refused; keeping the running configuration.",
                                         {},
                                         std::chrono::seconds(30),
                                         before_bad);
    ASSERT_TRUE(refused) << d->output();
    EXPECT_EQ((*refused)["problems"], 3);
    lines = d->lines();
    std::vector<std::string> problems;
    for (std::size_t i = before_bad; i < lines.size(); ++i) {
        auto j = nlohmann::json::parse(lines[i], nullptr, false);
        if (!j.is_discarded() && j.value("message", "") == "Configuration problem.")
            problems.push_back(j["error"]);
    }
    const auto mapping = (dir_ / "mappings" / "contacts.yaml").string();
    // Sorted by position: the unknown transform, then the field without a source and its
    // misspelt key.
    ASSERT_EQ(problems.size(), 3u) << d->output();
    EXPECT_TRUE(problems[0].starts_with(mapping + ":9:")) << problems[0];
    EXPECT_NE(problems[0].find("unknown transform 'titel'"), std::string::npos) << problems[0];
    EXPECT_TRUE(problems[1].starts_with(mapping + ":10:5: field 'city' needs one of"))
        << problems[1];
    EXPECT_TRUE(problems[2].starts_with(mapping + ":10:")) << problems[2];
    EXPECT_NE(problems[2].find("did you mean 'from'"), std::string::npos) << problems[2];
    EXPECT_EQ(line_of(lines, "Configuration reloaded.", before_bad), std::string::npos);

    // Still running the previous configuration: firstName is still sent, without `title`.
    const auto third = sf_.insert(
        "Contact", {{"FirstName", "cy"}, {"LastName", "C"}, {"Email", "c@example.com"}}, past);
    ASSERT_TRUE(d->wait_for_log(
        "Batch sent.",
        [](const nlohmann::json& j) { return j["stream"] == "contacts"; },
        std::chrono::seconds(30),
        before_bad))
        << d->output();
    auto cy = mkto_.find("sfdcContactId", third);
    ASSERT_EQ(cy.size(), 1u);
    EXPECT_EQ(cy[0]["firstName"], "cy");

    // The state database cannot change under a running daemon.
    {
        std::ifstream in(config());
        std::stringstream text;
        text << in.rdbuf();
        auto moved = text.str();
        moved.replace(moved.find("/state.db"), 9, "/other.db");
        write("crmsync.yaml", moved);
    }
    write("mappings/contacts.yaml", every_second("  - { to: firstName, from: FirstName }\n"));
    const auto before_state = d->line_count();
    d->signal(SIGHUP);
    ASSERT_TRUE(d->wait_for_log("Reload refused; keeping the running configuration.",
                                {},
                                std::chrono::seconds(30),
                                before_state))
        << d->output();
    const auto state_problem =
        d->wait_for_log("Configuration problem.", {}, std::chrono::seconds(30), before_state);
    ASSERT_TRUE(state_problem);
    EXPECT_TRUE((*state_problem)["error"].get<std::string>().starts_with(config() +
                                                                         ":1:8: 'state' changed"))
        << *state_problem;
    write_main("fake-sf-secret");

    // A reload that removes a stream stops scheduling it.
    fs::remove(dir_ / "mappings" / "leads.yaml");
    write("mappings/contacts.yaml", every_second("  - { to: firstName, from: FirstName }\n"));
    const auto before_remove = d->line_count();
    d->signal(SIGHUP);
    const auto removed =
        d->wait_for_log("Configuration reloaded.", {}, std::chrono::seconds(30), before_remove);
    ASSERT_TRUE(removed) << d->output();
    EXPECT_EQ((*removed)["removed"], nlohmann::json::array({"leads"}));

    // Two more contacts runs after it, and no leads run after it.
    const auto removal = d->line_count();
    for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(d->wait_for_log(
            "Stream run finished.",
            [&](const nlohmann::json& j) { return j["stream"] == "contacts"; },
            std::chrono::seconds(30),
            d->line_count()))
            << d->output();
    }
    lines = d->lines();
    for (std::size_t i = removal; i < lines.size(); ++i)
        EXPECT_EQ(lines[i].find(R"("stream":"leads")"), std::string::npos) << lines[i];

    d->signal(SIGTERM);
    EXPECT_EQ(d->wait_exit(std::chrono::seconds(10)), 0) << d->output();
}

TEST_F(cli_sync, run_serves_health_readiness_and_metrics_on_the_admin_endpoint) {
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    for (int i = 0; i < 4; ++i) {
        sf_.insert(
            "Contact",
            {{"LastName", fmt::format("L{}", i)}, {"Email", fmt::format("a{}@example.com", i)}},
            past);
    }
    sf_.insert("Contact", {{"LastName", "NoMail"}}, past);  // required email missing
    extra_main_ = "admin: { listen: \"127.0.0.1:0\" }";
    write_main("fake-sf-secret");
    auto d = start_daemon();
    ASSERT_TRUE(d->started());
    const auto base = admin_url(*d);
    ASSERT_FALSE(base.empty()) << d->output();
    ASSERT_TRUE(d->wait_for_log("Stream run finished.")) << d->output();

    auto r = fakes::test::request("GET", base + "/healthz");
    EXPECT_EQ(r.status, 200u) << r.ec.message();
    EXPECT_EQ(r.body, "ok\n");

    r = fakes::test::request("GET", base + "/readyz");
    EXPECT_EQ(r.status, 200u) << r.body;
    const auto ready = r.json();
    EXPECT_EQ(ready["ready"], true);
    ASSERT_EQ(ready["streams"].size(), 1u);
    EXPECT_EQ(ready["streams"][0]["stream"], "contacts");
    EXPECT_EQ(ready["streams"][0]["state"], "ok");
    // The fake org, like Salesforce, keeps whole seconds.
    EXPECT_EQ(ready["streams"][0]["watermark"],
              timestamp{std::chrono::floor<std::chrono::seconds>(past.at)}.to_iso());

    const auto m = scrape_metrics(base);
    ASSERT_TRUE(m.problems.empty());
    const std::map<std::string, std::string> contacts{{"stream", "contacts"}};
    EXPECT_EQ(m.value("crmsync_records_read_total", contacts), 5);
    EXPECT_EQ(m.value("crmsync_records_sent_total", contacts), 4);
    EXPECT_EQ(
        m.value("crmsync_records_delivered_total", {{"stream", "contacts"}, {"result", "created"}}),
        4);
    EXPECT_EQ(
        m.value("crmsync_records_rejected_total",
                {{"stream", "contacts"}, {"category", "validation"}, {"code", "REQUIRED_MISSING"}}),
        1);
    EXPECT_EQ(m.value("crmsync_stream_runs_total", {{"stream", "contacts"}, {"status", "ok"}}), 1);
    EXPECT_EQ(m.value("crmsync_batch_duration_seconds_count", contacts), 1);
    EXPECT_GE(m.value("crmsync_watermark_lag_seconds", contacts).value_or(-1), 600);
    EXPECT_EQ(m.value("crmsync_stream_healthy", contacts), 1);
    EXPECT_GT(m.value("crmsync_api_calls_total",
                      {{"system", "salesforce"}, {"instance", "org"}, {"status", "2xx"}})
                  .value_or(0),
              0);
    EXPECT_GT(m.value("crmsync_api_calls_total",
                      {{"system", "marketo"}, {"instance", "mkto"}, {"status", "2xx"}})
                  .value_or(0),
              0);
    EXPECT_GT(
        m.value("crmsync_api_quota_limit_calls", {{"system", "salesforce"}, {"instance", "org"}})
            .value_or(0),
        0);
    EXPECT_EQ(fakes::test::request("GET", base + "/nope").status, 404u);

    d->signal(SIGTERM);
    EXPECT_EQ(d->wait_exit(std::chrono::seconds(10)), 0) << d->output();
    EXPECT_NE(fakes::test::request("GET", base + "/healthz").ec, boost::system::error_code{})
        << "the endpoint went with the daemon";
}

// systemd's side of sd_notify(3): a unix datagram socket at NOTIFY_SOCKET, one message per
// datagram.
class notify_socket {
public:
    explicit notify_socket(const fs::path& path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
        bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~notify_socket() { ::close(fd_); }
    bool bound() const { return bound_; }

    // The `nth` message received so far or within `limit` that starts with `prefix`; empty if
    // none came.
    std::string wait_for(std::string_view prefix, std::chrono::seconds limit, int nth = 1) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            int seen = 0;
            for (const auto& m : messages_) {
                if (m.starts_with(prefix) && ++seen == nth)
                    return m;
            }
            if (std::chrono::steady_clock::now() >= deadline)
                return {};
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) == 1) {
                std::array<char, 4096> buf{};
                const auto n = ::recv(fd_, buf.data(), buf.size(), 0);
                if (n > 0)
                    messages_.emplace_back(buf.data(), static_cast<std::size_t>(n));
            }
        }
    }

private:
    int fd_ = -1;
    bool bound_ = false;
    std::vector<std::string> messages_;
};

TEST_F(cli_sync, run_tells_systemd_ready_status_watchdog_and_stopping) {
    const auto past = timestamp{system_now() - std::chrono::minutes(10)};
    for (int i = 0; i < 3; ++i) {
        sf_.insert(
            "Contact",
            {{"LastName", fmt::format("L{}", i)}, {"Email", fmt::format("n{}@example.com", i)}},
            past);
    }
    write_main("fake-sf-secret");
    const auto socket_path = dir_ / "notify";
    notify_socket systemd(socket_path);
    ASSERT_TRUE(systemd.bound()) << socket_path;
    // WatchdogSec=1 as systemd passes it: the daemon must ping at least every 500 ms.
    const pid_t pid = spawn_run((dir_ / "run.log").string(),
                                {"NOTIFY_SOCKET=" + socket_path.string(), "WATCHDOG_USEC=1000000"});
    ASSERT_GT(pid, 0);

    EXPECT_EQ(systemd.wait_for("READY=1", std::chrono::seconds(20)), "READY=1");
    EXPECT_EQ(systemd.wait_for("WATCHDOG=1", std::chrono::seconds(20)), "WATCHDOG=1");
    // The first cycle starts within a tenth of the 1m interval.
    EXPECT_EQ(systemd.wait_for("STATUS=", std::chrono::seconds(20)),
              "STATUS=contacts: read 3, created 3, updated 0, rejected 0");

    // A reload says RELOADING=1 (with the monotonic time sd_notify(3) asks for), then READY=1.
    ::kill(pid, SIGHUP);
    EXPECT_TRUE(systemd.wait_for("RELOADING=1", std::chrono::seconds(20))
                    .starts_with("RELOADING=1\nMONOTONIC_USEC="));
    EXPECT_EQ(systemd.wait_for("READY=1", std::chrono::seconds(20), 2), "READY=1");

    ::kill(pid, SIGTERM);
    EXPECT_EQ(systemd.wait_for("STOPPING=1", std::chrono::seconds(10)), "STOPPING=1");
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Issue 6's "Done when", in one daemon's life: it serves /metrics in the Prometheus text format
// with the metrics of SPEC §5; a valid SIGHUP takes effect, an invalid one keeps the running
// configuration and logs every problem; a record the mapping rejects goes to the error log; the
// admin fixes the mapping, reloads, runs `errors retry`, and the log is empty; SIGTERM ends it
// with exit 0.
TEST_F(cli_sync, operating_the_daemon_metrics_reloads_a_fixed_rejection_replayed_and_sigterm) {
    const auto mapping = [&](const std::string& salutations, const std::string& more) {
        write("mappings/contacts.yaml",
              contacts_mapping(
                  ", every: 1s",
                  "  - { to: salutation, from: Salutation, map: " + salutations + " }\n" + more));
    };
    const std::string first_name = "  - { to: firstName, from: FirstName }\n";
    mapping(R"({ "Mr.": Monsieur })", "");
    extra_main_ = "admin: { listen: \"127.0.0.1:0\" }";
    write_main("fake-sf-secret");
    // Each step's records ten minutes after the last step's: the default 5-minute overlap never
    // reads an earlier step's records again, so only `errors retry` can deliver the rejected one.
    auto at = system_now() - std::chrono::hours(2);
    const auto contact = [&](const std::string& last, const std::string& salutation) {
        at += std::chrono::minutes(10);
        return sf_.insert("Contact",
                          {{"FirstName", "F" + last},
                           {"LastName", last},
                           {"Email", last + "@example.com"},
                           {"Salutation", salutation}},
                          timestamp{at});
    };
    for (const auto* last : {"ann", "bob", "cy"})
        contact(last, "Mr.");

    auto d = start_daemon();
    ASSERT_TRUE(d->started());
    const auto admin = admin_url(*d);
    ASSERT_FALSE(admin.empty()) << d->output();
    ASSERT_TRUE(d->wait_for_log("Batch sent.")) << d->output();
    ASSERT_EQ(mkto_.leads().size(), 3u);

    // /metrics: valid exposition text, with the metrics SPEC §5 names.
    const auto scrape = [&] { return scrape_metrics(admin); };
    auto m = scrape();
    const std::map<std::string, std::string> contacts{{"stream", "contacts"}};
    EXPECT_EQ(m.value("crmsync_records_read_total", contacts), 3);
    EXPECT_EQ(m.value("crmsync_records_sent_total", contacts), 3);
    for (const auto& [name, type] :
         std::map<std::string, std::string>{{"crmsync_records_read_total", "counter"},
                                            {"crmsync_records_sent_total", "counter"},
                                            {"crmsync_records_rejected_total", "counter"},
                                            {"crmsync_api_calls_total", "counter"},
                                            {"crmsync_api_quota_remaining_calls", "gauge"},
                                            {"crmsync_watermark_lag_seconds", "gauge"},
                                            {"crmsync_batch_duration_seconds", "histogram"}}) {
        ASSERT_TRUE(m.families.count(name)) << name << " is not exposed";
        EXPECT_EQ(m.families.at(name).type, type) << name;
        EXPECT_FALSE(m.families.at(name).help.empty()) << name;
    }
    for (const std::string system : {"salesforce", "marketo"}) {
        bool calls = false, quota = false;
        for (const auto& x : m.families.at("crmsync_api_calls_total").samples)
            calls = calls || (x.labels.at("system") == system && x.value > 0);
        for (const auto& x : m.families.at("crmsync_api_quota_remaining_calls").samples)
            quota = quota || (x.labels.at("system") == system && x.value > 0);
        EXPECT_TRUE(calls) << "no API calls counted for " << system;
        EXPECT_TRUE(quota) << "no quota left reported for " << system;
    }
    EXPECT_GE(m.value("crmsync_watermark_lag_seconds", contacts).value_or(-1), 0);
    auto inf = contacts;
    inf["le"] = "+Inf";
    EXPECT_EQ(m.value("crmsync_batch_duration_seconds_bucket", inf),
              m.value("crmsync_batch_duration_seconds_count", contacts));
    EXPECT_GE(m.value("crmsync_batch_duration_seconds_count", contacts).value_or(0), 1);
    EXPECT_TRUE(m.value("crmsync_batch_duration_seconds_sum", contacts));

    // A valid reload takes effect: firstName is sent from now on.
    mapping(R"({ "Mr.": Monsieur })", first_name);
    auto from = d->line_count();
    d->signal(SIGHUP);
    ASSERT_TRUE(d->wait_for_log("Configuration reloaded.", {}, std::chrono::seconds(30), from))
        << d->output();
    const auto dan = contact("dan", "Mr.");
    ASSERT_TRUE(d->wait_for_log("Batch sent.", {}, std::chrono::seconds(30), from)) << d->output();
    ASSERT_EQ(mkto_.find("sfdcContactId", dan).size(), 1u);
    EXPECT_EQ(mkto_.find("sfdcContactId", dan)[0]["firstName"], "Fdan");
    EXPECT_FALSE(mkto_.find("email", "ann@example.com")[0].contains("firstName"));

    // An invalid reload: every problem logged at its position, the running configuration kept.
    mapping(R"({ "Mr.": Monsieur })",
            first_name +
                "  - { to: city, form: MailingCity }\n"
                "  - { to: title, from: Title, transform: [titel] }\n");
    from = d->line_count();
    d->signal(SIGHUP);
    const auto refused = d->wait_for_log(
        "Reload refused; keeping the running configuration.", {}, std::chrono::seconds(30), from);
    ASSERT_TRUE(refused) << d->output();
    std::vector<std::string> problems;
    for (const auto& line : d->lines()) {
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_object() && j.value("message", "") == "Configuration problem.")
            problems.push_back(j["error"]);
    }
    const auto mapping_path = (dir_ / "mappings" / "contacts.yaml").string();
    EXPECT_EQ((*refused)["problems"], problems.size());
    ASSERT_EQ(problems.size(), 3u) << d->output();
    EXPECT_TRUE(problems[0].starts_with(mapping_path + ":11:5: field 'city' needs one of"))
        << problems[0];
    EXPECT_NE(problems[1].find("did you mean 'from'"), std::string::npos) << problems[1];
    EXPECT_TRUE(problems[2].starts_with(mapping_path + ":12:")) << problems[2];
    EXPECT_NE(problems[2].find("unknown transform 'titel'"), std::string::npos) << problems[2];
    EXPECT_EQ(scrape().value("crmsync_config_last_reload_successful"), 0);
    // The admin puts the running mapping back on disk, so the commands below can load it.
    mapping(R"({ "Mr.": Monsieur })", first_name);
    const auto eve = contact("eve", "Mr.");
    ASSERT_TRUE(d->wait_for_log("Batch sent.", {}, std::chrono::seconds(30), from)) << d->output();
    ASSERT_EQ(mkto_.find("sfdcContactId", eve).size(), 1u);
    EXPECT_EQ(mkto_.find("sfdcContactId", eve)[0]["firstName"], "Feve");

    // A value the mapping does not know: rejected, logged, counted; the stream goes on.
    const auto doc = contact("doc", "Dr.");
    const auto rejection = d->wait_for_log("Record rejected.", {}, std::chrono::seconds(30), from);
    ASSERT_TRUE(rejection) << d->output();
    EXPECT_EQ((*rejection)["code"], "UNMAPPED_VALUE");
    from = d->line_count();
    const auto fay = contact("fay", "Mr.");
    ASSERT_TRUE(d->wait_for_log("Batch sent.", {}, std::chrono::seconds(30), from)) << d->output();
    EXPECT_EQ(mkto_.find("sfdcContactId", fay).size(), 1u);
    EXPECT_TRUE(mkto_.find("sfdcContactId", doc).empty());
    EXPECT_EQ(scrape().value(
                  "crmsync_records_rejected_total",
                  {{"stream", "contacts"}, {"category", "validation"}, {"code", "UNMAPPED_VALUE"}}),
              1);
    auto errors = nlohmann::json::parse(run("errors list --json -c " + config(), env_).out);
    ASSERT_EQ(errors["errors"].size(), 1u) << errors.dump();
    EXPECT_EQ(errors["errors"][0]["record_id"], doc);

    // The admin maps Dr. and reloads; the daemon's runs do not read the record again ...
    mapping(R"({ "Mr.": Monsieur, "Dr.": Docteur })", first_name);
    from = d->line_count();
    d->signal(SIGHUP);
    const auto applied =
        d->wait_for_log("Configuration reloaded.", {}, std::chrono::seconds(30), from);
    ASSERT_TRUE(applied) << d->output();
    const auto after_fix = line_of(d->lines(), "Configuration reloaded.", from) + 1;
    ASSERT_TRUE(d->wait_for_log("Stream run finished.", {}, std::chrono::seconds(30), after_fix))
        << d->output();
    EXPECT_TRUE(mkto_.find("sfdcContactId", doc).empty());
    EXPECT_EQ(scrape().value("crmsync_config_last_reload_successful"), 1);

    // ... `errors retry` does, with today's mapping, while the daemon runs; the log empties.
    const auto retried = run_stdout("errors retry --json -c " + config(), env_, dir_ / "retry.log");
    ASSERT_EQ(retried.exit_code, 0) << retried.out;
    EXPECT_EQ(nlohmann::json::parse(retried.out)["counts"]["delivered"], 1) << retried.out;
    const auto doc_lead = mkto_.find("sfdcContactId", doc);
    ASSERT_EQ(doc_lead.size(), 1u);
    EXPECT_EQ(doc_lead[0]["salutation"], "Docteur");
    EXPECT_EQ(doc_lead[0]["firstName"], "Fdoc");
    errors = nlohmann::json::parse(run("errors list --json -c " + config(), env_).out);
    EXPECT_TRUE(errors["errors"].empty()) << errors.dump();

    const auto t0 = std::chrono::steady_clock::now();
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait_exit(std::chrono::seconds(10)), 0) << d->output();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
    EXPECT_TRUE(d->wait_for_log("Stopped.")) << d->output();
}

}  // namespace
}  // namespace crmsync

namespace crmsync {
namespace {

class cli_online : public cli_sync {
protected:
    void SetUp() override {
        cli_sync::SetUp();
        write("mappings/contacts.yaml", R"(stream: contacts
source: { from: org, object: Contact }
destination:
  to: mkto
  key: { source: Id, destination: sfdcContactId }
fields:
  - { to: email, from: Email, transform: [trim, lower], required: true }
  - { to: lastName, from: LastName }
  - { to: title, from: Title }
  - { to: leadScore, from: Lead_Score__c }
)");
        write_main("fake-sf-secret");
    }
};

TEST_F(cli_online, validate_online_passes_when_the_live_schema_fits) {
    const auto r = run("validate --online -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("OK online: 1 stream checked against the live schema"), std::string::npos)
        << r.out;
    EXPECT_TRUE(mkto_.push_calls().empty()) << "validate writes nothing";
    EXPECT_TRUE(sf_.queries().empty()) << "and reads no records";
}

TEST_F(cli_online, validate_online_lists_each_mismatch_at_its_mapping_entry_and_exits_2) {
    const auto mapping = (dir_ / "mappings" / "contacts.yaml").string();
    sf_.remove_field("Contact", "LastName");
    sf_.remove_field("Contact", "Lead_Score__c");
    sf_.add_field("Contact", {.name = "Lead_Score__c", .type = "string"});
    mkto_.remove_field("title");
    mkto_.add_field({.name = "title", .length = 40});
    mkto_.remove_field("email");
    const auto r = run("validate --online -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 2) << r.out;
    for (const std::string& line :
         {mapping + ":7:5: stream contacts: destination field lead.email does not exist",
          mapping + ":8:5: stream contacts: source field Contact.LastName does not exist",
          mapping + ":9:5: stream contacts: source field Contact.Title holds up to 128 "
                    "characters, but destination field title takes at most 40; longer values are "
                    "rejected (add truncate: 40)",
          mapping + ":10:5: stream contacts: source field Contact.Lead_Score__c has type string "
                    "(text), but destination field leadScore (integer) takes number values; values "
                    "that do not read as one are rejected"}) {
        EXPECT_NE(r.out.find(line + "\n"), std::string::npos) << line << "\n---\n" << r.out;
    }
    EXPECT_NE(r.out.find("4 mismatches with the live schema"), std::string::npos) << r.out;
}

TEST_F(cli_online, validate_online_exits_3_on_refused_credentials_and_1_when_unreachable) {
    write_main("definitely-wrong-secret");
    auto r = run("validate --online -c " + config(), env_);
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_NE(r.out.find("crmsync: source org:"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("definitely-wrong-secret"), std::string::npos) << r.out;

    // A Marketo that is not there: refused connections, retried briefly, then exit 1.
    std::string url;
    {
        fakes::fake_marketo gone;
        url = gone.base_url();
    }
    write("crmsync.yaml",
          fmt::format(R"(state: {}/state.db
log: {{ level: error, format: json }}
sources:
  org:
    login_url: {}
    auth: {{ flow: client_credentials, client_id: fake-sf-client, client_secret: fake-sf-secret }}
destinations:
  mkto: {{ kind: marketo, base_url: {}, client_id: fake-mkto-client, client_secret: fake-mkto-secret }}
mappings: mappings/*.yaml
)",
                      dir_.string(),
                      sf_.base_url(),
                      url));
    r = run("validate --online -c " + config());
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("crmsync: destination mkto:"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace crmsync
