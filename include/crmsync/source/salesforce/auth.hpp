#pragma once
// The pure parts of Salesforce's OAuth 2.0 JWT bearer flow (api-reference §1.2 [GYDE-JWT]
// [SIMPLE-SF-LOGIN]): a compact JWS with header {"alg":"RS256"} and claims iss = consumer key,
// sub = username, aud = login host, exp = epoch seconds, signed with the connected app's RSA
// private key. No network here, so the signature and claims are tested without a server.

#include "crmsync/config/model.hpp"
#include "crmsync/core/error.hpp"
#include "crmsync/core/timestamp.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace crmsync::source::salesforce {

// RFC 7515 §2: base64url without padding.
std::string base64url(std::string_view bytes);

// How long an assertion is valid; simple-salesforce uses 3 minutes (api-reference §1.2).
inline constexpr std::chrono::seconds jwt_lifetime{180};

// The `aud` claim for a login URL: the origin for login.salesforce.com and test.salesforce.com
// (the only audiences Salesforce names for production and sandboxes), otherwise the login URL
// itself (an Experience Cloud / community URL), without a trailing slash.
std::string jwt_audience(std::string_view login_url);

// An RSA private key read from a PEM file, ready to sign. Loaded once and kept, so a token
// refresh at 3 am does not depend on the file system (a rotated key needs a reload).
class signing_key {
public:
    // errc::config_invalid when the file cannot be read, is not a PEM private key (encrypted
    // keys included: there is nobody to type a passphrase), or is not RSA. The message names
    // the file, never its content.
    static result<signing_key> load(const std::string& path);

    // Signs `data` with RSASSA-PKCS1-v1_5 over SHA-256 (JWS "RS256"); the raw signature bytes.
    result<std::string> sign_rs256(std::string_view data) const;

private:
    struct deleter {
        void operator()(void* key) const noexcept;
    };
    explicit signing_key(void* key) : key_(key) {}

    std::unique_ptr<void, deleter> key_;  // EVP_PKEY*, kept opaque so OpenSSL stays out of users
};

// The signed assertion for `auth` (iss = client_id, sub = username), valid until now + 3 min.
result<std::string> make_jwt(const config::salesforce_auth& auth,
                             const signing_key& key,
                             std::string_view aud,
                             sys_ms now);

// The same, reading auth.private_key_file first (one-shot callers: tests, tooling).
result<std::string> make_jwt(const config::salesforce_auth& auth, std::string_view aud, sys_ms now);

}  // namespace crmsync::source::salesforce
