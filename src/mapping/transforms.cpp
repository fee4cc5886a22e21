#include "crmsync/mapping/transforms.hpp"

#include "crmsync/core/text.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>

namespace crmsync::mapping {
namespace {

constexpr std::array<std::string_view, 9> names{
    "trim", "lower", "upper", "title", "collapse_spaces", "truncate", "date", "phone", "default"};

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
// A UTF-8 continuation byte is 10xxxxxx; every other byte starts a code point.
bool is_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}
bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}

constexpr std::string_view directives = "YymdejHIMSpbhBaAuwFTDRzZs%";

constexpr std::array<std::string_view, 12> month_names{"January",
                                                       "February",
                                                       "March",
                                                       "April",
                                                       "May",
                                                       "June",
                                                       "July",
                                                       "August",
                                                       "September",
                                                       "October",
                                                       "November",
                                                       "December"};
constexpr std::array<std::string_view, 7> day_names{
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

}  // namespace

std::span<const std::string_view> transform_names() {
    return names;
}

void trim(std::string& s) {
    std::size_t end = s.size();
    while (end > 0 && is_space(s[end - 1]))
        --end;
    std::size_t begin = 0;
    while (begin < end && is_space(s[begin]))
        ++begin;
    s.erase(end);
    s.erase(0, begin);
}

void lower(std::string& s) {
    for (char& c : s) {
        if (is_upper(c))
            c = static_cast<char>(c - 'A' + 'a');
    }
}

void upper(std::string& s) {
    for (char& c : s) {
        if (is_lower(c))
            c = static_cast<char>(c - 'a' + 'A');
    }
}

void title(std::string& s) {
    bool word_start = true;
    for (char& c : s) {
        if (word_start && is_lower(c)) {
            c = static_cast<char>(c - 'a' + 'A');
        } else if (!word_start && is_upper(c)) {
            c = static_cast<char>(c - 'A' + 'a');
        }
        // Bytes of a multi-byte character count as letters: "élodie" keeps its é and the
        // 'l' after it is not a word start.
        word_start = is_space(c) || c == '-' || c == '\'';
    }
}

void collapse_spaces(std::string& s) {
    std::size_t out = 0;
    bool in_space = false;
    for (char c : s) {
        if (is_space(c)) {
            if (!in_space)
                s[out++] = ' ';
            in_space = true;
        } else {
            s[out++] = c;
            in_space = false;
        }
    }
    s.resize(out);
}

void truncate(std::string& s, std::size_t code_points) {
    s.resize(prefix_bytes(s, code_points));
}

std::optional<date_format> date_format::compile(std::string_view format, std::string* problem) {
    const auto fail = [&](std::string why) -> std::optional<date_format> {
        if (problem)
            *problem = std::move(why);
        return std::nullopt;
    };
    date_format out;
    out.text_ = format;
    bool converts = false;
    std::string literal;
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') {
            literal += format[i];
            continue;
        }
        if (i + 1 == format.size()) {
            return fail(
                fmt::format("date format '{}' ends with a lone '%' (write %% for a "
                            "literal '%')",
                            format));
        }
        const char d = format[++i];
        if (directives.find(d) == std::string_view::npos) {
            std::string known;
            for (char k : directives)
                known += fmt::format("{}%{}", known.empty() ? "" : " ", k);
            // Quote the whole character after '%': half of a UTF-8 sequence in a message is
            // an invalid string in a terminal or a JSON log.
            std::size_t end = i + 1;
            while (end < format.size() && is_continuation(format[end]))
                ++end;
            const std::string_view shown = format.substr(i, end - i);
            return fail(
                fmt::format("unknown directive '%{}' in date format '{}'; expected one "
                            "of: {}",
                            shown,
                            format,
                            known));
        }
        if (d == '%') {
            literal += '%';
            continue;
        }
        if (!literal.empty())
            out.segments_.push_back({0, std::move(literal)});
        literal.clear();
        out.segments_.push_back({d, {}});
        converts = true;
    }
    if (!literal.empty())
        out.segments_.push_back({0, std::move(literal)});
    if (!converts) {
        return fail(
            fmt::format("date format '{}' has no conversion; expected e.g. \"%Y-%m-%d\"", format));
    }
    return out;
}

