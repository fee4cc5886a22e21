#include "crmsync/source/salesforce/parse.hpp"

#include "crmsync/core/json_member.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <simdjson.h>

namespace crmsync::source::salesforce {
namespace {

using json = nlohmann::json;

result<json> parse_json(std::string_view body, std::string_view what) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded()) {
        return make_failure(
            errc::bad_response,
            fmt::format("{}: body is not valid JSON ({} bytes)", what, body.size()));
    }
    return j;
}

value to_value(const json& v) {
    switch (v.type()) {
        case json::value_t::null:
            return value::null();
        case json::value_t::boolean:
            return value::boolean(v.get<bool>());
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float:
            return value::number(v.dump());
        case json::value_t::string:
            return value::string(v.get<std::string>());
        default:
            // Compound fields (address, location) arrive as objects; keep them whole.
            return value::string(v.dump());
    }
}

const json* walk(const json& rec, const std::vector<std::string>& path) {
    const json* cur = &rec;
    for (const auto& part : path) {
        if (!cur->is_object())
            return nullptr;
        auto it = cur->find(part);
        if (it == cur->end())
            return nullptr;
        cur = &*it;
    }
    return cur;
}

}  // namespace

column_set::column_set(const std::vector<std::string>& columns) {
    paths_.reserve(columns.size());
    for (const auto& c : columns) {
        std::vector<std::string> path;
        std::size_t start = 0;
        for (;;) {
            const auto dot = c.find('.', start);
            path.push_back(c.substr(start, dot == std::string::npos ? dot : dot - start));
            if (dot == std::string::npos)
                break;
            start = dot + 1;
        }
        paths_.push_back(std::move(path));
    }
}

result<token> parse_token(std::string_view body) {
    auto j = parse_json(body, "token response");
    if (!j)
        return j.error();
    if (!j->is_object())
        return make_failure(errc::bad_response, "token response: not a JSON object");
    token t;
    const auto at = j->find("access_token");
    const auto iu = j->find("instance_url");
    if (at == j->end() || !at->is_string() || at->get_ref<const std::string&>().empty()) {
        return make_failure(errc::bad_response, "token response: no access_token");
    }
    if (iu == j->end() || !iu->is_string() || iu->get_ref<const std::string&>().empty()) {
        return make_failure(errc::bad_response, "token response: no instance_url");
    }
    t.access_token = at->get<std::string>();
    t.instance_url = iu->get<std::string>();
    while (!t.instance_url.empty() && t.instance_url.back() == '/')
        t.instance_url.pop_back();
    return t;
}

namespace {

// ---- the fast path: simdjson ------------------------------------------------------------------
//
// Query pages are the one body parsed per record (SPEC §6: our cost per record must stay far
// below the API's), so they get simdjson's DOM parser, about ten times nlohmann's speed. It
// handles well-formed pages only: anything it does not accept, and every page that is not what
// a page must be, goes to reference_query_page below, so errors, their messages and every edge
// of nlohmann's reading (duplicate keys: the last wins; numbers printed by nlohmann's dump)
// stay exactly as they were. tests/unit/source/parse_test.cpp compares both on each input.

namespace dom = simdjson::dom;

// nlohmann's rendering of a number: integers as written, doubles in its shortest form. A
// double goes through the function nlohmann's serializer prints it with (dump_float, a 64-byte
// buffer): a json value, a serializer and an output string per number cost about 1,300
// instructions, a fifth of parsing the record, in a page whose records carry a currency.
value number_value(dom::element v) {
    switch (v.type()) {
        case dom::element_type::INT64:
            return value::number(std::to_string(int64_t(v)));
        case dom::element_type::UINT64:
            return value::number(std::to_string(uint64_t(v)));
        default: {
            const double d = double(v);
            if (!std::isfinite(d))
                return value::number("null");  // as dump_float; simdjson reads none
            std::array<char, 64> text;
            char* end = nlohmann::detail::to_chars(text.data(), text.data() + text.size(), d);
            return value::number(std::string(text.data(), end));
        }
    }
}

value to_value(dom::element v) {
    switch (v.type()) {
        case dom::element_type::NULL_VALUE:
            return value::null();
        case dom::element_type::BOOL:
            return value::boolean(bool(v));
        case dom::element_type::INT64:
        case dom::element_type::UINT64:
        case dom::element_type::DOUBLE:
            return number_value(v);
        case dom::element_type::STRING:
            return value::string(std::string(std::string_view(v)));
        default:
            // Compound fields, kept whole as nlohmann prints them (keys sorted): rare enough
            // to go through nlohmann.
            return value::string(json::parse(simdjson::minify(v)).dump());
    }
}

// The last member named `key`, as nlohmann keeps it.
std::optional<dom::element> last_member(dom::object o, std::string_view key) {
    std::optional<dom::element> found;
    for (const auto field : o) {
        if (field.key == key)
            found = field.value;
    }
    return found;
}

value walk_rest(dom::element v, const std::vector<std::string>& path) {
    for (std::size_t i = 1; i < path.size(); ++i) {
        if (v.type() != dom::element_type::OBJECT)
            return value::null();
        const auto next = last_member(dom::object(v), path[i]);
        if (!next)
            return value::null();
        v = *next;
    }
    return to_value(v);
}

// Which columns each member of a record feeds. Records of one page share their member order,
// so the member at position j is usually the one the previous record had there: one compare
// instead of a search.
class member_index {
public:
    explicit member_index(const column_set& columns) : columns_(columns) {}

