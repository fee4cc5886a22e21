#include "crmsync/http/client.hpp"

#include "crmsync/core/text.hpp"
#include "crmsync/http/url.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#ifndef CRMSYNC_VERSION
#define CRMSYNC_VERSION "0.0.0"
#endif

namespace crmsync::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
// Bounds the TLS close_notify exchange on a connection we are done with; the response is already
// complete, so this only decides how long we are polite.
constexpr auto tls_shutdown_limit = std::chrono::seconds(1);

using wire_request = bhttp::request<bhttp::string_body>;
using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

bool is_ip_literal(const std::string& host) {
    error_code ec;
    (void)asio::ip::make_address(host, ec);
    return !ec;
}

// host[:port] as it goes into the Host header and into error details (default port omitted).
std::string authority(const url& u) {
    const bool v6 = u.host.find(':') != std::string::npos;
    std::string out = v6 ? "[" + u.host + "]" : u.host;
    const bool default_port = (u.tls() && u.port == "443") || (!u.tls() && u.port == "80");
    if (!default_port)
        out += ":" + u.port;
    return out;
}

// One keep-alive connection: TCP or TLS over TCP, plus the read buffer that belongs to it.
struct connection {
    std::variant<plain_stream, tls_stream> stream;
    beast::flat_buffer buffer;
    clock::time_point idle_since{};
    bool host_mismatch = false;  // set by the verify callback, to explain a failed handshake

    explicit connection(const asio::any_io_executor& ex)
        : stream(std::in_place_type<plain_stream>, ex) {
        reserve_buffer();
    }
    connection(const asio::any_io_executor& ex, ssl::context& ctx)
        : stream(std::in_place_type<tls_stream>, ex, ctx) {
        reserve_buffer();
    }

    // Beast reads as much as the buffer has room for, 512 bytes at first; the parser drains it
    // into the body, so without room set aside a 1.6 MB query page took 3,000 reads, each with
    // its own timer and epoll wait (1.7 system calls per record synced). 64 KB per read is
    // what Beast allows at most.
    void reserve_buffer() { buffer.reserve(64 * 1024); }

    beast::tcp_stream& tcp() {
        return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                          stream);
    }
};

