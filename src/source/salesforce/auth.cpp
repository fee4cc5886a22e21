#include "crmsync/source/salesforce/auth.hpp"

#include "crmsync/core/text.hpp"
#include "crmsync/http/url.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace crmsync::source::salesforce {
namespace {

// The first queued OpenSSL reason (a fixed library string such as "no start line"), then an
// empty queue: the error queue is per thread and the TLS layer reads it after its own calls, so
// a stale entry from here must not be mistaken for a handshake failure.
std::string take_openssl_reason() {
    const unsigned long e = ERR_peek_error();
    const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
    ERR_clear_error();
    return reason != nullptr ? reason : "unknown OpenSSL error";
}

// The key file holds a secret: wipe our copy of it once OpenSSL has parsed it.
struct cleansed_string {
    std::string text;
    ~cleansed_string() {
        if (!text.empty())
            OPENSSL_cleanse(text.data(), text.size());
    }
};

// Refuses to prompt: PEM_read_* would otherwise ask for a passphrase on the terminal, and a
// daemon has none. An encrypted key therefore fails to load with a clear message.
int no_passphrase(char*, int, int, void*) {
    return 0;
}

}  // namespace

std::string base64url(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const auto n = static_cast<unsigned char>(bytes[i]) << 16;
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
    } else if (rest == 2) {
        const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
    }
    return out;
}

std::string jwt_audience(std::string_view login_url) {
    std::string_view trimmed = login_url;
    while (trimmed.ends_with('/'))
        trimmed.remove_suffix(1);
    if (auto u = http::url::parse(trimmed); u && (iequals_ascii(u->host, "login.salesforce.com") ||
                                                  iequals_ascii(u->host, "test.salesforce.com"))) {
        // Salesforce matches these audiences exactly; a path or an upper-case host in the
        // configured login URL must not leak into the claim.
        return to_lower_ascii(u->origin());
    }
    return std::string(trimmed);
}

void signing_key::deleter::operator()(void* key) const noexcept {
    EVP_PKEY_free(static_cast<EVP_PKEY*>(key));
}

result<signing_key> signing_key::load(const std::string& path) {
    auto problem = [&path](std::string_view what) {
        return make_failure(errc::config_invalid,
                            fmt::format("private_key_file {}: {}", path, what));
    };
    cleansed_string pem;
    {
        std::ifstream in(path, std::ios::binary);
        if (!in)
            return problem(fmt::format("cannot be read ({})", std::strerror(errno)));
        pem.text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (in.bad())
            return problem("cannot be read (I/O error)");
    }
    if (pem.text.empty())
        return problem("is empty; expected a PEM private key");

    BIO* bio = BIO_new_mem_buf(pem.text.data(), static_cast<int>(pem.text.size()));
    if (bio == nullptr)
        return problem("cannot be parsed: " + take_openssl_reason());
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, no_passphrase, nullptr);
    BIO_free(bio);
    if (key == nullptr) {
        // Only OpenSSL's fixed reason text goes into the message, never the bytes it choked on.
        return problem(
            fmt::format("is not a PEM private key, or is encrypted with a passphrase (OpenSSL: {})",
                        take_openssl_reason()));
    }
    signing_key out(key);
    if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
        // Salesforce accepts RS256 only (api-reference §1.2), so an EC or Ed25519 key, though a
        // valid private key, cannot sign an assertion it will verify.
        const char* type = EVP_PKEY_get0_type_name(key);  // "EC", "ED25519", ...
        return problem(fmt::format("holds an {} key; the JWT bearer flow needs an RSA key (RS256)",
                                   type != nullptr ? type : "unknown"));
    }
    return out;
}

result<std::string> signing_key::sign_rs256(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    auto* key = static_cast<EVP_PKEY*>(key_.get());
    const auto* in = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
        return make_failure(errc::config_invalid,
                            "cannot sign the JWT assertion: " + take_openssl_reason());
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(
            ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size()) != 1) {
        return make_failure(errc::config_invalid,
                            "cannot sign the JWT assertion: " + take_openssl_reason());
    }
    sig.resize(len);
    return sig;
}

result<std::string> make_jwt(const config::salesforce_auth& auth,
                             const signing_key& key,
                             std::string_view aud,
                             sys_ms now) {
    const auto exp = std::chrono::floor<std::chrono::seconds>(now + jwt_lifetime);
    const nlohmann::json header = {{"alg", "RS256"}};
    const nlohmann::json claims = {{"iss", auth.client_id},
                                   {"sub", auth.username},
                                   {"aud", aud},
                                   {"exp", exp.time_since_epoch().count()}};
    std::string signing_input = base64url(header.dump()) + "." + base64url(claims.dump());
    auto sig = key.sign_rs256(signing_input);
    if (!sig)
        return sig.error();
    return signing_input + "." + base64url(*sig);
}

result<std::string> make_jwt(const config::salesforce_auth& auth,
                             std::string_view aud,
                             sys_ms now) {
    auto key = signing_key::load(auth.private_key_file);
    if (!key)
        return key.error();
    return make_jwt(auth, *key, aud, now);
}

}  // namespace crmsync::source::salesforce
