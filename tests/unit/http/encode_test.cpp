#include "crmsync/http/client.hpp"

#include <gtest/gtest.h>

namespace crmsync::http {
namespace {

TEST(url_encode, table) {
    const std::pair<std::string, std::string> cases[] = {
        {"", ""},
        {"abcXYZ019", "abcXYZ019"},
        {"-._~", "-._~"},  // RFC 3986 unreserved
        {" ", "%20"},      // not '+': api-reference §1.3, Salesforce reads %20 in q=
        {"a+b", "a%2Bb"},
        {"k=v&x", "k%3Dv%26x"},
        {"/?#[]@!$'()*,;:", "%2F%3F%23%5B%5D%40%21%24%27%28%29%2A%2C%3B%3A"},
        {"100%", "100%25"},
        {"\xC3\xA9", "%C3%A9"},  // é in UTF-8, uppercase hex
        {std::string("\0\x7F\xFF", 3), "%00%7F%FF"},
    };
    for (const auto& [in, out] : cases)
        EXPECT_EQ(url_encode(in), out) << in;
}

TEST(form_encode, table) {
    using fields = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(form_encode({}), "");
    EXPECT_EQ(form_encode(fields{{"a", "b"}}), "a=b");
    EXPECT_EQ(form_encode(fields{{"q", "SELECT Id FROM Contact WHERE Name = 'O''Brien'"}}),
              "q=SELECT%20Id%20FROM%20Contact%20WHERE%20Name%20%3D%20%27O%27%27Brien%27");
    EXPECT_EQ(form_encode(fields{{"grant_type", "client_credentials"},
                                 {"client_id", "abc"},
                                 {"client_secret", "s3cr&t=+"}}),
              "grant_type=client_credentials&client_id=abc&client_secret=s3cr%26t%3D%2B");
    EXPECT_EQ(form_encode(fields{{"empty", ""}, {"", "v"}}), "empty=&=v");
    EXPECT_EQ(form_encode(fields{{"a b", "c d"}}), "a%20b=c%20d");
}

}  // namespace
}  // namespace crmsync::http