// Whether an idle pooled connection can carry a new request. A server that closed it while it
// sat in the pool has left an EOF (or a TLS close_notify) to read; an idle HTTP/1.1 connection
// must have nothing to read at all. Peeking without blocking catches most of the keep-alive race
// before we write; send() handles the rest by retrying once.
bool looks_alive(connection& c) {
    auto& socket = c.tcp().socket();
    if (!socket.is_open() || c.buffer.size() != 0)
        return false;
    if (clock::now() - c.idle_since > max_idle_time)
        return false;
    char byte = 0;
    const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// "METHOD host:port", the start of every failure detail. Never the target: the query string may
// carry credentials (Marketo's identity call takes client_secret there), and details are logged.
struct call_context {
    std::string what;

    failure ours(errc e, std::string_view step, std::string_view why) const {
        return make_failure(e, what + ": " + std::string(step) + ": " + std::string(why));
    }
    // Asio/Beast codes pass through untouched (STYLE error convention 2); message() appends
    // the code's own text to this detail.
    failure theirs(error_code ec, std::string_view step) const {
        failure f;
        f.code = ec;
        f.detail = what + ": " + std::string(step);
        return f;
    }
    failure timed_out(std::string_view step) const {
        return ours(errc::timeout, step, "timed out");
    }
};

enum class step { resolve, connect, handshake, write, read };

std::string_view step_name(step s) {
    switch (s) {
        case step::resolve:
            return "resolve";
        case step::connect:
            return "connect";
        case step::handshake:
            return "handshake";
        case step::write:
            return "write";
        case step::read:
            return "read";
    }
    return "io";
}

std::string tls_reason(connection& c, const error_code& ec) {
    const std::string verify = "certificate verification failed";
    if (c.host_mismatch)
        return verify + ": certificate does not match the host name";
    if (auto* s = std::get_if<tls_stream>(&c.stream)) {
        const long v = SSL_get_verify_result(s->native_handle());
        if (v != X509_V_OK)
            return verify + ": " + X509_verify_cert_error_string(v);
    }
    if (ec == ssl::error::stream_truncated) {
        // What a plain-http server does with our ClientHello: reads it as garbage and hangs up.
        return "the server closed the connection during the handshake (is it serving TLS?)";
    }
    if (ec.category() == asio::error::get_ssl_category() &&
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        return verify;
    }
    return ec.message();
}

bool is_http_parse_error(const error_code& ec) {
    if (ec.category() != bhttp::make_error_code(bhttp::error::bad_version).category())
        return false;
    // These three mean the peer stopped sending, not that it sent nonsense: they keep their code.
    return ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
           ec != bhttp::error::short_read;
}

// The single mapping from an I/O step's error_code to a failure (STYLE error convention 2).
failure step_failure(
    const call_context& cx, step s, const error_code& ec, bool cancelled, connection* c = nullptr) {
    const auto name = step_name(s);
    if (cancelled)
        return cx.ours(errc::cancelled, name, "cancelled");
    if (ec == beast::error::timeout)
        return cx.timed_out(name);
    switch (s) {
        case step::resolve:
        case step::connect:
            return cx.ours(errc::connect_failed, name, ec.message());
        case step::handshake:
            return cx.ours(errc::tls_failed, name, c ? tls_reason(*c, ec) : ec.message());
        case step::write:
            return cx.theirs(ec, name);
        case step::read:
            if (ec == bhttp::error::body_limit) {
                return cx.ours(errc::bad_response, name, "response body larger than 64 MiB");
            }
            if (ec == bhttp::error::header_limit) {
                return cx.ours(errc::bad_response, name, "response header larger than 64 KiB");
            }
            if (is_http_parse_error(ec)) {
                return cx.ours(
                    errc::bad_response, name, "malformed HTTP response: " + ec.message());
            }
            return cx.theirs(ec, name);
    }
    return cx.theirs(ec, name);
}

// Time left before the exchange's deadline, or nullopt when it has passed.
std::optional<std::chrono::milliseconds> left(clock::time_point deadline) {
    const auto d = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
    if (d.count() <= 0)
        return std::nullopt;
    return d;
}

asio::awaitable<bool> was_cancelled() {
    auto state = co_await asio::this_coro::cancellation_state;
    co_return state.cancelled() != asio::cancellation_type::none;
}

// RFC 9110 §5.1 token and §5.5 field value: a name or value that could end the header line
// early would let a bad token or configuration value inject headers or a second request.
bool valid_field_name(std::string_view name) {
    if (name.empty())
        return false;
    return std::all_of(name.begin(), name.end(), [](unsigned char ch) {
        const bool alnum =
            (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        return alnum || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(ch)) !=
                            std::string_view::npos;
    });
}

bool valid_field_value(std::string_view value) {
    return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Takes `req`'s body: a Sync Leads body is a few hundred kilobytes, copied once per call.
result<wire_request> build_request(request& req, const url& u, const call_context& cx) {
    wire_request msg{req.method, u.target, 11};
    msg.set(bhttp::field::host, authority(u));
    msg.set(bhttp::field::user_agent, "crmsync/" CRMSYNC_VERSION);
    msg.set(bhttp::field::accept, "application/json");
    if (!req.body.empty() && !req.content_type.empty()) {
        if (!valid_field_value(req.content_type)) {
            return cx.ours(errc::request_rejected, "request", "content type holds a line break");
        }
        msg.set(bhttp::field::content_type, req.content_type);
    }
    // The caller's headers replace our defaults of the same name; a name the caller repeats is
    // sent repeatedly.
    std::unordered_set<std::string> replaced;
    for (const auto& [name, value] : req.headers) {
        if (!valid_field_name(name) || !valid_field_value(value)) {
            // The name is safe to show once validated as a token; otherwise show nothing of it.
            return cx.ours(errc::request_rejected,
                           "request",
                           valid_field_name(name) ? "header '" + name + "' holds a line break"
                                                  : "a header name is not a valid token");
        }
        const std::string key = to_lower_ascii(name);
        if (replaced.insert(key).second) {
            msg.set(name, value);
        } else {
            msg.insert(name, value);
        }
    }
    msg.body() = std::move(req.body);
    // Content-Length (or none for a bodiless GET) from the body we actually send.
    msg.prepare_payload();
    return msg;
}

// What one attempt on one connection produced.
struct attempt {
    std::optional<response> res;
    failure error;
    bool nothing_received = false;  // no byte of an answer arrived
    std::size_t written = 0;        // bytes of the request written to the socket
    bool reusable = false;
};

template <class Stream>
asio::awaitable<attempt> exchange(Stream& stream,
                                  connection& c,
                                  const wire_request& msg,
                                  clock::time_point deadline,
                                  const call_context& cx) {
    attempt out;
    auto budget = left(deadline);
    if (!budget) {
        out.error = cx.timed_out("write");
        co_return out;
    }
    c.tcp().expires_after(*budget);
    auto [wec, wn] = co_await bhttp::async_write(stream, msg, use_nothrow);
    out.written = wn;
    if (wec) {
        out.error = step_failure(cx, step::write, wec, co_await was_cancelled());
        out.nothing_received = true;
        co_return out;
    }

    for (;;) {
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(max_response_body_bytes);
        parser.header_limit(static_cast<std::uint32_t>(max_response_header_bytes));
        // A HEAD response announces a Content-Length but carries no body (RFC 9110 §9.3.2).
        if (msg.method() == bhttp::verb::head)
            parser.skip(true);

        budget = left(deadline);
        if (!budget) {
            out.error = cx.timed_out("read");
            co_return out;
        }
        c.tcp().expires_after(*budget);
        auto [rec, rn] = co_await bhttp::async_read(stream, c.buffer, parser, use_nothrow);
        (void)rn;
        if (rec) {
            out.nothing_received = !parser.got_some() && c.buffer.size() == 0;
            // On TLS, stream_truncated here means the peer closed TCP without close_notify
            // before the message was complete (a complete one would have ended the read). For a
            // body delimited by the close itself that makes the end unknowable, so it stays an
            // error rather than being taken as the end of the body.
            out.error = step_failure(cx, step::read, rec, co_await was_cancelled());
            co_return out;
        }
        const unsigned status = parser.get().result_int();
        // An interim 1xx (other than 101, which we never ask for) precedes the real response.
        if (status >= 100 && status < 200 && status != 101)
            continue;

        out.reusable = parser.keep_alive() && !parser.need_eof() && c.buffer.size() == 0;
        auto message = parser.release();
        response res;
        res.status = status;
        res.headers.reserve(
            static_cast<std::size_t>(std::distance(message.begin(), message.end())));
        for (const auto& field : message) {
            res.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        }
        res.body = std::move(message.body());
        out.res = std::move(res);
        co_return out;
    }
}

}  // namespace

std::string_view response::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals_ascii(key, name))
            return value;
    }
    return {};
}

