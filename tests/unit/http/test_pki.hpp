#pragma once
// A throwaway certificate authority and server certificate, made with the OpenSSL C API when a
// test runs: nothing is checked in, and no openssl binary is needed. The CA is also written to a
// temporary PEM file, because tls_options::ca_file takes a path as the configuration does.

#include "loopback_server.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace crmsync::testing {

struct test_pki {
    std::string ca_pem;
    tls_identity server;  // leaf certificate (then the CA) and the leaf's key
    std::filesystem::path ca_file;

    test_pki() = default;
    test_pki(const test_pki&) = delete;
    test_pki& operator=(const test_pki&) = delete;
    ~test_pki();  // removes ca_file
};

// A CA, and a server certificate it signed whose subjectAltName lists `dns_names` and
// `ip_addresses`. Throws std::runtime_error if OpenSSL refuses any step.
std::unique_ptr<test_pki> make_test_pki(const std::vector<std::string>& dns_names,
                                        const std::vector<std::string>& ip_addresses);

}  // namespace crmsync::testing
