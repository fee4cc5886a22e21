#include "fake_salesforce.hpp"

#include "manual_clock.hpp"
#include "test_client.hpp"
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace crmsync::fakes {
namespace {

using nlohmann::json;
using test::header_list;
using test::http_result;
using test::url_encode;

sys_ms at(const char* text) {
    return timestamp::parse(text)->at;
}

class salesforce_test : public ::testing::Test {
protected:
    manual_clock clock{at("2024-03-01T12:00:00Z")};
    fake_salesforce sf{options()};
    std::string token = sf.issue_token();

    sf_options options() {
        sf_options o;
        o.clock = clock.fn();
        return o;
    }

    http_result get(const std::string& target, header_list headers = {}) {
        headers.emplace_back("Authorization", "Bearer " + token);
        return test::request("GET", sf.base_url() + target, {}, headers);
    }

    http_result query(const std::string& soql,
                      header_list headers = {},
                      const std::string& resource = "query") {
        return get("/services/data/v60.0/" + resource + "?q=" + url_encode(soql),
                   std::move(headers));
    }

    json records(const std::string& soql, const std::string& resource = "query") {
        const auto r = query(soql, {}, resource);
        EXPECT_EQ(r.status, 200u) << soql << "\n" << r.body;
        return r.json()["records"];
    }

    http_result token_request(const header_list& form) {
        return test::request("POST",
                             sf.base_url() + "/services/oauth2/token",
                             test::form(form),
                             {{"Content-Type", "application/x-www-form-urlencoded"}});
    }

    void expect_error(const http_result& r,
                      unsigned status,
                      const std::string& code,
                      const std::string& message_part) {
        EXPECT_EQ(r.status, status) << r.body;
        const json body = json::parse(r.body, nullptr, false);
        ASSERT_TRUE(body.is_array()) << r.body;
        ASSERT_EQ(body.size(), 1u);
        EXPECT_EQ(body[0]["errorCode"], code);
        EXPECT_NE(body[0]["message"].get<std::string>().find(message_part), std::string::npos)
            << body[0]["message"];
    }
};

// ---- OAuth ------------------------------------------------------------------------------------

TEST_F(salesforce_test, client_credentials_token_has_the_documented_shape) {
    const auto r = token_request({{"grant_type", "client_credentials"},
                                  {"client_id", "fake-sf-client"},
                                  {"client_secret", "fake-sf-secret"}});
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.header("sforce-limit-info"), "");  // not on the token endpoint
    const json t = r.json();
    std::vector<std::string> keys;
    for (const auto& [k, v] : t.items())
        keys.push_back(k);
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(keys,
              (std::vector<std::string>{"access_token",
                                        "id",
                                        "instance_url",
                                        "issued_at",
                                        "scope",
                                        "signature",
                                        "token_type"}));
    EXPECT_FALSE(t.contains("expires_in"));
    EXPECT_EQ(t["instance_url"], sf.base_url());
    EXPECT_EQ(t["token_type"], "Bearer");
    EXPECT_EQ(t["issued_at"], std::to_string(clock.now().time_since_epoch().count()));
    EXPECT_EQ(t["issued_at"].get<std::string>().size(), 13u);
    EXPECT_TRUE(t["id"].get<std::string>().starts_with(sf.base_url() + "/id/00D"));

    token = t["access_token"];
    EXPECT_EQ(get("/services/data/v60.0/limits/").status, 200u);
}

TEST_F(salesforce_test, client_credentials_errors) {
    auto r = token_request({{"grant_type", "client_credentials"},
                            {"client_id", "fake-sf-client"},
                            {"client_secret", "wrong"}});
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(r.json()["error"], "invalid_client");
    r = token_request({{"grant_type", "client_credentials"},
                       {"client_id", "nobody"},
                       {"client_secret", "fake-sf-secret"}});
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(r.json()["error"], "invalid_client_id");
    r = token_request({{"client_id", "fake-sf-client"}});
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(r.json(),
              (json{{"error", "invalid_request"}, {"error_description", "grant type is missing"}}));
    r = token_request({{"grant_type", "authorization_code"}, {"code", "x"}});
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(r.json()["error"], "unsupported_grant_type");
    EXPECT_EQ(sf.token_requests(), 4u);
}

TEST_F(salesforce_test, password_flow) {
    header_list form = {{"grant_type", "password"},
                        {"client_id", "fake-sf-client"},
                        {"client_secret", "fake-sf-secret"},
                        {"username", "integration@example.com"},
                        {"password", "fake-password"}};
    EXPECT_EQ(token_request(form).status, 200u);
    form.back().second = "wrong";
    const auto r = token_request(form);
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(r.json(),
              (json{{"error", "invalid_grant"}, {"error_description", "authentication failure"}}));
}

TEST_F(salesforce_test, refresh_token_flow) {
    auto r = token_request({{"grant_type", "refresh_token"},
                            {"client_id", "fake-sf-client"},
                            {"refresh_token", "fake-refresh-token"}});
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_FALSE(r.json().contains("refresh_token"));
    r = token_request({{"grant_type", "refresh_token"},
                       {"client_id", "fake-sf-client"},
                       {"refresh_token", "revoked"}});
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(r.json()["error"], "invalid_grant");
}

std::string b64url(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    while (!out.empty() && out.back() == '=')
        out.pop_back();
    for (auto& c : out) {
        if (c == '+')
            c = '-';
        else if (c == '/')
            c = '_';
    }
    return out;
}

struct rsa_key {
    EVP_PKEY* key = EVP_RSA_gen(2048);
    ~rsa_key() { EVP_PKEY_free(key); }
    std::string public_pem() const {
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(bio, key);
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio, &data);
        std::string pem(data, static_cast<std::size_t>(n));
        BIO_free(bio);
        return pem;
    }
    std::string jwt(const json& claims, const json& header = {{"alg", "RS256"}}) const {
        const std::string signing_input = b64url(header.dump()) + "." + b64url(claims.dump());
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        std::size_t len = 0;
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
        EVP_DigestSign(ctx,
                       nullptr,
                       &len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size());
        std::string sig(len, '\0');
        EVP_DigestSign(ctx,
                       reinterpret_cast<unsigned char*>(sig.data()),
                       &len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size());
        sig.resize(len);
        EVP_MD_CTX_free(ctx);
        return signing_input + "." + b64url(sig);
    }
};

