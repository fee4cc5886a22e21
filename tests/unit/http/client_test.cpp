#include "crmsync/http/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>

#include "loopback_server.hpp"
#include "run_coroutine.hpp"
#include "threaded_sends.hpp"
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <optional>
#include <vector>

namespace crmsync::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using crmsync::testing::fault;
using crmsync::testing::http_request;
using crmsync::testing::loopback_server;
using crmsync::testing::make_reply;
using crmsync::testing::reply;
using crmsync::testing::run_coroutine;
using std::chrono::milliseconds;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Requests as the server saw them; the handler runs on the server's thread.
class recorder {
public:
    void add(const http_request& r) {
        std::lock_guard lock(mutex_);
        seen_.push_back(r);
    }
    http_request at(std::size_t i) {
        std::lock_guard lock(mutex_);
        return seen_.at(i);
    }

private:
    std::mutex mutex_;
    std::vector<http_request> seen_;
};

request get(const loopback_server& server, std::string target = "/") {
    request q;
    q.url = server.base_url() + target;
    return q;
}

bool is_code(const failure& f, errc e) {
    return f.code == make_error_code(e);
}

TEST(http_client, get_roundtrip_sends_default_headers) {
    recorder seen;
    loopback_server server([&](const http_request& req) {
        seen.add(req);
        reply r = make_reply(200, R"({"records":[]})");
        r.res.set("X-Trace-Id", "abc123");
        return r;
    });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        auto r = co_await c.send(get(server, "/services/data/v61.0/query?q=SELECT%20Id"));
        if (!r) {
            ADD_FAILURE() << r.error().message();
            co_return;
        }
        EXPECT_EQ(r->status, 200u);
        EXPECT_EQ(r->body, R"({"records":[]})");
        EXPECT_EQ(r->header("x-trace-id"), "abc123");  // case-insensitive
        EXPECT_EQ(r->header("X-TRACE-ID"), "abc123");
        EXPECT_EQ(r->header("Content-Type"), "application/json");
        EXPECT_EQ(r->header("absent"), "");
        EXPECT_EQ(c.calls(), 1u);
    });
    const http_request req = seen.at(0);
    EXPECT_EQ(req.method(), bhttp::verb::get);
    EXPECT_EQ(req.target(), "/services/data/v61.0/query?q=SELECT%20Id");
    EXPECT_EQ(req[bhttp::field::host], "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(req[bhttp::field::user_agent].substr(0, 8), "crmsync/");
    EXPECT_GT(req[bhttp::field::user_agent].size(), 8u);
    EXPECT_EQ(req[bhttp::field::accept], "application/json");
    EXPECT_EQ(req.count(bhttp::field::content_type), 0u);
    EXPECT_TRUE(req.keep_alive());
}

TEST(http_client, post_roundtrip_with_body_and_caller_headers) {
    recorder seen;
    loopback_server server([&](const http_request& req) {
        seen.add(req);
        return make_reply(201, "echo:" + req.body(), "text/plain");
    });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        request q = get(server, "/rest/v1/leads.json");
        q.method = bhttp::verb::post;
        q.body = R"({"action":"createOrUpdate","input":[{"email":"a@example.com"}]})";
        q.content_type = "application/json";
        q.headers = {{"Authorization", "Bearer token-1"}, {"Accept", "text/csv"}};
        auto r = co_await c.send(q);
        if (!r) {
            ADD_FAILURE() << r.error().message();
            co_return;
        }
        EXPECT_EQ(r->status, 201u);
        EXPECT_EQ(r->body, "echo:" + q.body);
        EXPECT_EQ(r->header("content-type"), "text/plain");
    });
    const http_request req = seen.at(0);
    EXPECT_EQ(req.method(), bhttp::verb::post);
    EXPECT_EQ(req[bhttp::field::content_type], "application/json");
    EXPECT_EQ(req[bhttp::field::content_length], std::to_string(req.body().size()));
    EXPECT_EQ(req[bhttp::field::authorization], "Bearer token-1");
    EXPECT_EQ(req.count(bhttp::field::accept), 1u);  // the caller's replaces the default
    EXPECT_EQ(req[bhttp::field::accept], "text/csv");
}

