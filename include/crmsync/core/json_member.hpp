#pragma once
// Reading members of a JSON body from outside. nlohmann's value(key, "") throws type_error
// when the member exists but is not a string ({"error": 1}): from a hostile or garbled error
// body that exception escaped the parsers and ended the daemon (found by tests/fuzz/sf_error
// and sfmc_token). These read what is there or give the fallback, never throw.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace crmsync {

// The member `key` of `o` when `o` is an object and the member a string, else "".
inline std::string string_member(const nlohmann::json& o, std::string_view key) {
    if (!o.is_object())
        return {};
    const auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// The member `key` of `o` when `o` is an object and the member a boolean, else `fallback`.
inline bool bool_member(const nlohmann::json& o, std::string_view key, bool fallback) {
    if (!o.is_object())
        return fallback;
    const auto it = o.find(key);
    return it != o.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

}  // namespace crmsync
