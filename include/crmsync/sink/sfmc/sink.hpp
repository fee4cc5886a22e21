#pragma once
// Rows of one Marketing Cloud data extension (`destination.object: data_extension:<key>`),
// upserted by primary key (api-reference §3.2-3.3). Small batches go through the synchronous
// rowset call in chunks of batch_size (50, the documented best practice); a batch of at least
// async_threshold rows goes through the async rows API in one request, whose status is polled
// with backoff and whose results are read page by page.
//
// A rowset 400 (10000-10006) does not say which row was bad, so the chunk is bisected until
// each bad row stands alone and is rejected by itself: one bad record never rejects its
// neighbours, and k bad rows in a chunk of n cost about 2k·log2(n) extra calls instead of n.
// Upserts are idempotent, so re-sending the good half is harmless. A 403 concerns the data
// extension, not a row: every row of the chunk is rejected as `access`.
//
// Options (de_options):
// | Name            | Description                                                 | Default |
// |-----------------|-------------------------------------------------------------|---------|
// | external_key    | the data extension's external key (CustomerKey)             |         |
// | layout          | payload value → column, and which columns are the key       |         |
// | batch_size      | rows per rowset call                                        | 50      |
// | async_threshold | batches of at least this many rows use the async API; 0 off | 1000    |
// | poll            | status polling: first delay `base`, doubling up to `cap`    | 500ms/60s |
// | max_polls       | status polls before the request counts as stuck (transient) | 40      |

#include "crmsync/http/client.hpp"
#include "crmsync/http/disposition.hpp"
#include "crmsync/sink/schema.hpp"
#include "crmsync/sink/sfmc/auth.hpp"
#include "crmsync/sink/sfmc/describe.hpp"
#include "crmsync/sink/sfmc/encode.hpp"
#include "crmsync/sink/sink.hpp"

#include <functional>
#include <optional>
#include <string>

namespace crmsync::sink::sfmc {

struct de_options {
    std::string external_key;
    row_layout layout;
    int batch_size = 50;
    int async_threshold = 1000;
    http::backoff_policy poll{};
    int max_polls = 40;
    // Called when an async write could not be read row by row (the request failed as a whole,
    // or its results do not line up with the rows sent) and the batch is re-sent through the
    // rowset call instead; may be empty.
    std::function<void(const std::string& request_id, const std::string& why)> on_async_resend;
};

class data_extension_sink final : public sink {
public:
    data_extension_sink(session& s, de_options options, http::retry_context retry);

    // What the stream cycle gathers before a push: enough rows for the async API when it is
    // on, else one rowset call's worth.
    std::size_t max_batch() const override;
    boost::asio::awaitable<result<void>> authenticate() override;
    boost::asio::awaitable<result<std::vector<record_outcome>>> push(
        std::span<const payload> batch) override;
    // The row as the rowset call sends it: {"keys":{...},"values":{...}}.
    std::string to_json(const payload& p) const override;

    // The data extension's columns (SOAP Retrieve of DataExtensionField, describe.hpp); its
    // primary-key columns are key_fields.
    boost::asio::awaitable<result<object_schema>> describe() override;

private:
    using outcomes = std::vector<record_outcome>;

    // `idempotent` is http::request::idempotent: unset, the method's.
    boost::asio::awaitable<result<http::response>> call(
        boost::beast::http::verb method,
        std::string path,
        std::string body,
        std::optional<bool> idempotent = std::nullopt);
    template <class T, class Op>
    boost::asio::awaitable<result<T>> with_retries(Op op);

    boost::asio::awaitable<result<outcomes>> push_rowset(std::span<const payload> rows);
    boost::asio::awaitable<result<void>> rowset_once(std::span<const payload> rows);
    boost::asio::awaitable<result<outcomes>> push_async(std::span<const payload> rows);
    boost::asio::awaitable<result<outcomes>> read_async_results(const std::string& id,
                                                                std::span<const payload> rows,
                                                                bool& attributable);
    boost::asio::awaitable<result<field_page>> describe_once(const std::string& continue_id);

    session& session_;
    de_options options_;
    http::retry_context retry_;
    std::string key_path_;  // "key:<external key>", percent-encoded
};

}  // namespace crmsync::sink::sfmc
