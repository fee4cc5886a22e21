#include "loopback_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <optional>
#include <thread>

namespace crmsync::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

reply make_reply(unsigned status, std::string body, std::string content_type) {
    reply r;
    r.res.result(status);
    r.res.version(11);
    r.res.set(http::field::content_type, content_type);
    r.res.body() = std::move(body);
    return r;
}

struct loopback_server::impl {
    handler handle;
    asio::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    std::thread thread;
    std::atomic<std::size_t> count{0};
    std::atomic<std::size_t> accepted{0};
    std::optional<asio::ssl::context> tls;  // set in the https mode

    void start(handler h, unsigned short port) {
        handle = std::move(h);
        tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
        acceptor.open(ep.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(ep);
        acceptor.listen();
        asio::co_spawn(ioc, accept_loop(), asio::detached);
        thread = std::thread([this] { ioc.run(); });
    }

    asio::awaitable<void> session(tcp::socket socket) {
        if (!tls) {
            beast::tcp_stream stream(std::move(socket));
            co_await serve(stream);
            co_return;
        }
        beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
        // A client that never finishes its handshake must not hold the session forever.
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
        auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
        if (ec)
            co_return;  // e.g. the client refused our certificate: that is its test
        beast::get_lowest_layer(stream).expires_never();
        co_await serve(stream);
    }

    template <class Stream>
    asio::awaitable<void> serve(Stream& stream) {
        auto& socket = beast::get_lowest_layer(stream).socket();
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(64 * 1024 * 1024);  // fakes accept what the real APIs bound
            // Beast's default 8 KB header limit would drop the connection before a fake can
            // answer 414/431 the way the vendors do (Salesforce allows 16 KB of URI + headers).
            parser.header_limit(64 * 1024);
            auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
            if (ec)
                co_return;
            ++count;
            http_request req = parser.release();
            reply r = handle(req);
            if (r.delay.count() > 0) {
                asio::steady_timer t(ioc, r.delay);
                co_await t.async_wait(use_nothrow);
            }
            if (r.fault == fault::reset) {
                // SO_LINGER 0 makes close() send RST: the client sees a connection reset.
                beast::error_code ignored;
                socket.set_option(tcp::socket::linger(true, 0), ignored);
                socket.close(ignored);
                if (r.on_done)
                    r.on_done();
                co_return;
            }
            r.res.version(req.version());
            r.res.keep_alive(req.keep_alive());
            if (r.fault == fault::truncate) {
                // Announce the full length but send half the body, then close.
                r.res.prepare_payload();
                const auto full = r.res.body().size();
                http::response_serializer<http::string_body> sr(r.res);
                auto [hec, hn] = co_await http::async_write_header(stream, sr, use_nothrow);
                const std::string half = r.res.body().substr(0, full / 2);
                auto [wec, wn] =
                    co_await asio::async_write(stream, asio::buffer(half), use_nothrow);
                (void)hec;
                (void)hn;
                (void)wec;
                (void)wn;
                beast::error_code ignored;
                socket.shutdown(tcp::socket::shutdown_both, ignored);
                if (r.on_done)
                    r.on_done();
                co_return;
            }
            r.res.prepare_payload();
            const bool keep = r.res.keep_alive();
            auto [wec, wn] = co_await http::async_write(stream, r.res, use_nothrow);
            if (r.close_after) {
                beast::error_code ignored;
                socket.shutdown(tcp::socket::shutdown_both, ignored);
                socket.close(ignored);
                if (r.on_done)
                    r.on_done();
                co_return;
            }
            if (r.on_done)
                r.on_done();
            if (wec || !keep)
                break;
        }
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
            if (ec)
                co_return;
            ++accepted;
            asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
        }
    }
};

loopback_server::loopback_server(handler h) : loopback_server(std::move(h), 0) {}

loopback_server::loopback_server(handler h, unsigned short port) : impl_(std::make_unique<impl>()) {
    impl_->start(std::move(h), port);
}

loopback_server::loopback_server(handler h, const tls_identity& tls)
    : impl_(std::make_unique<impl>()) {
    auto& ctx = impl_->tls.emplace(asio::ssl::context::tls_server);
    ctx.use_certificate_chain(asio::buffer(tls.certificate_chain_pem));
    ctx.use_private_key(asio::buffer(tls.private_key_pem), asio::ssl::context::pem);
    impl_->start(std::move(h), 0);
}

loopback_server::~loopback_server() {
    impl_->ioc.stop();
    if (impl_->thread.joinable())
        impl_->thread.join();
}

unsigned short loopback_server::port() const noexcept {
    return impl_->acceptor.local_endpoint().port();
}

std::string loopback_server::base_url() const {
    return std::string(impl_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}

std::size_t loopback_server::requests() const noexcept {
    return impl_->count.load();
}

std::size_t loopback_server::connections() const noexcept {
    return impl_->accepted.load();
}

}  // namespace crmsync::testing
