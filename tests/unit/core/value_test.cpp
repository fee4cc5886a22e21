#include "crmsync/core/value.hpp"

#include <gtest/gtest.h>

#include <string>

namespace crmsync {
namespace {

// Each factory keeps its kind and its whole text, short (inside std::string's own buffer) or
// long (on the heap): value takes the text over instead of copying it.
TEST(value, factories_keep_kind_and_text) {
    for (const std::string text : {std::string(), std::string("Lyon"), std::string(300, 'x')}) {
        const auto s = value::string(text);
        EXPECT_EQ(s.type(), value::kind::string);
        EXPECT_EQ(s.text(), text);
        EXPECT_EQ(s.is_empty(), text.empty());
        const auto n = value::number(text);
        EXPECT_EQ(n.type(), value::kind::number);
        EXPECT_EQ(n.text(), text);
    }
    std::string owned(64, 'y');
    const char* const buffer = owned.data();
    const auto taken = value::string(std::move(owned));
    EXPECT_EQ(taken.text(), std::string(64, 'y'));
    EXPECT_EQ(taken.text().data(), buffer) << "the heap text is taken over, not copied";
    EXPECT_EQ(value::boolean(true).text(), "true");
    EXPECT_TRUE(value::boolean(true).as_bool());
    EXPECT_EQ(value::boolean(false).text(), "false");
    EXPECT_FALSE(value::boolean(false).as_bool());
    EXPECT_TRUE(value::null().is_null());
    EXPECT_TRUE(value::null().is_empty());
    EXPECT_TRUE(value::null().text().empty());
    EXPECT_NE(value::string("1"), value::number("1")) << "equal texts, different kinds";
    EXPECT_EQ(value::string("1"), value::string("1"));
}

}  // namespace
}  // namespace crmsync