TEST(salesforce_jwt, bearer_flow_checks_claims_and_signature) {
    const rsa_key key;
    const rsa_key other;
    manual_clock clock{at("2024-03-01T12:00:00Z")};
    sf_options o;
    o.clock = clock.fn();
    o.jwt_public_key_pem = key.public_pem();
    fake_salesforce sf(o);
    const auto now_s = clock.now().time_since_epoch().count() / 1000;
    const json claims = {{"iss", "fake-sf-client"},
                         {"sub", "integration@example.com"},
                         {"aud", "https://login.salesforce.com"},
                         {"exp", now_s + 180}};
    auto grant = [&](const std::string& assertion) {
        return test::request(
            "POST",
            sf.base_url() + "/services/oauth2/token",
            test::form({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                        {"assertion", assertion}}),
            {{"Content-Type", "application/x-www-form-urlencoded"}});
    };
    auto r = grant(key.jwt(claims));
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.json()["instance_url"], sf.base_url());

    auto expect_refused = [&](const std::string& assertion, const std::string& error) {
        const auto res = grant(assertion);
        EXPECT_EQ(res.status, 400u) << res.body;
        EXPECT_EQ(res.json()["error"], error) << res.body;
    };
    expect_refused(other.jwt(claims), "invalid_grant");  // signed by another key
    json c = claims;
    c["exp"] = now_s - 1;
    expect_refused(key.jwt(c), "invalid_grant");  // expired
    c = claims;
    c["aud"] = "https://example.com";
    expect_refused(key.jwt(c), "invalid_grant");
    c = claims;
    c["sub"] = "someone@example.com";
    expect_refused(key.jwt(c), "invalid_grant");
    c = claims;
    c["iss"] = "other-app";
    expect_refused(key.jwt(c), "invalid_client_id");
    expect_refused(key.jwt(claims, {{"alg", "HS256"}}), "invalid_grant");
    expect_refused("not-a-jwt", "invalid_grant");
    c = claims;
    c["aud"] = sf.base_url();  // the fake's own URL is a valid audience too
    EXPECT_EQ(grant(key.jwt(c)).status, 200u);
}

// ---- sessions ---------------------------------------------------------------------------------

TEST_F(salesforce_test, api_calls_need_a_valid_bearer_token) {
    auto r = test::request("GET", sf.base_url() + "/services/data/v60.0/limits");
    expect_error(r, 401, "INVALID_SESSION_ID", "Session expired or invalid");
    EXPECT_EQ(r.json(),
              json::parse(R"([{"message":"Session expired or invalid",)"
                          R"("errorCode":"INVALID_SESSION_ID"}])"));
    EXPECT_EQ(get("/services/data/v60.0/limits").status, 200u);
    sf.expire_tokens();
    expect_error(get("/services/data/v60.0/limits"), 401, "INVALID_SESSION_ID", "Session");
    token = sf.issue_token();
    EXPECT_EQ(get("/services/data/v60.0/limits").status, 200u);
    EXPECT_EQ(sf.api_calls(), 2);  // refused calls are not counted
}

TEST(salesforce_session, timeout_follows_the_clock) {
    manual_clock clock;
    sf_options o;
    o.clock = clock.fn();
    o.session_timeout = std::chrono::hours(2);
    fake_salesforce sf(o);
    const std::string token = sf.issue_token();
    const auto call = [&] {
        return test::request("GET",
                             sf.base_url() + "/services/data/v60.0/limits",
                             {},
                             {{"Authorization", "Bearer " + token}});
    };
    EXPECT_EQ(call().status, 200u);
    clock.advance(std::chrono::hours(2));
    EXPECT_EQ(call().status, 401u);
}

// ---- query ------------------------------------------------------------------------------------

TEST_F(salesforce_test, query_pages_are_a_snapshot) {
    std::vector<std::string> ids;
    for (int i = 0; i < 450; ++i) {
        ids.push_back(
            sf.insert("Contact",
                      {{"LastName", "C" + std::to_string(i)}},
                      timestamp{clock.now() - std::chrono::hours(1) + std::chrono::seconds(i)}));
    }
    const std::string soql = "SELECT Id, LastName FROM Contact ORDER BY SystemModstamp, Id";
    auto r = query(soql, {{"Sforce-Query-Options", "batchSize=200"}});
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.header("sforce-limit-info"), "api-usage=1/15000");
    json page = r.json();
    EXPECT_EQ(page["totalSize"], 450);
    EXPECT_EQ(page["done"], false);
    ASSERT_EQ(page["records"].size(), 200u);
    const std::string next1 = page["nextRecordsUrl"];
    EXPECT_TRUE(
        std::regex_match(next1, std::regex(R"(^/services/data/v60\.0/query/01g[0-9A-Za-z]+-200$)")))
        << next1;
    EXPECT_EQ(page["records"][0]["attributes"]["type"], "Contact");
    EXPECT_EQ(page["records"][0]["attributes"]["url"],
              "/services/data/v60.0/sobjects/Contact/" + ids[0]);
    EXPECT_EQ(page["records"][0]["Id"], ids[0]);

    // Changes after the query must not show up in its later pages.
    sf.update("Contact", ids[300], {{"LastName", "Changed"}});
    sf.remove("Contact", ids[250]);
    sf.insert("Contact", {{"LastName", "Newcomer"}});

    r = get(next1);
    ASSERT_EQ(r.status, 200u) << r.body;
    page = r.json();
    EXPECT_EQ(page["totalSize"], 450);
    EXPECT_EQ(page["done"], false);
    ASSERT_EQ(page["records"].size(), 200u);
    EXPECT_EQ(page["records"][50]["Id"], ids[250]);       // deleted after the snapshot: still here
    EXPECT_EQ(page["records"][100]["LastName"], "C300");  // updated after it: old value
    const std::string next2 = page["nextRecordsUrl"];
    EXPECT_TRUE(next2.ends_with("-400")) << next2;

    r = get(next2);
    page = r.json();
    EXPECT_EQ(page["done"], true);
    EXPECT_FALSE(page.contains("nextRecordsUrl"));
    ASSERT_EQ(page["records"].size(), 50u);
    EXPECT_EQ(page["records"][0]["LastName"], "C400");
    for (const auto& rec : page["records"])
        EXPECT_NE(rec["LastName"], "Newcomer");

    // A finished cursor is released; a made-up one was never there.
    expect_error(get(next1), 400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    expect_error(get("/services/data/v60.0/query/01gFAKE000000000000-200"),
                 400,
                 "INVALID_QUERY_LOCATOR",
                 "invalid");
    // A new query sees the changes.
    EXPECT_EQ(records("SELECT LastName FROM Contact WHERE Id = '" + ids[300] + "'")[0]["LastName"],
              "Changed");
}

