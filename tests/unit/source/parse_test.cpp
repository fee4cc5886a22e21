#include "crmsync/source/salesforce/parse.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace crmsync::source::salesforce {
namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(CRMSYNC_FIXTURES) + "/salesforce/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(parse, token_from_the_documented_response) {
    const auto t = parse_token(fixture("oauth_token_response_client_credentials.json"));
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_FALSE(t->access_token.empty());
    EXPECT_FALSE(t->instance_url.empty());
    EXPECT_NE(t->instance_url.back(), '/');
}

TEST(parse, token_errors_are_values) {
    EXPECT_EQ(parse_token("{}").error().code, errc::bad_response);
    EXPECT_EQ(parse_token("not json").error().code, errc::bad_response);
    EXPECT_EQ(parse_token("[1]").error().code, errc::bad_response);
    EXPECT_EQ(parse_token(R"({"access_token":"x"})").error().code, errc::bad_response);
}

TEST(parse, query_page_extracts_columns_in_plan_order) {
    const std::string body = R"({"totalSize":3,"done":false,
      "nextRecordsUrl":"/services/data/v61.0/query/01gD0000002HU6KIAW-2000",
      "records":[
        {"attributes":{"type":"Contact","url":"/x"},"Id":"003A","SystemModstamp":"2026-11-23T09:00:00.000+0000",
         "Email":"a@example.com","Lead_Score__c":12.5,"HasOptedOutOfEmail":true,"MailingCity":null,
         "Account":{"attributes":{"type":"Account"},"Name":"Acme"}},
        {"attributes":{"type":"Contact","url":"/y"},"Id":"003B","SystemModstamp":"2026-11-23T09:00:00.900+0000",
         "Email":"b@example.com","Lead_Score__c":7,"HasOptedOutOfEmail":false,"Account":null}]})";
    const column_set cols(
        {"Email", "Lead_Score__c", "HasOptedOutOfEmail", "MailingCity", "Account.Name", "Id"});
    const auto page = parse_query_page(body, cols);
    ASSERT_TRUE(page) << page.error().message();
    EXPECT_EQ(page->total_size, 3);
    EXPECT_EQ(page->next_records_url, "/services/data/v61.0/query/01gD0000002HU6KIAW-2000");
    ASSERT_EQ(page->records.size(), 2u);
    const auto& a = page->records[0];
    EXPECT_EQ(a.id, "003A");
    EXPECT_EQ(a.system_modstamp.to_iso(), "2026-11-23T09:00:00.000Z");
    ASSERT_EQ(a.columns.size(), 6u);
    EXPECT_EQ(a.columns[0], value::string("a@example.com"));
    EXPECT_EQ(a.columns[1], value::number("12.5"));
    EXPECT_EQ(a.columns[2], value::boolean(true));
    EXPECT_TRUE(a.columns[3].is_null());
    EXPECT_EQ(a.columns[4], value::string("Acme"));
    EXPECT_EQ(a.columns[5], value::string("003A"));
    EXPECT_TRUE(page->records[1].columns[4].is_null());  // null relationship
    EXPECT_EQ(page->records[1].system_modstamp.to_iso(), "2026-11-23T09:00:00.900Z");
}

