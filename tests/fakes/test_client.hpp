#pragma once
// A tiny synchronous HTTP/1.1 client for the fakes' self-tests: one connection per request, one
// deadline for the whole exchange, and the transport error kept (a reset or a truncated body is a
// result here, not an exception).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace crmsync::fakes::test {

struct http_result {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    boost::system::error_code ec;  // transport failure (reset, truncated, timeout)

    nlohmann::json json() const { return nlohmann::json::parse(body); }
    std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string{} : it->second;
    }
};

using header_list = std::vector<std::pair<std::string, std::string>>;

inline std::string url_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

inline std::string form(const header_list& fields) {
    std::string out;
    for (const auto& [k, v] : fields) {
        if (!out.empty())
            out.push_back('&');
        out += url_encode(k) + "=" + url_encode(v);
    }
    return out;
}

// `url` is "http://127.0.0.1:PORT/target".
inline http_result request(const std::string& method,
                           const std::string& url,
                           const std::string& body = {},
                           const header_list& headers = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    namespace http = beast::http;
    http_result result;
    const std::string rest = url.substr(url.find("://") + 3);
    const auto slash = rest.find('/');
    const std::string hostport = rest.substr(0, slash);
    const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
    const auto colon = hostport.find(':');
    const std::string host = hostport.substr(0, colon);
    const std::string port = hostport.substr(colon + 1);

    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    asio::ip::tcp::resolver resolver(ioc);
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, hostport);
    req.set(http::field::user_agent, "crmsync-fakes-test");
    for (const auto& [k, v] : headers)
        req.set(k, v);
    if (!body.empty() || method == "POST") {
        req.body() = body;
        req.prepare_payload();
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);

    // Async steps on a private io_context: tcp_stream deadlines work on async operations only
    // (a blocking Asio read would ignore SO_RCVTIMEO and poll forever).
    stream.expires_after(timeout);
    stream.async_connect(resolver.resolve(host, port), [&](boost::system::error_code ec, auto) {
        if (ec) {
            result.ec = ec;
            return;
        }
        http::async_write(stream, req, [&](boost::system::error_code wec, std::size_t) {
            if (wec) {
                result.ec = wec;
                return;
            }
            http::async_read(
                stream, buffer, parser, [&](boost::system::error_code rec, std::size_t) {
                    result.ec = rec;
                });
        });
    });
    ioc.run();
    if (parser.is_header_done()) {
        const auto& res = parser.get();
        result.status = res.result_int();
        for (const auto& h : res) {
            std::string name(h.name_string());
            for (auto& c : name)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            result.headers[name] = std::string(h.value());
        }
        result.body = res.body();
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    return result;
}

}  // namespace crmsync::fakes::test
