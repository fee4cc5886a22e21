#include "crmsync/core/hash.hpp"

#include <gtest/gtest.h>

namespace crmsync {
namespace {

// Digests are stored per record: if their bytes ever changed, every record of every stream
// would be sent again after an upgrade. These are SHA-256 (first 128 bits) of the framing
// documented in hash.cpp: kind byte, 64-bit length, text, per field.
TEST(hash, digests_keep_their_bytes) {
    const payload p{{value::string("a@example.com"),
                     value::null(),
                     value::number("12.5"),
                     value::boolean(true)}};
    EXPECT_EQ(to_hex(payload_digest(p)), "63e113b1f157eba1d14ce27fb64387de");
    EXPECT_EQ(to_hex(payload_digest(payload{})), "e3b0c44298fc1c149afbf4c8996fb924");
}

TEST(hash, framing_separates_values) {
    const auto d = [](std::vector<value> v) { return payload_digest(payload{std::move(v)}); };
    EXPECT_NE(d({value::string("ab"), value::string("c")}),
              d({value::string("a"), value::string("bc")}));
    EXPECT_NE(d({value::null()}), d({value::string("")}));
    EXPECT_NE(d({value::number("1")}), d({value::string("1")}));
    EXPECT_EQ(d({value::string("x")}), d({value::string("x")}));
}

}  // namespace
}  // namespace crmsync
