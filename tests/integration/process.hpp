#pragma once
// Runs the real crmsync binary as a child process for the crash and state tests: spawn with an
// exact environment and its stderr (the logs) in a file, then wait for it to end on a pidfd
// with a deadline, so a test never sleeps and never hangs on a child that does not exit.

#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace crmsync::testing {

struct child_exit {
    bool exited = false;  // exit() or return from main: `code` is set
    int code = -1;
    int signal = 0;  // killed by this signal
    bool timed_out = false;

    bool killed_by(int s) const { return !exited && signal == s; }
};

struct spawn_options {
    std::vector<std::string> env;         // the child's whole environment
    std::string log_file;                 // stderr (and stdout) go here, truncated
    std::optional<rlim_t> max_file_size;  // RLIMIT_FSIZE, with SIGXFSZ ignored (EFBIG instead)
};

// -1 when the child could not be started.
inline pid_t spawn(const std::vector<std::string>& args, const spawn_options& o) {
    std::vector<char*> argv;
    std::vector<std::string> a = args;
    for (auto& s : a)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<std::string> e = o.env;
    std::vector<char*> envp;
    for (auto& s : e)
        envp.push_back(s.data());
    envp.push_back(nullptr);
    if (o.max_file_size) {
        // posix_spawn cannot set a resource limit: fork, limit, exec.
        const pid_t pid = ::fork();
        if (pid != 0)
            return pid;
        const int fd = ::open(o.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        const rlimit lim{*o.max_file_size, *o.max_file_size};
        ::setrlimit(RLIMIT_FSIZE, &lim);
        ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(
        &actions, 2, o.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 2, 1);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0 ? pid : -1;
}

// Waits for the child to end, at most `limit`; a child still running then is SIGKILLed and
// reaped, and the result says timed_out.
inline child_exit wait_exit(pid_t pid, std::chrono::milliseconds limit) {
    child_exit r;
    // The raw system call: glibc 2.36's <sys/pidfd.h> declares pidfd_open without C linkage.
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd >= 0) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(limit.count())) == 0) {
            r.timed_out = true;
            ::kill(pid, SIGKILL);
        }
        ::close(fd);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid)
        return r;
    if (WIFEXITED(status)) {
        r.exited = true;
        r.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r.signal = WTERMSIG(status);
    }
    return r;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace crmsync::testing
