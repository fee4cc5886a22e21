// LD_PRELOAD'ed into the real crmsync binary by crash_test: SIGKILLs the process right before
// its N-th I/O call of a chosen kind, so a crash lands at a reproducible instant with no test
// hook in the production code. Every effect a process has on the world (a request on a socket,
// a page in the state file, a sync) goes through one of these calls, so killing before the
// N-th call for every N reaches every crash state a kill -9 at a random time can produce.
//
//   CRMSYNC_CRASH_ON=io     any call below (sockets, files, syncs)
//                    wal    a write to SQLite's write-ahead log (inside a commit: between frames)
//                    torn   the same, but half the buffer is written first (a torn frame)
//                    sync   an fsync/fdatasync (SQLite's commit point)
//   CRMSYNC_CRASH_AT=N      kill before the N-th call of that kind (unset or 0: never)
//   CRMSYNC_CRASH_COUNT=F   at a normal exit, write "io wal sync" call counts to F, so a test
//                           learns how many instants a whole run has
//
// Calls from inside glibc (stdio's writes to stderr) do not pass through here; they change
// nothing a restart could see.

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

namespace {

enum class mode { io, wal, torn, sync };

struct settings {
    mode what = mode::io;
    long at = 0;
    const char* count_file = nullptr;

    settings() {
        if (const char* m = std::getenv("CRMSYNC_CRASH_ON")) {
            if (std::strcmp(m, "wal") == 0)
                what = mode::wal;
            else if (std::strcmp(m, "torn") == 0)
                what = mode::torn;
            else if (std::strcmp(m, "sync") == 0)
                what = mode::sync;
        }
        if (const char* n = std::getenv("CRMSYNC_CRASH_AT"))
            at = std::strtol(n, nullptr, 10);
        count_file = std::getenv("CRMSYNC_CRASH_COUNT");
    }
};

const settings& config() {
    static const settings s;
    return s;
}

std::atomic<long> io_calls{0};
std::atomic<long> wal_writes{0};
std::atomic<long> syncs{0};

[[noreturn]] void die() {
    ::kill(::getpid(), SIGKILL);
    for (;;)
        ::pause();
}

template <class F>
F next(const char* name) {
    return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

bool is_wal(int fd) {
    char link[64];
    char path[4096];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = ::readlink(link, path, sizeof path - 1);
    if (n < 4)
        return false;
    path[n] = '\0';
    return std::strcmp(path + n - 4, "-wal") == 0;
}

// Counts one call of the given kinds and kills the process if it is the chosen one.
void count(bool wal_write, bool sync) {
    const settings& s = config();
    const long io = ++io_calls;
    const long w = wal_write ? ++wal_writes : 0;
    const long y = sync ? ++syncs : 0;
    if (s.at <= 0)
        return;
    if ((s.what == mode::io && io == s.at) || (s.what == mode::wal && w == s.at) ||
        (s.what == mode::sync && y == s.at)) {
        die();
    }
}

// torn: true when this WAL write is the one to tear.
bool tear_now(bool wal_write) {
    const settings& s = config();
    return wal_write && s.what == mode::torn && s.at > 0 && wal_writes.load() == s.at;
}

// A file write: counted (as a WAL write when it goes to the -wal file), torn when chosen.
template <class Write>
ssize_t counted_write(int fd, size_t n, Write write_bytes) {
    const bool wal = is_wal(fd);
    count(wal, false);
    if (tear_now(wal)) {
        write_bytes(n / 2);
        die();
    }
    return write_bytes(n);
}

struct report_at_exit {
    ~report_at_exit() {
        if (const char* f = config().count_file) {
            if (FILE* out = std::fopen(f, "w")) {
                std::fprintf(
                    out, "%ld %ld %ld\n", io_calls.load(), wal_writes.load(), syncs.load());
                std::fclose(out);
            }
        }
    }
} reporter;

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t n) {
    static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
    return counted_write(fd, n, [&](size_t len) { return real(fd, buf, len); });
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
    static auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
    return counted_write(fd, n, [&](size_t len) { return real(fd, buf, len, off); });
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
    static auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
    return counted_write(fd, n, [&](size_t len) { return real(fd, buf, len, off); });
}

ssize_t writev(int fd, const struct iovec* iov, int cnt) {
    static auto real = next<ssize_t (*)(int, const struct iovec*, int)>("writev");
    count(false, false);
    return real(fd, iov, cnt);
}

int fsync(int fd) {
    static auto real = next<int (*)(int)>("fsync");
    count(false, true);
    return real(fd);
}

int fdatasync(int fd) {
    static auto real = next<int (*)(int)>("fdatasync");
    count(false, true);
    return real(fd);
}

ssize_t send(int fd, const void* buf, size_t n, int flags) {
    static auto real = next<ssize_t (*)(int, const void*, size_t, int)>("send");
    count(false, false);
    return real(fd, buf, n, flags);
}

ssize_t sendto(
    int fd, const void* buf, size_t n, int flags, const struct sockaddr* to, socklen_t len) {
    static auto real =
        next<ssize_t (*)(int, const void*, size_t, int, const struct sockaddr*, socklen_t)>(
            "sendto");
    count(false, false);
    return real(fd, buf, n, flags, to, len);
}

ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
    static auto real = next<ssize_t (*)(int, const struct msghdr*, int)>("sendmsg");
    count(false, false);
    return real(fd, msg, flags);
}

ssize_t recv(int fd, void* buf, size_t n, int flags) {
    static auto real = next<ssize_t (*)(int, void*, size_t, int)>("recv");
    count(false, false);
    return real(fd, buf, n, flags);
}

ssize_t recvfrom(int fd, void* buf, size_t n, int flags, struct sockaddr* from, socklen_t* len) {
    static auto real =
        next<ssize_t (*)(int, void*, size_t, int, struct sockaddr*, socklen_t*)>("recvfrom");
    count(false, false);
    return real(fd, buf, n, flags, from, len);
}

ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
    static auto real = next<ssize_t (*)(int, struct msghdr*, int)>("recvmsg");
    count(false, false);
    return real(fd, msg, flags);
}

ssize_t read(int fd, void* buf, size_t n) {
    static auto real = next<ssize_t (*)(int, void*, size_t)>("read");
    count(false, false);
    return real(fd, buf, n);
}

}  // extern "C"
