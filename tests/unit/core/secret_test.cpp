#include "crmsync/core/secret.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace crmsync {

TEST(secret, never_formats_its_value) {
    const secret s("hunter2-client-secret");
    EXPECT_EQ(fmt::format("{}", s), "**REDACTED**");
    std::ostringstream os;
    os << s;
    EXPECT_EQ(os.str(), "**REDACTED**");
    const nlohmann::json j = {{"client_secret", s}};
    EXPECT_EQ(j.dump().find("hunter2"), std::string::npos);
    EXPECT_EQ(s.reveal(), "hunter2-client-secret");
}

}  // namespace crmsync
