#pragma once
// Pure parsing of Marketo Identity's token answer (api-reference §2.1), so the session that
// holds the token is tested, and fuzzed, without a network.

#include "crmsync/core/error.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace crmsync::sink::marketo {

struct identity_token {
    std::string access_token;
    std::chrono::seconds expires_in{0};  // remaining lifetime; a new token reads 3599 [MK-AUTH]
};

// The 200 body of GET /identity/oauth/token: access_token (a non-empty string) and expires_in
// (an integer number of seconds, 0 to a day; Marketo's tokens live an hour). errc::bad_response
// otherwise, never an exception.
result<identity_token> parse_identity_token(std::string_view body);

}  // namespace crmsync::sink::marketo
