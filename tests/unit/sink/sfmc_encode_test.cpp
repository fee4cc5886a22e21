#include "crmsync/sink/sfmc/auth.hpp"
#include "crmsync/sink/sfmc/describe.hpp"
#include "crmsync/sink/sfmc/encode.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace crmsync::sink::sfmc {
namespace {

using json = nlohmann::json;

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
std::string fixture(const std::string& name) {
    return read(std::string(CRMSYNC_FIXTURES) + "/sfmc/" + name);
}
std::string test_data(const std::string& name) {
    return read(std::string(CRMSYNC_TEST_DATA) + "/sfmc/" + name);
}

// The layout of api-fixtures/sfmc/rowset_upsert_request.json: Email is the primary key.
const row_layout fixture_layout{
    {"Email", "LastLogin", "IsActive", "FirstName", "FollowerCount", "LastName"},
    {true, false, false, false, false, false}};

payload row(std::string email, std::string first) {
    return payload{{value::string(std::move(email)),
                    value::string("2013-05-23T14:32:00Z"),
                    value::boolean(true),
                    value::string(std::move(first)),
                    value::number("2"),
                    value::string("Smith")}};
}

TEST(sfmc_encode, rowset_body_matches_the_documented_request) {
    const std::vector<payload> batch{row("someone@exacttarget.com", "John"),
                                     row("someone2@exacttarget.com", "Jane")};
    const json body = json::parse(encode_rowset(fixture_layout, batch));
    EXPECT_EQ(body, json::parse(fixture("rowset_upsert_request.json")));
}

TEST(sfmc_encode, async_body_matches_the_documented_request) {
    const row_layout l{{"FirstName", "LastName", "ZipCode"}, {false, false, true}};
    const std::vector<payload> batch{
        payload{{value::string("Bobby"), value::string("Jones"), value::string("23456")}}};
    EXPECT_EQ(json::parse(encode_async_upsert(l, batch)),
              json::parse(fixture("async_upsert_request.json")));
}

TEST(sfmc_encode, values_keep_their_types_nulls_and_escapes) {
    const row_layout l{{"ContactId", "Note", "Score", "City"}, {true, false, false, false}};
    const payload p{{value::string("003000000000001AAA"),
                     value::string("Zoë \"Z\" \\ \n\x01"),
                     value::number("12.50"),
                     value::null()}};
    const std::string text = encode_rowset_row(l, p);
    EXPECT_EQ(text,
              "{\"keys\":{\"ContactId\":\"003000000000001AAA\"},\"values\":{\"Note\":\"Zoë "
              "\\\"Z\\\" \\\\ \\n\\u0001\",\"Score\":12.50,\"City\":null}}");
    EXPECT_TRUE(json::accept(text));
}

TEST(sfmc_encode, a_rowset_reply_must_be_json) {
    EXPECT_TRUE(decode_rowset_response(R"([{"keys":{"Email":"a@b.c"},"values":{}}])"));
    const auto bad = decode_rowset_response("[{\"keys\":");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, make_error_code(errc::bad_response));
}

TEST(sfmc_encode, async_accepted_status_and_results_decode_from_the_fixtures) {
    const auto id = decode_async_accepted(
        R"({"requestId":"b7c1f98b-6648-4aae-8a73-7ba218b7e932","resultMessages":[]})");
    ASSERT_TRUE(id);
    EXPECT_EQ(*id, "b7c1f98b-6648-4aae-8a73-7ba218b7e932");
    EXPECT_FALSE(decode_async_accepted(R"({"resultMessages":[]})"));

    const auto s = decode_async_status(fixture("async_status_response_complete.json"));
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->request, async_status::state::complete);
    EXPECT_FALSE(s->has_errors);
    EXPECT_EQ(s->result_status, "OK");

    const auto completed =
        decode_async_status(R"({"status":{"requestStatus":"Completed","hasErrors":true}})");
    ASSERT_TRUE(completed);
    EXPECT_EQ(completed->request, async_status::state::complete);
    EXPECT_TRUE(completed->has_errors);
    const auto pending =
        decode_async_status(R"({"status":{"requestStatus":"Pending","hasErrors":false}})");
    ASSERT_TRUE(pending);
    EXPECT_EQ(pending->request, async_status::state::pending);
    const auto err = decode_async_status(
        R"({"requestId":"x","resultMessages":[{"resultMessage":{"resultType":"Error"}}]})");
    ASSERT_TRUE(err);
    EXPECT_EQ(err->request, async_status::state::error);
    EXPECT_FALSE(decode_async_status(R"({"status":{"requestStatus":"Exploded"}})"));
    EXPECT_FALSE(decode_async_status("not json"));

    const auto r = decode_async_results(fixture("async_results_response_errors.json"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->page, 1);
    EXPECT_EQ(r->page_size, 50);
    EXPECT_EQ(r->count, 2);
    ASSERT_EQ(r->items.size(), 2u);
    EXPECT_FALSE(r->items[0].ok);
    EXPECT_EQ(r->items[0].error_code, "UnexpectedError");
    EXPECT_NE(r->items[0].message.find("(12345_pk)"), std::string::npos);
    EXPECT_EQ(classify_item_error(r->items[0]), category::duplicate);
    EXPECT_EQ(classify_item_error({false, "UnexpectedError", "Conversion failed"}),
              category::other);
    EXPECT_FALSE(decode_async_results(R"({"page":1,"items":[]})"));

    // A failed item without errorCode or message still carries a reason into the error log.
    const auto bare =
        decode_async_results(R"({"page":1,"pageSize":50,"count":1,"items":[{"status":"Error"}]})");
    ASSERT_TRUE(bare) << bare.error().message();
    ASSERT_EQ(bare->items.size(), 1u);
    EXPECT_FALSE(bare->items[0].ok);
    EXPECT_FALSE(bare->items[0].message.empty());
}