TEST(http_client, header_with_line_break_is_refused_before_any_io) {
    loopback_server server([](const http_request&) { return make_reply(200, "{}"); });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        request q = get(server);
        q.headers = {{"X-Token", "abc\r\nX-Injected: 1"}};
        auto r = co_await c.send(q);
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_TRUE(is_code(r.error(), errc::request_rejected)) << r.error().message();
        }
        q.headers = {{"Bad Name", "v"}};
        r = co_await c.send(q);
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_TRUE(is_code(r.error(), errc::request_rejected)) << r.error().message();
        }
    });
    EXPECT_EQ(server.connections(), 0u);
}

TEST(http_client, keep_alive_reuses_one_connection) {
    loopback_server server([](const http_request&) { return make_reply(200, "{}"); });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        for (int i = 0; i < 4; ++i) {
            auto r = co_await c.send(get(server));
            EXPECT_TRUE(r) << (r ? "" : r.error().message());
        }
        EXPECT_EQ(c.calls(), 4u);
    });
    EXPECT_EQ(server.requests(), 4u);
    EXPECT_EQ(server.connections(), 1u);
}

TEST(http_client, connection_close_is_not_pooled) {
    loopback_server server([](const http_request&) { return make_reply(200, "{}"); });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        request q = get(server);
        q.headers = {{"Connection", "close"}};  // the server answers with Connection: close
        for (int i = 0; i < 2; ++i) {
            auto r = co_await c.send(q);
            EXPECT_TRUE(r) << (r ? "" : r.error().message());
        }
    });
    EXPECT_EQ(server.connections(), 2u);
}

TEST(http_client, server_reset_is_an_error_then_the_next_call_works) {
    std::atomic<int> index{0};
    loopback_server server([&](const http_request&) {
        reply r = make_reply(200, "{}");
        if (index++ == 0)
            r.fault = fault::reset;
        return r;
    });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        auto r = co_await c.send(get(server));
        EXPECT_FALSE(r);
        if (!r) {
            // A reset keeps its Asio code, with the step for context.
            EXPECT_TRUE(r.error().code == asio::error::connection_reset ||
                        r.error().code == bhttp::error::end_of_stream)
                << r.error().message();
            EXPECT_NE(r.error().message().find(": read"), std::string::npos) << r.error().message();
        }
        r = co_await c.send(get(server));
        EXPECT_TRUE(r) << (r ? "" : r.error().message());
        EXPECT_EQ(c.calls(), 1u);
    });
}

TEST(http_client, truncated_body_is_an_error) {
    loopback_server server([](const http_request&) {
        reply r = make_reply(200, std::string(1000, 'x'));
        r.fault = fault::truncate;
        return r;
    });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        auto r = co_await c.send(get(server));
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_TRUE(r.error().code == bhttp::error::partial_message ||
                        is_code(r.error(), errc::bad_response))
                << r.error().message();
        }
        EXPECT_EQ(c.calls(), 0u);
    });
}

TEST(http_client, delay_past_the_deadline_times_out_promptly) {
    loopback_server server([](const http_request&) {
        reply r = make_reply(200, "{}");
        r.delay = std::chrono::seconds(10);
        return r;
    });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        request q = get(server, "/identity/oauth/token?client_secret=hunter2");
        q.method = bhttp::verb::post;
        q.headers = {{"Authorization", "Bearer sekrit"}};
        q.timeout = milliseconds(200);
        const auto start = std::chrono::steady_clock::now();
        auto r = co_await c.send(q);
        const auto took = std::chrono::steady_clock::now() - start;
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_TRUE(is_code(r.error(), errc::timeout)) << r.error().message();
            EXPECT_EQ(r.error().message(),
                      "POST 127.0.0.1:" + std::to_string(server.port()) + ": read: timed out");
        }
        EXPECT_GE(took, milliseconds(150));
        EXPECT_LT(took, milliseconds(3000));
    });
}

