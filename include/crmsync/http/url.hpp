#pragma once
// Base URLs from configuration (SPEC §1): https:// anywhere; http:// only for loopback hosts,
// which is how tests and the sandbox reach fakes on 127.0.0.1.

#include "crmsync/core/error.hpp"

#include <string>
#include <string_view>

namespace crmsync::http {

struct url {
    std::string scheme;  // "http" or "https"
    std::string host;
    std::string port;    // always set: "443"/"80" when the URL had none
    std::string target;  // path and query, at least "/"

    bool tls() const noexcept { return scheme == "https"; }
    std::string origin() const;  // scheme://host[:port]

    // errc::invalid_url for anything unparseable, a scheme other than http/https, or http://
    // to a host that is not loopback (127.0.0.0/8, ::1, localhost).
    static result<url> parse(std::string_view text);
};

bool is_loopback_host(std::string_view host);

}  // namespace crmsync::http
