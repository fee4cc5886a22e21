// No secret ever reaches a log line or an error message (SPEC §4, issue 6): the real binary, at
// debug level, runs every command that talks to the systems — with every Salesforce auth flow,
// with tokens expiring mid-run, and with each kind of credential refused — against the fakes,
// and everything it printed is searched for every client secret, password, refresh token,
// private-key line and access token that was configured or handed out.

#include "config_text.hpp"
#include "daemon_process.hpp"
#include "fake_marketo.hpp"
#include "fake_salesforce.hpp"
#include "fake_sfmc.hpp"
#include "rsa_test_key.hpp"
#include "run_command.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <unistd.h>

namespace crmsync {
namespace {

namespace fs = std::filesystem;
using testing::run;

// Distinctive values: a hit cannot be a coincidence.
constexpr const char* sf_secret = "SFSECRET-cc-7f3a9d1e";
constexpr const char* sf_password = "SFPASS-9c1e44b0";
constexpr const char* sf_refresh = "SFREFRESH-2b8e0c5f";
constexpr const char* mkto_secret = "MKTOSECRET-4d2f7a31";
constexpr const char* sfmc_secret = "SFMCSECRET-8a1b6e02";

fakes::sf_options sf_options(const testing::rsa_test_key& key) {
    fakes::sf_options o;
    o.client_secret = sf_secret;
    o.password = sf_password;
    o.refresh_tokens = {sf_refresh};
    o.jwt_public_key_pem = key.public_pem();
    return o;
}

class secrets : public ::testing::Test {
protected:
    secrets()
        : sf_(sf_options(key_)),
          mkto_(fakes::mkto_options{.client_secret = mkto_secret}),
          sfmc_(fakes::sfmc_options{.client_secret = sfmc_secret}) {}

    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               fmt::format("crmsync-secrets-{}-{}",
                           ::getpid(),
                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "mappings");
        sfmc_.add_data_extension({"CRM_Contacts",
                                  {{.name = "ContactId", .max_length = 18, .primary_key = true},
                                   {.name = "Email", .type = "EmailAddress", .required = true},
                                   {.name = "LastName", .max_length = 80}}});
        write("mappings/contacts.yaml", testing::contacts_mapping());
        write("mappings/contacts_de.yaml", R"(stream: contacts_de
source: { from: org, object: Contact, settle: 0s }
destination:
  to: sfmc
  object: data_extension:CRM_Contacts
  key: { source: Id, destination: ContactId }
fields:
  - { to: Email, from: Email, transform: [trim, lower], required: true }
  - { to: LastName, from: LastName }
)");
        // The private key and one secret come from files, the others from the environment.
        write("sf.pem", key_.private_pem());
        write("mkto.secret", mkto_secret);
        const auto past = timestamp{system_now() - std::chrono::minutes(10)};
        for (int i = 0; i < 3; ++i) {
            sf_.insert(
                "Contact",
                {{"LastName", fmt::format("L{}", i)}, {"Email", fmt::format("s{}@example.com", i)}},
                past);
        }
        sf_.insert("Contact", {{"LastName", "NoMail"}}, past);  // rejected: an error-log entry
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / name) << text;
    }
    std::string config() const { return (dir_ / "crmsync.yaml").string(); }

