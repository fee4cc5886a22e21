// crmsync once [--stream NAME]: one full catch-up cycle of each (or the named) stream, then
// exit; 0 when every batch was delivered or its rejections logged (SPEC §2).

#include "crmsync/daemon/scheduler.hpp"
#include "crmsync/observability/log.hpp"

#include <boost/asio/io_context.hpp>

#include "common.hpp"
#include <fmt/format.h>

#include <iostream>

namespace crmsync::cli {

void add_once(CLI::App& app, context& ctx) {
    auto* cmd = app.add_subcommand("once", "Run one catch-up cycle of each stream, then exit");
    auto streams = std::make_shared<std::vector<std::string>>();
    cmd->add_option("--stream", *streams, "Only this stream (repeatable)");
    cmd->callback([&ctx, streams] {
        ctx.action = [&ctx, streams]() -> outcome {
            auto loaded = load_config(ctx.config_path);
            if (!loaded)
                return outcome::bad_config;
            for (const auto& name : *streams) {
                if (!loaded->cfg.find_stream(name)) {
                    std::cerr << fmt::format(
                        "crmsync: no stream named '{}' in {}\n", name, ctx.config_path);
                    return outcome::bad_config;
                }
            }
            start_logging(loaded->cfg);
            auto store = open_state(loaded->cfg);
            if (!store)
                return outcome::runtime_failure;
            boost::asio::io_context ioc;
            auto rt = daemon::runtime::build(
                ioc.get_executor(), loaded->cfg, std::move(loaded->streams), {});
            if (!rt) {
                std::cerr << "crmsync: " << rt.error().message() << '\n';
                return outcome::bad_config;
            }
            const auto results = daemon::run_once(ioc, **rt, *store, *streams);
            outcome worst = outcome::ok;
            for (const auto& r : results) {
                if (r.outcome)
                    continue;
                const auto o = outcome_of(r.outcome.error());
                if (o == outcome::auth_refused || worst == outcome::ok)
                    worst = o;
            }
            return worst;
        };
    });
}

}  // namespace crmsync::cli
