// The Marketo sinks against the fake Marketo (a real loopback server following api-reference
// §2): what they send, what they make of the answers, and how they survive the documented
// failures.

#include "crmsync/sink/marketo/sink.hpp"

#include "marketo_fixture.hpp"
#include "run_coroutine.hpp"
#include "sample_objects.hpp"
#include <gtest/gtest.h>

#include <random>

namespace crmsync::sink::marketo {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class marketo_sink : public testing::marketo_fixture {
protected:
    // Runs `body` with a session and a lead sink for `options` over `fields`.
    void with_lead_sink(sync_options options,
                        std::vector<std::string> fields,
                        const std::function<asio::awaitable<void>(lead_sink&)>& body) {
        testing::run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            http::client client(ex);
            session s(client, destination());
            lead_sink sink(s, std::move(options), std::move(fields), retry());
            co_await body(sink);
        });
    }
};

TEST_F(marketo_sink, describe_reads_rest_fields_and_lookup_fields) {
    mk.add_field({.name = "crmStatus", .length = 40});
    with_lead_sink({.action = "createOrUpdate", .lookup_field = "sfdcContactId", .partition = ""},
                   {"email", "sfdcContactId"},
                   [](lead_sink& sink) -> asio::awaitable<void> {
                       auto s = co_await sink.describe();
                       EXPECT_TRUE(s) << s.error().message();
                       if (!s)
                           co_return;
                       EXPECT_EQ(s->object, "lead");
                       EXPECT_EQ(s->id_field, "id");
                       const auto* key = s->find("sfdcContactId");
                       EXPECT_TRUE(key && key->length == 18u);
                       EXPECT_TRUE(key && key->required) << "the lookup field of an upsert";
                       EXPECT_TRUE(s->find("id") && s->find("id")->read_only);
                       EXPECT_TRUE(s->find("email") && !s->find("email")->required);
                       EXPECT_TRUE(s->find("crmStatus") && s->find("crmStatus")->length == 40u);
                       EXPECT_TRUE(s->is_key("sfdcContactId"));
                       EXPECT_TRUE(s->is_key("email"));
                       EXPECT_FALSE(s->is_key("firstName"));
                   });
}

TEST_F(marketo_sink, describe_sees_a_removed_field_as_gone) {
    mk.remove_field("city");
    with_lead_sink({.action = "createOnly", .lookup_field = "email", .partition = ""},
                   {"email"},
                   [](lead_sink& sink) -> asio::awaitable<void> {
                       auto s = co_await sink.describe();
                       EXPECT_TRUE(s) << s.error().message();
                       if (!s)
                           co_return;
                       EXPECT_EQ(s->find("city"), nullptr);
                       EXPECT_TRUE(s->find("email") && !s->find("email")->required)
                           << "createOnly looks nothing up";
                   });
}

TEST_F(marketo_sink, describe_renews_an_expired_token_and_retries_transient_failures) {
    with_lead_sink({.action = "createOrUpdate", .lookup_field = "email", .partition = ""},
                   {"email"},
                   [this](lead_sink& sink) -> asio::awaitable<void> {
                       auto first = co_await sink.describe();
                       EXPECT_TRUE(first);
                       mk.expire_tokens();
                       mk.fail_next("/rest/v1/leads/describe2.json",
                                    {fakes::fault_spec::vendor("611")});
                       auto again = co_await sink.describe();
                       EXPECT_TRUE(again) << again.error().message();
                       EXPECT_EQ(mk.errors_sent()["602"], 1);
                       EXPECT_EQ(mk.pending_faults(), 0u);
                   });
}

