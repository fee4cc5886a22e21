#include "fake_marketo.hpp"

#include "manual_clock.hpp"
#include "sandbox_seed.hpp"
#include "test_client.hpp"
#include <gtest/gtest.h>

#include <future>
#include <regex>
#include <thread>

namespace crmsync::fakes {
namespace {

using nlohmann::json;
using test::header_list;
using test::http_result;

sys_ms at(const char* text) {
    return timestamp::parse(text)->at;
}

class marketo_test : public ::testing::Test {
protected:
    manual_clock clock{at("2024-03-01T12:00:00Z")};
    fake_marketo mk{options()};
    std::string token = mk.issue_token();

    mkto_options options() {
        mkto_options o;
        o.clock = clock.fn();
        return o;
    }

    http_result identity(const std::string& id = "fake-mkto-client",
                         const std::string& secret = "fake-mkto-secret",
                         const std::string& method = "GET") {
        return test::request(method,
                             mk.base_url() +
                                 "/identity/oauth/token?grant_type=client_credentials"
                                 "&client_id=" +
                                 id + "&client_secret=" + secret);
    }

    http_result call(const std::string& method,
                     const std::string& target,
                     const std::string& body = {},
                     const std::string& content_type = "application/json") {
        header_list h = {{"Authorization", "Bearer " + token}};
        if (!body.empty())
            h.emplace_back("Content-Type", content_type);
        return test::request(method, mk.base_url() + target, body, h);
    }

    json push(const json& body) {
        const auto r = call("POST", "/rest/v1/leads.json", body.dump());
        EXPECT_EQ(r.status, 200u) << r.body;
        return r.json();
    }

    static void expect_error(const json& r,
                             const std::string& code,
                             const std::string& message = {}) {
        EXPECT_EQ(r["success"], false) << r;
        ASSERT_TRUE(r.contains("errors")) << r;
        EXPECT_EQ(r["errors"][0]["code"], code) << r;
        if (!message.empty()) {
            EXPECT_EQ(r["errors"][0]["message"], message) << r;
        }
    }

