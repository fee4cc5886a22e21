#pragma once
// Pure parts of Bulk API 2.0 query jobs (api-reference §1.10 [SF-BULK2-CREATE][SF-BULK2-JOBINFO]
// [SF-BULK2-RES]), the initial load of a large object: the job-creation body, the job info a
// poll returns, and the CSV result sets turned into the same records a REST page gives, so the
// mapping, digests and batching cannot tell which API read a record.

#include "crmsync/core/error.hpp"
#include "crmsync/core/record.hpp"
#include "crmsync/core/timestamp.hpp"
#include "crmsync/source/salesforce/parse.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::source::salesforce {

// POST /jobs/query body: operation query or queryAll (deleted rows too), CSV, the delimiter
// and line ending the client asks for.
std::string bulk_job_request(std::string_view soql, bool all);

// GET /jobs/query/{id} (and the creation answer). state is one of UploadComplete,
// InProgress, JobComplete, Failed, Aborted.
struct bulk_job {
    std::string id;
    std::string state;
    std::string column_delimiter = "COMMA";
    std::string line_ending = "LF";
    std::string error_message;  // Failed: why
    long records_processed = 0;
    // Who made the job, when, on what: what a job listing offers to tell one job from another
    // (it carries no query text [SF-BULK2-JOBINFO]).
    std::string object;
    std::string operation;  // query | queryAll
    std::string created_by;
    std::optional<timestamp> created;
    // Jobs the same create left behind (its answer was lost and the retry made this one),
    // aborted after this one was made (client::create_query_job).
    std::vector<std::string> duplicates_aborted;
};
result<bulk_job> parse_bulk_job(std::string_view body);

// One page of GET /jobs/query (Get Information About All Query Jobs): {done, records: [job
// info], nextRecordsUrl} with nextRecordsUrl null or absent on the last page.
struct bulk_job_list {
    std::vector<bulk_job> jobs;
    std::optional<std::string> next_records_url;
};
result<bulk_job_list> parse_bulk_job_list(std::string_view body);

// The character a columnDelimiter name stands for; nullopt for a name Salesforce does not
// document (COMMA, BACKQUOTE, CARET, PIPE, SEMICOLON, TAB).
std::optional<char> delimiter_char(std::string_view name);

// One CSV result set as RFC 4180 reads it, with the job's delimiter and line ending: the
// header row, then rows of cells. A cell written with nothing between the delimiters is null
// (Salesforce writes every value quoted and a null as an empty cell); a quoted empty cell ""
// is the empty string. errc::bad_response for an unterminated quote, a quote inside an unquoted
// cell, or a row whose cell count differs from the header's.
struct csv_table {
    std::vector<std::string> header;
    std::vector<std::vector<std::optional<std::string>>> rows;
};
result<csv_table> parse_csv(std::string_view body, char delimiter, std::string_view line_ending);

// What a column's describe type makes of a CSV cell (REST JSON carries the type itself).
enum class cell_kind { text, number, boolean, datetime };
cell_kind cell_kind_of(std::string_view describe_type);

// The records of one result set, the columns of `columns` in order (Id, SystemModstamp and
// IsDeleted read by name as a REST page reads them), each cell typed by `kinds` (one per
// column of `columns`): numbers and booleans as REST JSON gives them, dateTimes rewritten in
// the REST form (2026-11-23T10:00:00.000+0000) so a payload digest is the same whichever API
// read the record. errc::bad_response when a selected column is missing from the header or a
// row lacks a valid Id or SystemModstamp.
result<std::vector<record>> records_from_csv(const csv_table& table,
                                             const std::vector<std::string>& columns,
                                             const std::vector<cell_kind>& kinds);

}  // namespace crmsync::source::salesforce