TEST_F(marketo_sink, refused_credentials_fail_once_with_the_destination_named_once) {
    testing::run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        http::client client(ex);
        auto d = destination();
        d.client_secret = secret("not-the-secret");
        session s(client, d);
        lead_sink sink(
            s, {.action = "createOrUpdate", .lookup_field = "email"}, {"email"}, retry());
        auto a = co_await sink.authenticate();
        EXPECT_FALSE(a);
        if (a)
            co_return;
        EXPECT_EQ(a.error().code, errc::auth_rejected);
        const std::string m = a.error().message();
        EXPECT_EQ(m.rfind("marketo mkto: identity: ", 0), 0u) << m;
        EXPECT_EQ(m.find("marketo mkto", 1), std::string::npos) << "context repeated: " << m;
        EXPECT_EQ(m.find("not-the-secret"), std::string::npos) << m;
    });
}

TEST_F(marketo_sink, describe_of_a_refused_request_fails_with_context) {
    with_lead_sink({.action = "createOrUpdate", .lookup_field = "email", .partition = ""},
                   {"email"},
                   [this](lead_sink& sink) -> asio::awaitable<void> {
                       mk.fail_next("/rest/v1/leads/describe.json",
                                    {fakes::fault_spec::vendor("603")});
                       auto s = co_await sink.describe();
                       EXPECT_FALSE(s);
                       if (s)
                           co_return;
                       EXPECT_EQ(s.error().code, errc::request_rejected);
                       EXPECT_EQ(s.error().vendor_code, "603");
                       EXPECT_NE(s.error().message().find("marketo mkto"), std::string::npos)
                           << s.error().message();
                   });
}

// ---- Sync Leads actions -----------------------------------------------------------------------

payload person(const std::string& email, const std::string& crm_id, const std::string& first) {
    return payload{{value::string(email), value::string(crm_id), value::string(first)}};
}

const std::vector<std::string> person_fields{"email", "sfdcContactId", "firstName"};

sync_options by_crm_id(const char* action, std::string partition = {}) {
    return {.action = action, .lookup_field = "sfdcContactId", .partition = std::move(partition)};
}

class marketo_actions : public marketo_sink {
protected:
    // One Sync Leads push of `batch` through a fresh session and sink: the outcomes, or the
    // failure after retries.
    result<std::vector<record_outcome>> push(sync_options options, std::vector<payload> batch) {
        result<std::vector<record_outcome>> out = make_failure(errc::cancelled, "not run");
        with_lead_sink(
            std::move(options), person_fields, [&](lead_sink& sink) -> asio::awaitable<void> {
                out = co_await sink.push(batch);
            });
        return out;
    }
};

const rejected& rejection(const record_outcome& o) {
    EXPECT_TRUE(std::holds_alternative<rejected>(o));
    static const rejected none{.category = category::other, .code = "<delivered>", .message = {}};
    return std::holds_alternative<rejected>(o) ? std::get<rejected>(o) : none;
}

bool created(const record_outcome& o) {
    EXPECT_TRUE(std::holds_alternative<delivered>(o)) << rejection(o).code;
    return std::holds_alternative<delivered>(o) && std::get<delivered>(o).created;
}

TEST_F(marketo_actions, create_or_update_creates_then_updates_by_the_lookup_field) {
    auto first =
        push(by_crm_id("createOrUpdate"),
             {person("a@example.com", "003A", "Ann"), person("b@example.com", "003B", "Bob")});
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_TRUE(created((*first)[0]));
    EXPECT_TRUE(created((*first)[1]));
    auto second =
        push(by_crm_id("createOrUpdate"),
             {person("a.new@example.com", "003A", "Anna"), person("b@example.com", "003B", "Bob")});
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_FALSE(created((*second)[0]));
    EXPECT_FALSE(created((*second)[1]));
    const auto a = mk.find("sfdcContactId", "003A");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0]["email"], "a.new@example.com") << "matched by sfdcContactId, not email";
    const auto sent = mk.push_calls().back();
    EXPECT_EQ(sent["action"], "createOrUpdate");
    EXPECT_EQ(sent["lookupField"], "sfdcContactId");
    EXPECT_FALSE(sent.contains("partitionName"));
}

