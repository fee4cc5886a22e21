#include "crmsync/config/schema.hpp"

#include <gtest/gtest.h>

namespace crmsync::config {
namespace {

TEST(edit_distance, levenshtein) {
    EXPECT_EQ(edit_distance("", ""), 0u);
    EXPECT_EQ(edit_distance("abc", ""), 3u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
    EXPECT_EQ(edit_distance("level", "levl"), 1u);
    EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
}

TEST(closest, within_three_edits_only) {
    const std::array<std::string_view, 3> names{"sources", "destinations", "state"};
    EXPECT_EQ(closest("sourcs", names), "sources");
    EXPECT_EQ(closest("stat", names), "state");
    EXPECT_EQ(closest("zzzzzzzz", names), std::nullopt);
}

TEST(api_names, soql_safe) {
    EXPECT_TRUE(is_api_name("Email"));
    EXPECT_TRUE(is_api_name("City_A__c"));
    EXPECT_FALSE(is_api_name("_x"));
    EXPECT_FALSE(is_api_name("First Name"));
    EXPECT_FALSE(is_api_name(""));
    EXPECT_TRUE(is_field_path("Account.Owner.Name"));
    EXPECT_FALSE(is_field_path("Account."));
    EXPECT_FALSE(is_field_path(".Name"));
    EXPECT_FALSE(is_field_path("Id, (SELECT Id FROM Contacts)"));
}

struct scalar_case {
    const char* yaml;
    value expected;
};

TEST(scalar_value, plain_scalars_are_typed_quoted_ones_are_strings) {
    for (const auto& c : std::initializer_list<scalar_case>{
             {"v: 42", value::number("42")},
             {"v: -1.5e3", value::number("-1.5e3")},
             {"v: 007", value::string("007")},  // not a JSON number
             {"v: +1", value::string("+1")},
             {"v: 0x1F", value::string("0x1F")},
             {"v: true", value::boolean(true)},
             {"v: FALSE", value::boolean(false)},
             {"v: yes", value::string("yes")},  // YAML 1.2: not a boolean
             {"v: ~", value::null()},
             {"v: null", value::null()},
             {"v:", value::null()},
             {"v: \"42\"", value::string("42")},
             {"v: 'true'", value::string("true")},
             {"v: Monsieur", value::string("Monsieur")},
             {"v: \"\"", value::string("")},
         }) {
        const YAML::Node doc = YAML::Load(c.yaml);
        EXPECT_EQ(scalar_value(doc["v"]), c.expected) << c.yaml;
    }
}

TEST(map_view, reports_non_map_unknown_and_duplicate_keys) {
    diagnostics d;
    reader r("f.yaml", d);
    const std::array<std::string_view, 2> allowed{"level", "format"};
    const YAML::Node doc = YAML::Load("log:\n  levl: info\n  format: json\n  format: text\n");
    map_view m(r, doc["log"], "log", allowed);
    EXPECT_TRUE(m.is_map());
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d.items()[0].to_string(),
              "f.yaml:2:3: unknown key 'levl' in 'log'; did you mean 'level'? expected one of: "
              "level, format");
    EXPECT_EQ(d.items()[1].to_string(),
              "f.yaml:4:3: duplicate key 'format'; first at line 3, column 3");
    EXPECT_EQ(m.string("format"), "json");  // the first one counts
    EXPECT_EQ(m.find("level"), nullptr);

    const YAML::Node list = YAML::Load("log: [1, 2]");
    map_view l(r, list["log"], "log", allowed);
    EXPECT_FALSE(l.is_map());
    EXPECT_EQ(d.items().back().to_string(), "f.yaml:1:6: 'log' must be a map, not a list");
}

TEST(map_view, typed_reads) {
    diagnostics d;
    reader r("f.yaml", d);
    const std::array<std::string_view, 6> allowed{"s", "n", "b", "empty", "req", "d"};
    const YAML::Node doc = YAML::Load("s: [x]\nn: 12x\nb: maybe\nempty:\nd: 10\n");
    map_view m(r, doc, "", allowed);
    EXPECT_EQ(m.string("s"), std::nullopt);
    EXPECT_EQ(m.integer("n", 1, 100), std::nullopt);
    EXPECT_EQ(m.boolean("b"), std::nullopt);
    EXPECT_EQ(m.string("empty"), std::nullopt);  // null reads as absent...
    EXPECT_EQ(m.require("empty"), nullptr);      // ...and as missing when required
    EXPECT_EQ(m.require("req"), nullptr);
    EXPECT_EQ(m.duration_value("d"), std::nullopt);
    std::vector<std::string> got;
    for (const auto& x : d.sorted())
        got.push_back(x.to_string());
    EXPECT_EQ(got,
              (std::vector<std::string>{
                  "f.yaml:1:1: missing required key 'req'",
                  "f.yaml:1:4: 's' must be a string, not a list",
                  "f.yaml:2:4: 'n' must be an integer from 1 to 100, not '12x'",
                  "f.yaml:3:4: 'b' must be true or false",
                  "f.yaml:4:1: missing required key 'empty'",
                  "f.yaml:5:4: invalid duration '10': a number needs a unit, e.g. '10s' (units: "
                  "h, m, s, ms)",
              }));
}

}  // namespace
}  // namespace crmsync::config
