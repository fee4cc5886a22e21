#include "crmsync/daemon/schema_check.hpp"

#include "test_support.hpp"
#include <gtest/gtest.h>

namespace crmsync::daemon {
namespace {

using source::salesforce::field_describe;
using source::salesforce::object_describe;

const char* fields_yaml = R"(
fields:
  - { to: email, from: Email, transform: [trim, lower] }
  - { to: leadScore, from: Lead_Score__c }
  - { to: birthDate, from: Birthdate, transform: [{ date: "%Y-%m-%d" }] }
  - to: salutation
    from: Salutation
    map: { "Mr.": Monsieur }
  - { to: company, from: Account.Name }
  - { to: title, from: Title }
)";

object_describe contact() {
    return {
        .name = "Contact",
        .fields = {
            {.name = "Id", .type = "id", .length = 18},
            {.name = "Email", .type = "email", .length = 80},
            {.name = "Lead_Score__c", .type = "double"},
            {.name = "Birthdate", .type = "date"},
            {.name = "Salutation", .type = "picklist", .length = 40, .picklist = {"Mr.", "Ms."}},
            {.name = "AccountId",
             .type = "reference",
             .length = 18,
             .reference_to = {"Account"},
             .relationship_name = "Account"},
            {.name = "Title", .type = "string", .length = 128}}};
}

object_describe account() {
    return {.name = "Account", .fields = {{.name = "Name", .type = "string", .length = 255}}};
}

sink::object_schema lead() {
    return {.object = "lead",
            .fields = {{.name = "sfdcContactId", .type = "string", .length = 18},
                       {.name = "email", .type = "email", .length = 255},
                       {.name = "leadScore", .type = "integer"},
                       {.name = "birthDate", .type = "date"},
                       {.name = "salutation", .type = "string", .length = 255},
                       {.name = "company", .type = "string", .length = 255},
                       {.name = "title", .type = "string", .length = 255}}};
}

class schema_check_test : public ::testing::Test {
protected:
    std::vector<schema_finding> check(check_depth depth = check_depth::drift,
                                      const object_describe* previous = nullptr,
                                      bool with_destination = true) {
        stream_ = mapping::testing::make_stream(fields_yaml);
        config::diagnostics d;
        plan_ = mapping::compile(stream_, d);
        EXPECT_TRUE(plan_) << (d.empty() ? "" : d.sorted().front().to_string());
        parents_ = {{"Account", parent_}};
        schema_inputs in{.stream = &stream_,
                         .plan = plan_.get(),
                         .source = &source_,
                         .parents = &parents_,
                         .destination = with_destination ? &destination_ : nullptr,
                         .previous_source = previous};
        return check_schema(in, depth);
    }

    static std::vector<std::string> messages(const std::vector<schema_finding>& f) {
        std::vector<std::string> out;
        for (const auto& x : f)
            out.push_back(x.message());
        return out;
    }

    field_describe& source_field(const char* name) {
        for (auto& f : source_.fields) {
            if (f.name == name)
                return f;
        }
        throw std::logic_error(name);
    }

    object_describe source_ = contact();
    object_describe parent_ = account();
    sink::object_schema destination_ = lead();
    config::stream stream_;
    std::shared_ptr<const mapping::plan> plan_;
    std::map<std::string, object_describe> parents_;
};

using lines = std::vector<std::string>;

TEST_F(schema_check_test, a_matching_schema_has_no_findings) {
    EXPECT_EQ(messages(check(check_depth::full)), lines{});
}

TEST_F(schema_check_test, a_vanished_source_field_stops_the_stream_at_its_mapping_entry) {
    std::erase_if(source_.fields, [](const auto& f) { return f.name == "Lead_Score__c"; });
    const auto f = check();
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].message(), "source field Contact.Lead_Score__c does not exist");
    EXPECT_TRUE(f[0].stops_stream);
    EXPECT_EQ(f[0].on, schema_finding::side::source);
    EXPECT_EQ(f[0].where.line, 3) << "the entry `{ to: leadScore, from: Lead_Score__c }`";
}

