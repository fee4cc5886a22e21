#include "crmsync/core/outcome.hpp"

#include <array>
#include <utility>

namespace crmsync {
namespace {
constexpr std::array<std::pair<category, std::string_view>, 5> names{{
    {category::duplicate, "duplicate"},
    {category::validation, "validation"},
    {category::access, "access"},
    {category::not_found, "not_found"},
    {category::other, "other"},
}};
}  // namespace

std::string_view to_string(category c) noexcept {
    for (const auto& [k, name] : names) {
        if (k == c)
            return name;
    }
    return "other";
}

std::optional<category> parse_category(std::string_view s) noexcept {
    for (const auto& [k, name] : names) {
        if (name == s)
            return k;
    }
    return std::nullopt;
}

}  // namespace crmsync