TEST_F(marketo_actions, create_only_skips_an_existing_person_as_a_duplicate_1005) {
    mk.add_person({{"email", "a@example.com"}, {"sfdcContactId", "003A"}, {"firstName", "Old"}});
    auto out =
        push(by_crm_id("createOnly"),
             {person("a@example.com", "003A", "New"), person("c@example.com", "003C", "Cy")});
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_EQ(rejection((*out)[0]).code, "1005");
    EXPECT_EQ(rejection((*out)[0]).category, category::duplicate);
    EXPECT_TRUE(created((*out)[1]));
    EXPECT_EQ(mk.find("sfdcContactId", "003A").at(0)["firstName"], "Old")
        << "createOnly never touches an existing person";
}

TEST_F(marketo_actions, update_only_skips_a_missing_person_as_not_found_1004) {
    mk.add_person({{"email", "a@example.com"}, {"sfdcContactId", "003A"}});
    auto out =
        push(by_crm_id("updateOnly"),
             {person("a@example.com", "003A", "Ann"), person("z@example.com", "003Z", "Zed")});
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_FALSE(created((*out)[0]));
    EXPECT_EQ(rejection((*out)[1]).code, "1004");
    EXPECT_EQ(rejection((*out)[1]).category, category::not_found);
    EXPECT_TRUE(mk.find("sfdcContactId", "003Z").empty()) << "updateOnly never creates";
}

TEST_F(marketo_actions, create_duplicate_always_creates_and_names_no_lookup_field) {
    mk.add_person({{"email", "a@example.com"}, {"sfdcContactId", "003A"}});
    auto out = push(by_crm_id("createDuplicate"), {person("a@example.com", "003A", "Again")});
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_TRUE(created((*out)[0]));
    EXPECT_EQ(mk.find("sfdcContactId", "003A").size(), 2u);
    EXPECT_FALSE(mk.push_calls().back().contains("lookupField"));
}

// The keep-alive race on Sync Leads: the fake reads the push on the connection the identity
// call left pooled, and closes it without an answer. Whether the HTTP client may send it again
// by itself depends on the action (http::request::idempotent, sync_action_is_idempotent).
class marketo_stale_connection : public marketo_actions {
protected:
    result<std::vector<record_outcome>> push_once(sync_options options,
                                                  std::vector<payload> batch,
                                                  int max_attempts) {
        http::retry_context r = retry();
        r.policy.max_attempts = max_attempts;
        r.on_retry = [this](int, const failure& f, std::chrono::milliseconds) {
            retried.push_back(f.message());
        };
        result<std::vector<record_outcome>> out = make_failure(errc::cancelled, "not run");
        testing::run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            http::client client(ex);
            session s(client, destination());
            lead_sink sink(s, std::move(options), person_fields, r);
            out = co_await sink.push(batch);
        });
        return out;
    }

    std::vector<std::string> retried;  // what on_retry (the api_call_failed line) was told
};

TEST_F(marketo_stale_connection, an_upsert_is_sent_again_by_the_client_unseen) {
    mk.fail_next("/rest/v1/leads.json", {fakes::fault_spec::connection_reset(/*executed=*/true)});
    auto out = push_once(by_crm_id("createOrUpdate"), {person("a@example.com", "003A", "Ann")}, 3);
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_TRUE(std::holds_alternative<delivered>((*out)[0]));
    EXPECT_TRUE(retried.empty()) << retried.front();
    EXPECT_EQ(mk.push_calls().size(), 2u) << "executed, then its repeat found the person";
    EXPECT_EQ(mk.find("sfdcContactId", "003A").size(), 1u);
}

