#include "soql.hpp"

#include <cctype>
#include <charconv>

namespace crmsync::fakes::soql {
namespace {

bool ieq(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::toupper(static_cast<unsigned char>(a[i])) !=
            std::toupper(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

struct token {
    enum class type { end, ident, string, number, datetime, symbol };
    type kind = type::end;
    std::string text;  // ident/symbol/number/datetime text; string: decoded value
    std::string raw;   // string: as written between quotes
    std::size_t pos = 0;
};

class lexer {
public:
    explicit lexer(std::string_view s) : s_(s) {}

    std::vector<token> run() {
        std::vector<token> out;
        for (;;) {
            skip_space();
            token t;
            t.pos = i_;
            if (i_ >= s_.size()) {
                out.push_back(t);
                return out;
            }
            const char c = s_[i_];
            if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
                t.kind = token::type::ident;
                while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
                                          s_[i_] == '_' || s_[i_] == '.')) {
                    ++i_;
                }
                t.text = std::string(s_.substr(t.pos, i_ - t.pos));
            } else if (std::isdigit(static_cast<unsigned char>(c))) {
                lex_number_or_date(t);
            } else if (c == '\'') {
                lex_string(t);
            } else {
                t.kind = token::type::symbol;
                const auto two = s_.substr(i_, 2);
                if (two == "!=" || two == "<>" || two == "<=" || two == ">=") {
                    t.text = std::string(two);
                    i_ += 2;
                } else if (c == '=' || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
                           c == '-') {
                    t.text = std::string(1, c);
                    ++i_;
                } else {
                    throw query_error("MALFORMED_QUERY",
                                      positioned_message(
                                          s_, i_, "unexpected token: '" + std::string(1, c) + "'"));
                }
            }
            out.push_back(std::move(t));
        }
    }

private:
    void skip_space() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_])))
            ++i_;
    }

    void lex_number_or_date(token& t) {
        // A date literal starts with four digits and a dash; it is unquoted in SOQL
        // [SF-SOQL-DATES], so it is one token up to the next delimiter.
        const bool date_like = i_ + 4 < s_.size() && s_[i_ + 4] == '-' &&
                               std::isdigit(static_cast<unsigned char>(s_[i_ + 1])) &&
                               std::isdigit(static_cast<unsigned char>(s_[i_ + 2])) &&
                               std::isdigit(static_cast<unsigned char>(s_[i_ + 3]));
        if (date_like) {
            while (i_ < s_.size()) {
                const char d = s_[i_];
                if (std::isdigit(static_cast<unsigned char>(d)) || d == '-' || d == ':' ||
                    d == '.' || d == '+' || d == 'T' || d == 'Z' || d == 't' || d == 'z') {
                    ++i_;
                } else {
                    break;
                }
            }
            t.kind = token::type::datetime;
        } else {
            while (i_ < s_.size() &&
                   (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.')) {
                ++i_;
            }
            t.kind = token::type::number;
        }
        t.text = std::string(s_.substr(t.pos, i_ - t.pos));
    }

    void lex_string(token& t) {
        t.kind = token::type::string;
        ++i_;  // opening quote
        const std::size_t start = i_;
        for (;;) {
            if (i_ >= s_.size()) {
                throw query_error("MALFORMED_QUERY",
                                  positioned_message(s_, t.pos, "unterminated string literal"));
            }
            const char c = s_[i_];
            if (c == '\'')
                break;
            if (c == '\\') {
                if (i_ + 1 >= s_.size())
                    continue;  // reported as unterminated next round
                const char e = s_[i_ + 1];
                switch (e) {
                    case 'n':
                        t.text.push_back('\n');
                        break;
                    case 'r':
                        t.text.push_back('\r');
                        break;
                    case 't':
                        t.text.push_back('\t');
                        break;
                    case 'b':
                        t.text.push_back('\b');
                        break;
                    case 'f':
                        t.text.push_back('\f');
                        break;
                    case '\'':
                    case '"':
                    case '\\':
                        t.text.push_back(e);
                        break;
                    // \_ and \% only mean something in LIKE; elsewhere they stand for themselves.
                    case '_':
                    case '%':
                        t.text.push_back('\\');
                        t.text.push_back(e);
                        break;
                    default:
                        throw query_error(
                            "MALFORMED_QUERY",
                            positioned_message(s_,
                                               i_,
                                               std::string("Invalid string literal '") +
                                                   std::string(s_.substr(start - 1)) +
                                                   "'. Illegal character sequence '\\" + e +
                                                   "' in string literal."));
                }
                i_ += 2;
                continue;
            }
            t.text.push_back(c);
            ++i_;
        }
        t.raw = std::string(s_.substr(start, i_ - start));
        ++i_;  // closing quote
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

class parser {
public:
    explicit parser(std::string_view s) : s_(s), toks_(lexer(s).run()) {}

    query run() {
        query q;
        expect_keyword("SELECT");
        if (is_keyword("COUNT") && peek(1).text == "(") {
            next();
            next();
            expect_symbol(")");
            q.count_only = true;
        } else {
            for (;;) {
                q.fields.push_back(field());
                if (!accept_symbol(","))
                    break;
            }
        }
        expect_keyword("FROM");
        const token& obj = cur();
        if (obj.kind != token::type::ident || obj.text.find('.') != std::string::npos) {
            unexpected();
        }
        q.object = obj.text;
        q.object_pos = obj.pos;
        next();
        if (accept_keyword("WHERE"))
            q.where = condition();
        if (accept_keyword("ORDER")) {
            expect_keyword("BY");
            for (;;) {
                order_item item;
                item.field = field();
                if (accept_keyword("DESC")) {
                    item.descending = true;
                } else {
                    accept_keyword("ASC");
                }
                item.nulls_last = item.descending;
                if (accept_keyword("NULLS")) {
                    if (accept_keyword("LAST")) {
                        item.nulls_last = true;
                    } else {
                        expect_keyword("FIRST");
                        item.nulls_last = false;
                    }
                }
                q.order_by.push_back(std::move(item));
                if (!accept_symbol(","))
                    break;
            }
        }
        if (accept_keyword("LIMIT"))
            q.limit = integer();
        if (accept_keyword("OFFSET"))
            q.offset = integer();
        if (cur().kind != token::type::end)
            unexpected();
        return q;
    }

private:
    const token& cur() const { return toks_[i_]; }
    const token& peek(std::size_t n) const { return toks_[std::min(i_ + n, toks_.size() - 1)]; }
    void next() {
        if (i_ + 1 < toks_.size())
            ++i_;
    }

    bool is_keyword(std::string_view kw) const {
        return cur().kind == token::type::ident && ieq(cur().text, kw);
    }
    bool accept_keyword(std::string_view kw) {
        if (!is_keyword(kw))
            return false;
        next();
        return true;
    }
    void expect_keyword(std::string_view kw) {
        if (!accept_keyword(kw))
            unexpected();
    }
    bool accept_symbol(std::string_view sym) {
        if (cur().kind != token::type::symbol || cur().text != sym)
            return false;
        next();
        return true;
    }
    void expect_symbol(std::string_view sym) {
        if (!accept_symbol(sym))
            unexpected();
    }

    [[noreturn]] void unexpected() const {
        const token& t = cur();
        std::string what;
        if (t.kind == token::type::end) {
            what = "unexpected token: '<EOF>'";
        } else if (t.kind == token::type::string) {
            what = "unexpected token: ''" + t.raw + "''";
        } else {
            what = "unexpected token: '" + t.text + "'";
        }
        throw query_error("MALFORMED_QUERY", positioned_message(s_, t.pos, what));
    }

    static bool reserved(std::string_view w) {
        for (const char* kw : {"SELECT",
                               "FROM",
                               "WHERE",
                               "AND",
                               "OR",
                               "NOT",
                               "IN",
                               "LIKE",
                               "ORDER",
                               "BY",
                               "LIMIT",
                               "OFFSET",
                               "NULL",
                               "TRUE",
                               "FALSE",
                               "ASC",
                               "DESC",
                               "NULLS"}) {
            if (ieq(w, kw))
                return true;
        }
        return false;
    }

    field_path field() {
        const token& t = cur();
        if (t.kind != token::type::ident || reserved(t.text) || t.text.back() == '.' ||
            t.text.find("..") != std::string::npos) {
            unexpected();
        }
        field_path f;
        f.text = t.text;
        f.pos = t.pos;
        std::size_t start = 0;
        for (;;) {
            const auto dot = t.text.find('.', start);
            f.parts.push_back(t.text.substr(start, dot - start));
            if (dot == std::string::npos)
                break;
            start = dot + 1;
        }
        next();
        return f;
    }

    std::int64_t integer() {
        const token& t = cur();
        std::int64_t v = 0;
        if (t.kind != token::type::number)
            unexpected();
        const auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
        if (ec != std::errc() || p != t.text.data() + t.text.size())
            unexpected();
        next();
        return v;
    }

    // cond := term {AND term} | term {OR term}; SOQL refuses "a AND b OR c" without
    // parentheses (the exact message is not documented in api-reference.md; ours names the
    // token, as Salesforce's parser errors do).
    expr condition() {
        expr first = term();
        if (!is_keyword("AND") && !is_keyword("OR"))
            return first;
        const bool is_and = is_keyword("AND");
        expr group;
        group.what = is_and ? expr::kind::all_of : expr::kind::any_of;
        group.children.push_back(std::move(first));
        while (accept_keyword(is_and ? "AND" : "OR"))
            group.children.push_back(term());
        if (is_keyword(is_and ? "OR" : "AND"))
            unexpected();
        return group;
    }

    expr term() {
        if (accept_keyword("NOT")) {
            expr e;
            e.what = expr::kind::negate;
            e.children.push_back(term());
            return e;
        }
        if (accept_symbol("(")) {
            expr e = condition();
            expect_symbol(")");
            return e;
        }
        expr e;
        e.what = expr::kind::compare;
        e.field = field();
        const token& t = cur();
        if (t.kind == token::type::symbol) {
            if (t.text == "=")
                e.oper = op::eq;
            else if (t.text == "!=" || t.text == "<>")
                e.oper = op::ne;
            else if (t.text == "<")
                e.oper = op::lt;
            else if (t.text == "<=")
                e.oper = op::le;
            else if (t.text == ">")
                e.oper = op::gt;
            else if (t.text == ">=")
                e.oper = op::ge;
            else
                unexpected();
            next();
            e.values.push_back(value());
            return e;
        }
        if (accept_keyword("LIKE")) {
            e.oper = op::like;
            if (cur().kind != token::type::string)
                unexpected();
            e.values.push_back(value());
            return e;
        }
        if (accept_keyword("NOT")) {
            if (!is_keyword("IN"))
                unexpected();
            e.oper = op::not_in;
        } else {
            e.oper = op::in;
        }
        expect_keyword("IN");
        expect_symbol("(");
        for (;;) {
            e.values.push_back(value());
            if (!accept_symbol(","))
                break;
        }
        expect_symbol(")");
        return e;
    }

    literal value() {
        literal v;
        v.pos = cur().pos;
        bool negative = false;
        if (cur().kind == token::type::symbol && cur().text == "-") {
            negative = true;
            next();
            if (cur().kind != token::type::number)
                unexpected();
        }
        const token& t = cur();
        switch (t.kind) {
            case token::type::string:
                v.kind = literal::type::string;
                v.text = t.text;
                v.like_raw = t.raw;
                break;
            case token::type::number: {
                v.kind = literal::type::number;
                v.text = (negative ? "-" : "") + t.text;
                try {
                    v.number = std::stod(v.text);
                } catch (const std::exception&) {
                    unexpected();
                }
                break;
            }
            case token::type::datetime: {
                const auto ts = timestamp::parse(t.text);
                // Date-only literals are dates; everything else must carry a time and a zone
                // (Z or an offset): "2013-05-20T20:49:32" alone is not a SOQL literal.
                const bool date_only = t.text.size() == 10;
                const bool zoned = !date_only && (t.text.back() == 'Z' || t.text.back() == 'z' ||
                                                  t.text.find('+', 10) != std::string::npos ||
                                                  t.text.find('-', 10) != std::string::npos);
                if (!ts || (!date_only && !zoned)) {
                    throw query_error(
                        "MALFORMED_QUERY",
                        positioned_message(s_,
                                           t.pos,
                                           "line 1:" + std::to_string(t.pos) +
                                               " no viable alternative at character '" + t.text +
                                               "'"));
                }
                v.kind = date_only ? literal::type::date : literal::type::datetime;
                v.text = t.text;
                v.at = ts->at;
                break;
            }
            case token::type::ident:
                if (ieq(t.text, "null")) {
                    v.kind = literal::type::null;
                } else if (ieq(t.text, "true") || ieq(t.text, "false")) {
                    v.kind = literal::type::boolean;
                    v.boolean = ieq(t.text, "true");
                } else {
                    // Date functions (TODAY, LAST_N_DAYS:n) and bind variables are outside
                    // the subset; Salesforce would accept some of them.
                    unexpected();
                }
                v.text = t.text;
                break;
            default:
                unexpected();
        }
        next();
        return v;
    }

    std::string_view s_;
    std::vector<token> toks_;
    std::size_t i_ = 0;
};

}  // namespace

std::string positioned_message(std::string_view soql, std::size_t pos, std::string_view message) {
    std::size_t row = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < pos && i < soql.size(); ++i) {
        if (soql[i] == '\n') {
            ++row;
            line_start = i + 1;
        }
    }
    auto line_end = soql.find('\n', line_start);
    if (line_end == std::string_view::npos)
        line_end = soql.size();
    const std::size_t column = pos - line_start + 1;
    std::string out = "\n";
    out += soql.substr(line_start, line_end - line_start);
    out += "\n";
    out += std::string(column - 1, ' ');
    out += "^\nERROR at Row:" + std::to_string(row) + ":Column:" + std::to_string(column) + "\n";
    out += message;
    return out;
}

query parse(std::string_view soql) {
    return parser(soql).run();
}

}  // namespace crmsync::fakes::soql