    static void expect_reason(const json& item,
                              const std::string& code,
                              const std::string& message = {}) {
        EXPECT_EQ(item["status"], "skipped") << item;
        EXPECT_FALSE(item.contains("id")) << item;
        EXPECT_EQ(item["reasons"][0]["code"], code) << item;
        if (!message.empty()) {
            EXPECT_EQ(item["reasons"][0]["message"], message) << item;
        }
    }
};

// ---- identity ---------------------------------------------------------------------------------

TEST_F(marketo_test, identity_returns_the_same_token_until_it_expires) {
    auto r = identity();
    ASSERT_EQ(r.status, 200u) << r.body;
    json t = r.json();
    EXPECT_EQ(t["access_token"], token);  // issue_token() made it already
    EXPECT_TRUE(std::regex_match(
        t["access_token"].get<std::string>(),
        std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}:fk$")));
    EXPECT_EQ(t["token_type"], "bearer");
    EXPECT_EQ(t["expires_in"], 3599);
    EXPECT_EQ(t["scope"], "apis@fake");

    clock.advance(std::chrono::seconds(100));
    t = identity("fake-mkto-client", "fake-mkto-secret", "POST").json();
    EXPECT_EQ(t["access_token"], token);
    EXPECT_EQ(t["expires_in"], 3499);

    clock.advance(std::chrono::seconds(3500));  // past the hour
    EXPECT_EQ(call("GET", "/rest/v1/leads/describe.json").json()["errors"][0]["code"], "602");
    t = identity().json();
    EXPECT_NE(t["access_token"], token);
    EXPECT_EQ(t["expires_in"], 3599);
    token = t["access_token"];
    EXPECT_EQ(call("GET", "/rest/v1/leads/describe.json").json()["success"], true);
    EXPECT_EQ(mk.calls_today(), 1);  // identity and 602 calls are free
}

TEST_F(marketo_test, identity_refuses_bad_credentials_with_401) {
    const auto r = identity("fake-mkto-client", "wrong");
    EXPECT_EQ(r.status, 401u);
    EXPECT_EQ(r.json(),
              (json{{"error", "invalid_client"}, {"error_description", "Bad client credentials"}}));
}

TEST_F(marketo_test, missing_unknown_and_expired_tokens) {
    auto r = test::request("GET", mk.base_url() + "/rest/v1/leads/describe.json");
    EXPECT_EQ(r.status, 200u);  // response-level errors are HTTP 200 [MK-ERR]
    expect_error(r.json(), "601", "Access token invalid");
    // The query-parameter form is on its way out; the fake accepts only the header.
    r = test::request("GET", mk.base_url() + "/rest/v1/leads/describe.json?access_token=" + token);
    expect_error(r.json(), "601");
    const std::string good = token;
    token = "00000000-0000-4000-8000-000000000000:fk";
    expect_error(call("GET", "/rest/v1/leads/describe.json").json(), "601");
    token = good;
    mk.expire_tokens();
    expect_error(call("GET", "/rest/v1/leads/describe.json").json(), "602", "Access token expired");
    token = identity().json()["access_token"];
    EXPECT_NE(token, good);
    EXPECT_EQ(call("GET", "/rest/v1/leads/describe.json").json()["success"], true);
    EXPECT_EQ(mk.calls_today(), 1);
    EXPECT_EQ(mk.errors_sent().at("601"), 3);
}

// ---- Sync Leads -------------------------------------------------------------------------------

TEST_F(marketo_test, create_or_update_by_sfdc_contact_id) {
    mk.add_person({{"email", "one@example.com"}, {"sfdcContactId", "003DUP000000000AAA"}});
    mk.add_person({{"email", "two@example.com"}, {"sfdcContactId", "003DUP000000000AAA"}});
    json r = push({{"lookupField", "sfdcContactId"},
                   {"input",
                    {{{"sfdcContactId", "003NEW000000000AAA"},
                      {"email", "new@example.com"},
                      {"firstName", "Ann"}},
                     {{"sfdcContactId", "003DUP000000000AAA"}, {"email", "dup@example.com"}}}}});
    EXPECT_EQ(r["success"], true);
    ASSERT_EQ(r["result"].size(), 2u);
    EXPECT_EQ(r["result"][0]["status"], "created");
    const auto id = r["result"][0]["id"].get<std::int64_t>();
    expect_reason(r["result"][1], "1007", "Multiple leads match the lookup criteria");
    EXPECT_TRUE(
        std::regex_match(r["requestId"].get<std::string>(), std::regex("^[0-9a-f]+#[0-9a-f]+$")));

    clock.advance(std::chrono::minutes(1));
    r = push({{"lookupField", "sfdcContactId"},
              {"input", {{{"sfdcContactId", "003NEW000000000AAA"}, {"firstName", "Anna"}}}}});
    EXPECT_EQ(r["result"][0], (json{{"id", id}, {"status", "updated"}}));
    const auto person = *mk.lead(id);
    EXPECT_EQ(person["firstName"], "Anna");
    EXPECT_EQ(person["email"], "new@example.com");
    EXPECT_EQ(person["createdAt"], "2024-03-01T12:00:00Z");
    EXPECT_EQ(person["updatedAt"], "2024-03-01T12:01:00Z");
    EXPECT_EQ(mk.find("sfdcContactId", "003dup000000000aaa").size(), 2u);
    EXPECT_EQ(mk.push_calls().size(), 2u);
    EXPECT_EQ(mk.push_calls()[1]["input"][0]["firstName"], "Anna");
}

TEST_F(marketo_test, default_action_and_lookup_are_create_or_update_by_email) {
    json r = push({{"input", {{{"email", "a@example.com"}}}}});
    EXPECT_EQ(r["result"][0]["status"], "created");
    r = push({{"input", {{{"email", "A@Example.com"}, {"leadScore", 7}}}}});
    EXPECT_EQ(r["result"][0]["status"], "updated");  // email dedupe is case-insensitive
    r = push({{"action", "createOnly"}, {"input", {{{"email", "a@example.com"}}}}});
    expect_reason(r["result"][0], "1005", "Lead already exists");
    r = push({{"action", "updateOnly"}, {"input", {{{"email", "zzz@example.com"}}}}});
    expect_reason(r["result"][0], "1004", "Lead not found");
    r = push({{"action", "createDuplicate"}, {"input", {{{"email", "a@example.com"}}}}});
    EXPECT_EQ(r["result"][0]["status"], "created");
    EXPECT_EQ(mk.find("email", "a@example.com").size(), 2u);
    r = push({{"action", "updateOnly"},
              {"lookupField", "id"},
              {"input", {{{"id", r["result"][0]["id"]}, {"city", "Oslo"}}}}});
    EXPECT_EQ(r["result"][0]["status"], "updated");
    r = push({{"action", "createOnly"}, {"input", {{{"id", 5}, {"email", "b@example.com"}}}}});
    expect_reason(r["result"][0], "1003");
}

TEST_F(marketo_test, record_level_errors_are_per_record_in_input_order) {
    const json r = push(
        {{"input",
          {{{"email", "ok@example.com"}, {"salutation", "Monsieur"}, {"birthDate", "1980-05-01"}},
           {{"email", "jean.dupont@@example"}},
           {{"email", "x@example.com"}, {"favouriteColour", "blue"}},
           {{"email", "y@example.com"}, {"leadScore", 14.1}},
           {{"email", "z@example.com"}, {"birthDate", "01/05/1980"}},
           {{"email", "w@example.com"}, {"sfdcContactId", "003456789012345678XYZ"}},
           {{"firstName", "No Email"}},
           {{"email", "OK@example.com"}, {"lastName", "Again"}},
           {{"email", "v@example.com"}, {"crmDeleted", "other"}},
           {{"email", "u@example.com"}, {"updatedAt", "2024-01-01T00:00:00Z"}},
           {{"email", "t@exämple.com"}},
           {{"email", "s@example.com"}, {"crmDeleted", "true"}, {"leadScore", "12"}}}}});
    ASSERT_EQ(r["result"].size(), 12u);
    EXPECT_EQ(r["result"][0]["status"], "created");
    expect_reason(r["result"][1], "1003", "Invalid value for field 'email'");
    expect_reason(r["result"][2], "1006", "Field 'favouriteColour' not found");
    expect_reason(r["result"][3], "1003", "Invalid value for field 'leadScore'");
    expect_reason(r["result"][4], "1003", "Invalid value for field 'birthDate'");
    expect_reason(r["result"][5], "1003", "Invalid value for field 'sfdcContactId'");  // > 18
    expect_reason(r["result"][6], "1002", "Missing value for the required parameter 'email'");
    expect_reason(r["result"][7], "1036", "Duplicate object found in input");
    expect_reason(r["result"][8], "1003", "Invalid value for field 'crmDeleted'");
    expect_reason(r["result"][9], "1003");   // read-only
    expect_reason(r["result"][10], "1003");  // email must be ASCII
    EXPECT_EQ(r["result"][11]["status"], "created");
    const auto s = mk.find("email", "s@example.com").at(0);
    EXPECT_EQ(s["crmDeleted"], true);
    EXPECT_EQ(s["leadScore"], 12);
    EXPECT_EQ(mk.leads().size(), 2u);

    const json bad_lookup = push({{"lookupField", "firstName"}, {"input", {{{"firstName", "A"}}}}});
    expect_reason(bad_lookup["result"][0], "1011", "Field 'firstName' not supported");
    const json unknown_lookup =
        push({{"lookupField", "nope"}, {"input", {{{"email", "q@example.com"}}}}});
    expect_reason(unknown_lookup["result"][0], "1006");
}

TEST_F(marketo_test, request_level_errors) {
    auto r = call("GET", "/rest/v1/leads.json");
    expect_error(r.json(), "605", "HTTP Method not supported");
    r = call(
        "POST", "/rest/v1/leads.json", R"({"input":[{"email":"a@example.com"}]})", "text/plain");
    expect_error(r.json(), "612", "Invalid Content Type");
    r = call("POST", "/rest/v1/leads.json", "{not json");
    expect_error(r.json(), "609", "Invalid JSON");
    json big = {{"input", json::array()}};
    for (int i = 0; i < 301; ++i)
        big["input"].push_back({{"email", "p" + std::to_string(i) + "@example.com"}});
    r = call("POST", "/rest/v1/leads.json", big.dump());
    expect_error(r.json(), "1003");
    EXPECT_TRUE(mk.leads().empty());
    big["input"].erase(300);
    EXPECT_EQ(push(big)["result"].size(), 300u);
    r = call("POST", "/rest/v1/leads.json", R"({"input":[]})");
    expect_error(r.json(), "701");
    r = call("POST",
             "/rest/v1/leads.json",
             R"({"action":"upsert","input":[{"email":"a@example.com"}]})");
    expect_error(r.json(), "1003");
    r = call("GET", "/rest/v1/nothing.json");
    expect_error(r.json(), "610");

    // HTTP-level: body over 1 MB, URI over 8 KB [MK-ERR].
    json huge = {{"input", {{{"email", "h@example.com"}, {"title", std::string(1100000, 'x')}}}}};
    r = call("POST", "/rest/v1/leads.json", huge.dump());
    EXPECT_EQ(r.status, 413u);
    r = call("GET", "/rest/v1/leads.json?filterType=email&filterValues=" + std::string(9000, 'a'));
    EXPECT_EQ(r.status, 414u);
    // 605 is free, the others count (612, 609, 1003, 701, 1003, 610 + one success).
    EXPECT_EQ(mk.calls_today(), 7);
}

// ---- limits -----------------------------------------------------------------------------------

TEST_F(marketo_test, rate_window_of_100_calls_per_20_seconds) {
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(call("GET", "/rest/v1/leads/describe2.json").json()["success"], true) << i;
    }
    EXPECT_EQ(mk.calls_in_window(), 100);
    auto r = call("GET", "/rest/v1/leads/describe2.json").json();
    expect_error(r, "606", "Max rate limit '100' exceeded with in '20' secs");
    clock.advance(std::chrono::seconds(19));
    expect_error(call("GET", "/rest/v1/leads/describe2.json").json(), "606");
    clock.advance(std::chrono::seconds(1) + std::chrono::milliseconds(1));  // the window rolled
    EXPECT_EQ(mk.calls_in_window(), 1);  // the 606 at +19 s is still inside
    EXPECT_EQ(call("GET", "/rest/v1/leads/describe2.json").json()["success"], true);
    EXPECT_EQ(mk.peak_calls_in_window(), 102);  // refused calls count too
    EXPECT_EQ(mk.errors_sent().at("606"), 2);
}

TEST_F(marketo_test, daily_quota_and_usage_stats) {
    mk.set_limits({.calls_per_20s = 100, .max_concurrency = 10, .daily_quota = 5});
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(call("GET", "/rest/v1/leads/describe.json").json()["success"], true);
    auto usage = call("GET", "/rest/v1/stats/usage.json").json();
    ASSERT_EQ(usage["success"], true) << usage;
    EXPECT_EQ(usage["result"][0]["date"], "2024-03-01");
    EXPECT_EQ(usage["result"][0]["total"], 5);
    EXPECT_EQ(usage["result"][0]["users"][0]["userId"], "apis@fake");
    expect_error(call("GET", "/rest/v1/leads/describe.json").json(), "607", "Daily quota reached");
    // The quota day starts at 00:00 CST (06:00 UTC).
    clock.set(at("2024-03-02T05:59:59Z"));
    token = mk.issue_token();  // the old one expired meanwhile
    expect_error(call("GET", "/rest/v1/leads/describe.json").json(), "607");
    clock.set(at("2024-03-02T06:00:00Z"));
    usage = call("GET", "/rest/v1/stats/usage.json").json();
    EXPECT_EQ(usage["result"][0]["date"], "2024-03-02");
    EXPECT_EQ(usage["result"][0]["total"], 1);
    mk.set_calls_today(5);
    expect_error(call("GET", "/rest/v1/leads/describe.json").json(), "607");
    // In summer Chicago keeps daylight time (CDT, UTC-5): the day starts at 05:00 UTC.
    clock.set(at("2024-07-02T04:59:59Z"));
    token = mk.issue_token();
    EXPECT_EQ(call("GET", "/rest/v1/stats/usage.json").json()["result"][0]["date"], "2024-07-01");
    clock.set(at("2024-07-02T05:00:00Z"));
    EXPECT_EQ(call("GET", "/rest/v1/stats/usage.json").json()["result"][0]["date"], "2024-07-02");
}

TEST_F(marketo_test, a_shortened_window_counts_like_the_real_one) {
    mk.set_limits({.calls_per_20s = 2, .max_concurrency = 10, .window = std::chrono::seconds(2)});
    EXPECT_EQ(call("GET", "/rest/v1/leads/describe2.json").json()["success"], true);
    EXPECT_EQ(call("GET", "/rest/v1/leads/describe2.json").json()["success"], true);
    expect_error(call("GET", "/rest/v1/leads/describe2.json").json(),
                 "606",
                 "Max rate limit '2' exceeded with in '2' secs");
    clock.advance(std::chrono::seconds(2));
    EXPECT_EQ(call("GET", "/rest/v1/leads/describe2.json").json()["success"], true);
}

TEST_F(marketo_test, concurrency_limit_of_10_in_flight) {
    mk.set_latency(std::chrono::milliseconds(1500));
    std::vector<std::future<http_result>> calls;
    for (int i = 0; i < 12; ++i) {
        calls.push_back(std::async(std::launch::async,
                                   [this] { return call("GET", "/rest/v1/leads/describe.json"); }));
    }
    int ok = 0;
    int refused = 0;
    for (auto& f : calls) {
        const json r = f.get().json();
        if (r["success"] == true) {
            ++ok;
        } else {
            expect_error(r, "615", "Concurrent access limit reached");
            ++refused;
        }
    }
    EXPECT_EQ(ok, 10);
    EXPECT_EQ(refused, 2);
    EXPECT_EQ(mk.peak_concurrency(), 10);
    mk.set_latency(std::chrono::milliseconds(0));
    EXPECT_EQ(call("GET", "/rest/v1/leads/describe.json").json()["success"], true);
}

// ---- other endpoints --------------------------------------------------------------------------

TEST_F(marketo_test, describe_and_schema_drift) {
    auto d = call("GET", "/rest/v1/leads/describe.json").json();
    ASSERT_EQ(d["success"], true);
    json email;
    for (const auto& f : d["result"]) {
        if (f["rest"]["name"] == "email")
            email = f;
    }
    EXPECT_EQ(email["dataType"], "email");
    EXPECT_EQ(email["length"], 255);
    EXPECT_EQ(email["rest"]["readOnly"], false);
    EXPECT_EQ(email["soap"]["name"], "Email");
    EXPECT_TRUE(email["id"].is_number_integer());

    mk.add_field({.name = "cityFallback__c",
                  .data_type = "string",
                  .display_name = "City Fallback",
                  .length = 40,
                  .searchable = true});
    d = call("GET", "/rest/v1/leads/describe2.json").json();
    const auto& lead = d["result"][0];
    EXPECT_EQ(lead["name"], "API Lead");
    EXPECT_NE(std::find(lead["searchableFields"].begin(),
                        lead["searchableFields"].end(),
                        json::array({"sfdcContactId"})),
              lead["searchableFields"].end());
    bool found = false;
    for (const auto& f : lead["fields"]) {
        if (f["name"] == "cityFallback__c") {
            found = true;
            EXPECT_EQ(f["length"], 40);
            EXPECT_EQ(f["updateable"], true);
            EXPECT_EQ(f["crmManaged"], false);
        }
    }
    EXPECT_TRUE(found);
    EXPECT_EQ(
        push(
            {{"input",
              {{{"email", "c@example.com"}, {"cityFallback__c", "Lyon"}}}}})["result"][0]["status"],
        "created");
    mk.remove_field("cityFallback__c");
    expect_reason(
        push({{"input", {{{"email", "c@example.com"}, {"cityFallback__c", "Lyon"}}}}})["result"][0],
        "1006");
}

TEST_F(marketo_test, get_leads_by_filter_and_delete) {
    const auto a =
        mk.add_person({{"email", "a@example.com"}, {"firstName", "A"}, {"sfdcContactId", "003A"}});
    mk.add_person({{"email", "b@example.com"}, {"firstName", "B"}});
    auto r =
        call("GET",
             "/rest/v1/leads.json?filterType=email&filterValues=a%40example.com,B%40example.com")
            .json();
    ASSERT_EQ(r["success"], true) << r;
    ASSERT_EQ(r["result"].size(), 2u);
    EXPECT_EQ(r["result"][0]["id"], a);
    EXPECT_TRUE(r["result"][0].contains("updatedAt"));
    r = call("GET",
             "/rest/v1/"
             "leads.json?filterType=sfdcContactId&filterValues=003A&fields=email,sfdcContactId")
            .json();
    ASSERT_EQ(r["result"].size(), 1u);
    EXPECT_EQ(r["result"][0],
              (json{{"id", a}, {"email", "a@example.com"}, {"sfdcContactId", "003A"}}));
    expect_error(call("GET", "/rest/v1/leads.json?filterType=firstName&filterValues=A").json(),
                 "1011");
    r = call("POST",
             "/rest/v1/leads.json?_method=GET",
             "filterType=email&filterValues=b%40example.com",
             "application/x-www-form-urlencoded")
            .json();
    EXPECT_EQ(r["result"].size(), 1u);
    r = call("GET", "/rest/v1/lead/" + std::to_string(a) + ".json").json();
    EXPECT_EQ(r["result"][0]["email"], "a@example.com");

    r = call("POST",
             "/rest/v1/leads/delete.json",
             json({{"input", {{{"id", a}}, {{"id", 999999}}}}}).dump())
            .json();
    ASSERT_EQ(r["success"], true);
    EXPECT_EQ(r["result"][0], (json{{"id", a}, {"status", "deleted"}}));
    EXPECT_EQ(r["result"][1]["status"], "skipped");
    EXPECT_EQ(r["result"][1]["reasons"][0]["code"], "1004");
    EXPECT_EQ(mk.leads().size(), 1u);
}

TEST_F(marketo_test, fault_script_on_sync_leads) {
    mk.fail_next("/rest/v1/leads.json",
                 {fault_spec::vendor("606"),
                  fault_spec::http(502, "<html>Bad Gateway</html>"),
                  fault_spec::vendor("615"),
                  fault_spec::vendor("604"),
                  fault_spec::connection_reset(true)});
    const std::string body = json({{"input", {{{"email", "f@example.com"}}}}}).dump();
    auto r = call("POST", "/rest/v1/leads.json", body);
    expect_error(r.json(), "606", "Max rate limit '100' exceeded with in '20' secs");
    r = call("POST", "/rest/v1/leads.json", body);
    EXPECT_EQ(r.status, 502u);
    expect_error(call("POST", "/rest/v1/leads.json", body).json(), "615");
    expect_error(call("POST", "/rest/v1/leads.json", body).json(), "604", "Request time-out");
    EXPECT_TRUE(mk.leads().empty());
    r = call("POST", "/rest/v1/leads.json", body);  // reset after the work was done
    EXPECT_TRUE(r.ec);
    EXPECT_EQ(mk.leads().size(), 1u);
    EXPECT_EQ(call("POST", "/rest/v1/leads.json", body).json()["result"][0]["status"], "updated");
    EXPECT_EQ(mk.calls_today(), 2);  // scripted refusals are never counted
    EXPECT_EQ(mk.pending_faults(), 0u);
    mk.fail_next("/identity", {fault_spec::hang(std::chrono::milliseconds(800))});
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(identity().status, 200u);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(800));
}

TEST_F(marketo_test, scripted_token_expiry_answers_602_and_identity_issues_a_new_token) {
    mk.fail_next(
        "/rest/v1/leads.json",
        {fault_spec::token_expiry(), fault_spec::too_many_requests(std::chrono::seconds(3))});
    const std::string body = json({{"input", {{{"email", "t@example.com"}}}}}).dump();
    expect_error(call("POST", "/rest/v1/leads.json", body).json(), "602", "Access token expired");
    EXPECT_TRUE(mk.leads().empty());
    const auto fresh = identity().json()["access_token"].get<std::string>();
    EXPECT_NE(fresh, token);
    token = fresh;
    const auto r = call("POST", "/rest/v1/leads.json", body);
    EXPECT_EQ(r.status, 429u);
    EXPECT_EQ(r.header("retry-after"), "3");
    EXPECT_EQ(push(json::parse(body))["result"][0]["status"], "created");
    EXPECT_EQ(mk.pending_faults(), 0u);
}

TEST_F(marketo_test, on_arrival_runs_before_the_request_is_served) {
    std::size_t leads_seen = 99;
    fault_spec f = fault_spec::pass();
    f.on_arrival = [&] { leads_seen = mk.leads().size(); };
    mk.fail_next("/rest/v1/leads.json", {f});
    push(json({{"input", {{{"email", "h@example.com"}}}}}));
    EXPECT_EQ(leads_seen, 0u) << "the hook ran before the person was created";
    EXPECT_EQ(mk.leads().size(), 1u);
}

// ---- sandbox seed -----------------------------------------------------------------------------

TEST(sandbox_seed, plants_the_documented_traps) {
    fake_salesforce sf(sandbox_sf_options());
    fake_marketo mk(sandbox_mkto_options());
    const auto report = seed_sandbox(sf, mk, {.contacts = 80, .leads = 10});
    ASSERT_EQ(report.contact_ids.size(), 80u);

    const auto token = test::request("POST",
                                     sf.base_url() + "/services/oauth2/token",
                                     test::form({{"grant_type", "password"},
                                                 {"client_id", "sandbox-sf-client"},
                                                 {"client_secret", "sandbox-sf-secret"},
                                                 {"username", "sandbox@example.com"},
                                                 {"password", "sandbox-password"}}),
                                     {{"Content-Type", "application/x-www-form-urlencoded"}})
                           .json()["access_token"]
                           .get<std::string>();
    auto q = [&](const std::string& resource, const std::string& soql) {
        return test::request("GET",
                             sf.base_url() + "/services/data/v60.0/" + resource +
                                 "?q=" + test::url_encode(soql),
                             {},
                             {{"Authorization", "Bearer " + token}})
            .json();
    };
    // 80 seeded, one soft-deleted, two more created by converting leads.
    EXPECT_EQ(q("query", "SELECT COUNT() FROM Contact")["totalSize"], 81);
    EXPECT_EQ(q("queryAll", "SELECT COUNT() FROM Contact")["totalSize"], 82);
    EXPECT_GE(q("query", "SELECT COUNT() FROM Contact WHERE Salutation = 'Dr.'")["totalSize"], 1);
    EXPECT_GE(
        q("query",
          "SELECT COUNT() FROM Contact WHERE Salutation IN ('Mr.','Ms.','Mrs.')")["totalSize"],
        30);
    EXPECT_FALSE(report.city_a_only.empty());
    EXPECT_FALSE(report.city_u_only.empty());
    const auto u = *sf.get("Contact", report.city_u_only.front());
    EXPECT_TRUE(u["MailingCity"].is_null() || u["MailingCity"] == "");
    EXPECT_TRUE(u["City_A__c"].is_null());
    EXPECT_TRUE(u["City_U__c"].is_string());
    EXPECT_EQ(report.converted_leads.size(), 2u);

    // Marketo refuses the planted email, and the planted duplicate answers 1007.
    const auto mtoken =
        test::request("GET",
                      mk.base_url() +
                          "/identity/oauth/token?grant_type=client_credentials"
                          "&client_id=sandbox-mkto-client&client_secret=sandbox-mkto-secret")
            .json()["access_token"]
            .get<std::string>();
    const auto bad = *sf.get("Contact", report.invalid_email_contact);
    const json body = {{"lookupField", "sfdcContactId"},
                       {"input",
                        {{{"sfdcContactId", report.invalid_email_contact}, {"email", bad["Email"]}},
                         {{"sfdcContactId", report.duplicate_contact}, {"lastName", "X"}}}}};
    const auto r =
        test::request("POST",
                      mk.base_url() + "/rest/v1/leads.json",
                      body.dump(),
                      {{"Authorization", "Bearer " + mtoken}, {"Content-Type", "application/json"}})
            .json();
    EXPECT_EQ(r["result"][0]["reasons"][0]["code"], "1003") << r;
    EXPECT_EQ(r["result"][1]["reasons"][0]["code"], "1007") << r;
    EXPECT_EQ(report.duplicate_person_ids.size(), 2u);

    // Same seed, same data.
    fake_salesforce sf2(sandbox_sf_options());
    fake_marketo mk2(sandbox_mkto_options());
    seed_sandbox(sf2, mk2, {.contacts = 80, .leads = 10});
    EXPECT_EQ((*sf2.get("Contact", report.contact_ids[42]))["Email"],
              (*sf.get("Contact", report.contact_ids[42]))["Email"]);
}

}  // namespace
}  // namespace crmsync::fakes