TEST_F(schema_check_test, a_type_the_destination_cannot_take_is_drift) {
    source_field("Lead_Score__c").type = "date";
    const auto f = check();
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].message(),
              "source field Contact.Lead_Score__c has type date (date), which destination field "
              "leadScore (integer) cannot take");
    EXPECT_TRUE(f[0].stops_stream);
}

TEST_F(schema_check_test, a_field_turned_text_is_drift_but_text_from_the_start_is_not) {
    const object_describe before = contact();
    source_field("Lead_Score__c").type = "string";
    const auto f = check(check_depth::drift, &before);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].message(),
              "source field Contact.Lead_Score__c changed type from double to string; destination "
              "field leadScore (integer) takes number values");
    EXPECT_TRUE(f[0].stops_stream);

    // Text into a number field may be deliberate ("42"): no drift, but validate --online says
    // what it means.
    EXPECT_EQ(messages(check(check_depth::drift)), lines{});
    EXPECT_EQ(messages(check(check_depth::full)),
              lines{"source field Contact.Lead_Score__c has type string (text), but destination "
                    "field leadScore (integer) takes number values; values that do not read as "
                    "one are rejected"});
}

TEST_F(schema_check_test, a_type_change_the_mapping_can_still_use_is_not_drift) {
    source_field("Title").type = "textarea";
    source_field("Lead_Score__c").type = "currency";
    source_field("Salutation").type = "string";   // map compares text
    source_field("Birthdate").type = "datetime";  // date: parses either
    EXPECT_EQ(messages(check()), lines{});
}

TEST_F(schema_check_test, transforms_state_what_they_need) {
    source_field("Birthdate").type = "boolean";
    source_field("Salutation").type = "date";
    source_field("Email").type = "address";
    EXPECT_EQ(messages(check()),
              (lines{"source field Contact.Email has type address, a compound or binary value "
                     "that cannot be mapped",
                     "source field Contact.Birthdate has type boolean; the date transform of "
                     "birthDate needs a date, dateTime or text field",
                     "source field Contact.Salutation has type date; the map of salutation needs "
                     "a text, number or boolean field"}));
}

TEST_F(schema_check_test, relationship_paths_are_checked_on_both_objects) {
    parent_.fields.clear();
    EXPECT_EQ(messages(check()),
              lines{"source field Account.Name does not exist (read as Contact.Account.Name)"});
    std::erase_if(source_.fields, [](const auto& f) { return f.name == "AccountId"; });
    EXPECT_EQ(messages(check()),
              lines{"source field Contact.Account.Name names relationship Account, which "
                    "Contact no longer has"});
    EXPECT_EQ(parent_objects(*plan_, contact()), std::vector<std::string>{"Account"});
}

TEST_F(schema_check_test, a_vanished_destination_field_stops_the_stream) {
    std::erase_if(destination_.fields, [](const auto& f) { return f.name == "leadScore"; });
    const auto f = check();
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].message(), "destination field lead.leadScore does not exist");
    EXPECT_EQ(f[0].on, schema_finding::side::destination);
    EXPECT_TRUE(f[0].stops_stream);
    EXPECT_EQ(f[0].where.line, 3);
}

TEST_F(schema_check_test, fields_the_daemon_reads_for_deletes_and_conversion_are_checked) {
    stream_ = mapping::testing::make_stream(fields_yaml);
    auto run = [&](config::stream s) {
        config::diagnostics d;
        auto plan = mapping::compile(s, d);
        schema_inputs in{.stream = &s,
                         .plan = plan.get(),
                         .source = &source_,
                         .parents = &parents_,
                         .destination = &destination_};
        return messages(check_schema(in, check_depth::drift));
    };
    parents_ = {{"Account", parent_}};
    config::stream flagged = mapping::testing::make_stream(fields_yaml);
    flagged.source.deletes = {.mode = config::deletes_mode::flag,
                              .flag_field = "crmDeleted",
                              .flag_value = value::boolean(true)};
    EXPECT_EQ(run(flagged),
              (lines{"source field Contact.IsDeleted does not exist",
                     "destination field lead.crmDeleted does not exist"}));
    config::stream converted = mapping::testing::make_stream(fields_yaml);
    converted.source.converted = config::converted_mode::follow_contact;
    EXPECT_EQ(run(converted),
              (lines{"source field Contact.IsConverted does not exist",
                     "source field Contact.ConvertedContactId does not exist"}));
}

