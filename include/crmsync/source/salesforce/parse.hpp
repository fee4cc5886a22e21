#pragma once
// Pure parsers for Salesforce REST responses (api-reference §1.2, §1.3, §1.7, §1.8). Every
// malformed body becomes errc::bad_response with context, never an exception or a crash.

#include "crmsync/core/error.hpp"
#include "crmsync/core/record.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::source::salesforce {

struct token {
    std::string access_token;
    std::string instance_url;
};

// 200 body of POST /services/oauth2/token.
result<token> parse_token(std::string_view body);

// The columns a page parser extracts, compiled once per stream: each column's path split on
// '.' for relationship fields (Account.Name is {"Account", "Name"}).
class column_set {
public:
    explicit column_set(const std::vector<std::string>& columns);
    std::size_t size() const noexcept { return paths_.size(); }
    const std::vector<std::vector<std::string>>& paths() const noexcept { return paths_; }

private:
    std::vector<std::vector<std::string>> paths_;
};

struct query_page {
    std::vector<record> records;
    std::optional<std::string> next_records_url;  // present while done is false
    long total_size = 0;
};

// 200 body of query, queryAll or a nextRecordsUrl. Each record must carry Id and a parseable
// SystemModstamp; IsDeleted is read when present.
result<query_page> parse_query_page(std::string_view body, const column_set& columns);
// The same with nlohmann/json alone: what parse_query_page answers for every body its fast
// path does not take, and the reference the tests compare the fast path with.
result<query_page> reference_query_page(std::string_view body, const column_set& columns);

// Error bodies: a JSON array of {message, errorCode} for API calls, {error, error_description}
// for the token endpoint. Returns {errorCode, message}; empty when the body is neither.
struct api_error {
    std::string code;
    std::string message;
};
api_error parse_error(std::string_view body);

// "api-usage=18/5000; api-bursts=1/750" → {18, 5000}; unknown items ignored.
struct api_usage {
    long used = 0;
    long limit = 0;
};
std::optional<api_usage> parse_limit_info(std::string_view header);

// 200 body of GET /services/data/vXX.X/limits/ (api-reference §1.8): DailyApiRequests
// {Max, Remaining} as {Max - Remaining, Max}; errc::bad_response when it is missing or bent.
result<api_usage> parse_limits(std::string_view body);

}  // namespace crmsync::source::salesforce
