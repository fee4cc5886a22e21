// Fuzz target: the SOAP reply to a Retrieve of DataExtensionField (sink/sfmc/describe.hpp),
// XML parsed by pugixml. The first byte picks the HTTP status (200 or 500); the rest is the
// body. decode_field_retrieve must never crash, throw or hang. Invariants: every column has a
// name, every primary-key column is one of the columns, and a page that says there is more
// names the request to continue.

#include "crmsync/sink/sfmc/describe.hpp"

#include "fuzz_check.hpp"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace crmsync;
    if (size == 0)
        return 0;
    const unsigned status = data[0] % 2 == 0 ? 200 : 500;
    const auto page = sink::sfmc::decode_field_retrieve(status, fuzz::as_text(data + 1, size - 1));
    if (!page) {
        CRMSYNC_FUZZ_CHECK(page.error().code.category() == crmsync_category());
        return 0;
    }
    for (const auto& f : page->fields)
        CRMSYNC_FUZZ_CHECK(!f.name.empty());
    for (const auto& k : page->key_fields) {
        CRMSYNC_FUZZ_CHECK(std::any_of(page->fields.begin(),
                                       page->fields.end(),
                                       [&](const sink::field_schema& f) { return f.name == k; }));
    }
    CRMSYNC_FUZZ_CHECK(!page->more || !page->request_id.empty());
    return 0;
}
