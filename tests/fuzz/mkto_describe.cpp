// Fuzz target: Marketo's lead describe answers (api-reference §2.4). The first byte picks the
// parser: even, leads/describe.json; odd, leads/describe2.json. Neither may crash or throw.
// Invariants: every field has a name that the schema finds again, a schema is never empty
// (an empty one would look like every mapped field dropped: schema drift), and the id field,
// when set, is one of the fields; lookup fields are non-empty names.

#include "crmsync/sink/marketo/describe.hpp"

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace crmsync;
    if (size == 0)
        return 0;
    const auto body = fuzz::as_text(data + 1, size - 1);
    if (data[0] % 2 == 0) {
        const auto s = sink::marketo::parse_lead_describe(body);
        if (!s) {
            CRMSYNC_FUZZ_CHECK(s.error().code.category() == crmsync_category());
            return 0;
        }
        CRMSYNC_FUZZ_CHECK(!s->fields.empty());
        for (const auto& f : s->fields) {
            CRMSYNC_FUZZ_CHECK(!f.name.empty());
            const auto* found = s->find(f.name);
            CRMSYNC_FUZZ_CHECK(found != nullptr);
            CRMSYNC_FUZZ_CHECK(!f.length || *f.length > 0);
        }
        CRMSYNC_FUZZ_CHECK(s->id_field.empty() || s->find(s->id_field) != nullptr);
    } else {
        const auto keys = sink::marketo::parse_lead_search_fields(body);
        if (!keys)
            return 0;
        for (const auto& k : *keys)
            CRMSYNC_FUZZ_CHECK(!k.empty());
    }
    return 0;
}