TEST(http_client, timeout_cap_shortens_a_longer_timeout_but_not_a_shorter_one) {
    loopback_server server([](const http_request& req) {
        reply r = make_reply(200, "{}");
        if (req.target() == "/slow")
            r.delay = std::chrono::seconds(10);
        return r;
    });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        c.set_timeout_cap(milliseconds(200));
        request q = get(server, "/slow");
        q.timeout = std::chrono::minutes(2);
        const auto start = std::chrono::steady_clock::now();
        auto r = co_await c.send(q);
        EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5000));
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_TRUE(is_code(r.error(), errc::timeout)) << r.error().message();
        }
        // A timeout already under the cap stays as it is (zero still fails before any I/O).
        q = get(server, "/fast");
        q.timeout = milliseconds(0);
        r = co_await c.send(q);
        EXPECT_FALSE(r);
        c.set_timeout_cap(milliseconds(0));
        q.timeout = milliseconds(5000);
        r = co_await c.send(q);
        EXPECT_TRUE(r) << (r ? "" : r.error().message());
    });
}

TEST(http_client, a_spent_deadline_fails_before_any_io) {
    loopback_server server([](const http_request&) { return make_reply(200, "{}"); });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        request q = get(server);
        q.timeout = milliseconds(0);
        auto r = co_await c.send(q);
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_TRUE(is_code(r.error(), errc::timeout)) << r.error().message();
        }
    });
    EXPECT_EQ(server.connections(), 0u);
}

TEST(http_client, closed_port_is_connect_failed) {
    unsigned short port = 0;
    {
        // Bind, learn the port, close: nothing listens there afterwards.
        asio::io_context ioc;
        tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = a.local_endpoint().port();
    }
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        request q;
        q.url = "http://127.0.0.1:" + std::to_string(port) + "/";
        auto r = co_await c.send(q);
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_TRUE(is_code(r.error(), errc::connect_failed)) << r.error().message();
            EXPECT_NE(r.error().message().find("connect: "), std::string::npos);
            EXPECT_NE(r.error().message().find("refused"), std::string::npos)
                << r.error().message();
        }
    });
}

TEST(http_client, the_observer_sees_every_exchange_answered_or_not) {
    loopback_server server([&](const http_request&) { return make_reply(503, "busy"); });
    unsigned short closed = 0;
    {
        asio::io_context ioc;
        tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        closed = a.local_endpoint().port();
    }
    std::vector<std::pair<unsigned, std::string>> seen;  // status, error
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        c.observe([&](const exchange_record& x) {
            EXPECT_EQ(x.res == nullptr, x.error != nullptr);
            EXPECT_EQ(x.method, bhttp::verb::post);
            seen.emplace_back(x.res ? x.res->status : 0, x.error ? x.error->message() : "");
        });
        request q = get(server, "/x");
        q.method = bhttp::verb::post;
        (void)co_await c.send(q);
        q.url = "http://127.0.0.1:" + std::to_string(closed) + "/";
        (void)co_await c.send(q);
    });
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].first, 503u);
    EXPECT_EQ(seen[1].first, 0u);
    EXPECT_NE(seen[1].second.find("refused"), std::string::npos) << seen[1].second;
}

TEST(http_client, http_to_a_public_host_is_invalid_url_before_any_io) {
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        request q;
        q.url = "http://login.salesforce.com/services/oauth2/token";
        auto r = co_await c.send(q);
        EXPECT_FALSE(r);
        if (!r) {
            EXPECT_TRUE(is_code(r.error(), errc::invalid_url));
            EXPECT_NE(r.error().message().find("loopback"), std::string::npos)
                << r.error().message();
        }
        EXPECT_EQ(c.calls(), 0u);
    });
}

// Runs `count` sends at once on one client, twice, and returns the connections the server saw.
std::size_t concurrent_rounds(std::size_t count) {
    loopback_server server([](const http_request&) {
        reply r = make_reply(200, "{}");
        r.delay = milliseconds(300);  // keeps every exchange of a round in flight at once
        return r;
    });
    asio::io_context ioc;
    client c(ioc.get_executor());
    for (int round = 0; round < 2; ++round) {
        std::vector<std::optional<result<response>>> results(count);
        for (auto& slot : results) {
            asio::co_spawn(
                ioc, c.send(get(server)), [&slot](std::exception_ptr e, result<response> r) {
                    EXPECT_FALSE(e);
                    slot = std::move(r);
                });
        }
        ioc.run();
        ioc.restart();
        for (auto& slot : results) {
            EXPECT_TRUE(slot.has_value());
            if (slot) {
                EXPECT_TRUE(*slot) << (*slot ? "" : (*slot).error().message());
            }
        }
    }
    EXPECT_EQ(c.calls(), 2 * count);
    EXPECT_EQ(server.requests(), 2 * count);
    return server.connections();
}

