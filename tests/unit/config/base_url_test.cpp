#include "crmsync/config/base_url.hpp"

#include <gtest/gtest.h>

namespace crmsync::config {
namespace {

TEST(base_url, accepts_https_anywhere_and_http_on_loopback) {
    for (const char* url : {"https://123-ABC-456.mktorest.com",
                            "https://login.salesforce.com/",
                            "HTTPS://example.com:8443/base",
                            "http://127.0.0.1:8080",
                            "http://127.1.2.3",
                            "http://localhost:9000/x",
                            "http://LOCALHOST",
                            "http://[::1]:8080",
                            "http://[::1]"}) {
        EXPECT_EQ(base_url_problem(url), std::nullopt) << url;
    }
}

TEST(base_url, refuses_plain_http_elsewhere_and_malformed_urls) {
    for (const char* url : {"http://example.com",
                            "http://128.0.0.1",
                            "http://127.0.0.1.evil.com",
                            "http://localhost.evil.com",
                            "http://10.0.0.1:80",
                            "http://[::2]",
                            "ftp://example.com",
                            "example.com",
                            "https://",
                            "https://:443",
                            "https://host:0",
                            "https://host:65536",
                            "https://host:x",
                            "https://user:pw@host",
                            "https://[::1"}) {
        EXPECT_NE(base_url_problem(url), std::nullopt) << url;
    }
    EXPECT_EQ(base_url_problem("http://example.com"),
              "'http://example.com' uses http://, which is only allowed to a loopback host "
              "(127.0.0.0/8, ::1, localhost); use https://");
}

TEST(base_url, loopback_hosts) {
    EXPECT_TRUE(is_loopback_host("127.0.0.1"));
    EXPECT_TRUE(is_loopback_host("127.255.255.254"));
    EXPECT_TRUE(is_loopback_host("::1"));
    EXPECT_TRUE(is_loopback_host("[::1]"));
    EXPECT_FALSE(is_loopback_host("127.0.0"));
    EXPECT_FALSE(is_loopback_host("127.0.0.256"));
    EXPECT_FALSE(is_loopback_host("0.0.0.0"));
}

}  // namespace
}  // namespace crmsync::config