TEST_F(marketo_stale_connection, a_create_only_that_may_have_arrived_is_not_sent_again_unseen) {
    mk.fail_next("/rest/v1/leads.json", {fakes::fault_spec::connection_reset(/*executed=*/true)});
    auto out = push_once(by_crm_id("createOnly"), {person("a@example.com", "003A", "Ann")}, 1);
    ASSERT_FALSE(out) << "sent again, its answer would be 1005 for the person it made";
    const std::string m = out.error().message();
    EXPECT_NE(m.find("marketo mkto"), std::string::npos) << m;
    EXPECT_NE(m.find("POST 127.0.0.1:"), std::string::npos) << m;
    EXPECT_NE(m.find("kept-alive connection closed before any answer"), std::string::npos) << m;
    EXPECT_NE(m.find("not sent again"), std::string::npos) << m;
    EXPECT_EQ(mk.push_calls().size(), 1u);
    EXPECT_EQ(mk.find("sfdcContactId", "003A").size(), 1u);
}

TEST_F(marketo_stale_connection, a_create_only_goes_again_through_the_retry_policy_logged_once) {
    // Dropped unexecuted: the retry policy's second attempt is what creates the person.
    mk.fail_next("/rest/v1/leads.json", {fakes::fault_spec::connection_reset(/*executed=*/false)});
    auto out = push_once(by_crm_id("createOnly"), {person("a@example.com", "003A", "Ann")}, 3);
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_TRUE(created((*out)[0]));
    ASSERT_EQ(retried.size(), 1u);
    EXPECT_NE(retried[0].find("not sent again"), std::string::npos) << retried[0];
    EXPECT_EQ(mk.push_calls().size(), 1u);
}

TEST_F(marketo_actions, several_persons_matching_the_lookup_are_a_duplicate_1007) {
    mk.add_person({{"email", "t1@example.com"}, {"sfdcContactId", "003T"}});
    mk.add_person({{"email", "t2@example.com"}, {"sfdcContactId", "003T"}});
    for (const char* action : {"createOrUpdate", "updateOnly"}) {
        auto out = push(by_crm_id(action), {person("t@example.com", "003T", "T")});
        ASSERT_TRUE(out) << action;
        EXPECT_EQ(rejection((*out)[0]).code, "1007") << action;
        EXPECT_EQ(rejection((*out)[0]).category, category::duplicate) << action;
    }
}

TEST_F(marketo_actions, partition_name_places_new_persons_and_guards_other_partitions) {
    mk.add_partition("EMEA");
    mk.add_partition("APAC");
    const auto apac =
        mk.add_person({{"email", "p@example.com"}, {"sfdcContactId", "003P"}}, "APAC");
    auto out = push(by_crm_id("createOrUpdate", "EMEA"),
                    {person("n@example.com", "003N", "New"), person("p@example.com", "003P", "P")});
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_TRUE(created((*out)[0]));
    const auto made = mk.find("sfdcContactId", "003N");
    ASSERT_EQ(made.size(), 1u);
    EXPECT_EQ(mk.partition_of(made[0]["id"].get<std::int64_t>()), "EMEA");
    EXPECT_EQ(mk.push_calls().back()["partitionName"], "EMEA");
    EXPECT_EQ(rejection((*out)[1]).code, "1010");
    EXPECT_EQ(rejection((*out)[1]).category, category::access);
    EXPECT_EQ(mk.partition_of(apac), "APAC");
}

TEST_F(marketo_actions, a_partition_the_api_user_cannot_write_is_rejected_per_record) {
    mk.add_partition("EMEA");
    mk.set_api_partitions({"EMEA"});
    auto named = push(by_crm_id("createOnly", "NA"), {person("n@example.com", "003N", "N")});
    ASSERT_TRUE(named) << named.error().message();
    EXPECT_EQ(rejection((*named)[0]).code, "1008");
    EXPECT_EQ(rejection((*named)[0]).category, category::access);
    // No partition named while the role cannot write the default one.
    auto unnamed = push(by_crm_id("createOnly"), {person("n@example.com", "003N", "N")});
    ASSERT_TRUE(unnamed) << unnamed.error().message();
    EXPECT_EQ(rejection((*unnamed)[0]).code, "1009");
    EXPECT_EQ(rejection((*unnamed)[0]).category, category::validation);
    EXPECT_TRUE(mk.leads().empty());
}