TEST_F(salesforce_test, batch_size_defaults_and_limits) {
    for (int i = 0; i < 2100; ++i)
        sf.insert("Account", {{"Name", "A" + std::to_string(i)}});
    auto page = query("SELECT Id FROM Account").json();
    EXPECT_EQ(page["records"].size(), 2000u);  // default 2000
    page = query("SELECT Id FROM Account", {{"Sforce-Query-Options", "batchSize=50"}}).json();
    EXPECT_EQ(page["records"].size(), 200u);  // minimum 200
    sf.set_max_page_size(500);                // "not guaranteed": Salesforce may send fewer
    page = query("SELECT Id FROM Account", {{"Sforce-Query-Options", "batchSize=1000"}}).json();
    EXPECT_EQ(page["records"].size(), 500u);
    EXPECT_TRUE(page["nextRecordsUrl"].get<std::string>().ends_with("-500"));
    page = query("SELECT Id FROM Account LIMIT 10").json();
    EXPECT_EQ(page["records"].size(), 10u);
    EXPECT_EQ(page["totalSize"], 10);
    EXPECT_EQ(page["done"], true);
    page = query("SELECT COUNT() FROM Account").json();
    EXPECT_EQ(page["totalSize"], 2100);
    EXPECT_TRUE(page["records"].empty());
}

TEST_F(salesforce_test, cursors_expire) {
    for (int i = 0; i < 300; ++i)
        sf.insert("Account", {{"Name", "A" + std::to_string(i)}});
    const auto page =
        query("SELECT Id FROM Account", {{"Sforce-Query-Options", "batchSize=200"}}).json();
    const std::string next = page["nextRecordsUrl"];
    clock.advance(std::chrono::minutes(16));
    expect_error(get(next), 400, "INVALID_QUERY_LOCATOR", "invalid query locator");

    const auto again =
        query("SELECT Id FROM Account", {{"Sforce-Query-Options", "batchSize=200"}}).json();
    sf.expire_cursors();
    expect_error(get(again["nextRecordsUrl"]), 400, "INVALID_QUERY_LOCATOR", "invalid");
}

TEST_F(salesforce_test, datetime_comparisons_ignore_milliseconds) {
    const std::string id =
        sf.insert("Contact", {{"LastName", "Edge"}}, timestamp{at("2024-01-01T12:00:00.900Z")});
    auto recs = records(
        "SELECT Id, SystemModstamp FROM Contact "
        "WHERE SystemModstamp = 2024-01-01T12:00:00Z");
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0]["Id"], id);
    EXPECT_EQ(recs[0]["SystemModstamp"], "2024-01-01T12:00:00.000+0000");
    EXPECT_EQ(records("SELECT Id FROM Contact WHERE SystemModstamp > 2024-01-01T12:00:00Z").size(),
              0u);
    EXPECT_EQ(records("SELECT Id FROM Contact WHERE SystemModstamp >= 2024-01-01T12:00:00Z").size(),
              1u);
    EXPECT_EQ(records("SELECT Id FROM Contact WHERE SystemModstamp < 2024-01-01T12:00:01Z").size(),
              1u);
    EXPECT_EQ(records("SELECT Id FROM Contact WHERE SystemModstamp <= 2024-01-01T11:59:59Z").size(),
              0u);
    EXPECT_EQ(
        records("SELECT Id FROM Contact WHERE SystemModstamp = 2024-01-01T14:00:00+02:00").size(),
        1u);
    EXPECT_EQ(
        records("SELECT Id FROM Contact WHERE SystemModstamp = 2024-01-01T04:00:00-0800").size(),
        1u);
    EXPECT_EQ(
        records("SELECT Id FROM Contact WHERE SystemModstamp = 2024-01-01T12:00:00.000Z").size(),
        1u);
}

TEST_F(salesforce_test, order_by_system_modstamp_then_id) {
    const auto t = timestamp{at("2024-01-01T12:00:00Z")};
    const auto r1 =
        sf.insert("Contact", {{"LastName", "R1"}}, timestamp{t.at + std::chrono::seconds(10)});
    const auto r2 = sf.insert("Contact", {{"LastName", "R2"}}, t);
    const auto r3 = sf.insert("Contact", {{"LastName", "R3"}}, t);
    const auto r4 =
        sf.insert("Contact", {{"LastName", "R4"}}, timestamp{t.at + std::chrono::seconds(5)});
    auto ids = [&](const json& recs) {
        std::vector<std::string> out;
        for (const auto& r : recs)
            out.push_back(r["Id"]);
        return out;
    };
    EXPECT_EQ(ids(records("SELECT Id FROM Contact ORDER BY SystemModstamp, Id")),
              (std::vector<std::string>{r2, r3, r4, r1}));
    EXPECT_EQ(ids(records("SELECT Id FROM Contact ORDER BY SystemModstamp DESC, Id DESC")),
              (std::vector<std::string>{r1, r4, r3, r2}));
    EXPECT_EQ(ids(records("SELECT Id FROM Contact WHERE SystemModstamp > 2024-01-01T12:00:00Z "
                          "OR (SystemModstamp = 2024-01-01T12:00:00Z AND Id > '" +
                          r2 +
                          "') "
                          "ORDER BY SystemModstamp ASC, Id ASC")),
              (std::vector<std::string>{r3, r4, r1}));
    // Ids are 18 characters, key prefix 003, case-safe suffix.
    EXPECT_EQ(r1.size(), 18u);
    EXPECT_TRUE(r1.starts_with("003"));
    // The 15-character form matches too.
    EXPECT_EQ(records("SELECT Id FROM Contact WHERE Id = '" + r1.substr(0, 15) + "'").size(), 1u);
}

