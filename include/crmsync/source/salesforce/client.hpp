#pragma once
// The Salesforce REST client a stream reads through: OAuth (client_credentials, password),
// query/queryAll with nextRecordsUrl paging, Sforce-Limit-Info tracking, one token refresh on
// 401 INVALID_SESSION_ID, and backoff on transient failures (SPEC §4).

#include "crmsync/config/model.hpp"
#include "crmsync/core/error.hpp"
#include "crmsync/http/client.hpp"
#include "crmsync/http/disposition.hpp"
#include "crmsync/source/salesforce/parse.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <random>
#include <string>

namespace crmsync::source::salesforce {

// Pure: what a failed Salesforce call means (api-reference §1.7, Airbyte's handler).
http::disposition classify(const failure& f);

// Pure: turns a non-2xx API response into a failure with the vendor code and context.
failure failure_from_response(unsigned status, std::string_view body, std::string_view retry_after);

// Pure: the token request form for the configured flow; errc::config_invalid for a flow this
// build cannot run.
result<std::string> token_request_body(const config::salesforce_auth& auth);

class client {
public:
    client(http::client& http, config::source cfg, http::retry_context retry);

    // Obtains a token now (validate --online, start-up); errc::auth_rejected when refused.
    boost::asio::awaitable<result<void>> authenticate();

    // First page of a query (or queryAll, which also returns deleted records).
    boost::asio::awaitable<result<query_page>> query(const std::string& soql,
                                                     const column_set& columns,
                                                     bool all = false);
    // The page behind a nextRecordsUrl, exactly as returned.
    boost::asio::awaitable<result<query_page>> next(const std::string& next_records_url,
                                                    const column_set& columns);

    std::optional<api_usage> usage() const noexcept { return usage_; }
    const config::source& settings() const noexcept { return cfg_; }

private:
    boost::asio::awaitable<result<http::response>> get_once(std::string url);
    boost::asio::awaitable<result<query_page>> fetch_page_once(std::string url,
                                                               const column_set& columns);
    boost::asio::awaitable<result<query_page>> fetch_page(std::string url,
                                                          const column_set& columns);
    boost::asio::awaitable<result<void>> refresh();

    http::client& http_;
    config::source cfg_;
    http::retry_context retry_;
    std::optional<token> token_;
    std::optional<api_usage> usage_;
};

}  // namespace crmsync::source::salesforce