namespace {

// Zero-padded decimal of a non-negative number, at least `width` digits: what "{:0N}" prints.
// By hand because date fields are formatted once per record (SPEC §6) and fmt's parsing of
// the format string cost more than the conversion.
void pad(std::string& out, long long n, int width) {
    char digits[24];
    int len = 0;
    do {
        digits[len++] = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n > 0);
    for (int i = len; i < width; ++i)
        out += '0';
    while (len > 0)
        out += digits[--len];
}

}  // namespace

std::string date_format::format(sys_ms at) const {
    using namespace std::chrono;
    const auto day = floor<days>(at);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> time{at - day};
    const int y = static_cast<int>(ymd.year());
    const unsigned mo = static_cast<unsigned>(ymd.month());
    const unsigned d = static_cast<unsigned>(ymd.day());
    const long h = time.hours().count();
    const long mi = time.minutes().count();
    const long s = time.seconds().count();
    const unsigned wd = weekday{day}.c_encoding();  // 0 = Sunday
    const auto yday = (day - sys_days{ymd.year() / January / 1}).count() + 1;
    const long h12 = h % 12 == 0 ? 12 : h % 12;
    const int yy = ((y % 100) + 100) % 100;
    auto year = [&](std::string& out) {
        if (y >= 0)
            pad(out, y, 4);
        else
            fmt::format_to(std::back_inserter(out), "{:04}", y);  // "-001", as ever
    };

    std::string out;
    out.reserve(32);
    for (const auto& seg : segments_) {
        switch (seg.directive) {
            case 0:
                out += seg.literal;
                break;
            case 'Y':
                year(out);
                break;
            case 'y':
                pad(out, yy, 2);
                break;
            case 'm':
                pad(out, mo, 2);
                break;
            case 'd':
                pad(out, d, 2);
                break;
            case 'e':
                if (d < 10)
                    out += ' ';
                pad(out, d, 1);
                break;
            case 'j':
                pad(out, yday, 3);
                break;
            case 'H':
                pad(out, h, 2);
                break;
            case 'I':
                pad(out, h12, 2);
                break;
            case 'M':
                pad(out, mi, 2);
                break;
            case 'S':
                pad(out, s, 2);
                break;
            case 'p':
                out += h < 12 ? "AM" : "PM";
                break;
            case 'b':
            case 'h':
                out += month_names[mo - 1].substr(0, 3);
                break;
            case 'B':
                out += month_names[mo - 1];
                break;
            case 'a':
                out += day_names[wd].substr(0, 3);
                break;
            case 'A':
                out += day_names[wd];
                break;
            case 'u':
                pad(out, wd == 0 ? 7 : wd, 1);
                break;
            case 'w':
                pad(out, wd, 1);
                break;
            case 'F':
                year(out);
                out += '-';
                pad(out, mo, 2);
                out += '-';
                pad(out, d, 2);
                break;
            case 'T':
                pad(out, h, 2);
                out += ':';
                pad(out, mi, 2);
                out += ':';
                pad(out, s, 2);
                break;
            case 'D':
                pad(out, mo, 2);
                out += '/';
                pad(out, d, 2);
                out += '/';
                pad(out, yy, 2);
                break;
            case 'R':
                pad(out, h, 2);
                out += ':';
                pad(out, mi, 2);
                break;
            case 'z':
                out += "+0000";
                break;
            case 'Z':
                out += "UTC";
                break;
            case 's':
                fmt::format_to(
                    std::back_inserter(out), "{}", floor<seconds>(at).time_since_epoch().count());
                break;
            default:
                break;  // compile() admits only the directives above
        }
    }
    return out;
}

std::optional<std::string> reformat_date(std::string_view text, const date_format& format) {
    const auto t = timestamp::parse(text);
    if (!t)
        return std::nullopt;
    return format.format(t->at);
}

}  // namespace crmsync::mapping