TEST_F(salesforce_test, query_all_shows_deleted_rows) {
    const auto keep = sf.insert("Contact", {{"LastName", "Keep"}});
    const auto gone = sf.insert("Contact", {{"LastName", "Gone"}});
    sf.remove("Contact", gone);
    EXPECT_EQ(records("SELECT Id FROM Contact").size(), 1u);
    const auto all = records("SELECT Id, IsDeleted FROM Contact ORDER BY Id", "queryAll");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0]["Id"], keep);
    EXPECT_EQ(all[0]["IsDeleted"], false);
    EXPECT_EQ(all[1]["IsDeleted"], true);
    EXPECT_EQ(records("SELECT Id FROM Contact WHERE IsDeleted = true", "queryAll").size(), 1u);
    EXPECT_EQ(records("SELECT Id FROM Contact WHERE IsDeleted = true").size(), 0u);
    sf.purge("Contact", gone);
    EXPECT_EQ(records("SELECT Id FROM Contact", "queryAll").size(), 1u);

    // queryAll pages continue through .../query/<locator> [SF-QUERYALL].
    for (int i = 0; i < 250; ++i)
        sf.remove("Contact", sf.insert("Contact", {{"LastName", "D"}}));
    const auto page =
        query("SELECT Id FROM Contact", {{"Sforce-Query-Options", "batchSize=200"}}, "queryAll")
            .json();
    EXPECT_EQ(page["totalSize"], 251);
    const std::string next = page["nextRecordsUrl"];
    EXPECT_NE(next.find("/query/"), std::string::npos);
    EXPECT_EQ(get(next).json()["records"].size(), 51u);
}

TEST_F(salesforce_test, query_errors_use_salesforce_codes) {
    expect_error(query("SELECT Id, foo__c FROM Contact"),
                 400,
                 "INVALID_FIELD",
                 "No such column 'foo__c' on entity 'Contact'");
    expect_error(query("SELECT Id FROM Foo__c"),
                 400,
                 "INVALID_TYPE",
                 "sObject type 'Foo__c' is not supported");
    expect_error(query("SELEC Id FROM Contact"), 400, "MALFORMED_QUERY", "unexpected token");
    expect_error(
        query("SELECT Id FROM Contact WHERE LastName = 'a' AND Email = 'b' OR Title = 'c'"),
        400,
        "MALFORMED_QUERY",
        "unexpected token: 'OR'");
    expect_error(query("SELECT Id FROM Contact WHERE SystemModstamp > '2024-01-01T00:00:00Z'"),
                 400,
                 "INVALID_FIELD",
                 "must be of type dateTime and should not be enclosed in quotes");
    expect_error(query("SELECT Id FROM Contact WHERE LastName = 5"),
                 400,
                 "INVALID_FIELD",
                 "must be of type string and should be enclosed in quotes");
    expect_error(query("SELECT Id FROM Contact WHERE Birthdate > 2024-01-01T00:00:00Z"),
                 400,
                 "INVALID_FIELD",
                 "must be of type date");
    expect_error(query("SELECT Id FROM Contact WHERE Id = 'abc'"),
                 400,
                 "INVALID_QUERY_FILTER_OPERATOR",
                 "invalid ID field: abc");
    expect_error(query("SELECT Id FROM Contact WHERE Nope.Name = 'x'"),
                 400,
                 "INVALID_FIELD",
                 "Didn't understand relationship 'Nope'");
    expect_error(
        query("SELECT Id, Id FROM Contact"), 400, "MALFORMED_QUERY", "duplicate field selected");
    expect_error(get("/services/data/v60.0/query"), 400, "MALFORMED_QUERY", "query string");
    const auto r = query("SELECT Id, foo__c FROM Contact");
    EXPECT_TRUE(r.json()[0]["message"].get<std::string>().starts_with(
        "\nSELECT Id, foo__c FROM Contact\n" + std::string(11, ' ') +
        "^\nERROR at Row:1:Column:12\nNo such column 'foo__c' on entity 'Contact'. If you"))
        << r.body;
    EXPECT_EQ(sf.queries().back(), "SELECT Id, foo__c FROM Contact");
    EXPECT_EQ(r.header("sforce-limit-info").rfind("api-usage=", 0), 0u);  // errors count too
}

TEST_F(salesforce_test, where_clause_operators) {
    sf.insert("Contact",
              {{"LastName", "Smith"},
               {"Email", "a@example.com"},
               {"Lead_Score__c", 10.0},
               {"Salutation", "Mr."},
               {"Birthdate", "1980-05-01"}});
    sf.insert("Contact",
              {{"LastName", "O'Brien"},
               {"Email", "b@example.org"},
               {"Lead_Score__c", 55.5},
               {"Salutation", "Dr."}});
    sf.insert("Contact", {{"LastName", "smith"}, {"Email", nullptr}, {"HasOptedOutOfEmail", true}});
    auto count = [&](const std::string& where) {
        return records("SELECT Id FROM Contact WHERE " + where).size();
    };
    EXPECT_EQ(count("LastName = 'SMITH'"), 2u);  // case-insensitive
    EXPECT_EQ(count("LastName = 'O\\'Brien'"), 1u);
    EXPECT_EQ(count("Email != null"), 2u);
    EXPECT_EQ(count("Email = null"), 1u);
    EXPECT_EQ(count("Email != 'a@example.com'"), 2u);  // null rows included, as in SOQL
    EXPECT_EQ(count("Lead_Score__c > 20"), 1u);
    EXPECT_EQ(count("Lead_Score__c < 100"), 2u);  // null never compares
    EXPECT_EQ(count("Salutation IN ('Mr.', 'Ms.')"), 1u);
    EXPECT_EQ(count("Salutation NOT IN ('Mr.')"), 2u);
    EXPECT_EQ(count("Email LIKE '%@example.%'"), 2u);
    EXPECT_EQ(count("Email LIKE 'a\\_%'"), 0u);
    EXPECT_EQ(count("NOT LastName = 'smith'"), 1u);
    EXPECT_EQ(count("(LastName = 'smith' OR Lead_Score__c > 50) AND Email != null"), 2u);
    EXPECT_EQ(count("Birthdate < 1990-01-01"), 1u);
    EXPECT_EQ(count("HasOptedOutOfEmail = true"), 1u);
}

