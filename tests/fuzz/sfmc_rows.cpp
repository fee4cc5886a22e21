// Fuzz target: Marketing Cloud's row-write replies (api-reference §3.2-3.3). The first byte
// picks the parser: the rowset 200, the async 202 (requestId), the async status, the async
// results page. None may crash or throw. Invariants: an accepted async write has a request id;
// a results page never counts fewer processed rows than it lists, and each failed item says why.

#include "crmsync/sink/sfmc/encode.hpp"

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace crmsync;
    using namespace crmsync::sink::sfmc;
    if (size == 0)
        return 0;
    const auto body = fuzz::as_text(data + 1, size - 1);
    switch (data[0] % 4) {
        case 0:
            (void)decode_rowset_response(body);
            break;
        case 1:
            if (const auto id = decode_async_accepted(body))
                CRMSYNC_FUZZ_CHECK(!id->empty());
            break;
        case 2:
            (void)decode_async_status(body);
            break;
        case 3:
            if (const auto page = decode_async_results(body)) {
                for (const auto& item : page->items) {
                    if (!item.ok)
                        CRMSYNC_FUZZ_CHECK(!item.error_code.empty() || !item.message.empty());
                    (void)classify_item_error(item);
                }
            }
            break;
    }
    return 0;
}
