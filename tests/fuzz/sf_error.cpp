// Fuzz target: the body of a Salesforce error answer, either shape (api-reference §1.7): an
// array of {message, errorCode} from the REST API, {error, error_description} from the token
// endpoint. parse_error never crashes or throws; what it returns is what failure_from_response
// builds the failure from, so that must not crash either, and a 401 INVALID_SESSION_ID is the
// only answer read as an expired token.

#include "crmsync/source/salesforce/client.hpp"
#include "crmsync/source/salesforce/parse.hpp"

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace crmsync::source::salesforce;
    const auto body = crmsync::fuzz::as_text(data, size);
    const auto e = parse_error(body);
    for (const unsigned status : {400u, 401u, 403u, 429u, 503u}) {
        const auto f = failure_from_response(status, body, "");
        CRMSYNC_FUZZ_CHECK(f.http_status == status);
        CRMSYNC_FUZZ_CHECK(f.vendor_code == e.code);
        CRMSYNC_FUZZ_CHECK((f.code == crmsync::errc::token_expired) ==
                           (status == 401 && e.code == "INVALID_SESSION_ID"));
        (void)classify(f);
    }
    return 0;
}
