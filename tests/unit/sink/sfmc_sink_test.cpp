// The Marketing Cloud data-extension sink against the fake tenant (a real loopback server
// following api-reference §3): token reuse and renewal, bad rows isolated from a refused
// rowset, the async path, describe over SOAP, and the documented failures.

#include "crmsync/sink/sfmc/sink.hpp"

#include "fake_sfmc.hpp"
#include "manual_clock.hpp"
#include "run_coroutine.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>

namespace crmsync::sink::sfmc {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using json = nlohmann::json;

const row_layout layout{{"ContactId", "Email", "FirstName"}, {true, false, false}};

payload contact(int i, std::string email = {}) {
    return payload{{value::string(fmt::format("003{:015d}", i)),
                    value::string(email.empty() ? fmt::format("p{}@example.com", i) : email),
                    value::string(fmt::format("P{}", i))}};
}

// Not a ?: in the coroutines: GCC 12 destroys the temporaries of a conditional expression
// twice inside a coroutine.
template <class T>
std::string message_of(const result<T>& r) {
    if (r)
        return {};
    return r.error().message();
}

std::vector<payload> contacts(int n) {
    std::vector<payload> out;
    for (int i = 0; i < n; ++i)
        out.push_back(contact(i));
    return out;
}

class sfmc_sink : public ::testing::Test {
protected:
    void SetUp() override {
        fake.add_data_extension({"Contacts_DE",
                                 {{.name = "ContactId", .max_length = 18, .primary_key = true},
                                  {.name = "Email", .type = "EmailAddress"},
                                  {.name = "FirstName", .max_length = 40, .required = true},
                                  {.name = "BirthDate", .type = "Date"}}});
    }

    config::destination destination(std::string secret_text = "fake-sfmc-secret") const {
        config::destination d;
        d.name = "bu";
        d.kind = config::destination_kind::sfmc;
        d.auth_url = fake.base_url();
        d.account_id = "5100001234";
        d.client_id = "fake-sfmc-client";
        d.client_secret = secret(std::move(secret_text));
        return d;
    }

    http::retry_context retry() {
        http::retry_context r;
        r.policy = {.base = 1ms, .cap = 2ms, .max_attempts = 4};
        r.rng = &rng;
        return r;
    }

    de_options options(int async_threshold = 0) {
        de_options o;
        o.external_key = "Contacts_DE";
        o.layout = layout;
        o.async_threshold = async_threshold;
        o.poll = {.base = 1ms, .cap = 2ms};
        o.on_async_resend = [this](const std::string&, const std::string& why) {
            resends.push_back(why);
        };
        return o;
    }

    void with_sink(const std::function<asio::awaitable<void>(data_extension_sink&, session&)>& body,
                   de_options o,
                   config::destination d) {
        testing::run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            http::client client(ex);
            session s(client, std::move(d), clock.fn());
            data_extension_sink sink(s, std::move(o), retry());
            co_await body(sink, s);
        });
    }
    void with_sink(const std::function<asio::awaitable<void>(data_extension_sink&, session&)>& body,
                   int async_threshold = 0) {
        with_sink(body, options(async_threshold), destination());
    }

    fakes::manual_clock clock{timestamp::parse("2026-11-23T10:00:00Z")->at};
    // Three columns per Retrieve page, so describe pages with ContinueRequest.
    fakes::fake_sfmc fake{fakes::sfmc_options{.soap_page_size = 3, .clock = clock.fn()}};
    std::mt19937_64 rng{42};
    std::vector<std::string> resends;
};

TEST_F(sfmc_sink, rows_go_in_rowset_calls_of_batch_size_keyed_by_the_crm_id) {
    with_sink([](data_extension_sink& sink, session&) -> asio::awaitable<void> {
        const auto batch = contacts(120);
        auto r = co_await sink.push(batch);
        EXPECT_TRUE(r) << message_of(r);
        if (!r)
            co_return;
        EXPECT_EQ(r->size(), 120u);
        for (const auto& o : *r)
            EXPECT_TRUE(std::holds_alternative<delivered>(o));
    });
    EXPECT_EQ(fake.rowset_bodies().size(), 3u);  // 50 + 50 + 20, the documented best practice
    EXPECT_EQ(fake.rowset_bodies()[0].size(), 50u);
    EXPECT_EQ(fake.rowset_bodies()[2].size(), 20u);
    EXPECT_EQ(fake.rowset_bodies()[0][0]["keys"], (json{{"ContactId", "003000000000000000"}}));
    EXPECT_EQ(fake.rows("Contacts_DE").size(), 120u);
    EXPECT_EQ(fake.token_requests(), 1);  // one token for every call
}

