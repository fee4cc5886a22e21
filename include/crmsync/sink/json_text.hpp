#pragma once
// JSON text for request bodies, written straight into a string: the hot path of every push
// encodes thousands of values, and going through a DOM (nlohmann::json) would double the work
// and reformat numbers, which must reach the destination exactly as the CRM sent them.

#include "crmsync/core/value.hpp"

#include <string>
#include <string_view>

namespace crmsync::sink {

// A JSON string literal: quotes, backslashes and control characters escaped; UTF-8 passes
// through (RFC 8259 §7).
void append_json_string(std::string& out, std::string_view s);

// null, true/false, a number's original text, or a string literal.
void append_json_value(std::string& out, const value& v);

}  // namespace crmsync::sink
