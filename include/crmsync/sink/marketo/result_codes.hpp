#pragma once
// Marketo's codes (api-reference §2.2) mapped once: response-level 6xx/7xx codes to a runtime
// error code (which decides retry, token refresh, pause or failure), record-level 1xxx reasons
// to SPEC §4 categories.

#include "crmsync/core/error.hpp"
#include "crmsync/core/outcome.hpp"

#include <string_view>

namespace crmsync::sink::marketo {

// Response-level code ("601", "606", ...) → errc: token_expired, rate_limited, transient,
// quota_exhausted, or request_rejected (retrying cannot help).
errc classify_response_code(std::string_view code);

// Record-level reason code ("1007", ...) → category: every code [MK-ERR] lists, in one table
// (result_codes.cpp); an unlisted code is `other`.
category classify_reason_code(std::string_view code);
// A record-level code that is a capacity condition of the instance (1016 too many imports, 1019
// import in progress, 1029 too many jobs), not a problem of the record: the batch is retried
// later instead of filing the record as rejected (SPEC §4: transient failures never land in the
// error log).
bool reason_is_capacity(std::string_view code);

}  // namespace crmsync::sink::marketo