    const std::vector<std::size_t>& columns_of(std::size_t position, std::string_view key) {
        if (position < cache_.size() && cache_[position].key == key)
            return cache_[position].columns;
        if (position >= cache_.size())
            cache_.resize(position + 1);
        auto& slot = cache_[position];
        slot.key = key;
        slot.columns.clear();
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            if (columns_.paths()[c].front() == key)
                slot.columns.push_back(c);
        }
        return slot.columns;
    }

private:
    struct slot {
        std::string_view key;  // points into the parsed page, alive as long as this index
        std::vector<std::size_t> columns;
    };
    const column_set& columns_;
    std::vector<slot> cache_;
};

std::optional<query_page> fast_query_page(std::string_view body, const column_set& columns) {
    thread_local dom::parser parser;
    // simdjson reads up to SIMDJSON_PADDING bytes past the end, so the page is copied into a
    // buffer with that much room; one per thread, kept, instead of a fresh 2 MB allocation
    // (an mmap and its page faults) per page.
    thread_local std::string padded;
    padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    padded.assign(body);
    dom::element doc;
    if (parser.parse(padded.data(), body.size(), false).get(doc) != simdjson::SUCCESS)
        return std::nullopt;
    dom::object top;
    if (doc.get_object().get(top) != simdjson::SUCCESS)
        return std::nullopt;
    std::optional<dom::element> records, done, next, total;
    for (const auto field : top) {
        if (field.key == "records")
            records = field.value;
        else if (field.key == "done")
            done = field.value;
        else if (field.key == "nextRecordsUrl")
            next = field.value;
        else if (field.key == "totalSize")
            total = field.value;
    }
    if (!records || records->type() != dom::element_type::ARRAY || !done ||
        done->type() != dom::element_type::BOOL) {
        return std::nullopt;
    }
    query_page page;
    if (total &&
        (total->type() == dom::element_type::INT64 || total->type() == dom::element_type::UINT64)) {
        page.total_size = total->type() == dom::element_type::INT64
                              ? static_cast<long>(int64_t(*total))
                              : static_cast<long>(uint64_t(*total));
    }
    if (!bool(*done)) {
        if (!next || next->type() != dom::element_type::STRING || std::string_view(*next).empty())
            return std::nullopt;
        page.next_records_url = std::string(std::string_view(*next));
    }
    const dom::array list(*records);
    page.records.reserve(list.size());
    member_index index(columns);
    for (const auto r : list) {
        if (r.type() != dom::element_type::OBJECT)
            return std::nullopt;
        record rec;
        rec.columns.resize(columns.size());
        std::optional<dom::element> id, stamp, deleted;
        std::size_t position = 0;
        for (const auto field : dom::object(r)) {
            if (field.key == "Id")
                id = field.value;
            else if (field.key == "SystemModstamp")
                stamp = field.value;
            else if (field.key == "IsDeleted")
                deleted = field.value;
            for (const std::size_t c : index.columns_of(position, field.key)) {
                const auto& path = columns.paths()[c];
                rec.columns[c] =
                    path.size() == 1 ? to_value(field.value) : walk_rest(field.value, path);
            }
            ++position;
        }
        if (!id || id->type() != dom::element_type::STRING || !stamp ||
            stamp->type() != dom::element_type::STRING) {
            return std::nullopt;
        }
        const auto ts = timestamp::parse(std::string_view(*stamp));
        if (!ts)
            return std::nullopt;
        rec.id = std::string(std::string_view(*id));
        rec.system_modstamp = *ts;
        if (deleted && deleted->type() == dom::element_type::BOOL)
            rec.is_deleted = bool(*deleted);
        page.records.push_back(std::move(rec));
    }
    return page;
}

}  // namespace

result<query_page> parse_query_page(std::string_view body, const column_set& columns) {
    if (auto page = fast_query_page(body, columns))
        return std::move(*page);
    return reference_query_page(body, columns);
}

