#pragma once
// `crmsync run` and `crmsync once`: every stream's cycles on one io_context. run() schedules
// each stream at its own interval (first start spread by jitter so streams do not hit the APIs
// in lockstep) until SIGTERM/SIGINT; once() runs one catch-up cycle of each selected stream.
//
// Shutdown (SPEC §5): a signal stops new cycles, cancels the waits, and lets a cycle in flight
// finish its current batch and commit; if that takes longer than `grace`, the io_context is
// stopped — safe, because every commit is a synchronous SQLite transaction that either
// happened entirely or not at all.

#include "crmsync/core/error.hpp"
#include "crmsync/daemon/runtime.hpp"
#include "crmsync/state/store.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace crmsync::daemon {

struct stream_result {
    std::string stream;
    result<void> outcome;
};

// The daemon's io_context. When SIGTERM's grace runs out, run_forever stops it with cycles
// suspended mid-call; their coroutine frames hold places in the sessions' call windows and point
// into the runtime. A plain io_context destroys the frames it still holds only in its
// destructor, after the runtime built on it is gone; run_forever destroys them itself
// (shutdown) while everything they point to still lives. The I/O objects may then go as usual,
// before the io_context.
class io_context : public boost::asio::io_context {
public:
    using boost::asio::execution_context::shutdown;
};

// Runs one cycle of each named stream (all when empty), concurrently. One result per stream.
std::vector<stream_result> run_once(boost::asio::io_context& ioc,
                                    runtime& rt,
                                    state::store& store,
                                    const std::vector<std::string>& only);

struct run_settings {
    std::chrono::milliseconds grace{8'000};  // SIGTERM to forced stop; systemd waits 10 s
    // SIGHUP: loads and validates the configuration again and builds its runtime; null keeps
    // the running one (the function logged every problem). The new runtime takes over once
    // every cycle in flight has finished: no cycle is interrupted.
    std::function<std::unique_ptr<runtime>()> reload;
    // Runs once when shutdown begins (SIGTERM/SIGINT, or every stream loop ended): stops what
    // else keeps the io_context busy, such as the admin server, so run_forever can return.
    std::function<void()> on_stop;
};

// Runs until SIGTERM or SIGINT, reloading on SIGHUP (run_settings::reload). Returns when every
// stream loop has ended. `rt` must outlive the call; runtimes from reloads are owned here.
// `ioc` is shut down on return: nothing can run on it any more.
void run_forever(io_context& ioc, runtime& rt, state::store& store, const run_settings& settings);

}  // namespace crmsync::daemon
