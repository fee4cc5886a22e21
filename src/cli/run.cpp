// crmsync run: the daemon. Schedules every stream at its own interval until SIGTERM/SIGINT.

#include "crmsync/daemon/scheduler.hpp"

#include <boost/asio/io_context.hpp>

#include "common.hpp"

#include <iostream>

namespace crmsync::cli {

void add_run(CLI::App& app, context& ctx) {
    auto* cmd = app.add_subcommand("run", "Run the daemon until SIGTERM or SIGINT");
    cmd->callback([&ctx] {
        ctx.action = [&ctx]() -> outcome {
            outcome why = outcome::ok;
            auto s = open_session(ctx.config_path, true, why);
            if (!s)
                return why;
            boost::asio::io_context ioc;
            auto rt = build_runtime(*s, ioc);
            if (!rt)
                return outcome::bad_config;
            daemon::run_forever(ioc, *rt, *s->store, {});
            return outcome::ok;
        };
    });
}

}  // namespace crmsync::cli
