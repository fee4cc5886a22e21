#include "crmsync/source/salesforce/auth.hpp"

#include "rsa_test_key.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

namespace crmsync::source::salesforce {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// RFC 4648 §5 without padding; nothing on the way out of make_jwt may carry '=', '+' or '/'.
std::optional<std::string> base64url_decode(std::string_view in) {
    std::string out;
    unsigned buf = 0;
    int bits = 0;
    for (char c : in) {
        int v = -1;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '-')
            v = 62;
        else if (c == '_')
            v = 63;
        if (v < 0)
            return std::nullopt;
        buf = (buf << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buf >> bits) & 0xff);
        }
    }
    return out;
}

struct jwt_parts {
    std::string signing_input;
    json header;
    json claims;
    std::string signature;
};

jwt_parts split(const std::string& jwt) {
    const auto dot1 = jwt.find('.');
    const auto dot2 = jwt.find('.', dot1 + 1);
    EXPECT_NE(dot2, std::string::npos) << jwt;
    EXPECT_EQ(jwt.find('.', dot2 + 1), std::string::npos) << "three parts only";
    jwt_parts p;
    p.signing_input = jwt.substr(0, dot2);
    p.header = json::parse(base64url_decode(jwt.substr(0, dot1)).value());
    p.claims = json::parse(base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1)).value());
    p.signature = base64url_decode(jwt.substr(dot2 + 1)).value();
    return p;
}

class key_files : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "crmsync-auth-XXXXXX");
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    std::string write(const std::string& name, const std::string& text) const {
        const auto path = (dir_ / name).string();
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
    config::salesforce_auth auth_with(const std::string& key_file) const {
        config::salesforce_auth a;
        a.flow = config::auth_flow::jwt_bearer;
        a.client_id = "3MVG9-consumer-key";
        a.username = "integration@example.com";
        a.private_key_file = key_file;
        return a;
    }

    fs::path dir_;
};

