#include "crmsync/core/timestamp.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

namespace crmsync {
namespace {

bool take_int(std::string_view& s, std::size_t digits, int& out) {
    if (s.size() < digits)
        return false;
    for (std::size_t i = 0; i < digits; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(s[i])))
            return false;
    }
    std::from_chars(s.data(), s.data() + digits, out);
    s.remove_prefix(digits);
    return true;
}

// The instants the four-digit forms we write can hold: 0000-01-01 up to the end of 9999. An
// offset or a leap second can carry a date at either edge out of them, and then the state's
// watermark, a SOQL bound and a page read back would all break (found by
// tests/fuzz/sf_query_page).
constexpr std::chrono::sys_days first_day{std::chrono::year{0} / std::chrono::January / 1};
constexpr std::chrono::sys_days past_last_day{std::chrono::year{10000} / std::chrono::January / 1};

bool writable(sys_ms t) {
    return t >= first_day && t < past_last_day;
}

bool take_char(std::string_view& s, char c) {
    if (s.empty() || s.front() != c)
        return false;
    s.remove_prefix(1);
    return true;
}

}  // namespace

std::optional<timestamp> timestamp::parse(std::string_view s) {
    using namespace std::chrono;
    int y = 0, mo = 0, d = 0;
    if (!take_int(s, 4, y) || !take_char(s, '-') || !take_int(s, 2, mo) || !take_char(s, '-') ||
        !take_int(s, 2, d)) {
        return std::nullopt;
    }
    const year_month_day ymd{
        year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok())
        return std::nullopt;
    sys_ms t = sys_days{ymd};
    if (s.empty())
        return timestamp{t};

    int h = 0, mi = 0, sec = 0;
    if (!take_char(s, 'T') || !take_int(s, 2, h) || !take_char(s, ':') || !take_int(s, 2, mi) ||
        !take_char(s, ':') || !take_int(s, 2, sec) || h > 23 || mi > 59 || sec > 60) {
        return std::nullopt;
    }
    t += hours{h} + minutes{mi} + seconds{sec};
    if (take_char(s, '.')) {
        int ms = 0, scale = 100, n = 0;
        while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front()))) {
            ms += (s.front() - '0') * scale;  // digits past milliseconds are dropped
            scale /= 10;
            s.remove_prefix(1);
            ++n;
        }
        if (n == 0)
            return std::nullopt;
        t += milliseconds{ms};
    }
    if (take_char(s, 'Z')) {
        if (!s.empty() || !writable(t))
            return std::nullopt;  // 9999-12-31T23:59:60Z
        return timestamp{t};
    }
    const bool plus = take_char(s, '+');
    if (!plus && !take_char(s, '-'))
        return std::nullopt;
    int oh = 0, om = 0;
    if (!take_int(s, 2, oh))
        return std::nullopt;
    take_char(s, ':');
    if (!take_int(s, 2, om) || !s.empty() || oh > 23 || om > 59)
        return std::nullopt;
    const auto offset = hours{oh} + minutes{om};
    t = plus ? t - offset : t + offset;
    if (!writable(t))
        return std::nullopt;
    return timestamp{t};
}

namespace {

// YYYY-MM-DDTHH:MM:SS of a UTC instant, through the C++20 calendar. fmt's chrono formatting
// converts to system_clock's nanoseconds first, which overflows past 2262 (a SystemModstamp or
// bound that late is valid input; found by fuzzing).
std::string date_time(sys_ms at) {
    using namespace std::chrono;
    const auto d = floor<days>(at);
    const year_month_day ymd{d};
    const hh_mm_ss hms{floor<seconds>(at - d)};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                       static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()),
                       static_cast<unsigned>(ymd.day()),
                       hms.hours().count(),
                       hms.minutes().count(),
                       hms.seconds().count());
}

long millis(sys_ms at) {
    return (at - std::chrono::floor<std::chrono::seconds>(at)).count();
}

}  // namespace

std::string timestamp::to_salesforce() const {
    return fmt::format("{}.{:03}+0000", date_time(at), millis(at));
}

std::string timestamp::to_soql_literal() const {
    return date_time(at) + "Z";
}

std::string timestamp::to_iso() const {
    return fmt::format("{}.{:03}Z", date_time(at), millis(at));
}

}  // namespace crmsync
