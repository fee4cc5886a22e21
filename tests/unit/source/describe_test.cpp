#include "crmsync/source/salesforce/describe.hpp"

#include <gtest/gtest.h>

namespace crmsync::source::salesforce {
namespace {

// The official example's shape (api-reference §1.5 [SF-DOME-DESCRIBE]) with the field
// properties of [JSFORCE-SOAP-SCHEMA] that drift checks read.
constexpr const char* contact_describe = R"({
  "name": "Contact", "label": "Contact", "keyPrefix": "003", "custom": false,
  "fields": [
    {"length": 18, "name": "Id", "type": "id", "defaultValue": {"value": null},
     "updateable": false, "label": "Contact ID", "nillable": false, "picklistValues": [],
     "referenceTo": [], "relationshipName": null},
    {"length": 18, "name": "AccountId", "type": "reference", "nillable": true,
     "referenceTo": ["Account"], "relationshipName": "Account", "picklistValues": []},
    {"length": 40, "name": "Salutation", "type": "picklist", "restrictedPicklist": false,
     "picklistValues": [
       {"active": true, "defaultValue": false, "label": "Mr.", "validFor": null, "value": "Mr."},
       {"active": false, "defaultValue": false, "label": "Sir", "validFor": null, "value": "Sir"},
       {"active": true, "defaultValue": false, "label": "Ms.", "validFor": null, "value": "Ms."}]},
    {"length": 0, "name": "Lead_Score__c", "type": "double", "custom": true}
  ]})";

TEST(describe, reads_names_types_lengths_picklists_and_relationships) {
    const auto d = parse_describe(contact_describe);
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_EQ(d->name, "Contact");
    EXPECT_FALSE(d->custom);
    ASSERT_EQ(d->fields.size(), 4u);
    EXPECT_EQ(d->fields[0].type, "id");
    EXPECT_EQ(d->fields[0].length, 18u);
    EXPECT_FALSE(d->fields[0].nillable);
    const auto* sal = d->find("salutation");  // SOQL names are case-insensitive
    ASSERT_NE(sal, nullptr);
    EXPECT_EQ(sal->picklist, (std::vector<std::string>{"Mr.", "Ms."})) << "inactive values dropped";
    const auto* acc = d->find_relationship("account");
    ASSERT_NE(acc, nullptr);
    EXPECT_EQ(acc->name, "AccountId");
    EXPECT_EQ(acc->reference_to, std::vector<std::string>{"Account"});
    EXPECT_EQ(d->find("Nope"), nullptr);
    EXPECT_EQ(d->find_relationship("Salutation"), nullptr) << "only reference fields";
}

TEST(describe, malformed_bodies_are_bad_responses_with_context) {
    for (const char* body : {"not json",
                             "[]",
                             R"({"fields": []})",
                             R"({"name": "Contact"})",
                             R"({"name": "Contact", "fields": [1]})",
                             R"({"name": "Contact", "fields": [{"name": "Id"}]})"}) {
        const auto d = parse_describe(body);
        ASSERT_FALSE(d) << body;
        EXPECT_EQ(d.error().code, errc::bad_response) << body;
        EXPECT_NE(d.error().message().find("describe response"), std::string::npos);
    }
}

}  // namespace
}  // namespace crmsync::source::salesforce
