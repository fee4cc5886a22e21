#include "crmsync/core/error.hpp"

#include <gtest/gtest.h>

namespace crmsync {

TEST(error, every_code_has_a_message_and_our_category) {
    for (int e = static_cast<int>(errc::timeout); e <= static_cast<int>(errc::transient); ++e) {
        const auto ec = make_error_code(static_cast<errc>(e));
        EXPECT_EQ(std::string(ec.category().name()), "crmsync");
        EXPECT_FALSE(ec.message().empty());
        EXPECT_NE(ec.message(), "unknown crmsync error") << e;
    }
}

TEST(error, context_builds_a_phrase_chain) {
    auto f = make_failure(errc::token_expired, "http 401: INVALID_SESSION_ID");
    f.context("query Contact").context("stream contacts");
    EXPECT_EQ(f.message(), "stream contacts: query Contact: http 401: INVALID_SESSION_ID");
}

TEST(error, result_carries_failure) {
    result<int> r = make_failure(errc::timeout);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::timeout);
    EXPECT_THROW((void)r.value(), std::runtime_error);
}

}  // namespace crmsync
