#include "crmsync/observability/admin_server.hpp"

#include "crmsync/observability/events.hpp"
#include "crmsync/observability/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <set>

namespace crmsync::observability {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

nlohmann::json iso_or_null(const std::optional<sys_ms>& t) {
    return t ? nlohmann::json(timestamp{*t}.to_iso()) : nlohmann::json(nullptr);
}

admin_reply text(unsigned status, std::string body) {
    return {.status = status,
            .content_type = "text/plain; charset=utf-8",
            .body = std::move(body),
            .allow = {}};
}

// The path of a request target, without its query: a scraper may add one.
std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find('?'));
}

// "host:port" or "[v6]:port" into its parts; the config loader checked the shape already.
bool split_listen(std::string_view listen, std::string& host, unsigned short& port) {
    const auto colon = listen.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return false;
    host = std::string(listen.substr(0, colon));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    const auto p = listen.substr(colon + 1);
    const auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    return ec == std::errc{} && ptr == p.data() + p.size() && !p.empty();
}

}  // namespace

std::string readiness_json(const std::vector<stream_health>& streams, sys_ms now) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    bool ready = true;
    for (const auto& s : streams) {
        ready = ready && healthy(s.state);
        nlohmann::ordered_json j;
        j["stream"] = s.stream;
        j["state"] = std::string(to_string(s.state));
        j["healthy"] = healthy(s.state);
        j["running"] = s.running;
        j["reason"] =
            s.reason.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.reason);
        j["since"] = iso_or_null(s.since);
        j["until"] = iso_or_null(s.until);
        j["last_run"] = iso_or_null(s.last_run);
        j["watermark"] = iso_or_null(s.watermark);
        j["lag_seconds"] =
            s.watermark
                ? nlohmann::ordered_json(std::max<std::int64_t>(
                      0,
                      std::chrono::duration_cast<std::chrono::seconds>(now - *s.watermark).count()))
                : nlohmann::ordered_json(nullptr);
        j["consecutive_failures"] = s.consecutive_failures;
        list.push_back(std::move(j));
    }
    nlohmann::ordered_json doc;
    doc["ready"] = ready;
    doc["streams"] = std::move(list);
    return doc.dump(2) + "\n";
}

admin_reply handle_admin_request(bhttp::verb method,
                                 std::string_view target,
                                 const health_registry& health,
                                 const registry& metrics,
                                 sys_ms now) {
    const auto path = path_of(target);
    const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics";
    if (!known)
        return text(404, "not found; try /healthz, /readyz or /metrics\n");
    if (method != bhttp::verb::get && method != bhttp::verb::head) {
        auto r = text(405, "method not allowed\n");
        r.allow = "GET, HEAD";
        return r;
    }
    if (path == "/healthz")
        return text(200, "ok\n");
    if (path == "/readyz") {
        const auto streams = health.snapshot();
        bool ready = true;
        for (const auto& s : streams)
            ready = ready && healthy(s.state);
        return {.status = ready ? 200u : 503u,
                .content_type = "application/json",
                .body = readiness_json(streams, now),
                .allow = {}};
    }
    return {.status = 200,
            .content_type = std::string(prometheus_content_type),
            .body = metrics.render(),
            .allow = {}};
}

