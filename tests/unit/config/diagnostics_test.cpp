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

TEST(diagnostics, a_redacted_value_is_hidden_in_every_message_before_and_after) {
    diagnostics d;
    d.add({"m.yaml", 9, 1}, "reported first: 'hunter2-s3cret'");
    d.redact({"a.yaml", 3, 7}, "hunter2-s3cret", "${PASS}");
    d.add({"a.yaml", 3, 7}, "at the scalar: 'hunter2-s3cret'");
    d.add({"a.yaml", 5, 1}, "about another key: 'hunter2-s3cret' and 'hunter2-s3cret'");
    std::vector<std::string> got;
    for (const auto& x : d.items())
        got.push_back(x.message);
    EXPECT_EQ(got,
              (std::vector<std::string>{"reported first: '${PASS}'",
                                        "at the scalar: '${PASS}'",
                                        "about another key: '${PASS}' and '${PASS}'"}));
}

TEST(diagnostics, a_short_value_is_hidden_only_at_its_scalar) {
    diagnostics d;
    d.redact({"a.yaml", 3, 7}, "id", "${ID}");
    d.add({"a.yaml", 3, 7}, "bad 'id'");
    d.add({"a.yaml", 4, 1}, "'client_id' is required");
    EXPECT_EQ(d.items()[0].message, "bad '${ID}'");
    EXPECT_EQ(d.items()[1].message, "'client_id' is required") << "words are left whole";
}

TEST(diagnostics, the_whole_scalar_is_shown_as_written_before_its_pieces) {
    diagnostics d;
    d.redact({"a.yaml", 3, 7}, "s3cret-host", "${HOST}");
    d.redact({"a.yaml", 3, 7}, "https://s3cret-host/x", "https://${HOST}/x");
    d.add({"b.yaml", 1, 1}, "'https://s3cret-host/x' and 's3cret-host'");
    EXPECT_EQ(d.items()[0].message, "'https://${HOST}/x' and '${HOST}'");
}

TEST(diagnostics, append_hides_each_side_s_values_in_the_other_s_messages) {
    diagnostics a;
    diagnostics b;
    a.redact({"a.yaml", 1, 1}, "alpha-s3cret", "${A}");
    a.add({"a.yaml", 2, 1}, "a quotes beta-s3cret");
    b.redact({"b.yaml", 1, 1}, "beta-s3cret", "${B}");
    b.add({"b.yaml", 2, 1}, "b quotes alpha-s3cret");
    a.append(b);
    EXPECT_EQ(a.items()[0].message, "a quotes ${B}");
    EXPECT_EQ(a.items()[1].message, "b quotes ${A}");
}

}  // namespace
}  // namespace crmsync::config
