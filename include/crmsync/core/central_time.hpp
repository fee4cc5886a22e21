#pragma once
// US Central time (America/Chicago), for quotas whose day starts at local midnight there:
// Marketo's daily API quota "will reset itself that night at midnight central time" (Adobe KB
// ka-29461; api-reference §2.2 "resets 12:00 AM CST"), i.e. at 06:00 UTC in winter (CST,
// UTC-6) and at 05:00 UTC in summer (CDT, UTC-5).
//
// The US rule (Energy Policy Act of 2005, in force since 2007): daylight time from the second
// Sunday of March, 02:00 local standard time, to the first Sunday of November, 02:00 local
// daylight time. Computed here rather than read from the system's tz database, so a host
// without tzdata (a minimal container) and the fakes agree on the day; GCC 12 has no
// std::chrono::zoned_time either. Dates before 2007 follow the same rule (not the old one):
// nothing here looks that far back.

#include "crmsync/core/clock.hpp"

#include <chrono>
#include <string>

namespace crmsync {

// The UTC offset of Chicago at `utc`: -6 h (CST) or -5 h (CDT).
std::chrono::hours us_central_offset(sys_ms utc) noexcept;

// The calendar date in Chicago at `utc`.
std::chrono::sys_days us_central_date(sys_ms utc) noexcept;

// "2026-12-01": us_central_date() as ISO-8601, the form Marketo's stats/usage "date" takes.
std::string us_central_date_text(sys_ms utc);

// The first Chicago midnight strictly after `utc`, as UTC: when a daily quota counted in
// Central days comes back.
sys_ms next_us_central_midnight(sys_ms utc) noexcept;

}  // namespace crmsync
