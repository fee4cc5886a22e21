// crmsync-fakes: the sandbox. Fake Salesforce, fake Marketo and fake Marketing Cloud on loopback
// ports, seeded with realistic data, until SIGTERM or SIGINT (exit 0).
//
//   crmsync-fakes --sf-port P --mkto-port Q [--sfmc-port R] [--contacts N] [--seed S]
//                 [--ready-file PATH]
//
// When both servers listen, one JSON line with their base URLs goes to stdout and, atomically
// (write + rename), to --ready-file, so scripts can wait for the file instead of sleeping.

#include "sandbox_seed.hpp"
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>
#include <pthread.h>
#include <string>
#include <string_view>

namespace {

constexpr const char* usage_text =
    R"(usage: crmsync-fakes --sf-port P --mkto-port Q [--sfmc-port R] [--contacts N] [--seed S]
                     [--ready-file PATH]

Runs a fake Salesforce org, a fake Marketo instance and (with --sfmc-port) a fake Marketing
Cloud tenant on 127.0.0.1 (port 0 = ephemeral) until SIGTERM or SIGINT. Prints
{"salesforce": URL, "marketo": URL, "sfmc": URL, ...} as one JSON line when ready.

  --sf-port P        Salesforce login host and instance (OAuth token endpoint, REST API)
  --mkto-port Q      Marketo Identity and REST API
  --sfmc-port R      Marketing Cloud auth, REST and SOAP hosts, with the data extension
                     CRM_Contacts
  --contacts N       Contacts to seed (default 300)
  --seed S           seed for the generated data (default "sandbox")
  --ready-file PATH  also write the JSON line to PATH once listening

Credentials: Salesforce client_id sandbox-sf-client, client_secret sandbox-sf-secret
(password flow: sandbox@example.com / sandbox-password); Marketo client_id sandbox-mkto-client,
client_secret sandbox-mkto-secret; Marketing Cloud client_id sandbox-sfmc-client,
client_secret sandbox-sfmc-secret, account_id 5100001234.
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
    std::cerr << "crmsync-fakes: " << message << "\n" << usage_text;
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::optional<unsigned long> sf_port;
    std::optional<unsigned long> mkto_port;
    std::optional<unsigned long> sfmc_port;
    crmsync::fakes::seed_options seed;
    std::string ready_file;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::cout << usage_text;
            return 0;
        }
        if (i + 1 >= argc)
            return fail("missing value for " + std::string(arg));
        const std::string_view value = argv[++i];
        if (arg == "--sf-port") {
            sf_port = number(value, 65535);
            if (!sf_port)
                return fail("--sf-port: not a port: " + std::string(value));
        } else if (arg == "--mkto-port") {
            mkto_port = number(value, 65535);
            if (!mkto_port)
                return fail("--mkto-port: not a port: " + std::string(value));
        } else if (arg == "--sfmc-port") {
            sfmc_port = number(value, 65535);
            if (!sfmc_port)
                return fail("--sfmc-port: not a port: " + std::string(value));
        } else if (arg == "--contacts") {
            const auto n = number(value, 1000000);
            if (!n)
                return fail("--contacts: not a count: " + std::string(value));
            seed.contacts = static_cast<int>(*n);
        } else if (arg == "--seed") {
            seed.seed = std::string(value);
        } else if (arg == "--ready-file") {
            ready_file = std::string(value);
        } else {
            return fail("unknown option " + std::string(arg));
        }
    }
    if (!sf_port || !mkto_port)
        return fail("--sf-port and --mkto-port are required");

    // Block the stop signals before any server thread exists, so every thread inherits the mask
    // and only sigwait below receives them.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    try {
        crmsync::fakes::fake_salesforce sf(
            crmsync::fakes::sandbox_sf_options(static_cast<unsigned short>(*sf_port)));
        crmsync::fakes::fake_marketo mkto(
            crmsync::fakes::sandbox_mkto_options(static_cast<unsigned short>(*mkto_port)));
        const auto report = crmsync::fakes::seed_sandbox(sf, mkto, seed);
        std::optional<crmsync::fakes::fake_sfmc> sfmc;
        if (sfmc_port) {
            sfmc.emplace(
                crmsync::fakes::sandbox_sfmc_options(static_cast<unsigned short>(*sfmc_port)));
            crmsync::fakes::seed_sfmc(*sfmc);
        }

        nlohmann::ordered_json ready = nlohmann::ordered_json::object();
        ready["salesforce"] = sf.base_url();
        ready["marketo"] = mkto.base_url();
        if (sfmc)
            ready["sfmc"] = sfmc->base_url();
        ready["contacts"] = report.contact_ids.size();
        ready["leads"] = report.lead_ids.size();
        ready["marketo_persons"] = mkto.leads().size();
        const std::string line = ready.dump();
        std::cout << line << std::endl;
        if (!ready_file.empty()) {
            const std::string tmp = ready_file + ".tmp";
            {
                std::ofstream out(tmp, std::ios::trunc);
                out << line << "\n";
                if (!out.flush())
                    return fail("cannot write " + tmp);
            }
            if (std::rename(tmp.c_str(), ready_file.c_str()) != 0) {
                return fail("cannot rename " + tmp + " to " + ready_file);
            }
        }

        int sig = 0;
        sigwait(&stop, &sig);
        std::cerr << "crmsync-fakes: stopping on signal " << sig << "\n";
    } catch (const std::exception& e) {
        std::cerr << "crmsync-fakes: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