TEST_F(sfmc_sink, one_bad_row_is_isolated_and_its_neighbours_delivered) {
    with_sink([](data_extension_sink& sink, session&) -> asio::awaitable<void> {
        auto batch = contacts(50);
        batch[13] = contact(13, "not-an-email");
        batch[40] = contact(40, "also@bad");
        auto r = co_await sink.push(batch);
        EXPECT_TRUE(r) << message_of(r);
        if (!r)
            co_return;
        for (std::size_t i = 0; i < r->size(); ++i) {
            if (i == 13 || i == 40) {
                const auto* why = std::get_if<rejected>(&(*r)[i]);
                EXPECT_TRUE(why) << i;
                if (!why)
                    continue;
                EXPECT_EQ(why->category, category::validation);
                EXPECT_EQ(why->code, "10006");
                EXPECT_NE(why->message.find("is not a valid email address"), std::string::npos)
                    << why->message;
            } else {
                EXPECT_TRUE(std::holds_alternative<delivered>((*r)[i])) << i;
            }
        }
    });
    EXPECT_EQ(fake.rows("Contacts_DE").size(), 48u);
    // Bisection: far fewer calls than one per row (50), more than the one refused call.
    const auto calls = fake.rowset_bodies().size();
    EXPECT_GT(calls, 3u);
    EXPECT_LT(calls, 25u);
    // The refused calls: the chunk, then each half that still held a bad row, down to the two.
    EXPECT_GE(fake.errors_sent().at("10006"), 2 * 5);
}

TEST_F(sfmc_sink, a_403_rejects_every_row_of_the_call_as_access) {
    fake.fail_next("/hub/v1/dataevents", {fakes::fault_spec::vendor("20002")});
    with_sink([](data_extension_sink& sink, session&) -> asio::awaitable<void> {
        auto r = co_await sink.push(contacts(3));
        EXPECT_TRUE(r);
        if (!r)
            co_return;
        for (const auto& o : *r) {
            const auto* why = std::get_if<rejected>(&o);
            EXPECT_TRUE(why && why->category == category::access && why->code == "20002" &&
                        why->message == "Insufficient Privileges");
        }
    });
    EXPECT_EQ(fake.count("POST", "/hub/v1/dataevents"), 1u);  // not bisected: not about a row
}

TEST_F(sfmc_sink, a_401_gets_one_new_token_and_the_call_again) {
    fake.fail_next("/hub/v1/dataevents", {fakes::fault_spec::vendor("0")});
    with_sink([](data_extension_sink& sink, session&) -> asio::awaitable<void> {
        auto r = co_await sink.push(contacts(2));
        EXPECT_TRUE(r) << message_of(r);
    });
    EXPECT_EQ(fake.token_requests(), 2);
    EXPECT_EQ(fake.rows("Contacts_DE").size(), 2u);
}

TEST_F(sfmc_sink, a_fresh_token_refused_again_is_not_refreshed_forever) {
    fake.fail_next("/hub/v1/dataevents",
                   {fakes::fault_spec::vendor("0"), fakes::fault_spec::vendor("0")});
    with_sink([](data_extension_sink& sink, session&) -> asio::awaitable<void> {
        auto r = co_await sink.push(contacts(2));
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_EQ(r.error().code, make_error_code(errc::token_expired));
        }
    });
    EXPECT_EQ(fake.token_requests(), 2);
}

TEST_F(sfmc_sink, the_token_is_reused_until_a_minute_before_expires_in) {
    with_sink([this](data_extension_sink& sink, session& s) -> asio::awaitable<void> {
        EXPECT_TRUE(co_await sink.push(contacts(1)));
        clock.advance(1000s);  // 1079 s lifetime: still more than a minute left
        EXPECT_TRUE(co_await sink.push(contacts(1)));
        EXPECT_EQ(s.token_requests(), 1u);
        clock.advance(20s);  // 59 s left: renew before the server refuses it
        EXPECT_TRUE(co_await sink.push(contacts(1)));
        EXPECT_EQ(s.token_requests(), 2u);
    });
    EXPECT_EQ(fake.errors_sent().count("0"), 0u);  // never refused: renewed in time
}