// parse_query_page reads pages with simdjson and falls back to reference_query_page (nlohmann)
// for anything else; both must read every page alike, down to how numbers print and which of
// two duplicate keys wins.
TEST(parse, fast_path_reads_every_page_as_the_reference_does) {
    const column_set cols({"Email",
                           "Lead_Score__c",
                           "HasOptedOutOfEmail",
                           "Account.Name",
                           "Account.Owner.Name",
                           "MailingAddress",
                           "Tags",
                           "Id"});
    auto page = [](std::string records, std::string tail = R"("done":true)") {
        return R"({"totalSize":2,)" + tail + R"(,"records":[)" + records + "]}";
    };
    auto rec = [](std::string id, std::string fields) {
        return R"({"attributes":{"type":"Contact"},"Id":")" + id +
               R"(","SystemModstamp":"2026-11-23T09:00:00.000+0000")" +
               (fields.empty() ? "" : "," + fields) + "}";
    };
    const std::vector<std::string> bodies = {
        page(rec("003A", R"("Lead_Score__c":12.50)") + "," + rec("003B", R"("Lead_Score__c":7)")),
        page(rec("003A", R"("Lead_Score__c":-3)") + "," + rec("003B", R"("Lead_Score__c":0)")),
        page(rec("003A", R"("Lead_Score__c":-0)") + "," + rec("003B", R"("Lead_Score__c":-0.0)")),
        page(rec("003A", R"("Lead_Score__c":1e2)") + "," + rec("003B", R"("Lead_Score__c":1E-7)")),
        page(rec("003A", R"("Lead_Score__c":0.1)") + "," +
             rec("003B", R"("Lead_Score__c":123456789012345678)")),
        page(rec("003A", R"("Lead_Score__c":18446744073709551615)") + "," +
             rec("003B", R"("Lead_Score__c":18446744073709551616)")),
        page(rec("003A", R"("Lead_Score__c":1.7976931348623157e308)")),
        page(rec("003A", R"("Email":"\u00e9\ud83d\ude00 \"q\" \\ \t\n")")),
        page(rec("003A", R"("Email":"a@x.com","Email":"b@x.com")")),
        page(rec("003A", R"("Account":{"Name":"Acme","Name":"Globex"})") + "," +
             rec("003B", R"("Account":{"Name":"Acme"},"Account":null)")),
        page(rec("003A", R"("Account":{"attributes":{},"Name":"Acme","Owner":{"Name":"Ann"}})") +
             "," + rec("003B", R"("Account":"not an object")")),
        page(rec("003A", R"("MailingAddress":{"street":"1 Main","city":"Paris","geo":[1,2.5]})")),
        page(rec("003A", R"("Tags":["b","a"],"HasOptedOutOfEmail":true)") + "," +
             rec("003B", R"("HasOptedOutOfEmail":false,"Tags":[])")),
        page(rec("003A", R"("Email":"a@x.com","IsDeleted":true)") + "," +
             rec("003B", R"("IsDeleted":"yes","Email":"b@x.com")")),
        page(rec("003A", ""),
             R"("done":false,"nextRecordsUrl":"/services/data/v61.0/query/01g-2")"),
        page(rec("003A", ""), R"("done":true,"totalSize":2.5)"),
        page(rec("003A", ""), R"("done":true,"done":false)"),
        page(rec("003A", R"("Id":"003Z")")),
        page(rec("003A", R"("SystemModstamp":"2026-11-23T09:00:01Z")")),
        page(""),
    };
    for (const auto& body : bodies) {
        const auto fast = parse_query_page(body, cols);
        const auto reference = reference_query_page(body, cols);
        ASSERT_EQ(fast.has_value(), reference.has_value()) << body;
        if (!fast) {
            EXPECT_EQ(fast.error().message(), reference.error().message()) << body;
            continue;
        }
        EXPECT_EQ(fast->total_size, reference->total_size) << body;
        EXPECT_EQ(fast->next_records_url, reference->next_records_url) << body;
        ASSERT_EQ(fast->records.size(), reference->records.size()) << body;
        for (std::size_t i = 0; i < fast->records.size(); ++i) {
            const auto& a = fast->records[i];
            const auto& b = reference->records[i];
            EXPECT_EQ(a.id, b.id) << body;
            EXPECT_EQ(a.system_modstamp.to_iso(), b.system_modstamp.to_iso()) << body;
            EXPECT_EQ(a.is_deleted, b.is_deleted) << body;
            ASSERT_EQ(a.columns.size(), b.columns.size()) << body;
            for (std::size_t c = 0; c < a.columns.size(); ++c) {
                EXPECT_EQ(a.columns[c], b.columns[c])
                    << body << " column " << c << ": '" << a.columns[c].text() << "' vs '"
                    << b.columns[c].text() << "'";
            }
        }
    }
}

// Doubles print as nlohmann prints them (the reference reader's rendering, and the one stored
// digests were made from): random bit patterns and decimal texts, through both readers. Every
// number has a point or an exponent, so simdjson reads them all as doubles on its fast path.
TEST(parse, fast_path_prints_every_double_as_the_reference_does) {
    const column_set cols({"Lead_Score__c"});
    std::mt19937_64 rng(11);
    std::vector<std::string> numbers = {"5.0",
                                        "-0.0",
                                        "1e21",
                                        "1e-7",
                                        "5e-324",
                                        "0.30000000000000004",
                                        "1.7976931348623157e308",
                                        "1.2345678901234568e+20",
                                        "2.5e-5",
                                        "100000000000000000000.5",
                                        "9007199254740993.0"};
    for (int i = 0; i < 3000; ++i) {
        double d;
        do {
            const std::uint64_t bits = rng();
            std::memcpy(&d, &bits, sizeof d);
        } while (!std::isfinite(d));
        numbers.push_back(nlohmann::json(d).dump());
        numbers.push_back(
            std::to_string(rng() % 100000) + "." + std::to_string(rng() % 1000) +
            (i % 3 == 0 ? "e" + std::to_string(static_cast<int>(rng() % 40) - 20) : ""));
    }
    std::string body = R"({"totalSize":1,"done":true,"records":[)";
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        body += (i ? "," : "") + std::string(R"({"Id":"003A","SystemModstamp":)") +
                R"("2026-11-23T09:00:00.000+0000","Lead_Score__c":)" + numbers[i] + "}";
    }
    body += "]}";
    const auto fast = parse_query_page(body, cols);
    const auto reference = reference_query_page(body, cols);
    ASSERT_TRUE(fast) << fast.error().message();
    ASSERT_TRUE(reference) << reference.error().message();
    ASSERT_EQ(fast->records.size(), numbers.size());
    ASSERT_EQ(reference->records.size(), numbers.size());
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        EXPECT_EQ(fast->records[i].columns[0], reference->records[i].columns[0])
            << numbers[i] << ": '" << fast->records[i].columns[0].text() << "' vs '"
            << reference->records[i].columns[0].text() << "'";
    }
}

