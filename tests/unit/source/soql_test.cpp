#include "crmsync/source/salesforce/soql.hpp"

#include "crmsync/http/client.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace crmsync::source::salesforce {
namespace {

timestamp at(const char* s) {
    return *timestamp::parse(s);
}

TEST(soql, initial_load_reads_everything_before_the_settle_bound) {
    const auto q = changed_since({.object = "Contact",
                                  .columns = {"Email", "Id", "MailingCity"},
                                  .where = {},
                                  .from = std::nullopt,
                                  .before = at("2026-11-23T10:00:00Z")});
    ASSERT_TRUE(q);
    EXPECT_EQ(*q,
              "SELECT Id, SystemModstamp, Email, MailingCity FROM Contact WHERE SystemModstamp < "
              "2026-11-23T10:00:00Z ORDER BY SystemModstamp, Id");
}

TEST(soql, window_is_inclusive_below_exclusive_above_and_keeps_the_stream_condition) {
    const auto q = changed_since({.object = "Contact",
                                  .columns = {"Email", "Account.Name"},
                                  .where = "Email != null OR Phone != null",
                                  .from = at("2026-11-23T09:55:00.750Z"),
                                  .before = at("2026-11-23T10:00:00Z")});
    ASSERT_TRUE(q);
    EXPECT_EQ(*q,
              "SELECT Id, SystemModstamp, Email, Account.Name FROM Contact WHERE (Email != null OR "
              "Phone != "
              "null) AND SystemModstamp >= 2026-11-23T09:55:00Z AND SystemModstamp < "
              "2026-11-23T10:00:00Z "
              "ORDER BY SystemModstamp, Id");
}

TEST(soql, with_deleted_selects_is_deleted_once) {
    window_query w{.object = "Contact",
                   .columns = {"Email"},
                   .where = {},
                   .from = std::nullopt,
                   .before = at("2026-11-23T10:00:00Z")};
    w.with_deleted = true;
    EXPECT_EQ(*changed_since(w),
              "SELECT Id, SystemModstamp, Email, IsDeleted FROM Contact WHERE SystemModstamp < "
              "2026-11-23T10:00:00Z ORDER BY SystemModstamp, Id");
    // A mapping that reads IsDeleted itself does not get it twice.
    w.columns = {"isDeleted", "Email"};
    EXPECT_EQ(*changed_since(w),
              "SELECT Id, SystemModstamp, isDeleted, Email FROM Contact WHERE SystemModstamp < "
              "2026-11-23T10:00:00Z ORDER BY SystemModstamp, Id");
}

TEST(soql, a_limit_comes_after_the_order_and_must_be_positive) {
    window_query w{.object = "Contact",
                   .columns = {"Email"},
                   .where = "Email != null",
                   .from = std::nullopt,
                   .before = at("2026-11-23T10:00:00Z"),
                   .limit = 10};
    const auto q = changed_since(w);
    ASSERT_TRUE(q);
    EXPECT_EQ(*q,
              "SELECT Id, SystemModstamp, Email FROM Contact WHERE (Email != null) AND "
              "SystemModstamp < 2026-11-23T10:00:00Z ORDER BY SystemModstamp, Id LIMIT 10");
    w.limit = 0;
    const auto zero = changed_since(w);
    ASSERT_FALSE(zero);
    EXPECT_EQ(zero.error().code, errc::config_invalid);
}

TEST(soql, rejects_names_that_could_inject) {
    for (const char* bad :
         {"Email FROM User--", "Email,Name", "1Email", "", "Account..Name", "Name."}) {
        EXPECT_FALSE(is_field_name(bad)) << bad;
        EXPECT_FALSE(
            changed_since({.object = "Contact", .columns = {bad}, .before = at("2026-01-01")}))
            << bad;
    }
    EXPECT_FALSE(
        changed_since({.object = "Contact WHERE", .columns = {}, .before = at("2026-01-01")}));
    for (const char* good : {"Email", "City_A__c", "Account.Owner.Name", "ns__Field__c"}) {
        EXPECT_TRUE(is_field_name(good)) << good;
    }
}

// Found by tests/fuzz/soql_builder.cpp: a column named like a keyword built a query that
// Salesforce (and the fake's parser) cannot read. A relationship named Order is fine.
TEST(soql, refuses_reserved_words_as_field_names) {
    for (const char* bad : {"FROM", "where", "Order", "SELECT", "limit", "Null"}) {
        EXPECT_FALSE(is_field_name(bad)) << bad;
        const auto q =
            changed_since({.object = "Contact", .columns = {bad}, .before = at("2026-01-01")});
        ASSERT_FALSE(q) << bad;
        EXPECT_EQ(q.error().code, errc::config_invalid);
        EXPECT_FALSE(by_ids("Contact", {bad}, {"003000000000001AAA"})) << bad;
    }
    EXPECT_TRUE(is_field_name("Order.OrderNumber"));
    EXPECT_TRUE(is_field_name("FromAddress"));
}

TEST(soql, by_ids_chunked_keeps_each_encoded_query_within_the_limit) {
    std::vector<std::string> ids;
    for (int i = 0; i < 500; ++i)
        ids.push_back(fmt::format("003{:015d}", i));
    const std::vector<std::string> columns{"Email", "FirstName", "LastName"};
    const auto chunks = by_ids_chunked("Contact", columns, ids, true);
    ASSERT_TRUE(chunks) << chunks.error().message();
    ASSERT_GT(chunks->size(), 1u);
    std::size_t seen = 0;
    for (const auto& q : *chunks) {
        EXPECT_LE(http::url_encode(q).size(), max_encoded_query) << q;
        EXPECT_NE(q.find("SELECT Id, SystemModstamp, Email, FirstName, LastName, IsDeleted FROM "
                         "Contact WHERE Id IN ('"),
                  std::string::npos)
            << q;
        for (std::size_t at = q.find("'003"); at != std::string::npos; at = q.find("'003", at + 1))
            EXPECT_EQ(q.substr(at + 1, 18), ids[seen++]) << "every id once, in order";
    }
    EXPECT_EQ(seen, ids.size());
    // Few enough ids: one query, the same as by_ids.
    const auto one = by_ids_chunked("Contact", columns, {ids[0], ids[1]}, false);
    ASSERT_TRUE(one);
    ASSERT_EQ(one->size(), 1u);
    EXPECT_EQ(one->front(), *by_ids("Contact", columns, {ids[0], ids[1]}));
    // A limit smaller than one id still reads every id, one per query.
    const auto tiny = by_ids_chunked("Contact", columns, {ids[0], ids[1]}, false, 10);
    ASSERT_TRUE(tiny);
    EXPECT_EQ(tiny->size(), 2u);
    EXPECT_FALSE(by_ids_chunked("Contact", columns, {"not an id"}, false));
    EXPECT_TRUE(by_ids_chunked("Contact", columns, {}, false)->empty());
}

TEST(soql, by_ids_quotes_only_valid_ids) {
    const auto q = by_ids("Contact", {"Email"}, {"003000000000001AAA", "003000000000002"});
    ASSERT_TRUE(q);
    EXPECT_EQ(*q,
              "SELECT Id, SystemModstamp, Email FROM Contact WHERE Id IN ('003000000000001AAA', "
              "'003000000000002') ORDER BY SystemModstamp, Id");
    EXPECT_FALSE(by_ids("Contact", {"Email"}, {"x' OR Id != '"}));
    // Found by tests/fuzz/soql_builder.cpp: no id built `Id IN ()`, which is not SOQL.
    const auto none = by_ids("Contact", {"Email"}, {});
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, errc::config_invalid);
}

}  // namespace
}  // namespace crmsync::source::salesforce
