#include "crmsync/sink/marketo/encode.hpp"
#include "crmsync/sink/marketo/result_codes.hpp"
#include "crmsync/sink/marketo/sink.hpp"

#include "api_fixture.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>

namespace crmsync::sink::marketo {
namespace {

using json = nlohmann::json;

std::string fixture(const std::string& name) {
    return testing::api_fixture("marketo", name);
}

TEST(marketo_encode, sync_leads_body_has_the_documented_shape) {
    const std::vector<std::string> fields{
        "email", "firstName", "leadScore", "unsubscribed", "city", "sfdcContactId"};
    const std::vector<payload> batch{
        payload{{value::string("a@example.com"),
                 value::string("Zoë \"Z\" \\ O'Brien\n"),
                 value::number("12.5"),
                 value::boolean(false),
                 value::null(),
                 value::string("003A")}},
        payload{{value::string("b@example.com"),
                 value::string("\x01"),
                 value::number("7"),
                 value::boolean(true),
                 value::string("Paris"),
                 value::string("003B")}},
    };
    const auto body = encode_sync_leads(
        {.action = "createOrUpdate", .lookup_field = "sfdcContactId", .partition = ""},
        fields,
        batch);
    const auto j = json::parse(body);  // must be valid JSON
    EXPECT_EQ(j["action"], "createOrUpdate");
    EXPECT_EQ(j["lookupField"], "sfdcContactId");
    EXPECT_FALSE(j.contains("partitionName"));
    ASSERT_EQ(j["input"].size(), 2u);
    EXPECT_EQ(j["input"][0]["firstName"], "Zoë \"Z\" \\ O'Brien\n");
    EXPECT_EQ(j["input"][0]["leadScore"], 12.5);
    EXPECT_EQ(j["input"][0]["unsubscribed"], false);
    EXPECT_TRUE(j["input"][0]["city"].is_null());
    EXPECT_EQ(j["input"][1]["firstName"], "\x01");
    EXPECT_EQ(j["input"][1]["leadScore"], 7);

    const auto with_partition = json::parse(
        encode_sync_leads({.action = "createOnly", .lookup_field = "email", .partition = "EMEA"},
                          fields,
                          std::span(batch).first(1)));
    EXPECT_EQ(with_partition["partitionName"], "EMEA");
}

TEST(marketo_encode, only_the_actions_that_address_records_by_key_are_idempotent) {
    EXPECT_TRUE(sync_action_is_idempotent("createOrUpdate"));
    EXPECT_TRUE(sync_action_is_idempotent("updateOnly"));
    EXPECT_FALSE(sync_action_is_idempotent("createOnly"));       // a repeat is skipped, 1005
    EXPECT_FALSE(sync_action_is_idempotent("createDuplicate"));  // a repeat makes a second lead
    EXPECT_FALSE(sync_action_is_idempotent(""));
}

TEST(marketo_encode, strings_are_escaped_byte_for_byte) {
    // The exact bytes, not only a round trip: escapes of quotes, backslashes and control
    // characters, everything else (UTF-8 included) as it is.
    const payload p{{value::string("Zoë \"Z\" \\ O'Brien\n\t\r\x01\x1f/"), value::string("")}};
    EXPECT_EQ(encode_record({"a", "b"}, p),
              R"({"a":"Zoë \"Z\" \\ O'Brien\n\t\r\u0001\u001f/","b":""})");
}

TEST(marketo_encode, escapes_are_found_at_every_position) {
    // The encoder skips eight safe bytes at a time: each character that needs an escape, at
    // every offset of a long string, must still be escaped.
    const std::vector<std::pair<char, std::string>> specials = {{'"', "\\\""},
                                                                {'\\', "\\\\"},
                                                                {'\n', "\\n"},
                                                                {'\r', "\\r"},
                                                                {'\t', "\\t"},
                                                                {'\x01', "\\u0001"},
                                                                {'\x1f', "\\u001f"},
                                                                {'\0', "\\u0000"}};
    for (const auto& [c, escaped] : specials) {
        for (std::size_t at = 0; at < 24; ++at) {
            std::string text = "abcdefghijkl\xc3\xa9mnopqrstuv";  // 23 bytes, one é
            text.insert(at, 1, c);
            std::string want = text.substr(0, at) + escaped + text.substr(at + 1);
            EXPECT_EQ(encode_record({"f"}, payload{{value::string(text)}}),
                      "{\"f\":\"" + want + "\"}")
                << "offset " << at;
        }
    }
}

TEST(marketo_decode, documented_responses) {
    auto created = decode_sync_response(fixture("sync_leads_response_created.json"), 3);
    ASSERT_TRUE(created) << created.error().message();
    ASSERT_EQ(created->size(), 3u);
    for (const auto& o : *created)
        EXPECT_TRUE(std::get<delivered>(o).created);
    // A result count that does not match the input is a broken response, not a partial success.
    EXPECT_EQ(decode_sync_response(fixture("sync_leads_response_created.json"), 1).error().code,
              errc::bad_response);

    const auto skipped_body = fixture("sync_leads_response_record_level_skipped_1005.json");
    const auto n = json::parse(skipped_body)["result"].size();
    auto skipped = decode_sync_response(skipped_body, n);
    ASSERT_TRUE(skipped) << skipped.error().message();
    bool saw_1005 = false;
    for (const auto& o : *skipped) {
        if (const auto* r = std::get_if<rejected>(&o); r && r->code == "1005") {
            saw_1005 = true;
            EXPECT_EQ(r->category, category::duplicate);
            EXPECT_FALSE(r->message.empty());
        }
    }
    EXPECT_TRUE(saw_1005);

    auto expired = decode_sync_response(fixture("error_response_601.json"), 1);
    ASSERT_FALSE(expired);
    EXPECT_EQ(expired.error().code, errc::token_expired);
    EXPECT_EQ(expired.error().vendor_code, "601");
    auto numeric = decode_sync_response(fixture("error_response_601_rudder_mock.json"), 1);
    ASSERT_FALSE(numeric);
    EXPECT_EQ(numeric.error().code, errc::token_expired);
}

TEST(marketo_decode, per_record_statuses_and_both_reason_shapes) {
    const auto out = decode_sync_response(R"({"requestId":"1#2","success":true,"result":[
        {"id":50,"status":"created"},{"id":51,"status":"updated"},
        {"status":"skipped","reasons":[{"code":"1007","message":"Multiple lead match lookup criteria"}]},
        {"status":"skipped","reason":{"code":1004,"message":"Lead not found"}}]})",
                                          4);
    ASSERT_TRUE(out);
    EXPECT_TRUE(std::get<delivered>((*out)[0]).created);
    EXPECT_FALSE(std::get<delivered>((*out)[1]).created);
    EXPECT_EQ(std::get<rejected>((*out)[2]).category, category::duplicate);
    EXPECT_EQ(std::get<rejected>((*out)[2]).code, "1007");
    EXPECT_EQ(std::get<rejected>((*out)[3]).category, category::not_found);
    EXPECT_EQ(std::get<rejected>((*out)[3]).code, "1004");
}

