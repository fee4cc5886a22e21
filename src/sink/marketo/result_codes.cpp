#include "crmsync/sink/marketo/result_codes.hpp"

#include <array>
#include <utility>

namespace crmsync::sink::marketo {
namespace {

// Every record-level reason code of [MK-ERR] (api-reference §2.2 "Record-level codes"), once:
// its SPEC §4 category, and whether it is a capacity condition to wait out rather than a
// problem of the record ("1016/1019/1029 are capacity conditions — retry later").
struct reason_row {
    std::string_view code;
    category cat;
    bool retry_later = false;
};

constexpr reason_row reason_table[] = {
    {"1001", category::validation},   // invalid value type
    {"1002", category::validation},   // missing required parameter
    {"1003", category::validation},   // invalid data (bad value, too many matches)
    {"1004", category::not_found},    // lead not found (updateOnly)
    {"1005", category::duplicate},    // lead already exists (createOnly)
    {"1006", category::validation},   // field not found
    {"1007", category::duplicate},    // multiple leads match the lookup criteria
    {"1008", category::access},       // access denied to partition
    {"1009", category::validation},   // partition name must be specified
    {"1010", category::access},       // partition update not allowed
    {"1011", category::validation},   // field not supported (as lookupField)
    {"1012", category::validation},   // invalid cookie value
    {"1013", category::not_found},    // object not found
    {"1014", category::other},        // failed to create object
    {"1015", category::not_found},    // lead not in list
    {"1016", category::other, true},  // too many imports
    {"1017", category::duplicate},    // object already exists
    {"1018", category::access},       // CRM enabled: the operation is the CRM's
    {"1019", category::other, true},  // import in progress
    {"1020", category::other},        // too many clones to program
    {"1021", category::validation},   // company update not allowed in syncLead
    {"1022", category::other},        // object in use
    {"1025", category::not_found},    // program status not found
    {"1026", category::access},       // custom object not enabled
    {"1027", category::other},        // max activity type limit
    {"1028", category::other},        // max field limit
    {"1029", category::other, true},  // too many jobs in queue / export quota
    {"1035", category::validation},   // unsupported filter type
    {"1036", category::duplicate},    // duplicate object found in input
    {"1037", category::other},        // lead was skipped (already in/past status)
    {"1042", category::validation},   // invalid runAt date
    {"1048", category::other},        // custom object discard draft failed
    {"1049", category::validation},   // activity attributes too large
    {"1076", category::other},        // merge in CRM failed
    {"1077", category::other},        // merge in CRM failed
    {"1078", category::other},        // merge in CRM failed
    {"1079", category::other},        // merge in CRM failed
};

}  // namespace

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
    for (const auto& r : reason_table) {
        if (r.code == code)
            return r.cat;
    }
    return category::other;  // a code the doc does not list
}

bool reason_is_capacity(std::string_view code) {
    for (const auto& r : reason_table) {
        if (r.code == code)
            return r.retry_later;
    }
    return false;
}

}  // namespace crmsync::sink::marketo