    // `auth` is the Salesforce source's auth map; the secrets it names by ${VAR} come from env_.
    void write_main(const std::string& auth, const std::string& mkto_file = "mkto.secret") {
        write("crmsync.yaml",
              testing::main_config{.state_dir = dir_,
                                   .sf_url = sf_.base_url(),
                                   .mkto_url = mkto_.base_url(),
                                   .log_level = "debug",
                                   .sf_auth = auth,
                                   .mkto_secret = fmt::format(R"("${{file:{}}}")", mkto_file),
                                   .destinations = fmt::format(R"(  sfmc:
    kind: sfmc
    auth_url: {}
    account_id: "5100001234"
    client_id: fake-sfmc-client
    client_secret: "${{CRMSYNC_TEST_SFMC_SECRET}}"
)",
                                                               sfmc_.base_url()),
                                   .top = "admin: { listen: \"127.0.0.1:0\" }\n"}
                  .text());
    }

    std::string env(const std::string& sf, const std::string& sfmc = sfmc_secret) const {
        return fmt::format("CRMSYNC_TEST_SF='{}' CRMSYNC_TEST_SFMC_SECRET='{}'", sf, sfmc);
    }

    // Runs the command, keeps its output for the scan, and returns its exit code.
    int command(const std::string& args, const std::string& environment) {
        const auto r = run(args + " -c " + config(), environment);
        output_ += r.out;
        return r.exit_code;
    }

    // `crmsync run` until every stream finished a run, then SIGTERM.
    void daemon_run(const std::string& sf, const std::string& sfmc = sfmc_secret) {
        testing::daemon_process d(
            CRMSYNC_BINARY,
            {"run", "-c", config()},
            {"CRMSYNC_TEST_SF=" + sf, "CRMSYNC_TEST_SFMC_SECRET=" + std::string(sfmc)});
        ASSERT_TRUE(d.started());
        for (const std::string stream : {"contacts", "contacts_de"}) {
            EXPECT_TRUE(d.wait_for_log("Stream run finished.", [&](const nlohmann::json& j) {
                return j["stream"] == stream;
            })) << d.output();
        }
        d.signal(SIGTERM);
        EXPECT_EQ(d.wait_exit(std::chrono::seconds(10)), 0) << d.output();
        output_ += d.output();
    }

    // Every secret configured or refused, every access token the fakes handed out, every line
    // of the private key: none may appear in what the binary printed.
    void expect_no_secret(const std::vector<std::string>& wrong = {}) {
        std::vector<std::string> needles{
            sf_secret, sf_password, sf_refresh, mkto_secret, sfmc_secret};
        needles.insert(needles.end(), wrong.begin(), wrong.end());
        const auto add_tokens = [&](const std::vector<std::string>& tokens, const char* system) {
            EXPECT_FALSE(tokens.empty()) << system << " handed out no token: nothing was tested";
            needles.insert(needles.end(), tokens.begin(), tokens.end());
        };
        add_tokens(sf_.issued_tokens(), "salesforce");
        add_tokens(mkto_.issued_tokens(), "marketo");
        add_tokens(sfmc_.issued_tokens(), "sfmc");
        std::istringstream pem(key_.private_pem());
        for (std::string line; std::getline(pem, line);) {
            if (!line.starts_with("-----"))
                needles.push_back(line);
        }
        // Debug lines were written: the scan covers the most talkative level.
        ASSERT_NE(output_.find(R"("level":"debug")"), std::string::npos) << output_;
        ASSERT_NE(output_.find(R"("message":"API call.")"), std::string::npos) << output_;
        for (const auto& n : needles) {
            ASSERT_FALSE(n.empty());
            const auto at = output_.find(n);
            EXPECT_EQ(at, std::string::npos)
                << "'" << n << "' was printed: ..."
                << output_.substr(at == std::string::npos ? 0 : at - std::min<std::size_t>(at, 200),
                                  400);
        }
    }

    testing::rsa_test_key key_;
    fakes::fake_salesforce sf_;
    fakes::fake_marketo mkto_;
    fakes::fake_sfmc sfmc_;
    fs::path dir_;
    std::string output_;
};

TEST_F(secrets, never_printed_by_any_command_with_any_auth_flow_at_debug_level) {
    const std::string client_credentials =
        R"({ flow: client_credentials, client_id: fake-sf-client, client_secret: "${CRMSYNC_TEST_SF}" })";
    write_main(client_credentials);
    EXPECT_EQ(command("validate --online", env(sf_secret)), 0) << output_;
    EXPECT_EQ(command("preview --stream contacts --diff", env(sf_secret)), 0) << output_;
    EXPECT_EQ(command("once", env(sf_secret)), 0) << output_;
    EXPECT_EQ(command("errors retry", env(sf_secret)), 0) << output_;
    EXPECT_EQ(command("status --json", env(sf_secret)), 0) << output_;
    EXPECT_EQ(command("errors list --json", env(sf_secret)), 0) << output_;

    // Every token expires: each client signs in again in the middle of its work.
    sf_.expire_tokens();
    mkto_.expire_tokens();
    sfmc_.expire_tokens();
    // (a second old, as below: a record stamped "now" can fall after the run's read window)
    sf_.insert("Contact",
               {{"LastName", "Late"}, {"Email", "late@example.com"}},
               timestamp{system_now() - std::chrono::seconds(1)});
    daemon_run(sf_secret);
    EXPECT_EQ(mkto_.find("email", "late@example.com").size(), 1u);

    // The other Salesforce flows, each with its own secret.
    write_main(fmt::format(
        R"({{ flow: password, client_id: fake-sf-client, client_secret: "${{CRMSYNC_TEST_SF}}", username: integration@example.com, password: "{}" }})",
        sf_password));
    EXPECT_EQ(command("once", env(sf_secret)), 0) << output_;
    write_main(
        R"({ flow: refresh_token, client_id: fake-sf-client, refresh_token: "${CRMSYNC_TEST_SF}" })");
    EXPECT_EQ(command("once", env(sf_refresh)), 0) << output_;
    write_main(
        R"({ flow: jwt_bearer, client_id: fake-sf-client, username: integration@example.com, private_key_file: sf.pem })");
    EXPECT_EQ(command("once", env(sf_secret)), 0) << output_;
    EXPECT_EQ(command("validate --online", env(sf_secret)), 0) << output_;

    expect_no_secret();
}

