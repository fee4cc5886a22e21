#pragma once
// The envelope every Marketo REST answer shares (api-reference §2.2): HTTP 200 with a `success`
// flag; `errors[{code, message}]` when it is false, `result[]` when it is true. Read once here
// for every endpoint, so a response-level code is classified the same way wherever it appears.

#include "crmsync/core/error.hpp"
#include "crmsync/core/outcome.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace crmsync::sink::marketo::detail {

// [MK-ERR] codes are quoted integer strings; some mocks send numbers. Empty when neither.
std::string code_text(const nlohmann::json& c);

// The `result` array of a successful answer. success:false → the first error's code classified
// by classify_response_code (vendor_code set); not JSON, no success flag or no result array →
// errc::bad_response. `what` names the endpoint in the detail ("leads.json").
result<nlohmann::json> read_envelope(std::string_view body, std::string_view what);
// The same for a body already parsed (one that also carries paging fields, read first).
result<nlohmann::json> read_envelope(nlohmann::json&& body, std::string_view what);

// One outcome per input record from a sync's `result` array (leads and custom objects alike,
// [MK-ERR] record level): created/updated → delivered, skipped → rejected with the first
// reason's code classified by classify_reason_code. The count must match the input.
result<std::vector<record_outcome>> decode_results(const nlohmann::json& results,
                                                   std::size_t expected,
                                                   std::string_view what);

}  // namespace crmsync::sink::marketo::detail
