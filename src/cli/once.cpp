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
            outcome why = outcome::ok;
            auto s = open_session(ctx.config_path, true, why);
            if (!s)
                return why;
            for (const auto& name : *streams) {
                if (!s->loaded.cfg.find_stream(name)) {
                    std::cerr << fmt::format(
                        "crmsync: no stream named '{}' in {}\n", name, ctx.config_path);
                    return outcome::bad_config;
                }
            }
            boost::asio::io_context ioc;
            auto rt = build_runtime(*s, ioc);
            if (!rt)
                return outcome::bad_config;
            const auto results = daemon::run_once(ioc, *rt, *s->store, *streams);
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
