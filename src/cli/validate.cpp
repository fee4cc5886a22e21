// crmsync validate [--online]: checks the configuration and every mapping; lists every problem
// as file:line:column: message and exits 2, or says what it checked and exits 0.
//
// --online also signs in to every source and destination the streams use, describes each
// stream's objects, and checks the mapping against them (daemon/schema_check.hpp, full depth):
// missing fields, types the mapping cannot use, lengths, picklists, read-only fields. Nothing
// is read or written otherwise. Exit codes, the most specific problem winning: 3 when a
// source or destination refused the credentials, 2 when a mismatch was found (each one as
// file:line:column: stream S: message), 1 when a system could not be reached or answered
// badly, 0 when everything matched.

#include "crmsync/daemon/schema_watch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "common.hpp"
#include <fmt/format.h>

#include <iostream>
#include <map>
#include <memory>
#include <set>

namespace crmsync::cli {
namespace {

namespace asio = boost::asio;

struct online_report {
    config::diagnostics findings;
    std::vector<std::string> failures;  // "source org: ...", one per system or stream
    bool auth_refused = false;
    std::size_t streams_checked = 0;

    void failed(std::string what, const failure& f) {
        auth_refused = auth_refused || f.code == errc::auth_rejected;
        failures.push_back(fmt::format("{}: {}", what, f.message()));
    }
};

asio::awaitable<void> check_online(daemon::runtime& rt, online_report& out) {
    // Each system signs in once, however many streams use it; a stream whose systems could
    // not sign in is not described (its failure is already reported).
    std::map<const source::salesforce::client*, bool> sources_ok;
    std::map<std::string, bool> destinations_ok;
    for (auto& s : rt.streams()) {
        if (!sources_ok.contains(s.source)) {
            auto a = co_await s.source->authenticate();
            if (!a)
                out.failed("source " + s.cfg->source.from, a.error());
            sources_ok[s.source] = static_cast<bool>(a);
        }
        if (!destinations_ok.contains(s.cfg->destination.to)) {
            auto a = co_await s.sink->authenticate();
            if (!a)
                out.failed("destination " + s.cfg->destination.to, a.error());
            destinations_ok[s.cfg->destination.to] = static_cast<bool>(a);
        }
    }
    for (auto& s : rt.streams()) {
        if (!sources_ok[s.source] || !destinations_ok[s.cfg->destination.to])
            continue;
        auto source = co_await daemon::describe_source(s);
        if (!source) {
            out.failed("stream " + s.cfg->name, source.error());
            continue;
        }
        auto destination = co_await s.sink->describe();
        if (!destination) {
            out.failed(
                "stream " + s.cfg->name,
                with_context(result<void>(destination.error()), "describe destination").error());
            continue;
        }
        ++out.streams_checked;
        const auto in = daemon::inputs_for(s, *source, &*destination);
        for (const auto& f : daemon::check_schema(in, daemon::check_depth::full))
            out.findings.add(f.where, fmt::format("stream {}: {}", s.cfg->name, f.message()));
    }
}

outcome validate_online(const std::string& config_path, loaded_config loaded) {
    asio::io_context ioc;
    const auto sources = loaded.cfg.sources.size();
    const auto destinations = loaded.cfg.destinations.size();
    auto rt = daemon::runtime::build(
        ioc.get_executor(), loaded.cfg, std::move(loaded.streams), interactive_options());
    if (!rt) {
        std::cerr << "crmsync: " << rt.error().message() << '\n';
        return outcome::bad_config;
    }
    online_report report;
    std::exception_ptr crashed;
    asio::co_spawn(ioc, check_online(**rt, report), [&](std::exception_ptr e) { crashed = e; });
    ioc.run();
    if (crashed)
        report.failed("validate --online", failure_from_exception(crashed));
    for (const auto& d : report.findings.sorted())
        std::cerr << d.to_string() << '\n';
    for (const auto& line : report.failures)
        std::cerr << "crmsync: " << line << '\n';
    if (report.auth_refused)
        return outcome::auth_refused;
    if (!report.findings.empty()) {
        std::cerr << fmt::format("{}: {} mismatch{} with the live schema\n",
                                 config_path,
                                 report.findings.size(),
                                 report.findings.size() == 1 ? "" : "es");
        return outcome::bad_config;
    }
    if (!report.failures.empty())
        return outcome::runtime_failure;
    std::cout << fmt::format(
        "{}: OK online: {} stream{} checked against the live schema ({} source{}, {} "
        "destination{})\n",
        config_path,
        report.streams_checked,
        report.streams_checked == 1 ? "" : "s",
        sources,
        sources == 1 ? "" : "s",
        destinations,
        destinations == 1 ? "" : "s");
    return outcome::ok;
}

}  // namespace

void add_validate(CLI::App& app, context& ctx) {
    auto* cmd = app.add_subcommand("validate", "Check the configuration and mappings");
    auto online = std::make_shared<bool>(false);
    cmd->add_flag("--online",
                  *online,
                  "Also sign in to every source and destination and check the mappings against "
                  "the live describe of their objects (missing fields, type, length and picklist "
                  "mismatches)");
    cmd->callback([&ctx, online] {
        ctx.action = [&ctx, online]() -> outcome {
            auto loaded = load_config(ctx.config_path);
            if (!loaded)
                return outcome::bad_config;
            if (*online) {
                start_logging(loaded->cfg);
                return validate_online(ctx.config_path, std::move(*loaded));
            }
            std::cout << fmt::format("{}: OK: {} source{}, {} destination{}, {} stream{}\n",
                                     ctx.config_path,
                                     loaded->cfg.sources.size(),
                                     loaded->cfg.sources.size() == 1 ? "" : "s",
                                     loaded->cfg.destinations.size(),
                                     loaded->cfg.destinations.size() == 1 ? "" : "s",
                                     loaded->streams.size(),
                                     loaded->streams.size() == 1 ? "" : "s");
            return outcome::ok;
        };
    });
}

}  // namespace crmsync::cli
