#pragma once
// Salesforce dateTime values and SOQL literals. The REST API renders
// "2013-05-20T20:49:32.000+0000" (api-reference §1.3); SOQL literals are written
// "2013-05-20T20:49:32Z" and compare at whole seconds.

#include <chrono>
#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace crmsync {

using sys_ms = std::chrono::sys_time<std::chrono::milliseconds>;

struct timestamp {
    sys_ms at{};

    friend auto operator<=>(const timestamp&, const timestamp&) = default;

    // Accepts the REST form (.000+0000), offsets like +02:00, "Z", with or without fraction,
    // and a bare date (midnight UTC). Nothing else.
    static std::optional<timestamp> parse(std::string_view text);
    // "2013-05-20T20:49:32.000+0000", what Salesforce itself sends (stored in the state).
    std::string to_salesforce() const;
    // "2013-05-20T20:49:32Z", a SOQL dateTime literal (whole seconds, rounded down).
    std::string to_soql_literal() const;
    // "2013-05-20T20:49:32.000Z", for logs, status and JSON output.
    std::string to_iso() const;
};

}  // namespace crmsync