struct client::impl {
    // A strand over the caller's executor: every exchange, every connection's I/O and the
    // idle pool live on it. send() may be called from several threads that run one io_context
    // (or thread pool), and Beast's streams require all their handlers, their deadline timers'
    // included, to run in one strand: without it a deadline firing on one thread closes the
    // socket that another thread is still reading or destroying (found by scripts/tsan).
    asio::any_io_executor ex;
    tls_options opts;
    ssl::context tls{ssl::context::tls_client};
    std::once_flag tls_loaded;
    std::optional<failure> tls_setup_error;  // returned by every https send when set

    // Only touched on the strand `ex`, so it needs no lock of its own.
    std::unordered_map<std::string, std::vector<std::unique_ptr<connection>>> idle;
    std::atomic<std::size_t> calls{0};
    exchange_observer observer;
    std::atomic<std::chrono::milliseconds::rep> timeout_cap{0};

    impl(const asio::any_io_executor& e, tls_options o)
        : ex(asio::make_strand(e)), opts(std::move(o)) {
        // TLS 1.2 is the floor Salesforce and Marketo require; older versions are broken.
        SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
    }

    // Certificates are loaded before the first https connection, not at construction: parsing
    // the system store costs more CPU than syncing 10,000 records, and a client that only
    // talks plain http to loopback (the sandbox, the tests, the benchmark) never needs it. A
    // load failure is kept and returned by every https send, as it always was.
    void prepare_tls() {
        std::call_once(tls_loaded, [this] {
            error_code ec;
            if (!opts.verify) {
                tls.set_verify_mode(ssl::verify_none, ec);
                return;
            }
            tls.set_verify_mode(ssl::verify_peer, ec);
            if (!opts.ca_file.empty()) {
                tls.load_verify_file(opts.ca_file, ec);
                if (ec) {
                    tls_setup_error =
                        make_failure(errc::tls_failed,
                                     "cannot load ca_file '" + opts.ca_file + "': " + ec.message());
                }
            } else {
                tls.set_default_verify_paths(ec);
                if (ec) {
                    tls_setup_error =
                        make_failure(errc::tls_failed,
                                     "cannot load the system certificate store: " + ec.message());
                }
            }
        });
    }

