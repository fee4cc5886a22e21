#include "crmsync/source/salesforce/bulk.hpp"

#include "api_fixture.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace crmsync::source::salesforce {
namespace {

using cells = std::vector<std::optional<std::string>>;

std::string fixture(const std::string& name) {
    return testing::api_fixture("salesforce", name);
}

TEST(bulk, the_documented_creation_answer_and_result_set) {
    const auto job = parse_bulk_job(fixture("bulk2_query_job_create_response.json"));
    ASSERT_TRUE(job) << job.error().message();
    EXPECT_EQ(job->id, "7986gEXAMPLE4X2OPT");
    EXPECT_EQ(job->state, "UploadComplete");
    const auto t = parse_csv(fixture("bulk2_query_results.csv"), ',', "LF");
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(t->header, (std::vector<std::string>{"Id", "Name"}));
    ASSERT_EQ(t->rows.size(), 3u);
    EXPECT_EQ(t->rows[2], (cells{"005R0000000GiwoIAC", "Pat Wilson"}));
}

TEST(bulk, job_request_asks_for_csv_with_an_explicit_delimiter_and_line_ending) {
    const auto j = nlohmann::json::parse(bulk_job_request("SELECT Id FROM Contact", true));
    EXPECT_EQ(j["operation"], "queryAll");
    EXPECT_EQ(j["query"], "SELECT Id FROM Contact");
    EXPECT_EQ(j["contentType"], "CSV");
    EXPECT_EQ(j["columnDelimiter"], "COMMA");
    EXPECT_EQ(j["lineEnding"], "LF");
    EXPECT_EQ(nlohmann::json::parse(bulk_job_request("q", false))["operation"], "query");
}

TEST(bulk, job_info_as_the_walkthrough_shows_it) {
    // api-reference §1.10 [SF-BULK2-WALK][SF-BULK2-JOBINFO].
    const auto j = parse_bulk_job(
        R"({"id":"750R0000000zlh9IAA","operation":"query","object":"Account",)"
        R"("createdById":"005R0000000GiwjIAC","createdDate":"2018-12-10T17:50:19.000+0000",)"
        R"("systemModstamp":"2018-12-10T17:51:27.000+0000","state":"JobComplete",)"
        R"("concurrencyMode":"Parallel","contentType":"CSV","apiVersion":58.0,)"
        R"("jobType":"V2Query","lineEnding":"CRLF","columnDelimiter":"PIPE",)"
        R"("numberRecordsProcessed":500,"retries":0,"totalProcessingTime":334})");
    ASSERT_TRUE(j) << j.error().message();
    EXPECT_EQ(j->id, "750R0000000zlh9IAA");
    EXPECT_EQ(j->state, "JobComplete");
    EXPECT_EQ(j->line_ending, "CRLF");
    EXPECT_EQ(j->column_delimiter, "PIPE");
    EXPECT_EQ(j->records_processed, 500);
    const auto failed = parse_bulk_job(R"({"id":"750x","state":"Failed","errorMessage":"boom"})");
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->error_message, "boom");
    EXPECT_EQ(failed->column_delimiter, "COMMA") << "Salesforce's default when absent";
    for (const char* bad : {"", "[]", "{}", R"({"id":"x"})", R"({"id":"","state":"Failed"})"})
        EXPECT_EQ(parse_bulk_job(bad).error().code, errc::bad_response) << bad;
}

TEST(bulk, every_documented_delimiter_and_nothing_else) {
    EXPECT_EQ(delimiter_char("COMMA"), ',');
    EXPECT_EQ(delimiter_char("BACKQUOTE"), '`');
    EXPECT_EQ(delimiter_char("CARET"), '^');
    EXPECT_EQ(delimiter_char("PIPE"), '|');
    EXPECT_EQ(delimiter_char("SEMICOLON"), ';');
    EXPECT_EQ(delimiter_char("TAB"), '\t');
    EXPECT_FALSE(delimiter_char("comma"));
}

TEST(bulk, csv_quoting_null_and_empty_as_salesforce_writes_them) {
    // The [SF-BULK2-RES] sample shape, plus a comma, a doubled quote and a line break inside
    // quotes, an empty cell (null) and a quoted empty cell (the empty string).
    const auto t = parse_csv(
        "\"Id\",\"Name\",\"Title\"\n"
        "\"005R0000000UyrWIAS\",\"Jane Dunn\",\n"
        "\"005R0000000GiwjIAC\",\"Dunn, \"\"JD\"\"\nJr.\",\"\"\n",
        ',',
        "LF");
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(t->header, (std::vector<std::string>{"Id", "Name", "Title"}));
    ASSERT_EQ(t->rows.size(), 2u);
    EXPECT_EQ(t->rows[0], (cells{"005R0000000UyrWIAS", "Jane Dunn", std::nullopt}));
    EXPECT_EQ(t->rows[1], (cells{"005R0000000GiwjIAC", "Dunn, \"JD\"\nJr.", ""}));
}

