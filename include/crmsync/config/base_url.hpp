#pragma once
// Which base URLs crmsync may talk to (SPEC §1): https:// anywhere, plain http:// only to a
// loopback host (127.0.0.0/8, ::1, localhost), which is how tests and the sandbox reach fakes.
// Config checks this itself rather than through the http module: config sits below http in
// the dependency order (STYLE.md "Layout").

#include <optional>
#include <string>
#include <string_view>

namespace crmsync::config {

// Nullopt when the URL is acceptable, else why not ("http:// is only allowed to a loopback
// host ...").
std::optional<std::string> base_url_problem(std::string_view url);

// 127.0.0.0/8 in dotted-quad form, "::1" (bracketed or not) and "localhost" (any case).
bool is_loopback_host(std::string_view host);

}  // namespace crmsync::config
