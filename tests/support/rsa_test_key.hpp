#pragma once
// A throwaway RSA key made at test time, so no private key is ever checked in: PEM exports for
// crmsync's private_key_file and the fake's jwt_public_key_pem, and RS256 verification.
// Link OpenSSL::Crypto.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace crmsync::testing {

class rsa_test_key {
public:
    rsa_test_key() : key_(EVP_RSA_gen(2048)) {
        if (key_ == nullptr)
            std::abort();
    }
    ~rsa_test_key() { EVP_PKEY_free(key_); }
    rsa_test_key(const rsa_test_key&) = delete;
    rsa_test_key& operator=(const rsa_test_key&) = delete;

    // PKCS#8 "BEGIN PRIVATE KEY"; with a passphrase, encrypted with AES-256-CBC.
    std::string private_pem(const std::string& passphrase = {}) const {
        return to_pem([&](BIO* bio) {
            if (passphrase.empty())
                return PEM_write_bio_PrivateKey(bio, key_, nullptr, nullptr, 0, nullptr, nullptr);
            return PEM_write_bio_PKCS8PrivateKey(bio,
                                                 key_,
                                                 EVP_aes_256_cbc(),
                                                 passphrase.data(),
                                                 static_cast<int>(passphrase.size()),
                                                 nullptr,
                                                 nullptr);
        });
    }
    // Traditional "BEGIN RSA PRIVATE KEY" (PKCS#1), as `openssl genrsa` wrote it for years.
    std::string pkcs1_pem() const {
        return to_pem([&](BIO* bio) {
            return PEM_write_bio_PrivateKey_traditional(
                bio, key_, nullptr, nullptr, 0, nullptr, nullptr);
        });
    }
    std::string public_pem() const {
        return to_pem([&](BIO* bio) { return PEM_write_bio_PUBKEY(bio, key_); });
    }

    // RS256: RSASSA-PKCS1-v1_5 with SHA-256 over `data`.
    bool verify(std::string_view data, std::string_view signature) const {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key_) == 1 &&
                        EVP_DigestVerify(ctx,
                                         reinterpret_cast<const unsigned char*>(signature.data()),
                                         signature.size(),
                                         reinterpret_cast<const unsigned char*>(data.data()),
                                         data.size()) == 1;
        EVP_MD_CTX_free(ctx);
        return ok;
    }

private:
    template <class Write>
    static std::string to_pem(Write write) {
        BIO* bio = BIO_new(BIO_s_mem());
        if (write(bio) != 1)
            std::abort();
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio, &data);
        std::string pem(data, static_cast<std::size_t>(n));
        BIO_free(bio);
        return pem;
    }

    EVP_PKEY* key_;
};

}  // namespace crmsync::testing
