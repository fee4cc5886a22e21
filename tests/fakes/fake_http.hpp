#pragma once
// Small HTTP helpers shared by the fakes: target splitting, percent-decoding of query strings and
// form bodies, bearer tokens, and turning a scripted fault into a loopback reply.

#include "fault_script.hpp"
#include "loopback_server.hpp"

#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace crmsync::fakes {

using params = std::multimap<std::string, std::string>;

struct split_target_result {
    std::string path;   // percent-decoded path
    std::string query;  // raw query string (after '?'), empty when absent
};

split_target_result split_target(std::string_view target);

// Decodes %XX; `plus_is_space` for application/x-www-form-urlencoded and query strings.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

// Parses "a=1&b=x+y" (query string or form body). Undecodable pairs are skipped.
params parse_params(std::string_view s);

// First value for `key`, if any.
std::optional<std::string> param(const params& p, const std::string& key);

// "Bearer <token>" from the Authorization header (scheme matched case-insensitively).
std::optional<std::string> bearer_token(const testing::http_request& req);

// Media type of the request without parameters, lower-cased ("application/json").
std::string media_type(const testing::http_request& req);

bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view s);

// The reply of an http_status fault: its status, body, content type and headers.
testing::reply status_fault_reply(const fault_spec& f);

// Applies a scripted fault to the reply the fake produced (or would have produced).
void apply_fault(const fault_spec& f, testing::reply& r);

// Random lowercase hex string of `n` characters.
std::string random_hex(std::mt19937_64& rng, std::size_t n);
// RFC 4122-looking version 4 UUID.
std::string random_uuid(std::mt19937_64& rng);

}  // namespace crmsync::fakes
