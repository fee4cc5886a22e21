#include "crmsync/source/salesforce/client.hpp"

#include <boost/asio/error.hpp>

#include <gtest/gtest.h>

namespace crmsync::source::salesforce {
namespace {

using http::disposition;

struct row {
    unsigned status;
    const char* body;
    const char* retry_after;
    errc code;
    disposition d;
};

TEST(classify, every_documented_status_has_one_disposition) {
    const row rows[] = {
        {401,
         R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])",
         "",
         errc::token_expired,
         disposition::refresh_token},
        {403,
         R"([{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}])",
         "",
         errc::quota_exhausted,
         disposition::fail},
        {400,
         R"([{"message":"unexpected token","errorCode":"MALFORMED_QUERY"}])",
         "",
         errc::request_rejected,
         disposition::fail},
        {400,
         R"([{"message":"No such column","errorCode":"INVALID_FIELD"}])",
         "",
         errc::request_rejected,
         disposition::fail},
        {403,
         R"([{"message":"no access","errorCode":"INSUFFICIENT_ACCESS"}])",
         "",
         errc::auth_rejected,
         disposition::fail},
        {429, "", "7", errc::rate_limited, disposition::retry},
        {500, "<html>oops</html>", "", errc::transient, disposition::retry},
        {502, "", "", errc::transient, disposition::retry},
        {503, "", "", errc::transient, disposition::retry},
        {404,
         R"([{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}])",
         "",
         errc::request_rejected,
         disposition::fail},
    };
    for (const auto& r : rows) {
        const auto f = failure_from_response(r.status, r.body, r.retry_after);
        EXPECT_EQ(f.code, r.code) << r.status << " " << r.body;
        EXPECT_EQ(classify(f), r.d) << r.status << " " << r.body;
        EXPECT_EQ(f.http_status, r.status);
    }
    EXPECT_EQ(failure_from_response(429, "", "7").retry_after, std::chrono::seconds(7));
}

TEST(classify, transport_failures_are_retried) {
    EXPECT_EQ(classify(make_failure(errc::timeout)), disposition::retry);
    EXPECT_EQ(classify(make_failure(errc::connect_failed)), disposition::retry);
    EXPECT_EQ(classify(make_failure(errc::bad_response, "truncated")), disposition::retry);
    failure reset;
    reset.code = boost::asio::error::make_error_code(boost::asio::error::connection_reset);
    EXPECT_EQ(classify(reset), disposition::retry);
    EXPECT_EQ(classify(make_failure(errc::tls_failed)), disposition::fail);
    EXPECT_EQ(classify(make_failure(errc::invalid_url)), disposition::fail);
}

TEST(token_request, each_flow_sends_its_fields_and_secrets_only_there) {
    config::salesforce_auth a;
    a.client_id = "cid";
    a.client_secret = secret("s3cr3t");
    EXPECT_EQ(*token_request_body(a),
              "grant_type=client_credentials&client_id=cid&client_secret=s3cr3t");
    a.flow = config::auth_flow::password;
    a.username = "u@example.com";
    a.password = secret("pw+tok");
    EXPECT_EQ(*token_request_body(a),
              "grant_type=password&client_id=cid&client_secret=s3cr3t&username=u%40example.com&"
              "password=pw%2Btok");
    a.flow = config::auth_flow::jwt_bearer;
    EXPECT_EQ(token_request_body(a).error().code, errc::config_invalid);  // no assertion
    a.client_secret = secret{};
    EXPECT_EQ(*token_request_body(a, "eyJ.eyJ.sig-_"),
              "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=eyJ."
              "eyJ.sig-_");
}

