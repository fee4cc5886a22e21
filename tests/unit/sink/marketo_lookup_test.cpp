// Reading persons back from Marketo (lookup.hpp): the query targets, the parsing of the
// documented answer, and the whole lookup against the fake (batches, pages, retries).

#include "crmsync/sink/marketo/lookup.hpp"
#include "crmsync/sink/marketo/sink.hpp"

#include "api_fixture.hpp"
#include "marketo_fixture.hpp"
#include "run_coroutine.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <set>

namespace crmsync::sink::marketo {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

std::vector<std::string> ids(std::size_t n, std::size_t width = 18) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        std::string id = fmt::format("003{:0>{}}", i, width - 3);
        out.push_back(std::move(id));
    }
    return out;
}

TEST(marketo_lookup, queries_carry_filter_type_fields_and_comma_joined_values) {
    const std::vector<std::string> values{"a@example.com", "b@example.com"};
    const std::vector<std::string> fields{"email", "firstName"};
    EXPECT_EQ(
        filter_queries(leads_path, "email", values, fields),
        std::vector<std::string>{"/rest/v1/leads.json?filterType=email&fields=email%2CfirstName"
                                 "&filterValues=a%40example.com%2Cb%40example.com"});
    EXPECT_EQ(filter_queries(leads_path, "email", values, {}),
              std::vector<std::string>{"/rest/v1/leads.json?filterType=email"
                                       "&filterValues=a%40example.com%2Cb%40example.com"});
    EXPECT_TRUE(filter_queries(leads_path, "email", {}, fields).empty());
    EXPECT_EQ(custom_object_path("car_c"), "/rest/v1/customobjects/car_c.json");
}

TEST(marketo_lookup, queries_hold_at_most_300_values_and_stay_under_the_uri_limit) {
    const auto many = ids(700);
    auto q = filter_queries(leads_path, "sfdcContactId", many, {});
    ASSERT_EQ(q.size(), 3u);  // 300 + 300 + 100: 18-character ids fit the byte limit
    std::size_t seen = 0;
    for (const auto& target : q) {
        EXPECT_LE(target.size(), max_query_bytes);
        const auto values = target.substr(target.find("filterValues=") + 13);
        std::size_t n = 1, at = 0;
        while ((at = values.find("%2C", at)) != std::string::npos)
            ++n, at += 3;
        EXPECT_LE(n, max_filter_values);
        seen += n;
    }
    EXPECT_EQ(seen, 700u);

    // Long values (emails of 100 characters): the byte limit cuts batches short.
    std::vector<std::string> emails;
    for (int i = 0; i < 300; ++i)
        emails.push_back(fmt::format("{}{:03}@example.com", std::string(85, 'x'), i));
    q = filter_queries(leads_path, "email", emails, {});
    EXPECT_GT(q.size(), 1u);
    for (const auto& target : q)
        EXPECT_LE(target.size(), max_query_bytes);
    // One value longer than the limit still gets its own query rather than being dropped.
    const std::vector<std::string> huge{std::string(8000, 'h')};
    EXPECT_EQ(filter_queries(leads_path, "email", huge, {}).size(), 1u);
}

TEST(marketo_lookup, parses_the_documented_answer) {
    const auto page = parse_record_page(
        testing::api_fixture("marketo", "get_leads_by_filter_response.json"), "leads.json");
    ASSERT_TRUE(page) << page.error().message();
    ASSERT_EQ(page->records.size(), 2u);
    EXPECT_EQ(page->records[0]["id"], 318581);
    EXPECT_EQ(page->records[1]["email"], "george@usa.gov");
    EXPECT_TRUE(page->next_page_token.empty());

    const auto more = parse_record_page(
        R"({"requestId":"1","success":true,"moreResult":true,"nextPageToken":"PT==","result":[{"id":1}]})",
        "leads.json");
    ASSERT_TRUE(more);
    EXPECT_EQ(more->next_page_token, "PT==");
    // No match: success with no result (and a warning) [MK-ERR].
    const auto none = parse_record_page(R"({"requestId":"1","success":true,"warnings":[]})", "x");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->records.empty());
}

TEST(marketo_lookup, a_refusal_or_a_malformed_answer_is_a_failure) {
    const auto refused = parse_record_page(
        R"({"requestId":"1","success":false,"errors":[{"code":"1003","message":"Too many results match the filter"}]})",
        "leads.json");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().vendor_code, "1003");
    for (const char* bad : {"",
                            "[]",
                            "not json",
                            R"({"success":true,"result":[1]})",
                            R"({"success":true,"result":{}})"}) {
        const auto r = parse_record_page(bad, "leads.json");
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, errc::bad_response) << bad;
    }
}

class marketo_lookup_fake : public testing::marketo_fixture {
protected:
    result<std::vector<json>> find(std::string filter_type,
                                   std::vector<std::string> values,
                                   std::vector<std::string> fields) {
        result<std::vector<json>> out = make_failure(errc::cancelled, "not run");
        testing::run_coroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            http::client client(ex);
            session s(client, destination());
            out = co_await find_by_filter(s,
                                          retry(),
                                          std::string(leads_path),
                                          std::move(filter_type),
                                          std::move(values),
                                          std::move(fields));
        });
        return out;
    }
};

TEST_F(marketo_lookup_fake, finds_every_person_across_batches_with_the_fields_asked) {
    const auto keys = ids(450);
    for (std::size_t i = 0; i < keys.size(); i += 2)  // every other key has a person
        mk.add_person({{"sfdcContactId", keys[i]}, {"city", fmt::format("City{}", i)}});
    const auto found = find("sfdcContactId", keys, {"sfdcContactId", "city"});
    ASSERT_TRUE(found) << found.error().message();
    ASSERT_EQ(found->size(), 225u);
    std::set<std::string> got;
    for (const auto& p : *found) {
        EXPECT_TRUE(p.contains("id"));
        EXPECT_EQ(p.size(), 3u) << p;  // id + the two fields asked for
        got.insert(p["sfdcContactId"].get<std::string>());
    }
    EXPECT_EQ(got.size(), 225u);
    EXPECT_EQ(mk.calls_today(), 3);  // stats/usage, then 300 + 150 values
}

TEST_F(marketo_lookup_fake, follows_next_page_tokens) {
    // 350 persons share one key (duplicates): more than one page of 300 for one value.
    for (int i = 0; i < 350; ++i)
        mk.add_person({{"sfdcContactId", "003DUP"}, {"email", fmt::format("d{}@example.com", i)}});
    const auto found = find("sfdcContactId", {"003DUP"}, {"email"});
    ASSERT_TRUE(found) << found.error().message();
    EXPECT_EQ(found->size(), 350u);
    EXPECT_EQ(mk.calls_today(), 3);  // stats/usage, then two pages
}

TEST_F(marketo_lookup_fake, transient_failures_are_retried_and_refusals_are_not) {
    mk.add_person({{"sfdcContactId", "003A"}});
    mk.fail_next("/rest/v1/leads.json", {fakes::fault_spec::vendor("606")});
    auto found = find("sfdcContactId", {"003A"}, {});
    ASSERT_TRUE(found) << found.error().message();
    EXPECT_EQ(found->size(), 1u);

    found = find("firstName", {"A"}, {});  // not searchable: 1011
    ASSERT_FALSE(found);
    EXPECT_EQ(found.error().vendor_code, "1011");
    EXPECT_NE(found.error().message().find("marketo mkto"), std::string::npos)
        << found.error().message();
}

}  // namespace
}  // namespace crmsync::sink::marketo
