#include "crmsync/config/load.hpp"

#include "crmsync/config/base_url.hpp"
#include "crmsync/config/enum_table.hpp"
#include "crmsync/config/schema.hpp"

#include "detail_load.hpp"
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <glob.h>
#include <iterator>
#include <set>

namespace crmsync::config {
namespace detail {

std::optional<YAML::Node> parse_file(const std::string& file, diagnostics& problems) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
        problems.add({file, 0, 0}, "cannot read file: it is a directory");
        return std::nullopt;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        problems.add({file, 0, 0}, fmt::format("cannot read file: {}", std::strerror(errno)));
        return std::nullopt;
    }
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    try {
        return YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        const bool known = !e.mark.is_null() && e.mark.line >= 0;
        problems.add({file, known ? e.mark.line + 1 : 0, known ? e.mark.column + 1 : 0},
                     fmt::format("invalid YAML: {}", e.msg));
    } catch (const YAML::Exception& e) {
        problems.add({file, 0, 0}, fmt::format("invalid YAML: {}", e.msg));
    }
    return std::nullopt;
}

bool is_config_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
}

std::string resolve(const std::filesystem::path& base_dir, const std::string& path) {
    const std::filesystem::path p{path};
    if (p.is_absolute() || base_dir.empty())
        return path;
    return (base_dir / p).string();
}

}  // namespace detail

namespace {

using keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 6> main_keys{
    "state", "log", "admin", "sources", "destinations", "mappings"};
constexpr std::array<std::string_view, 2> log_keys{"level", "format"};
constexpr std::array<std::string_view, 1> admin_keys{"listen"};
constexpr std::array<std::string_view, 8> source_keys{"kind",
                                                      "login_url",
                                                      "api_version",
                                                      "auth",
                                                      "api_budget",
                                                      "limits_every",
                                                      "bulk_timeout",
                                                      "ca_file"};
constexpr std::array<std::string_view, 7> auth_keys{"flow",
                                                    "client_id",
                                                    "client_secret",
                                                    "username",
                                                    "password",
                                                    "private_key_file",
                                                    "refresh_token"};
constexpr std::array<std::string_view, 10> destination_keys{"kind",
                                                            "base_url",
                                                            "auth_url",
                                                            "account_id",
                                                            "client_id",
                                                            "client_secret",
                                                            "limits",
                                                            "batch_size",
                                                            "async_threshold",
                                                            "ca_file"};
// Keys only a Marketing Cloud destination takes.
constexpr std::array<std::string_view, 3> sfmc_only_keys{
    "account_id", "batch_size", "async_threshold"};
constexpr std::array<std::string_view, 4> limits_keys{
    "calls_per_20s", "concurrency", "daily_calls", "batches_in_flight"};

// Which credentials each OAuth flow takes (api-reference §1.2). A key a flow does not use is
// reported: it usually means the flow itself is wrong.
enum class use { unused, optional, required };
struct flow_credentials {
    auth_flow flow;
    use client_secret, username, password, private_key_file, refresh_token;
};
constexpr std::array<flow_credentials, 4> flow_table{{
    {auth_flow::client_credentials,
     use::required,
     use::unused,
     use::unused,
     use::unused,
     use::unused},
    {auth_flow::jwt_bearer, use::unused, use::required, use::unused, use::required, use::unused},
    {auth_flow::refresh_token, use::optional, use::unused, use::unused, use::unused, use::required},
    {auth_flow::password, use::required, use::required, use::required, use::unused, use::unused},
}};

// A file named in the config must be readable now, not at the first token request at 3 am.
void check_readable(reader& r,
                    const YAML::Node& node,
                    std::string_view key,
                    const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        r.problem(node, fmt::format("cannot read {} '{}': it is a directory", key, path));
        return;
    }
    std::ifstream in(path);
    if (!in) {
        r.problem(node, fmt::format("cannot read {} '{}': {}", key, path, std::strerror(errno)));
    }
}

