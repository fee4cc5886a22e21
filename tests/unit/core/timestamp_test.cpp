#include "crmsync/core/timestamp.hpp"

#include <gtest/gtest.h>

namespace crmsync {

TEST(timestamp, parses_every_salesforce_form) {
    const auto a = timestamp::parse("2013-05-20T20:49:32.000+0000");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->to_salesforce(), "2013-05-20T20:49:32.000+0000");
    EXPECT_EQ(timestamp::parse("2013-05-20T20:49:32Z"), timestamp{a->at});
    EXPECT_EQ(timestamp::parse("2013-05-20T22:49:32+02:00"), timestamp{a->at});
    EXPECT_EQ(timestamp::parse("2013-05-20T18:49:32.000-0200"), timestamp{a->at});
    EXPECT_EQ(timestamp::parse("2013-05-20T20:49:32.5Z")->to_iso(), "2013-05-20T20:49:32.500Z");
    EXPECT_EQ(timestamp::parse("2013-05-20")->to_iso(), "2013-05-20T00:00:00.000Z");
}

TEST(timestamp, rejects_garbage) {
    for (const char* s : {"",
                          "2013",
                          "2013-13-01",
                          "2013-02-30",
                          "2013-05-20T25:00:00Z",
                          "2013-05-20T20:49:32",
                          "2013-05-20T20:49:32.Z",
                          "2013-05-20T20:49:32Zx",
                          "2013-05-20 20:49:32Z"}) {
        EXPECT_FALSE(timestamp::parse(s)) << s;
    }
}

TEST(timestamp, formats_instants_past_2262_and_before_1970) {
    // Past what system_clock's nanoseconds hold: formatting must not overflow.
    const auto late = timestamp::parse("2516-06-01T03:04:05.678Z");
    ASSERT_TRUE(late);
    EXPECT_EQ(late->to_iso(), "2516-06-01T03:04:05.678Z");
    EXPECT_EQ(late->to_salesforce(), "2516-06-01T03:04:05.678+0000");
    EXPECT_EQ(late->to_soql_literal(), "2516-06-01T03:04:05Z");
    EXPECT_EQ(timestamp::parse("9999-12-31T23:59:59.999Z")->to_iso(), "9999-12-31T23:59:59.999Z");
    EXPECT_EQ(timestamp::parse("1969-12-31T23:59:59.250Z")->to_iso(), "1969-12-31T23:59:59.250Z");
}

// Found by tests/fuzz/sf_query_page: an offset carried the instant past year 9999 (or before
// 0000), to_iso wrote a five-digit or negative year, and the page written back did not parse.
TEST(timestamp, rejects_instants_an_offset_carries_out_of_0000_to_9999) {
    for (const char* s :
         {"9999-12-31T23:59:59.000-0100", "9999-12-31T23:59:60Z", "0000-01-01T00:00:00.000+0100"}) {
        EXPECT_FALSE(timestamp::parse(s)) << s;
    }
    const auto last = timestamp::parse("9999-12-31T22:59:59.999-0100");
    ASSERT_TRUE(last);
    EXPECT_EQ(timestamp::parse(last->to_iso()), last);
    const auto first = timestamp::parse("0000-01-01T01:00:00.000+0100");
    ASSERT_TRUE(first);
    EXPECT_EQ(timestamp::parse(first->to_iso()), first);
}

TEST(timestamp, soql_literal_drops_milliseconds) {
    EXPECT_EQ(timestamp::parse("2013-05-20T20:49:32.999Z")->to_soql_literal(),
              "2013-05-20T20:49:32Z");
}

}  // namespace crmsync
