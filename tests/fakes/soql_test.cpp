#include "soql.hpp"

#include <gtest/gtest.h>

namespace crmsync::fakes::soql {
namespace {

TEST(soql_parse, select_from_where_order_limit) {
    const auto q = parse(
        "select Id, Account.Name, SystemModstamp from Contact "
        "where SystemModstamp >= 2024-01-01T00:00:00Z and Email != null "
        "order by SystemModstamp, Id desc nulls last limit 10 offset 5");
    ASSERT_EQ(q.fields.size(), 3u);
    EXPECT_EQ(q.fields[1].parts, (std::vector<std::string>{"Account", "Name"}));
    EXPECT_EQ(q.object, "Contact");
    ASSERT_TRUE(q.where);
    EXPECT_EQ(q.where->what, expr::kind::all_of);
    ASSERT_EQ(q.where->children.size(), 2u);
    const auto& first = q.where->children[0];
    EXPECT_EQ(first.oper, op::ge);
    EXPECT_EQ(first.values[0].kind, literal::type::datetime);
    EXPECT_EQ(timestamp{first.values[0].at}.to_soql_literal(), "2024-01-01T00:00:00Z");
    EXPECT_EQ(q.where->children[1].oper, op::ne);
    EXPECT_EQ(q.where->children[1].values[0].kind, literal::type::null);
    ASSERT_EQ(q.order_by.size(), 2u);
    EXPECT_FALSE(q.order_by[0].descending);
    EXPECT_TRUE(q.order_by[1].descending);
    EXPECT_TRUE(q.order_by[1].nulls_last);
    EXPECT_EQ(q.limit, 10);
    EXPECT_EQ(q.offset, 5);
}

TEST(soql_parse, literals) {
    const auto q = parse(
        "SELECT Id FROM Lead WHERE (Name = 'O\\'Brien \\\\ x' OR Score__c > -1.5) "
        "AND NOT Status IN ('a', 'b') AND Birthdate < 1990-05-01 "
        "AND CreatedDate > 2024-01-01T10:00:00+02:00 AND IsConverted = TRUE");
    ASSERT_TRUE(q.where);
    const auto& all = q.where->children;
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[0].what, expr::kind::any_of);
    EXPECT_EQ(all[0].children[0].values[0].text, "O'Brien \\ x");
    EXPECT_DOUBLE_EQ(all[0].children[1].values[0].number, -1.5);
    EXPECT_EQ(all[1].what, expr::kind::negate);
    EXPECT_EQ(all[1].children[0].oper, op::in);
    EXPECT_EQ(all[1].children[0].values.size(), 2u);
    EXPECT_EQ(all[2].values[0].kind, literal::type::date);
    EXPECT_EQ(all[3].values[0].kind, literal::type::datetime);
    EXPECT_EQ(timestamp{all[3].values[0].at}.to_soql_literal(), "2024-01-01T08:00:00Z");
    EXPECT_TRUE(all[4].values[0].boolean);
}

TEST(soql_parse, count_and_not_in_and_like) {
    const auto q = parse(
        "SELECT COUNT() FROM Contact WHERE Email LIKE '%@example.com' "
        "AND Id NOT IN ('003000000000001')");
    EXPECT_TRUE(q.count_only);
    EXPECT_EQ(q.where->children[0].oper, op::like);
    EXPECT_EQ(q.where->children[1].oper, op::not_in);
}

void expect_malformed(const std::string& text) {
    try {
        parse(text);
        ADD_FAILURE() << "parsed: " << text;
    } catch (const query_error& e) {
        EXPECT_EQ(e.code(), "MALFORMED_QUERY") << text;
        EXPECT_NE(std::string(e.what()).find("ERROR at Row:1:Column:"), std::string::npos);
    }
}

TEST(soql_parse, malformed_queries) {
    expect_malformed("");
    expect_malformed("SELEC Id FROM Contact");
    expect_malformed("SELECT FROM Contact");
    expect_malformed("SELECT Id, FROM Contact");
    expect_malformed("SELECT Id FROM Contact WHERE");
    expect_malformed("SELECT Id FROM Contact WHERE Name = 'unterminated");
    expect_malformed("SELECT Id FROM Contact WHERE a = 1 AND b = 2 OR c = 3");  // needs parens
    expect_malformed("SELECT Id FROM Contact WHERE CreatedDate > 2024-01-01T10:00:00");  // no zone
    expect_malformed("SELECT Id FROM Contact WHERE Name = :bind");
    expect_malformed("SELECT Id FROM Contact LIMIT x");
    expect_malformed("SELECT Id FROM Contact ORDER Id");
    expect_malformed("SELECT Id FROM Contact extra");
}

TEST(soql_parse, error_message_points_at_the_token) {
    try {
        parse("SELECT Id FROM Contact WHERE Name = 'x' AND Title = 'y' OR Email = 'z'");
        FAIL();
    } catch (const query_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "\nSELECT Id FROM Contact WHERE Name = 'x' AND Title = 'y' OR Email = 'z'\n" +
                      std::string(56, ' ') + "^\nERROR at Row:1:Column:57\nunexpected token: 'OR'");
    }
}

}  // namespace
}  // namespace crmsync::fakes::soql
