#include "crmsync/config/base_url.hpp"

#include "crmsync/core/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace crmsync::config {
namespace {

bool is_ipv4_loopback(std::string_view host) {
    int octets = 0;
    int first = -1;
    while (true) {
        std::size_t n = 0;
        while (n < host.size() && std::isdigit(static_cast<unsigned char>(host[n])))
            ++n;
        if (n == 0 || n > 3)
            return false;
        int v = 0;
        std::from_chars(host.data(), host.data() + n, v);
        if (v > 255)
            return false;
        if (first < 0)
            first = v;
        ++octets;
        host.remove_prefix(n);
        if (host.empty())
            break;
        if (host.front() != '.')
            return false;
        host.remove_prefix(1);
    }
    return octets == 4 && first == 127;
}

}  // namespace

bool is_loopback_host(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    return iequals_ascii(host, "localhost") || host == "::1" || is_ipv4_loopback(host);
}

std::optional<std::string> base_url_problem(std::string_view url) {
    bool https = false;
    std::string_view rest;
    if (url.size() >= 8 && iequals_ascii(url.substr(0, 8), "https://")) {
        https = true;
        rest = url.substr(8);
    } else if (url.size() >= 7 && iequals_ascii(url.substr(0, 7), "http://")) {
        rest = url.substr(7);
    } else {
        return fmt::format("'{}' is not an http(s) URL; expected https://host[:port][/path]", url);
    }
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.find('@') != std::string_view::npos) {
        // Credentials in a URL end up in logs; they belong in client_id/client_secret.
        return fmt::format("'{}' must not carry credentials (user@host)", url);
    }
    std::string_view host = authority;
    std::string_view port;
    if (!host.empty() && host.front() == '[') {
        const std::size_t end = host.find(']');
        if (end == std::string_view::npos)
            return fmt::format("'{}' has an unclosed '['", url);
        if (end + 1 < host.size()) {
            if (host[end + 1] != ':')
                return fmt::format("'{}' has an invalid host", url);
            port = host.substr(end + 2);
        }
        host = host.substr(0, end + 1);
    } else if (const std::size_t colon = host.find(':'); colon != std::string_view::npos) {
        port = host.substr(colon + 1);
        host = host.substr(0, colon);
    }
    if (host.empty())
        return fmt::format("'{}' has no host", url);
    if (authority.size() != host.size()) {
        unsigned p = 0;
        const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
        if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || p == 0 ||
            p > 65535) {
            return fmt::format("'{}' has an invalid port", url);
        }
    }
    if (!https && !is_loopback_host(host)) {
        // SPEC §1: plain http only reaches fakes on this machine; anything else must be TLS.
        return fmt::format(
            "'{}' uses http://, which is only allowed to a loopback host "
            "(127.0.0.0/8, ::1, localhost); use https://",
            url);
    }
    return std::nullopt;
}

}  // namespace crmsync::config
