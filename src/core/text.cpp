#include "crmsync/core/text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace crmsync {
namespace {

bool is_continuation(char c) noexcept {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

char lower_ascii(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::size_t code_points(std::string_view s) noexcept {
    std::size_t n = 0;
    for (const char c : s)
        n += is_continuation(c) ? 0 : 1;
    return n;
}

std::size_t prefix_bytes(std::string_view s, std::size_t n) noexcept {
    std::size_t seen = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (!is_continuation(s[i]) && seen++ == n)
            return i;
    }
    return s.size();
}

bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return lower_ascii(x) == lower_ascii(y);
    });
}

std::string to_lower_ascii(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower_ascii);
    return out;
}

std::string quote_excerpt(std::string_view s, std::size_t max_points) {
    const std::size_t cut = prefix_bytes(s, max_points);
    return cut < s.size() ? fmt::format("'{}...'", s.substr(0, cut)) : fmt::format("'{}'", s);
}

}  // namespace crmsync
