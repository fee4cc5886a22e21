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
            auto loaded = load_config(ctx.config_path);
            if (!loaded)
                return outcome::bad_config;
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
            daemon::run_forever(ioc, **rt, *store, {});
            return outcome::ok;
        };
    });
}

}  // namespace crmsync::cli
