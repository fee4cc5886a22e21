#include "crmsync/http/client.hpp"

#include "loopback_server.hpp"
#include "run_coroutine.hpp"
#include "test_pki.hpp"
#include "threaded_sends.hpp"
#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace crmsync::http {
namespace {

namespace asio = boost::asio;
using crmsync::testing::http_request;
using crmsync::testing::loopback_server;
using crmsync::testing::make_reply;
using crmsync::testing::make_test_pki;
using crmsync::testing::reply;
using crmsync::testing::run_coroutine;
using crmsync::testing::test_pki;

// One CA and server certificate for the whole file: making them is cheap, but once is enough.
const test_pki& good_pki() {
    static const auto pki = make_test_pki({"localhost"}, {"127.0.0.1"});
    return *pki;
}

crmsync::testing::handler ok_handler() {
    return
        [](const http_request& req) { return make_reply(200, "tls:" + std::string(req.target())); };
}

request get(const std::string& url) {
    request q;
    q.url = url;
    q.timeout = std::chrono::seconds(10);
    return q;
}

bool is_code(const failure& f, errc e) {
    return f.code == make_error_code(e);
}

TEST(http_client_tls, verifies_the_server_against_the_ca_file_and_reuses_the_session) {
    loopback_server server(ok_handler(), good_pki().server);
    ASSERT_EQ(server.base_url().substr(0, 8), "https://");
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex, tls_options{good_pki().ca_file.string()});
        for (int i = 0; i < 3; ++i) {
            auto r = co_await c.send(get(server.base_url() + "/a?b=c"));
            if (!r) {
                ADD_FAILURE() << r.error().message();
                co_return;
            }
            EXPECT_EQ(r->status, 200u);
            EXPECT_EQ(r->body, "tls:/a?b=c");
        }
    });
    EXPECT_EQ(server.connections(), 1u);
}

TEST(http_client_tls, sends_on_several_threads_load_the_certificates_once_and_share_the_pool) {
    loopback_server server(ok_handler(), good_pki().server);
    asio::io_context ioc;
    // The first sends of every thread race to load the CA file (client.cpp prepare_tls).
    client c(ioc.get_executor(), tls_options{good_pki().ca_file.string()});
    constexpr int senders = 6, sends = 10;
    const auto out = crmsync::testing::send_from_threads(
        ioc, c, server.base_url() + "/", std::chrono::seconds(30), senders, sends, 3);
    EXPECT_EQ(out.answered, senders * sends);
    EXPECT_EQ(server.requests(), std::size_t{senders * sends});
    EXPECT_LE(server.connections(), std::size_t{senders});
}

TEST(http_client_tls, localhost_name_is_verified_too) {
    loopback_server server(ok_handler(), good_pki().server);
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex, tls_options{good_pki().ca_file.string()});
        // localhost may resolve to ::1 first, where nothing listens; the connect moves on.
        auto r = co_await c.send(get("https://localhost:" + std::to_string(server.port()) + "/"));
        EXPECT_TRUE(r) << (r ? "" : r.error().message());
    });
}

TEST(http_client_tls, untrusted_certificate_is_tls_failed) {
    loopback_server server(ok_handler(), good_pki().server);
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);  // the system store does not know the test CA
        auto r = co_await c.send(get(server.base_url() + "/"));
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_TRUE(is_code(r.error(), errc::tls_failed)) << r.error().message();
            EXPECT_NE(r.error().message().find("handshake: certificate verification failed"),
                      std::string::npos)
                << r.error().message();
        }
        EXPECT_EQ(c.calls(), 0u);
    });
    EXPECT_EQ(server.requests(), 0u);
}

TEST(http_client_tls, host_name_mismatch_is_tls_failed) {
    // Signed by a CA the client trusts, but for another name.
    const auto other = make_test_pki({"api.example.test"}, {});
    loopback_server server(ok_handler(), other->server);
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex, tls_options{other->ca_file.string()});
        auto r = co_await c.send(get(server.base_url() + "/"));
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_TRUE(is_code(r.error(), errc::tls_failed)) << r.error().message();
            EXPECT_NE(r.error().message().find("does not match the host name"), std::string::npos)
                << r.error().message();
        }
    });
    EXPECT_EQ(server.requests(), 0u);
}

TEST(http_client_tls, unreadable_ca_file_is_tls_failed) {
    loopback_server server(ok_handler(), good_pki().server);
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex, tls_options{"/nonexistent/ca.pem"});
        auto r = co_await c.send(get(server.base_url() + "/"));
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_TRUE(is_code(r.error(), errc::tls_failed));
            EXPECT_NE(r.error().message().find("cannot load ca_file '/nonexistent/ca.pem'"),
                      std::string::npos)
                << r.error().message();
        }
    });
    EXPECT_EQ(server.connections(), 0u);
}

TEST(http_client_tls, plain_server_behind_https_url_is_tls_failed) {
    loopback_server server(ok_handler());
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex, tls_options{good_pki().ca_file.string()});
        auto r = co_await c.send(get("https://127.0.0.1:" + std::to_string(server.port()) + "/"));
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_TRUE(is_code(r.error(), errc::tls_failed)) << r.error().message();
        }
    });
}

TEST(http_client_tls, verification_off_accepts_an_unknown_ca) {
    loopback_server server(ok_handler(), good_pki().server);
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex, tls_options{{}, false});
        auto r = co_await c.send(get(server.base_url() + "/"));
        EXPECT_TRUE(r) << (r ? "" : r.error().message());
    });
}

TEST(http_client_tls, connection_close_ends_with_a_tls_shutdown) {
    loopback_server server(ok_handler(), good_pki().server);
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex, tls_options{good_pki().ca_file.string()});
        request q = get(server.base_url() + "/");
        q.headers = {{"Connection", "close"}};
        for (int i = 0; i < 2; ++i) {
            auto r = co_await c.send(q);
            EXPECT_TRUE(r) << (r ? "" : r.error().message());
        }
    });
    EXPECT_EQ(server.connections(), 2u);
}

TEST(http_client_tls, connection_closed_while_idle_is_replaced_transparently) {
    std::atomic<int> index{0};
    std::promise<void> closed;
    loopback_server server(
        [&](const http_request&) {
            reply r = make_reply(200, "{}");
            if (index++ == 0) {
                r.close_after = true;
                r.on_done = [&closed] { closed.set_value(); };
            }
            return r;
        },
        good_pki().server);
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex, tls_options{good_pki().ca_file.string()});
        auto r = co_await c.send(get(server.base_url() + "/"));
        EXPECT_TRUE(r) << (r ? "" : r.error().message());
        closed.get_future().wait();  // a condition, not a sleep
        r = co_await c.send(get(server.base_url() + "/"));
        EXPECT_TRUE(r) << (r ? "" : r.error().message());
    });
    EXPECT_EQ(server.requests(), 2u);
    EXPECT_EQ(server.connections(), 2u);
}

}  // namespace
}  // namespace crmsync::http
