// crmsync run: the daemon. Schedules every stream at its own interval until SIGTERM/SIGINT,
// with the admin endpoint (/healthz /readyz /metrics) on admin.listen when configured.
//
// SIGHUP (systemctl reload) reads the configuration and mappings again. A valid one changes the
// log settings and the admin endpoint at once and the streams once every cycle in flight has
// finished; an invalid one is refused whole: every problem is logged as file:line:column:
// message, then one summary line, and the running configuration stays.

#include "crmsync/daemon/scheduler.hpp"
#include "crmsync/observability/admin_server.hpp"
#include "crmsync/observability/events.hpp"
#include "crmsync/observability/health.hpp"
#include "crmsync/observability/log.hpp"
#include "crmsync/observability/metrics.hpp"

#include <boost/asio/io_context.hpp>

#include "common.hpp"
#include <fmt/format.h>

#include <iostream>

namespace crmsync::cli {
namespace {

using observability::admin_server;

result<std::unique_ptr<admin_server>> start_admin(boost::asio::io_context& ioc,
                                                  const std::string& listen) {
    auto started = admin_server::start(
        ioc.get_executor(), listen, observability::health(), observability::metrics());
    if (started)
        observability::info("Admin endpoint listening.", {{"address", (*started)->address()}});
    return started;
}

// What a reload may not change while the daemon runs, as problems at their position.
void check_reloadable(const config::config& running, checked_config& next) {
    const auto& cfg = next.loaded.cfg;
    if (cfg.state_path != running.state_path) {
        next.problems.add(cfg.state_where,
                          fmt::format("'state' changed from '{}' to '{}': a different state "
                                      "database needs a restart",
                                      running.state_path,
                                      cfg.state_path));
    }
}

class daemon_session {
public:
    daemon_session(std::string path, session& s, daemon::io_context& ioc)
        : path_(std::move(path)), s_(s), ioc_(ioc) {}

    outcome run() {
        auto rt = build_runtime(s_, ioc_);
        if (!rt)
            return outcome::bad_config;
        if (const auto& a = s_.loaded.cfg.admin) {
            auto started = start_admin(ioc_, a->listen);
            if (!started) {
                std::cerr << "crmsync: " << started.error().message() << '\n';
                return outcome::runtime_failure;
            }
            admin_ = std::move(*started);
        }
        daemon::run_forever(ioc_,
                            *rt,
                            *s_.store,
                            {.reload = [this] { return reload(); },
                             .on_stop =
                                 [this] {
                                     if (admin_)
                                         admin_->stop();
                                 }});
        return outcome::ok;
    }

private:
    std::unique_ptr<daemon::runtime> reload() {
        auto next = check_config(path_);
        if (next.problems.empty())
            check_reloadable(s_.loaded.cfg, next);
        std::unique_ptr<daemon::runtime> rt;
        if (next.problems.empty()) {
            auto built = daemon::runtime::build(
                ioc_.get_executor(), next.loaded.cfg, std::move(next.loaded.streams), {});
            if (built) {
                rt = std::move(*built);
                rt->count_quota_in(*s_.store);  // the day's quota count goes on in the state
            } else {
                next.problems.add({path_, 0, 0}, built.error().message());
            }
        }
        if (!next.problems.empty()) {
            for (const auto& d : next.problems.sorted())
                observability::emit(observability::config_problem{.problem = d.to_string()});
            observability::emit(observability::config_reload_refused{
                .file = path_, .problems = next.problems.size()});
            return nullptr;
        }
        start_logging(next.loaded.cfg);
        apply_admin(next.loaded.cfg.admin);
        s_.loaded.cfg = std::move(next.loaded.cfg);
        return rt;
    }

    // A new address binds before the old closes, so a failure keeps the endpoint where it was.
    void apply_admin(const std::optional<config::admin_options>& wanted) {
        const auto& had = s_.loaded.cfg.admin;
        if (!wanted) {
            if (admin_) {
                admin_->stop();
                admin_.reset();
                observability::info("Admin endpoint closed.");
            }
            return;
        }
        if (admin_ && had && had->listen == wanted->listen)
            return;
        auto started = start_admin(ioc_, wanted->listen);
        if (!started) {
            observability::error("Admin endpoint not moved; it stays where it was.",
                                 {{"error", started.error().message()}});
            return;
        }
        if (admin_)
            admin_->stop();
        admin_ = std::move(*started);
    }

    std::string path_;
    session& s_;
    daemon::io_context& ioc_;
    std::unique_ptr<admin_server> admin_;
};

}  // namespace

void add_run(CLI::App& app, context& ctx) {
    auto* cmd = app.add_subcommand(
        "run", "Run the daemon until SIGTERM or SIGINT; SIGHUP reloads the configuration");
    cmd->callback([&ctx] {
        ctx.action = [&ctx]() -> outcome {
            outcome why = outcome::ok;
            auto s = open_session(ctx.config_path, true, why);
            if (!s)
                return why;
            daemon::io_context ioc;
            return daemon_session(ctx.config_path, *s, ioc).run();
        };
    });
}

}  // namespace crmsync::cli
