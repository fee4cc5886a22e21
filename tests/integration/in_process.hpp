#pragma once
// crmsync in the test's process, wired as src/cli/once.cpp and run.cpp wire it: the
// configuration loaded from disk, every stream's plan compiled, the state opened and the runtime
// built once; then cycles run on one io_context, as the daemon runs them at each interval
// (tokens and connections carry over between cycles, as they do in `crmsync run`). Tests pass
// daemon::options to shorten the backoff and timeouts and to set the clock; configuration
// problems are reported as test failures.

#include "crmsync/config/load.hpp"
#include "crmsync/daemon/scheduler.hpp"
#include "crmsync/mapping/plan.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace crmsync::testing {

class in_process_daemon {
public:
    in_process_daemon(const std::filesystem::path& config_file, const daemon::options& opts) {
        auto loaded = config::load(config_file);
        EXPECT_TRUE(loaded.problems.empty()) << loaded.problems.sorted().front().to_string();
        std::vector<daemon::compiled_stream> streams;
        for (const auto& s : loaded.cfg.streams) {
            auto plan = mapping::compile(s, loaded.problems);
            EXPECT_TRUE(plan) << loaded.problems.sorted().front().to_string();
            if (!plan)
                return;
            streams.push_back({s, plan});
        }
        auto st = state::store::open(loaded.cfg.state_path);
        EXPECT_TRUE(st) << st.error().message();
        if (!st)
            return;
        store_ = std::move(*st);
        auto rt = daemon::runtime::build(ioc_.get_executor(), loaded.cfg, std::move(streams), opts);
        EXPECT_TRUE(rt) << rt.error().message();
        if (rt) {
            runtime_ = std::move(*rt);
            runtime_->count_quota_in(*store_);  // as build_runtime does for the CLI
        }
    }

    // One cycle of every stream; empty when the set-up failed (already reported).
    // One cycle of the named streams (all when empty).
    std::vector<daemon::stream_result> run_once(const std::vector<std::string>& only = {}) {
        if (!runtime_)
            return {};
        return daemon::run_once(ioc_, *runtime_, *store_, only);
    }

    // Valid after a successful set-up: tests may adjust the streams before a cycle.
    daemon::runtime& runtime() { return *runtime_; }
    state::store& store() { return *store_; }

private:
    boost::asio::io_context ioc_;
    std::unique_ptr<state::store> store_;
    std::unique_ptr<daemon::runtime> runtime_;  // after ioc_: destroyed before it
};

// One `crmsync once`: everything built, one cycle run, everything dropped.
inline std::vector<daemon::stream_result> run_once_in_process(
    const std::filesystem::path& config_file, const daemon::options& opts) {
    return in_process_daemon(config_file, opts).run_once();
}

// Every stream of a run succeeded.
inline void expect_ok(const std::vector<daemon::stream_result>& results) {
    ASSERT_FALSE(results.empty());
    for (const auto& r : results)
        EXPECT_TRUE(r.outcome) << r.stream << ": " << r.outcome.error().message();
}

// An empty directory with a mappings/ folder, named after the running test so parallel ctest
// processes never share one: <tmp>/crmsync-<prefix>-<pid>-<test>.
inline std::filesystem::path fresh_test_dir(const std::string& prefix) {
    namespace fs = std::filesystem;
    const auto dir = fs::temp_directory_path() /
                     ("crmsync-" + prefix + "-" + std::to_string(::getpid()) + "-" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir / "mappings");
    return dir;
}

}  // namespace crmsync::testing
