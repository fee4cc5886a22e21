// Fuzz target: Salesforce's usage reports (api-reference §1.8), which the api_budget is checked
// against. The first byte picks the parser: even, the body of GET /limits; odd, the
// Sforce-Limit-Info header of any response. Neither may crash or throw. Invariants: a usage is
// never negative (a negative "used" would let the budget check pass forever), and the /limits
// usage is Max - Remaining, at least 0.

#include "crmsync/source/salesforce/parse.hpp"

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace crmsync::source::salesforce;
    if (size == 0)
        return 0;
    const auto text = crmsync::fuzz::as_text(data + 1, size - 1);
    if (data[0] % 2 == 0) {
        const auto u = parse_limits(text);
        if (!u) {
            CRMSYNC_FUZZ_CHECK(u.error().code == crmsync::errc::bad_response);
            return 0;
        }
        CRMSYNC_FUZZ_CHECK(u->used >= 0 && u->limit >= 0 && u->used <= u->limit);
    } else if (const auto u = parse_limit_info(text)) {
        CRMSYNC_FUZZ_CHECK(u->used >= 0 && u->limit >= 0);
    }
    return 0;
}
