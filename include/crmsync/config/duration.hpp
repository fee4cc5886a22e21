#pragma once
// Durations as admins write them (SPEC §3): "500ms", "30s", "5m", "1h", "1h30m". A bare number
// is refused: "every: 60" could mean seconds or milliseconds, and guessing wrong polls the CRM
// a thousand times too often.

#include "crmsync/config/model.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace crmsync::config {

// One or more <digits><unit> groups, units h, m, s, ms, each at most once and largest first
// ("1h30m", not "30m1h"). On failure returns nullopt and, when `problem` is given, stores a
// message that quotes the text and, for a bare number, suggests the unit to add.
std::optional<duration> parse_duration(std::string_view text, std::string* problem = nullptr);

// The shortest form parse_duration reads back: "1h30m", "500ms", "0s".
std::string format_duration(duration d);

}  // namespace crmsync::config