TEST(marketo_decode, malformed_bodies_are_bad_response) {
    for (const char* b :
         {"",
          "{",
          "[]",
          R"({"result":[]})",
          R"({"success":true})",
          R"({"success":true,"result":[{"id":1,"status":"created"}]})",  // count mismatch
          R"({"success":true,"result":[{"status":"exploded"},{"status":"created"}]})"}) {
        const auto r = decode_sync_response(b, 2);
        ASSERT_FALSE(r) << b;
        EXPECT_EQ(r.error().code, errc::bad_response) << b;
    }
}

TEST(marketo_encode, custom_object_sync_body_has_the_documented_shape) {
    // The documented request (api-fixtures customobject_sync_request.json), rebuilt.
    const auto expected = json::parse(fixture("customobject_sync_request.json"));
    const std::vector<std::string> fields{"vin", "siebelId", "make", "model", "year"};
    std::vector<payload> batch;
    for (const auto& r : expected["input"]) {
        batch.push_back(payload{{value::string(r["vin"]),
                                 value::string(r["siebelId"]),
                                 value::string(r["make"]),
                                 value::string(r["model"]),
                                 value::number(std::to_string(r["year"].get<int>()))}});
    }
    const auto body = json::parse(encode_sync_custom_objects(
        {.action = "updateOnly", .dedupe_by = "dedupeFields"}, fields, batch));
    EXPECT_EQ(body, expected);
}

