#include "crmsync/sink/preflight.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace crmsync::sink {
namespace {

value str(std::string s) {
    return value::string(std::move(s));
}
value num(std::string s) {
    return value::number(std::move(s));
}

// One destination field and one value: what preflight says (the code, or "" when accepted).
struct field_case {
    field_schema field;
    value v;
    std::string code;
};

std::string code_for(const field_case& c) {
    const object_schema schema{.object = "lead", .fields = {c.field}};
    const std::vector<std::string> fields{c.field.name};
    const auto why = preflight(fields, schema).check(payload{{c.v}});
    if (why) {
        EXPECT_EQ(why->category, category::validation);
    }
    return why ? why->code : std::string{};
}

void check(std::initializer_list<field_case> cases) {
    for (const auto& c : cases) {
        EXPECT_EQ(code_for(c), c.code)
            << "type " << c.field.type << ", value '" << c.v.text() << "'";
    }
}

field_schema typed(std::string type) {
    return {.name = "f", .type = std::move(type)};
}

TEST(preflight, required_fields_refuse_null_and_empty_only) {
    const field_schema required{.name = "vin", .type = "string", .required = true};
    check({
        {required, value::null(), "PREFLIGHT_REQUIRED"},
        {required, str(""), "PREFLIGHT_REQUIRED"},
        {required, str(" "), ""},
        {required, num("0"), ""},
        {required, value::boolean(false), ""},
        {typed("string"), value::null(), ""},
        {typed("string"), str(""), ""},
    });
}

TEST(preflight, length_counts_characters_not_bytes) {
    const field_schema city{.name = "city", .type = "string", .length = 5};
    check({
        {city, str("Paris"), ""},
        {city, str("Évian"), ""},       // 5 characters, 6 bytes
        {city, str("北京市海淀"), ""},  // 5 characters, 15 bytes
        {city, str("Nantes"), "PREFLIGHT_TOO_LONG"},
        {city, str("Évians"), "PREFLIGHT_TOO_LONG"},
        {city, num("123456"), "PREFLIGHT_TOO_LONG"},  // a number is sent as its text
        {city, str(""), ""},
        {typed("string"), str(std::string(10'000, 'x')), ""},  // no length: no limit
    });
}

TEST(preflight, picklists_take_their_values_exactly) {
    const field_schema salutation{
        .name = "salutation", .type = "string", .picklist = {"Monsieur", "Madame", "Docteur"}};
    check({
        {salutation, str("Madame"), ""},
        {salutation, str("Docteur"), ""},
        {salutation, str("madame"), "PREFLIGHT_PICKLIST"},
        {salutation, str("Prof."), "PREFLIGHT_PICKLIST"},
        {salutation, value::null(), ""},  // clearing is not a value
        {salutation, str(""), ""},
    });
}

TEST(preflight, types_refuse_only_values_they_cannot_hold) {
    check({
        {typed("integer"), num("42"), ""},
        {typed("integer"), str("-7"), ""},
        {typed("integer"), num("12.0"), ""},  // Salesforce's whole-number fields
        {typed("integer"), num("12.5"), "PREFLIGHT_TYPE"},
        {typed("integer"), str("abc"), "PREFLIGHT_TYPE"},
        {typed("integer"), str("1e3"), "PREFLIGHT_TYPE"},
        {typed("integer"), value::boolean(true), "PREFLIGHT_TYPE"},
        {typed("score"), str("10"), ""},
        {typed("percent"), str("30%"), "PREFLIGHT_TYPE"},
        {typed("Number"), str("30"), ""},
        {typed("float"), num("10.4"), ""},
        {typed("float"), str("-.5"), ""},
        {typed("float"), str("2E-3"), ""},
        {typed("currency"), str("10,40"), "PREFLIGHT_TYPE"},
        {typed("Decimal"), str("1.5.2"), "PREFLIGHT_TYPE"},
        {typed("float"), str("."), "PREFLIGHT_TYPE"},
        {typed("float"), str("1e"), "PREFLIGHT_TYPE"},
        {typed("boolean"), value::boolean(false), ""},
        {typed("boolean"), str("TRUE"), ""},
        {typed("boolean"), num("1"), ""},
        {typed("boolean"), str("yes"), "PREFLIGHT_TYPE"},
        {typed("Boolean"), str("maybe"), "PREFLIGHT_TYPE"},
        {typed("date"), str("2010-05-07"), ""},
        {typed("date"), str("2024-02-29"), ""},
        {typed("datetime"), str("2010-05-07T15:41:32-05:00"), ""},
        {typed("datetime"), str("2010-05-07 15:41:32"), ""},
        {typed("date"), str("2023-02-29"), "PREFLIGHT_TYPE"},
        {typed("date"), str("07/05/2010"), "PREFLIGHT_TYPE"},
        {typed("date"), str("2010-05-07junk"), "PREFLIGHT_TYPE"},
        {typed("datetime"), str("soon"), "PREFLIGHT_TYPE"},
        // Types that take any text, and types preflight does not know.
        {typed("string"), num("12.5"), ""},
        {typed("email"), str("not an email"), ""},  // the destination judges emails
        {typed("phone"), str("n/a"), ""},
        {typed("Date"), str("1/15/2020"), ""},  // Marketing Cloud reads many date forms
        {typed("Text"), value::boolean(true), ""},
        {typed("hologram"), str("x"), ""},
        // Null and "" clear a field of any type.
        {typed("integer"), value::null(), ""},
        {typed("date"), str(""), ""},
    });
}

TEST(preflight, messages_name_the_field_and_the_limit_and_quote_little_of_the_value) {
    const object_schema schema{
        .object = "lead",
        .fields = {{.name = "city", .type = "string", .length = 255},
                   {.name = "leadScore", .type = "integer"},
                   {.name = "vin", .type = "string", .required = true},
                   {.name = "salutation",
                    .type = "string",
                    .picklist = {"b", "a", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}}}};
    const std::vector<std::string> fields{"city", "leadScore", "vin", "salutation"};
    const preflight p(fields, schema);
    const auto message = [&](std::vector<value> v) {
        const auto why = p.check(payload{std::move(v)});
        return why ? why->code + ": " + why->message : std::string("accepted");
    };
    EXPECT_EQ(message({str(std::string(300, 'x')), num("1"), str("v"), str("a")}),
              "PREFLIGHT_TOO_LONG: field 'city' holds 300 characters; the destination allows "
              "255: '" +
                  std::string(40, 'x') + "...'");
    EXPECT_EQ(message({str("Lyon"), str("high"), str("v"), str("a")}),
              "PREFLIGHT_TYPE: field 'leadScore': value 'high' is not a whole number, as its "
              "destination type integer requires");
    EXPECT_EQ(message({str("Lyon"), num("1"), value::null(), str("a")}),
              "PREFLIGHT_REQUIRED: field 'vin' is required by the destination and is empty");
    EXPECT_EQ(message({str("Lyon"), num("1"), str("v"), str("z")}),
              "PREFLIGHT_PICKLIST: field 'salutation': value 'z' is not one of the "
              "destination's values: a, b, c, d, e, f, g, h, i, j, ... (12 in all)");
    EXPECT_EQ(message({str("Lyon"), num("1"), str("v"), str("a")}), "accepted");
    // Fields in payload order: the first problem is the one reported.
    EXPECT_EQ(
        message({str(std::string(300, 'x')), str("high"), value::null(), str("z")}).substr(0, 18),
        "PREFLIGHT_TOO_LONG");
}

TEST(preflight, names_are_matched_once_case_insensitively_and_unknown_fields_pass) {
    const object_schema schema{.object = "lead",
                               .fields = {{.name = "firstName", .type = "string", .length = 3}}};
    const std::vector<std::string> fields{"FirstName", "notInDescribe"};
    const preflight p(fields, schema);
    EXPECT_EQ(p.check(payload{{str("Anne"), str(std::string(1000, 'x'))}})->code,
              "PREFLIGHT_TOO_LONG");
    EXPECT_FALSE(p.check(payload{{str("Ann"), str(std::string(1000, 'x'))}}));
}

TEST(preflight, a_required_field_the_mapping_does_not_write_rejects_every_record) {
    const object_schema schema{
        .object = "car",
        .fields = {{.name = "vin", .type = "string", .required = true},
                   {.name = "model", .type = "string"},
                   // Required but read-only: the destination fills it, nobody maps it.
                   {.name = "marketoGUID", .type = "string", .required = true, .read_only = true}}};
    const std::vector<std::string> fields{"model"};
    const preflight p(fields, schema);
    EXPECT_EQ(p.unmapped_required(), std::vector<std::string>{"vin"});
    const auto why = p.check(payload{{str("Clio")}});
    ASSERT_TRUE(why);
    EXPECT_EQ(why->code, "PREFLIGHT_REQUIRED");
    EXPECT_EQ(why->message, "field 'vin' is required by the destination and is not mapped");

    const std::vector<std::string> both{"vin", "model"};
    EXPECT_TRUE(preflight(both, schema).unmapped_required().empty());
    EXPECT_FALSE(preflight(both, schema).check(payload{{str("VF1"), str("Clio")}}));
}

TEST(preflight, an_empty_schema_accepts_everything) {
    const std::vector<std::string> fields{"a", "b"};
    const preflight p(fields, object_schema{});
    EXPECT_FALSE(p.check(payload{{value::null(), str(std::string(100'000, 'x'))}}));
}

}  // namespace
}  // namespace crmsync::sink