TEST(api_budget, spent_at_floor_of_limit_times_budget) {
    EXPECT_TRUE(check_api_budget("org", std::nullopt, 0.1)) << "unknown usage cannot be judged";
    EXPECT_TRUE(check_api_budget("org", api_usage{.used = 99, .limit = 1000}, 0.1));
    EXPECT_TRUE(check_api_budget("org", api_usage{.used = 0, .limit = 0}, 0.1))
        << "a limit of 0 is no limit we can read";
    const auto spent = check_api_budget("prod_org", api_usage{.used = 100, .limit = 1000}, 0.1);
    ASSERT_FALSE(spent);
    EXPECT_EQ(spent.error().code, errc::quota_exhausted);
    EXPECT_EQ(spent.error().message(),
              "salesforce prod_org: API budget reached: 100 of 1000 daily requests used "
              "(budget 10%)");
    EXPECT_EQ(classify(spent.error()), disposition::fail) << "retrying cannot free budget";
    EXPECT_FALSE(check_api_budget("org", api_usage{.used = 150, .limit = 1000}, 0.1));
    EXPECT_TRUE(check_api_budget("org", api_usage{.used = 150, .limit = 1000}, 0.5));
    // 100 * 0.29 is 28.999... in binary; the share must still be 29 requests.
    EXPECT_TRUE(check_api_budget("org", api_usage{.used = 28, .limit = 100}, 0.29));
    EXPECT_FALSE(check_api_budget("org", api_usage{.used = 29, .limit = 100}, 0.29));
    // floor: 15000 * 0.333 = 4995, so the 4995th request is already over.
    EXPECT_TRUE(check_api_budget("org", api_usage{.used = 4994, .limit = 15000}, 0.333));
    EXPECT_FALSE(check_api_budget("org", api_usage{.used = 4995, .limit = 15000}, 0.333));
    EXPECT_FALSE(check_api_budget("org", api_usage{.used = 15000, .limit = 15000}, 1.0));
}

TEST(cursor, a_lost_cursor_is_its_vendor_code_or_a_garbled_400_on_a_next_page) {
    const auto expired = failure_from_response(
        400, R"([{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}])", "");
    EXPECT_TRUE(cursor_lost(expired, true));
    EXPECT_TRUE(cursor_lost(expired, false));
    const auto html = failure_from_response(400, "<html>Bad Request</html>", "");
    EXPECT_TRUE(cursor_lost(html, true));
    EXPECT_FALSE(cursor_lost(html, false)) << "a first query has no cursor to lose";
    EXPECT_TRUE(cursor_lost(failure_from_response(400, R"([{"message":"inval)", ""), true));
    EXPECT_FALSE(cursor_lost(
        failure_from_response(400, R"([{"message":"x","errorCode":"MALFORMED_QUERY"}])", ""),
        true));
    EXPECT_FALSE(cursor_lost(failure_from_response(500, "<html>oops</html>", ""), true));
    EXPECT_FALSE(cursor_lost(failure_from_response(404, "", ""), true));
}

TEST(api_budget, a_reserve_for_limits_reads_holds_calls_short_of_the_budget) {
    EXPECT_TRUE(check_api_budget("org", api_usage{.used = 94, .limit = 1000}, 0.1, 5));
    const auto held = check_api_budget("org", api_usage{.used = 95, .limit = 1000}, 0.1, 5);
    ASSERT_FALSE(held);
    EXPECT_EQ(held.error().message(),
              "salesforce org: API budget reached: 95 of 1000 daily requests used (budget 10%); 5 "
              "of its 100 requests are kept for reading /limits until the budget has room");
}

TEST(api_budget, limits_reads_while_held_fit_a_reserve_that_lasts_a_day) {
    using namespace std::chrono_literals;
    // A day of reads every 5 minutes (288) fits a twentieth of 20,000.
    auto p = plan_budget_recheck(20'000, 5min);
    EXPECT_EQ(p.reserve, 288);
    EXPECT_EQ(p.every, 5min);
    // A twentieth of 1,000 is 50 reads: spaced to last the day, every 28.8 minutes.
    p = plan_budget_recheck(1'000, 5min);
    EXPECT_EQ(p.reserve, 50);
    EXPECT_EQ(p.every, 1'728'000ms);
    EXPECT_GE(p.every * p.reserve, std::chrono::milliseconds(24h));
    // A budget too small for a twentieth still keeps one read.
    p = plan_budget_recheck(10, 5min);
    EXPECT_EQ(p.reserve, 1);
    EXPECT_EQ(p.every, 24h);
    p = plan_budget_recheck(5'000'000, 1s);
    EXPECT_EQ(p.reserve, 86'400);
    EXPECT_EQ(p.every, 1s);
}

}  // namespace
}  // namespace crmsync::source::salesforce
