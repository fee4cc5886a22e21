#pragma once
// crmsync's runtime error codes (STYLE.md "Error-handling convention" 2): failures at I/O
// boundaries are error_codes in our own category; Asio/Beast/SSL codes pass through untouched.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <system_error>

namespace crmsync {

enum class errc {
    timeout = 1,      // a deadline expired on an I/O step
    connect_failed,   // resolve or TCP connect failed
    tls_failed,       // TLS handshake or certificate verification failed
    http_status,      // an HTTP status the caller did not expect
    rate_limited,     // the peer asked us to slow down (429, Marketo 606/615, SF concurrency)
    quota_exhausted,  // a daily quota is spent (Marketo 607, SF REQUEST_LIMIT_EXCEEDED, api_budget)
    auth_rejected,    // credentials refused by the token endpoint
    token_expired,    // an access token was refused on an API call (refresh and retry)
    bad_response,     // a response we could not parse or that broke the documented shape
    schema_drift,     // a mapped field vanished or changed type
    config_invalid,   // configuration or mapping is invalid
    state_failed,     // the SQLite state could not be read or written
    invalid_url,      // a URL could not be parsed or is not allowed (http:// off loopback)
    request_rejected,  // the peer refused the request as a whole and retrying will not help
    cancelled,         // shutdown or reload cancelled the operation
    transient,         // a server-side transient failure (5xx, Marketo 604/608/611/713)
};

const boost::system::error_category& crmsync_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), crmsync_category()};
}

// A failure with the context a caller or an operator needs: what went wrong (code), a short
// phrase chain (detail, never a secret), the vendor's own code ("601", "INVALID_SESSION_ID"),
// the HTTP status when there was one, and how long the peer asked us to wait.
struct failure {
    boost::system::error_code code;
    std::string detail;
    std::string vendor_code;
    unsigned http_status = 0;
    std::optional<std::chrono::milliseconds> retry_after;

    // "context: detail" chains, Litestream style ("describe Contact: http 401: ...").
    failure& context(std::string_view what);
    std::string message() const;
};

failure make_failure(errc e, std::string detail = {});

// An exception that escaped a coroutine is a bug (STYLE.md convention 5): this turns it into a
// failure to report, so it is never swallowed.
failure failure_from_exception(std::exception_ptr e);

// Lets boost::system::result<T, failure>::value() throw on a failure (only tests do that).
[[noreturn]] void throw_exception_from_error(const failure& f, const boost::source_location& loc);

template <class T>
using result = boost::system::result<T, failure>;

// Prefixes a failed result's detail with `what`; a success passes through.
template <class T>
result<T> with_context(result<T> r, std::string_view what) {
    if (r)
        return r;
    failure f = r.error();
    f.context(what);
    return f;
}

}  // namespace crmsync

namespace boost::system {
template <>
struct is_error_code_enum<crmsync::errc> : std::true_type {};
}  // namespace boost::system
