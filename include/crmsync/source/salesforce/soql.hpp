#pragma once
// Pure SOQL building for the watermark query of SPEC §4:
//   SELECT Id, SystemModstamp, <mapped fields> FROM <object>
//   WHERE (<stream where>) AND SystemModstamp >= <watermark - overlap> AND SystemModstamp < <now -
//   settle> ORDER BY SystemModstamp, Id
// SOQL compares dateTimes at whole seconds (api-reference §1.3), so the lower bound is rounded
// down and is inclusive, and the upper bound is the start of the second now - settle falls in,
// exclusive: every record read is at least `settle` old.

#include "crmsync/core/error.hpp"
#include "crmsync/core/timestamp.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::source::salesforce {

struct window_query {
    std::string object;
    std::vector<std::string> columns;  // mapped CRM fields (Id/SystemModstamp added if missing)
    std::string where;                 // the stream's own condition, may be empty
    std::optional<timestamp> from;     // inclusive lower bound; none: initial load
    timestamp before;                  // exclusive upper bound
    // At most this many records (preview); none: the whole window. The daemon never limits:
    // it pages through nextRecordsUrl instead, so a limit cannot hide a change.
    std::optional<std::size_t> limit;
    // Also select IsDeleted, for a queryAll that reads soft-deleted records (deletes: flag).
    bool with_deleted = false;
    // ORDER BY SystemModstamp, Id. A Bulk API 2.0 job leaves it out: it disables PK chunking
    // and risks timeouts (api-reference §1.3), and the load commits its watermark at the end.
    bool ordered = true;
};

// A SOQL field name or relationship path (Account.Name); rejects anything that could inject.
bool is_field_name(std::string_view name);

// errc::config_invalid when the object or a column is not a valid SOQL name, or the limit is 0.
result<std::string> changed_since(const window_query& q);

// SELECT ... WHERE Id IN ('...') for errors retry and preview --id. with_deleted adds IsDeleted
// to the columns, for a query sent through queryAll. errc::config_invalid for an invalid name
// or id, or no id at all.
result<std::string> by_ids(std::string_view object,
                           const std::vector<std::string>& columns,
                           const std::vector<std::string>& ids,
                           bool with_deleted = false);

// Where errors retry re-reads records by Id: Salesforce refuses a URI over 16 KiB (414) and
// recommends at most about 2,000 characters (api-reference §1.1), so each query, percent-encoded
// as the client sends it in `q=`, stays within this many characters; the rest of the URL
// (instance host, /services/data/vNN.N/queryAll/?q=) fits in what is left of the 2,000.
inline constexpr std::size_t max_encoded_query = 1'800;

// by_ids over `ids` split into as few queries as fit in `max_encoded` characters once
// percent-encoded (at least one id each, even past the limit, so every id is read). With
// `with_deleted`, IsDeleted is selected too, for queryAll to say which ids are deleted.
result<std::vector<std::string>> by_ids_chunked(std::string_view object,
                                                const std::vector<std::string>& columns,
                                                const std::vector<std::string>& ids,
                                                bool with_deleted,
                                                std::size_t max_encoded = max_encoded_query);

// The SELECT list actually sent: Id, SystemModstamp, then the columns not already listed.
std::vector<std::string> select_list(const std::vector<std::string>& columns);

}  // namespace crmsync::source::salesforce
