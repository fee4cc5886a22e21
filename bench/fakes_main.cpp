// crmsync-bench-fakes: the benchmark's fake Salesforce and fake Marketo (fakes.hpp) on loopback
// ports, each served by its own thread, until SIGTERM or SIGINT (exit 0).
//
//   crmsync-bench-fakes --records N [--sf-port P] [--mkto-port Q] [--mkto-limits]
//                       [--mkto-latency MS] [--ready-file PATH]
//
// When both listen, one JSON line with their base URLs goes to stdout and, atomically (write +
// rename), to --ready-file, so the harness waits for the file instead of sleeping.

#include "fakes.hpp"

#include <csignal>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>
#include <pthread.h>
#include <string>
#include <string_view>

namespace {

constexpr const char* usage_text =
    R"(usage: crmsync-bench-fakes --records N [--sf-port P] [--mkto-port Q] [--mkto-limits]
                           [--mkto-latency MS] [--ready-file PATH]

Serves N generated contacts from a fake Salesforce org and accepts them into a fake Marketo
instance, on 127.0.0.1 (port 0, the default, is ephemeral), until SIGTERM or SIGINT.

  --records N        contacts in the org (1 .. 100000000)
  --mkto-limits      enforce Marketo's limits: 100 calls / 20 s, 10 in flight, 50,000 a day
  --mkto-latency MS  added to every Sync Leads reply (default 0)
  --ready-file PATH  also write the ready line to PATH once listening

Credentials: Salesforce bench-sf-client / bench-sf-secret (password flow: bench@example.com /
bench-password); Marketo bench-mkto-client / bench-mkto-secret. GET /bench/stats on either port
returns its counters.
)";

std::optional<unsigned long> number(std::string_view text, unsigned long max) {
    if (text.empty())
        return std::nullopt;
    unsigned long v = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        v = v * 10 + static_cast<unsigned long>(c - '0');
        if (v > max)
            return std::nullopt;
    }
    return v;
}

int fail(const std::string& message) {
    std::cerr << "crmsync-bench-fakes: " << message << "\n" << usage_text;
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace crmsync;
    bench::sf_settings sf;
    bench::mkto_settings mkto;
    unsigned long sf_port = 0;
    unsigned long mkto_port = 0;
    bool have_records = false;
    std::string ready_file;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::cout << usage_text;
            return 0;
        }
        if (arg == "--mkto-limits") {
            mkto.limits = true;
            continue;
        }
        if (i + 1 >= argc)
            return fail("missing value for " + std::string(arg));
        const std::string_view value = argv[++i];
        std::optional<unsigned long> n;
        if (arg == "--records") {
            n = number(value, 100'000'000);
            if (!n || *n == 0)
                return fail("--records: not a count from 1 to 100000000: " + std::string(value));
            sf.records = *n;
            have_records = true;
        } else if (arg == "--sf-port" || arg == "--mkto-port") {
            n = number(value, 65535);
            if (!n)
                return fail(std::string(arg) + ": not a port: " + std::string(value));
            (arg == "--sf-port" ? sf_port : mkto_port) = *n;
        } else if (arg == "--mkto-latency") {
            n = number(value, 600'000);
            if (!n)
                return fail("--mkto-latency: not milliseconds: " + std::string(value));
            mkto.latency = std::chrono::milliseconds(*n);
        } else if (arg == "--ready-file") {
            ready_file = std::string(value);
        } else {
            return fail("unknown option " + std::string(arg));
        }
    }
    if (!have_records)
        return fail("--records is required");

    // Block the stop signals before any server thread exists, so every thread inherits the mask
    // and only sigwait below receives them.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    try {
        // The handlers outlive their servers (declared first, destroyed last).
        bench::fake_sf sf_fake(sf);
        bench::fake_mkto mkto_fake(mkto);
        testing::loopback_server sf_server(
            [&](const testing::http_request& r) { return sf_fake.handle(r); },
            static_cast<unsigned short>(sf_port));
        testing::loopback_server mkto_server(
            [&](const testing::http_request& r) { return mkto_fake.handle(r); },
            static_cast<unsigned short>(mkto_port));
        // The token response's instance_url; no request can arrive before the ready line.
        sf_fake.set_base_url(sf_server.base_url());

        const std::string line = "{\"salesforce\":\"" + sf_server.base_url() + "\",\"marketo\":\"" +
                                 mkto_server.base_url() +
                                 "\",\"records\":" + std::to_string(sf.records) + "}";
        std::cout << line << std::endl;
        if (!ready_file.empty()) {
            const std::string tmp = ready_file + ".tmp";
            {
                std::ofstream out(tmp, std::ios::trunc);
                out << line << "\n";
                if (!out.flush())
                    return fail("cannot write " + tmp);
            }
            if (std::rename(tmp.c_str(), ready_file.c_str()) != 0)
                return fail("cannot rename " + tmp + " to " + ready_file);
        }
        int sig = 0;
        sigwait(&stop, &sig);
    } catch (const std::exception& e) {
        std::cerr << "crmsync-bench-fakes: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
