#pragma once
// The real crmsync binary run to completion through the shell, its output collected.

#include <fmt/format.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace crmsync::testing {

struct run_result {
    int exit_code = -1;
    std::string out;  // stdout, and stderr unless sent elsewhere
};

// `env` prefixes the command (VAR=value ...); `stderr_to` is where the shell sends stderr: by
// default interleaved with stdout.
inline run_result run(const std::string& args,
                      const std::string& env = {},
                      const std::string& stderr_to = "&1") {
    const std::string cmd = fmt::format("{} {} {} 2>{}", env, CRMSYNC_BINARY, args, stderr_to);
    run_result r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p)
        return r;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
        r.out.append(buf.data(), n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace crmsync::testing
