#pragma once
// A real HTTP/1.1 server on 127.0.0.1 built from a handler function (STYLE.md rule 7, userver's
// HttpServerMock): the fakes and the client tests talk real TCP, so keep-alive, deadlines and
// framing are exercised exactly as against the vendors. Faults are part of the reply: a delay
// (a hang past the client's deadline), a connection reset, or a truncated body.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace crmsync::testing {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

enum class fault { none, reset, truncate };

struct reply {
    http_response res;
    std::chrono::milliseconds delay{0};  // wait this long before answering
    enum fault fault = fault::none;
    std::function<void()> on_done;  // runs once the reply was written (or the fault applied)
    // Close the connection right after this reply although it announced keep-alive, as a server
    // whose idle timeout fires does; on_done then runs after the close.
    bool close_after = false;
};

// The https mode's identity: a PEM certificate chain (leaf first) and the leaf's private key.
struct tls_identity {
    std::string certificate_chain_pem;
    std::string private_key_pem;
};

using handler = std::function<reply(const http_request&)>;

// Convenience for handlers: a reply with a body and content type.
reply make_reply(unsigned status, std::string body, std::string content_type = "application/json");

class loopback_server {
public:
    // Binds 127.0.0.1 on an ephemeral port and serves on its own thread until destroyed.
    explicit loopback_server(handler h);
    // Binds 127.0.0.1:port (0 = ephemeral), for the sandbox binary that must listen where the
    // configuration points. Throws boost::system::system_error if the port is taken.
    loopback_server(handler h, unsigned short port);
    // Serves https on an ephemeral 127.0.0.1 port with this identity, so a client's certificate
    // and host name checks run for real. Throws boost::system::system_error on a bad identity.
    loopback_server(handler h, const tls_identity& tls);
    ~loopback_server();
    loopback_server(const loopback_server&) = delete;
    loopback_server& operator=(const loopback_server&) = delete;

    unsigned short port() const noexcept;
    std::string base_url() const;              // http://127.0.0.1:PORT (https:// in the TLS mode)
    std::size_t requests() const noexcept;     // requests received so far
    std::size_t connections() const noexcept;  // connections accepted so far (keep-alive tests)

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crmsync::testing