std::optional<std::string> read_url(map_view& m, std::string_view key, bool required) {
    auto url = m.string(key, required);
    if (!url)
        return std::nullopt;
    if (auto problem = base_url_problem(*url)) {
        m.source().problem(*m.find(key), fmt::format("'{}': {}", m.path(key), *problem));
        return std::nullopt;
    }
    // One spelling, so callers can append "/services/..." without doubling the slash.
    while (url->ends_with('/'))
        url->pop_back();
    return url;
}

std::optional<std::string> read_file_path(map_view& m,
                                          std::string_view key,
                                          const std::filesystem::path& base_dir,
                                          bool required) {
    auto p = m.string(key, required);
    if (!p || p->empty())
        return p;
    std::string path = detail::resolve(base_dir, *p);
    check_readable(m.source(), *m.find(key), key, path);
    return path;
}

void read_auth(reader& r,
               const YAML::Node& node,
               const std::string& path,
               salesforce_auth& a,
               const std::filesystem::path& base_dir) {
    map_view m(r, node, path, auth_keys);
    if (!m.is_map())
        return;
    const bool flow_given = m.find("flow") != nullptr;
    const auto flow = m.choice("flow", auth_flows);
    if (flow)
        a.flow = *flow;
    if (auto v = m.string("client_id", true))
        a.client_id = std::move(*v);
    if (flow_given && !flow)
        return;  // which keys are needed depends on the flow

    const auto& row = *std::find_if(
        flow_table.begin(), flow_table.end(), [&](const auto& f) { return f.flow == a.flow; });
    const std::string why = fmt::format("needed by flow '{}'", to_string(a.flow));
    const auto wanted = [&](std::string_view key, use u) {
        if (u == use::unused) {
            if (const YAML::Node* k = m.key_node(key)) {
                r.problem(*k, fmt::format("'{}' is not used by flow '{}'", key, to_string(a.flow)));
            }
            return false;
        }
        if (u == use::required && !m.find(key)) {
            m.require(key, why);
            return false;
        }
        return true;
    };
    if (wanted("client_secret", row.client_secret)) {
        if (auto v = m.secret_value("client_secret", row.client_secret == use::required)) {
            a.client_secret = std::move(*v);
        }
    }
    if (wanted("username", row.username)) {
        if (auto v = m.string("username", true))
            a.username = std::move(*v);
    }
    if (wanted("password", row.password)) {
        if (auto v = m.secret_value("password", true))
            a.password = std::move(*v);
    }
    if (wanted("private_key_file", row.private_key_file)) {
        if (auto v = read_file_path(m, "private_key_file", base_dir, true)) {
            a.private_key_file = std::move(*v);
        }
    }
    if (wanted("refresh_token", row.refresh_token)) {
        if (auto v = m.secret_value("refresh_token", true))
            a.refresh_token = std::move(*v);
    }
}

// "20%" or 0.2: the share of the org's daily API limit crmsync may use (SPEC §4).
std::optional<double> read_budget(map_view& m) {
    const YAML::Node* n = m.find("api_budget");
    if (!n)
        return std::nullopt;
    auto t = m.source().text(*n, m.path("api_budget"));
    if (!t)
        return std::nullopt;
    std::string_view s = *t;
    const bool percent = s.ends_with('%');
    if (percent)
        s.remove_suffix(1);
    double v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (percent)
        v /= 100;
    if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size() || !(v > 0 && v <= 1)) {
        m.source().problem(*n,
                           fmt::format("'{}' must be a share of the daily API limit above 0 and "
                                       "at most 1, or a percentage like '20%', not '{}'",
                                       m.path("api_budget"),
                                       *t));
        return std::nullopt;
    }
    return v;
}

bool valid_api_version(std::string_view v) {
    const std::size_t dot = v.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot + 1 == v.size())
        return false;
    return std::all_of(
               v.begin(),
               v.end(),
               [](char c) { return c == '.' || std::isdigit(static_cast<unsigned char>(c)); }) &&
           v.find('.', dot + 1) == std::string_view::npos;
}

