// Fuzz target: Marketing Cloud's v2/token reply (api-reference §3.1). The first byte picks the
// HTTP status (200, 400, 401, 429, 500, 503); decode_token_response must never crash or throw.
// Invariants: only a 200 gives a grant; a grant has a token, a REST base that url::parse
// accepts (https, or http to loopback) without a trailing slash (paths are appended to it) and
// a non-negative lifetime; refused credentials are auth_rejected, 429 rate_limited, 5xx
// transient.

#include "crmsync/http/url.hpp"
#include "crmsync/sink/sfmc/auth.hpp"

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace crmsync;
    if (size == 0)
        return 0;
    static constexpr unsigned statuses[] = {200, 200, 200, 400, 401, 429, 500, 503};
    const unsigned status = statuses[data[0] % 8];
    const auto g = sink::sfmc::decode_token_response(status, fuzz::as_text(data + 1, size - 1));
    if (!g) {
        const auto& f = g.error();
        CRMSYNC_FUZZ_CHECK(f.code.category() == crmsync_category());
        if (status == 429)
            CRMSYNC_FUZZ_CHECK(f.code == errc::rate_limited);
        if (status >= 500)
            CRMSYNC_FUZZ_CHECK(f.code == errc::transient);
        return 0;
    }
    CRMSYNC_FUZZ_CHECK(status == 200);
    CRMSYNC_FUZZ_CHECK(!g->access_token.empty());
    // URL schemes are case-insensitive (RFC 3986 §3.1) and a loopback fake may be http://;
    // what requests rely on is that http::url::parse, which every request goes through,
    // accepts the base (https, or http to loopback only).
    CRMSYNC_FUZZ_CHECK(crmsync::http::url::parse(g->rest_base + "/").has_value());
    CRMSYNC_FUZZ_CHECK(g->rest_base.back() != '/');
    CRMSYNC_FUZZ_CHECK(g->soap_base.empty() || g->soap_base.back() != '/');
    CRMSYNC_FUZZ_CHECK(g->expires_in.count() >= 0);
    return 0;
}
