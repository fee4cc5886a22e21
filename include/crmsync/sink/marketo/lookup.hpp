#pragma once
// Reading records back from Marketo by the value of one field: Get Leads by filter type
// (api-reference §2.3, "Other lead endpoints"; fixture get_leads_by_filter_response.json), and
// the same query on a custom object's own path [MK-CO]:
//   GET <path>?filterType=F&filterValues=v1,v2,...&fields=a,b[&nextPageToken=T]
// At most 300 values per call; pages of up to 300 records, the next one asked for with the
// answer's nextPageToken; more than 1000 matches for one call fail it (1003). Used by
// `preview --diff` to show what an upsert would change, and for removing persons.

#include "crmsync/core/error.hpp"
#include "crmsync/http/disposition.hpp"

#include <boost/asio/awaitable.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::sink::marketo {

class session;

inline constexpr std::size_t max_filter_values = 300;
// Marketo refuses URIs over 8 KB (414 [MK-ERR]); a query stays under this, leaving room for
// the host and path.
inline constexpr std::size_t max_query_bytes = 7 * 1024;

inline constexpr std::string_view leads_path = "/rest/v1/leads.json";
std::string custom_object_path(std::string_view api_name);  // /rest/v1/customobjects/N.json

// Pure: the request targets (path and query) that ask for every value once, in order: each
// with at most max_filter_values values and, unless one value alone is longer, under
// max_query_bytes. Empty `fields`: Marketo's default fields. No values: no targets.
std::vector<std::string> filter_queries(std::string_view path,
                                        std::string_view filter_type,
                                        std::span<const std::string> values,
                                        std::span<const std::string> fields);

struct record_page {
    std::vector<nlohmann::json> records;  // JSON objects, as Marketo sends them
    std::string next_page_token;          // empty on the last page
};

// Pure: one answer to such a query (the envelope read as for every Marketo call, §2.2).
// A record that is not a JSON object is a bad_response.
result<record_page> parse_record_page(std::string_view body, std::string_view what);

// Every record at `path` whose `filter_type` field equals one of `values` (several records may
// share a value: duplicates), with `fields` and the id Marketo adds; each call retried like
// any other Marketo call. Values must not contain commas (filterValues is comma-separated).
boost::asio::awaitable<result<std::vector<nlohmann::json>>> find_by_filter(
    session& s,
    const http::retry_context& retry,
    std::string path,
    std::string filter_type,
    std::vector<std::string> values,
    std::vector<std::string> fields);

}  // namespace crmsync::sink::marketo
