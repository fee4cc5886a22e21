// crmsync-bench-measure: runs one command and reports what that process alone cost, from the
// kernel's own accounting (wait4's rusage): wall seconds, user and system CPU seconds, peak
// resident set. SIGTERM and SIGINT are passed on to the command, so the harness can stop a
// server it measures the same way it would stop it unmeasured.
//
//   crmsync-bench-measure --out FILE -- COMMAND [ARGS...]
//
// FILE gets one flat JSON object: {"wall_s":..,"user_s":..,"sys_s":..,"cpu_s":..,
// "max_rss_kb":..,"exit":..}; the exit status is the command's (128 + N when killed by N).

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace {

volatile sig_atomic_t child_pid = 0;

void forward(int sig) {
    if (child_pid > 0)
        ::kill(child_pid, sig);
}

double seconds(const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    std::string out;
    int first = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--out" && i + 1 < argc) {
            out = argv[++i];
        } else if (a == "--") {
            first = i + 1;
            break;
        } else {
            std::fprintf(stderr, "usage: crmsync-bench-measure --out FILE -- COMMAND [ARGS...]\n");
            return 2;
        }
    }
    if (out.empty() || first == 0 || first >= argc) {
        std::fprintf(stderr, "usage: crmsync-bench-measure --out FILE -- COMMAND [ARGS...]\n");
        return 2;
    }

    struct sigaction sa {};
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);

    const auto t0 = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) {
        std::perror("crmsync-bench-measure: fork");
        return 1;
    }
    if (pid == 0) {
        std::signal(SIGTERM, SIG_DFL);
        std::signal(SIGINT, SIG_DFL);
        ::execvp(argv[first], argv + first);
        std::fprintf(stderr,
                     "crmsync-bench-measure: cannot run %s: %s\n",
                     argv[first],
                     std::strerror(errno));
        _exit(127);
    }
    child_pid = pid;
    int status = 0;
    rusage ru{};
    pid_t r = 0;
    do {
        r = ::wait4(pid, &status, 0, &ru);
    } while (r < 0 && errno == EINTR);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r < 0) {
        std::perror("crmsync-bench-measure: wait4");
        return 1;
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::FILE* f = std::fopen(out.c_str(), "w");
    if (f == nullptr) {
        std::fprintf(stderr, "crmsync-bench-measure: cannot write %s\n", out.c_str());
        return 1;
    }
    // ru_maxrss is in kilobytes on Linux.
    std::fprintf(f,
                 "{\"wall_s\":%.3f,\"user_s\":%.3f,\"sys_s\":%.3f,\"cpu_s\":%.3f,"
                 "\"max_rss_kb\":%ld,\"exit\":%d}\n",
                 wall,
                 seconds(ru.ru_utime),
                 seconds(ru.ru_stime),
                 seconds(ru.ru_utime) + seconds(ru.ru_stime),
                 ru.ru_maxrss,
                 code);
    std::fclose(f);
    return code;
}
