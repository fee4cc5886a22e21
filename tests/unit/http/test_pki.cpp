#include "test_pki.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <unistd.h>

namespace crmsync::testing {
namespace {

struct pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_free {
    void operator()(X509* p) const { X509_free(p); }
};
struct bio_free {
    void operator()(BIO* p) const { BIO_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;

void check(bool ok, const char* what) {
    if (!ok)
        throw std::runtime_error(std::string("test PKI: ") + what + " failed");
}

pkey_ptr make_key() {
    // P-256 keys take microseconds to make, RSA ones far longer under the sanitizers.
    pkey_ptr key(EVP_EC_gen("P-256"));
    check(key != nullptr, "EVP_EC_gen");
    return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    check(ext != nullptr, "X509V3_EXT_conf_nid");
    const int added = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    check(added == 1, "X509_add_ext");
}

// issuer == nullptr makes a self-signed certificate.
x509_ptr make_cert(EVP_PKEY* key, const char* common_name, long serial, X509* issuer) {
    x509_ptr cert(X509_new());
    check(cert != nullptr, "X509_new");
    check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial) == 1, "serial");
    // Valid from an hour ago, in case the clocks of the test and the check disagree a little.
    check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600) != nullptr, "notAfter");
    check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
    X509_NAME* name = X509_get_subject_name(cert.get());
    check(X509_NAME_add_entry_by_txt(name,
                                     "CN",
                                     MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(common_name),
                                     -1,
                                     -1,
                                     0) == 1,
          "subject CN");
    X509* signer = issuer ? issuer : cert.get();
    check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) == 1, "issuer");
    if (!issuer) {
        add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
    }
    return cert;
}

std::string to_pem(X509* cert) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    check(bio && PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string to_pem(EVP_PKEY* key) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    check(
        bio && PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

test_pki::~test_pki() {
    std::error_code ignored;
    if (!ca_file.empty())
        std::filesystem::remove(ca_file, ignored);
}

std::unique_ptr<test_pki> make_test_pki(const std::vector<std::string>& dns_names,
                                        const std::vector<std::string>& ip_addresses) {
    pkey_ptr ca_key = make_key();
    x509_ptr ca = make_cert(ca_key.get(), "crmsync test CA", 1, nullptr);
    check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()) > 0, "X509_sign (CA)");

    pkey_ptr leaf_key = make_key();
    x509_ptr leaf = make_cert(leaf_key.get(), "crmsync test server", 2, ca.get());
    std::string san;
    for (const auto& d : dns_names)
        san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
    for (const auto& ip : ip_addresses)
        san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
    add_ext(leaf.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_ext(leaf.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
    add_ext(leaf.get(), ca.get(), NID_ext_key_usage, "serverAuth");
    add_ext(leaf.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
    if (!san.empty())
        add_ext(leaf.get(), ca.get(), NID_subject_alt_name, san);
    check(X509_sign(leaf.get(), ca_key.get(), EVP_sha256()) > 0, "X509_sign (leaf)");

    auto pki = std::make_unique<test_pki>();
    pki->ca_pem = to_pem(ca.get());
    pki->server.certificate_chain_pem = to_pem(leaf.get()) + pki->ca_pem;
    pki->server.private_key_pem = to_pem(leaf_key.get());

    static std::atomic<int> counter{0};
    pki->ca_file = std::filesystem::temp_directory_path() /
                   ("crmsync-http-test-ca-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter++) + ".pem");
    std::ofstream out(pki->ca_file, std::ios::binary | std::ios::trunc);
    out << pki->ca_pem;
    out.close();
    check(static_cast<bool>(out), "writing the CA file");
    return pki;
}

}  // namespace crmsync::testing