// The name of one entry under `sources:` or `destinations:` (`what` says which): a string of
// letters, digits, '_' and '-' not used before. Reports what is wrong; nullopt means the entry
// cannot be read at all (a name that is not a string, or a duplicate).
template <class Entries>
std::optional<std::string> entry_name(reader& r,
                                      const YAML::Node& key,
                                      std::string_view what,
                                      const Entries& seen) {
    if (!key.IsScalar()) {
        r.problem(key, fmt::format("a {} name must be a string, not {}", what, type_name(key)));
        return std::nullopt;
    }
    std::string name = key.Scalar();
    if (!detail::is_config_name(name)) {
        r.problem(
            key,
            fmt::format("{} name '{}' may only hold letters, digits, '_' and '-'", what, name));
    }
    if (const auto first = seen.find(name); first != seen.end()) {
        r.problem(key,
                  fmt::format("duplicate {} '{}'; first at line {}, column {}",
                              what,
                              name,
                              first->second.where.line,
                              first->second.where.column));
        return std::nullopt;
    }
    return name;
}

void read_sources(reader& r,
                  const YAML::Node& node,
                  config& cfg,
                  const std::filesystem::path& base_dir) {
    if (!node.IsMap()) {
        r.problem(node,
                  fmt::format("'sources' must be a map of named sources, not {}", type_name(node)));
        return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node key = it->first;
        const YAML::Node val = it->second;
        const auto checked = entry_name(r, key, "source", cfg.sources);
        if (!checked)
            continue;
        const std::string& name = *checked;
        source s;
        s.name = name;
        s.where = r.at(key);
        const std::string path = "sources." + name;
        map_view m(r, val, path, source_keys);
        m.choice("kind", source_kinds);  // one kind today; the key exists for the next one
        if (auto v = read_url(m, "login_url", false))
            s.login_url = std::move(*v);
        if (auto v = m.string("api_version")) {
            if (valid_api_version(*v)) {
                s.api_version = std::move(*v);
            } else {
                r.problem(
                    *m.find("api_version"),
                    fmt::format("'{}.api_version' must look like \"61.0\", not '{}'", path, *v));
            }
        }
        if (const YAML::Node* auth = m.require("auth")) {
            read_auth(r, *auth, path + ".auth", s.auth, base_dir);
        }
        if (auto v = read_budget(m))
            s.api_budget = *v;
        for (auto [key, into] : {std::pair{"limits_every", &s.limits_every},
                                 std::pair{"bulk_timeout", &s.bulk_timeout}}) {
            if (auto v = m.duration_value(key)) {
                if (v->count() > 0) {
                    *into = *v;
                } else {
                    r.problem(*m.find(key),
                              fmt::format("'{}.{}' must be longer than 0s", path, key));
                }
            }
        }
        if (auto v = read_file_path(m, "ca_file", base_dir, false))
            s.ca_file = std::move(*v);
        cfg.sources.emplace(name, std::move(s));
    }
}

