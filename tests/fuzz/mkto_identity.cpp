// Fuzz target: the 200 body of Marketo Identity's token call (api-reference §2.1).
// parse_identity_token must return a token or errc::bad_response, never crash or throw.
// Invariants: a token is non-empty and its lifetime is a bounded number of seconds, so adding
// it to the session's clock cannot overflow (UBSan watches that in the fuzz build).

#include "crmsync/sink/marketo/auth.hpp"

#include "fuzz_check.hpp"

#include <chrono>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace crmsync;
    const auto t = sink::marketo::parse_identity_token(fuzz::as_text(data, size));
    if (!t) {
        CRMSYNC_FUZZ_CHECK(t.error().code == errc::bad_response);
        return 0;
    }
    CRMSYNC_FUZZ_CHECK(!t->access_token.empty());
    CRMSYNC_FUZZ_CHECK(t->expires_in >= std::chrono::seconds(0));
    CRMSYNC_FUZZ_CHECK(t->expires_in <= std::chrono::hours(24));
    (void)(std::chrono::steady_clock::now() + t->expires_in);
    return 0;
}