TEST(http_client, concurrent_sends_each_get_a_connection_then_reuse_them) {
    EXPECT_EQ(concurrent_rounds(5), 5u);  // the second round reused the pooled five
}

TEST(http_client, idle_pool_is_capped_per_origin) {
    // 20 at once, then 20 again: only max_idle_connections_per_origin (16) were kept.
    EXPECT_EQ(concurrent_rounds(20), 20u + (20u - max_idle_connections_per_origin));
}

TEST(http_client, sends_on_several_threads_share_one_pool) {
    loopback_server server([](const http_request&) { return make_reply(200, "{}"); });
    asio::io_context ioc;
    client c(ioc.get_executor());
    constexpr int senders = 8, sends = 25;
    const auto out = crmsync::testing::send_from_threads(
        ioc, c, server.base_url() + "/", std::chrono::seconds(30), senders, sends, 4);
    EXPECT_EQ(out.answered, senders * sends);
    EXPECT_EQ(out.observed, senders * sends);
    EXPECT_EQ(c.calls(), std::size_t{senders * sends});
    EXPECT_EQ(server.requests(), std::size_t{senders * sends});
    // Each sender holds one connection at a time and hands it back: the pool never needs more.
    EXPECT_LE(server.connections(), std::size_t{senders});
}

TEST(http_client, deadlines_firing_on_several_threads_end_only_their_own_exchange) {
    // Replies arrive around the deadline, so a deadline often fires on one thread while the
    // reply completes the read on another: Beast's stream must see both on one strand, or the
    // timer closes a socket that the other thread is still reading or destroying (TSan).
    std::atomic<int> index{0};
    loopback_server server([&](const http_request&) {
        reply r = make_reply(200, "{}");
        r.delay = milliseconds(15 + index++ % 10);
        return r;
    });
    asio::io_context ioc;
    client c(ioc.get_executor());
    constexpr int senders = 8, sends = 30;
    auto out = crmsync::testing::send_from_threads(
        ioc, c, server.base_url() + "/", milliseconds(20), senders, sends, 4);
    // Which ones time out depends on the machine's load; each one is one or the other.
    EXPECT_EQ(out.answered + out.timed_out, senders * sends);
    EXPECT_EQ(out.observed, senders * sends);
    EXPECT_EQ(c.calls(), std::size_t(out.answered));
    // The pool holds only connections that finished their exchange: later sends all work.
    index = 0;
    out = crmsync::testing::send_from_threads(
        ioc, c, server.base_url() + "/", std::chrono::seconds(30), senders, 2, 4);
    EXPECT_EQ(out.answered, senders * 2);
}

TEST(http_client, cancellation_ends_the_send_with_cancelled) {
    asio::io_context ioc;
    asio::cancellation_signal stop;
    loopback_server server([&](const http_request&) {
        // The request has arrived: cancel from the client's own thread, as a shutdown would.
        asio::post(ioc, [&stop] { stop.emit(asio::cancellation_type::terminal); });
        reply r = make_reply(200, "{}");
        r.delay = std::chrono::seconds(10);
        return r;
    });
    client c(ioc.get_executor());
    std::optional<result<response>> out;
    asio::co_spawn(
        ioc,
        c.send(get(server)),
        asio::bind_cancellation_slot(stop.slot(), [&out](std::exception_ptr e, result<response> r) {
            EXPECT_FALSE(e);
            out = std::move(r);
        }));
    const auto start = std::chrono::steady_clock::now();
    ioc.run();
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3000));
    ASSERT_TRUE(out.has_value());
    ASSERT_FALSE(*out);
    EXPECT_TRUE(is_code(out->error(), errc::cancelled)) << out->error().message();
}