TEST_F(salesforce_test, relationship_fields_nest) {
    const auto acme = sf.insert("Account", {{"Name", "Acme"}});
    const auto with = sf.insert("Contact", {{"LastName", "A"}, {"AccountId", acme}});
    sf.insert("Contact", {{"LastName", "B"}});
    const auto recs =
        records("SELECT Id, Account.Name, LastName, Account.Id FROM Contact ORDER BY LastName");
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0]["Id"], with);
    EXPECT_EQ(recs[0]["Account"]["attributes"]["type"], "Account");
    EXPECT_EQ(recs[0]["Account"]["Name"], "Acme");
    EXPECT_EQ(recs[0]["Account"]["Id"], acme);
    EXPECT_TRUE(recs[1]["Account"].is_null());
    // Keys follow the select list.
    std::vector<std::string> keys;
    const auto raw = nlohmann::ordered_json::parse(
        query("SELECT Id, Account.Name, LastName FROM Contact ORDER BY LastName").body);
    for (const auto& [k, v] : raw["records"][0].items())
        keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"attributes", "Id", "Account", "LastName"}));
    EXPECT_EQ(records("SELECT Id FROM Contact WHERE Account.Name = 'acme'").size(), 1u);
}

TEST_F(salesforce_test, late_commit_surfaces_with_an_old_modstamp) {
    sf.insert("Contact", {{"LastName", "Early"}}, timestamp{at("2024-03-01T11:00:00Z")});
    const std::string soql = "SELECT Id FROM Contact WHERE SystemModstamp > 2024-03-01T10:59:00Z";
    EXPECT_EQ(records(soql).size(), 1u);
    sf.insert_late("Contact", {{"LastName", "Late"}}, timestamp{at("2024-03-01T10:59:30Z")});
    EXPECT_EQ(records(soql).size(), 2u);
    EXPECT_EQ(records("SELECT Id FROM Contact WHERE SystemModstamp > 2024-03-01T11:00:00Z").size(),
              0u);
}

TEST_F(salesforce_test, update_and_convert_move_system_modstamp) {
    const auto id =
        sf.insert("Lead", {{"LastName", "L"}, {"Company", "Initech"}, {"Email", "l@example.com"}});
    clock.advance(std::chrono::minutes(5));
    sf.update("Lead", id, {{"Title", "CTO"}});
    auto rec = *sf.get("Lead", id);
    EXPECT_EQ(rec["SystemModstamp"], "2024-03-01T12:05:00.000+0000");
    EXPECT_EQ(rec["Status"], "Open - Not Contacted");
    clock.advance(std::chrono::minutes(5));
    const auto contact = sf.convert_lead(id);
    rec = *sf.get("Lead", id);
    EXPECT_EQ(rec["IsConverted"], true);
    EXPECT_EQ(rec["ConvertedContactId"], contact);
    EXPECT_EQ(rec["ConvertedDate"], "2024-03-01");
    EXPECT_EQ(rec["SystemModstamp"], "2024-03-01T12:10:00.000+0000");
    EXPECT_EQ((*sf.get("Contact", contact))["Email"], "l@example.com");
    const auto recs =
        records("SELECT Id, ConvertedContact.Email FROM Lead WHERE IsConverted = true");
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0]["ConvertedContact"]["Email"], "l@example.com");
    EXPECT_THROW(sf.insert("Contact", {{"Nope__c", 1}}), std::invalid_argument);
    EXPECT_THROW(sf.update("Contact", "003000000000000AAA", {{"LastName", "x"}}),
                 std::invalid_argument);
}

// ---- limits -----------------------------------------------------------------------------------

TEST_F(salesforce_test, limit_header_counts_and_refuses_at_the_limit) {
    sf.set_daily_limit(5);
    for (int i = 1; i <= 5; ++i) {
        const auto r = get("/services/data/v60.0/limits/");
        ASSERT_EQ(r.status, 200u);
        EXPECT_EQ(r.header("sforce-limit-info"), "api-usage=" + std::to_string(i) + "/5");
        EXPECT_EQ(r.json()["DailyApiRequests"]["Max"], 5);
        EXPECT_EQ(r.json()["DailyApiRequests"]["Remaining"], 5 - i);
    }
    auto r = query("SELECT Id FROM Contact");
    expect_error(r, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
    EXPECT_EQ(r.header("sforce-limit-info"), "api-usage=5/5");
    EXPECT_EQ(sf.api_calls(), 5);
    // The allocation is a rolling 24 h.
    clock.advance(std::chrono::hours(24) + std::chrono::seconds(1));
    EXPECT_EQ(get("/services/data/v60.0/limits").status, 200u);
    sf.set_api_usage(4990);
    sf.set_daily_limit(5000);
    EXPECT_EQ(get("/services/data/v60.0/limits").header("sforce-limit-info"),
              "api-usage=4991/5000");
    // The versions resource is outside the API count.
    r = test::request("GET", sf.base_url() + "/services/data");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("sforce-limit-info"), "");
}

// ---- describe ---------------------------------------------------------------------------------

