// The Marketo sinks against the fake Marketo (a real loopback server following api-reference
// §2): what they send, what they make of the answers, and how they survive the documented
// failures.

#include "crmsync/sink/marketo/sink.hpp"

#include "fake_marketo.hpp"
#include "manual_clock.hpp"
#include "run_coroutine.hpp"
#include <gtest/gtest.h>

#include <random>

namespace crmsync::sink::marketo {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class marketo_sink : public ::testing::Test {
protected:
    config::destination destination() const {
        config::destination d;
        d.name = "mkto";
        d.base_url = mk.base_url();
        d.client_id = "fake-mkto-client";
        d.client_secret = secret("fake-mkto-secret");
        return d;
    }

    http::retry_context retry() {
        http::retry_context r;
        r.policy = {.base = 1ms, .cap = 2ms, .max_attempts = 3};
        r.rng = &rng;
        return r;
    }

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

    fakes::manual_clock clock{timestamp::parse("2026-11-23T10:00:00Z")->at};
    fakes::fake_marketo mk{fakes::mkto_options{.clock = clock.fn()}};
    std::mt19937_64 rng{42};
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

}  // namespace
}  // namespace crmsync::sink::marketo
