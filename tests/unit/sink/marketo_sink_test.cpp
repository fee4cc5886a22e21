// The Marketo sinks against the fake Marketo (a real loopback server following api-reference
// §2): what they send, what they make of the answers, and how they survive the documented
// failures.

#include "crmsync/sink/marketo/sink.hpp"

#include "marketo_fixture.hpp"
#include "run_coroutine.hpp"
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

}  // namespace
}  // namespace crmsync::sink::marketo
