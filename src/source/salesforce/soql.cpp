#include "crmsync/source/salesforce/soql.hpp"

#include "crmsync/core/text.hpp"
#include "crmsync/http/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace crmsync::source::salesforce {
namespace {

bool is_identifier(std::string_view s) {
    if (s.empty() || !std::isalpha(static_cast<unsigned char>(s.front())))
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

bool is_record_id(std::string_view s) {
    // Salesforce ids are 15 or 18 alphanumeric characters.
    return (s.size() == 15 || s.size() == 18) && std::all_of(s.begin(), s.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c));
           });
}

result<std::string> select_from(std::string_view object, const std::vector<std::string>& columns) {
    if (!is_identifier(object)) {
        return make_failure(errc::config_invalid,
                            fmt::format("'{}' is not a Salesforce object name", object));
    }
    const auto list = select_list(columns);
    for (const auto& c : list) {
        if (!is_field_name(c)) {
            return make_failure(errc::config_invalid,
                                fmt::format("'{}' is not a Salesforce field name", c));
        }
    }
    return fmt::format("SELECT {} FROM {}", fmt::join(list, ", "), object);
}

// SOQL's reserved words (Salesforce's list, with ORDER BY, OFFSET and the literals a parser
// reads as keywords): a field by one of these names cannot be selected unquoted, and SOQL has
// no quoting, so the query would be MALFORMED_QUERY. Inside a path they are fine
// (Order.OrderNumber on OrderItem). Found by tests/fuzz/soql_builder.cpp.
bool is_reserved(std::string_view word) {
    static constexpr std::string_view words[] = {
        "AND",    "ASC", "BY",       "DESC",   "EXCLUDES", "FALSE", "FIRST", "FROM", "GROUP",
        "HAVING", "IN",  "INCLUDES", "LAST",   "LIKE",     "LIMIT", "NOT",   "NULL", "NULLS",
        "OFFSET", "OR",  "ORDER",    "SELECT", "TRUE",     "WHERE", "WITH"};
    return std::any_of(std::begin(words), std::end(words), [&](std::string_view w) {
        return iequals_ascii(w, word);
    });
}

// The one place an Id query's text is written, so by_ids_chunked measures exactly what by_ids
// sends.
std::string where_id_in(std::string_view head, std::string_view quoted_ids) {
    return fmt::format("{} WHERE Id IN ({}) ORDER BY SystemModstamp, Id", head, quoted_ids);
}

}  // namespace

bool is_field_name(std::string_view name) {
    if (is_reserved(name))
        return false;
    std::size_t start = 0;
    for (;;) {
        const auto dot = name.find('.', start);
        if (!is_identifier(name.substr(start, dot == std::string_view::npos ? dot : dot - start))) {
            return false;
        }
        if (dot == std::string_view::npos)
            return true;
        start = dot + 1;
    }
}

std::vector<std::string> select_list(const std::vector<std::string>& columns) {
    std::vector<std::string> out{"Id", "SystemModstamp"};
    for (const auto& c : columns) {
        if (std::find(out.begin(), out.end(), c) == out.end())
            out.push_back(c);
    }
    return out;
}

// query leaves IsDeleted false on every row; only queryAll returns deleted ones, and parse
// reads the field whenever it is present.
std::vector<std::string> read_columns(const std::vector<std::string>& mapped, bool with_deleted) {
    auto columns = mapped;
    const auto is_deleted = [](const std::string& c) { return iequals_ascii(c, "IsDeleted"); };
    if (with_deleted && std::none_of(columns.begin(), columns.end(), is_deleted))
        columns.emplace_back("IsDeleted");
    return columns;
}

result<std::string> changed_since(const window_query& q) {
    auto head = select_from(q.object, read_columns(q.columns, q.with_deleted));
    if (!head)
        return head;
    std::string soql = std::move(*head);
    soql += " WHERE ";
    if (!q.where.empty())
        soql += fmt::format("({}) AND ", q.where);
    if (q.from)
        soql += fmt::format("SystemModstamp >= {} AND ", q.from->to_soql_literal());
    soql += fmt::format("SystemModstamp < {}", q.before.to_soql_literal());
    if (q.ordered)
        soql += " ORDER BY SystemModstamp, Id";
    if (q.limit) {
        // LIMIT 0 would read nothing and look like an empty window.
        if (*q.limit == 0)
            return make_failure(errc::config_invalid, "a query limit must be at least 1");
        soql += fmt::format(" LIMIT {}", *q.limit);
    }
    return soql;
}

result<std::string> by_ids(std::string_view object,
                           const std::vector<std::string>& columns,
                           const std::vector<std::string>& ids,
                           bool with_deleted) {
    auto head = select_from(object, read_columns(columns, with_deleted));
    if (!head)
        return head;
    // `IN ()` is not SOQL (found by tests/fuzz/soql_builder.cpp).
    if (ids.empty())
        return make_failure(errc::config_invalid, "no record id to read");
    std::vector<std::string> quoted;
    quoted.reserve(ids.size());
    for (const auto& id : ids) {
        if (!is_record_id(id)) {
            return make_failure(errc::config_invalid,
                                fmt::format("'{}' is not a Salesforce record id", id));
        }
        quoted.push_back("'" + id + "'");
    }
    return where_id_in(*head, fmt::format("{}", fmt::join(quoted, ", ")));
}

result<std::vector<std::string>> by_ids_chunked(std::string_view object,
                                                const std::vector<std::string>& columns,
                                                const std::vector<std::string>& ids,
                                                bool with_deleted,
                                                std::size_t max_encoded) {
    std::vector<std::string> out;
    if (ids.empty())
        return out;
    // What one query costs without its ids, and what each id adds, as by_ids writes them.
    auto head = select_from(object, read_columns(columns, with_deleted));
    if (!head)
        return head.error();
    const std::size_t fixed = http::url_encode(where_id_in(*head, "")).size();
    const std::size_t separator = http::url_encode(", ").size();
    std::vector<std::string> chunk;
    std::size_t size = fixed;
    const auto flush = [&]() -> result<void> {
        auto q = by_ids(object, columns, chunk, with_deleted);
        if (!q)
            return q.error();
        out.push_back(std::move(*q));
        chunk.clear();
        size = fixed;
        return {};
    };
    for (const auto& id : ids) {
        const std::size_t quoted = http::url_encode("'" + id + "'").size();
        if (!chunk.empty() && size + separator + quoted > max_encoded) {
            if (auto f = flush(); !f)
                return f.error();
        }
        size += quoted + (chunk.empty() ? 0 : separator);
        chunk.push_back(id);
    }
    if (auto f = flush(); !f)
        return f.error();
    return out;
}

}  // namespace crmsync::source::salesforce