result<query_page> reference_query_page(std::string_view body, const column_set& columns) {
    auto parsed = parse_json(body, "query response");
    if (!parsed)
        return parsed.error();
    const json& j = *parsed;
    if (!j.is_object())
        return make_failure(errc::bad_response, "query response: not a JSON object");
    const auto records = j.find("records");
    const auto done = j.find("done");
    if (records == j.end() || !records->is_array()) {
        return make_failure(errc::bad_response, "query response: no records array");
    }
    if (done == j.end() || !done->is_boolean()) {
        return make_failure(errc::bad_response, "query response: no done flag");
    }
    query_page page;
    if (auto ts = j.find("totalSize"); ts != j.end() && ts->is_number_integer()) {
        page.total_size = ts->get<long>();
    }
    if (!done->get<bool>()) {
        const auto next = j.find("nextRecordsUrl");
        if (next == j.end() || !next->is_string() || next->get_ref<const std::string&>().empty()) {
            return make_failure(errc::bad_response,
                                "query response: done is false but no nextRecordsUrl");
        }
        page.next_records_url = next->get<std::string>();
    }
    page.records.reserve(records->size());
    std::size_t index = 0;
    for (const auto& r : *records) {
        if (!r.is_object()) {
            return make_failure(errc::bad_response,
                                fmt::format("query response: record {} is not an object", index));
        }
        record rec;
        const auto id = r.find("Id");
        if (id == r.end() || !id->is_string()) {
            return make_failure(errc::bad_response,
                                fmt::format("query response: record {} has no Id", index));
        }
        rec.id = id->get<std::string>();
        const auto ms = r.find("SystemModstamp");
        std::optional<timestamp> stamp;
        if (ms != r.end() && ms->is_string())
            stamp = timestamp::parse(ms->get_ref<const std::string&>());
        if (!stamp) {
            return make_failure(
                errc::bad_response,
                fmt::format("query response: record {} has no valid SystemModstamp", rec.id));
        }
        rec.system_modstamp = *stamp;
        if (auto del = r.find("IsDeleted"); del != r.end() && del->is_boolean())
            rec.is_deleted = del->get<bool>();
        rec.columns.reserve(columns.size());
        for (const auto& path : columns.paths()) {
            const json* v = walk(r, path);
            rec.columns.push_back(v ? to_value(*v) : value::null());
        }
        page.records.push_back(std::move(rec));
        ++index;
    }
    return page;
}

api_error parse_error(std::string_view body) {
    const json j = json::parse(body, nullptr, false);
    api_error e;
    if (j.is_array() && !j.empty() && j.front().is_object()) {
        const auto& first = j.front();
        e.code = string_member(first, "errorCode");
        e.message = string_member(first, "message");
    } else if (j.is_object()) {
        e.code = string_member(j, "error");
        e.message = string_member(j, "error_description");
    }
    return e;
}

std::optional<api_usage> parse_limit_info(std::string_view header) {
    while (!header.empty()) {
        const auto semi = header.find(';');
        std::string_view item = header.substr(0, semi);
        header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ')
            item.remove_suffix(1);
        constexpr std::string_view key = "api-usage=";
        if (!item.starts_with(key))
            continue;
        item.remove_prefix(key.size());
        const auto slash = item.find('/');
        if (slash == std::string_view::npos)
            return std::nullopt;
        api_usage u;
        const auto a = std::from_chars(item.data(), item.data() + slash, u.used);
        const auto b = std::from_chars(item.data() + slash + 1, item.data() + item.size(), u.limit);
        // A count is digits and nothing else: a negative or bent one would turn the budget
        // check around (found by tests/fuzz/sf_limits.cpp).
        if (a.ec != std::errc{} || b.ec != std::errc{} || a.ptr != item.data() + slash ||
            b.ptr != item.data() + item.size() || u.used < 0 || u.limit < 0) {
            return std::nullopt;
        }
        return u;
    }
    return std::nullopt;
}

result<api_usage> parse_limits(std::string_view body) {
    auto j = parse_json(body, "limits");
    if (!j)
        return j.error();
    const auto bad = [](std::string_view what) {
        return make_failure(errc::bad_response, fmt::format("limits: {}", what));
    };
    if (!j->is_object() || !j->contains("DailyApiRequests"))
        return bad("no DailyApiRequests entry");
    const json& d = (*j)["DailyApiRequests"];
    if (!d.is_object() || !d.contains("Max") || !d.contains("Remaining") ||
        !d["Max"].is_number_integer() || !d["Remaining"].is_number_integer()) {
        return bad("DailyApiRequests needs integer Max and Remaining");
    }
    const long max = d["Max"].get<long>();
    const long remaining = d["Remaining"].get<long>();
    if (max < 0 || remaining < 0)
        return bad("DailyApiRequests holds a negative count");
    // Remaining can exceed Max briefly after an allocation change; never report negative use.
    return api_usage{.used = std::max(0L, max - remaining), .limit = max};
}

}  // namespace crmsync::source::salesforce
