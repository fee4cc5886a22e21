// crmsync validate: checks the configuration and every mapping; lists every problem as
// file:line:column: message and exits 2, or says what it checked and exits 0.

#include "common.hpp"
#include <fmt/format.h>

#include <iostream>

namespace crmsync::cli {

void add_validate(CLI::App& app, context& ctx) {
    auto* cmd = app.add_subcommand("validate", "Check the configuration and mappings");
    cmd->callback([&ctx] {
        ctx.action = [&ctx]() -> outcome {
            auto loaded = load_config(ctx.config_path);
            if (!loaded)
                return outcome::bad_config;
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
