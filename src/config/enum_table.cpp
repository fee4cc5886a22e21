#include "crmsync/config/enum_table.hpp"

#include "crmsync/config/schema.hpp"

#include <fmt/format.h>

namespace crmsync::config {

std::string unknown_message(std::string_view what,
                            std::string_view got,
                            std::span<const std::string_view> candidates,
                            std::string_view context) {
    std::string out = fmt::format("unknown {} '{}'", what, got);
    if (!context.empty())
        out += fmt::format(" in {}", context);
    if (const auto near = closest(got, candidates)) {
        out += fmt::format("; did you mean '{}'?", *near);
    } else {
        out += ";";
    }
    out += fmt::format(" expected one of: {}", fmt::join(candidates, ", "));
    return out;
}

std::string_view to_string(auth_flow f) noexcept {
    return auth_flows.name(f);
}
std::string_view to_string(destination_kind k) noexcept {
    return destination_kinds.name(k);
}
std::string_view to_string(converted_mode m) noexcept {
    return converted_modes.name(m);
}
std::string_view to_string(dedupe_mode m) noexcept {
    return dedupe_modes.name(m);
}

std::string_view to_string(deletes_mode m) noexcept {
    return m == deletes_mode::flag ? "flag" : deletes_modes.name(m);
}

}  // namespace crmsync::config
