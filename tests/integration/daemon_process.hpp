#pragma once
// The real crmsync binary as a child process whose stdout and stderr (the log) arrive through a
// pipe, line by line, so a test waits on a condition — "this line arrived", "the process
// exited" — with a generous limit instead of sleeping and polling.

#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace crmsync::testing {

class daemon_process {
public:
    // Starts `binary args...` with exactly `env` (plus PATH).
    daemon_process(const std::string& binary,
                   std::vector<std::string> args,
                   std::vector<std::string> env) {
        int fds[2];
        if (::pipe(fds) != 0)
            return;
        args.insert(args.begin(), binary);
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        env.emplace_back("PATH=/usr/bin:/bin");
        std::vector<char*> envp;
        for (auto& e : env)
            envp.push_back(e.data());
        envp.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        posix_spawn_file_actions_addclose(&actions, fds[1]);
        if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data()) != 0)
            pid_ = -1;
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        reader_ = std::thread([this, fd = fds[0]] { read_all(fd); });
    }

    ~daemon_process() {
        if (pid_ > 0 && !exit_status_) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        if (reader_.joinable())
            reader_.join();
    }

    daemon_process(const daemon_process&) = delete;
    daemon_process& operator=(const daemon_process&) = delete;

    bool started() const { return pid_ > 0; }
    void signal(int sig) { ::kill(pid_, sig); }

    // The first line (from the start) that satisfies `pred`, waiting up to `limit` for it;
    // nullopt if none came before the limit or the end of the output.
    std::optional<std::string> wait_for(const std::function<bool(const std::string&)>& pred,
                                        std::chrono::seconds limit = std::chrono::seconds(30)) {
        std::unique_lock lock(mutex_);
        std::size_t checked = 0;
        std::optional<std::string> found;
        cv_.wait_for(lock, limit, [&] {
            for (; checked < lines_.size(); ++checked) {
                if (pred(lines_[checked])) {
                    found = lines_[checked];
                    return true;
                }
            }
            return eof_;
        });
        return found;
    }

    // The first JSON log line after line number `from` whose "message" is `message` and that
    // satisfies `pred`.
    std::optional<nlohmann::json> wait_for_log(
        const std::string& message,
        const std::function<bool(const nlohmann::json&)>& pred = {},
        std::chrono::seconds limit = std::chrono::seconds(30),
        std::size_t from = 0) {
        std::size_t n = 0;
        std::optional<nlohmann::json> out;
        wait_for(
            [&](const std::string& line) {
                if (n++ < from)
                    return false;
                auto j = nlohmann::json::parse(line, nullptr, false);
                if (j.is_discarded() || !j.is_object() || j.value("message", "") != message)
                    return false;
                if (pred && !pred(j))
                    return false;
                out = std::move(j);
                return true;
            },
            limit);
        return out;
    }

    // Waits for the process to close its output (it exited), then reaps it. The exit code, or
    // nullopt if it did not exit within `limit` or died by a signal.
    std::optional<int> wait_exit(std::chrono::seconds limit) {
        {
            std::unique_lock lock(mutex_);
            if (!cv_.wait_for(lock, limit, [&] { return eof_; }))
                return std::nullopt;
        }
        int status = 0;
        if (!exit_status_) {
            if (::waitpid(pid_, &status, 0) != pid_)
                return std::nullopt;
            exit_status_ = status;
        }
        if (!WIFEXITED(*exit_status_))
            return std::nullopt;
        return WEXITSTATUS(*exit_status_);
    }

    std::vector<std::string> lines() const {
        std::lock_guard lock(mutex_);
        return lines_;
    }
    std::size_t line_count() const {
        std::lock_guard lock(mutex_);
        return lines_.size();
    }
    std::string output() const {
        std::string out;
        for (const auto& l : lines())
            out += l + '\n';
        return out;
    }

private:
    void read_all(int fd) {
        std::string partial;
        char buf[4096];
        for (;;) {
            const auto n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            partial.append(buf, static_cast<std::size_t>(n));
            std::size_t at;
            while ((at = partial.find('\n')) != std::string::npos) {
                std::lock_guard lock(mutex_);
                lines_.push_back(partial.substr(0, at));
                partial.erase(0, at + 1);
                cv_.notify_all();
            }
        }
        ::close(fd);
        std::lock_guard lock(mutex_);
        if (!partial.empty())
            lines_.push_back(partial);
        eof_ = true;
        cv_.notify_all();
    }

    pid_t pid_ = -1;
    std::optional<int> exit_status_;
    std::thread reader_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::string> lines_;
    bool eof_ = false;
};

}  // namespace crmsync::testing