TEST(sfmc_auth, token_request_matches_the_fixture_shape) {
    config::destination d;
    d.client_id = "Your Client Id";
    d.client_secret = secret("Your Client Secret");
    d.account_id = "5100001234";
    const json body = json::parse(encode_token_request(d));
    json expected = json::parse(fixture("token_request.json"));
    expected["account_id"] = 5100001234;  // "optional number: MID" [SFMC-TOKEN]
    EXPECT_EQ(body, expected);
    d.account_id.clear();
    EXPECT_FALSE(json::parse(encode_token_request(d)).contains("account_id"));
}

TEST(sfmc_auth, token_response_decodes_from_the_fixture) {
    const auto g = decode_token_response(200, fixture("token_response_sfmc_devtools_test.json"));
    ASSERT_TRUE(g) << g.error().message();
    EXPECT_EQ(g->expires_in, std::chrono::seconds(1079));
    EXPECT_EQ(g->rest_base, "https://mct0l7nxfq2r988t1kxfy8sc4xxx.rest.marketingcloudapis.com");
    EXPECT_EQ(g->soap_base, "https://mct0l7nxfq2r988t1kxfy8sc4xxx.soap.marketingcloudapis.com");
    EXPECT_EQ(g->access_token.substr(0, 10), "eyJhbGciOi");
}