TEST(base64url, rfc4648_vectors_without_padding) {
    EXPECT_EQ(base64url(""), "");
    EXPECT_EQ(base64url("f"), "Zg");
    EXPECT_EQ(base64url("fo"), "Zm8");
    EXPECT_EQ(base64url("foo"), "Zm9v");
    EXPECT_EQ(base64url("foob"), "Zm9vYg");
    EXPECT_EQ(base64url("fooba"), "Zm9vYmE");
    EXPECT_EQ(base64url("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64url("\xfb\xff"), "-_8");  // '+' and '/' in plain base64
    EXPECT_EQ(base64url(R"({"alg":"RS256"})"), "eyJhbGciOiJSUzI1NiJ9");
}

TEST(jwt_audience, login_hosts_give_their_origin_and_other_urls_stay) {
    EXPECT_EQ(jwt_audience("https://login.salesforce.com"), "https://login.salesforce.com");
    EXPECT_EQ(jwt_audience("https://Login.Salesforce.com/"), "https://login.salesforce.com");
    EXPECT_EQ(jwt_audience("https://test.salesforce.com/services"), "https://test.salesforce.com");
    // An Experience Cloud site is its own audience, path included (api-reference §1.2).
    EXPECT_EQ(jwt_audience("https://acme.my.site.com/partners/"),
              "https://acme.my.site.com/partners");
    EXPECT_EQ(jwt_audience("http://127.0.0.1:8443"), "http://127.0.0.1:8443");
}

TEST_F(key_files, jwt_is_signed_by_the_key_and_carries_the_documented_claims) {
    const testing::rsa_test_key key;
    const auto auth = auth_with(write("sf.pem", key.private_pem()));
    const sys_ms now{std::chrono::milliseconds(1'700'000'000'250)};
    auto jwt = make_jwt(auth, "https://login.salesforce.com", now);
    ASSERT_TRUE(jwt) << jwt.error().message();
    EXPECT_EQ(jwt->find_first_of("=+/ "), std::string::npos) << *jwt;

    const auto p = split(*jwt);
    EXPECT_EQ(p.header, json({{"alg", "RS256"}}));
    EXPECT_EQ(p.claims["iss"], "3MVG9-consumer-key");
    EXPECT_EQ(p.claims["sub"], "integration@example.com");
    EXPECT_EQ(p.claims["aud"], "https://login.salesforce.com");
    EXPECT_EQ(p.claims["exp"], 1'700'000'000 + 180) << "epoch seconds, now + 3 minutes";
    EXPECT_EQ(p.claims.size(), 4u);
    EXPECT_TRUE(key.verify(p.signing_input, p.signature));
    EXPECT_FALSE(key.verify(p.signing_input + "x", p.signature));

    const testing::rsa_test_key other;
    EXPECT_FALSE(other.verify(p.signing_input, p.signature));
}

TEST_F(key_files, traditional_rsa_pem_is_accepted_and_a_loaded_key_signs_again) {
    const testing::rsa_test_key key;
    const auto auth = auth_with(write("sf.pem", key.pkcs1_pem()));
    auto loaded = signing_key::load(auth.private_key_file);
    ASSERT_TRUE(loaded) << loaded.error().message();
    fs::remove(auth.private_key_file);  // loaded once: later assertions need no file
    for (int minute = 0; minute < 2; ++minute) {
        const sys_ms now{std::chrono::minutes(28'000'000 + minute)};
        auto jwt = make_jwt(auth, *loaded, "https://test.salesforce.com", now);
        ASSERT_TRUE(jwt) << jwt.error().message();
        const auto p = split(*jwt);
        EXPECT_TRUE(key.verify(p.signing_input, p.signature));
        EXPECT_EQ(p.claims["aud"], "https://test.salesforce.com");
    }
}

void expect_config_invalid(const result<std::string>& r,
                           const std::string& path,
                           const std::string& secret_text) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::config_invalid);
    const std::string msg = r.error().message();
    EXPECT_NE(msg.find(path), std::string::npos) << msg << " names the file";
    if (!secret_text.empty()) {
        EXPECT_EQ(msg.find(secret_text), std::string::npos) << msg << " leaks the file content";
    }
}

TEST_F(key_files, bad_key_files_are_config_errors_that_never_show_the_content) {
    const sys_ms now{};
    const std::string aud = "https://login.salesforce.com";

    const auto missing = (dir_ / "missing.pem").string();
    expect_config_invalid(make_jwt(auth_with(missing), aud, now), missing, "");

    const std::string garbage_body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDsecret";
    const auto garbage =
        write("garbage.pem",
              "-----BEGIN PRIVATE KEY-----\n" + garbage_body + "\n-----END PRIVATE KEY-----\n");
    expect_config_invalid(make_jwt(auth_with(garbage), aud, now), garbage, garbage_body);

    const auto plain = write("plain.txt", "hunter2-not-a-key\n");
    expect_config_invalid(make_jwt(auth_with(plain), aud, now), plain, "hunter2");

    const auto empty = write("empty.pem", "");
    expect_config_invalid(make_jwt(auth_with(empty), aud, now), empty, "");

    // A public key is a key, but not one that can sign.
    const testing::rsa_test_key key;
    const auto pub = write("pub.pem", key.public_pem());
    expect_config_invalid(make_jwt(auth_with(pub), aud, now), pub, "");

    // Encrypted: must fail at once, never wait for a passphrase on a terminal.
    const auto encrypted = write("enc.pem", key.private_pem("passphrase"));
    const auto r = make_jwt(auth_with(encrypted), aud, now);
    expect_config_invalid(r, encrypted, "");
    EXPECT_NE(r.error().message().find("passphrase"), std::string::npos) << r.error().message();
}

TEST_F(key_files, an_ec_key_is_refused_because_salesforce_wants_rs256) {
    EVP_PKEY* ec = EVP_EC_gen("P-256");
    ASSERT_NE(ec, nullptr);
    BIO* bio = BIO_new(BIO_s_mem());
    ASSERT_EQ(PEM_write_bio_PrivateKey(bio, ec, nullptr, nullptr, 0, nullptr, nullptr), 1);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    const auto path = write("ec.pem", std::string(data, static_cast<std::size_t>(n)));
    BIO_free(bio);
    EVP_PKEY_free(ec);

    auto loaded = signing_key::load(path);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code, errc::config_invalid);
    EXPECT_NE(loaded.error().message().find("RSA"), std::string::npos) << loaded.error().message();
}

}  // namespace
}  // namespace crmsync::source::salesforce
