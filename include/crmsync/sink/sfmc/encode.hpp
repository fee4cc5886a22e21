#pragma once
// Pure encoding of data-extension row writes and decoding of their replies (api-reference
// §3.2-3.3), tested against the fixtures without a network (Fluent Bit's formatter tests).

#include "crmsync/core/error.hpp"
#include "crmsync/core/outcome.hpp"
#include "crmsync/core/record.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::sink::sfmc {

// A stream's payload layout: the column each payload value goes to, and which of them form the
// data extension's primary key (the Subscriber Key rule, api-reference §3.5: the CRM record id
// fills the key column, so a row always maps back to its CRM record).
struct row_layout {
    std::vector<std::string> columns;
    std::vector<bool> is_key;  // same size as columns
};

// One row for the rowset call: {"keys":{pk columns},"values":{the other columns}}. Null values
// are sent as null, so a value cleared in the CRM is cleared in the row too.
std::string encode_rowset_row(const row_layout& l, const payload& p);
// POST /hub/v1/dataevents/key:{key}/rowset body: a JSON array of rows [SFMC-ROWSET].
std::string encode_rowset(const row_layout& l, std::span<const payload> batch);
// PUT /data/v1/async/dataextensions/key:{key}/rows body: {"items":[{column: value}...]}, keys
// and values together in one object per row [SFMC-ASYNC-UPSERT].
std::string encode_async_upsert(const row_layout& l, std::span<const payload> batch);

// A rowset 200: the body's shape is not documented beyond "information about the data that was
// upserted" [SFMC-ROWSET], so only that it is JSON is checked (a cut reply is bad_response,
// which is retried: the upsert is idempotent).
result<void> decode_rowset_response(std::string_view body);

// The 202 of an async write: its requestId.
result<std::string> decode_async_accepted(std::string_view body);

struct async_status {
    enum class state { pending, complete, error };
    state request = state::pending;
    bool has_errors = false;
    std::string result_status;  // "OK", ... as sent; for the log
};
// GET /data/v1/async/{id}/status. requestStatus Pending, Complete (newer pages: Completed) or
// Error [SFMC-ASYNC-STATUS][SFMC-ASYNC-STATUS-NEW]; the error variant without a status object
// (resultMessages only, still HTTP 200) is state::error.
result<async_status> decode_async_status(std::string_view body);

struct async_item {
    bool ok = true;
    std::string error_code;  // "UnexpectedError", ...
    std::string message;
};
struct async_results_page {
    long page = 0;
    long page_size = 0;
    long count = 0;  // rows the request processed, over all pages
    std::vector<async_item> items;
};
// GET /data/v1/async/{id}/results[?page=N] (api-fixtures/sfmc/async_results_response_errors.json).
result<async_results_page> decode_async_results(std::string_view body);

// A per-item async error as a SPEC category: a primary-key violation is a duplicate, anything
// else is not documented and stays `other`.
category classify_item_error(const async_item& item);

}  // namespace crmsync::sink::sfmc