TEST_F(sfmc_sink, calls_never_exceed_the_client_side_window) {
    // Salesforce publishes no numeric rate for Marketing Cloud [SFMC-RATE-NEW], so the limit
    // is the admin's limits.calls_per_20s, kept on our side; here 3 calls per 300 ms, with
    // three sinks pushing at once.
    auto d = destination();
    d.limits.calls_per_20s = 3;
    constexpr auto window = 300ms;
    constexpr int sinks = 3;
    constexpr int batches = 4;
    asio::io_context ioc;
    http::client client(ioc.get_executor());
    session s(client, d, clock.fn(), window);
    std::vector<std::unique_ptr<data_extension_sink>> all;
    int finished = 0;
    for (int k = 0; k < sinks; ++k) {
        all.push_back(std::make_unique<data_extension_sink>(s, options(), retry()));
        asio::co_spawn(
            ioc,
            [&, k]() -> asio::awaitable<void> {
                for (int b = 0; b < batches; ++b) {
                    const std::vector<payload> batch{contact(k * 100 + b)};
                    auto r = co_await all[static_cast<std::size_t>(k)]->push(batch);
                    EXPECT_TRUE(r) << message_of(r);
                }
            },
            [&](std::exception_ptr e) {
                EXPECT_FALSE(e);
                ++finished;
            });
    }
    ioc.run();
    ASSERT_EQ(finished, sinks);
    std::vector<std::chrono::steady_clock::time_point> at;
    for (const auto& c : fake.calls()) {
        if (c.path.starts_with("/hub/v1/dataevents"))
            at.push_back(c.at);
    }
    ASSERT_EQ(at.size(), static_cast<std::size_t>(sinks * batches));
    EXPECT_EQ(s.calls(), at.size());
    // Arrival times jitter on a loaded machine; a window a quarter shorter than the client's
    // still never holds a fourth call when the client keeps its limit.
    const auto check = window * 3 / 4;
    std::size_t peak = 0;
    for (std::size_t i = 0; i < at.size(); ++i) {
        std::size_t in = 0;
        for (std::size_t j = i; j < at.size() && at[j] - at[i] < check; ++j)
            ++in;
        peak = std::max(peak, in);
    }
    EXPECT_EQ(peak, 3u) << "the window was full, never over";
    EXPECT_EQ(fake.rows("Contacts_DE").size(), static_cast<std::size_t>(sinks * batches));
}

TEST_F(sfmc_sink, refused_credentials_are_auth_rejected_and_not_retried) {
    with_sink(
        [](data_extension_sink& sink, session&) -> asio::awaitable<void> {
            auto a = co_await sink.authenticate();
            EXPECT_FALSE(a);
            if (a)
                co_return;
            EXPECT_EQ(a.error().code, make_error_code(errc::auth_rejected));
            EXPECT_NE(a.error().message().find("invalid_client"), std::string::npos);
            EXPECT_EQ(a.error().message().find("wrong-secret"), std::string::npos);
            EXPECT_EQ(a.error().message().rfind("sfmc bu: token: ", 0), 0u) << a.error().message();
            auto p = co_await sink.push(contacts(1));
            EXPECT_FALSE(p);
            if (!p) {
                EXPECT_EQ(p.error().code, make_error_code(errc::auth_rejected));
                // The destination once, then the step: no "sfmc bu: ...: sfmc bu: token".
                const std::string m = p.error().message();
                EXPECT_EQ(m.rfind("sfmc bu: data extension ", 0), 0u) << m;
                EXPECT_EQ(m.find("sfmc bu", 1), std::string::npos) << m;
            }
        },
        options(),
        destination("wrong-secret"));
    EXPECT_EQ(fake.token_requests(), 2);  // once per call, no retries of a refusal
}

TEST_F(sfmc_sink, throttling_transients_and_garbled_replies_are_retried) {
    fake.fail_next("/hub/v1/dataevents",
                   {fakes::fault_spec::vendor("50200"),
                    fakes::fault_spec::http(503, "<html>busy</html>"),
                    fakes::fault_spec::connection_reset(),
                    fakes::fault_spec::garbled_json()});
    with_sink([](data_extension_sink& sink, session&) -> asio::awaitable<void> {
        auto first = co_await sink.push(contacts(2));  // 50200, 503, reset, then OK
        EXPECT_TRUE(first) << message_of(first);
        auto second = co_await sink.push(contacts(2));  // garbled 200, then OK
        EXPECT_TRUE(second) << message_of(second);
    });
    EXPECT_EQ(fake.count("POST", "/hub/v1/dataevents"), 6u);
}

TEST_F(sfmc_sink, a_budget_of_transients_ends_in_a_failure_not_a_rejection) {
    std::vector<fakes::fault_spec> faults(4, fakes::fault_spec::http(500, "{}"));
    fake.fail_next("/hub/v1/dataevents", faults);
    with_sink([](data_extension_sink& sink, session&) -> asio::awaitable<void> {
        auto r = co_await sink.push(contacts(2));
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_EQ(r.error().code, make_error_code(errc::transient));
            EXPECT_NE(r.error().message().find("sfmc bu: data extension Contacts_DE"),
                      std::string::npos);
        }
    });
}

