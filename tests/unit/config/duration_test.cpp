#include "crmsync/config/duration.hpp"

#include <gtest/gtest.h>

namespace crmsync::config {
namespace {

struct good_case {
    const char* text;
    long long ms;
};

TEST(duration, parses_units_and_combinations) {
    for (const auto& c : std::initializer_list<good_case>{{"500ms", 500},
                                                          {"30s", 30'000},
                                                          {"5m", 300'000},
                                                          {"1h", 3'600'000},
                                                          {"1h30m", 5'400'000},
                                                          {"2m30s", 150'000},
                                                          {"1s500ms", 1'500},
                                                          {"0s", 0},
                                                          {"1h0m1s1ms", 3'601'001}}) {
        const auto d = parse_duration(c.text);
        ASSERT_TRUE(d) << c.text;
        EXPECT_EQ(d->count(), c.ms) << c.text;
    }
}

TEST(duration, rejects_garbage_with_a_message) {
    for (const char* text : {"",
                             "5",
                             "s",
                             "5x",
                             "1.5h",
                             "-5m",
                             " 5m",
                             "5m ",
                             "5 m",
                             "30m1h",
                             "5m5m",
                             "1d",
                             "5M",
                             "9999999999h"}) {
        std::string problem;
        EXPECT_FALSE(parse_duration(text, &problem)) << text;
        EXPECT_FALSE(problem.empty()) << text;
    }
}

TEST(duration, bare_number_gets_a_hint) {
    std::string problem;
    EXPECT_FALSE(parse_duration("30", &problem));
    EXPECT_EQ(problem,
              "invalid duration '30': a number needs a unit, e.g. '30s' (units: h, m, s, ms)");
    EXPECT_FALSE(parse_duration("5x", &problem));
    EXPECT_EQ(problem, "invalid duration '5x'; expected e.g. 500ms, 30s, 5m, 1h, 1h30m");
}

TEST(duration, format_round_trips) {
    for (const char* text : {"0s", "500ms", "30s", "5m", "1h", "1h30m", "1h0m1s1ms"}) {
        const auto d = parse_duration(text);
        ASSERT_TRUE(d) << text;
        EXPECT_EQ(parse_duration(format_duration(*d)), d) << text;
    }
    EXPECT_EQ(format_duration(duration{5'400'000}), "1h30m");
    EXPECT_EQ(format_duration(duration{1'500}), "1s500ms");
}

}  // namespace
}  // namespace crmsync::config