TEST_F(schema_check_test, full_depth_reports_lengths_picklists_and_read_only_without_stopping) {
    source_field("Title").length = 300;
    destination_.fields[4].picklist = {"Monsieur", "Madame"};  // salutation: mapped, fine
    destination_.fields.push_back({.name = "status"});
    for (auto& d : destination_.fields) {
        if (d.name == "email")
            d.read_only = true;
        if (d.name == "title")
            d.picklist = {"CEO"};
    }
    const auto f = check(check_depth::full);
    EXPECT_EQ(messages(f),
              (lines{"source field Contact.Title holds up to 300 characters, but destination "
                     "field title takes at most 255; longer values are rejected (add "
                     "truncate: 255)",
                     "destination field lead.email is read-only; values sent to it are refused"}));
    for (const auto& x : f)
        EXPECT_FALSE(x.stops_stream) << x.message();
    EXPECT_EQ(messages(check(check_depth::drift)), lines{}) << "drift ignores all of these";

    destination_.key_fields = {"email", "id"};
    EXPECT_EQ(messages(check(check_depth::full)).back(),
              "destination field lead.sfdcContactId is the stream key, but lead cannot match "
              "records by it (key fields: email, id)");
    destination_.key_fields.push_back("sfdcContactId");

    source_field("Title").type = "picklist";
    source_field("Title").length = 40;
    source_field("Title").picklist = {"CEO", "CTO", "CFO"};
    EXPECT_EQ(messages(check(check_depth::full)),
              (lines{"source field Contact.Title has picklist values 'CTO', 'CFO' that "
                     "destination field title does not allow; add a map",
                     "destination field lead.email is read-only; values sent to it are refused"}));
}

TEST_F(schema_check_test, without_a_destination_describe_the_previous_type_is_the_baseline) {
    const object_describe before = contact();
    source_field("Lead_Score__c").type = "string";
    EXPECT_EQ(messages(check(check_depth::drift, nullptr, false)), lines{})
        << "the first look has nothing to compare with";
    EXPECT_EQ(messages(check(check_depth::drift, &before, false)),
              lines{"source field Contact.Lead_Score__c changed type from double to string"});
    source_field("Lead_Score__c").type = "currency";
    EXPECT_EQ(messages(check(check_depth::drift, &before, false)), lines{}) << "same value class";
}

TEST(value_classes, cover_the_documented_type_names) {
    for (const char* t : {"string",
                          "textarea",
                          "email",
                          "phone",
                          "url",
                          "picklist",
                          "multipicklist",
                          "combobox",
                          "encryptedstring",
                          "id",
                          "reference"})
        EXPECT_EQ(salesforce_class(t), value_class::text) << t;
    for (const char* t : {"int", "double", "currency", "percent", "long"})
        EXPECT_EQ(salesforce_class(t), value_class::number) << t;
    EXPECT_EQ(salesforce_class("boolean"), value_class::boolean);
    EXPECT_EQ(salesforce_class("date"), value_class::date);
    EXPECT_EQ(salesforce_class("datetime"), value_class::datetime);
    EXPECT_EQ(salesforce_class("time"), value_class::time);
    for (const char* t : {"address", "location", "base64", "anyType", "complexvalue"})
        EXPECT_EQ(salesforce_class(t), value_class::other) << t;
    EXPECT_EQ(destination_class("String"), value_class::text) << "the fixture's 'String'";
    EXPECT_EQ(destination_class("integer"), value_class::number);
    EXPECT_EQ(destination_class("score"), value_class::number);
    EXPECT_EQ(destination_class("EmailAddress"), value_class::text);
    EXPECT_EQ(destination_class("Decimal"), value_class::number);
    EXPECT_EQ(destination_class("Boolean"), value_class::boolean);
    EXPECT_EQ(destination_class("formula"), value_class::other);
}

}  // namespace
}  // namespace crmsync::daemon
