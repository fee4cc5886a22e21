#pragma once
// Marketing Cloud OAuth 2.0 for server-to-server packages (api-reference §3.1): POST
// {auth_url}/v2/token with client_credentials and the business unit's MID as account_id; the
// answer names the REST and SOAP bases of the tenant. One session per destination (business
// unit) keeps the token until shortly before expires_in, since Salesforce asks for at most one
// token request per 20 minutes [SFMC-TOKEN][SFMC-HELP-LIMITS].

#include "crmsync/config/model.hpp"
#include "crmsync/core/clock.hpp"
#include "crmsync/core/error.hpp"
#include "crmsync/http/client.hpp"
#include "crmsync/sink/rate_limiter.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace crmsync::sink::sfmc {

struct token_grant {
    std::string access_token;
    std::chrono::seconds expires_in{0};
    std::string rest_base;  // rest_instance_url without its trailing '/'
    std::string soap_base;  // soap_instance_url without its trailing '/'; may be empty
};

// Pure: the JSON body of the token request (api-fixtures/sfmc/token_request.json). account_id is
// a number [SFMC-TOKEN]; it is left out when the destination names none (the package's own BU).
// The body holds the client secret: it goes on the wire and nowhere else.
std::string encode_token_request(const config::destination& d);

// Pure: the token endpoint's reply. 200 → the grant (errc::bad_response if a documented field
// is missing, errc::invalid_url if the instance URLs are not https); 400/401 (invalid_client,
// invalid_grant ...) → errc::auth_rejected with the error_description; 429 → rate_limited;
// 5xx → transient; anything else → request_rejected.
result<token_grant> decode_token_response(unsigned status, std::string_view body);

// What all streams writing to one business unit share: the token and the call window.
class session {
public:
    // `window`: the length of limits.calls_per_20s's window; tests shorten it.
    session(http::client& http,
            config::destination cfg,
            clock_fn now = system_now,
            std::chrono::milliseconds window = std::chrono::seconds(20));

    // A valid grant, fetched when there is none or it expires within the margin.
    boost::asio::awaitable<result<token_grant>> grant();
    // The next grant() asks for a new token (after a REST 401).
    void invalidate_token() { grant_.reset(); }
    // Fetches a token now; errc::auth_rejected when the credentials are refused.
    boost::asio::awaitable<result<void>> authenticate();
    // Waits until the client-side call window (limits.calls_per_20s) has room; counts the call.
    boost::asio::awaitable<void> acquire_slot();

    http::client& http() noexcept { return http_; }
    const config::destination& settings() const noexcept { return cfg_; }
    std::size_t calls() const noexcept { return calls_; }
    std::size_t token_requests() const noexcept { return token_requests_; }

private:
    http::client& http_;
    config::destination cfg_;
    clock_fn now_;
    window_limiter window_;
    std::optional<token_grant> grant_;
    sys_ms renew_at_{};
    std::size_t calls_ = 0;
    std::size_t token_requests_ = 0;
};

}  // namespace crmsync::sink::sfmc
