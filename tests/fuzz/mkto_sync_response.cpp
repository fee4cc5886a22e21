// Fuzz target: the 200 body of a Marketo Sync Leads call (api-reference §2.2-2.3). The first
// byte is the batch size the body answers (1 to 256). decode_sync_response must return one
// outcome per record or a failure, never crash or throw. Invariants: exactly `expected`
// outcomes; a failure is a response-level code or bad_response, never a rejection in disguise
// (a transient failure must stay retryable: SPEC §4); a rejection always has a category.

#include "crmsync/sink/marketo/encode.hpp"
#include "crmsync/sink/marketo/sink.hpp"

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace crmsync;
    if (size == 0)
        return 0;
    const std::size_t expected = 1 + data[0];
    const auto r = sink::marketo::decode_sync_response(fuzz::as_text(data + 1, size - 1), expected);
    if (!r) {
        const auto& f = r.error();
        CRMSYNC_FUZZ_CHECK(f.code.category() == crmsync_category());
        CRMSYNC_FUZZ_CHECK(!f.message().empty());
        // Whatever the code, the sink either retries, refreshes or fails the call: classify
        // accepts every failure decode can produce.
        (void)sink::marketo::classify(f);
        return 0;
    }
    CRMSYNC_FUZZ_CHECK(r->size() == expected);
    for (const auto& o : *r) {
        if (const auto* why = std::get_if<rejected>(&o))
            CRMSYNC_FUZZ_CHECK(!to_string(why->category).empty());
    }
    return 0;
}
