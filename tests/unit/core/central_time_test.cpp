#include "crmsync/core/central_time.hpp"

#include <gtest/gtest.h>

namespace crmsync {
namespace {

sys_ms at(const char* iso) {
    return timestamp::parse(iso)->at;
}

std::string iso(sys_ms t) {
    return timestamp{t}.to_iso();
}

}  // namespace

TEST(central_time, offset_follows_the_us_daylight_rule) {
    struct row {
        const char* utc;
        int offset_hours;
    };
    // 2026: daylight time from Sunday 8 March 02:00 CST to Sunday 1 November 02:00 CDT.
    for (const auto& r : {row{"2026-01-15T12:00:00Z", -6},
                          row{"2026-03-08T07:59:59Z", -6},  // 01:59:59 CST
                          row{"2026-03-08T08:00:00Z", -5},  // 03:00:00 CDT
                          row{"2026-07-01T00:00:00Z", -5},
                          row{"2026-11-01T06:59:59Z", -5},  // 01:59:59 CDT
                          row{"2026-11-01T07:00:00Z", -6},  // 01:00:00 CST, the second time
                          row{"2026-12-31T23:00:00Z", -6},
                          row{"2024-03-10T08:00:00Z", -5},  // 2024: 10 March to 3 November
                          row{"2024-11-03T07:00:00Z", -6}}) {
        EXPECT_EQ(us_central_offset(at(r.utc)).count(), r.offset_hours) << r.utc;
    }
}

TEST(central_time, the_date_changes_at_chicago_midnight) {
    EXPECT_EQ(us_central_date_text(at("2026-01-16T05:59:59Z")), "2026-01-15");
    EXPECT_EQ(us_central_date_text(at("2026-01-16T06:00:00Z")), "2026-01-16");
    EXPECT_EQ(us_central_date_text(at("2026-07-01T04:59:59Z")), "2026-06-30");
    EXPECT_EQ(us_central_date_text(at("2026-07-01T05:00:00Z")), "2026-07-01");
    EXPECT_EQ(us_central_date_text(at("2027-01-01T05:59:59Z")), "2026-12-31");
}

TEST(central_time, next_midnight_across_both_changes) {
    struct row {
        const char* utc;
        const char* next;
    };
    for (const auto& r : {
             row{"2026-01-15T12:00:00Z", "2026-01-16T06:00:00.000Z"},
             row{"2026-01-16T06:00:00Z", "2026-01-17T06:00:00.000Z"},  // strictly after
             row{"2026-01-16T05:59:59Z", "2026-01-16T06:00:00.000Z"},
             row{"2026-03-07T12:00:00Z", "2026-03-08T06:00:00.000Z"},  // still CST at midnight
             row{"2026-03-08T06:00:00Z", "2026-03-09T05:00:00.000Z"},  // first CDT midnight
             row{"2026-06-30T20:00:00Z", "2026-07-01T05:00:00.000Z"},
             row{"2026-10-31T12:00:00Z", "2026-11-01T05:00:00.000Z"},  // still CDT at midnight
             row{"2026-11-01T05:00:00Z", "2026-11-02T06:00:00.000Z"},  // first CST midnight
             row{"2026-12-31T18:30:00Z", "2027-01-01T06:00:00.000Z"},
         }) {
        EXPECT_EQ(iso(next_us_central_midnight(at(r.utc))), r.next) << r.utc;
    }
}

}  // namespace crmsync
