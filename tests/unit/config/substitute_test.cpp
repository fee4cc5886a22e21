#include "crmsync/config/substitute.hpp"

#include "temp_dir.hpp"
#include <gtest/gtest.h>

#include <cstdlib>

namespace crmsync::config {
namespace {

class substitute_test : public ::testing::Test {
protected:
    void SetUp() override {
        ::setenv("CRMSYNC_TEST_ID", "abc123", 1);
        ::setenv("CRMSYNC_TEST_EMPTY", "", 1);
        ::unsetenv("CRMSYNC_TEST_UNSET");
    }
    void TearDown() override {
        ::unsetenv("CRMSYNC_TEST_ID");
        ::unsetenv("CRMSYNC_TEST_EMPTY");
    }
    testing::temp_dir dir_;
};

TEST_F(substitute_test, leaves_plain_text_alone) {
    for (const char* text : {"", "plain", "US$ 5", "pa$word", "$", "end$", "${"}) {
        if (std::string_view(text) == "${")
            continue;  // unterminated: see below
        const auto s = substitute(text, dir_.path());
        EXPECT_TRUE(s.ok()) << text;
        EXPECT_EQ(s.text, text);
        EXPECT_FALSE(s.changed) << text;
    }
}

TEST_F(substitute_test, expands_environment_variables) {
    auto s = substitute("${CRMSYNC_TEST_ID}", dir_.path());
    EXPECT_TRUE(s.ok());
    EXPECT_EQ(s.text, "abc123");
    EXPECT_TRUE(s.changed);
    EXPECT_EQ(substitute("id=${CRMSYNC_TEST_ID}/${CRMSYNC_TEST_ID}", dir_.path()).text,
              "id=abc123/abc123");
    EXPECT_EQ(substitute("[${CRMSYNC_TEST_EMPTY}]", dir_.path()).text, "[]");
}

TEST_F(substitute_test, dollar_dollar_is_a_literal_dollar) {
    EXPECT_EQ(substitute("$${CRMSYNC_TEST_ID}", dir_.path()).text, "${CRMSYNC_TEST_ID}");
    EXPECT_EQ(substitute("a$$b", dir_.path()).text, "a$b");
    EXPECT_EQ(substitute("$$$${CRMSYNC_TEST_ID}", dir_.path()).text, "$${CRMSYNC_TEST_ID}");
}

TEST_F(substitute_test, missing_variable_is_named) {
    const auto s = substitute("x${CRMSYNC_TEST_UNSET}y", dir_.path());
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.problem, "environment variable 'CRMSYNC_TEST_UNSET' is not set");
}

TEST_F(substitute_test, malformed_references) {
    EXPECT_EQ(substitute("${", dir_.path()).problem,
              "unterminated '${' (write '$$' for a literal '$')");
    EXPECT_EQ(substitute("${}", dir_.path()).problem,
              "invalid variable name '' in '${...}'; expected ${NAME} or ${file:PATH}");
    EXPECT_EQ(substitute("${A-B}", dir_.path()).problem,
              "invalid variable name 'A-B' in '${...}'; expected ${NAME} or ${file:PATH}");
    EXPECT_EQ(substitute("${file:}", dir_.path()).problem,
              "'${file:}' needs a path, e.g. ${file:/etc/crmsync/secret}");
}

TEST_F(substitute_test, file_content_loses_one_trailing_newline) {
    const auto path = dir_.write("secret", "s3cr3t\n\n");
    auto s = substitute("${file:" + path + "}", dir_.path());
    EXPECT_TRUE(s.ok());
    EXPECT_EQ(s.text, "s3cr3t\n");
    dir_.write("crlf", "v\r\n");
    EXPECT_EQ(substitute("${file:crlf}", dir_.path()).text, "v");  // relative to base_dir
    dir_.write("bare", "v");
    EXPECT_EQ(substitute("<${file:bare}>", dir_.path()).text, "<v>");
}

TEST_F(substitute_test, an_endless_file_is_cut_off_at_1_mib) {
    // Regression (mapping-loader fuzzer): /dev/zero has no size to check up front and was
    // read until memory ran out.
    const auto s = substitute("${file:/dev/zero}", dir_.path());
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.problem, "'/dev/zero' for ${file:} is larger than 1 MiB");
}

TEST_F(substitute_test, unreadable_file_names_the_path_never_a_value) {
    const auto missing = (dir_.path() / "nope").string();
    EXPECT_EQ(substitute("${file:" + missing + "}", dir_.path()).problem,
              "cannot read '" + missing + "' for ${file:}: No such file or directory");
    EXPECT_EQ(substitute("${file:" + dir_.path().string() + "}", dir_.path()).problem,
              "cannot read '" + dir_.path().string() + "' for ${file:}: it is a directory");
    // The first problem stops expansion; a secret read before it does not leak into it.
    const auto path = dir_.write("secret", "hunter2");
    const auto s = substitute("${file:" + path + "}${CRMSYNC_TEST_UNSET}", dir_.path());
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.problem.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace crmsync::config