void read_destinations(reader& r,
                       const YAML::Node& node,
                       config& cfg,
                       const std::filesystem::path& base_dir) {
    if (!node.IsMap()) {
        r.problem(node,
                  fmt::format("'destinations' must be a map of named destinations, not {}",
                              type_name(node)));
        return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node key = it->first;
        const YAML::Node val = it->second;
        const auto checked = entry_name(r, key, "destination", cfg.destinations);
        if (!checked)
            continue;
        const std::string& name = *checked;
        destination d;
        d.name = name;
        d.where = r.at(key);
        const std::string path = "destinations." + name;
        map_view m(r, val, path, destination_keys);
        const bool kind_given = m.find("kind") != nullptr;
        const auto kind = m.choice("kind", destination_kinds);
        if (kind)
            d.kind = *kind;
        if (kind || !kind_given) {
            // Which endpoints are required depends on the kind; with an unknown kind that
            // would only add noise to the one real problem.
            const bool marketo = d.kind == destination_kind::marketo;
            // Marketo's REST and identity endpoints hang off base_url; Marketing Cloud's token
            // answer names its REST base, so only auth_url is needed there (api-reference §3.1).
            if (auto v = read_url(m, "base_url", marketo))
                d.base_url = std::move(*v);
            if (auto v = read_url(m, "auth_url", !marketo))
                d.auth_url = std::move(*v);
            if (marketo) {
                for (const auto key : sfmc_only_keys) {
                    if (const YAML::Node* k = m.key_node(key)) {
                        r.problem(*k, fmt::format("'{}' applies to sfmc destinations only", key));
                    }
                }
            } else {
                if (auto v = m.string("account_id"))
                    d.account_id = std::move(*v);
                // The rowset call carries at most 5 MB [SFMC-ROWSET-NEW]; a few hundred rows of
                // 50 columns stay well under it, more would risk 400s on wide rows.
                if (auto v = m.integer("batch_size", 1, 500))
                    d.sfmc.batch_size = static_cast<int>(*v);
                // 32,000 objects is the async API's hard limit [SFMC-HELP-LIMITS].
                if (auto v = m.integer("async_threshold", 0, 32'000))
                    d.sfmc.async_threshold = static_cast<int>(*v);
            }
        }
        if (auto v = m.string("client_id", true))
            d.client_id = std::move(*v);
        if (auto v = m.secret_value("client_secret", true))
            d.client_secret = std::move(*v);
        // Marketo: as many batches as calls may be in flight; Marketing Cloud publishes no
        // concurrency figure, and each of its batches is up to async_threshold rows.
        const bool marketo = d.kind == destination_kind::marketo;
        std::optional<long long> in_flight;
        // A copy (a handle on the same node): map_view's entries die with the view.
        std::optional<YAML::Node> in_flight_node;
        if (const YAML::Node* l = m.find("limits")) {
            map_view lm(r, *l, path + ".limits", limits_keys);
            if (auto v = lm.integer("calls_per_20s", 1, 1'000'000)) {
                d.limits.calls_per_20s = static_cast<int>(*v);
            }
            if (auto v = lm.integer("concurrency", 1, 1'000)) {
                d.limits.concurrency = static_cast<int>(*v);
            }
            if (auto v = lm.integer("daily_calls", 1, 1'000'000'000))
                d.limits.daily_calls = *v;
            in_flight = lm.integer("batches_in_flight", 1, 1'000);
            if (const YAML::Node* n = lm.find("batches_in_flight"))
                in_flight_node.emplace(*n);
        }
        d.limits.batches_in_flight = marketo ? d.limits.concurrency : 4;
        if (in_flight && marketo && *in_flight > d.limits.concurrency) {
            // More would only wait for a call slot, holding their records in memory, and be
            // sent again after a kill -9.
            r.problem(*in_flight_node,
                      fmt::format("'{}.limits.batches_in_flight' is {}, more than the {} calls "
                                  "'limits.concurrency' lets be in flight",
                                  path,
                                  *in_flight,
                                  d.limits.concurrency));
        } else if (in_flight) {
            d.limits.batches_in_flight = static_cast<int>(*in_flight);
        }
        if (auto v = read_file_path(m, "ca_file", base_dir, false))
            d.ca_file = std::move(*v);
        cfg.destinations.emplace(name, std::move(d));
    }
}

// "host:port" for the admin endpoint; "[::1]:9464" for IPv6. Port 0 asks the system for a free
// port, which the daemon logs when it listens (tests run several daemons side by side).
bool valid_listen(std::string_view s) {
    const std::size_t colon = s.rfind(':');
    if (colon == 0 || colon == std::string_view::npos)
        return false;
    const std::string_view host = s.substr(0, colon);
    if (host.find(':') != std::string_view::npos && !(host.front() == '[' && host.back() == ']')) {
        return false;
    }
    const std::string_view port = s.substr(colon + 1);
    unsigned p = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    return !port.empty() && ec == std::errc{} && ptr == port.data() + port.size() && p <= 65535;
}

// Mapping files named by the globs, sorted by name, each once.
std::vector<std::string> expand_mappings(reader& r,
                                         const YAML::Node& node,
                                         const std::filesystem::path& base_dir,
                                         const std::string& main_file) {
    std::vector<YAML::Node> patterns;
    if (node.IsSequence()) {
        for (const auto& n : node)
            patterns.push_back(n);
        if (patterns.empty())
            r.problem(node, "'mappings' lists no file pattern");
    } else {
        patterns.push_back(node);
    }
    std::error_code ec;
    const auto main_canonical = std::filesystem::weakly_canonical(main_file, ec);
    std::set<std::string> files;
    for (const auto& n : patterns) {
        auto pattern = r.text(n, "mappings");
        if (!pattern)
            continue;
        const std::string full = detail::resolve(base_dir, *pattern);
        glob_t g{};
        // GLOB_MARK appends '/' to directories so they can be skipped below.
        const int rc = ::glob(full.c_str(), GLOB_MARK, nullptr, &g);
        std::size_t matched = 0;
        if (rc == 0) {
            for (std::size_t i = 0; i < g.gl_pathc; ++i) {
                std::string f = g.gl_pathv[i];
                if (f.ends_with('/'))
                    continue;
                // `mappings: ./*.yaml` beside the main file must not read the main file too.
                if (!main_canonical.empty() &&
                    std::filesystem::weakly_canonical(f, ec) == main_canonical) {
                    continue;
                }
                files.insert(std::move(f));
                ++matched;
            }
        }
        ::globfree(&g);
        const std::string shown = full == *pattern
                                      ? fmt::format("'{}'", *pattern)
                                      : fmt::format("'{}' (resolved to '{}')", *pattern, full);
        if (rc == GLOB_ABORTED) {
            r.problem(n, fmt::format("cannot read the directory of {}", shown));
        } else if (rc == GLOB_NOSPACE) {
            r.problem(n, fmt::format("out of memory expanding {}", shown));
        } else if (matched == 0) {
            r.problem(n, fmt::format("no mapping file matches {}", shown));
        }
    }
    return {files.begin(), files.end()};  // std::set: sorted by name, as SPEC's glob implies
}

}  // namespace

loaded load(const std::filesystem::path& main_file) {
    loaded out;
    config& cfg = out.cfg;
    cfg.file = main_file.string();
    const auto doc = detail::parse_file(cfg.file, out.problems);
    if (!doc)
        return out;

    const std::filesystem::path base_dir = main_file.parent_path();
    reader r(cfg.file, out.problems);
    map_view top(r, *doc, "", main_keys);
    if (!top.is_map())
        return out;

    cfg.state_where = {cfg.file, 0, 0};
    if (const YAML::Node* n = top.find("state"))
        cfg.state_where = r.at(*n);
    if (auto v = top.string("state"))
        cfg.state_path = detail::resolve(base_dir, *v);
    if (const YAML::Node* n = top.find("log")) {
        map_view m(r, *n, "log", log_keys);
        if (auto v = m.choice("level", log_levels))
            cfg.log.level = log_levels.name(*v);
        if (auto v = m.choice("format", log_formats))
            cfg.log.format = log_formats.name(*v);
    }
    // `admin:` absent or null disables the endpoint (SPEC §3 "omit to disable").
    if (const YAML::Node* n = top.find("admin")) {
        map_view m(r, *n, "admin", admin_keys);
        admin_options admin;
        if (auto v = m.string("listen")) {
            if (valid_listen(*v)) {
                admin.listen = std::move(*v);
            } else {
                r.problem(*m.find("listen"),
                          fmt::format("'admin.listen' must be host:port (e.g. 127.0.0.1:9464), "
                                      "not '{}'",
                                      *v));
            }
        }
        cfg.admin = std::move(admin);
    }
    if (const YAML::Node* n = top.find("sources"))
        read_sources(r, *n, cfg, base_dir);
    if (const YAML::Node* n = top.find("destinations"))
        read_destinations(r, *n, cfg, base_dir);

    if (const YAML::Node* n = top.require("mappings")) {
        detail::stream_index seen;
        for (const auto& file : expand_mappings(r, *n, base_dir, cfg.file)) {
            detail::read_stream_file(file, cfg, seen, out.problems);
        }
    }
    return out;
}

}  // namespace crmsync::config
