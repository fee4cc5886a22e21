// Fuzz target: the SOQL builder (source/salesforce/soql.hpp) against the fake Salesforce's own
// SOQL parser (tests/fakes/soql.cpp, which follows Salesforce's grammar). The bytes are lines:
// an object name, comma-separated columns, comma-separated record ids, then 16 bytes for the
// window's bounds and a flags byte. Invariants: whatever the names, the builder either refuses
// with config_invalid or builds a query the parser reads back exactly: the same object, the
// select list it promised, the ids as IN literals (nothing injected beside them), the window's
// bounds at whole seconds, and the ORDER BY the watermark relies on.

#include "crmsync/source/salesforce/soql.hpp"

#include "fuzz_check.hpp"
#include "soql.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <strings.h>
#include <vector>

namespace {

using namespace crmsync;
namespace fsoql = crmsync::fakes::soql;

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    if (s.empty())
        return out;
    std::size_t start = 0;
    for (;;) {
        const auto at = s.find(sep, start);
        out.emplace_back(s.substr(start, at == std::string_view::npos ? at : at - start));
        if (at == std::string_view::npos)
            return out;
        start = at + 1;
    }
}

std::vector<std::string> fields_of(const fsoql::query& q) {
    std::vector<std::string> out;
    for (const auto& f : q.fields)
        out.push_back(f.text);
    return out;
}

bool orders_by_watermark(const fsoql::query& q) {
    return q.order_by.size() == 2 && q.order_by[0].field.text == "SystemModstamp" &&
           q.order_by[1].field.text == "Id" && !q.order_by[0].descending &&
           !q.order_by[1].descending;
}

// A parsed query, or a report of why the builder's output does not parse.
std::optional<fsoql::query> read_back(const std::string& soql) {
    try {
        return fsoql::parse(soql);
    } catch (const fsoql::query_error& e) {
        std::fprintf(stderr, "built query does not parse: %s\n%s\n", soql.c_str(), e.what());
        return std::nullopt;
    }
}

// A bound between 1970 and 9999, whole milliseconds, from 8 bytes.
timestamp bound(const std::uint8_t* p) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);
    constexpr std::uint64_t span = 253'402'300'799'000ULL;  // 9999-12-31T23:59:59Z in ms
    return timestamp{sys_ms(std::chrono::milliseconds(static_cast<std::int64_t>(v % span)))};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace crmsync::source::salesforce;
    if (size < 17)
        return 0;
    const auto tail = data + size - 17;
    const auto lines = split(fuzz::as_text(data, size - 17), '\n');
    const std::string object = lines.size() > 0 ? lines[0] : "";
    const auto columns = lines.size() > 1 ? split(lines[1], ',') : std::vector<std::string>{};
    const auto ids = lines.size() > 2 ? split(lines[2], ',') : std::vector<std::string>{};

    if (const auto soql = by_ids(object, columns, ids)) {
        const auto q = read_back(*soql);
        CRMSYNC_FUZZ_CHECK(q.has_value());
        CRMSYNC_FUZZ_CHECK(q->object == object);
        CRMSYNC_FUZZ_CHECK(fields_of(*q) == select_list(columns));
        CRMSYNC_FUZZ_CHECK(q->where && q->where->what == fsoql::expr::kind::compare);
        CRMSYNC_FUZZ_CHECK(q->where->field.text == "Id" && q->where->oper == fsoql::op::in);
        std::vector<std::string> got;
        for (const auto& v : q->where->values) {
            CRMSYNC_FUZZ_CHECK(v.kind == fsoql::literal::type::string);
            got.push_back(v.text);
        }
        CRMSYNC_FUZZ_CHECK(got == ids);
        CRMSYNC_FUZZ_CHECK(orders_by_watermark(*q));
    } else {
        CRMSYNC_FUZZ_CHECK(soql.error().code == errc::config_invalid);
    }

    const std::uint8_t flags = tail[16];
    window_query w{.object = object,
                   .columns = columns,
                   .where = {},
                   .from = std::nullopt,
                   .before = bound(tail + 8),
                   .limit = std::nullopt,
                   .with_deleted = (flags & 1) != 0};
    if (flags & 2)
        w.from = bound(tail);
    if (flags & 4)
        w.limit = flags >> 3;
    if (const auto soql = changed_since(w)) {
        const auto q = read_back(*soql);
        CRMSYNC_FUZZ_CHECK(q.has_value());
        CRMSYNC_FUZZ_CHECK(q->object == object);
        auto want = columns;
        const auto is_deleted = [](const std::string& c) {
            return c.size() == 9 && ::strncasecmp(c.c_str(), "isdeleted", 9) == 0;
        };
        if (w.with_deleted && std::none_of(want.begin(), want.end(), is_deleted))
            want.emplace_back("IsDeleted");
        CRMSYNC_FUZZ_CHECK(fields_of(*q) == select_list(want));
        CRMSYNC_FUZZ_CHECK(orders_by_watermark(*q));
        CRMSYNC_FUZZ_CHECK(q->limit ==
                           (w.limit ? std::optional<std::int64_t>(*w.limit) : std::nullopt));
        // The bounds: [from, before) on SystemModstamp, at whole seconds.
        std::vector<const fsoql::expr*> terms;
        if (q->where->what == fsoql::expr::kind::all_of) {
            for (const auto& c : q->where->children)
                terms.push_back(&c);
        } else {
            terms.push_back(&*q->where);
        }
        CRMSYNC_FUZZ_CHECK(terms.size() == (w.from ? 2u : 1u));
        const auto floor_s = [](const timestamp& t) {
            return std::chrono::floor<std::chrono::seconds>(t.at);
        };
        const auto& upper = *terms.back();
        CRMSYNC_FUZZ_CHECK(upper.field.text == "SystemModstamp" && upper.oper == fsoql::op::lt);
        CRMSYNC_FUZZ_CHECK(upper.values.size() == 1 &&
                           upper.values[0].kind == fsoql::literal::type::datetime &&
                           upper.values[0].at == floor_s(w.before));
        if (w.from) {
            const auto& lower = *terms.front();
            CRMSYNC_FUZZ_CHECK(lower.field.text == "SystemModstamp" && lower.oper == fsoql::op::ge);
            CRMSYNC_FUZZ_CHECK(lower.values.size() == 1 && lower.values[0].at == floor_s(*w.from));
        }
    } else {
        CRMSYNC_FUZZ_CHECK(soql.error().code == errc::config_invalid);
    }
    return 0;
}