// The first attempt's body moves into its request, so a retry must send it again in full: an
// answer cut off after Marketo executed the call, twice, then the third attempt goes through.
TEST_F(marketo_actions, a_retried_sync_sends_the_same_body_each_time) {
    mk.fail_next("/rest/v1/leads.json",
                 {fakes::fault_spec::truncated_body(), fakes::fault_spec::truncated_body()});
    auto out =
        push(by_crm_id("createOrUpdate"),
             {person("a@example.com", "003A", "Ann"), person("b@example.com", "003B", "Bob")});
    ASSERT_TRUE(out) << out.error().message();
    ASSERT_EQ(out->size(), 2u);
    const auto sent = mk.push_calls();
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_EQ(sent[0]["input"].size(), 2u);
    EXPECT_EQ(sent[1], sent[0]);
    EXPECT_EQ(sent[2], sent[0]);
    EXPECT_EQ(mk.find("sfdcContactId", "003B").size(), 1u);
}

// ---- custom objects ----------------------------------------------------------------------------

const std::vector<std::string> license_fields{"licenseId", "product", "seats", "contactSfdcId"};

payload license(const std::string& id, const std::string& product, int seats) {
    return payload{{value::string(id),
                    value::string(product),
                    value::number(std::to_string(seats)),
                    value::string("003A")}};
}

class marketo_custom_objects : public marketo_sink {
protected:
    void SetUp() override { mk.add_custom_object(fakes::license_mkto_object()); }

    void with_sink(custom_object_options options,
                   std::vector<std::string> fields,
                   const std::function<asio::awaitable<void>(custom_object_sink&)>& body,
                   std::string api_name = "license_c") {
        testing::run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            http::client client(ex);
            session s(client, destination());
            std::string key = options.dedupe_by == "idField" ? "marketoGUID" : "licenseId";
            custom_object_sink sink(s,
                                    std::move(api_name),
                                    std::move(options),
                                    std::move(key),
                                    std::move(fields),
                                    retry());
            co_await body(sink);
        });
    }

    result<std::vector<record_outcome>> push(custom_object_options options,
                                             std::vector<payload> batch,
                                             std::vector<std::string> fields = license_fields) {
        result<std::vector<record_outcome>> out = make_failure(errc::cancelled, "not run");
        with_sink(std::move(options),
                  std::move(fields),
                  [&](custom_object_sink& sink) -> asio::awaitable<void> {
                      out = co_await sink.push(batch);
                  });
        return out;
    }

    result<object_schema> describe(custom_object_options options, std::string api_name) {
        result<object_schema> out = make_failure(errc::cancelled, "not run");
        with_sink(
            std::move(options),
            license_fields,
            [&](custom_object_sink& sink) -> asio::awaitable<void> {
                out = co_await sink.describe();
            },
            std::move(api_name));
        return out;
    }
};

TEST_F(marketo_custom_objects, create_or_update_by_dedupe_fields) {
    auto first = push({.action = "createOrUpdate", .dedupe_by = "dedupeFields"},
                      {license("L1", "Pro", 5), license("L2", "Team", 20)});
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_TRUE(created((*first)[0]));
    EXPECT_TRUE(created((*first)[1]));
    auto second = push({.action = "createOrUpdate", .dedupe_by = "dedupeFields"},
                       {license("L1", "Pro", 7), license("L3", "Pro", 1)});
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_FALSE(created((*second)[0]));
    EXPECT_TRUE(created((*second)[1]));
    const auto records = mk.custom_records("license_c");
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0]["seats"], 7);
    const auto sent = mk.custom_push_calls("license_c").back();
    EXPECT_EQ(sent["action"], "createOrUpdate");
    EXPECT_EQ(sent["dedupeBy"], "dedupeFields");
    EXPECT_EQ(sent["input"].size(), 2u);
}

