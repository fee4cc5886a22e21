#include "crmsync/core/hash.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace crmsync {
namespace {

// A digest per record is on the hot path (SPEC §6), so the per-call costs of OpenSSL 3 are paid
// once: the SHA-256 implementation is fetched from its provider once per process (EVP_sha256()
// would fetch it again in every EVP_DigestInit_ex) and the context is reused per thread.
const EVP_MD* sha256() {
    static const std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md(
        EVP_MD_fetch(nullptr, "SHA256", nullptr), &EVP_MD_free);
    return md ? md.get() : EVP_sha256();
}

EVP_MD_CTX* context() {
    thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(
        EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    return ctx.get();
}

}  // namespace

digest payload_digest(const payload& p) {
    // Each value is framed by its kind and length so that ("ab","c") and ("a","bc") differ and
    // null differs from "". The framed bytes go to SHA-256 in one update (one call per field
    // cost more than the hashing itself); they are the same bytes as ever, so stored digests
    // stay valid.
    thread_local std::string framed;
    framed.clear();
    for (const auto& v : p.fields) {
        const auto kind = static_cast<char>(v.type());
        const std::uint64_t n = v.text().size();
        char length[sizeof n];
        std::memcpy(length, &n, sizeof n);
        framed += kind;
        framed.append(length, sizeof n);
        framed += v.text();
    }
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX* ctx = context();
    EVP_DigestInit_ex(ctx, sha256(), nullptr);
    EVP_DigestUpdate(ctx, framed.data(), framed.size());
    EVP_DigestFinal_ex(ctx, full, &len);
    digest d{};
    std::copy_n(full, d.size(), d.begin());
    return d;
}

std::string to_hex(const digest& d) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(d.size() * 2);
    for (auto b : d) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

}  // namespace crmsync
