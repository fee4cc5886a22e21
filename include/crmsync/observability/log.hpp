#pragma once
// Structured logs (SPEC §5): one JSON object per line on stderr (journald keeps it), or a
// readable line for a terminal. Every line carries timestamp, level and message; events add
// typed fields (stream, object, batch_id, counts, duration_ms, error, category, code).
//
// Style (STYLE.md rule 6): messages are capitalized and end with a period; the error text is
// always under the key "error". Fields must never hold secrets: pass crmsync::secret values
// only if you want "**REDACTED**" in the line.
//
// | Name   | Description                        | Default |
// |--------|------------------------------------|---------|
// | level  | trace, debug, info, warn, error    | info    |
// | format | json (one object per line) or text | json    |

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace crmsync::observability {

enum class level { trace, debug, info, warn, error };

struct log_settings {
    level min_level = level::info;
    bool json = true;
};

// Replaces the process-wide logger. Safe to call again (reload changes the level).
void init_logging(const log_settings& s);
bool parse_level(std::string_view text, level& out);

// Emits one line. `fields` must be a JSON object (or null for none).
void log(level l, std::string_view message, const nlohmann::json& fields = nullptr);

inline void info(std::string_view m, const nlohmann::json& f = nullptr) {
    log(level::info, m, f);
}
inline void warn(std::string_view m, const nlohmann::json& f = nullptr) {
    log(level::warn, m, f);
}
inline void error(std::string_view m, const nlohmann::json& f = nullptr) {
    log(level::error, m, f);
}
inline void debug(std::string_view m, const nlohmann::json& f = nullptr) {
    log(level::debug, m, f);
}

// The line as it would be written, without the timestamp (for tests of the format).
std::string format_line(level l, std::string_view message, const nlohmann::json& fields, bool json);

}  // namespace crmsync::observability
