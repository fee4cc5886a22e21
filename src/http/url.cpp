#include "crmsync/http/url.hpp"

#include "crmsync/core/text.hpp"

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace crmsync::http {
namespace {

namespace urls = boost::urls;

// What an error message may show of a URL: no query, because it may carry credentials
// (Marketo's identity call takes client_secret there), and no user information, for the same
// reason. Messages are logged.
std::string printable(std::string_view text) {
    std::string out(text.substr(0, text.find_first_of("?#")));
    const auto authority = out.find("://");
    if (authority != std::string::npos) {
        const auto begin = authority + 3;
        const auto end = std::min(out.find('/', begin), out.size());
        const auto at = out.rfind('@', end == 0 ? 0 : end - 1);
        if (at != std::string::npos && at >= begin && at < end)
            out.erase(begin, at + 1 - begin);
    }
    return out;
}

failure invalid(std::string_view text, std::string_view why) {
    return make_failure(errc::invalid_url, "URL '" + printable(text) + "': " + std::string(why));
}

}  // namespace

bool is_loopback_host(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    // RFC 6761 §6.3 reserves "localhost" for loopback; "localhost." is the same fully qualified.
    const std::string name = to_lower_ascii(host);
    if (name == "localhost" || name == "localhost.")
        return true;
    if (auto v4 = urls::parse_ipv4_address(host))
        return v4->is_loopback();
    if (auto v6 = urls::parse_ipv6_address(host)) {
        if (v6->is_loopback())
            return true;
        // ::ffff:127.x.y.z reaches the IPv4 loopback through a dual-stack socket.
        if (v6->is_v4_mapped())
            return v6->to_bytes()[12] == 127;
    }
    return false;
}

std::string url::origin() const {
    const bool default_port = (tls() && port == "443") || (!tls() && port == "80");
    const bool v6 = host.find(':') != std::string::npos;
    std::string out = scheme + "://" + (v6 ? "[" + host + "]" : host);
    if (!default_port)
        out += ":" + port;
    return out;
}

result<url> url::parse(std::string_view text) {
    auto parsed = urls::parse_uri(text);
    if (!parsed)
        return invalid(text, "not an absolute URL (" + parsed.error().message() + ")");
    const urls::url_view& u = *parsed;

    url out;
    out.scheme = to_lower_ascii(u.scheme());
    if (out.scheme != "http" && out.scheme != "https") {
        return invalid(text, "scheme '" + out.scheme + "' is not supported (use https://)");
    }
    if (u.has_userinfo()) {
        // Credentials belong in the configuration's auth section, where they are kept secret;
        // in a URL they would end up in logs.
        return invalid(text, "user information in URLs is not supported");
    }

    switch (u.host_type()) {
        case urls::host_type::ipv4:
            out.host = u.host_ipv4_address().to_string();
            break;
        case urls::host_type::ipv6:
            out.host = u.host_ipv6_address().to_string();
            break;
        case urls::host_type::name:
            out.host = to_lower_ascii(u.host_name());
            break;
        case urls::host_type::ipvfuture:
        case urls::host_type::none:
            break;
    }
    if (out.host.empty())
        return invalid(text, "no host");
    // Percent-decoding can put anything in a name; DNS names (IDNs in their xn-- form) need
    // only letters, digits, '-', '.' and, in practice, '_'. Anything else is a typo or an attack
    // on the Host header and the resolver.
    const bool plain_name = std::all_of(out.host.begin(), out.host.end(), [](unsigned char c) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        return alnum || c == '-' || c == '.' || c == '_' || c == ':';  // ':' for IPv6
    });
    if (!plain_name)
        return invalid(text, "host name holds characters that are not allowed");

    if (u.has_port() && !u.port().empty()) {
        // Parsed here because url_view::port_number() wraps values past 65535 around.
        const std::string_view digits = u.port();
        unsigned number = 0;
        const auto [end, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), number);
        if (ec != std::errc{} || end != digits.data() + digits.size() || number == 0 ||
            number > 65535) {
            return invalid(text, "port must be 1-65535");
        }
        out.port = std::to_string(number);
    } else {
        out.port = out.tls() ? "443" : "80";
    }

    // SPEC §1: plain http carries credentials and data in clear, so it is only for fakes on
    // this machine.
    if (!out.tls() && !is_loopback_host(out.host)) {
        return invalid(text,
                       "http:// is only allowed for loopback hosts (127.0.0.0/8, ::1, localhost); "
                       "use https://");
    }

    out.target = std::string(u.encoded_path());
    if (out.target.empty())
        out.target = "/";
    if (u.has_query())
        out.target += "?" + std::string(u.encoded_query());
    return out;
}

}  // namespace crmsync::http
