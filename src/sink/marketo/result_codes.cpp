#include "crmsync/sink/marketo/result_codes.hpp"

#include <array>
#include <utility>

namespace crmsync::sink::marketo {

errc classify_response_code(std::string_view code) {
    // [MK-ERR] response-level table; "doc"/"inferred" retry column in api-reference §2.2.
    static constexpr std::array<std::pair<std::string_view, errc>, 12> table{{
        {"601", errc::token_expired},    // Access token invalid
        {"602", errc::token_expired},    // Access token expired
        {"606", errc::rate_limited},     // > 100 calls / 20 s
        {"615", errc::rate_limited},     // > 10 concurrent calls
        {"604", errc::transient},        // request time-out
        {"608", errc::transient},        // API temporarily unavailable
        {"611", errc::transient},        // system error
        {"614", errc::transient},        // invalid subscription: "usually temporary"
        {"713", errc::transient},        // transient error
        {"719", errc::transient},        // lock wait timeout
        {"502", errc::transient},        // bad gateway, "likely a timeout"
        {"607", errc::quota_exhausted},  // daily quota reached, resets 12:00 AM CST
    }};
    for (const auto& [c, e] : table) {
        if (c == code)
            return e;
    }
    if (code == "500")
        return errc::transient;
    // 603 access denied, 605 method, 609 JSON, 610 not found, 612 content type, 7xx bad
    // parameters: the request itself is wrong and would fail the same way again.
    return errc::request_rejected;
}

category classify_reason_code(std::string_view code) {
    // [MK-ERR] record-level codes.
    static constexpr std::array<std::pair<std::string_view, category>, 16> table{{
        {"1001", category::validation},  // invalid value type
        {"1002", category::validation},  // missing required parameter
        {"1003", category::validation},  // invalid data
        {"1004", category::not_found},   // lead not found (updateOnly)
        {"1005", category::duplicate},   // lead already exists (createOnly)
        {"1006", category::validation},  // field not found
        {"1007", category::duplicate},   // multiple leads match the lookup criteria
        {"1008", category::access},      // access denied to partition
        {"1009", category::validation},  // partition name must be specified
        {"1010", category::access},      // partition update not allowed
        {"1011", category::validation},  // field not supported as lookup
        {"1013", category::not_found},   // object not found
        {"1017", category::duplicate},   // object already exists
        {"1036", category::duplicate},   // duplicate object found in input
        {"1014", category::other},       // failed to create object
        {"1049", category::validation},  // activity attributes too large
    }};
    for (const auto& [c, cat] : table) {
        if (c == code)
            return cat;
    }
    return category::other;
}

}  // namespace crmsync::sink::marketo
