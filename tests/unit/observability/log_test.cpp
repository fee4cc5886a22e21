#include "crmsync/observability/log.hpp"

#include "crmsync/core/secret.hpp"

#include <gtest/gtest.h>

namespace crmsync::observability {
namespace {

TEST(log, json_lines_are_valid_json_with_typed_fields) {
    const auto line =
        format_line(level::warn,
                    "Record rejected.",
                    {{"stream", "contacts"}, {"count", 3}, {"error", "bad \"value\"\n"}},
                    true);
    const auto j = nlohmann::json::parse("{" + line + "}");
    EXPECT_EQ(j["level"], "warn");
    EXPECT_EQ(j["message"], "Record rejected.");
    EXPECT_EQ(j["stream"], "contacts");
    EXPECT_EQ(j["count"], 3);
    EXPECT_EQ(j["error"], "bad \"value\"\n");
}

TEST(log, invalid_utf8_does_not_throw) {
    const std::string bad = "caf\xc3";
    nlohmann::json j;
    EXPECT_NO_THROW(
        j = nlohmann::json::parse("{" + format_line(level::info, bad, {{"v", bad}}, true) + "}"));
    EXPECT_TRUE(j.contains("v"));
}

TEST(log, text_lines_are_key_value) {
    EXPECT_EQ(format_line(level::info,
                          "Batch sent.",
                          {{"stream", "contacts"}, {"sent", 300}, {"note", "a b"}},
                          false),
              "info  Batch sent. note=\"a b\" sent=300 stream=contacts");
}

TEST(log, secrets_render_redacted) {
    const auto line =
        format_line(level::debug, "Token.", {{"client_secret", secret("s3cr3t")}}, true);
    EXPECT_EQ(line.find("s3cr3t"), std::string::npos);
    EXPECT_NE(line.find("**REDACTED**"), std::string::npos);
}

}  // namespace
}  // namespace crmsync::observability
