#include "crmsync/sink/marketo/describe.hpp"

#include "api_fixture.hpp"
#include <gtest/gtest.h>

namespace crmsync::sink::marketo {
namespace {

std::string fixture(const std::string& name) {
    return testing::api_fixture("marketo", name);
}

TEST(marketo_describe, documented_lead_describe_gives_rest_names_types_and_lengths) {
    const auto s = parse_lead_describe(fixture("describe_leads_response.json"));
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->object, "lead");
    ASSERT_EQ(s->fields.size(), 1u);
    const auto& f = s->fields[0];
    EXPECT_EQ(f.name, "company") << "the REST name, not the SOAP name 'Company'";
    EXPECT_EQ(f.type, "string");
    EXPECT_EQ(f.length, 255u);
    EXPECT_FALSE(f.read_only);
    EXPECT_FALSE(f.required);
    EXPECT_TRUE(s->id_field.empty()) << "the sample describes no id field";
}

TEST(marketo_describe, soap_only_fields_are_left_out_and_read_only_is_the_rest_flag) {
    const auto s = parse_lead_describe(R"({"requestId":"1#2","success":true,"result":[
        {"id":1,"displayName":"Id","dataType":"integer","rest":{"name":"id","readOnly":true},
         "soap":{"name":"Id","readOnly":true}},
        {"id":2,"displayName":"Legacy","dataType":"string","length":80,
         "soap":{"name":"Legacy","readOnly":false}},
        {"id":3,"displayName":"Score","dataType":"score","length":0,
         "rest":{"name":"leadScore","readOnly":false}},
        {"id":4,"displayName":"Email","dataType":"email","length":255,
         "rest":{"name":"email"}}]})");
    ASSERT_TRUE(s) << s.error().message();
    ASSERT_EQ(s->fields.size(), 3u);
    EXPECT_EQ(s->fields[0].name, "id");
    EXPECT_TRUE(s->fields[0].read_only);
    EXPECT_EQ(s->id_field, "id");
    EXPECT_EQ(s->find("Legacy"), nullptr);
    EXPECT_EQ(s->fields[1].name, "leadScore");
    EXPECT_FALSE(s->fields[1].length) << "a zero length means none";
    EXPECT_FALSE(s->fields[2].read_only) << "readOnly absent: writable";
}

TEST(marketo_describe, response_level_errors_keep_their_code) {
    const auto s = parse_lead_describe(fixture("error_response_601.json"));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, errc::token_expired);
    EXPECT_EQ(s.error().vendor_code, "601");
}

TEST(marketo_describe, malformed_lead_describes_are_bad_response) {
    for (const char* b : {
             "",
             "[]",
             R"({"success":true})",                         // no fields at all
             R"({"success":true,"result":{}})",             // result not an array
             R"({"success":true,"result":[1]})",            // field not an object
             R"({"success":true,"result":[{"rest":{}}]})",  // rest without a name
             R"({"success":true,"result":[{"rest":{"name":7}}]})",
         }) {
        const auto s = parse_lead_describe(b);
        ASSERT_FALSE(s) << b;
        EXPECT_EQ(s.error().code, errc::bad_response) << b;
    }
}

TEST(marketo_describe, describe2_searchable_fields_are_the_lookup_fields) {
    const auto k = parse_lead_search_fields(fixture("describe2_leads_response_rudder_mock.json"));
    ASSERT_TRUE(k) << k.error().message();
    EXPECT_EQ(*k, std::vector<std::string>{"email"});

    const auto compound = parse_lead_search_fields(
        R"({"success":true,"result":[{"name":"API Lead",
            "searchableFields":[["email"],["sfdcContactId"],["firstName","lastName"]],
            "fields":[]}]})");
    ASSERT_TRUE(compound);
    EXPECT_EQ(*compound, (std::vector<std::string>{"email", "sfdcContactId"}));

    for (const char* b : {R"({"success":true,"result":[]})",
                          R"({"success":true,"result":[{"name":"API Lead"}]})"}) {
        const auto bad = parse_lead_search_fields(b);
        ASSERT_FALSE(bad) << b;
        EXPECT_EQ(bad.error().code, errc::bad_response) << b;
    }
}

TEST(marketo_describe, documented_custom_object_describe) {
    const auto s = parse_custom_object_describe(fixture("customobject_describe_response.json"));
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->object, "Car");
    EXPECT_EQ(s->id_field, "marketoGUID");
    EXPECT_EQ(s->key_fields, std::vector<std::string>{"vin"});
    ASSERT_EQ(s->links.size(), 1u);
    EXPECT_EQ(s->links[0].field, "siebelId");
    EXPECT_EQ(s->links[0].object, "Lead") << "this sample spells relatedTo as `object`";
    EXPECT_EQ(s->links[0].object_field, "siebelId");
    ASSERT_EQ(s->fields.size(), 9u);
    const auto* vin = s->find("vin");
    ASSERT_NE(vin, nullptr);
    EXPECT_EQ(vin->length, 36u);
    EXPECT_FALSE(vin->read_only) << "a dedupe field is not updateable, yet every sync sends it";
    EXPECT_FALSE(s->find("marketoGUID")->read_only) << "the idField addresses idField syncs";
    EXPECT_TRUE(s->find("createdAt")->read_only);
    EXPECT_FALSE(s->find("createdAt")->length);
    EXPECT_FALSE(s->find("make")->read_only);
    EXPECT_EQ(s->find("year")->type, "integer");
    EXPECT_EQ(s->find("color")->type, "String") << "the destination's own spelling is kept";
}

TEST(marketo_describe, custom_object_relationships_spelled_related_to) {
    const auto s = parse_custom_object_describe(R"({"success":true,"result":[{
        "name":"license_c","idField":"marketoGUID","dedupeFields":["licenseId","seat"],
        "relationships":[{"field":"contactId","type":"parent",
                          "relatedTo":{"name":"Lead","field":"sfdcContactId"}}],
        "fields":[{"name":"licenseId","dataType":"string","length":18,"updateable":false},
                  {"name":"seat","dataType":"integer","updateable":false},
                  {"name":"contactId","dataType":"string","length":18,"updateable":true}]}]})");
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->key_fields, (std::vector<std::string>{"licenseId", "seat"}));
    ASSERT_EQ(s->links.size(), 1u);
    EXPECT_EQ(s->links[0].object, "Lead");
    EXPECT_EQ(s->links[0].object_field, "sfdcContactId");
    EXPECT_FALSE(s->find("seat")->read_only);
}

TEST(marketo_describe, malformed_custom_object_describes_are_bad_response) {
    for (const char* b : {
             R"({"success":true,"result":[]})",
             R"({"success":true,"result":[{"name":"x"}]})",                // no fields
             R"({"success":true,"result":[{"name":"x","fields":[{}]}]})",  // nameless field
             R"({"success":true,"result":[{"name":"x","dedupeFields":"vin",
                 "fields":[{"name":"vin"}]}]})",
             R"({"success":true,"result":[{"name":"x","dedupeFields":[1],
                 "fields":[{"name":"vin"}]}]})",
         }) {
        const auto s = parse_custom_object_describe(b);
        ASSERT_FALSE(s) << b;
        EXPECT_EQ(s.error().code, errc::bad_response) << b;
    }
    const auto unknown = parse_custom_object_describe(
        R"({"requestId":"1#1","success":false,"errors":[{"code":"610","message":"Requested resource not found"}]})");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, errc::request_rejected);
    EXPECT_EQ(unknown.error().vendor_code, "610");
}

}  // namespace
}  // namespace crmsync::sink::marketo
