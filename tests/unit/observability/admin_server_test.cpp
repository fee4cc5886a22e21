#include "crmsync/observability/admin_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "prometheus_text.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

#include <future>
#include <thread>

namespace crmsync::observability {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

const sys_ms t0{std::chrono::sys_days{std::chrono::year{2026} / 3 / 1}};

// The server on its own io_context thread; the test talks to it over real TCP, blocking.
class admin : public ::testing::Test {
protected:
    void start(admin_limits limits = {}) {
        auto s = admin_server::start(ioc_.get_executor(), "127.0.0.1:0", health_, metrics_, limits);
        ASSERT_TRUE(s) << s.error().message();
        server_ = std::move(*s);
        work_.emplace(ioc_.get_executor());
        thread_ = std::thread([this] { ioc_.run(); });
    }
    void TearDown() override {
        if (server_) {
            asio::post(ioc_, [this] { server_->stop(); });
            work_.reset();
            thread_.join();
        }
    }

    // A connected socket that gives up on a read after 10 s, so a broken server fails the test
    // instead of hanging it.
    tcp::socket connect() {
        tcp::socket s(client_ioc_);
        s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
        timeval tv{10, 0};
        ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        return s;
    }

    struct answer {
        bhttp::response<bhttp::string_body> res;
        beast::error_code ec;
    };
    answer read(tcp::socket& s) {
        answer a;
        bhttp::response_parser<bhttp::string_body> p;
        p.skip(head_);
        bhttp::read(s, buffer_, p, a.ec);
        a.res = p.release();
        return a;
    }
    answer request(tcp::socket& s,
                   bhttp::verb method,
                   std::string target,
                   bool keep_alive = false,
                   std::string body = {}) {
        bhttp::request<bhttp::string_body> req{method, target, 11};
        req.set(bhttp::field::host, "127.0.0.1");
        req.keep_alive(keep_alive);
        if (!body.empty()) {
            req.body() = std::move(body);
            req.prepare_payload();
        }
        bhttp::write(s, req);
        head_ = method == bhttp::verb::head;
        return read(s);
    }
    answer get(std::string target, bhttp::verb method = bhttp::verb::get) {
        auto s = connect();
        return request(s, method, std::move(target));
    }
    // True when the server closed `s` without answering.
    bool closed_without_answer(tcp::socket& s) {
        std::array<char, 64> buf{};
        boost::system::error_code ec;
        const auto n = s.read_some(asio::buffer(buf), ec);
        return n == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset);
    }

    health_registry health_;
    registry metrics_;
    asio::io_context ioc_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::thread thread_;
    std::unique_ptr<admin_server> server_;
    asio::io_context client_ioc_;
    beast::flat_buffer buffer_;
    bool head_ = false;
};

TEST_F(admin, healthz_answers_while_the_process_serves) {
    start();
    const auto a = get("/healthz");
    ASSERT_FALSE(a.ec) << a.ec.message();
    EXPECT_EQ(a.res.result_int(), 200u);
    EXPECT_EQ(a.res.body(), "ok\n");
}

TEST_F(admin, readyz_is_200_only_while_every_stream_is_healthy) {
    health_.track({"contacts", "leads"});
    start();
    auto a = get("/readyz");
    ASSERT_FALSE(a.ec) << a.ec.message();
    EXPECT_EQ(a.res.result_int(), 200u);
    EXPECT_EQ(a.res[bhttp::field::content_type], "application/json");
    auto doc = nlohmann::json::parse(a.res.body());
    EXPECT_EQ(doc["ready"], true);
    ASSERT_EQ(doc["streams"].size(), 2u);
    EXPECT_EQ(doc["streams"][0]["stream"], "contacts");
    EXPECT_EQ(doc["streams"][0]["state"], "ok");

    auto f = make_failure(errc::quota_exhausted, "marketo mkto: 607 Daily quota reached");
    f.retry_after = 2h;
    health_.run_finished("leads", &f, t0);
    a = get("/readyz");
    EXPECT_EQ(a.res.result_int(), 503u);
    doc = nlohmann::json::parse(a.res.body());
    EXPECT_EQ(doc["ready"], false);
    EXPECT_EQ(doc["streams"][1]["state"], "paused");
    EXPECT_EQ(doc["streams"][1]["healthy"], false);
    EXPECT_EQ(doc["streams"][1]["until"], timestamp{t0 + 2h}.to_iso());
    EXPECT_EQ(doc["streams"][1]["reason"], "marketo mkto: 607 Daily quota reached");
    EXPECT_EQ(doc["streams"][0]["state"], "ok") << "the healthy one says so";
}