    std::unique_ptr<connection> take_idle(const std::string& origin) {
        auto it = idle.find(origin);
        if (it == idle.end())
            return nullptr;
        auto& pool = it->second;
        // Most recently used first: it is the least likely to have been closed by the server.
        while (!pool.empty()) {
            auto c = std::move(pool.back());
            pool.pop_back();
            if (looks_alive(*c))
                return c;
        }
        return nullptr;
    }

    void give_back(const std::string& origin, std::unique_ptr<connection> c) {
        c->tcp().expires_never();
        c->idle_since = clock::now();
        auto& pool = idle[origin];
        if (pool.size() < max_idle_connections_per_origin)
            pool.push_back(std::move(c));
        // Otherwise c closes here; closing a socket does not block.
    }

    asio::awaitable<result<std::unique_ptr<connection>>> open(const url& u,
                                                              clock::time_point deadline,
                                                              const call_context& cx) {
        using namespace asio::experimental::awaitable_operators;

        // Resolve has no stream to carry a deadline, so it races a timer; the loser is
        // cancelled and awaited by the operator before it returns.
        auto budget = left(deadline);
        if (!budget)
            co_return cx.timed_out("resolve");
        tcp::resolver resolver(ex);
        asio::steady_timer timer(ex, *budget);
        auto resolved = co_await (resolver.async_resolve(u.host, u.port, use_nothrow) ||
                                  timer.async_wait(use_nothrow));
        if (co_await was_cancelled())
            co_return cx.ours(errc::cancelled, "resolve", "cancelled");
        if (resolved.index() == 1)
            co_return cx.timed_out("resolve");
        auto [rec, endpoints] = std::get<0>(std::move(resolved));
        if (rec)
            co_return step_failure(cx, step::resolve, rec, co_await was_cancelled());

        auto c = u.tls() ? std::make_unique<connection>(ex, tls) : std::make_unique<connection>(ex);
        budget = left(deadline);
        if (!budget)
            co_return cx.timed_out("connect");
        c->tcp().expires_after(*budget);
        auto [cec, ep] = co_await c->tcp().async_connect(endpoints, use_nothrow);
        (void)ep;
        if (cec)
            co_return step_failure(cx, step::connect, cec, co_await was_cancelled());

        if (auto* s = std::get_if<tls_stream>(&c->stream)) {
            // SNI lets one address serve many names (Marketo's and Salesforce's hosts share
            // front ends); RFC 6066 §3 forbids IP literals in it.
            if (!is_ip_literal(u.host) &&
                !SSL_set_tlsext_host_name(s->native_handle(), u.host.c_str())) {
                co_return cx.ours(errc::tls_failed, "handshake", "cannot set SNI host name");
            }
            if (opts.verify) {
                // Chain verification (verify_peer, from the context) says the certificate is
                // genuine; this says it is the one for this host. The wrapper records a name
                // mismatch so the failure can say so.
                s->set_verify_callback(
                    [check = ssl::host_name_verification(u.host), flag = &c->host_mismatch](
                        bool preverified, ssl::verify_context& ctx) mutable {
                        const bool ok = check(preverified, ctx);
                        if (preverified && !ok)
                            *flag = true;
                        return ok;
                    });
            }
            budget = left(deadline);
            if (!budget)
                co_return cx.timed_out("handshake");
            c->tcp().expires_after(*budget);
            auto [hec] = co_await s->async_handshake(ssl::stream_base::client, use_nothrow);
            if (hec) {
                co_return step_failure(cx, step::handshake, hec, co_await was_cancelled(), c.get());
            }
        }
        co_return c;
    }

