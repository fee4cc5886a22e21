#include "fake_sfmc.hpp"

#include "manual_clock.hpp"
#include "sandbox_seed.hpp"
#include "test_client.hpp"
#include <gtest/gtest.h>

namespace crmsync::fakes {
namespace {

using nlohmann::json;
using test::http_result;

class sfmc_test : public ::testing::Test {
protected:
    void SetUp() override {
        fake.add_data_extension({"Contacts_DE",
                                 {{.name = "ContactId", .max_length = 18, .primary_key = true},
                                  {.name = "Email", .type = "EmailAddress"},
                                  {.name = "FirstName", .required = true},
                                  {.name = "Score", .type = "Number"}}});
        token = fetch_token().json()["access_token"];
    }

    http_result fetch_token(const std::string& secret = "fake-sfmc-secret") {
        return test::request("POST",
                             fake.base_url() + "/v2/token",
                             json{{"grant_type", "client_credentials"},
                                  {"client_id", "fake-sfmc-client"},
                                  {"client_secret", secret},
                                  {"account_id", 5100001234}}
                                 .dump(),
                             {{"Content-Type", "application/json"}});
    }
    http_result rest(const std::string& method, const std::string& path, const json& body = {}) {
        return test::request(
            method,
            fake.base_url() + path,
            body.is_null() ? "" : body.dump(),
            {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
    }

    manual_clock clock{timestamp::parse("2026-11-23T10:00:00Z")->at};
    fake_sfmc fake{sfmc_options{.clock = clock.fn()}};
    std::string token;
};

TEST_F(sfmc_test, token_has_the_documented_fields_and_bad_credentials_the_documented_error) {
    const auto t = fetch_token().json();
    EXPECT_EQ(t["expires_in"], 1079);
    EXPECT_EQ(t["token_type"], "Bearer");
    EXPECT_EQ(t["rest_instance_url"], fake.base_url() + "/");
    EXPECT_EQ(t["soap_instance_url"], fake.base_url() + "/");
    const auto bad = fetch_token("wrong");
    EXPECT_EQ(bad.status, 401u);
    EXPECT_EQ(bad.json()["error"], "invalid_client");
}

TEST_F(sfmc_test, tokens_expire_on_the_fake_clock_with_errorcode_0) {
    const json rows =
        json::array({{{"keys", {{"ContactId", "003A"}}}, {"values", {{"FirstName", "Ann"}}}}});
    EXPECT_EQ(rest("POST", "/hub/v1/dataevents/key:Contacts_DE/rowset", rows).status, 200u);
    clock.advance(std::chrono::seconds(1079));
    const auto expired = rest("POST", "/hub/v1/dataevents/key:Contacts_DE/rowset", rows);
    EXPECT_EQ(expired.status, 401u);
    EXPECT_EQ(expired.json()["errorcode"], 0);
    EXPECT_EQ(expired.json()["message"], "Not Authorized");
}

TEST_F(sfmc_test, a_rowset_with_a_bad_row_is_refused_whole_without_naming_the_row) {
    const json rows =
        json::array({{{"keys", {{"ContactId", "003A"}}},
                      {"values", {{"FirstName", "Ann"}, {"Email", "ann@example.com"}}}},
                     {{"keys", {{"ContactId", "003B"}}},
                      {"values", {{"FirstName", "Bob"}, {"Email", "not-an-email"}}}}});
    const auto r = rest("POST", "/hub/v1/dataevents/key:Contacts_DE/rowset", rows);
    ASSERT_EQ(r.status, 400u);
    EXPECT_EQ(r.json()["errorcode"], 10006);
    ASSERT_EQ(r.json()["additionalErrors"].size(), 1u);
    EXPECT_EQ(r.json()["additionalErrors"][0]["errorcode"], 10003);
    EXPECT_EQ(r.json()["additionalErrors"][0]["message"].get<std::string>().find("003B"),
              std::string::npos);
    EXPECT_TRUE(fake.rows("Contacts_DE").empty());  // all or nothing

    const auto missing =
        rest("POST",
             "/hub/v1/dataevents/key:Contacts_DE/rowset",
             json::array({{{"keys", {{"ContactId", "003C"}}}, {"values", json::object()}}}));
    EXPECT_EQ(missing.json()["additionalErrors"][0]["errorcode"], 10002);  // FirstName required
    EXPECT_EQ(rest("POST", "/hub/v1/dataevents/key:Nope/rowset", rows).status, 404u);
}

TEST_F(sfmc_test, scripted_throttling_has_the_documented_bodies_and_retry_after) {
    fake.fail_next("/hub/v1/dataevents",
                   {fault_spec::vendor("50100"), fault_spec::vendor("50200")});
    const json rows =
        json::array({{{"keys", {{"ContactId", "003A"}}}, {"values", {{"FirstName", "A"}}}}});
    const auto a = rest("POST", "/hub/v1/dataevents/key:Contacts_DE/rowset", rows);
    EXPECT_EQ(a.status, 429u);
    EXPECT_EQ(a.header("retry-after"), "5");
    EXPECT_EQ(a.json()["errorcode"], 50100);
    EXPECT_EQ(a.json()["retryAfter"], 5);
    const auto b = rest("POST", "/hub/v1/dataevents/key:Contacts_DE/rowset", rows);
    EXPECT_EQ(b.status, 429u);
    EXPECT_EQ(b.header("retry-after"), "");
    EXPECT_EQ(b.json()["message"], "Your requests are temporarily blocked.");
    EXPECT_TRUE(fake.rows("Contacts_DE").empty());
}

TEST_F(sfmc_test, async_upsert_is_pending_then_complete_with_per_item_results_in_pages) {
    fake.set_async_pending_polls(2);
    json items = json::array();
    for (int i = 0; i < 60; ++i) {
        items.push_back({{"ContactId", "003" + std::to_string(100 + i)},
                         {"FirstName", "P" + std::to_string(i)},
                         {"Email", i == 7 ? "broken" : "p@example.com"}});
    }
    const auto q =
        rest("PUT", "/data/v1/async/dataextensions/key:Contacts_DE/rows", {{"items", items}});
    ASSERT_EQ(q.status, 202u);
    const std::string id = q.json()["requestId"];
    EXPECT_EQ(rest("GET", "/data/v1/async/" + id + "/status").json()["status"]["requestStatus"],
              "Pending");
    EXPECT_EQ(rest("GET", "/data/v1/async/" + id + "/status").json()["status"]["requestStatus"],
              "Pending");
    const auto done = rest("GET", "/data/v1/async/" + id + "/status").json()["status"];
    EXPECT_EQ(done["requestStatus"], "Complete");
    EXPECT_TRUE(done["hasErrors"]);
    const auto p1 = rest("GET", "/data/v1/async/" + id + "/results").json();
    EXPECT_EQ(p1["count"], 60);
    EXPECT_EQ(p1["pageSize"], 50);
    ASSERT_EQ(p1["items"].size(), 50u);
    EXPECT_EQ(p1["items"][7]["status"], "Error");
    EXPECT_EQ(p1["items"][8]["status"], "OK");
    EXPECT_EQ(rest("GET", "/data/v1/async/" + id + "/results?page=2").json()["items"].size(), 10u);
    EXPECT_EQ(fake.rows("Contacts_DE").size(), 59u);
    EXPECT_EQ(rest("PUT", "/data/v1/async/dataextensions/key:Nope/rows", {{"items", items}}).status,
              400u);
}

TEST_F(sfmc_test, soap_retrieve_lists_the_columns_and_refuses_expired_tokens) {
    const std::string env =
        R"(<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><fueloauth xmlns="http://exacttarget.com">)" +
        token +
        R"(</fueloauth></s:Header><s:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest><ObjectType>DataExtensionField</ObjectType><Properties>Name</Properties><Filter><Property>DataExtension.CustomerKey</Property><SimpleOperator>equals</SimpleOperator><Value>Contacts_DE</Value></Filter></RetrieveRequest></RetrieveRequestMsg></s:Body></s:Envelope>)";
    const auto r = test::request(
        "POST", fake.base_url() + "/Service.asmx", env, {{"Content-Type", "text/xml"}});
    EXPECT_EQ(r.status, 200u);
    EXPECT_NE(r.body.find("<OverallStatus>OK</OverallStatus>"), std::string::npos);
    EXPECT_NE(r.body.find("<Name>ContactId</Name>"), std::string::npos);
    EXPECT_NE(r.body.find("<IsPrimaryKey>true</IsPrimaryKey>"), std::string::npos);
    fake.expire_tokens();
    const auto f = test::request(
        "POST", fake.base_url() + "/Service.asmx", env, {{"Content-Type", "text/xml"}});
    EXPECT_EQ(f.status, 500u);
    EXPECT_NE(f.body.find("<faultstring>Token Expired</faultstring>"), std::string::npos);
}

TEST(sfmc_sandbox, the_seeded_data_extension_takes_crm_contacts_and_refuses_a_bad_email) {
    fake_sfmc sandbox{sandbox_sfmc_options()};
    seed_sfmc(sandbox);
    const auto t = test::request("POST",
                                 sandbox.base_url() + "/v2/token",
                                 json{{"grant_type", "client_credentials"},
                                      {"client_id", sandbox_sfmc_client_id},
                                      {"client_secret", sandbox_sfmc_client_secret},
                                      {"account_id", 5100001234}}
                                     .dump(),
                                 {{"Content-Type", "application/json"}});
    ASSERT_EQ(t.status, 200u);
    const std::string token = t.json()["access_token"];
    auto rowset = [&](const std::string& email) {
        return test::request(
            "POST",
            sandbox.base_url() + "/hub/v1/dataevents/key:" + sandbox_data_extension + "/rowset",
            json::array({{{"keys", {{"ContactId", "0035g0000000004AAA"}}},
                          {"values", {{"Email", email}, {"City", "Paris"}}}}})
                .dump(),
            {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
    };
    EXPECT_EQ(rowset("not-an-email").status, 400u);
    EXPECT_EQ(rowset("ann@example.com").status, 200u);
    EXPECT_EQ(sandbox.rows(sandbox_data_extension).size(), 1u);
}

}  // namespace
}  // namespace crmsync::fakes
