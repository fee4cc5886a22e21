#include "crmsync/sink/diff.hpp"

#include <gtest/gtest.h>

namespace crmsync::sink {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

TEST(diff, same_value_follows_what_the_destination_stores) {
    struct row {
        json a, b;
        bool same;
    };
    for (const auto& r : std::initializer_list<row>{
             {nullptr, nullptr, true},
             {nullptr, "", true},  // both "no value"
             {"", nullptr, true},
             {nullptr, "x", false},
             {"x", nullptr, false},
             {"Lyon", "Lyon", true},
             {"Lyon", "lyon", false},  // text compares exactly
             {12, 12.0, true},
             {"12", 12, true},
             {"12.0", 12, true},
             {"12.5", 12, false},
             {"twelve", 12, false},
             {true, "true", true},
             {false, "FALSE", true},
             {true, false, false},
             {true, 1, false},
             {"2013-05-20T20:49:32.000+0000", "2013-05-20T20:49:32Z", true},
             {"2013-05-20T22:49:32+02:00", "2013-05-20T20:49:32Z", true},
             {"2013-05-20T20:49:33Z", "2013-05-20T20:49:32Z", false},
             {"2013-05-20", "2013-05-20T00:00:00Z", false},  // a date is not a datetime
             {"2013-05-20", "2013-05-20", true},
             {json::array({1}), json::array({1}), true},
         }) {
        EXPECT_EQ(same_value(r.a, r.b), r.same) << r.a << " vs " << r.b;
        EXPECT_EQ(same_value(r.b, r.a), r.same) << r.b << " vs " << r.a << " (swapped)";
    }
}

TEST(diff, lists_changed_fields_in_payload_order_and_finds_names_case_insensitively) {
    ojson sent = ojson::object();
    sent["sfdcContactId"] = "003A";
    sent["email"] = "anne@example.com";
    sent["city"] = "Paris";
    sent["leadScore"] = 12;
    sent["title"] = nullptr;
    sent["phone"] = "+33123456789";
    const json stored = {{"id", 7},
                         {"sfdcContactId", "003A"},
                         {"email", "anne@example.com"},
                         {"City", "Lyon"},
                         {"leadScore", 12.0},
                         {"title", "CEO"}};
    const auto changes = diff_record(sent, stored);
    ASSERT_EQ(changes.size(), 3u);
    EXPECT_EQ(changes[0].field, "city");
    EXPECT_EQ(changes[0].from, "Lyon");
    EXPECT_EQ(changes[0].to, "Paris");
    EXPECT_EQ(changes[1].field, "title");  // null clears it
    EXPECT_EQ(changes[1].from, "CEO");
    EXPECT_EQ(changes[1].to, nullptr);
    EXPECT_EQ(changes[2].field, "phone");  // the record has none yet
    EXPECT_EQ(changes[2].from, nullptr);
    EXPECT_EQ(changes[2].to, "+33123456789");
}

TEST(diff, an_identical_record_has_no_change) {
    ojson sent = ojson::object();
    sent["email"] = "a@example.com";
    sent["note"] = "";
    EXPECT_TRUE(diff_record(sent, json{{"email", "a@example.com"}, {"note", nullptr}}).empty());
    EXPECT_TRUE(diff_record(ojson::object(), json::object()).empty());
}

}  // namespace
}  // namespace crmsync::sink
