// Fuzz target: the bytes are the 200 body of Salesforce's token endpoint (api-reference §1.2).
// parse_token must return a token or errc::bad_response, never crash or throw. Invariants: a
// token has an access token and an instance URL without a trailing slash (paths are appended
// to it), and parsing the answer written back gives the same token.

#include "crmsync/source/salesforce/parse.hpp"

#include "fuzz_check.hpp"
#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace crmsync::source::salesforce;
    const auto t = parse_token(crmsync::fuzz::as_text(data, size));
    if (!t) {
        CRMSYNC_FUZZ_CHECK(t.error().code == crmsync::errc::bad_response);
        CRMSYNC_FUZZ_CHECK(!t.error().message().empty());
        return 0;
    }
    CRMSYNC_FUZZ_CHECK(!t->access_token.empty());
    CRMSYNC_FUZZ_CHECK(!t->instance_url.empty());
    CRMSYNC_FUZZ_CHECK(t->instance_url.back() != '/');
    const auto again = parse_token(nlohmann::json{
        {"access_token", t->access_token},
        {"instance_url",
         t->instance_url}}.dump());
    CRMSYNC_FUZZ_CHECK(again && again->access_token == t->access_token &&
                       again->instance_url == t->instance_url);
    return 0;
}