struct admin_server::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor ex, const health_registry& h, const registry& m, admin_limits l)
        : acceptor(ex), health(h), metrics(m), limits(l) {}

    tcp::acceptor acceptor;
    const health_registry& health;
    const registry& metrics;
    admin_limits limits;
    std::set<beast::tcp_stream*> open;  // live connections, closed by stop()
    tcp::endpoint bound;
    bool stopped = false;

    asio::awaitable<void> accept_loop() {
        auto self = shared_from_this();  // the loop may outlive the admin_server object
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
            if (ec || stopped)
                co_return;
            if (open.size() >= limits.max_connections) {
                // Over the cap: close at once rather than queue, so a flood holds nothing.
                emit(admin_connection_refused{.open = open.size()});
                beast::error_code ignored;
                socket.close(ignored);
                continue;
            }
            asio::co_spawn(
                acceptor.get_executor(), session(std::move(socket)), [](std::exception_ptr e) {
                    if (e) {
                        observability::error("Admin connection ended by an internal error.",
                                             {{"error", failure_from_exception(e).message()}});
                    }
                });
        }
    }

    asio::awaitable<void> session(tcp::socket socket) {
        auto self = shared_from_this();
        beast::tcp_stream stream(std::move(socket));
        open.insert(&stream);
        struct forget {
            impl& i;
            beast::tcp_stream* s;
            ~forget() { i.open.erase(s); }
        } guard{*this, &stream};
        beast::flat_buffer buffer;
        for (std::size_t served = 0; served < limits.max_requests && !stopped; ++served) {
            bhttp::request_parser<bhttp::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
            parser.body_limit(limits.max_body_bytes);
            stream.expires_after(limits.deadline);
            auto [rec, n] = co_await bhttp::async_read(stream, buffer, parser, use_nothrow);
            if (rec) {
                // A request too large gets its status before the close; anything else (the
                // peer left, the deadline passed, garbage) just closes.
                unsigned status = 0;
                if (rec == bhttp::error::header_limit)
                    status = 431;
                else if (rec == bhttp::error::body_limit)
                    status = 413;
                else if (rec != bhttp::error::end_of_stream && rec != beast::error::timeout &&
                         rec != asio::error::operation_aborted && parser.got_some())
                    status = 400;
                if (status != 0) {
                    auto r = text(
                        status,
                        std::string(bhttp::obsolete_reason(static_cast<bhttp::status>(status))) +
                            "\n");
                    co_await reply(stream, r, false, 11, false);
                    emit(admin_request{.path = "other", .status = status});
                }
                break;
            }
            const auto& req = parser.get();
            const auto r =
                handle_admin_request(req.method(), req.target(), health, metrics, system_now());
            const auto path = path_of(req.target());
            emit(admin_request{.path = r.status == 404 ? "other" : std::string(path),
                               .status = r.status});
            const bool keep = req.keep_alive() && served + 1 < limits.max_requests && !stopped;
            if (!co_await reply(
                    stream, r, keep, req.version(), req.method() == bhttp::verb::head) ||
                !keep)
                break;
        }
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream.close();
    }

    asio::awaitable<bool> reply(
        beast::tcp_stream& stream, const admin_reply& r, bool keep, unsigned version, bool head) {
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
        res.set(bhttp::field::server, "crmsync");
        res.set(bhttp::field::content_type, r.content_type);
        res.set(bhttp::field::cache_control, "no-store");
        if (!r.allow.empty())
            res.set(bhttp::field::allow, r.allow);
        res.keep_alive(keep);
        if (head) {
            res.content_length(r.body.size());  // HEAD: the headers GET would send, no body
        } else {
            res.body() = r.body;
            res.prepare_payload();
        }
        stream.expires_after(limits.deadline);
        auto [ec, n] = co_await bhttp::async_write(stream, res, use_nothrow);
        co_return !ec;
    }
};

admin_server::admin_server(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

admin_server::~admin_server() {
    stop();
}

result<std::unique_ptr<admin_server>> admin_server::start(asio::any_io_executor ex,
                                                          std::string_view listen,
                                                          const health_registry& health,
                                                          const registry& metrics,
                                                          admin_limits limits) {
    std::string host;
    unsigned short port = 0;
    if (!split_listen(listen, host, port)) {
        return make_failure(errc::config_invalid,
                            fmt::format("admin.listen '{}' is not host:port", listen));
    }
    const auto where = [&](std::string_view step, const boost::system::error_code& ec) {
        failure f{.code = ec, .detail = {}, .vendor_code = {}, .http_status = 0, .retry_after = {}};
        f.detail = fmt::format("admin.listen {}: {}", listen, step);  // message() adds ec's text
        return f;
    };
    boost::system::error_code ec;
    tcp::resolver resolver(ex);
    // Numeric addresses only resolve to themselves; a name (localhost) is looked up once, now.
    const auto found =
        resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, ec);
    if (ec)
        return where("resolve", ec);
    auto p = std::make_shared<impl>(ex, health, metrics, limits);
    for (const auto& entry : found) {
        auto& a = p->acceptor;
        a.close(ec);
        a.open(entry.endpoint().protocol(), ec);
        if (ec)
            continue;
        a.set_option(tcp::acceptor::reuse_address(true), ec);
        a.bind(entry.endpoint(), ec);
        if (ec)
            continue;
        a.listen(asio::socket_base::max_listen_connections, ec);
        if (!ec)
            break;
    }
    if (ec || !p->acceptor.is_open())
        return where(
            "bind",
            ec ? ec
               : boost::system::errc::make_error_code(boost::system::errc::address_not_available));
    p->bound = p->acceptor.local_endpoint(ec);
    asio::co_spawn(ex, p->accept_loop(), [](std::exception_ptr e) {
        if (e) {
            observability::error("Admin server stopped by an internal error.",
                                 {{"error", failure_from_exception(e).message()}});
        }
    });
    return std::unique_ptr<admin_server>(new admin_server(std::move(p)));
}

std::string admin_server::address() const {
    const auto& ep = impl_->bound;
    const auto a = ep.address();
    return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), ep.port())
                     : fmt::format("{}:{}", a.to_string(), ep.port());
}

unsigned short admin_server::port() const {
    return impl_->bound.port();
}

void admin_server::stop() {
    if (impl_->stopped)
        return;
    impl_->stopped = true;
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    // Closing cancels each connection's pending read or write; its session then ends.
    for (auto* s : impl_->open)
        s->socket().close(ignored);
}

}  // namespace crmsync::observability
