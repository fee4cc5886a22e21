#pragma once
// Marketing Cloud's failures classified in one pure place (STYLE.md convention 3,
// api-reference §3.4): an HTTP reply becomes a failure (errc, the vendor's errorcode, its
// message, Retry-After), and a failure becomes a decision — retry, refresh the token once, reject
// the records with a SPEC category, or fail the batch.

#include "crmsync/core/error.hpp"
#include "crmsync/core/outcome.hpp"
#include "crmsync/http/client.hpp"
#include "crmsync/http/disposition.hpp"

#include <optional>
#include <string_view>

namespace crmsync::sink::sfmc {

// A REST reply that is not a success, as a failure. The body is the documented error object
// {"message", "errorcode", "documentation"[, "additionalErrors": [...]]} [SFMC-ERR]:
//   400 → request_rejected (vendor_code 10000-10006), 401 → token_expired, 403 →
//   request_rejected (20000-20002), 429 → rate_limited (Retry-After, else the body's
//   retryAfter, in seconds [SFMC-RATE]), 5xx → transient, any other → http_status.
// `detail` is the vendor's message (with the additionalErrors' messages after a colon), never
// the request, so it can go to the error log as is. A 400/403 whose body is not that object is
// errc::bad_response (the reply does not say what was wrong).
failure rest_failure(const http::response& r);

struct decision {
    http::disposition action = http::disposition::fail;
    // With action == fail: the records of the call are rejected with this category rather than
    // the batch failing (validation: 400 10000-10006; access: 403).
    std::optional<category> reject;
};

// Pure, one row per documented code (tests/unit/sink/sfmc_errors_test.cpp).
decision classify(const failure& f);

// The rejection a record gets for a failure classify() turned into `reject`.
rejected rejection(const failure& f, category c);

}  // namespace crmsync::sink::sfmc