TEST(marketo_decode, custom_object_results_follow_seq) {
    auto documented =
        decode_sync_response(fixture("customobject_sync_response.json"), 3, "customobjects");
    ASSERT_TRUE(documented) << documented.error().message();
    EXPECT_FALSE(std::get<delivered>((*documented)[0]).created);
    EXPECT_TRUE(std::get<delivered>((*documented)[1]).created);
    EXPECT_EQ(std::get<rejected>((*documented)[2]).code, "1004");
    EXPECT_EQ(std::get<rejected>((*documented)[2]).category, category::not_found);

    // Out of order: seq, the input index, decides where each result belongs.
    auto shuffled = decode_sync_response(R"({"success":true,"result":[
        {"seq":2,"status":"created","marketoGUID":"c"},
        {"seq":0,"status":"skipped","reasons":[{"code":"1017","message":"Object already exists"}]},
        {"seq":1,"status":"updated","marketoGUID":"b"}]})",
                                         3,
                                         "customobjects");
    ASSERT_TRUE(shuffled) << shuffled.error().message();
    EXPECT_EQ(std::get<rejected>((*shuffled)[0]).code, "1017");
    EXPECT_EQ(std::get<rejected>((*shuffled)[0]).category, category::duplicate);
    EXPECT_FALSE(std::get<delivered>((*shuffled)[1]).created);
    EXPECT_TRUE(std::get<delivered>((*shuffled)[2]).created);

    for (
        const char* b : {
            R"({"success":true,"result":[{"seq":0,"status":"created"},{"seq":0,"status":"created"}]})",
            R"({"success":true,"result":[{"seq":2,"status":"created"},{"seq":0,"status":"created"}]})",
            R"({"success":true,"result":[{"seq":-1,"status":"created"},{"seq":0,"status":"created"}]})",
            R"({"success":true,"result":[{"seq":1,"status":"created"},{"status":"created"}]})",
        }) {
        const auto r = decode_sync_response(b, 2, "customobjects");
        ASSERT_FALSE(r) << b;
        EXPECT_EQ(r.error().code, errc::bad_response) << b;
    }
}

// decode_sync_response reads the common answer with simdjson and leaves everything else to
// reference_sync_response (nlohmann): both must give the same outcomes, or the same error with
// the same code, vendor code and message, for every body.
void expect_same_decoding(std::string_view body,
                          std::size_t expected,
                          std::string_view what = "leads.json") {
    const auto fast = decode_sync_response(body, expected, what);
    const auto reference = reference_sync_response(body, expected, what);
    ASSERT_EQ(fast.has_value(), reference.has_value()) << body;
    if (!fast) {
        EXPECT_EQ(fast.error().code, reference.error().code) << body;
        EXPECT_EQ(fast.error().vendor_code, reference.error().vendor_code) << body;
        EXPECT_EQ(fast.error().message(), reference.error().message()) << body;
        return;
    }
    ASSERT_EQ(fast->size(), reference->size()) << body;
    for (std::size_t i = 0; i < fast->size(); ++i) {
        const auto& a = (*fast)[i];
        const auto& b = (*reference)[i];
        ASSERT_EQ(a.index(), b.index()) << body << " result " << i;
        if (const auto* d = std::get_if<delivered>(&a)) {
            EXPECT_EQ(d->created, std::get<delivered>(b).created) << body << " result " << i;
        } else {
            const auto& x = std::get<rejected>(a);
            const auto& y = std::get<rejected>(b);
            EXPECT_EQ(x.category, y.category) << body;
            EXPECT_EQ(x.code, y.code) << body;
            EXPECT_EQ(x.message, y.message) << body;
        }
    }
}

