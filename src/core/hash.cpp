#include "crmsync/core/hash.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>

namespace crmsync {

digest payload_digest(const payload& p) {
    // Each value is framed by its kind and length so that ("ab","c") and ("a","bc") differ and
    // null differs from "".
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    for (const auto& v : p.fields) {
        const unsigned char kind = static_cast<unsigned char>(v.type());
        const std::uint64_t n = v.text().size();
        EVP_DigestUpdate(ctx.get(), &kind, 1);
        EVP_DigestUpdate(ctx.get(), &n, sizeof n);
        EVP_DigestUpdate(ctx.get(), v.text().data(), v.text().size());
    }
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), full, &len);
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
