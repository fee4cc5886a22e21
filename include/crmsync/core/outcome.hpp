#pragma once
// Per-record results are values, not errors (STYLE.md "Error-handling convention" 1).

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace crmsync {

// SPEC §4 "Error categories": stable strings, used in the error log, logs, metrics and CLI.
enum class category { duplicate, validation, access, not_found, other };

std::string_view to_string(category c) noexcept;
std::optional<category> parse_category(std::string_view s) noexcept;

struct delivered {
    bool created = false;  // false: updated
};

struct rejected {
    crmsync::category category = category::other;
    std::string code;     // the destination's code ("1007") or ours ("REQUIRED_MISSING")
    std::string message;  // the destination's or our message; never holds a secret
};

using record_outcome = std::variant<delivered, rejected>;

}  // namespace crmsync