TEST(http_client, connection_the_server_closed_while_idle_is_replaced_transparently) {
    std::atomic<int> index{0};
    std::promise<void> closed;
    loopback_server server([&](const http_request&) {
        reply r = make_reply(200, "{}");
        if (index++ == 0) {
            r.close_after = true;  // as a server's keep-alive idle timeout does
            r.on_done = [&closed] { closed.set_value(); };
        }
        return r;
    });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        auto r = co_await c.send(get(server));
        EXPECT_TRUE(r) << (r ? "" : r.error().message());
        closed.get_future().wait();  // a condition, not a sleep: the server has closed it
        r = co_await c.send(get(server));
        EXPECT_TRUE(r) << (r ? "" : r.error().message());
        EXPECT_EQ(c.calls(), 2u);
    });
    EXPECT_EQ(server.requests(), 2u);
    EXPECT_EQ(server.connections(), 2u);
}

TEST(http_client, pooled_connection_dying_before_the_response_is_retried_once) {
    // Request 1 pools the connection; request 2 arrives on it and the server drops it without
    // answering (the keep-alive race, after our liveness check): the client retries once.
    std::atomic<int> index{0};
    loopback_server server([&](const http_request&) {
        reply r = make_reply(200, "{}");
        if (index++ == 1)
            r.fault = fault::reset;
        return r;
    });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        for (int i = 0; i < 2; ++i) {
            auto r = co_await c.send(get(server));
            EXPECT_TRUE(r) << (r ? "" : r.error().message());
        }
        EXPECT_EQ(c.calls(), 2u);
    });
    EXPECT_EQ(server.requests(), 3u);
    EXPECT_EQ(server.connections(), 2u);
}

// The keep-alive race for a request that is not idempotent: request 1 pools the connection,
// request 2 reaches the server on it and the server drops it unanswered. It may have acted on
// it (RFC 9110 §9.2.2), so the client does not send it again.
struct stale_case {
    bhttp::verb method;
    std::optional<bool> idempotent;
    bool resent;
};

void expect_stale_connection_handling(const stale_case& k) {
    SCOPED_TRACE(std::string(bhttp::to_string(k.method)) +
                 " idempotent=" + (k.idempotent ? (*k.idempotent ? "true" : "false") : "unset"));
    std::atomic<int> index{0};
    recorder seen;
    loopback_server server([&](const http_request& req) {
        seen.add(req);
        reply r = make_reply(200, "{}");
        if (index++ == 1)
            r.fault = fault::reset;  // read whole, then closed with no answer byte
        return r;
    });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        auto first = co_await c.send(get(server, "/first"));
        EXPECT_TRUE(first) << (first ? "" : first.error().message());
        request q = get(server, "/second");
        q.method = k.method;
        q.body = R"({"input":[{"email":"a@example.com"}]})";
        q.content_type = "application/json";
        q.idempotent = k.idempotent;
        auto r = co_await c.send(q);
        if (k.resent) {
            EXPECT_TRUE(r) << (r ? "" : r.error().message());
            EXPECT_EQ(c.calls(), 2u);
            co_return;
        }
        EXPECT_FALSE(r);
        if (r)
            co_return;
        // A transport failure (its Asio/Beast code kept) that the callers' classification
        // retries, saying why this layer did not.
        EXPECT_NE(r.error().code.category(), crmsync_category()) << r.error().message();
        const std::string m = r.error().message();
        EXPECT_NE(m.find(std::string(bhttp::to_string(k.method)) + " 127.0.0.1:"),
                  std::string::npos)
            << m;
        EXPECT_NE(m.find("kept-alive connection closed before any answer"), std::string::npos) << m;
        EXPECT_NE(m.find("not sent again"), std::string::npos) << m;
        EXPECT_EQ(c.calls(), 1u);
    });
    EXPECT_EQ(server.requests(), k.resent ? 3u : 2u);
    EXPECT_EQ(server.connections(), k.resent ? 2u : 1u);
    if (k.resent)
        EXPECT_EQ(seen.at(2).target(), "/second");
}

TEST(http_client, a_post_on_a_kept_alive_connection_closed_unanswered_is_not_sent_again) {
    expect_stale_connection_handling({bhttp::verb::post, std::nullopt, false});
}

TEST(http_client, a_post_marked_idempotent_is_sent_again_on_a_fresh_connection) {
    expect_stale_connection_handling({bhttp::verb::post, true, true});
}

