#include "crmsync/sink/schema.hpp"

#include <gtest/gtest.h>

namespace crmsync::sink {
namespace {

object_schema sample() {
    return {.object = "lead",
            .fields = {{.name = "email", .type = "email", .length = 255},
                       {.name = "Email", .type = "string"},
                       {.name = "leadScore", .type = "integer"}}};
}

TEST(object_schema, finds_the_exact_name_before_a_case_insensitive_one) {
    const auto s = sample();
    ASSERT_NE(s.find("Email"), nullptr);
    EXPECT_EQ(s.find("Email")->type, "string");
    EXPECT_EQ(s.find("email")->type, "email");
}

TEST(object_schema, finds_a_name_that_differs_only_in_case) {
    const auto s = sample();
    ASSERT_NE(s.find("LEADSCORE"), nullptr);
    EXPECT_EQ(s.find("LEADSCORE")->name, "leadScore");
}

TEST(object_schema, a_missing_field_is_null) {
    const auto s = sample();
    EXPECT_EQ(s.find("leadScor"), nullptr);
    EXPECT_EQ(s.find(""), nullptr);
}

}  // namespace
}  // namespace crmsync::sink
