#include "crmsync/config/load.hpp"

#include "temp_dir.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace crmsync::config {
namespace {

constexpr std::string_view main_yaml = R"(
state: state.db
log: { level: debug, format: text }
admin: { listen: "127.0.0.1:9464" }
sources:
  prod_org:
    kind: salesforce
    login_url: https://login.salesforce.com/
    api_version: "61.0"
    auth: { flow: client_credentials, client_id: "${CRMSYNC_T_SF_ID}", client_secret: "${file:sf.secret}" }
    api_budget: 20%
destinations:
  marketo:
    kind: marketo
    base_url: https://123-ABC-456.mktorest.com
    client_id: "${CRMSYNC_T_MKTO_ID}"
    client_secret: "${CRMSYNC_T_MKTO_SECRET}"
    limits: { calls_per_20s: 50, concurrency: 5, daily_calls: 10000 }
  sfmc_bu_fr:
    kind: sfmc
    auth_url: https://sub.auth.marketingcloudapis.com
    account_id: "5100001234"
    client_id: sfmc-id
    client_secret: sfmc-secret
mappings: mappings/*.yaml
)";

constexpr std::string_view contacts_yaml = R"(
stream: contacts
description: CRM contacts to Marketo persons
source:
  from: prod_org
  object: Contact
  where: "Email != null"
  every: 1m
  settle: 30s
  overlap: 5m
  deletes: ignore
destination:
  to: marketo
  object: lead
  action: createOrUpdate
  key: { source: Id, destination: sfdcContactId }
fields:
  - { to: email, from: Email, transform: [trim, lower], required: true }
  - { to: firstName, from: FirstName, transform: [trim] }
)";

// A stream with every optional key left out.
constexpr std::string_view minimal_stream = R"(
stream: {name}
source: {{ from: prod_org, object: {object} }}
destination: {{ to: marketo, key: {{ destination: sfdcId }} }}
fields:
  - {{ to: email, from: Email }}
)";

class load_test : public ::testing::Test {
protected:
    void SetUp() override {
        ::setenv("CRMSYNC_T_SF_ID", "sf-client-id", 1);
        ::setenv("CRMSYNC_T_MKTO_ID", "mkto-client-id", 1);
        ::setenv("CRMSYNC_T_MKTO_SECRET", "mkto-s3cret", 1);
        ::unsetenv("CRMSYNC_T_UNSET");
        dir_.write("sf.secret", "sf-s3cret\n");
    }
    void TearDown() override {
        ::unsetenv("CRMSYNC_T_SF_ID");
        ::unsetenv("CRMSYNC_T_MKTO_ID");
        ::unsetenv("CRMSYNC_T_MKTO_SECRET");
    }

    std::string write_main(std::string_view text = main_yaml) {
        return dir_.write("crmsync.yaml", text);
    }
    std::string write_mapping(const std::string& name, std::string_view text) {
        return dir_.write("mappings/" + name, text);
    }
    static std::string minimal(std::string_view name, std::string_view object = "Contact") {
        return fmt::format(
            fmt::runtime(minimal_stream), fmt::arg("name", name), fmt::arg("object", object));
    }

    // Every problem as "file:line:column: message", sorted, with the temp dir cut off.
    std::vector<std::string> problems(const loaded& l) const {
        const std::string prefix = dir_.path().string() + "/";
        std::vector<std::string> out;
        for (const auto& d : l.problems.sorted()) {
            std::string s = d.to_string();
            for (std::size_t at; (at = s.find(prefix)) != std::string::npos;) {
                s.erase(at, prefix.size());
            }
            out.push_back(std::move(s));
        }
        return out;
    }

    // For each case, the minimal stream with its `destination:` line replaced: no problem when
    // the expected text is "", otherwise exactly one, ending with it.
    void expect_destination_problems(
        std::initializer_list<std::pair<const char*, const char*>> cases) {
        for (const auto& [destination, problem] : cases) {
            std::string mapping = minimal("s");
            const auto at = mapping.find("destination: ");
            mapping.replace(
                at, mapping.find('\n', at) - at, std::string("destination: ") + destination);
            const auto got = problems_with(main_yaml, mapping);
            if (*problem == 0) {
                EXPECT_EQ(got, std::vector<std::string>{}) << destination;
            } else if (got.size() != 1u) {
                ADD_FAILURE() << destination << ": " << got.size() << " problems";
            } else {
                EXPECT_TRUE(got[0].ends_with(problem)) << got[0];
            }
        }
    }

    // Loads the main file plus one mapping file and returns the problems.
    std::vector<std::string> problems_with(std::string_view main_text,
                                           std::string_view mapping_text) {
        write_main(main_text);
        write_mapping("m.yaml", mapping_text);
        return problems(load(dir_.path() / "crmsync.yaml"));
    }

    testing::temp_dir dir_;
};

using lines = std::vector<std::string>;

TEST_F(load_test, loads_the_spec_example) {
    write_main();
    write_mapping("contacts.yaml", contacts_yaml);
    const auto l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    const config& c = l.cfg;
    EXPECT_EQ(c.state_path, (dir_.path() / "state.db").string());  // relative to the file
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_EQ(c.log.format, "text");
    ASSERT_TRUE(c.admin);
    EXPECT_EQ(c.admin->listen, "127.0.0.1:9464");

    const source& s = c.sources.at("prod_org");
    EXPECT_EQ(s.name, "prod_org");
    EXPECT_EQ(s.login_url, "https://login.salesforce.com");  // trailing slash dropped
    EXPECT_EQ(s.auth.flow, auth_flow::client_credentials);
    EXPECT_EQ(s.auth.client_id, "sf-client-id");
    EXPECT_EQ(s.auth.client_secret.reveal(), "sf-s3cret");  // ${file:}, newline stripped
    EXPECT_EQ(fmt::format("{}", s.auth.client_secret), "**REDACTED**");
    EXPECT_DOUBLE_EQ(s.api_budget, 0.2);
    EXPECT_EQ(s.where.line, 5);

    const destination& m = c.destinations.at("marketo");
    EXPECT_EQ(m.kind, destination_kind::marketo);
    EXPECT_EQ(m.client_id, "mkto-client-id");
    EXPECT_EQ(m.client_secret.reveal(), "mkto-s3cret");
    EXPECT_EQ(m.limits.calls_per_20s, 50);
    EXPECT_EQ(m.limits.concurrency, 5);
    EXPECT_EQ(m.limits.daily_calls, 10000);
    EXPECT_EQ(m.limits.batches_in_flight, 5);  // as many as calls may be in flight
    const destination& f = c.destinations.at("sfmc_bu_fr");
    EXPECT_EQ(f.kind, destination_kind::sfmc);
    EXPECT_EQ(f.limits.batches_in_flight, 4);
    EXPECT_EQ(f.account_id, "5100001234");
    EXPECT_EQ(f.auth_url, "https://sub.auth.marketingcloudapis.com");

    ASSERT_EQ(c.streams.size(), 1u);
    const stream* st = c.find_stream("contacts");
    ASSERT_NE(st, nullptr);
    EXPECT_EQ(c.find_stream("nope"), nullptr);
    EXPECT_EQ(st->file, (dir_.path() / "mappings/contacts.yaml").string());
    EXPECT_EQ(st->description, "CRM contacts to Marketo persons");
    EXPECT_EQ(st->where.line, 1);
    EXPECT_EQ(st->where.column, 9);
    EXPECT_EQ(st->source.from, "prod_org");
    EXPECT_EQ(st->source.object, "Contact");
    EXPECT_EQ(st->source.where, "Email != null");
    EXPECT_EQ(st->source.every, duration{60'000});
    EXPECT_EQ(st->destination.key.source, "Id");
    EXPECT_EQ(st->destination.key.destination, "sfdcContactId");
    ASSERT_TRUE(st->fields.IsSequence());
    EXPECT_EQ(st->fields.size(), 2u);
    EXPECT_EQ(st->fields[0].Mark().line, 16);  // positions kept for mapping::compile
    EXPECT_FALSE(st->skip_if.IsDefined() && !st->skip_if.IsNull());
}

TEST_F(load_test, fills_defaults) {
    write_main(R"(
sources:
  org:
    auth: { client_id: id, client_secret: s }
destinations:
  mkto:
    base_url: https://x.mktorest.com
    client_id: id
    client_secret: s
mappings: m.yaml
)");
    dir_.write("m.yaml", R"(
stream: s1
source: { from: org, object: Contact }
destination: { to: mkto, key: { destination: sfdcId } }
fields: [{ to: email, from: Email }]
)");
    const auto l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    const config& c = l.cfg;
    EXPECT_EQ(c.state_path, "/var/lib/crmsync/state.db");
    EXPECT_EQ(c.log.level, "info");
    EXPECT_EQ(c.log.format, "json");
    EXPECT_FALSE(c.admin);  // SPEC §3: omit to disable

    const source& s = c.sources.at("org");
    EXPECT_EQ(s.kind, "salesforce");
    EXPECT_EQ(s.login_url, "https://login.salesforce.com");
    EXPECT_EQ(s.api_version, "61.0");
    EXPECT_EQ(s.auth.flow, auth_flow::client_credentials);
    EXPECT_DOUBLE_EQ(s.api_budget, 1.0);
    EXPECT_EQ(s.ca_file, "");

    const destination& d = c.destinations.at("mkto");
    EXPECT_EQ(d.kind, destination_kind::marketo);
    EXPECT_EQ(d.limits.calls_per_20s, 100);
    EXPECT_EQ(d.limits.concurrency, 10);
    EXPECT_EQ(d.limits.daily_calls, 50'000);
    EXPECT_EQ(d.limits.batches_in_flight, 10);

    ASSERT_EQ(c.streams.size(), 1u);
    const stream& st = c.streams[0];
    EXPECT_EQ(st.source.every, duration{60'000});
    EXPECT_EQ(st.source.settle, duration{30'000});
    EXPECT_EQ(st.source.overlap, duration{300'000});
    EXPECT_EQ(st.source.describe_every, duration{900'000});  // SPEC §4: 15 minutes
    EXPECT_EQ(st.source.where, "");
    EXPECT_EQ(st.source.deletes.mode, deletes_mode::ignore);
    EXPECT_FALSE(st.source.converted);
    EXPECT_EQ(st.destination.object, "lead");
    EXPECT_EQ(st.destination.action, "createOrUpdate");
    EXPECT_EQ(st.destination.partition, "");
    EXPECT_EQ(st.destination.key.source, "Id");
}

TEST_F(load_test, admin_block_without_listen_uses_the_default) {
    std::string text(main_yaml);
    const auto at = text.find("admin:");
    text.replace(at, text.find('\n', at) - at, "admin: {}");
    write_main(text);
    write_mapping("contacts.yaml", contacts_yaml);
    const auto l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    ASSERT_TRUE(l.cfg.admin);
    EXPECT_EQ(l.cfg.admin->listen, "127.0.0.1:9464");
}

TEST_F(load_test, admin_listen_is_host_and_port_and_port_0_picks_a_free_one) {
    for (const auto& [listen, ok] :
         std::vector<std::pair<std::string, bool>>{{"127.0.0.1:9464", true},
                                                   {"[::1]:9464", true},
                                                   {"localhost:0", true},
                                                   {"127.0.0.1", false},
                                                   {":9464", false},
                                                   {"::1:9464", false},
                                                   {"127.0.0.1:65536", false},
                                                   {"127.0.0.1:http", false}}) {
        std::string text(main_yaml);
        const auto at = text.find("admin:");
        text.replace(at, text.find('\n', at) - at, "admin: { listen: \"" + listen + "\" }");
        write_main(text);
        write_mapping("contacts.yaml", contacts_yaml);
        const auto l = load(dir_.path() / "crmsync.yaml");
        EXPECT_EQ(problems(l).empty(), ok) << listen;
        if (ok) {
            ASSERT_TRUE(l.cfg.admin);
            EXPECT_EQ(l.cfg.admin->listen, listen);
        }
    }
}

TEST_F(load_test, glob_loads_every_match_sorted_by_name) {
    write_main();
    write_mapping("b_leads.yaml", minimal("leads", "Lead"));
    write_mapping("a_contacts.yaml", minimal("contacts"));
    write_mapping("notes.txt", "not yaml: [");
    dir_.write("mappings/sub.yaml/keep", "");  // a directory the glob matches is skipped
    const auto l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    ASSERT_EQ(l.cfg.streams.size(), 2u);
    EXPECT_EQ(l.cfg.streams[0].name, "contacts");
    EXPECT_EQ(l.cfg.streams[1].name, "leads");
    EXPECT_EQ(l.cfg.streams[1].file, (dir_.path() / "mappings/b_leads.yaml").string());
}

TEST_F(load_test, mappings_may_list_several_globs) {
    std::string text(main_yaml);
    text.replace(text.find("mappings:"), std::string::npos, "mappings: [one/*.yaml, two.yaml]\n");
    write_main(text);
    dir_.write("one/x.yaml", minimal("x"));
    dir_.write("two.yaml", minimal("two"));
    const auto l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    ASSERT_EQ(l.cfg.streams.size(), 2u);
}

TEST_F(load_test, glob_without_match_is_a_problem) {
    write_main();
    EXPECT_EQ(problems(load(dir_.path() / "crmsync.yaml")),
              // problems() cuts the temp dir off the resolved path too.
              lines{"crmsync.yaml:24:11: no mapping file matches 'mappings/*.yaml' (resolved to "
                    "'mappings/*.yaml')"});
}

TEST_F(load_test, unknown_keys_suggest_the_nearest) {
    EXPECT_EQ(problems_with(R"(
sources: {}
destinatons: {}
log: { levl: info }
mappings: mappings/*.yaml
)",
                            R"(
stream: s
sorce: { from: x }
fields: []
)"),
              (lines{
                  "crmsync.yaml:2:1: unknown key 'destinatons'; did you mean 'destinations'? "
                  "expected one of: state, log, admin, sources, destinations, mappings",
                  "crmsync.yaml:3:8: unknown key 'levl' in 'log'; did you mean 'level'? "
                  "expected one of: level, format",
                  "mappings/m.yaml:1:1: missing required key 'source'",
                  "mappings/m.yaml:1:1: missing required key 'destination'",
                  "mappings/m.yaml:2:1: unknown key 'sorce'; did you mean 'source'? expected one "
                  "of: stream, description, source, destination, phone_region, skip_if, fields",
              }));
}

TEST_F(load_test, bad_durations) {
    std::string mapping = minimal("s");
    mapping.replace(
        mapping.find("object: Contact"), 15, "object: Contact, every: 60, settle: 5x, overlap: 0s");
    EXPECT_EQ(problems_with(main_yaml, mapping),
              (lines{
                  "mappings/m.yaml:2:51: invalid duration '60': a number needs a unit, e.g. "
                  "'60s' (units: h, m, s, ms)",
                  "mappings/m.yaml:2:63: invalid duration '5x'; expected e.g. 500ms, 30s, 5m, "
                  "1h, 1h30m",
              }));
}

TEST_F(load_test, describe_every_reads_a_positive_duration) {
    std::string mapping = minimal("s");
    mapping.replace(mapping.find("object: Contact"), 15, "object: Contact, describe_every: 1h");
    write_main(main_yaml);
    write_mapping("m.yaml", mapping);
    const auto l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    EXPECT_EQ(l.cfg.streams.at(0).source.describe_every, duration{3'600'000});

    mapping = minimal("s");
    mapping.replace(mapping.find("object: Contact"), 15, "object: Contact, describe_every: 0s");
    EXPECT_EQ(problems_with(main_yaml, mapping),
              (lines{"mappings/m.yaml:2:60: 'source.describe_every' must be longer than 0s"}));
}

TEST_F(load_test, limits_every_and_bulk_timeout_read_positive_durations_with_defaults) {
    write_main(main_yaml);
    write_mapping("m.yaml", minimal("s"));
    auto l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    EXPECT_EQ(l.cfg.sources.at("prod_org").limits_every, duration{300'000});
    EXPECT_EQ(l.cfg.sources.at("prod_org").bulk_timeout, duration{21'600'000});  // 6h

    std::string text(main_yaml);
    text.replace(text.find("api_budget: 20%"),
                 15,
                 "api_budget: 20%\n    limits_every: 1m\n    bulk_timeout: 90m");
    write_main(text);
    l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    EXPECT_EQ(l.cfg.sources.at("prod_org").limits_every, duration{60'000});
    EXPECT_EQ(l.cfg.sources.at("prod_org").bulk_timeout, duration{5'400'000});

    text = std::string(main_yaml);
    text.replace(text.find("api_budget: 20%"), 15, "api_budget: 20%\n    limits_every: 0s");
    EXPECT_EQ(
        problems_with(text, minimal("s")),
        (lines{"crmsync.yaml:11:19: 'sources.prod_org.limits_every' must be longer than 0s"}));
}

TEST_F(load_test, unknown_enum_values_list_the_table) {
    std::string text(main_yaml);
    text.replace(text.find("flow: client_credentials"), 24, "flow: jwt");
    text.replace(text.find("kind: sfmc"), 10, "kind: smfc");
    text.replace(text.find("level: debug"), 12, "level: loud");
    EXPECT_EQ(problems_with(text, minimal("s")),
              (lines{
                  "crmsync.yaml:2:15: unknown log level 'loud'; expected one of: trace, debug, "
                  "info, warn, error",
                  "crmsync.yaml:9:19: unknown flow 'jwt'; expected one of: client_credentials, "
                  "jwt_bearer, refresh_token, password",
                  "crmsync.yaml:19:11: unknown destination kind 'smfc'; did you mean 'sfmc'? "
                  "expected one of: marketo, sfmc",
              }));
}

TEST_F(load_test, batches_in_flight_is_read_and_bounded_by_the_concurrency) {
    std::string text(main_yaml);
    text.replace(
        text.find("daily_calls: 10000 }"), 20, "daily_calls: 10000, batches_in_flight: 2 }");
    ASSERT_EQ(problems_with(text, minimal("s")), lines{});
    const auto l = load(dir_.path() / "crmsync.yaml");
    EXPECT_EQ(l.cfg.destinations.at("marketo").limits.batches_in_flight, 2);

    text.replace(text.find("batches_in_flight: 2"), 20, "batches_in_flight: 6");
    EXPECT_EQ(problems_with(text, minimal("s")),
              (lines{"crmsync.yaml:17:89: 'destinations.marketo.limits.batches_in_flight' is 6, "
                     "more than the 5 calls 'limits.concurrency' lets be in flight"}));
    text.replace(text.find("batches_in_flight: 6"), 20, "batches_in_flight: 0");
    EXPECT_EQ(problems_with(text, minimal("s")).size(), 1u);
}

TEST_F(load_test, stream_references_must_exist) {
    EXPECT_EQ(problems_with(main_yaml, R"(
stream: s
source: { from: prod_orgg, object: Contact }
destination: { to: hubspot, key: { destination: id } }
fields: [{ to: email, from: Email }]
)"),
              (lines{
                  "mappings/m.yaml:2:17: unknown source 'prod_orgg'; did you mean 'prod_org'? "
                  "expected one of: prod_org",
                  "mappings/m.yaml:3:20: unknown destination 'hubspot'; expected one of: "
                  "marketo, sfmc_bu_fr",
              }));
}

TEST_F(load_test, missing_env_var_is_reported_at_the_scalar) {
    std::string text(main_yaml);
    text.replace(text.find("CRMSYNC_T_MKTO_SECRET"), 21, "CRMSYNC_T_UNSET");
    EXPECT_EQ(problems_with(text, minimal("s")),
              lines{"crmsync.yaml:16:20: environment variable 'CRMSYNC_T_UNSET' is not set"});
}

TEST_F(load_test, unreadable_secret_file_names_the_path) {
    std::filesystem::remove(dir_.path() / "sf.secret");
    EXPECT_EQ(problems_with(main_yaml, minimal("s")),
              lines{"crmsync.yaml:9:87: cannot read 'sf.secret' for ${file:}: No such file or "
                    "directory"});
}

// Found by tests/fuzz/config_loader.cpp: a message about a bad value quoted it, and a value
// substituted from the environment or a file may be a secret put in the wrong key. The message
// quotes the reference as written instead.
TEST_F(load_test, a_bad_substituted_value_is_named_by_its_reference_never_quoted) {
    ::setenv("CRMSYNC_T_WRONG", "mkto-s3cret-in-the-wrong-key", 1);
    dir_.write("level.secret", "sf-s3cret-as-a-level\n");
    std::string text(main_yaml);
    text.replace(text.find("level: debug"), 12, "level: \"${file:level.secret}\"");
    text.replace(
        text.find("https://login.salesforce.com/"), 29, "\"https://${CRMSYNC_T_WRONG}:x/\"");
    text.replace(text.find("calls_per_20s: 50"), 17, "calls_per_20s: \"${CRMSYNC_T_WRONG}\"");
    const auto got = problems_with(text, minimal("s"));
    ::unsetenv("CRMSYNC_T_WRONG");
    ASSERT_EQ(got.size(), 3u);
    for (const auto& line : got) {
        EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
        EXPECT_NE(line.find("${"), std::string::npos) << "names the reference: " << line;
    }
    EXPECT_NE(got[0].find("'${file:level.secret}'"), std::string::npos) << got[0];
}

// A substituted value quoted by a message about another key: the check of `converted` names
// the stream's object, read from `object`, and a YAML alias carries a value to a second key.
// Redaction by the scalar's position would miss both; it goes by the value.
TEST_F(load_test, a_substituted_value_quoted_at_another_position_is_still_redacted) {
    ::setenv("CRMSYNC_T_OBJECT", "Secret_Object_s3cret__c", 1);
    ::setenv("CRMSYNC_T_DESCRIPTION", "mkto-s3cret-as-a-level", 1);
    std::string text(main_yaml);
    text.replace(text.find("level: debug"), 12, "level: *leak");
    text.insert(0, "x-anchors: { d: &leak \"${CRMSYNC_T_DESCRIPTION}\" }\n");
    const std::string mapping = R"(
stream: s
source: { from: prod_org, object: "${CRMSYNC_T_OBJECT}", converted: skip }
destination: { to: marketo, key: { destination: sfdcId } }
fields:
  - { to: email, from: Email }
)";
    const auto got = problems_with(text, mapping);
    ::unsetenv("CRMSYNC_T_OBJECT");
    ::unsetenv("CRMSYNC_T_DESCRIPTION");
    bool converted = false;
    for (const auto& line : got) {
        EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
        converted = converted || line.find(
                                     "'converted' applies to Lead streams only; this stream "
                                     "reads '${CRMSYNC_T_OBJECT}'") != std::string::npos;
    }
    EXPECT_TRUE(converted) << ::testing::PrintToString(got);
}

TEST_F(load_test, sfmc_destinations_take_batch_size_and_async_threshold) {
    std::string text(main_yaml);
    text.replace(
        text.find("    client_id: sfmc-id"), 0, "    batch_size: 25\n    async_threshold: 0\n");
    write_main(text);
    write_mapping("contacts.yaml", contacts_yaml);
    const auto l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    const destination& f = l.cfg.destinations.at("sfmc_bu_fr");
    EXPECT_EQ(f.sfmc.batch_size, 25);
    EXPECT_EQ(f.sfmc.async_threshold, 0);
    // Defaults: the documented best practice of 50 rows per call.
    EXPECT_EQ(l.cfg.destinations.at("marketo").sfmc.batch_size, 50);
    EXPECT_EQ(l.cfg.destinations.at("marketo").sfmc.async_threshold, 1000);
}

TEST_F(load_test, sfmc_batch_keys_are_checked_and_refused_on_marketo) {
    std::string text(main_yaml);
    text.replace(text.find("    client_id: sfmc-id"),
                 0,
                 "    batch_size: 501\n    async_threshold: 32001\n");
    text.replace(text.find("    limits: { calls_per_20s: 50"), 0, "    batch_size: 10\n");
    EXPECT_EQ(problems_with(text, contacts_yaml),
              (lines{
                  "crmsync.yaml:17:5: 'batch_size' applies to sfmc destinations only",
                  "crmsync.yaml:23:17: 'destinations.sfmc_bu_fr.batch_size' must be an integer "
                  "from 1 to 500, not '501'",
                  "crmsync.yaml:24:22: 'destinations.sfmc_bu_fr.async_threshold' must be an "
                  "integer from 0 to 32000, not '32001'",
              }));
}

TEST_F(load_test, every_problem_is_reported_sorted) {
    write_main(R"(
state: [x]
log: { format: xml }
sources:
  org:
    login_url: http://login.salesforce.com
    auth: { flow: password, client_id: id, client_secret: s, username: u }
    api_budget: 150%
destinations:
  mkto:
    base_url: https://x.mktorest.com
    client_id: id
    client_secret: "${CRMSYNC_T_UNSET}"
    account_id: "1"
    limits: { calls_per_20s: 0 }
mappings: "*.map.yaml"
)");
    dir_.write("b.map.yaml", minimal("dup"));
    dir_.write("a.map.yaml", R"(
stream: dup
source: { from: org, object: Contact, converted: skip, deletes: purge }
destination: { to: mkto, object: data_extension:DE-1, action: createAll, key: { source: Id } }
fields: [{ to: email, from: Email }]
)");
    const auto l = load(dir_.path() / "crmsync.yaml");
    EXPECT_EQ(problems(l),
              (lines{
                  "a.map.yaml:2:50: 'converted' applies to Lead streams only; this stream reads "
                  "'Contact'",
                  "a.map.yaml:2:65: unknown deletes mode 'purge'; expected one of: ignore, "
                  "delete, { flag: { field: F, value: V } }",
                  "a.map.yaml:3:34: object 'data_extension:DE-1' needs a sfmc destination, but "
                  "'mkto' is marketo",
                  "a.map.yaml:3:63: unknown action 'createAll'; did you mean 'createOnly'? "
                  "expected one of: createOnly, updateOnly, createOrUpdate, createDuplicate",
                  "a.map.yaml:3:79: missing required key 'destination' in 'destination.key'",
                  "b.map.yaml:1:9: duplicate stream 'dup'; first defined at a.map.yaml:1:9",
                  "b.map.yaml:2:17: unknown source 'prod_org'; expected one of: org",
                  "b.map.yaml:3:20: unknown destination 'marketo'; did you mean 'mkto'? "
                  "expected one of: mkto",
                  "crmsync.yaml:1:8: 'state' must be a string, not a list",
                  "crmsync.yaml:2:16: unknown log format 'xml'; expected one of: json, text",
                  "crmsync.yaml:5:16: 'sources.org.login_url': 'http://login.salesforce.com' "
                  "uses http://, which is only allowed to a loopback host (127.0.0.0/8, ::1, "
                  "localhost); use https://",
                  "crmsync.yaml:6:11: missing required key 'password' in 'sources.org.auth' "
                  "(needed by flow 'password')",
                  "crmsync.yaml:7:17: 'sources.org.api_budget' must be a share of the daily API "
                  "limit above 0 and at most 1, or a percentage like '20%', not '150%'",
                  "crmsync.yaml:12:20: environment variable 'CRMSYNC_T_UNSET' is not set",
                  "crmsync.yaml:13:5: 'account_id' applies to sfmc destinations only",
                  "crmsync.yaml:14:30: 'destinations.mkto.limits.calls_per_20s' must be an "
                  "integer from 1 to 1000000, not '0'",
              }));
    // Loading went on: the first stream is there, the duplicate is not.
    ASSERT_EQ(l.cfg.streams.size(), 1u);
    EXPECT_EQ(l.cfg.streams[0].file, (dir_.path() / "a.map.yaml").string());
}

TEST_F(load_test, yaml_syntax_errors_keep_the_parser_position) {
    EXPECT_EQ(problems_with(main_yaml, "stream: s\nfields: [a, b\n"),
              lines{"mappings/m.yaml:3:1: invalid YAML: end of sequence flow not found"});
    write_main("sources:\n  x: 1\n y: 2\n");
    EXPECT_EQ(problems(load(dir_.path() / "crmsync.yaml")),
              lines{"crmsync.yaml:3:2: invalid YAML: end of map not found"});
}

TEST_F(load_test, unreadable_or_empty_main_file) {
    EXPECT_EQ(problems(load(dir_.path() / "absent.yaml")),
              lines{"absent.yaml: cannot read file: No such file or directory"});
    write_main("");
    EXPECT_EQ(problems(load(dir_.path() / "crmsync.yaml")),
              lines{"crmsync.yaml: missing required key 'mappings'"});  // no position to give
    write_main("- a\n- b\n");
    EXPECT_EQ(problems(load(dir_.path() / "crmsync.yaml")),
              lines{"crmsync.yaml:1:1: expected a map of keys, not a list"});
}

TEST_F(load_test, auth_flows_take_their_own_credentials) {
    std::string text(main_yaml);
    text.replace(
        text.find("{ flow: client_credentials"),
        text.find('\n', text.find("{ flow: client_credentials")) -
            text.find("{ flow: client_credentials"),
        "{ flow: jwt_bearer, client_id: id, client_secret: s, private_key_file: key.pem }");
    EXPECT_EQ(problems_with(text, minimal("s")),
              (lines{
                  "crmsync.yaml:9:11: missing required key 'username' in 'sources.prod_org.auth' "
                  "(needed by flow 'jwt_bearer')",
                  "crmsync.yaml:9:46: 'client_secret' is not used by flow 'jwt_bearer'",
                  "crmsync.yaml:9:82: cannot read private_key_file 'key.pem': No such file or "
                  "directory",
              }));
    dir_.write("key.pem", "-----BEGIN PRIVATE KEY-----\n");
    text.replace(text.find("client_secret: s,"), 17, "username: u@x.com,");
    write_main(text);
    const auto l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    const auto& a = l.cfg.sources.at("prod_org").auth;
    EXPECT_EQ(a.flow, auth_flow::jwt_bearer);
    EXPECT_EQ(a.username, "u@x.com");
    EXPECT_EQ(a.private_key_file, (dir_.path() / "key.pem").string());
}

TEST_F(load_test, api_budget_forms) {
    struct budget_case {
        const char* text;
        double expected;  // 0: refused
    };
    for (const auto& c : std::initializer_list<budget_case>{{"20%", 0.2},
                                                            {"100%", 1.0},
                                                            {"0.5", 0.5},
                                                            {"1", 1.0},
                                                            {"2.5%", 0.025},
                                                            {"0", 0},
                                                            {"0%", 0},
                                                            {"1.5", 0},
                                                            {"-0.1", 0},
                                                            {"%", 0},
                                                            {"twenty", 0}}) {
        std::string text(main_yaml);
        text.replace(text.find("api_budget: 20%"), 15, fmt::format("api_budget: \"{}\"", c.text));
        write_main(text);
        write_mapping("m.yaml", minimal("s"));
        const auto l = load(dir_.path() / "crmsync.yaml");
        if (c.expected == 0) {
            EXPECT_EQ(l.problems.size(), 1u) << c.text;
        } else {
            EXPECT_TRUE(l.problems.empty()) << c.text;
            EXPECT_DOUBLE_EQ(l.cfg.sources.at("prod_org").api_budget, c.expected) << c.text;
        }
    }
}

TEST_F(load_test, destination_objects_and_actions) {
    struct object_case {
        const char* destination;
        const char* problem;  // "" when valid
    };
    for (const auto& c : std::initializer_list<object_case>{
             {"{ to: marketo, object: lead, partition: EMEA }", ""},
             {"{ to: marketo, object: custom:car_c, action: updateOnly }", ""},
             {"{ to: sfmc_bu_fr, object: data_extension:5F1C-AB_2.x }", ""},
             {"{ to: marketo, object: Lead }",
              "invalid destination object 'Lead'; expected lead, custom:<apiName> or "
              "data_extension:<externalKey>"},
             {"{ to: marketo, object: \"custom:\" }",
              "invalid destination object 'custom:'; expected lead, custom:<apiName> or "
              "data_extension:<externalKey>"},
             {"{ to: sfmc_bu_fr, object: lead }",
              "object 'lead' needs a marketo destination, but 'sfmc_bu_fr' is sfmc"},
             {"{ to: sfmc_bu_fr, object: data_extension:k, action: createOnly }",
              "action 'createOnly' is not supported for data_extension objects"},
             {"{ to: marketo, object: custom:car_c, action: createDuplicate }",
              "action 'createDuplicate' is not supported for custom objects"},
             {"{ to: marketo, object: lead, action: updateOnly, partition: EMEA }",
              "'partition' applies to Marketo lead streams with action createOnly or "
              "createOrUpdate only"},
         }) {
        std::string d = c.destination;
        d.insert(d.size() - 1, ", key: { destination: k } ");
        std::string mapping = minimal("s");
        const auto at = mapping.find("destination: ");
        mapping.replace(at, mapping.find('\n', at) - at, "destination: " + d);
        const auto got = problems_with(main_yaml, mapping);
        if (*c.problem == 0) {
            EXPECT_EQ(got, lines{}) << c.destination;
        } else {
            ASSERT_EQ(got.size(), 1u) << c.destination;
            EXPECT_TRUE(got[0].ends_with(c.problem)) << got[0];
        }
    }
}

TEST_F(load_test, the_marketo_lead_id_as_key_needs_update_only) {
    expect_destination_problems({
        {"{ to: marketo, action: updateOnly, key: { destination: id } }", ""},
        {"{ to: marketo, action: createOrUpdate, key: { destination: id } }",
         "key destination 'id' (the Marketo lead id) needs action updateOnly, not "
         "createOrUpdate"},
        {"{ to: marketo, key: { destination: id } }",
         "key destination 'id' (the Marketo lead id) needs action updateOnly, not "
         "createOrUpdate"},
        {"{ to: marketo, action: createOnly, key: { destination: id } }",
         "needs action updateOnly, not createOnly"},
    });
}

TEST_F(load_test, custom_object_dedupe_by) {
    expect_destination_problems({
        {"{ to: marketo, object: custom:license_c, key: { destination: licenseId } }", ""},
        {"{ to: marketo, object: custom:license_c, dedupe_by: dedupeFields, "
         "key: { destination: licenseId } }",
         ""},
        {"{ to: marketo, object: custom:license_c, action: updateOnly, dedupe_by: idField, "
         "key: { destination: marketoGUID } }",
         ""},
        {"{ to: marketo, object: custom:license_c, dedupe_by: dedupeField, "
         "key: { destination: licenseId } }",
         "unknown dedupe_by 'dedupeField'; did you mean 'dedupeFields'? expected one of: "
         "dedupeFields, idField"},
        {"{ to: marketo, object: custom:license_c, dedupe_by: idField, "
         "key: { destination: marketoGUID } }",
         "dedupe_by idField needs action updateOnly, not createOrUpdate"},
        {"{ to: marketo, object: custom:license_c, action: updateOnly, dedupe_by: idField, "
         "key: { destination: licenseId } }",
         "with dedupe_by idField the key destination is marketoGUID, not 'licenseId'"},
        {"{ to: marketo, dedupe_by: dedupeFields, key: { destination: sfdcId } }",
         "'dedupe_by' applies to Marketo custom objects only"},
    });
    write_main(main_yaml);
    std::string mapping = minimal("s");
    const auto at = mapping.find("destination: ");
    mapping.replace(at,
                    mapping.find('\n', at) - at,
                    "destination: { to: marketo, object: custom:license_c, action: updateOnly, "
                    "dedupe_by: idField, key: { destination: marketoGUID } }");
    write_mapping("m.yaml", mapping);
    const auto l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    EXPECT_EQ(l.cfg.streams[0].destination.dedupe_by, dedupe_mode::id_field);
    EXPECT_EQ(l.cfg.streams[0].destination.custom_object(), "license_c");
}

TEST_F(load_test, deletes_forms) {
    std::string mapping = minimal("s");
    mapping.replace(mapping.find("object: Contact"),
                    15,
                    "object: Contact, deletes: { flag: { field: crmDeleted, value: true } }");
    write_main();
    write_mapping("m.yaml", mapping);
    auto l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    const auto& d = l.cfg.streams[0].source.deletes;
    EXPECT_EQ(d.mode, deletes_mode::flag);
    EXPECT_EQ(d.flag_field, "crmDeleted");
    EXPECT_EQ(d.flag_value, value::boolean(true));

    mapping = minimal("s");
    mapping.replace(mapping.find("object: Contact"), 15, "object: Contact, deletes: delete");
    write_mapping("m.yaml", mapping);
    l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    EXPECT_EQ(l.cfg.streams[0].source.deletes.mode, deletes_mode::remove);

    mapping = minimal("s");
    mapping.replace(mapping.find("object: Contact"),
                    15,
                    "object: Contact, deletes: { flag: { field: crmDeleted } }");
    EXPECT_EQ(problems_with(main_yaml, mapping),
              lines{"mappings/m.yaml:2:61: missing required key 'value' in "
                    "'source.deletes.flag'"});
}

TEST_F(load_test, converted_applies_to_leads) {
    std::string mapping = minimal("leads", "Lead");
    mapping.replace(mapping.find("object: Lead"), 12, "object: Lead, converted: follow_contact");
    write_main();
    write_mapping("m.yaml", mapping);
    const auto l = load(dir_.path() / "crmsync.yaml");
    ASSERT_EQ(problems(l), lines{});
    EXPECT_EQ(l.cfg.streams[0].source.converted, converted_mode::follow_contact);
}

TEST_F(load_test, source_and_destination_names_are_checked) {
    std::string text(main_yaml);
    text.replace(text.find("  prod_org:"), 11, "  \"prod org\":");
    text.replace(text.find("  marketo:"), 10, "  mkto/eu:");
    EXPECT_EQ(problems_with(text, minimal("s")),
              (lines{
                  "crmsync.yaml:5:3: source name 'prod org' may only hold letters, digits, '_' "
                  "and '-'",
                  "crmsync.yaml:12:3: destination name 'mkto/eu' may only hold letters, digits, "
                  "'_' and '-'",
                  "mappings/m.yaml:2:17: unknown source 'prod_org'; did you mean 'prod org'? "
                  "expected one of: prod org",
                  "mappings/m.yaml:3:20: unknown destination 'marketo'; expected one of: "
                  "mkto/eu, sfmc_bu_fr",
              }));
}

TEST_F(load_test, source_object_and_stream_name_are_checked) {
    EXPECT_EQ(problems_with(main_yaml, minimal("my stream", "Contact;DROP")),
              (lines{
                  "mappings/m.yaml:1:9: stream name 'my stream' may only hold letters, digits, "
                  "'_' and '-'",
                  "mappings/m.yaml:2:35: 'Contact;DROP' is not a Salesforce object API name",
              }));
}

}  // namespace
}  // namespace crmsync::config