TEST_F(secrets, never_printed_when_credentials_are_refused) {
    const std::vector<std::string> wrong{"WRONG-sf-5e7d21",
                                         "WRONG-pass-0b3c",
                                         "WRONG-refresh-77aa",
                                         "WRONG-mkto-c4e9",
                                         "WRONG-sfmc-19f0"};
    // First a good run, so tokens exist that a failure could echo.
    const std::string client_credentials =
        R"({ flow: client_credentials, client_id: fake-sf-client, client_secret: "${CRMSYNC_TEST_SF}" })";
    write_main(client_credentials);
    ASSERT_EQ(command("once", env(sf_secret)), 0) << output_;

    // Salesforce refuses each flow's credential.
    EXPECT_EQ(command("once", env(wrong[0])), 3) << output_;
    EXPECT_EQ(command("validate --online", env(wrong[0])), 3) << output_;
    EXPECT_EQ(command("preview --stream contacts", env(wrong[0])), 3) << output_;
    EXPECT_EQ(command("errors retry", env(wrong[0])), 3) << output_;
    write_main(fmt::format(
        R"({{ flow: password, client_id: fake-sf-client, client_secret: "${{CRMSYNC_TEST_SF}}", username: integration@example.com, password: "{}" }})",
        wrong[1]));
    EXPECT_EQ(command("once", env(sf_secret)), 3) << output_;
    write_main(
        R"({ flow: refresh_token, client_id: fake-sf-client, refresh_token: "${CRMSYNC_TEST_SF}" })");
    EXPECT_EQ(command("once", env(wrong[2])), 3) << output_;
    // A key Salesforce does not know signs the assertion.
    testing::rsa_test_key other;
    write("other.pem", other.private_pem());
    write_main(
        R"({ flow: jwt_bearer, client_id: fake-sf-client, username: integration@example.com, private_key_file: other.pem })");
    EXPECT_EQ(command("once", env(sf_secret)), 3) << output_;
    std::istringstream pem(other.private_pem());
    std::vector<std::string> all_wrong = wrong;
    for (std::string line; std::getline(pem, line);) {
        if (!line.starts_with("-----"))
            all_wrong.push_back(line);
    }

    // Marketo and Marketing Cloud refuse theirs, in `once` and in the daemon.
    write("wrong-mkto.secret", wrong[3]);
    write_main(client_credentials, "wrong-mkto.secret");
    // A changed record, so each run has something to push and meets the refusal.
    // (a second old: the read window ends at now, exclusive, at whole seconds)
    sf_.insert("Contact",
               {{"LastName", "Again"}, {"Email", "again@example.com"}},
               timestamp{system_now() - std::chrono::seconds(1)});
    EXPECT_EQ(command("once", env(sf_secret, wrong[4].c_str())), 3) << output_;
    EXPECT_EQ(command("validate --online", env(sf_secret, wrong[4].c_str())), 3) << output_;
    daemon_run(sf_secret, wrong[4].c_str());
    EXPECT_NE(output_.find("auth"), std::string::npos) << "the refusals were logged";

    expect_no_secret(all_wrong);
}

}  // namespace
}  // namespace crmsync