TEST_F(marketo_custom_objects, create_only_and_update_only_skip_with_the_documented_codes) {
    ASSERT_TRUE(
        push({.action = "createOnly", .dedupe_by = "dedupeFields"}, {license("L1", "Pro", 5)}));
    auto again = push({.action = "createOnly", .dedupe_by = "dedupeFields"},
                      {license("L1", "Pro", 9), license("L2", "Team", 2)});
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(rejection((*again)[0]).code, "1017");
    EXPECT_EQ(rejection((*again)[0]).category, category::duplicate);
    EXPECT_TRUE(created((*again)[1]));
    EXPECT_EQ(mk.custom_records("license_c")[0]["seats"], 5) << "createOnly leaves it alone";

    auto update = push({.action = "updateOnly", .dedupe_by = "dedupeFields"},
                       {license("L9", "Pro", 1), license("L2", "Team", 3)});
    ASSERT_TRUE(update) << update.error().message();
    EXPECT_EQ(rejection((*update)[0]).code, "1004");
    EXPECT_EQ(rejection((*update)[0]).category, category::not_found);
    EXPECT_FALSE(created((*update)[1]));
    EXPECT_EQ(mk.custom_records("license_c").size(), 2u);
}

TEST_F(marketo_custom_objects, record_level_problems_are_per_record) {
    auto out = push(
        {.action = "createOrUpdate", .dedupe_by = "dedupeFields"},
        {payload{{value::null(), value::string("Pro"), value::number("1"), value::string("003A")}},
         license("L1", "Pro", 5),
         license("L1", "Pro", 6),
         payload{{value::string("L4"),
                  value::string("Pro"),
                  value::string("many"),
                  value::string("003A")}}});
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_EQ(rejection((*out)[0]).code, "1002") << "a dedupe field without a value";
    EXPECT_EQ(rejection((*out)[0]).category, category::validation);
    EXPECT_TRUE(created((*out)[1]));
    EXPECT_EQ(rejection((*out)[2]).code, "1036") << "the same key twice in one call";
    EXPECT_EQ(rejection((*out)[2]).category, category::duplicate);
    EXPECT_EQ(rejection((*out)[3]).code, "1003") << "not an integer";
    EXPECT_EQ(rejection((*out)[3]).category, category::validation);

    auto unknown_field = push({.action = "createOrUpdate", .dedupe_by = "dedupeFields"},
                              {payload{{value::string("L5"), value::string("x")}}},
                              {"licenseId", "colour"});
    ASSERT_TRUE(unknown_field);
    EXPECT_EQ(rejection((*unknown_field)[0]).code, "1006");
}

TEST_F(marketo_custom_objects, update_only_by_id_field_addresses_marketo_guid) {
    ASSERT_TRUE(
        push({.action = "createOnly", .dedupe_by = "dedupeFields"}, {license("L1", "Pro", 5)}));
    const std::string guid = mk.custom_records("license_c").at(0)["marketoGUID"];
    auto out =
        push({.action = "updateOnly", .dedupe_by = "idField"},
             {payload{{value::string(guid), value::number("12")}},
              payload{{value::string("00000000-0000-4000-8000-000000000000"), value::number("1")}}},
             {"marketoGUID", "seats"});
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_FALSE(created((*out)[0]));
    EXPECT_EQ(rejection((*out)[1]).code, "1004");
    EXPECT_EQ(mk.custom_records("license_c")[0]["seats"], 12);
    EXPECT_EQ(mk.custom_push_calls("license_c").back()["dedupeBy"], "idField");
}