TEST_F(admin, metrics_is_valid_exposition_text_with_its_content_type) {
    health_.track({"contacts"});
    metrics_.counters("crmsync_records_read_total", "Records read.", {"stream"})
        .with({"contacts"})
        .inc(7);
    // The server renders what it was given: the health gauges come from this collector.
    auto publish = metrics_.add_collector([this] { collect_health(health_, metrics_, t0); });
    start();
    const auto a = get("/metrics?name[]=ignored");
    ASSERT_FALSE(a.ec) << a.ec.message();
    EXPECT_EQ(a.res.result_int(), 200u);
    EXPECT_EQ(a.res[bhttp::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
    const auto m = testing::parse_exposition(a.res.body());
    ASSERT_TRUE(m.problems.empty()) << m.problems.front();
    EXPECT_EQ(m.value("crmsync_records_read_total", {{"stream", "contacts"}}), 7);
    EXPECT_EQ(m.value("crmsync_stream_healthy", {{"stream", "contacts"}}), 1);
}

TEST_F(admin, head_sends_the_headers_of_get_without_a_body) {
    start();
    const auto a = get("/healthz", bhttp::verb::head);
    ASSERT_FALSE(a.ec) << a.ec.message();
    EXPECT_EQ(a.res.result_int(), 200u);
    EXPECT_EQ(a.res[bhttp::field::content_length], "3");
    EXPECT_TRUE(a.res.body().empty());
}

TEST_F(admin, other_paths_are_404_and_other_methods_405) {
    start();
    auto a = get("/admin");
    EXPECT_EQ(a.res.result_int(), 404u);
    a = get("/metrics", bhttp::verb::post);
    EXPECT_EQ(a.res.result_int(), 405u);
    EXPECT_EQ(a.res[bhttp::field::allow], "GET, HEAD");
    a = get("/readyz", bhttp::verb::delete_);
    EXPECT_EQ(a.res.result_int(), 405u);
}

TEST_F(admin, oversized_headers_get_431_and_bodies_413_then_the_connection_closes) {
    start({.max_header_bytes = 1024, .max_body_bytes = 16});
    auto s = connect();
    bhttp::request<bhttp::string_body> req{bhttp::verb::get, "/healthz", 11};
    req.set("X-Padding", std::string(2048, 'x'));
    bhttp::write(s, req);
    auto a = read(s);
    EXPECT_EQ(a.res.result_int(), 431u);
    EXPECT_TRUE(closed_without_answer(s));

    auto s2 = connect();
    a = request(s2, bhttp::verb::get, "/healthz", true, std::string(64, 'b'));
    EXPECT_EQ(a.res.result_int(), 413u);
    EXPECT_TRUE(closed_without_answer(s2));
}

TEST_F(admin, a_client_that_sends_nothing_is_dropped_at_the_deadline) {
    start({.deadline = 200ms});
    auto s = connect();
    EXPECT_TRUE(closed_without_answer(s));
    // A half-sent request is dropped the same way.
    auto s2 = connect();
    asio::write(s2, asio::buffer(std::string_view("GET /healthz HTTP/1.1\r\nHost: x\r\n")));
    EXPECT_TRUE(closed_without_answer(s2));
}

TEST_F(admin, keep_alive_serves_up_to_max_requests_then_closes) {
    start({.max_requests = 2});
    auto s = connect();
    auto a = request(s, bhttp::verb::get, "/healthz", true);
    EXPECT_TRUE(a.res.keep_alive());
    a = request(s, bhttp::verb::get, "/healthz", true);
    EXPECT_EQ(a.res.result_int(), 200u);
    EXPECT_FALSE(a.res.keep_alive()) << "the last one announces the close";
    EXPECT_TRUE(closed_without_answer(s));
}

TEST_F(admin, connections_over_the_cap_are_closed_at_once) {
    start({.max_connections = 2});
    // Two keep-alive connections, each served once so the server holds both open.
    auto a = connect();
    auto b = connect();
    EXPECT_EQ(request(a, bhttp::verb::get, "/healthz", true).res.result_int(), 200u);
    EXPECT_EQ(request(b, bhttp::verb::get, "/healthz", true).res.result_int(), 200u);
    auto c = connect();
    EXPECT_TRUE(closed_without_answer(c));
    EXPECT_EQ(metrics_.render().find("crmsync_admin"), std::string::npos)
        << "the server counts through the global events, not the registry it renders";

    a.close();
    // Once the server has seen the close, a new connection is served again; the close is
    // asynchronous, so try until it is (bounded).
    bool served = false;
    for (int i = 0; i < 100 && !served; ++i) {
        auto d = connect();
        boost::system::error_code ec;
        bhttp::request<bhttp::string_body> req{bhttp::verb::get, "/healthz", 11};
        req.set(bhttp::field::host, "x");
        bhttp::write(d, req, ec);
        bhttp::response<bhttp::string_body> res;
        if (!ec)
            bhttp::read(d, buffer_, res, ec);
        served = !ec && res.result_int() == 200;
    }
    EXPECT_TRUE(served);
}

TEST_F(admin, stop_closes_the_listener_and_every_connection) {
    start();
    auto s = connect();
    EXPECT_EQ(request(s, bhttp::verb::get, "/healthz", true).res.result_int(), 200u);
    const auto port = server_->port();
    std::promise<void> stopped;
    asio::post(ioc_, [&] {
        server_->stop();
        stopped.set_value();
    });
    stopped.get_future().wait();
    EXPECT_TRUE(closed_without_answer(s));
    tcp::socket again(client_ioc_);
    boost::system::error_code ec;
    again.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    EXPECT_EQ(ec, asio::error::connection_refused);
    // Nothing of the server is left on the io_context: without the work guard, run() returns.
    work_.reset();
    thread_.join();
    server_.reset();
}

TEST(admin_start, a_taken_port_is_an_error_naming_the_address) {
    asio::io_context ioc;
    health_registry h;
    registry m;
    auto first = admin_server::start(ioc.get_executor(), "127.0.0.1:0", h, m);
    ASSERT_TRUE(first);
    const auto taken = (*first)->address();
    auto second = admin_server::start(ioc.get_executor(), taken, h, m);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().message(),
              "admin.listen " + taken + ": bind (" + second.error().code.message() + ")");
    EXPECT_EQ(second.error().code, boost::system::errc::address_in_use);
    EXPECT_FALSE(admin_server::start(ioc.get_executor(), "nonsense", h, m));
}

TEST(admin_start, ipv6_loopback_and_names_are_accepted) {
    asio::io_context ioc;
    health_registry h;
    registry m;
    auto named = admin_server::start(ioc.get_executor(), "localhost:0", h, m);
    ASSERT_TRUE(named) << named.error().message();
    EXPECT_NE((*named)->port(), 0);
    auto v6 = admin_server::start(ioc.get_executor(), "[::1]:0", h, m);
    if (v6) {  // hosts without IPv6 cannot bind ::1
        EXPECT_TRUE((*v6)->address().starts_with("[::1]:"));
    }
}

TEST(admin_handler, readiness_document_has_every_key_for_every_stream) {
    health_registry h;
    h.track({"contacts"});
    h.set_watermark("contacts", t0 - 45s);
    h.run_finished("contacts", nullptr, t0 - 5s);
    EXPECT_EQ(readiness_json(h.snapshot(), t0), R"({
  "ready": true,
  "streams": [
    {
      "stream": "contacts",
      "state": "ok",
      "healthy": true,
      "running": false,
      "reason": null,
      "since": null,
      "until": null,
      "last_run": "2026-02-28T23:59:55.000Z",
      "watermark": "2026-02-28T23:59:15.000Z",
      "lag_seconds": 45,
      "consecutive_failures": 0
    }
  ]
}
)");
}

}  // namespace
}  // namespace crmsync::observability
