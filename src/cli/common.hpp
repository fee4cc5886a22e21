#pragma once
// What several subcommands share: loading and compiling the configuration (printing every
// problem), opening the state, and starting logging.

#include "crmsync/cli/commands.hpp"
#include "crmsync/config/model.hpp"
#include "crmsync/daemon/runtime.hpp"
#include "crmsync/state/store.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <vector>

namespace crmsync::cli {

struct loaded_config {
    config::config cfg;
    std::vector<daemon::compiled_stream> streams;
};

// Loads, compiles and checks what this build can run; prints nothing. `problems` empty means
// `loaded` is complete.
struct checked_config {
    loaded_config loaded;
    config::diagnostics problems;
};
checked_config check_config(const std::string& path);

// Loads and compiles; on any problem prints them all, sorted, as file:line:column: message on
// stderr and returns nullopt (the caller exits 2).
std::optional<loaded_config> load_config(const std::string& path);

// Configures logging from the config's log section.
void start_logging(const config::config& cfg);

// Opens the state database; prints the failure and returns null (the caller exits 1).
std::unique_ptr<state::store> open_state(const config::config& cfg);

// The loaded configuration with its state opened: what status, errors, once and run start from.
struct session {
    loaded_config loaded;
    std::unique_ptr<state::store> store;
};

// Loads the configuration (and starts logging from it when `logging`), then opens the state.
// On failure prints the problems and sets `why` to the outcome to exit with.
std::optional<session> open_session(const std::string& path, bool logging, outcome& why);

// Builds the runtime of a session on `ioc`; prints the failure and returns null (exit 2).
std::unique_ptr<daemon::runtime> build_runtime(session& s, boost::asio::io_context& ioc);

// Runtime options for a command a person waits on (validate --online, mapping-doc --online):
// three quick tries, not the daemon's minute-long backoff.
daemon::options interactive_options();

// `errors retry`, registered under the `errors` command (src/cli/retry.cpp).
void add_errors_retry(CLI::App& errors, context& ctx);

// The outcome for a failure that ended a command: 3 for refused credentials, 2 for schema
// drift (the mapping no longer matches the live schema), else 1.
outcome outcome_of(const failure& f);

}  // namespace crmsync::cli