TEST_F(marketo_custom_objects, an_unknown_object_fails_the_call_as_rejected) {
    result<std::vector<record_outcome>> out = make_failure(errc::cancelled, "not run");
    with_sink(
        {.action = "createOrUpdate", .dedupe_by = "dedupeFields"},
        license_fields,
        [&](custom_object_sink& sink) -> asio::awaitable<void> {
            const std::vector<payload> batch{license("L1", "Pro", 1)};
            out = co_await sink.push(batch);
        },
        "licence_c");
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code, errc::request_rejected);
    EXPECT_EQ(out.error().vendor_code, "610");
    EXPECT_NE(out.error().message().find("customobjects/licence_c.json"), std::string::npos)
        << out.error().message();
}

TEST_F(marketo_custom_objects, read_current_finds_records_by_the_key_field) {
    ASSERT_TRUE(push({.action = "createOnly", .dedupe_by = "dedupeFields"},
                     {license("L1", "Pro", 5), license("L2", "Team", 20)}));
    result<std::vector<nlohmann::json>> found = make_failure(errc::cancelled, "not run");
    with_sink({.action = "createOrUpdate", .dedupe_by = "dedupeFields"},
              license_fields,
              [&](custom_object_sink& sink) -> asio::awaitable<void> {
                  const std::vector<std::string> keys{"L2", "L9"};
                  const std::vector<std::string> fields{"seats"};
                  found = co_await sink.read_current(keys, fields);
              });
    ASSERT_TRUE(found) << found.error().message();
    ASSERT_EQ(found->size(), 1u);
    EXPECT_EQ((*found)[0]["licenseId"], "L2");
    EXPECT_EQ((*found)[0]["seats"], 20);
}

TEST_F(marketo_custom_objects, a_retried_sync_sends_the_same_body_each_time) {
    mk.fail_next("/rest/v1/customobjects/license_c.json", {fakes::fault_spec::truncated_body()});
    auto out = push({.action = "createOrUpdate", .dedupe_by = "dedupeFields"},
                    {license("L1", "Pro", 5), license("L2", "Team", 20)});
    ASSERT_TRUE(out) << out.error().message();
    const auto sent = mk.custom_push_calls("license_c");
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0]["input"].size(), 2u);
    EXPECT_EQ(sent[1], sent[0]);
    EXPECT_EQ(mk.custom_records("license_c").size(), 2u);
}

TEST_F(marketo_custom_objects, describe_gives_fields_dedupe_fields_and_the_link_to_persons) {
    auto s = describe({.action = "createOrUpdate", .dedupe_by = "dedupeFields"}, "license_c");
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->object, "license_c");
    EXPECT_EQ(s->key_fields, std::vector<std::string>{"licenseId"});
    EXPECT_EQ(s->id_field, "marketoGUID");
    ASSERT_EQ(s->links.size(), 1u);
    EXPECT_EQ(s->links[0].field, "contactSfdcId");
    EXPECT_EQ(s->links[0].object, "Lead");
    EXPECT_EQ(s->links[0].object_field, "sfdcContactId");
    ASSERT_NE(s->find("licenseId"), nullptr);
    EXPECT_TRUE(s->find("licenseId")->required) << "dedupeFields mode: every record carries it";
    EXPECT_FALSE(s->find("licenseId")->read_only);
    EXPECT_TRUE(s->find("marketoGUID")->read_only) << "Marketo assigns it";
    EXPECT_FALSE(s->find("product")->required);
    EXPECT_EQ(s->find("product")->length, 80u);

    auto by_id = describe({.action = "updateOnly", .dedupe_by = "idField"}, "license_c");
    ASSERT_TRUE(by_id) << by_id.error().message();
    EXPECT_TRUE(by_id->find("marketoGUID")->required);
    EXPECT_FALSE(by_id->find("marketoGUID")->read_only);
    EXPECT_FALSE(by_id->find("licenseId")->required);

    auto unknown = describe({.action = "createOrUpdate", .dedupe_by = "dedupeFields"}, "nope_c");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().vendor_code, "610");
}

}  // namespace
}  // namespace crmsync::sink::marketo