    asio::awaitable<result<response>> send(request req);

    // A TLS connection we will not reuse gets a close_notify, bounded in time.
    asio::awaitable<void> retire(std::unique_ptr<connection> c, clock::time_point deadline) {
        auto* s = std::get_if<tls_stream>(&c->stream);
        if (!s)
            co_return;
        const auto budget = left(deadline).value_or(std::chrono::milliseconds(0));
        if (budget.count() == 0)
            co_return;
        c->tcp().expires_after(std::min<std::chrono::milliseconds>(budget, tls_shutdown_limit));
        auto [ec] = co_await s->async_shutdown(use_nothrow);
        // Ignored on purpose. stream_truncated is the usual answer: many servers close TCP
        // without their own close_notify, and Beast's http_client_async_ssl example treats that
        // as benign (boostorg/beast#38) because HTTP frames its own messages: a short read that
        // cut a message would have failed the read, and this response was read complete. For
        // the same reason no other error here can change the result of the exchange.
        (void)ec;
    }
};

client::client(asio::any_io_executor ex, tls_options opts)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(opts))) {}

client::~client() = default;

std::size_t client::calls() const noexcept {
    return impl_->calls.load();
}

void client::set_timeout_cap(std::chrono::milliseconds cap) noexcept {
    impl_->timeout_cap.store(cap.count(), std::memory_order_relaxed);
}

asio::awaitable<result<response>> client::send(request req) {
    // Asio awaitables throw operation_aborted from the next co_await once cancellation was
    // requested. Failures here are values (STYLE error convention 2), cancellation included, so
    // that is off while the exchange runs, and the caller's own setting is restored after.
    if (const std::chrono::milliseconds cap{impl_->timeout_cap.load(std::memory_order_relaxed)};
        cap.count() > 0 && req.timeout > cap) {
        req.timeout = cap;
    }
    const bool throw_before = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    const auto method = req.method;
    const auto started = clock::now();
    // The exchange runs on the client's strand (impl::ex); the caller's cancellation reaches it
    // through co_spawn, and the observer below still runs on the caller's thread.
    auto exchange = impl_->send(std::move(req));
    result<response> r =
        co_await asio::co_spawn(impl_->ex, std::move(exchange), asio::use_awaitable);
    if (impl_->observer) {
        const failure error = r ? failure{} : r.error();
        impl_->observer(exchange_record{
            .method = method,
            .res = r ? &*r : nullptr,
            .error = r ? nullptr : &error,
            .duration =
                std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started)});
    }
    co_await asio::this_coro::throw_if_cancelled(throw_before);
    co_return r;
}