TEST(parse, the_documented_done_page) {
    const auto page = parse_query_page(fixture("query_response_done.json"), column_set({"Name"}));
    // The published sample has no Id/SystemModstamp in its records: we must say so, not crash.
    ASSERT_FALSE(page);
    EXPECT_EQ(page.error().code, errc::bad_response);
}

TEST(parse, malformed_pages_are_errors_with_context) {
    const column_set cols({"Email"});
    const char* bad[] = {
        "",
        "{",
        "[]",
        R"({"done":true})",
        R"({"records":[]})",
        R"({"done":false,"records":[]})",
        R"({"done":true,"records":[1]})",
        R"({"done":true,"records":[{"SystemModstamp":"2026-01-01T00:00:00.000+0000"}]})",
        R"({"done":true,"records":[{"Id":"003A","SystemModstamp":"yesterday"}]})",
        R"({"done":true,"records":[{"Id":"003A"}]})",
    };
    for (const char* b : bad) {
        const auto page = parse_query_page(b, cols);
        ASSERT_FALSE(page) << b;
        EXPECT_EQ(page.error().code, errc::bad_response) << b;
        EXPECT_FALSE(page.error().detail.empty());
    }
}

TEST(parse, error_bodies_of_both_shapes) {
    const auto api = parse_error(fixture("error_invalid_session_id_401.json"));
    EXPECT_EQ(api.code, "INVALID_SESSION_ID");
    EXPECT_EQ(api.message, "Session expired or invalid");
    const auto oauth = parse_error(fixture("oauth_token_error_invalid_grant_400.json"));
    EXPECT_EQ(oauth.code, "invalid_grant");
    EXPECT_TRUE(parse_error("<html>503</html>").code.empty());
}

// Found by tests/fuzz/sf_error: json::value(key, "") threw type_error on a non-string member,
// and the exception ended the daemon instead of becoming a failure.
TEST(parse, error_body_with_non_string_members_is_read_not_thrown) {
    for (const char* body : {R"([{"errorCode":1,"message":2}])",
                             R"({"error":1,"error_description":["x"]})",
                             R"([{"errorCode":"INVALID_FIELD","message":null}])"}) {
        api_error e;
        ASSERT_NO_THROW(e = parse_error(body)) << body;
        EXPECT_TRUE(e.message.empty()) << body;
    }
    EXPECT_EQ(parse_error(R"([{"errorCode":"INVALID_FIELD","message":null}])").code,
              "INVALID_FIELD");
}

TEST(parse, limit_info_header) {
    auto u = parse_limit_info("api-usage=18/5000");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->used, 18);
    EXPECT_EQ(u->limit, 5000);
    u = parse_limit_info(
        "per-app-api-usage=17/250(appName=x); api-usage=10018/100000; api-bursts=1/750");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->used, 10018);
    EXPECT_FALSE(parse_limit_info("api-usage=abc/5"));
    EXPECT_FALSE(parse_limit_info(""));
    EXPECT_EQ(parse_limit_info("api-usage=18/5000 ; api-bursts=1/750")->used, 18);
}

// Found by tests/fuzz/sf_limits.cpp: a negative count read as usage would let the budget check
// pass whatever was spent; a count with trailing garbage is not a count.
TEST(parse, limit_info_header_refuses_negative_or_bent_counts) {
    EXPECT_FALSE(parse_limit_info("api-usage=-1/5000"));
    EXPECT_FALSE(parse_limit_info("api-usage=18/-5000"));
    EXPECT_FALSE(parse_limit_info("api-usage=18x/5000"));
    EXPECT_FALSE(parse_limit_info("api-usage=18/5000(appName=x)"));
}

TEST(parse, limits_resource_gives_daily_api_use) {
    const auto u = parse_limits(fixture("limits_response_simple_salesforce_test.json"));
    ASSERT_TRUE(u) << u.error().message();
    EXPECT_EQ(u->limit, 15000);
    EXPECT_EQ(u->used, 2);  // Max 15000 - Remaining 14998
    EXPECT_EQ(parse_limits("not json").error().code, errc::bad_response);
    EXPECT_EQ(parse_limits("[]").error().code, errc::bad_response);
    EXPECT_EQ(parse_limits(R"({"DataStorageMB":{"Max":5,"Remaining":5}})").error().code,
              errc::bad_response);
    EXPECT_EQ(parse_limits(R"({"DailyApiRequests":{"Max":"15000","Remaining":1}})").error().code,
              errc::bad_response);
    EXPECT_EQ(parse_limits(R"({"DailyApiRequests":{"Max":100,"Remaining":120}})")->used, 0);
}

}  // namespace
}  // namespace crmsync::source::salesforce
