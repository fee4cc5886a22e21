// crmsync's entry point. Exit codes are decided here only (STYLE.md convention 6):
// 0 ok, 1 runtime failure, 2 bad usage or configuration, 3 authentication refused.

#include "crmsync/cli/commands.hpp"

#include <cstdlib>
#include <iostream>
#include <malloc.h>

namespace {

int exit_code(crmsync::cli::outcome o) {
    using crmsync::cli::outcome;
    switch (o) {
        case outcome::ok:
            return 0;
        case outcome::runtime_failure:
            return 1;
        case outcome::bad_config:
            return 2;
        case outcome::auth_refused:
            return 3;
    }
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    // Memory flat however many records a run moves (SPEC §6). glibc raises its mmap threshold
    // to the size of the largest mapped block freed, up to 32 MB: after the first query page
    // (about 1.6 MB of JSON) every page body and buffer came from the heap, interleaved with
    // the records and payloads of the batches in flight, and the heap's free holes kept the
    // peak resident set climbing for the first million records (docs/performance.md). A fixed
    // threshold keeps each block of 256 KB or more in a mapping of its own, given back to the
    // kernel when freed; fixing it also stops glibc moving its trim threshold.
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);

    crmsync::cli::context ctx;
    const char* env = std::getenv("CRMSYNC_CONFIG");
    ctx.config_path = env && *env ? env : "/etc/crmsync/crmsync.yaml";

    CLI::App app{"crmsync: keeps a marketing platform fed from a CRM", "crmsync"};
    app.set_version_flag("--version", std::string("crmsync ") + CRMSYNC_VERSION);
    app.add_option("-c,--config",
                   ctx.config_path,
                   "Main configuration file (default $CRMSYNC_CONFIG or "
                   "/etc/crmsync/crmsync.yaml)");
    // -c may follow the subcommand too: `crmsync once -c file`.
    app.fallthrough();
    app.require_subcommand(1);

    crmsync::cli::add_run(app, ctx);
    crmsync::cli::add_once(app, ctx);
    crmsync::cli::add_validate(app, ctx);
    crmsync::cli::add_status(app, ctx);
    crmsync::cli::add_errors(app, ctx);
    crmsync::cli::add_preview(app, ctx);
    crmsync::cli::add_mapping_doc(app, ctx);
    crmsync::cli::add_watermark(app, ctx);

    std::string help_topic;
    auto* help = app.add_subcommand("help", "Show help for crmsync or one command");
    help->add_option("COMMAND", help_topic, "Command to explain");
    help->callback([&] {
        ctx.action = [&]() {
            if (help_topic.empty()) {
                std::cout << app.help();
                return crmsync::cli::outcome::ok;
            }
            for (auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
                if (sub->get_name() == help_topic) {
                    std::cout << sub->help();
                    return crmsync::cli::outcome::ok;
                }
            }
            std::cerr << "crmsync: no command named '" << help_topic << "'\n";
            return crmsync::cli::outcome::bad_config;
        };
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);  // prints the message and usage
        return exit_code(crmsync::cli::outcome::bad_config);
    }
    if (!ctx.action)
        return exit_code(crmsync::cli::outcome::bad_config);
    return exit_code(ctx.action());
}