TEST_F(salesforce_test, describe_reports_fields_and_drift) {
    auto r = get("/services/data/v60.0/sobjects/Contact/describe/");
    ASSERT_EQ(r.status, 200u);
    json d = r.json();
    EXPECT_EQ(d["name"], "Contact");
    EXPECT_EQ(d["keyPrefix"], "003");
    EXPECT_EQ(d["queryable"], true);
    auto field = [&](const json& desc, const std::string& name) {
        for (const auto& f : desc["fields"]) {
            if (f["name"] == name)
                return f;
        }
        return json();
    };
    const json sal = field(d, "Salutation");
    EXPECT_EQ(sal["type"], "picklist");
    ASSERT_EQ(sal["picklistValues"].size(), 5u);
    EXPECT_EQ(sal["picklistValues"][3],
              (json{{"active", true},
                    {"defaultValue", false},
                    {"label", "Dr."},
                    {"validFor", nullptr},
                    {"value", "Dr."}}));
    EXPECT_EQ(field(d, "Email")["type"], "email");
    EXPECT_EQ(field(d, "Email")["length"], 80);
    EXPECT_EQ(field(d, "AccountId")["referenceTo"], json::array({"Account"}));
    EXPECT_EQ(field(d, "AccountId")["relationshipName"], "Account");
    EXPECT_EQ(field(d, "Birthdate")["type"], "date");
    EXPECT_EQ(field(d, "SystemModstamp")["type"], "datetime");
    EXPECT_EQ(field(d, "City_U__c")["custom"], true);
    EXPECT_EQ(field(d, "Lead_Score__c")["type"], "double");
    EXPECT_EQ(get("/services/data/v60.0/sobjects/Lead/describe").status, 200u);

    r = get("/services/data/v60.0/sobjects/Nope__c/describe/");
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(
        r.json(),
        json::parse(
            R"([{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}])"));

    sf.remove_field("Contact", "City_U__c");
    d = get("/services/data/v60.0/sobjects/Contact/describe").json();
    EXPECT_TRUE(field(d, "City_U__c").is_null());
    expect_error(query("SELECT Id, City_U__c FROM Contact"), 400, "INVALID_FIELD", "City_U__c");

    sf.define_object({.name = "Invoice__c",
                      .fields = {{.name = "Amount__c", .type = "currency"},
                                 {.name = "Contact__c",
                                  .type = "reference",
                                  .reference_to = "Contact",
                                  .relationship_name = "Contact__r"}}});
    const auto c = sf.insert("Contact", {{"LastName", "Payer"}});
    const auto inv = sf.insert("Invoice__c", {{"Amount__c", 12.5}, {"Contact__c", c}});
    EXPECT_TRUE(inv.starts_with("a0"));
    const auto recs = records("SELECT Id, Amount__c, Contact__r.LastName FROM Invoice__c");
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0]["Contact__r"]["LastName"], "Payer");
    sf.add_field("Invoice__c", {.name = "Paid__c", .type = "boolean"});
    EXPECT_EQ(records("SELECT Paid__c FROM Invoice__c")[0]["Paid__c"], nullptr);
    const auto global = get("/services/data/v60.0/sobjects").json();
    EXPECT_EQ(global["sobjects"].size(), 4u);
}

TEST_F(salesforce_test, record_resource_and_unknown_paths) {
    const auto id = sf.insert("Contact", {{"LastName", "R"}, {"Birthdate", "1990-02-03"}});
    auto r = get("/services/data/v60.0/sobjects/Contact/" + id);
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(r.json()["Birthdate"], "1990-02-03");
    EXPECT_EQ(r.json()["IsDeleted"], false);
    EXPECT_EQ(get("/services/data/v60.0/sobjects/Contact/003000000000000AAA").status, 404u);
    EXPECT_EQ(get("/services/data/v60.0/nothing-here").status, 404u);
    r = test::request("POST",
                      sf.base_url() + "/services/data/v60.0/query?q=x",
                      "{}",
                      {{"Authorization", "Bearer " + token}});
    expect_error(r, 405, "METHOD_NOT_ALLOWED", "POST");
}

// ---- faults -----------------------------------------------------------------------------------

TEST_F(salesforce_test, fault_script_is_consumed_in_order) {
    sf.fail_next("/services/data",
                 {fault_spec::http(503, "<html><body>Service Unavailable</body></html>"),
                  fault_spec::vendor("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access"),
                  fault_spec::connection_reset(),
                  fault_spec::truncated_body(),
                  fault_spec::garbled_json(),
                  fault_spec::pass(),
                  fault_spec::hang(std::chrono::milliseconds(1500))});
    EXPECT_EQ(sf.pending_faults(), 7u);
    const std::string target = "/services/data/v60.0/limits";

    auto r = get(target);
    EXPECT_EQ(r.status, 503u);
    EXPECT_EQ(r.header("content-type"), "text/html");
    r = get(target);
    expect_error(r, 500, "UNABLE_TO_LOCK_ROW", "exclusive access");
    r = get(target);
    EXPECT_TRUE(r.ec) << "reset expected";
    EXPECT_EQ(r.status, 0u);
    r = get(target);
    EXPECT_TRUE(r.ec) << "truncated body expected";
    r = get(target);
    EXPECT_EQ(r.status, 200u);
    EXPECT_TRUE(json::parse(r.body, nullptr, false).is_discarded());
    r = get(target);
    EXPECT_EQ(r.status, 200u);
    EXPECT_FALSE(json::parse(r.body, nullptr, false).is_discarded());
    r = test::request("GET",
                      sf.base_url() + target,
                      {},
                      {{"Authorization", "Bearer " + token}},
                      std::chrono::milliseconds(300));
    EXPECT_TRUE(r.ec) << "the hang must outlast a short deadline";
    EXPECT_EQ(sf.pending_faults(), 0u);
    EXPECT_EQ(get(target).status, 200u);
    // Refused faults never reached the API; executed ones (truncate, garbled, pass, hang) did.
    EXPECT_EQ(sf.api_calls(), 5);

    sf.fail_next("/services/oauth2/token", {fault_spec::http(502, "bad gateway", "text/plain")});
    EXPECT_EQ(token_request({{"grant_type", "client_credentials"}}).status, 502u);
}

TEST_F(salesforce_test, scripted_token_expiry_and_429_with_retry_after) {
    sf.fail_next(
        "/services/data",
        {fault_spec::token_expiry(), fault_spec::too_many_requests(std::chrono::seconds(2))});
    const std::string target = "/services/data/v60.0/limits";
    expect_error(get(target), 401, "INVALID_SESSION_ID", "Session expired");
    const auto t = token_request({{"grant_type", "client_credentials"},
                                  {"client_id", "fake-sf-client"},
                                  {"client_secret", "fake-sf-secret"}});
    ASSERT_EQ(t.status, 200u) << t.body;
    token = t.json()["access_token"].get<std::string>();
    const auto r = get(target);
    EXPECT_EQ(r.status, 429u);
    EXPECT_EQ(r.header("retry-after"), "2");
    EXPECT_EQ(get(target).status, 200u);
    EXPECT_EQ(sf.pending_faults(), 0u);
}

}  // namespace
}  // namespace crmsync::fakes

// ---- Bulk API 2.0 query jobs (api-reference §1.10) -------------------------------------------