TEST(sfmc_auth, refused_and_broken_token_replies) {
    const auto refused = decode_token_response(
        401, fixture("token_error_invalid_client_401_sfmc_devtools_test.json"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, make_error_code(errc::auth_rejected));
    EXPECT_EQ(refused.error().vendor_code, "invalid_client");
    EXPECT_NE(refused.error().detail.find("Client authentication failed"), std::string::npos);
    EXPECT_EQ(decode_token_response(503, "<html/>").error().code, make_error_code(errc::transient));
    EXPECT_EQ(decode_token_response(200, "{\"access_token\":").error().code,
              make_error_code(errc::bad_response));
    EXPECT_EQ(decode_token_response(200, R"({"access_token":"t","expires_in":1079})").error().code,
              make_error_code(errc::bad_response));  // no rest_instance_url
    // The token is sent to rest_instance_url: plain http to a remote host is refused.
    EXPECT_EQ(
        decode_token_response(
            200,
            R"({"access_token":"t","expires_in":1079,"rest_instance_url":"http://evil.example.com/"})")
            .error()
            .code,
        make_error_code(errc::invalid_url));
}

// Found by tests/fuzz/sfmc_token and sfmc_rows: json::value(key, "") threw type_error on a
// member that is not a string; a garbled reply must be a failure, not an exception.
TEST(sfmc_auth, non_string_members_in_replies_are_failures_not_exceptions) {
    result<token_grant> refused = make_failure(errc::cancelled, "unset");
    ASSERT_NO_THROW(refused = decode_token_response(401, R"({"error":1,"message":[2]})"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, make_error_code(errc::auth_rejected));
    EXPECT_TRUE(refused.error().vendor_code.empty());

    result<async_status> status = make_failure(errc::cancelled, "unset");
    ASSERT_NO_THROW(status = decode_async_status(R"({"status":{"requestStatus":1}})"));
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().code, make_error_code(errc::bad_response));
    ASSERT_NO_THROW(status = decode_async_status(
                        R"({"status":{"requestStatus":"Complete","resultStatus":7}})"));
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->result_status.empty());

    result<async_results_page> page = make_failure(errc::cancelled, "unset");
    ASSERT_NO_THROW(page = decode_async_results(
                        R"({"page":1,"pageSize":50,"count":1,"items":[{"status":false}]})"));
    ASSERT_TRUE(page);
    ASSERT_EQ(page->items.size(), 1u);
    EXPECT_TRUE(page->items[0].ok);
}

TEST(sfmc_describe, retrieve_envelope_carries_the_token_and_the_escaped_key) {
    const std::string env = encode_field_retrieve("tok<en>", "DE&1");
    EXPECT_NE(env.find(R"(<fueloauth xmlns="http://exacttarget.com">tok&lt;en&gt;</fueloauth>)"),
              std::string::npos);
    EXPECT_NE(env.find("<ObjectType>DataExtensionField</ObjectType>"), std::string::npos);
    EXPECT_NE(env.find("<Property>DataExtension.CustomerKey</Property>"), std::string::npos);
    EXPECT_NE(env.find("<Value>DE&amp;1</Value>"), std::string::npos);
    EXPECT_EQ(env.find("ContinueRequest"), std::string::npos);
    EXPECT_NE(
        encode_field_retrieve("t", "k", "req-1").find("<ContinueRequest>req-1</ContinueRequest>"),
        std::string::npos);
    // The round trip: what we send parses as XML, and our own decoder sees a non-response.
    EXPECT_EQ(decode_field_retrieve(200, env).error().code, make_error_code(errc::bad_response));
}

TEST(sfmc_describe, columns_come_in_ordinal_order_with_types_lengths_and_keys) {
    const auto p = decode_field_retrieve(200, test_data("retrieve_fields_response.xml"));
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_FALSE(p->more);
    ASSERT_EQ(p->fields.size(), 5u);
    EXPECT_EQ(p->key_fields, std::vector<std::string>{"ContactId"});
    const auto& id = p->fields[0];
    EXPECT_EQ(id.name, "ContactId");
    EXPECT_EQ(id.type, "Text");
    EXPECT_EQ(id.length, 18u);
    EXPECT_TRUE(id.required);
    EXPECT_EQ(p->fields[1].name, "Email");
    EXPECT_EQ(p->fields[1].type, "EmailAddress");
    EXPECT_EQ(p->fields[1].length, 254u);
    EXPECT_FALSE(p->fields[1].required);
    EXPECT_EQ(p->fields[2].name, "FirstName");
    EXPECT_TRUE(p->fields[2].required);
    EXPECT_EQ(p->fields[3].name, "BirthDate");
    EXPECT_FALSE(p->fields[3].length);  // Date: no MaxLength
    EXPECT_EQ(p->fields[4].name, "Score");
    EXPECT_EQ(p->fields[4].type, "Decimal");
    EXPECT_FALSE(p->fields[4].length);  // a Decimal's MaxLength counts digits, not characters
}

TEST(sfmc_describe, more_data_available_gives_the_continue_id) {
    const auto p = decode_field_retrieve(200, test_data("retrieve_more_data_response.xml"));
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_TRUE(p->more);
    EXPECT_EQ(p->request_id, "a3e1a7f2-5b1c-4e8d-9c0f-77aa11bb22cc");
    ASSERT_EQ(p->fields.size(), 1u);

    // More data, but no id to ask for it by: an error, not a page that cannot continue.
    std::string no_id = test_data("retrieve_more_data_response.xml");
    const auto at = no_id.find("<RequestID>");
    ASSERT_NE(at, std::string::npos);
    no_id.erase(at, no_id.find("</RequestID>") + 12 - at);
    EXPECT_EQ(decode_field_retrieve(200, no_id).error().code, make_error_code(errc::bad_response));
}

TEST(sfmc_describe, faults_errors_and_garbage) {
    const auto expired = decode_field_retrieve(500, test_data("fault_token_expired.xml"));
    ASSERT_FALSE(expired);
    EXPECT_EQ(expired.error().code, make_error_code(errc::token_expired));
    EXPECT_EQ(decode_field_retrieve(500, test_data("fault_login_failed.xml")).error().code,
              make_error_code(errc::token_expired));
    std::string throttled = test_data("fault_token_expired.xml");
    throttled.replace(throttled.find("Token Expired"), 13, "Server is busy");
    EXPECT_EQ(decode_field_retrieve(500, throttled).error().code, make_error_code(errc::transient));
    std::string error_status = test_data("retrieve_more_data_response.xml");
    error_status.replace(error_status.find("MoreDataAvailable"), 17, "Error: Invalid Filter");
    const auto e = decode_field_retrieve(200, error_status);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, make_error_code(errc::request_rejected));
    EXPECT_NE(e.error().detail.find("Invalid Filter"), std::string::npos);
    EXPECT_EQ(decode_field_retrieve(200, "<soap:Envelope><unclosed>").error().code,
              make_error_code(errc::bad_response));
    EXPECT_EQ(decode_field_retrieve(502, "<html><body>Bad gateway</body></html>").error().code,
              make_error_code(errc::bad_response));
    EXPECT_EQ(decode_field_retrieve(200, "").error().code, make_error_code(errc::bad_response));
}

}  // namespace
}  // namespace crmsync::sink::sfmc