void client::observe(exchange_observer fn) {
    impl_->observer = std::move(fn);
}

asio::awaitable<result<response>> client::impl::send(request req) {
    // A coroutine of its own (co_spawn in client::send): cancellation is a value here too.
    co_await asio::this_coro::throw_if_cancelled(false);
    auto parsed = url::parse(req.url);
    if (!parsed)
        co_return parsed.error();
    const url& u = *parsed;
    const call_context cx{std::string(bhttp::to_string(req.method)) + " " + authority(u)};
    if (u.tls())
        prepare_tls();
    if (u.tls() && tls_setup_error) {
        failure f = *tls_setup_error;
        co_return f.context(cx.what);
    }
    auto msg = build_request(req, u, cx);
    if (!msg)
        co_return msg.error();

    const auto deadline = clock::now() + req.timeout;
    const std::string origin = u.origin();

    // At most two attempts: a pooled connection first when there is one, then, only if that
    // connection turned out closed before any response byte arrived and the request may go out
    // twice (resend_on_stale_connection), one fresh connection. That is the keep-alive race
    // (RFC 9112 §9.3.1), not a retry policy: retries proper belong to http/disposition.hpp.
    for (int round = 0;; ++round) {
        std::unique_ptr<connection> c = round == 0 ? take_idle(origin) : nullptr;
        const bool reused = c != nullptr;
        if (!c) {
            auto opened = co_await open(u, deadline, cx);
            if (!opened)
                co_return opened.error();
            c = std::move(*opened);
        }

        attempt a = co_await std::visit(
            [&](auto& stream) { return exchange(stream, *c, *msg, deadline, cx); }, c->stream);
        if (a.res) {
            calls.fetch_add(1, std::memory_order_relaxed);
            if (a.reusable) {
                give_back(origin, std::move(c));
            } else {
                co_await retire(std::move(c), deadline);
            }
            co_return std::move(*a.res);
        }
        const bool stale = reused && a.nothing_received &&
                           a.error.code != make_error_code(errc::timeout) &&
                           a.error.code != make_error_code(errc::cancelled);
        if (!stale)
            co_return a.error;
        if (!resend_on_stale_connection(req, a.written)) {
            // The code stays the transport's, so the caller's classification retries it; the
            // detail says why this layer did not.
            a.error.detail += ": the kept-alive connection closed before any answer, and a " +
                              std::string(bhttp::to_string(req.method)) +
                              " that may have reached the server is not sent again unless "
                              "marked idempotent";
            co_return a.error;
        }
    }
}

bool idempotent_method(bhttp::verb m) noexcept {
    switch (m) {
        case bhttp::verb::get:
        case bhttp::verb::head:
        case bhttp::verb::options:
        case bhttp::verb::trace:
        case bhttp::verb::put:
        case bhttp::verb::delete_:
            return true;
        default:
            return false;
    }
}

bool is_idempotent(const request& req) noexcept {
    return req.idempotent.value_or(idempotent_method(req.method));
}

bool resend_on_stale_connection(const request& req, std::size_t bytes_written) noexcept {
    return is_idempotent(req) || bytes_written == 0;
}

std::string url_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        const auto b = static_cast<unsigned char>(ch);
        // RFC 3986 §2.3 unreserved characters stay; everything else, space included, becomes
        // %XX. Salesforce reads %20 and + alike in q= (api-reference §1.3), and %20 is also
        // right in a path.
        const bool unreserved = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') ||
                                (b >= '0' && b <= '9') || ch == '-' || ch == '.' || ch == '_' ||
                                ch == '~';
        if (unreserved) {
            out += ch;
        } else {
            out += '%';
            out += hex[b >> 4];
            out += hex[b & 0x0F];
        }
    }
    return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty())
            out += '&';
        out += url_encode(name);
        out += '=';
        out += url_encode(value);
    }
    return out;
}

}  // namespace crmsync::http
