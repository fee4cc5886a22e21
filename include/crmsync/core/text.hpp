#pragma once
// UTF-8 text measured and quoted the way admins read it: in characters (code points), never
// cutting one in half. Rejection messages quote values through quote_excerpt() so one huge text
// field cannot bloat the error log.

#include <cstddef>
#include <string>
#include <string_view>

namespace crmsync {

// Code points in `s`: every byte that is not a UTF-8 continuation byte (10xxxxxx) starts one.
std::size_t code_points(std::string_view s) noexcept;

// The byte length of the first `n` code points of `s` (all of it when it has fewer).
std::size_t prefix_bytes(std::string_view s, std::size_t n) noexcept;

// Equal but for ASCII case: header names, host names, API names and keys the remote side
// compares case-insensitively.
bool iequals_ascii(std::string_view a, std::string_view b) noexcept;

// `s` with A-Z turned into a-z, every other byte as it is: the canonical spelling of a name
// compared the way iequals_ascii compares.
std::string to_lower_ascii(std::string_view s);

// 'text', or 'first max_points characters...' when it is longer.
std::string quote_excerpt(std::string_view s, std::size_t max_points = 80);

}  // namespace crmsync
