#include "crmsync/config/diagnostics.hpp"

#include <gtest/gtest.h>

namespace crmsync::config {
namespace {

TEST(diagnostic, formats_as_file_line_column_message) {
    EXPECT_EQ((diagnostic{{"a.yaml", 3, 7}, "boom"}).to_string(), "a.yaml:3:7: boom");
    // No position: the problem is with the file itself (unreadable, empty glob).
    EXPECT_EQ((diagnostic{{"a.yaml", 0, 0}, "cannot read"}).to_string(), "a.yaml: cannot read");
    EXPECT_EQ((diagnostic{{"", 0, 0}, "bare"}).to_string(), "bare");
}

TEST(diagnostics, sorted_by_file_line_column_and_stable) {
    diagnostics d;
    d.add({"b.yaml", 1, 1}, "b1");
    d.add({"a.yaml", 10, 2}, "a10");
    d.add({"a.yaml", 2, 5}, "a2-5 first");
    d.add({"a.yaml", 2, 3}, "a2-3");
    d.add({"a.yaml", 2, 5}, "a2-5 second");
    std::vector<std::string> got;
    for (const auto& x : d.sorted())
        got.push_back(x.message);
    EXPECT_EQ(got, (std::vector<std::string>{"a2-3", "a2-5 first", "a2-5 second", "a10", "b1"}));
    EXPECT_EQ(d.items().front().message, "b1");  // items() keeps insertion order
}

TEST(diagnostics, append_and_size) {
    diagnostics a;
    diagnostics b;
    EXPECT_TRUE(a.empty());
    a.add({"x", 1, 1}, "one");
    b.add({"y", 1, 1}, "two");
    a.append(b);
    EXPECT_EQ(a.size(), 2u);
    EXPECT_FALSE(a.empty());
}

}  // namespace
}  // namespace crmsync::config
