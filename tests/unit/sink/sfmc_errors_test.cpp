#include "crmsync/sink/sfmc/errors.hpp"

#include <boost/asio/error.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace crmsync::sink::sfmc {
namespace {

using http::disposition;

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(CRMSYNC_FIXTURES) + "/sfmc/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

http::response reply(unsigned status, std::string body, http::header_list headers = {}) {
    return http::response{.status = status, .headers = std::move(headers), .body = std::move(body)};
}

std::string error_body(int code, std::string_view message) {
    return fmt::format(
        R"({{"message":"{}","errorcode":{},"documentation":"https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm"}})",
        message,
        code);
}

struct row {
    const char* what;
    unsigned status;
    int errorcode;  // -1: the body is the fixture or raw text below
    const char* body;
    disposition action;
    std::optional<category> reject;
    errc code;
};

// One row per documented code (api-reference §3.4 [SFMC-ERR][SFMC-RATE]).
const row rows[] = {
    {"10000 generic",
     400,
     10000,
     "",
     disposition::fail,
     category::validation,
     errc::request_rejected},
    {"10001 invalid data type",
     400,
     10001,
     "",
     disposition::fail,
     category::validation,
     errc::request_rejected},
    {"10002 missing required field",
     400,
     10002,
     "",
     disposition::fail,
     category::validation,
     errc::request_rejected},
    {"10003 incorrect format",
     400,
     10003,
     "",
     disposition::fail,
     category::validation,
     errc::request_rejected},
    {"10004 invalid message format",
     400,
     10004,
     "",
     disposition::fail,
     category::validation,
     errc::request_rejected},
    {"10005 invalid value",
     400,
     10005,
     "",
     disposition::fail,
     category::validation,
     errc::request_rejected},
    {"10006 aggregate error",
     400,
     10006,
     "",
     disposition::fail,
     category::validation,
     errc::request_rejected},
    {"400 with an undocumented code",
     400,
     12345,
     "",
     disposition::fail,
     std::nullopt,
     errc::request_rejected},
    {"415 unsupported media type",
     415,
     0,
     "",
     disposition::fail,
     std::nullopt,
     errc::request_rejected},
    {"20000 general exception",
     403,
     20000,
     "",
     disposition::fail,
     category::access,
     errc::request_rejected},
    {"20001 business rule not set",
     403,
     20001,
     "",
     disposition::fail,
     category::access,
     errc::request_rejected},
    {"20002 insufficient privileges",
     403,
     20002,
     "",
     disposition::fail,
     category::access,
     errc::request_rejected},
    {"401 errorcode 0 not authorized",
     401,
     -1,
     "error_not_authorized_401_sfmc_devtools_test.json",
     disposition::refresh_token,
     std::nullopt,
     errc::token_expired},
    {"429 50100 rate limit",
     429,
     -1,
     "rate_limit_429_50100.json",
     disposition::retry,
     std::nullopt,
     errc::rate_limited},
    {"429 50200 temporarily blocked",
     429,
     -1,
     "rate_limit_429_50200.json",
     disposition::retry,
     std::nullopt,
     errc::rate_limited},
    {"500", 500, 0, "", disposition::retry, std::nullopt, errc::transient},
    {"503 html from the edge",
     503,
     -2,
     "<html>Service Unavailable</html>",
     disposition::retry,
     std::nullopt,
     errc::transient},
    {"404 unknown data extension",
     404,
     10000,
     "",
     disposition::fail,
     std::nullopt,
     errc::request_rejected},
    {"400 that is not json",
     400,
     -2,
     "<html>Bad Request</html>",
     disposition::fail,
     std::nullopt,
     errc::bad_response},
};

TEST(sfmc_errors, every_documented_code_has_its_disposition) {
    for (const auto& r : rows) {
        SCOPED_TRACE(r.what);
        const std::string body = r.errorcode == -1   ? fixture(r.body)
                                 : r.errorcode == -2 ? std::string(r.body)
                                                     : error_body(r.errorcode, r.what);
        const failure f = rest_failure(reply(r.status, body));
        EXPECT_EQ(f.code, make_error_code(r.code));
        EXPECT_EQ(f.http_status, r.status);
        const auto d = classify(f);
        EXPECT_EQ(d.action, r.action);
        EXPECT_EQ(d.reject, r.reject);
        if (r.errorcode >= 0) {
            EXPECT_EQ(f.vendor_code, std::to_string(r.errorcode));
        }
    }
}

TEST(sfmc_errors, the_vendor_message_becomes_the_rejection) {
    const auto f = rest_failure(reply(400, error_body(10005, "Invalid value for column Score")));
    EXPECT_EQ(f.detail, "Invalid value for column Score");
    const auto r = rejection(f, category::validation);
    EXPECT_EQ(r.category, category::validation);
    EXPECT_EQ(r.code, "10005");
    EXPECT_EQ(r.message, "Invalid value for column Score");
}

TEST(sfmc_errors, aggregate_errors_carry_the_additional_messages) {
    const auto f = rest_failure(reply(
        400,
        R"({"message":"Unable to save rows for data extension Contacts_DE","errorcode":10006,"documentation":"",
            "additionalErrors":[{"message":"The value for column [Email] is not a valid email address.","errorcode":10003,"documentation":""},
                                {"message":"Column FirstName is required.","errorcode":10002,"documentation":""}]})"));
    EXPECT_EQ(f.vendor_code, "10006");
    EXPECT_EQ(f.detail,
              "Unable to save rows for data extension Contacts_DE: The value for column [Email] is "
              "not a valid email address.; Column FirstName is required.");
}

// json::value("message", "") threw type_error on a non-string message (the same fault the
// fuzz targets found in the token and async parsers).
TEST(sfmc_errors, a_non_string_message_is_no_exception) {
    failure f;
    ASSERT_NO_THROW(f = rest_failure(reply(400, R"({"message":10005,"errorcode":10005})")));
    EXPECT_EQ(f.vendor_code, "10005");
    EXPECT_EQ(f.detail, "http 400");
}

TEST(sfmc_errors, retry_after_comes_from_the_header_else_the_body) {
    const auto with_header =
        rest_failure(reply(429, fixture("rate_limit_429_50100.json"), {{"Retry-After", "7"}}));
    EXPECT_EQ(with_header.retry_after, std::chrono::milliseconds(7000));
    EXPECT_EQ(with_header.vendor_code, "50100");
    const auto body_only = rest_failure(reply(429, fixture("rate_limit_429_50100.json")));
    EXPECT_EQ(body_only.retry_after, std::chrono::milliseconds(5000));  // "retryAfter": 5
    const auto blocked = rest_failure(reply(429, fixture("rate_limit_429_50200.json")));
    EXPECT_EQ(blocked.vendor_code, "50200");
    EXPECT_FALSE(blocked.retry_after);  // no Retry-After: plain backoff
    const auto garbage = rest_failure(reply(429, "{}", {{"Retry-After", "soon"}}));
    EXPECT_FALSE(garbage.retry_after);
}

TEST(sfmc_errors, transport_and_unreadable_successes_are_retried) {
    EXPECT_EQ(classify(make_failure(errc::timeout)).action, disposition::retry);
    EXPECT_EQ(classify(make_failure(errc::connect_failed)).action, disposition::retry);
    failure reset;
    reset.code = boost::asio::error::make_error_code(boost::asio::error::connection_reset);
    EXPECT_EQ(classify(reset).action, disposition::retry);
    EXPECT_EQ(classify(make_failure(errc::bad_response, "rowset: reply is not JSON")).action,
              disposition::retry);
    EXPECT_EQ(classify(make_failure(errc::auth_rejected)).action, disposition::fail);
    EXPECT_EQ(classify(make_failure(errc::cancelled)).action, disposition::fail);
}

}  // namespace
}  // namespace crmsync::sink::sfmc