TEST(marketo_decode, fast_path_decodes_as_the_reference_does) {
    for (const char* name : {"sync_leads_response_created.json",
                             "sync_leads_response_record_level_skipped_1005.json",
                             "error_response_601.json",
                             "error_response_601_rudder_mock.json",
                             "customobject_sync_response.json"}) {
        for (std::size_t n = 0; n <= 4; ++n) {
            expect_same_decoding(fixture(name), n);
            expect_same_decoding(fixture(name), n, "customobjects/car_c.json");
        }
    }
    const char* bodies[] = {
        R"({"success":true,"result":[{"id":1,"status":"created"},{"id":2,"status":"updated"}]})",
        R"( {"success" : true , "result" : [ {"status":"updated","id":1} , {"status":"created"} ] } )",
        R"({"result":[{"status":"created"},{"status":"created"}],"success":true})",
        R"({"success":false,"result":[{"status":"created"},{"status":"created"}]})",
        R"({"success":true,"success":false,"result":[{"status":"created"},{"status":"created"}]})",
        R"({"success":false,"success":true,"result":[{"status":"created"},{"status":"created"}]})",
        R"({"success":true,"result":[{"status":"created"}],"result":[{"status":"updated"},{"status":"updated"}]})",
        R"({"success":true,"result":[{"status":"created","status":"updated"},{"status":"updated","status":"created"}]})",
        R"({"success":true,"result":[{"status":"created"},{"status":"Created"}]})",
        R"({"success":true,"result":[{"status":"created"},{"status":1}]})",
        R"({"success":true,"result":[{"status":"created"},"created"]})",
        R"({"success":true,"result":[{"status":"created"},{"status":"skipped","reasons":[{"code":"1004","message":"Lead not found"}]}]})",
        R"({"success":true,"result":[{"seq":1,"status":"created"},{"seq":0,"status":"updated"}]})",
        R"({"success":true,"result":[{"id":1e400,"status":"created"},{"status":"created"}]})",
        R"({"success":true,"result":[{"id":18446744073709551616,"status":"created"},{"status":"created"}]})",
        R"({"success":true,"result":[{"status":"created"},{"status":"created"}]} trailing)",
        R"({"success":true,"result":[{"status":"created"},{"status":"created"}],})",
        R"({"success":true,"result":[{"status":"cr\u0065ated"},{"status":"upd\u0061ted"}]})",
        R"({"success":true,"result":[{"status":"created","x":"\ud800"},{"status":"created"}]})",
        R"({"success":"true","result":[{"status":"created"},{"status":"created"}]})",
        R"({"success":true,"result":{"status":"created"}})",
        R"({"success":true,"errors":[{"code":"606"}],"result":[{"status":"created"},{"status":"created"}]})",
        R"([{"success":true,"result":[{"status":"created"},{"status":"created"}]}])",
        "{\"success\":true,\"result\":[{\"status\":\"created\",\"x\":\"\xff\"},{\"status\":"
        "\"created\"}]}",
        "{\"success\":true,\"result\":[{\"status\":\"created\",\"x\":\"\xc0\xaf\"},{\"status\":"
        "\"created\"}]}",
        "{\"success\":true,\"result\":[{\"status\":\"created\",\"x\":\"a\x01\"},{\"status\":"
        "\"created\"}]}",
    };
    for (const char* b : bodies) {
        expect_same_decoding(b, 2);
        expect_same_decoding(b, 2, "customobjects/car_c.json");
    }
}

