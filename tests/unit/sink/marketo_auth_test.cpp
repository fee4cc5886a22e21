#include "crmsync/sink/marketo/auth.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace crmsync::sink::marketo {
namespace {

TEST(marketo_identity, the_documented_answer_gives_token_and_lifetime) {
    std::ifstream in(std::string(CRMSYNC_FIXTURES) + "/marketo/identity_token_response.json");
    std::stringstream body;
    body << in.rdbuf();
    const auto t = parse_identity_token(body.str());
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(t->access_token, "cdf01657-110d-4155-99a7-f986b2ff13a0:int");
    EXPECT_EQ(t->expires_in, std::chrono::seconds(3599));
}

TEST(marketo_identity, malformed_answers_are_bad_response) {
    for (const char* body : {
             "",
             "[]",
             R"({"expires_in": 3599})",
             R"({"access_token": "", "expires_in": 3599})",
             R"({"access_token": 7, "expires_in": 3599})",
             R"({"access_token": "t"})",
             R"({"access_token": "t", "expires_in": "3599"})",
             R"({"access_token": "t", "expires_in": 35.5})",
             R"({"access_token": "t", "expires_in": -1})",
             // Added to a clock these would overflow it.
             R"({"access_token": "t", "expires_in": 9223372036854775807})",
             R"({"access_token": "t", "expires_in": 18446744073709551615})",
             R"({"access_token": "t", "expires_in": 86401})",
         }) {
        const auto t = parse_identity_token(body);
        ASSERT_FALSE(t) << body;
        EXPECT_EQ(t.error().code, errc::bad_response) << body;
        EXPECT_NE(t.error().message().find("malformed token response"), std::string::npos);
    }
    EXPECT_TRUE(parse_identity_token(R"({"access_token": "t", "expires_in": 0})"));
    EXPECT_TRUE(parse_identity_token(R"({"access_token": "t", "expires_in": 86400})"));
}

}  // namespace
}  // namespace crmsync::sink::marketo
