#include "crmsync/config/model.hpp"

namespace crmsync::config {

std::string_view stream_destination::custom_object() const noexcept {
    constexpr std::string_view prefix = "custom:";
    const std::string_view o = object;
    return o.starts_with(prefix) ? o.substr(prefix.size()) : std::string_view{};
}

const stream* config::find_stream(std::string_view name) const {
    for (const auto& s : streams) {
        if (s.name == name)
            return &s;
    }
    return nullptr;
}

}  // namespace crmsync::config