// Random answers (statuses, member order, duplicate and extra members, whitespace), then random
// byte edits of them: wherever simdjson accepts a body, it must read what nlohmann reads.
TEST(marketo_decode, fast_path_matches_the_reference_on_fuzzed_bodies) {
    std::mt19937 rng(20261201);
    auto pick = [&](std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    };
    const char* statuses[] = {"created", "updated", "skipped", "created", "updated", "deleted", ""};
    const char* spaces[] = {"", " ", "\n", "\t ", "\r\n"};
    const char* extras[] = {R"("id":42)",
                            R"("id":-1.5e3)",
                            R"("seq":0)",
                            R"("reasons":[{"code":"1004","message":"Lead not found"}])",
                            R"("reason":{"code":1007,"message":"Multiple"})",
                            R"("status":"updated")",
                            R"("marketoGUID":"abc\"\\\u00e9")",
                            R"("x":null)",
                            R"("x":[true,false,{}])"};
    const std::string alphabet = "{}[]\",:tfn0123456789.e-\\ us";
    std::size_t accepted = 0;
    for (int iteration = 0; iteration < 4000; ++iteration) {
        const std::size_t n = pick(4);
        auto ws = [&] { return std::string(spaces[pick(std::size(spaces))]); };
        std::string body = "{" + ws() + R"("requestId":"1#2",)" + ws();
        const bool ok = pick(8) != 0;
        body += std::string(R"("success":)") + (ok ? "true" : "false") + "," + ws();
        if (!ok)
            body += R"("errors":[{"code":"606","message":"Max rate limit"}],)";
        body += R"("result":[)";
        for (std::size_t i = 0; i < n; ++i) {
            if (i)
                body += "," + ws();
            body += "{";
            const bool status_first = pick(2) == 0;
            std::string status =
                std::string(R"("status":")") + statuses[pick(std::size(statuses))] + "\"";
            std::vector<std::string> members;
            if (pick(10) != 0)
                members.push_back(status);
            for (std::size_t e = pick(3); e > 0; --e)
                members.push_back(extras[pick(std::size(extras))]);
            if (!status_first && !members.empty())
                std::rotate(members.begin(), members.begin() + 1, members.end());
            for (std::size_t m = 0; m < members.size(); ++m)
                body += (m ? "," + ws() : ws()) + members[m];
            body += ws() + "}";
        }
        body += "]" + ws() + "}" + ws();
        const std::size_t expected = pick(5) == 0 ? pick(4) : n;
        expect_same_decoding(body, expected);
        expect_same_decoding(body, expected, "customobjects/car_c.json");
        if (decode_sync_response(body, expected))
            ++accepted;
        for (int edit = 0; edit < 3; ++edit) {
            std::string mutated = body;
            const std::size_t at = mutated.empty() ? 0 : pick(mutated.size());
            switch (pick(3)) {
                case 0:
                    mutated.insert(at, 1, alphabet[pick(alphabet.size())]);
                    break;
                case 1:
                    if (!mutated.empty())
                        mutated.erase(at, 1);
                    break;
                default:
                    if (!mutated.empty())
                        mutated[at] = alphabet[pick(alphabet.size())];
            }
            expect_same_decoding(mutated, expected);
            if (HasFatalFailure())
                return;
        }
        if (HasFatalFailure())
            return;
    }
    EXPECT_GT(accepted, 1000u);  // the generator reaches the success path, not only errors
}

TEST(marketo_codes, response_level_table) {
    struct row {
        const char* code;
        errc e;
        http::disposition d;
    };
    const row rows[] = {
        {"601", errc::token_expired, http::disposition::refresh_token},
        {"602", errc::token_expired, http::disposition::refresh_token},
        {"606", errc::rate_limited, http::disposition::retry},
        {"615", errc::rate_limited, http::disposition::retry},
        {"604", errc::transient, http::disposition::retry},
        {"608", errc::transient, http::disposition::retry},
        {"611", errc::transient, http::disposition::retry},
        {"713", errc::transient, http::disposition::retry},
        {"607", errc::quota_exhausted, http::disposition::fail},
        {"603", errc::request_rejected, http::disposition::fail},
        {"609", errc::request_rejected, http::disposition::fail},
        {"610", errc::request_rejected, http::disposition::fail},
        {"612", errc::request_rejected, http::disposition::fail},
    };
    for (const auto& r : rows) {
        EXPECT_EQ(classify_response_code(r.code), r.e) << r.code;
        EXPECT_EQ(classify(make_failure(r.e)), r.d) << r.code;
    }
}

