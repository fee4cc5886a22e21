#include "crmsync/config/duration.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>

namespace crmsync::config {
namespace {

struct unit {
    std::string_view name;
    long long ms;
};

// Largest first: parse_duration requires this order, format_duration produces it.
constexpr std::array<unit, 4> units{{{"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};

constexpr std::string_view examples = "e.g. 500ms, 30s, 5m, 1h, 1h30m";

bool all_digits(std::string_view s) {
    if (s.empty())
        return false;
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c)))
            return false;
    }
    return true;
}

}  // namespace

std::optional<duration> parse_duration(std::string_view text, std::string* problem) {
    auto fail = [&](std::string why) -> std::optional<duration> {
        if (problem)
            *problem = std::move(why);
        return std::nullopt;
    };
    if (text.empty())
        return fail(fmt::format("empty duration; expected {}", examples));
    if (all_digits(text)) {
        return fail(
            fmt::format("invalid duration '{}': a number needs a unit, e.g. '{}s' "
                        "(units: h, m, s, ms)",
                        text,
                        text));
    }
    const auto bad = [&] {
        return fail(fmt::format("invalid duration '{}'; expected {}", text, examples));
    };

    std::string_view rest = text;
    long long total = 0;
    std::size_t next_unit = 0;  // units must come largest first, each once
    while (!rest.empty()) {
        std::size_t digits = 0;
        while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
            ++digits;
        }
        // Ten digits of hours already exceed any sensible interval; stop before overflow.
        if (digits == 0 || digits > 9)
            return bad();
        long long n = 0;
        for (std::size_t i = 0; i < digits; ++i)
            n = n * 10 + (rest[i] - '0');
        rest.remove_prefix(digits);

        std::size_t letters = 0;
        while (letters < rest.size() && std::isalpha(static_cast<unsigned char>(rest[letters]))) {
            ++letters;
        }
        const std::string_view name = rest.substr(0, letters);
        rest.remove_prefix(letters);
        std::size_t u = next_unit;
        while (u < units.size() && units[u].name != name)
            ++u;
        if (u == units.size())
            return bad();
        total += n * units[u].ms;
        next_unit = u + 1;
    }
    return duration{total};
}

std::string format_duration(duration d) {
    long long left = d.count();
    if (left == 0)
        return "0s";
    std::string out;
    if (left < 0) {
        out += '-';
        left = -left;
    }
    for (const auto& u : units) {
        if (left >= u.ms) {
            out += fmt::format("{}{}", left / u.ms, u.name);
            left %= u.ms;
        }
    }
    return out;
}

}  // namespace crmsync::config
