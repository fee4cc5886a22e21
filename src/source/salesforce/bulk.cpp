#include "crmsync/source/salesforce/bulk.hpp"

#include "crmsync/core/text.hpp"
#include "crmsync/core/timestamp.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crmsync::source::salesforce {
namespace {

using json = nlohmann::json;

failure bad_csv(std::string_view what, std::size_t row) {
    return make_failure(errc::bad_response,
                        fmt::format("bulk query results: row {}: {}", row, what));
}

}  // namespace

std::string bulk_job_request(std::string_view soql, bool all) {
    // LF and COMMA are Salesforce's defaults; asked for explicitly, so the parser does not
    // depend on an org-side default changing (api-reference §1.10).
    return json{{"operation", all ? "queryAll" : "query"},
                {"query", std::string(soql)},
                {"contentType", "CSV"},
                {"columnDelimiter", "COMMA"},
                {"lineEnding", "LF"}}
        .dump();
}

namespace {

result<bulk_job> bulk_job_from(const json& j) {
    if (!j.is_object())
        return make_failure(errc::bad_response, "bulk query job: body is not a JSON object");
    const auto id = j.find("id");
    const auto state = j.find("state");
    if (id == j.end() || !id->is_string() || id->get_ref<const std::string&>().empty() ||
        state == j.end() || !state->is_string()) {
        return make_failure(errc::bad_response, "bulk query job: no id or state");
    }
    bulk_job b{.id = id->get<std::string>(), .state = state->get<std::string>()};
    auto text = [&](const char* key, std::string& into) {
        if (const auto v = j.find(key); v != j.end() && v->is_string())
            into = v->get<std::string>();
    };
    text("columnDelimiter", b.column_delimiter);
    text("lineEnding", b.line_ending);
    text("errorMessage", b.error_message);
    if (const auto n = j.find("numberRecordsProcessed"); n != j.end() && n->is_number_integer())
        b.records_processed = n->get<long>();
    text("object", b.object);
    text("operation", b.operation);
    text("createdById", b.created_by);
    std::string created;
    text("createdDate", created);
    if (!created.empty())
        b.created = timestamp::parse(created);
    return b;
}

}  // namespace

result<bulk_job> parse_bulk_job(std::string_view body) {
    const json j = json::parse(body, nullptr, false);
    if (j.is_discarded())
        return make_failure(errc::bad_response, "bulk query job: body is not a JSON object");
    return bulk_job_from(j);
}

result<bulk_job_list> parse_bulk_job_list(std::string_view body) {
    const json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return make_failure(errc::bad_response, "bulk query job list: body is not a JSON object");
    const auto records = j.find("records");
    if (records == j.end() || !records->is_array())
        return make_failure(errc::bad_response, "bulk query job list: no records array");
    bulk_job_list out;
    for (const auto& r : *records) {
        auto b = bulk_job_from(r);
        if (!b)
            return with_context(result<bulk_job_list>(b.error()), "bulk query job list");
        out.jobs.push_back(std::move(*b));
    }
    const auto done = j.find("done");
    const auto next = j.find("nextRecordsUrl");
    if (next != j.end() && next->is_string() && !next->get_ref<const std::string&>().empty() &&
        !(done != j.end() && done->is_boolean() && done->get<bool>())) {
        out.next_records_url = next->get<std::string>();
    }
    return out;
}

std::optional<char> delimiter_char(std::string_view name) {
    if (name == "COMMA")
        return ',';
    if (name == "BACKQUOTE")
        return '`';
    if (name == "CARET")
        return '^';
    if (name == "PIPE")
        return '|';
    if (name == "SEMICOLON")
        return ';';
    if (name == "TAB")
        return '\t';
    return std::nullopt;
}

