#pragma once
// The admin endpoint (SPEC §3 `admin.listen`, §5): a small HTTP/1.1 server on the daemon's
// io_context, loopback by default, with three read-only resources:
//   GET /healthz  200 "ok" while the process serves requests (liveness)
//   GET /readyz   200 when every stream is healthy (ok or running), else 503; a JSON body with
//                 each stream's state either way (health.hpp)
//   GET /metrics  the Prometheus text exposition format 0.0.4 (metrics.hpp)
// HEAD works on the same paths; any other method is 405 with Allow, any other path 404.
//
// Bounded like Beast's advanced server (STYLE.md rule 2): a header and body limit per request
// (431/413, then the connection closes), a deadline on every read and write (an idle or slow
// client is dropped), a cap on requests per connection and on connections at once (a
// connection over the cap is closed as soon as it is accepted).
//
// | Name                 | Description                                          | Default |
// |----------------------|------------------------------------------------------|---------|
// | max_connections      | connections served at once                           | 16      |
// | deadline             | for each request to arrive, and for its reply to go  | 10s     |
// | max_header_bytes     | request line and headers                             | 8 KiB   |
// | max_body_bytes       | request body (the endpoints take none)               | 1 KiB   |
// | max_requests         | requests on one keep-alive connection                | 100     |

#include "crmsync/core/clock.hpp"
#include "crmsync/core/error.hpp"
#include "crmsync/observability/health.hpp"
#include "crmsync/observability/metrics.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace crmsync::observability {

struct admin_limits {
    std::size_t max_connections = 16;
    std::chrono::milliseconds deadline{10'000};
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = 1024;
    std::size_t max_requests = 100;
};

struct admin_reply {
    unsigned status = 200;
    std::string content_type;
    std::string body;
    std::string allow;  // the Allow header of a 405
};

// Pure: the reply to one request (for HEAD, the caller sends the headers only).
admin_reply handle_admin_request(boost::beast::http::verb method,
                                 std::string_view target,
                                 const health_registry& health,
                                 const registry& metrics,
                                 sys_ms now);

// Pure: the /readyz document: {"ready": bool, "streams": [{"stream", "state", "healthy",
// "running", "reason", "since", "until", "last_run", "watermark", "lag_seconds",
// "consecutive_failures"}]}, every key present (null when unknown), times in ISO-8601 UTC.
std::string readiness_json(const std::vector<stream_health>& streams, sys_ms now);

class admin_server {
public:
    // Binds `listen` ("127.0.0.1:9464", "[::1]:9464", "localhost:9464"; port 0 picks one) and
    // serves on `ex` until stop(). Fails with the system's error (address in use, not an
    // address of this host) and the address in the detail.
    static result<std::unique_ptr<admin_server>> start(boost::asio::any_io_executor ex,
                                                       std::string_view listen,
                                                       const health_registry& health,
                                                       const registry& metrics,
                                                       admin_limits limits = {});
    ~admin_server();
    admin_server(const admin_server&) = delete;
    admin_server& operator=(const admin_server&) = delete;

    // host:port actually bound (the port 0 picked, for tests).
    std::string address() const;
    unsigned short port() const;
    // Closes the listener and every connection; the io_context then has no work left from it.
    // Must run on the server's executor. Called again, does nothing.
    void stop();

private:
    struct impl;
    explicit admin_server(std::shared_ptr<impl> p);
    std::shared_ptr<impl> impl_;
};

}  // namespace crmsync::observability
