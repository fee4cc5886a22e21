#pragma once
// The command line (SPEC §2): one file per subcommand under src/cli/. Each add_<command>()
// registers its options on the app and, when chosen, the function main() runs. Commands return
// an outcome; only main.cpp turns it into an exit code (STYLE.md convention 6).

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace crmsync::cli {

enum class outcome {
    ok,               // 0
    runtime_failure,  // 1
    bad_config,       // 2: invalid configuration or usage, every problem listed
    auth_refused,     // 3: a source or destination refused authentication
};

struct context {
    std::string config_path;
    std::function<outcome()> action;  // set by the chosen subcommand
};

void add_run(CLI::App& app, context& ctx);
void add_once(CLI::App& app, context& ctx);
void add_validate(CLI::App& app, context& ctx);
void add_status(CLI::App& app, context& ctx);
void add_errors(CLI::App& app, context& ctx);
void add_preview(CLI::App& app, context& ctx);
void add_mapping_doc(CLI::App& app, context& ctx);
void add_watermark(CLI::App& app, context& ctx);

}  // namespace crmsync::cli