result<csv_table> parse_csv(std::string_view body, char delimiter, std::string_view line_ending) {
    const std::string_view eol = line_ending == "CRLF" ? "\r\n" : "\n";
    csv_table t;
    std::vector<std::optional<std::string>> row;
    std::size_t at = 0;
    std::size_t row_number = 1;
    bool header = true;
    auto end_row = [&]() -> result<void> {
        if (header) {
            for (auto& cell : row)
                t.header.push_back(cell.value_or(std::string{}));
            header = false;
        } else if (row.size() != t.header.size()) {
            return bad_csv(fmt::format("{} cells, the header has {}", row.size(), t.header.size()),
                           row_number);
        } else {
            t.rows.push_back(std::move(row));
        }
        row.clear();
        ++row_number;
        return {};
    };
    while (at < body.size()) {
        // One cell, then a delimiter, a line ending or the end of the body.
        std::optional<std::string> cell;
        if (body[at] == '"') {
            std::string text;
            ++at;
            for (;;) {
                const auto q = body.find('"', at);
                if (q == std::string_view::npos)
                    return bad_csv("unterminated quoted cell", row_number);
                text.append(body.substr(at, q - at));
                at = q + 1;
                if (at < body.size() && body[at] == '"') {  // "" inside quotes: one quote
                    text.push_back('"');
                    ++at;
                    continue;
                }
                break;
            }
            cell = std::move(text);
        } else {
            std::size_t end = at;
            while (end < body.size() && body[end] != delimiter &&
                   body.substr(end, eol.size()) != eol) {
                if (body[end] == '"')
                    return bad_csv("a quote inside an unquoted cell", row_number);
                ++end;
            }
            if (end > at)
                cell = std::string(body.substr(at, end - at));
            at = end;
        }
        row.push_back(std::move(cell));
        if (at == body.size())
            break;
        if (body[at] == delimiter) {
            ++at;
            if (at == body.size())
                row.emplace_back();  // a trailing delimiter ends with an empty cell
            continue;
        }
        if (body.substr(at, eol.size()) == eol) {
            at += eol.size();
            if (auto r = end_row(); !r)
                return r.error();
            continue;
        }
        return bad_csv("text after a closing quote", row_number);
    }
    if (!row.empty()) {  // the last row had no line ending
        if (auto r = end_row(); !r)
            return r.error();
    }
    if (header)
        return make_failure(errc::bad_response, "bulk query results: no header row");
    return t;
}

cell_kind cell_kind_of(std::string_view type) {
    // api-reference §1.5 fieldType values; REST JSON gives these as numbers and booleans.
    if (type == "boolean")
        return cell_kind::boolean;
    if (type == "int" || type == "double" || type == "currency" || type == "percent" ||
        type == "long") {
        return cell_kind::number;
    }
    if (type == "datetime")
        return cell_kind::datetime;
    return cell_kind::text;
}

result<std::vector<record>> records_from_csv(const csv_table& table,
                                             const std::vector<std::string>& columns,
                                             const std::vector<cell_kind>& kinds) {
    auto index_of = [&](std::string_view name) -> std::optional<std::size_t> {
        for (std::size_t i = 0; i < table.header.size(); ++i) {
            if (iequals_ascii(table.header[i], name))
                return i;
        }
        return std::nullopt;
    };
    const auto id_at = index_of("Id");
    const auto stamp_at = index_of("SystemModstamp");
    if (!id_at || !stamp_at)
        return make_failure(errc::bad_response,
                            "bulk query results: no Id or SystemModstamp column");
    const auto deleted_at = index_of("IsDeleted");
    std::vector<std::size_t> at;
    for (const auto& c : columns) {
        const auto i = index_of(c);
        if (!i) {
            return make_failure(errc::bad_response,
                                fmt::format("bulk query results: no column {}", c));
        }
        at.push_back(*i);
    }
    std::vector<record> out;
    out.reserve(table.rows.size());
    for (std::size_t n = 0; n < table.rows.size(); ++n) {
        const auto& row = table.rows[n];
        record r;
        if (!row[*id_at] || row[*id_at]->empty())
            return bad_csv("no Id", n + 2);
        r.id = *row[*id_at];
        const auto stamp = timestamp::parse(row[*stamp_at].value_or(std::string{}));
        if (!stamp)
            return bad_csv(fmt::format("record {} has no valid SystemModstamp", r.id), n + 2);
        r.system_modstamp = *stamp;
        r.is_deleted = deleted_at && row[*deleted_at] == std::optional<std::string>("true");
        r.columns.reserve(at.size());
        for (std::size_t c = 0; c < at.size(); ++c) {
            const auto& cell = row[at[c]];
            if (!cell) {
                r.columns.push_back(value::null());
                continue;
            }
            switch (c < kinds.size() ? kinds[c] : cell_kind::text) {
                case cell_kind::boolean:
                    r.columns.push_back(value::boolean(*cell == "true"));
                    break;
                case cell_kind::number:
                    r.columns.push_back(value::number(*cell));
                    break;
                case cell_kind::datetime:
                    if (const auto ts = timestamp::parse(*cell)) {
                        r.columns.push_back(value::string(ts->to_salesforce()));
                        break;
                    }
                    r.columns.push_back(value::string(*cell));
                    break;
                case cell_kind::text:
                    r.columns.push_back(value::string(*cell));
                    break;
            }
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace crmsync::source::salesforce