TEST(bulk, csv_with_the_jobs_delimiter_and_crlf_and_no_final_line_ending) {
    const auto t = parse_csv("\"Id\"|\"N\"\r\n\"a\"|\"x|y\"\r\n\"b\"|", '|', "CRLF");
    ASSERT_TRUE(t) << t.error().message();
    ASSERT_EQ(t->rows.size(), 2u);
    EXPECT_EQ(t->rows[0], (cells{"a", "x|y"}));
    EXPECT_EQ(t->rows[1], (cells{"b", std::nullopt}));
    // With LF endings a CR is data: the line "a\r" is one cell.
    const auto lf = parse_csv("Id\na\r\n", ',', "LF");
    ASSERT_TRUE(lf);
    EXPECT_EQ(lf->rows[0], (cells{"a\r"}));
}

TEST(bulk, malformed_csv_is_an_error_with_the_row) {
    for (const auto* bad : {"\"Id\"\n\"unterminated\n",
                            "\"Id\",\"N\"\n\"a\"\n",
                            "\"Id\"\nab\"c\n",
                            "\"Id\"\n\"a\"x\n",
                            ""}) {
        const auto t = parse_csv(bad, ',', "LF");
        ASSERT_FALSE(t) << bad;
        EXPECT_EQ(t.error().code, errc::bad_response) << bad;
    }
    EXPECT_NE(parse_csv("\"Id\",\"N\"\n\"a\"\n", ',', "LF").error().message().find("row 2"),
              std::string::npos);
}

TEST(bulk, records_are_typed_as_rest_json_types_them) {
    const auto t = parse_csv(
        "\"Id\",\"SystemModstamp\",\"Email\",\"Score__c\",\"Active__c\",\"Seen__c\","
        "\"Account.Name\",\"IsDeleted\"\n"
        "\"003A\",\"2026-11-23T10:00:00.000Z\",\"a@x.com\",\"42.5\",\"true\","
        "\"2026-11-23T09:00:01.000Z\",\"Acme\",\"false\"\n"
        "\"003B\",\"2026-11-23T10:00:02.000Z\",,,\"false\",,,\"true\"\n",
        ',',
        "LF");
    ASSERT_TRUE(t) << t.error().message();
    const std::vector<std::string> columns{
        "Email", "Score__c", "Active__c", "Seen__c", "Account.Name"};
    const std::vector<cell_kind> kinds{cell_kind::text,
                                       cell_kind::number,
                                       cell_kind::boolean,
                                       cell_kind::datetime,
                                       cell_kind::text};
    const auto r = records_from_csv(*t, columns, kinds);
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->size(), 2u);
    const auto& a = (*r)[0];
    EXPECT_EQ(a.id, "003A");
    EXPECT_EQ(a.system_modstamp, *timestamp::parse("2026-11-23T10:00:00Z"));
    EXPECT_FALSE(a.is_deleted);
    EXPECT_EQ(a.columns,
              (std::vector<value>{value::string("a@x.com"),
                                  value::number("42.5"),
                                  value::boolean(true),
                                  value::string("2026-11-23T09:00:01.000+0000"),
                                  value::string("Acme")}));
    const auto& b = (*r)[1];
    EXPECT_TRUE(b.is_deleted);
    EXPECT_EQ(
        b.columns,
        (std::vector<value>{
            value::null(), value::null(), value::boolean(false), value::null(), value::null()}));
}

TEST(bulk, records_need_their_columns_an_id_and_a_modstamp) {
    const auto t = parse_csv("\"Id\",\"SystemModstamp\"\n\"003A\",\"soon\"\n", ',', "LF");
    ASSERT_TRUE(t);
    EXPECT_EQ(records_from_csv(*t, {}, {}).error().code, errc::bad_response);
    EXPECT_EQ(records_from_csv(*t, {"Email"}, {cell_kind::text}).error().code, errc::bad_response);
    const auto no_stamp = parse_csv("\"Id\"\n\"003A\"\n", ',', "LF");
    EXPECT_EQ(records_from_csv(*no_stamp, {}, {}).error().code, errc::bad_response);
    const auto no_id =
        parse_csv("\"Id\",\"SystemModstamp\"\n,\"2026-11-23T10:00:00.000Z\"\n", ',', "LF");
    EXPECT_EQ(records_from_csv(*no_id, {}, {}).error().code, errc::bad_response);
}

TEST(bulk, describe_types_to_cell_kinds) {
    EXPECT_EQ(cell_kind_of("boolean"), cell_kind::boolean);
    for (const char* n : {"int", "double", "currency", "percent", "long"})
        EXPECT_EQ(cell_kind_of(n), cell_kind::number) << n;
    EXPECT_EQ(cell_kind_of("datetime"), cell_kind::datetime);
    for (const char* n : {"string", "id", "reference", "date", "picklist", "email", "textarea"})
        EXPECT_EQ(cell_kind_of(n), cell_kind::text) << n;
}

}  // namespace
}  // namespace crmsync::source::salesforce
