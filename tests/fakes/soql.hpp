#pragma once
// The SOQL subset the fake Salesforce understands, parsed the way Salesforce does it, so a query
// the daemon builds wrongly fails here as it would in production ([SF-QUERY], [SF-SOQL-DATES]):
//
//   SELECT f1, Rel.f2 | COUNT() FROM Object
//     [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]
//   cond := term {AND term} | term {OR term}      -- mixing AND/OR needs parentheses, as in SOQL
//   term := NOT term | ( cond ) | field op literal | field [NOT] IN (lit, ...) | field LIKE 'p%'
//   op   := = != <> < <= > >=
//   literal := 'string' (backslash escapes) | number | true | false | null
//            | 2013-05-20T20:49:32Z | ...+02:00 | ...-0800 | 2013-05-20 (no quotes)
//
// Parsing is separate from evaluation: the evaluator (fake_salesforce.cpp) resolves fields
// against the object schema and reports INVALID_FIELD / INVALID_TYPE with positions.

#include "crmsync/core/timestamp.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::fakes::soql {

// A Salesforce error about the query: errorCode (MALFORMED_QUERY, INVALID_FIELD, ...) and the
// message already in Salesforce's "ERROR at Row:1:Column:N" form when a position is known.
class query_error : public std::runtime_error {
public:
    query_error(std::string code, std::string message)
        : std::runtime_error(message), code_(std::move(code)) {}
    const std::string& code() const noexcept { return code_; }

private:
    std::string code_;
};

// Salesforce's message layout for query errors: the offending line, a caret under the column,
// "ERROR at Row:r:Column:c", then the message.
std::string positioned_message(std::string_view soql, std::size_t pos, std::string_view message);

struct field_path {
    std::vector<std::string> parts;  // "Account.Name" -> {"Account", "Name"}
    std::string text;                // as written
    std::size_t pos = 0;             // offset in the query, for error carets
};

struct literal {
    enum class type { null, boolean, number, string, date, datetime };
    type kind = type::null;
    bool boolean = false;
    double number = 0;
    std::string text;      // string value (escapes decoded); raw text for others
    std::string like_raw;  // string as written between the quotes (LIKE keeps \% and \_)
    sys_ms at{};           // date (midnight UTC) or datetime (UTC)
    std::size_t pos = 0;
};

enum class op { eq, ne, lt, le, gt, ge, like, in, not_in };

struct expr {
    enum class kind { compare, all_of, any_of, negate };
    kind what = kind::compare;
    field_path field;             // compare
    op oper = op::eq;             // compare
    std::vector<literal> values;  // compare: one value, or the IN list
    std::vector<expr> children;   // all_of / any_of / negate (one child)
};

struct order_item {
    field_path field;
    bool descending = false;
    bool nulls_last = false;  // SOQL default: NULLS FIRST for ASC, NULLS LAST for DESC
};

struct query {
    bool count_only = false;  // SELECT COUNT() FROM ...
    std::vector<field_path> fields;
    std::string object;
    std::size_t object_pos = 0;
    std::optional<expr> where;
    std::vector<order_item> order_by;
    std::optional<std::int64_t> limit;
    std::optional<std::int64_t> offset;
};

// Throws query_error{"MALFORMED_QUERY", ...} on syntax errors.
query parse(std::string_view soql);

}  // namespace crmsync::fakes::soql