TEST(http_client, stale_connection_resend_follows_the_idempotent_methods_of_rfc_9110) {
    for (const stale_case& k : {stale_case{bhttp::verb::get, std::nullopt, true},
                                stale_case{bhttp::verb::put, std::nullopt, true},
                                stale_case{bhttp::verb::delete_, std::nullopt, true},
                                stale_case{bhttp::verb::patch, std::nullopt, false},
                                stale_case{bhttp::verb::patch, true, true},
                                stale_case{bhttp::verb::put, false, false},
                                stale_case{bhttp::verb::get, false, false}}) {
        expect_stale_connection_handling(k);
    }
}

TEST(http_client, idempotent_methods_are_those_of_rfc_9110) {
    for (auto m : {bhttp::verb::get,
                   bhttp::verb::head,
                   bhttp::verb::options,
                   bhttp::verb::trace,
                   bhttp::verb::put,
                   bhttp::verb::delete_}) {
        EXPECT_TRUE(idempotent_method(m)) << bhttp::to_string(m);
    }
    for (auto m : {bhttp::verb::post, bhttp::verb::patch, bhttp::verb::connect}) {
        EXPECT_FALSE(idempotent_method(m)) << bhttp::to_string(m);
    }
}

TEST(http_client, a_request_nothing_of_which_was_written_may_always_go_again) {
    request post;
    post.method = bhttp::verb::post;
    EXPECT_FALSE(is_idempotent(post));
    EXPECT_TRUE(resend_on_stale_connection(post, 0)) << "the server cannot have seen it";
    EXPECT_FALSE(resend_on_stale_connection(post, 1)) << "a part reached the socket";
    post.idempotent = true;
    EXPECT_TRUE(resend_on_stale_connection(post, 4096));
    request get_marked_unsafe;
    get_marked_unsafe.idempotent = false;
    EXPECT_FALSE(is_idempotent(get_marked_unsafe));
    EXPECT_TRUE(resend_on_stale_connection(get_marked_unsafe, 0));
    EXPECT_FALSE(resend_on_stale_connection(get_marked_unsafe, 10));
}

TEST(http_client, the_keep_alive_retry_happens_only_once) {
    std::atomic<int> index{0};
    loopback_server server([&](const http_request&) {
        reply r = make_reply(200, "{}");
        if (index++ >= 1)
            r.fault = fault::reset;
        return r;
    });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        auto r = co_await c.send(get(server));
        EXPECT_TRUE(r);
        r = co_await c.send(get(server));
        EXPECT_FALSE(r);  // the fresh connection was reset too: that is reported
    });
    EXPECT_EQ(server.requests(), 3u);
}

TEST(http_client, no_retry_once_response_bytes_arrived) {
    std::atomic<int> index{0};
    loopback_server server([&](const http_request&) {
        reply r = make_reply(200, std::string(100, 'y'));
        if (index++ == 1)
            r.fault = fault::truncate;
        return r;
    });
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        client c(ex);
        auto r = co_await c.send(get(server));
        EXPECT_TRUE(r);
        r = co_await c.send(get(server));  // on the pooled connection, cut mid-body
        EXPECT_FALSE(r);
    });
    EXPECT_EQ(server.requests(), 2u);
}

// STYLE rule 7: fail at request n for every n, and check that exactly that call fails, the call
// after it and every other succeeds, and the pool converges (one replacement connection, reused
// after).
enum class injected { truncate, timeout, reset };

void fail_at_every_n(injected kind) {
    constexpr int total = 5;
    for (int n = 0; n < total; ++n) {
        SCOPED_TRACE("fault at request " + std::to_string(n));
        std::atomic<int> index{0};
        loopback_server server([&](const http_request&) {
            const int i = index++;
            reply r = make_reply(200, R"({"request":)" + std::to_string(i) + "}");
            if (i == n) {
                switch (kind) {
                    case injected::truncate:
                        r.fault = fault::truncate;
                        break;
                    case injected::timeout:
                        r.delay = std::chrono::seconds(10);
                        break;
                    case injected::reset:
                        r.fault = fault::reset;
                        break;
                }
            }
            return r;
        });
        // A reset on a pooled connection (n > 0) is the keep-alive race: retried, not seen.
        const bool visible = kind != injected::reset || n == 0;
        run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            client c(ex);
            for (int call = 0; call <= total; ++call) {
                request q = get(server);
                q.timeout = milliseconds(500);
                auto r = co_await c.send(q);
                const bool expect_failure = visible && call == n;
                EXPECT_EQ(!r, expect_failure)
                    << "call " << call << ": " << (r ? "ok" : r.error().message());
                if (r) {
                    EXPECT_EQ(r->status, 200u);
                }
                if (!r && kind == injected::timeout) {
                    EXPECT_TRUE(is_code(r.error(), errc::timeout)) << r.error().message();
                }
            }
            EXPECT_EQ(c.calls(), static_cast<std::size_t>(visible ? total : total + 1));
        });
        EXPECT_EQ(server.connections(), 2u);
        EXPECT_EQ(server.requests(), static_cast<std::size_t>(visible ? total + 1 : total + 2));
    }
}

