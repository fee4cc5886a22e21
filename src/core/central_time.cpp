#include "crmsync/core/central_time.hpp"

#include <fmt/format.h>

namespace crmsync {
namespace {

using namespace std::chrono;

// The instants, in UTC, between which Chicago keeps daylight time in the year of `utc`: from
// 02:00 CST (08:00 UTC) on the second Sunday of March to 02:00 CDT (07:00 UTC) on the first
// Sunday of November. The UTC year is the right one: neither edge is near New Year.
bool daylight(sys_ms utc) noexcept {
    const year y = year_month_day{floor<days>(utc)}.year();
    const sys_ms begins{sys_days{y / March / Sunday[2]} + hours(8)};
    const sys_ms ends{sys_days{y / November / Sunday[1]} + hours(7)};
    return utc >= begins && utc < ends;
}

}  // namespace

hours us_central_offset(sys_ms utc) noexcept {
    return daylight(utc) ? hours(-5) : hours(-6);
}

sys_days us_central_date(sys_ms utc) noexcept {
    return floor<days>(utc + us_central_offset(utc));
}

std::string us_central_date_text(sys_ms utc) {
    const year_month_day d{us_central_date(utc)};
    return fmt::format("{:04}-{:02}-{:02}",
                       static_cast<int>(d.year()),
                       static_cast<unsigned>(d.month()),
                       static_cast<unsigned>(d.day()));
}

sys_ms next_us_central_midnight(sys_ms utc) noexcept {
    const sys_days next = us_central_date(utc) + days(1);
    // Both changes happen at 02:00 local, so midnight itself is never skipped or repeated: it
    // is 00:00 CDT (05:00 UTC) exactly when 05:00 UTC that day falls in daylight time.
    const sys_ms if_daylight{next + hours(5)};
    return daylight(if_daylight) ? if_daylight : sys_ms{next + hours(6)};
}

}  // namespace crmsync
