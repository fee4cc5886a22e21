#include "crmsync/core/text.hpp"

#include <gtest/gtest.h>

namespace crmsync {
namespace {

TEST(text, code_points_count_characters_not_bytes) {
    EXPECT_EQ(code_points(""), 0u);
    EXPECT_EQ(code_points("abc"), 3u);
    EXPECT_EQ(code_points("Évian"), 5u);  // É is two bytes
    EXPECT_EQ(code_points("北京"), 2u);   // three bytes each
    EXPECT_EQ(code_points("😀x"), 2u);     // four bytes
}

TEST(text, prefix_bytes_never_splits_a_character) {
    EXPECT_EQ(prefix_bytes("Évian", 1), 2u);
    EXPECT_EQ(prefix_bytes("Évian", 0), 0u);
    EXPECT_EQ(prefix_bytes("北京", 1), 3u);
    EXPECT_EQ(prefix_bytes("abc", 10), 3u);
}

TEST(text, quote_excerpt_cuts_long_values) {
    EXPECT_EQ(quote_excerpt("Lyon"), "'Lyon'");
    EXPECT_EQ(quote_excerpt(""), "''");
    EXPECT_EQ(quote_excerpt("abcdef", 3), "'abc...'");
    EXPECT_EQ(quote_excerpt("ÉÉÉÉ", 2), "'ÉÉ...'");
    EXPECT_EQ(quote_excerpt("abc", 3), "'abc'");
}

}  // namespace
}  // namespace crmsync

TEST(text, iequals_ascii_folds_ascii_case_only) {
    EXPECT_TRUE(crmsync::iequals_ascii("IsDeleted", "isdeleted"));
    EXPECT_TRUE(crmsync::iequals_ascii("", ""));
    EXPECT_FALSE(crmsync::iequals_ascii("IsDeleted", "IsDeleted_"));
    EXPECT_FALSE(crmsync::iequals_ascii("a", ""));
    // Bytes past ASCII compare exactly: no locale turns one UTF-8 byte into another.
    EXPECT_FALSE(crmsync::iequals_ascii("\xc3\x89", "\xc3\xa9"));
    EXPECT_TRUE(crmsync::iequals_ascii("Ma\xc3\xaftre", "MA\xc3\xafTRE"));
}

TEST(text, to_lower_ascii_lowers_ascii_letters_only) {
    EXPECT_EQ(crmsync::to_lower_ascii("WAL"), "wal");
    EXPECT_EQ(crmsync::to_lower_ascii("Content-Type"), "content-type");
    EXPECT_EQ(crmsync::to_lower_ascii(""), "");
    EXPECT_EQ(crmsync::to_lower_ascii("\xc3\x89t\xc3\xa9"), "\xc3\x89t\xc3\xa9");
}