TEST(http_client_fail_at_n, truncated_body) {
    fail_at_every_n(injected::truncate);
}
TEST(http_client_fail_at_n, timeout) {
    fail_at_every_n(injected::timeout);
}
TEST(http_client_fail_at_n, reset) {
    fail_at_every_n(injected::reset);
}

// A peer on the test's own io_context that answers one connection with raw bytes, for replies
// the loopback server cannot produce because it always frames them correctly.
asio::awaitable<void> answer_raw(tcp::acceptor& acceptor, std::string bytes) {
    auto [aec, socket] = co_await acceptor.async_accept(use_nothrow);
    if (aec)
        co_return;
    std::string head;
    auto [rec, rn] = co_await asio::async_read_until(
        socket, asio::dynamic_buffer(head), "\r\n\r\n", use_nothrow);
    (void)rec;
    (void)rn;
    auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(bytes), use_nothrow);
    (void)wec;
    (void)wn;
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
}

result<response> exchange_raw(const std::string& bytes) {
    std::optional<result<response>> out;
    run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        tcp::acceptor acceptor(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        asio::co_spawn(
            ex, answer_raw(acceptor, bytes), [](std::exception_ptr e) { EXPECT_FALSE(e); });
        client c(ex);
        request q;
        q.url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/";
        out = co_await c.send(q);
    });
    return std::move(*out);
}

TEST(http_client_raw, garbage_is_bad_response) {
    auto r = exchange_raw("HELLO\r\n\r\n");
    ASSERT_FALSE(r);
    EXPECT_TRUE(is_code(r.error(), errc::bad_response)) << r.error().message();
}

TEST(http_client_raw, body_over_the_limit_is_bad_response) {
    auto r = exchange_raw("HTTP/1.1 200 OK\r\nContent-Length: " +
                          std::to_string(max_response_body_bytes + 1) + "\r\n\r\n");
    ASSERT_FALSE(r);
    EXPECT_TRUE(is_code(r.error(), errc::bad_response));
    EXPECT_NE(r.error().message().find("larger than 64 MiB"), std::string::npos)
        << r.error().message();
}

TEST(http_client_raw, header_over_the_limit_is_bad_response) {
    auto r = exchange_raw("HTTP/1.1 200 OK\r\nX-Big: " + std::string(70'000, 'a') + "\r\n\r\n");
    ASSERT_FALSE(r);
    EXPECT_TRUE(is_code(r.error(), errc::bad_response)) << r.error().message();
}

TEST(http_client_raw, chunked_body_is_read) {
    auto r = exchange_raw(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n"
        "0\r\n\r\n");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->body, "hello world");
}

TEST(http_client_raw, body_delimited_by_close_is_read) {
    auto r = exchange_raw("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->body, "until the end");
}

TEST(http_client_raw, interim_100_continue_is_skipped) {
    auto r = exchange_raw("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status, 204u);
    EXPECT_EQ(r->header("x-a"), "b");
}

TEST(http_response, header_lookup_is_case_insensitive_and_first_wins) {
    response r;
    r.headers = {{"Set-Cookie", "a=1"}, {"set-cookie", "b=2"}, {"Retry-After", "30"}};
    EXPECT_EQ(r.header("SET-COOKIE"), "a=1");
    EXPECT_EQ(r.header("retry-after"), "30");
    EXPECT_EQ(r.header("Retry-Afte"), "");
    EXPECT_EQ(r.header(""), "");
}

}  // namespace
}  // namespace crmsync::http
