#pragma once
// The one HTTP/1.1 client every source and sink uses: Beast over TCP or TLS, a keep-alive pool
// per origin, and a deadline on every step (resolve, connect, handshake, write, read).
// It makes exactly one attempt per send(): retry decisions live in http/retry.hpp and the
// callers' classification, never here.
//
// Options (tls_options):
// | Name    | Description                                                         | Default       |
// |---------|---------------------------------------------------------------------|---------------|
// | ca_file | PEM bundle to verify servers with, instead of the system store      | system store  |
// | verify  | verify the peer certificate and host name (tests only turn it off)  | true          |

#include "crmsync/core/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crmsync::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

// Limits that bound what a broken or hostile peer can make the daemon hold. The largest
// documented responses (a Salesforce query page of 2,000 wide records, a Marketo describe) are a
// few MiB, so 64 MiB leaves room without letting one reply exhaust memory.
inline constexpr std::size_t max_response_body_bytes = 64 * 1024 * 1024;
inline constexpr std::size_t max_response_header_bytes = 64 * 1024;
// Idle keep-alive connections kept per origin; busier moments open more and close the surplus.
inline constexpr std::size_t max_idle_connections_per_origin = 16;
// An idle connection older than this is closed instead of reused: load balancers commonly drop
// idle connections after 60 s, and reusing one they dropped costs a failed write.
inline constexpr std::chrono::seconds max_idle_time{30};

struct tls_options {
    std::string ca_file;
    bool verify = true;
};

struct request {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string url;      // absolute: https://host[:port]/path?query (http:// only for loopback)
    header_list headers;  // Authorization etc.; never logged unsanitised
    std::string body;
    std::string content_type;                   // sets Content-Type when the body is not empty
    std::chrono::milliseconds timeout{30'000};  // for the whole exchange
    // Whether sending the request twice has the effect of sending it once (RFC 9110 §9.2.2).
    // Unset: the method's own (idempotent_method). A caller sets it where it knows better: true
    // for a POST that upserts by key or grants a token, false for a PUT that is not.
    // It decides the keep-alive race only (send()); retries proper are the caller's.
    std::optional<bool> idempotent;
};

// RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT and DELETE are idempotent; POST, PATCH and
// CONNECT are not.
bool idempotent_method(boost::beast::http::verb m) noexcept;

// The request's `idempotent` when set, otherwise its method's.
bool is_idempotent(const request& req) noexcept;

// Pure: whether send() sends a request again on a fresh connection after the kept-alive one it
// reused failed before any byte of an answer (the keep-alive race, RFC 9112 §9.3.1). Only when
// a second delivery cannot hurt: the request is idempotent, or no byte of it was written, so
// the server cannot have seen it (Go's net/http rule). Otherwise the server may have acted on
// it, and the failure goes to the caller's retry policy, whose classification and duplicate
// handling (a Bulk job's lost create) know what a second delivery means.
bool resend_on_stale_connection(const request& req, std::size_t bytes_written) noexcept;

struct response {
    unsigned status = 0;
    header_list headers;
    std::string body;

    // Case-insensitive lookup; empty when absent.
    std::string_view header(std::string_view name) const;
};

// What an observer learns of one send(): the method, and either the response or the failure.
// Never the URL or headers: a query string or an Authorization header may hold credentials.
struct exchange_record {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    const response* res = nullptr;   // null when no response arrived
    const failure* error = nullptr;  // set when no response arrived
    std::chrono::milliseconds duration{0};
};
using exchange_observer = std::function<void(const exchange_record&)>;

class client {
public:
    explicit client(boost::asio::any_io_executor ex, tls_options opts = {});
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // One attempt. Failures: errc::invalid_url, errc::timeout, errc::connect_failed,
    // errc::tls_failed, or the Asio/Beast code, with a detail naming the host (never the
    // query string, which may hold credentials). Any HTTP status is a success here.
    // Also errc::bad_response (unparseable, or over the limits above), errc::request_rejected
    // (a header that would break the request line), errc::cancelled.
    // Concurrent sends to one origin each get their own connection. A pooled connection that
    // the server closed while idle is replaced once, transparently, as long as no response
    // byte arrived on it and resend_on_stale_connection() allows it (the keep-alive race);
    // otherwise the failure keeps its Asio/Beast code and its detail says the request was not
    // sent again. The client must outlive every send in flight.
    boost::asio::awaitable<result<response>> send(request req);

    // Shortens every later send's timeout to at most `cap` (zero: no cap). A knob for the
    // fault-injection tests, whose scripted hangs must outlast the deadline in milliseconds
    // rather than the minutes a real Sync Leads or query page is allowed.
    void set_timeout_cap(std::chrono::milliseconds cap) noexcept;

    // Counts completed exchanges, for tests and metrics.
    std::size_t calls() const noexcept;

    // Called once after every send(), on the thread that sent, answered or not (API call
    // metrics and the daily quota readings; the daemon sets it when it builds the client).
    void observe(exchange_observer fn);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// application/x-www-form-urlencoded body or query string from pairs (RFC 3986 unreserved kept).
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);
// Percent-encodes one query or form value.
std::string url_encode(std::string_view s);

}  // namespace crmsync::http