namespace crmsync::fakes {
namespace {

class salesforce_bulk_test : public salesforce_test {
protected:
    http_result post_job(const json& body) {
        return test::request(
            "POST",
            sf.base_url() + "/services/data/v60.0/jobs/query",
            body.dump(),
            {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
    }
    std::string job(const std::string& soql, json extra = json::object()) {
        extra["operation"] = extra.value("operation", "query");
        extra["query"] = soql;
        const auto r = post_job(extra);
        EXPECT_EQ(r.status, 200u) << r.body;
        return r.json()["id"].get<std::string>();
    }
    std::string poll(const std::string& id) {
        const auto r = get("/services/data/v60.0/jobs/query/" + id);
        EXPECT_EQ(r.status, 200u) << r.body;
        return r.json()["state"].get<std::string>();
    }
};

TEST_F(salesforce_bulk_test, a_job_moves_through_its_states_and_results_wait_for_completion) {
    sf.insert("Contact", {{"LastName", "Dunn"}, {"FirstName", "Jane"}});
    const auto r =
        post_job({{"operation", "query"}, {"query", "SELECT Id, LastName FROM Contact"}});
    ASSERT_EQ(r.status, 200u) << r.body;
    const auto created = r.json();
    // The creation answer's fields ([SF-BULK2-WALK], api-fixtures bulk2_query_job_create_response).
    for (const char* k : {"id",
                          "operation",
                          "object",
                          "createdById",
                          "createdDate",
                          "systemModstamp",
                          "state",
                          "concurrencyMode",
                          "contentType",
                          "apiVersion",
                          "lineEnding",
                          "columnDelimiter"})
        EXPECT_TRUE(created.contains(k)) << k;
    EXPECT_EQ(created["state"], "UploadComplete");
    EXPECT_EQ(created["object"], "Contact");
    EXPECT_EQ(created["lineEnding"], "LF");
    EXPECT_EQ(created["columnDelimiter"], "COMMA");
    const std::string id = created["id"];
    const std::string results = "/services/data/v60.0/jobs/query/" + id + "/results";
    expect_error(get(results), 412, "JOB_NOT_COMPLETE", "Current status: UPLOAD_COMPLETE");
    EXPECT_EQ(poll(id), "InProgress");
    expect_error(get(results), 412, "JOB_NOT_COMPLETE", "Current status: IN_PROGRESS");
    EXPECT_EQ(poll(id), "JobComplete");
    const auto info = get("/services/data/v60.0/jobs/query/" + id).json();
    EXPECT_EQ(info["numberRecordsProcessed"], 1);
    EXPECT_EQ(info["jobType"], "V2Query");
    const auto set = get(results);
    ASSERT_EQ(set.status, 200u) << set.body;
    EXPECT_EQ(set.header("content-type"), "text/csv");
    EXPECT_EQ(set.header("sforce-numberofrecords"), "1");
    EXPECT_EQ(set.header("sforce-locator"), "null");
    EXPECT_EQ(set.body.substr(0, 18), "\"Id\",\"LastName\"\n\"0");
    EXPECT_NE(set.body.find(",\"Dunn\"\n"), std::string::npos) << set.body;
    // Read with another API version than the job's: 409 [SF-BULK2-RES].
    EXPECT_EQ(get("/services/data/v61.0/jobs/query/" + id + "/results").status, 409u);
    EXPECT_EQ(get("/services/data/v60.0/jobs/query/750nope").status, 404u);
}

// Get Information About All Query Jobs and Abort a Query Job (Bulk API 2.0 guide,
// query_get_all_jobs.htm and query_abort_job.htm).
TEST_F(salesforce_bulk_test, jobs_are_listed_page_by_page_and_abort_only_while_running) {
    sf.insert("Contact", {{"LastName", "Dunn"}});
    const auto a = job("SELECT Id FROM Contact");
    const auto b = job("SELECT Id FROM Contact", {{"operation", "queryAll"}});
    const auto c = job("SELECT Id FROM Contact");
    sf.set_job_list_page_size(2);
    auto page = get("/services/data/v60.0/jobs/query?jobType=V2Query");
    ASSERT_EQ(page.status, 200u) << page.body;
    auto body = page.json();
    EXPECT_EQ(body["done"], false);
    ASSERT_EQ(body["records"].size(), 2u);
    std::set<std::string> seen;
    for (const auto& j : body["records"]) {
        seen.insert(j["id"].get<std::string>());
        EXPECT_EQ(j["jobType"], "V2Query");
        EXPECT_EQ(j["object"], "Contact");
        EXPECT_TRUE(j.contains("createdById") && j.contains("createdDate")) << j.dump();
        EXPECT_FALSE(j.contains("query")) << "the listing carries no query text";
    }
    const std::string next = body["nextRecordsUrl"];
    EXPECT_EQ(next.rfind("/services/data/v60.0/jobs/query?queryLocator=", 0), 0u) << next;
    page = get(next);
    ASSERT_EQ(page.status, 200u) << page.body;
    body = page.json();
    EXPECT_EQ(body["done"], true);
    EXPECT_TRUE(body["nextRecordsUrl"].is_null());
    ASSERT_EQ(body["records"].size(), 1u);
    seen.insert(body["records"][0]["id"].get<std::string>());
    EXPECT_EQ(seen, (std::set<std::string>{a, b, c}));
    EXPECT_TRUE(get("/services/data/v60.0/jobs/query?jobType=V2Ingest").json()["records"].empty());
    expect_error(get("/services/data/v60.0/jobs/query?queryLocator=01gmadeup-2"),
                 400,
                 "INVALID_QUERY_LOCATOR",
                 "invalid query locator");

    auto patch = [&](const std::string& id, const json& body) {
        return test::request(
            "PATCH",
            sf.base_url() + "/services/data/v60.0/jobs/query/" + id,
            body.dump(),
            {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
    };
    auto r = patch(a, {{"state", "Aborted"}});
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.json()["state"], "Aborted");
    EXPECT_EQ(poll(a), "Aborted") << "an aborted job stays aborted";
    expect_error(patch(a, {{"state", "Aborted"}}), 400, "INVALIDJOBSTATE", "cannot be aborted");
    EXPECT_EQ(poll(c), "InProgress");
    EXPECT_EQ(patch(c, {{"state", "Aborted"}}).status, 200u) << "InProgress aborts too";
    EXPECT_EQ(poll(b), "InProgress");
    EXPECT_EQ(poll(b), "JobComplete");
    expect_error(patch(b, {{"state", "Aborted"}}), 400, "INVALIDJOBSTATE", "cannot be aborted");
    expect_error(patch(b, {{"state", "Open"}}), 400, "INVALIDJOB", "Aborted");
    EXPECT_EQ(patch("750nope", {{"state", "Aborted"}}).status, 404u);
    const auto states = sf.bulk_jobs();
    ASSERT_EQ(states.size(), 3u);
    EXPECT_EQ(states[0], std::make_pair(a, std::string("Aborted")));
    EXPECT_EQ(states[1], std::make_pair(b, std::string("JobComplete")));
    EXPECT_EQ(states[2], std::make_pair(c, std::string("Aborted")));
}

TEST_F(salesforce_bulk_test, result_sets_page_by_locator_until_the_string_null) {
    for (int i = 0; i < 5; ++i)
        sf.insert("Contact", {{"LastName", "L" + std::to_string(i)}});
    const auto id = job("SELECT Id, LastName FROM Contact");
    poll(id);
    poll(id);
    const std::string results = "/services/data/v60.0/jobs/query/" + id + "/results";
    std::set<std::string> names;
    std::string locator;
    int sets = 0;
    for (;;) {
        const auto r =
            get(results + "?maxRecords=2" + (locator.empty() ? "" : "&locator=" + locator));
        ASSERT_EQ(r.status, 200u) << r.body;
        ++sets;
        std::istringstream lines(r.body);
        std::string line;
        std::getline(lines, line);
        EXPECT_EQ(line, "\"Id\",\"LastName\"") << "every set has the header";
        while (std::getline(lines, line))
            names.insert(line.substr(line.find(',') + 1));
        locator = r.header("sforce-locator");
        if (locator == "null")
            break;
        EXPECT_NE(locator.find_first_not_of("0123456789"), std::string::npos)
            << "pseudo-random locators, not offsets";
    }
    EXPECT_EQ(sets, 3);
    EXPECT_EQ(names.size(), 5u);
    EXPECT_EQ(get(results + "?locator=bogus").status, 400u);
    EXPECT_EQ(get(results + "?maxRecords=0").status, 400u);
}

TEST_F(salesforce_bulk_test, csv_follows_the_jobs_delimiter_line_ending_nulls_and_quotes) {
    sf.insert("Contact",
              {{"LastName", "Dunn, \"JD\""}, {"Email", "j@x.com"}},
              timestamp::parse("2024-03-01T11:00:00Z"));
    sf.insert("Contact", {{"LastName", "Solo"}}, timestamp::parse("2024-03-01T11:00:01Z"));
    const auto id = job("SELECT LastName, Email, SystemModstamp FROM Contact ORDER BY LastName",
                        {{"columnDelimiter", "PIPE"}, {"lineEnding", "CRLF"}});
    poll(id);
    poll(id);
    const auto r = get("/services/data/v60.0/jobs/query/" + id + "/results");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.body,
              "\"LastName\"|\"Email\"|\"SystemModstamp\"\r\n"
              "\"Dunn, \"\"JD\"\"\"|\"j@x.com\"|\"2024-03-01T11:00:00.000Z\"\r\n"
              "\"Solo\"||\"2024-03-01T11:00:01.000Z\"\r\n");
}

TEST_F(salesforce_bulk_test, queryall_jobs_include_deleted_rows) {
    const auto gone = sf.insert("Contact", {{"LastName", "Gone"}});
    sf.insert("Contact", {{"LastName", "Here"}});
    sf.remove("Contact", gone);
    for (const char* op : {"query", "queryAll"}) {
        const auto id = job("SELECT Id, IsDeleted FROM Contact", {{"operation", op}});
        poll(id);
        poll(id);
        const auto r = get("/services/data/v60.0/jobs/query/" + id + "/results");
        EXPECT_EQ(r.header("sforce-numberofrecords"), std::string(op) == "query" ? "1" : "2");
    }
}

TEST_F(salesforce_bulk_test, refusals_and_failed_jobs) {
    sf.insert("Contact", {{"LastName", "A"}});
    expect_error(post_job({{"operation", "query"}, {"query", "SELECT COUNT() FROM Contact"}}),
                 400,
                 "API_ERROR",
                 "not supported");
    expect_error(post_job({{"operation", "query"}, {"query", "SELECT Nope__c FROM Contact"}}),
                 400,
                 "INVALID_FIELD",
                 "Nope__c");
    expect_error(post_job({{"operation", "upsert"}, {"query", "SELECT Id FROM Contact"}}),
                 400,
                 "INVALIDJOB",
                 "operation");
    sf.set_bulk_unsupported("Contact");
    expect_error(post_job({{"operation", "query"}, {"query", "SELECT Id FROM Contact"}}),
                 400,
                 "INVALIDENTITY",
                 "not supported by the Bulk API");
    sf.set_bulk_unsupported("Nothing");
    fake_salesforce other{options()};
    other.insert("Contact", {{"LastName", "A"}});
    other.set_bulk_job_outcome(2, "Failed", "InvalidBatch : Failed to process query");
    token = other.issue_token();
    const auto r =
        test::request("POST",
                      other.base_url() + "/services/data/v60.0/jobs/query",
                      json{{"operation", "query"}, {"query", "SELECT Id FROM Contact"}}.dump(),
                      {{"Authorization", "Bearer " + token}});
    ASSERT_EQ(r.status, 200u) << r.body;
    const std::string id = r.json()["id"];
    auto state = [&] {
        return test::request("GET",
                             other.base_url() + "/services/data/v60.0/jobs/query/" + id,
                             {},
                             {{"Authorization", "Bearer " + token}})
            .json();
    };
    EXPECT_EQ(state()["state"], "InProgress");
    EXPECT_EQ(state()["state"], "InProgress");
    const auto failed = state();
    EXPECT_EQ(failed["state"], "Failed");
    EXPECT_EQ(failed["errorMessage"], "InvalidBatch : Failed to process query");
    EXPECT_EQ(other.bulk_jobs_created(), 1u);
    EXPECT_EQ(other.bulk_queries(), (std::vector<std::string>{"SELECT Id FROM Contact"}));
    EXPECT_TRUE(other.queries().empty()) << "bulk jobs are not REST queries";
}

}  // namespace
}  // namespace crmsync::fakes