TEST_F(sfmc_sink, a_large_batch_goes_async_polls_and_maps_per_item_errors) {
    fake.set_async_pending_polls(3);
    with_sink(
        [](data_extension_sink& sink, session&) -> asio::awaitable<void> {
            auto batch = contacts(120);
            batch[77] = contact(77, "broken");
            auto r = co_await sink.push(batch);
            EXPECT_TRUE(r) << message_of(r);
            if (!r)
                co_return;
            EXPECT_EQ(r->size(), 120u);
            for (std::size_t i = 0; i < r->size(); ++i) {
                EXPECT_EQ(std::holds_alternative<rejected>((*r)[i]), i == 77) << i;
            }
            const auto& why = std::get<rejected>((*r)[77]);
            EXPECT_EQ(why.code, "UnexpectedError");
            EXPECT_NE(why.message.find("not a valid email address"), std::string::npos);
        },
        100);
    EXPECT_EQ(fake.count("PUT", "/data/v1/async/dataextensions/key:Contacts_DE/rows"), 1u);
    EXPECT_EQ(fake.count("GET", "/data/v1/async/"), 4u + 3u);  // 3 Pending + Complete, 3 pages
    EXPECT_EQ(fake.rowset_bodies().size(), 0u);
    EXPECT_EQ(fake.rows("Contacts_DE").size(), 119u);
    EXPECT_TRUE(resends.empty());
}

TEST_F(sfmc_sink, an_async_request_that_fails_whole_is_resent_row_by_row) {
    fake.fail_next_async_request();
    with_sink(
        [](data_extension_sink& sink, session&) -> asio::awaitable<void> {
            auto batch = contacts(10);
            batch[4] = contact(4, "broken");
            auto r = co_await sink.push(batch);
            EXPECT_TRUE(r) << message_of(r);
            if (r) {
                EXPECT_TRUE(std::holds_alternative<rejected>((*r)[4]));
            }
        },
        10);
    EXPECT_EQ(resends.size(), 1u);
    EXPECT_GT(fake.rowset_bodies().size(), 1u);
    EXPECT_EQ(fake.rows("Contacts_DE").size(), 9u);
}

TEST_F(sfmc_sink, an_async_request_stuck_in_pending_is_a_transient_failure) {
    fake.set_async_pending_polls(1000);
    auto o = options(5);
    o.max_polls = 3;
    with_sink(
        [](data_extension_sink& sink, session&) -> asio::awaitable<void> {
            auto r = co_await sink.push(contacts(5));
            EXPECT_FALSE(r);
            if (!r) {
                EXPECT_EQ(r.error().code, make_error_code(errc::transient));
                EXPECT_NE(r.error().message().find("still pending after 3"), std::string::npos);
            }
        },
        o,
        destination());
    EXPECT_EQ(fake.count("GET", "/data/v1/async/"), 3u);
}

TEST_F(sfmc_sink, describe_reads_columns_over_soap_and_refreshes_an_expired_token) {
    with_sink([this](data_extension_sink& sink, session&) -> asio::awaitable<void> {
        EXPECT_TRUE(co_await sink.authenticate());
        fake.expire_tokens();
        auto d = co_await sink.describe();
        EXPECT_TRUE(d) << message_of(d);
        if (!d)
            co_return;
        EXPECT_EQ(d->object, "Contacts_DE");
        EXPECT_EQ(d->key_fields, std::vector<std::string>{"ContactId"});
        EXPECT_EQ(d->fields.size(), 4u);
        const auto* id = d->find("contactid");
        EXPECT_TRUE(id && id->required && id->length == 18u && id->type == "Text");
        const auto* first = d->find("FirstName");
        EXPECT_TRUE(first && first->required && first->length == 40u);
        const auto* email = d->find("Email");
        EXPECT_TRUE(email && !email->required && email->length == 254u);
        const auto* birth = d->find("BirthDate");
        EXPECT_TRUE(birth && !birth->length && birth->type == "Date");
    });
    EXPECT_EQ(fake.token_requests(), 2);
}

TEST_F(sfmc_sink, describe_follows_more_data_available_and_reports_an_unknown_key) {
    fakes::sfmc_data_extension wide{"Wide_DE", {{.name = "Id", .primary_key = true}}};
    for (int i = 0; i < 6; ++i)
        wide.columns.push_back({.name = fmt::format("C{}", i)});
    fake.add_data_extension(wide);
    auto o = options();
    o.external_key = "Wide_DE";
    with_sink(
        [](data_extension_sink& sink, session&) -> asio::awaitable<void> {
            auto d = co_await sink.describe();
            EXPECT_TRUE(d) << message_of(d);
            if (d) {
                EXPECT_EQ(d->fields.size(), 7u);
            }
        },
        o,
        destination());
    EXPECT_EQ(fake.count("POST", "/Service.asmx"), 3u);  // 7 columns, 3 per page
    o.external_key = "Nope";
    with_sink(
        [](data_extension_sink& sink, session&) -> asio::awaitable<void> {
            auto d = co_await sink.describe();
            EXPECT_FALSE(d);
            if (!d) {
                EXPECT_NE(d.error().message().find("no data extension has this external key"),
                          std::string::npos);
            }
        },
        o,
        destination());
}

}  // namespace
}  // namespace crmsync::sink::sfmc