TEST(marketo_codes, http_level_answers_from_the_edge) {
    struct row {
        unsigned status;
        const char* retry_after;
        errc e;
        http::disposition d;
    };
    const row rows[] = {
        {429, "7", errc::rate_limited, http::disposition::retry},
        {503, "", errc::transient, http::disposition::retry},
        {502, "", errc::transient, http::disposition::retry},
        {408, "", errc::transient, http::disposition::retry},
        {413, "", errc::request_rejected, http::disposition::fail},
        {414, "", errc::request_rejected, http::disposition::fail},
    };
    for (const auto& r : rows) {
        http::response res;
        res.status = r.status;
        if (*r.retry_after)
            res.headers.emplace_back("Retry-After", r.retry_after);
        const failure f = http_failure(res, "leads.json");
        EXPECT_EQ(f.code, r.e) << r.status;
        EXPECT_EQ(f.http_status, r.status);
        EXPECT_EQ(classify(f), r.d) << r.status;
        EXPECT_EQ(f.message(), "leads.json: http " + std::to_string(r.status));
        if (*r.retry_after) {
            EXPECT_EQ(f.retry_after, std::chrono::seconds(7));
        } else {
            EXPECT_EQ(f.retry_after, std::nullopt);
        }
    }
}

// One row per record-level code of [MK-ERR] (api-reference §2.2), as a marketing-ops admin
// would file it: the key matched several persons or the record exists → duplicate; a value,
// field or parameter the request got wrong → validation; a partition, CRM or feature the API
// user may not touch → access; the person or object is not there → not_found; the rest → other.
TEST(marketo_codes, record_level_table) {
    struct row {
        const char* code;
        category cat;
        bool capacity;
    };
    const row rows[] = {
        {"1001", category::validation, false}, {"1002", category::validation, false},
        {"1003", category::validation, false}, {"1004", category::not_found, false},
        {"1005", category::duplicate, false},  {"1006", category::validation, false},
        {"1007", category::duplicate, false},  {"1008", category::access, false},
        {"1009", category::validation, false}, {"1010", category::access, false},
        {"1011", category::validation, false}, {"1012", category::validation, false},
        {"1013", category::not_found, false},  {"1014", category::other, false},
        {"1015", category::not_found, false},  {"1016", category::other, true},
        {"1017", category::duplicate, false},  {"1018", category::access, false},
        {"1019", category::other, true},       {"1020", category::other, false},
        {"1021", category::validation, false}, {"1022", category::other, false},
        {"1025", category::not_found, false},  {"1026", category::access, false},
        {"1027", category::other, false},      {"1028", category::other, false},
        {"1029", category::other, true},       {"1035", category::validation, false},
        {"1036", category::duplicate, false},  {"1037", category::other, false},
        {"1042", category::validation, false}, {"1048", category::other, false},
        {"1049", category::validation, false}, {"1076", category::other, false},
        {"1077", category::other, false},      {"1078", category::other, false},
        {"1079", category::other, false},      {"9999", category::other, false},
        {"", category::other, false},
    };
    for (const auto& r : rows) {
        EXPECT_EQ(classify_reason_code(r.code), r.cat) << r.code;
        EXPECT_EQ(reason_is_capacity(r.code), r.capacity) << r.code;
    }
}

TEST(marketo_codes, a_capacity_code_retries_the_batch_instead_of_rejecting_the_record) {
    const auto r = decode_sync_response(
        R"({"success":true,"result":[{"id":1,"status":"created"},)"
        R"({"status":"skipped","reasons":[{"code":"1029","message":"Too many jobs in queue"}]}]})",
        2);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::transient);
    EXPECT_EQ(r.error().vendor_code, "1029");
    EXPECT_EQ(classify(r.error()), http::disposition::retry);
}

}  // namespace
}  // namespace crmsync::sink::marketo
