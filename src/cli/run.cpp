// crmsync run: the daemon. Schedules every stream at its own interval until SIGTERM/SIGINT,
// with the admin endpoint (/healthz /readyz /metrics) on admin.listen when configured.

#include "crmsync/daemon/scheduler.hpp"
#include "crmsync/observability/admin_server.hpp"
#include "crmsync/observability/health.hpp"
#include "crmsync/observability/log.hpp"
#include "crmsync/observability/metrics.hpp"

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
            std::unique_ptr<observability::admin_server> admin;
            if (const auto& a = s->loaded.cfg.admin) {
                auto started = observability::admin_server::start(ioc.get_executor(),
                                                                  a->listen,
                                                                  observability::health(),
                                                                  observability::metrics());
                if (!started) {
                    std::cerr << "crmsync: " << started.error().message() << '\n';
                    return outcome::runtime_failure;
                }
                admin = std::move(*started);
                observability::info("Admin endpoint listening.", {{"address", admin->address()}});
            }
            daemon::run_forever(ioc, *rt, *s->store, {.on_stop = [&admin] {
                                    if (admin)
                                        admin->stop();
                                }});
            return outcome::ok;
        };
    });
}

}  // namespace crmsync::cli
