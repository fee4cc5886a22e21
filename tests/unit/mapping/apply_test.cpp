#include "crmsync/mapping/plan.hpp"

#include "test_support.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

namespace crmsync::mapping {
namespace {

using testing::compile_text;
using testing::num;
using testing::row;
using testing::str;

// Compiles a one-field mapping (besides the key), or fails the test.
std::shared_ptr<const plan> one_field(const std::string& entry) {
    auto c = compile_text("fields:\n  - " + entry + "\n");
    EXPECT_EQ(c.problems, std::vector<std::string>{}) << entry;
    return c.plan;
}

// The mapped value of the field after the key, or the rejection.
map_result run(const plan& p, const std::map<std::string, value>& values) {
    auto with_key = values;
    with_key.emplace("Id", str("003000000000001AAA"));
    return p.apply(row(p, with_key));
}

value mapped(const plan& p, const std::map<std::string, value>& values) {
    const auto r = run(p, values);
    if (const auto* rej = std::get_if<rejected>(&r)) {
        ADD_FAILURE() << "rejected: " << rej->code << ": " << rej->message;
        return value::null();
    }
    return std::get<payload>(r).fields.at(1);
}

rejected rejection(const plan& p, const std::map<std::string, value>& values) {
    const auto r = run(p, values);
    if (!std::holds_alternative<rejected>(r)) {
        ADD_FAILURE() << "not rejected";
        return {};
    }
    return std::get<rejected>(r);
}

struct transform_case {
    std::string transform;  // the `transform:` value
    value in;
    value out;
};

TEST(apply, each_transform) {
    for (const auto& c : std::initializer_list<transform_case>{
             {"[trim]", str("  a b  "), str("a b")},
             {"[lower]", str("John.DOE@Example.com"), str("john.doe@example.com")},
             {"[upper]", str("fr"), str("FR")},
             {"[title]", str("jean-luc PICARD"), str("Jean-Luc Picard")},
             {"[collapse_spaces]", str("a   b\t\tc"), str("a b c")},
             {"[{ truncate: 3 }]", str("abcdef"), str("abc")},
             {"[{ truncate: 4 }]", str("Zoë Ærø"), str("Zoë ")},
             {"[{ date: \"%Y-%m-%d\" }]", str("2013-05-20T20:49:32.000+0000"), str("2013-05-20")},
             {"[{ date: \"%d.%m.%Y\" }]", str("2013-05-20"), str("20.05.2013")},
             {"[{ default: n/a }]", value::null(), str("n/a")},
             {"[{ default: n/a }]", str(""), str("n/a")},
             {"[{ default: 0 }]", value::null(), num("0")},
             {"[trim, lower, { truncate: 5 }]", str("  HELLO WORLD "), str("hello")},
             // A step works on the text of a number or boolean and yields a string.
             {"[trim]", num("42"), str("42")},
             {"[upper]", value::boolean(true), str("TRUE")},
             {"[{ truncate: 2 }]", num("12345"), str("12")},
             // Steps on null are no-ops; "" stays "".
             {"[trim, lower, title, { truncate: 1 }, { date: \"%Y\" }]",
              value::null(),
              value::null()},
             {"[trim, upper, { date: \"%Y\" }]", str(""), str("")},
             // Non-ASCII passes through untouched (documented ASCII-only casing).
             {"[lower, trim]", str(" ÇA VA ÉTÉ "), str("Ça va ÉtÉ")},
             // A default step placed first is then transformed like any value.
             {"[{ default: \" X \" }, trim, lower]", value::null(), str("x")},
         }) {
        const auto p = one_field("{ to: out, from: In, transform: " + c.transform + " }");
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(mapped(*p, {{"In", c.in}}), c.out)
            << c.transform << " on '" << c.in.text() << "'";
    }
}

// null (Salesforce sent null), "" and absent (a field the row does not carry, which the source
// hands over as null) through every input and every step. `out` is the mapped value, or
// empty `code` says the record maps; a non-empty `code` is the expected rejection.
struct edge_case {
    std::string entry;
    std::map<std::string, value> row;
    value out;
    std::string code;
};

TEST(apply, null_empty_and_absent_through_every_input_and_step) {
    const auto null = value::null();
    for (const auto& c : std::initializer_list<edge_case>{
             // from: null stays null, "" stays "", through every step.
             {"{ to: x, from: X, transform: [trim, lower, upper, title, collapse_spaces] }",
              {{"X", null}},
              null},
             {"{ to: x, from: X, transform: [trim, lower, upper, title, collapse_spaces] }",
              {{"X", str("")}},
              str("")},
             {"{ to: x, from: X, transform: [{ truncate: 1 }] }", {}, null},
             {"{ to: x, from: X, transform: [{ truncate: 1 }] }", {{"X", str("")}}, str("")},
             {"{ to: x, from: X, transform: [{ date: \"%F\" }] }", {}, null},
             {"{ to: x, from: X, transform: [{ date: \"%F\" }] }", {{"X", str("")}}, str("")},
             // Whitespace only is a value for date: trim first to make it "".
             {"{ to: x, from: X, transform: [{ date: \"%F\" }] }",
              {{"X", str(" ")}},
              null,
              "INVALID_DATE"},
             {"{ to: x, from: X, transform: [trim, { date: \"%F\" }] }",
              {{"X", str(" ")}},
              str("")},
             {"{ to: x, from: X, transform: [{ date: \"%F\" }] }",
              {{"X", num("20240501")}},
              null,
              "INVALID_DATE"},
             // The default step fills null and "", not whitespace; later steps run on it.
             {"{ to: x, from: X, transform: [{ default: d }] }", {}, str("d")},
             {"{ to: x, from: X, transform: [{ default: d }] }", {{"X", str("")}}, str("d")},
             {"{ to: x, from: X, transform: [{ default: d }] }", {{"X", str(" ")}}, str(" ")},
             {"{ to: x, from: X, transform: [trim, { default: d }] }", {{"X", str(" ")}}, str("d")},
             {"{ to: x, from: X, transform: [{ default: \"\" }] }", {}, str("")},
             // The field's default: a "" default turns null into "" (no longer clears).
             {"{ to: x, from: X, default: \"\" }", {}, str("")},
             {"{ to: x, from: X, default: 0 }", {{"X", str("")}}, num("0")},
             {"{ to: x, from: X, default: d, required: true }", {{"X", str("")}}, str("d")},
             {"{ to: x, from: X, default: \"\", required: true }", {}, null, "REQUIRED_MISSING"},
             // constant: the three empties are distinct.
             {"{ to: x, constant: ~ }", {}, null},
             {"{ to: x, constant: }", {}, null},
             {"{ to: x, constant: \"\" }", {}, str("")},
             {"{ to: x, constant: \"\", default: d }", {}, str("d")},
             {"{ to: x, constant: ~, transform: [upper] }", {}, null},
             {"{ to: x, constant: \" a \", transform: [trim, upper] }", {}, str("A")},
             {"{ to: x, constant: ~, required: true }", {}, null, "REQUIRED_MISSING"},
             // concat: null and "" parts add nothing; no field value at all gives null.
             {"{ to: x, concat: [A, { literal: \"-\" }, B] }", {{"A", str("")}}, null},
             {"{ to: x, concat: [A, { literal: \"-\" }, B] }", {{"A", str("a")}}, str("a-")},
             {"{ to: x, concat: [A, { literal: \"-\" }, B] }", {{"B", str(" ")}}, str("- ")},
             {"{ to: x, concat: [A, { literal: \"\" }, B] }",
              {{"A", str("é")}, {"B", str("日")}},
              str("é日")},
             {"{ to: x, concat: [A, B], default: none }", {}, str("none")},
             // coalesce: whitespace wins (it is a value); all-absent is null, any "" is "".
             {"{ to: x, coalesce: [A, B] }", {{"A", str(" ")}, {"B", str("b")}}, str(" ")},
             {"{ to: x, coalesce: [A, B] }", {}, null},
             {"{ to: x, coalesce: [A, B] }", {{"A", str("")}}, str("")},
             {"{ to: x, coalesce: [A, B] }", {{"B", str("")}}, str("")},
             {"{ to: x, coalesce: [A, B] }", {{"A", value::boolean(false)}}, value::boolean(false)},
             {"{ to: x, coalesce: [A], default: d }", {{"A", str("")}}, str("d")},
             // map: null and "" are not looked up, whatever the policy.
             {"{ to: x, from: X, map: { a: b } }", {}, null},
             {"{ to: x, from: X, map: { a: b } }", {{"X", str("")}}, str("")},
             {"{ to: x, from: X, map: { a: b }, unmapped: pass }", {{"X", str("")}}, str("")},
             {"{ to: x, from: X, map: { a: b }, unmapped: default, default: d }", {}, str("d")},
             // Lookups are exact bytes: case, whitespace and Unicode normalisation matter.
             {"{ to: x, from: X, map: { a: b } }", {{"X", str("A")}}, null, "UNMAPPED_VALUE"},
             {"{ to: x, from: X, map: { a: b } }", {{"X", str("a ")}}, null, "UNMAPPED_VALUE"},
             {"{ to: x, from: X, map: { \"é\": e } }", {{"X", str("é")}}, str("e")},
             {"{ to: x, from: X, map: { \"é\": e } }",
              {{"X", str("e\u0301")}},  // e + COMBINING ACUTE: another text
              null,
              "UNMAPPED_VALUE"},
             {"{ to: x, from: X, map: { \"é\": e }, unmapped: pass }",
              {{"X", str("e\u0301")}},
              str("e\u0301")},
             // A map value may be "" or null: default then applies, required then rejects.
             {"{ to: x, from: X, map: { a: ~ } }", {{"X", str("a")}}, null},
             {"{ to: x, from: X, map: { a: \"\" }, default: d }", {{"X", str("a")}}, str("d")},
             {"{ to: x, from: X, map: { a: ~ }, required: true }",
              {{"X", str("a")}},
              null,
              "REQUIRED_MISSING"},
             {"{ to: x, from: X, map: { a: b }, unmapped: default, default: d }",
              {{"X", str("z")}},
              str("d")},
             // map after truncate sees the cut value.
             {"{ to: x, from: X, transform: [{ truncate: 2 }], map: { \"日本\": JP } }",
              {{"X", str("日本語")}},
              str("JP")},
         }) {
        const auto p = one_field(c.entry);
        ASSERT_NE(p, nullptr) << c.entry;
        const auto r = run(*p, c.row);
        if (c.code.empty()) {
            ASSERT_TRUE(std::holds_alternative<payload>(r))
                << c.entry << ": rejected " << std::get<rejected>(r).message;
            EXPECT_EQ(std::get<payload>(r).fields.at(1), c.out) << c.entry;
        } else {
            ASSERT_TRUE(std::holds_alternative<rejected>(r)) << c.entry;
            EXPECT_EQ(std::get<rejected>(r).code, c.code) << c.entry;
        }
    }
}

TEST(apply, from_passes_values_through_with_their_type) {
    const auto p = one_field("{ to: score, from: Lead_Score__c }");
    EXPECT_EQ(mapped(*p, {{"Lead_Score__c", num("12.50")}}), num("12.50"));
    EXPECT_EQ(mapped(*p, {{"Lead_Score__c", value::boolean(false)}}), value::boolean(false));
    EXPECT_EQ(mapped(*p, {}), value::null());
    EXPECT_EQ(mapped(*p, {{"Lead_Score__c", str("")}}), str(""));  // empty is not null
}

TEST(apply, invalid_date_is_rejected) {
    const auto p = one_field("{ to: birthDate, from: Birthdate, transform: [{ date: \"%Y\" }] }");
    for (const char* bad : {"20/05/2013", "2013-02-30", "soon"}) {
        const auto r = rejection(*p, {{"Birthdate", str(bad)}});
        EXPECT_EQ(r.category, category::validation);
        EXPECT_EQ(r.code, "INVALID_DATE");
        EXPECT_EQ(r.message,
                  fmt::format("field 'birthDate': '{}' (from Birthdate) is not an ISO-8601 date "
                              "or datetime",
                              bad));
    }
    const auto r = rejection(*p, {{"Birthdate", str(std::string(200, 'x'))}});
    EXPECT_EQ(r.message,
              fmt::format("field 'birthDate': '{}...' (from Birthdate) is not an "
                          "ISO-8601 date or datetime",
                          std::string(80, 'x')));
}

// Compiles a whole mapping snippet (phone_region: and fields:), or fails the test.
std::shared_ptr<const plan> mapping_of(const std::string& text) {
    auto c = compile_text(text);
    EXPECT_EQ(c.problems, std::vector<std::string>{}) << text;
    return c.plan;
}

TEST(apply, phone_formats_and_leaves_null_and_empty_alone) {
    const auto p = one_field(
        "{ to: phone, from: Phone, transform: [trim, { phone: { format: "
        "E164, region: FR } }] }");
    EXPECT_EQ(mapped(*p, {{"Phone", str(" 01 23 45 67 89 ")}}), str("+33123456789"));
    EXPECT_EQ(mapped(*p, {{"Phone", str("+44 20 7946 0958")}}), str("+442079460958"));
    EXPECT_EQ(mapped(*p, {{"Phone", str("")}}), str(""));  // empty is not a bad number
    EXPECT_EQ(mapped(*p, {{"Phone", str("   ")}}), str(""));
    EXPECT_EQ(mapped(*p, {}), value::null());
    // A phone number the CRM stores as a number is read by its text, and becomes a string.
    EXPECT_EQ(mapped(*p, {{"Phone", num("0123456789")}}), str("+33123456789"));
}

TEST(apply, invalid_phone_is_rejected_naming_field_value_and_reason) {
    const auto p = one_field("{ to: phone, from: Phone, transform: [{ phone: { region: FR } }] }");
    for (const auto& [bad, why] : std::initializer_list<std::pair<std::string, std::string>>{
             {"12", "is too short for a phone number of its country"},
             {"n/a", "is not a phone number"},
             {"0000000000", "is not a valid phone number of its country"},
             {"+999 123 456", "has no valid country code"}}) {
        const auto r = rejection(*p, {{"Phone", str(bad)}});
        EXPECT_EQ(r.category, category::validation);
        EXPECT_EQ(r.code, "PHONE_INVALID");
        EXPECT_EQ(r.message, fmt::format("field 'phone': '{}' (from Phone) {}", bad, why));
    }
}

TEST(apply, invalid_phone_policies_pass_and_clear) {
    const auto pass = one_field(
        "{ to: phone, from: Phone, transform: [{ phone: { region: FR, invalid: pass } }] }");
    EXPECT_EQ(mapped(*pass, {{"Phone", str("n/a")}}), str("n/a"));
    EXPECT_EQ(mapped(*pass, {{"Phone", str("01 23 45 67 89")}}), str("+33123456789"));
    const auto clear = one_field(
        "{ to: phone, from: Phone, transform: [{ phone: { region: FR, invalid: clear } }], "
        "default: unknown }");
    // Cleared to null, so the field's default and required apply as to a missing number.
    EXPECT_EQ(mapped(*clear, {{"Phone", str("n/a")}}), str("unknown"));
    EXPECT_EQ(mapped(*clear, {{"Phone", str("0612345678")}}), str("+33612345678"));
    const auto required = one_field(
        "{ to: phone, from: Phone, transform: [{ phone: { region: FR, invalid: clear } }], "
        "required: true }");
    EXPECT_EQ(rejection(*required, {{"Phone", str("12")}}).code, "REQUIRED_MISSING");
}

TEST(apply, phone_region_of_the_stream_reads_national_numbers) {
    const auto p = mapping_of(R"(
phone_region: FR
fields:
  - { to: phone, from: Phone, transform: [{ phone: E164 }] }
  - { to: usPhone, from: US_Phone__c, transform: [{ phone: { region: US } }] }
)");
    const auto r =
        run(*p, {{"Phone", str("01 23 45 67 89")}, {"US_Phone__c", str("(650) 253-0000")}});
    ASSERT_TRUE(std::holds_alternative<payload>(r));
    EXPECT_EQ(std::get<payload>(r).fields.at(1), str("+33123456789"));
    EXPECT_EQ(std::get<payload>(r).fields.at(2), str("+16502530000"));  // the step's own region
}

TEST(apply, without_a_region_only_international_numbers_pass) {
    const auto p = one_field("{ to: phone, from: Phone, transform: [{ phone: E164 }] }");
    EXPECT_EQ(mapped(*p, {{"Phone", str("+33 1 23 45 67 89")}}), str("+33123456789"));
    const auto r = rejection(*p, {{"Phone", str("01 23 45 67 89")}});
    EXPECT_EQ(r.code, "PHONE_INVALID");
    EXPECT_EQ(r.message,
              "field 'phone': '01 23 45 67 89' (from Phone) has no country code (+NN) and no "
              "phone region is set to read it in");
}

TEST(apply, coalesce_takes_the_first_non_empty_in_order) {
    const auto p = one_field("{ to: city, coalesce: [A, B, C], transform: [upper] }");
    EXPECT_EQ(mapped(*p, {{"A", str("paris")}, {"B", str("lyon")}}), str("PARIS"));
    EXPECT_EQ(mapped(*p, {{"A", str("")}, {"B", value::null()}, {"C", str("nice")}}), str("NICE"));
    EXPECT_EQ(mapped(*p, {{"B", str("lyon")}, {"C", str("nice")}}), str("LYON"));
    EXPECT_EQ(mapped(*p, {}), value::null());            // all null: null
    EXPECT_EQ(mapped(*p, {{"B", str("")}}), str(""));    // else ""
    EXPECT_EQ(mapped(*p, {{"A", num("0")}}), str("0"));  // 0 is a value
    const auto info = p->destination_fields()[1];
    EXPECT_EQ(info.sources, (std::vector<std::string>{"A", "B", "C"}));
}

TEST(apply, constant_keeps_its_yaml_type) {
    EXPECT_EQ(mapped(*one_field("{ to: x, constant: CRM }"), {}), str("CRM"));
    EXPECT_EQ(mapped(*one_field("{ to: x, constant: 42 }"), {}), num("42"));
    EXPECT_EQ(mapped(*one_field("{ to: x, constant: \"42\" }"), {}), str("42"));
    EXPECT_EQ(mapped(*one_field("{ to: x, constant: true }"), {}), value::boolean(true));
    EXPECT_EQ(mapped(*one_field("{ to: x, constant: ~ }"), {}), value::null());
}

TEST(apply, concat_joins_fields_and_literals) {
    const auto p = one_field(
        "{ to: name, concat: [FirstName, { literal: \" \" }, LastName], "
        "transform: [trim] }");
    EXPECT_EQ(mapped(*p, {{"FirstName", str("Ada")}, {"LastName", str("Lovelace")}}),
              str("Ada Lovelace"));
    EXPECT_EQ(mapped(*p, {{"LastName", str("Lovelace")}}), str("Lovelace"));
    EXPECT_EQ(mapped(*p, {}), value::null());  // no field had a value: null, not " "
    EXPECT_EQ(mapped(*p, {{"FirstName", str("")}, {"LastName", str("")}}), value::null());
    EXPECT_EQ(mapped(*one_field("{ to: x, concat: [A, { literal: \"-\" }, B] }"),
                     {{"A", num("1")}, {"B", value::boolean(true)}}),
              str("1-true"));
}

TEST(apply, map_translates_picklists_with_each_unmapped_policy) {
    const std::string map = R"(map: { "Mr.": Monsieur, "Ms.": Madame, "Mrs.": Madame, "1": true })";
    const auto reject = one_field("{ to: salutation, from: Salutation, " + map + " }");
    const auto reject_explicit =
        one_field("{ to: salutation, from: Salutation, " + map + ", unmapped: reject }");
    const auto pass =
        one_field("{ to: salutation, from: Salutation, " + map + ", unmapped: pass }");
    const auto fallback = one_field("{ to: salutation, from: Salutation, " + map +
                                    ", unmapped: default, default: \"\" }");
    for (const auto& p : {reject, reject_explicit, pass, fallback}) {
        EXPECT_EQ(mapped(*p, {{"Salutation", str("Mr.")}}), str("Monsieur"));
        EXPECT_EQ(mapped(*p, {{"Salutation", str("Mrs.")}}), str("Madame"));
        EXPECT_EQ(mapped(*p, {{"Salutation", num("1")}}), value::boolean(true));  // by text
        EXPECT_EQ(mapped(*p, {}), fallback == p ? str("") : value::null());       // null: no lookup
    }
    for (const auto& p : {reject, reject_explicit}) {
        const auto r = rejection(*p, {{"Salutation", str("Dr.")}});
        EXPECT_EQ(r.category, category::validation);
        EXPECT_EQ(r.code, "UNMAPPED_VALUE");
        EXPECT_EQ(r.message, "field 'salutation': value 'Dr.' (from Salutation) is not in its map");
    }
    EXPECT_EQ(mapped(*pass, {{"Salutation", str("Dr.")}}), str("Dr."));
    EXPECT_EQ(mapped(*fallback, {{"Salutation", str("Dr.")}}), str(""));
    // Lookup is exact; trim first if the CRM has stray spaces.
    EXPECT_EQ(rejection(*reject, {{"Salutation", str(" Mr.")}}).code, "UNMAPPED_VALUE");
    const auto trimmed =
        one_field("{ to: salutation, from: Salutation, transform: [trim], " + map + " }");
    EXPECT_EQ(mapped(*trimmed, {{"Salutation", str(" Mr. ")}}), str("Monsieur"));
}

TEST(apply, required_rejects_an_empty_final_value) {
    const auto p =
        one_field("{ to: email, from: Email, transform: [trim, lower], required: true }");
    EXPECT_EQ(mapped(*p, {{"Email", str(" A@B.FR ")}}), str("a@b.fr"));
    for (const auto& empty : {value::null(), str(""), str("   ")}) {
        const auto r = rejection(*p, {{"Email", empty}});
        EXPECT_EQ(r.category, category::validation);
        EXPECT_EQ(r.code, "REQUIRED_MISSING");
        EXPECT_EQ(r.message, "required field 'email' is empty (from Email)");
    }
    const auto c = one_field("{ to: city, coalesce: [A, B], required: true }");
    EXPECT_EQ(rejection(*c, {}).message, "required field 'city' is empty (from A, B)");
    // A default satisfies required.
    const auto d = one_field("{ to: lang, from: Lang, default: fr, required: true }");
    EXPECT_EQ(mapped(*d, {}), str("fr"));
}

TEST(apply, default_fills_null_and_empty_after_map) {
    const auto p = one_field("{ to: country, from: Country, default: FR }");
    EXPECT_EQ(mapped(*p, {}), str("FR"));
    EXPECT_EQ(mapped(*p, {{"Country", str("")}}), str("FR"));
    EXPECT_EQ(mapped(*p, {{"Country", str("DE")}}), str("DE"));
    const auto m = one_field("{ to: c, from: C, map: { x: \"\" }, unmapped: pass, default: d }");
    EXPECT_EQ(mapped(*m, {{"C", str("x")}}), str("d"));
}

TEST(apply, key_field_comes_from_the_key_source) {
    const auto p = one_field("{ to: email, from: Email }");
    const auto r = p->apply(row(*p, {{"Id", str("003ABC")}, {"Email", str("a@b")}}));
    const auto& fields = std::get<payload>(r).fields;
    ASSERT_EQ(fields.size(), 2u);
    EXPECT_EQ(fields[p->key_field()], str("003ABC"));
    const auto missing = p->apply(row(*p, {{"Email", str("a@b")}}));
    EXPECT_EQ(std::get<rejected>(missing).message,
              "required field 'sfdcContactId' is empty (from Id)");
}

TEST(apply, key_source_can_be_any_field_and_can_also_be_mapped) {
    config::diagnostics d;
    const auto p = compile(
        testing::make_stream("fields: [{ to: id, from: Ext_Id__c }]\n", "Ext_Id__c", "extId"), d);
    ASSERT_TRUE(d.empty());
    EXPECT_EQ(p->source_columns(), std::vector<std::string>{"Ext_Id__c"});
    const auto r = p->apply(row(*p, {{"Ext_Id__c", str("E-1")}}));
    EXPECT_EQ(std::get<payload>(r).fields, (std::vector<value>{str("E-1"), str("E-1")}));
}

TEST(apply, spec_example_end_to_end) {
    const auto c = compile_text(R"(
fields:
  - { to: email, from: Email, transform: [trim, lower], required: true }
  - { to: firstName, from: FirstName, transform: [trim] }
  - to: city                                  # first non-empty wins
    coalesce: [MailingCity, City_A__c, City_U__c, City_Old_Database__c]
  - to: salutation
    from: Salutation
    map: { "Mr.": Monsieur, "Ms.": Madame, "Mrs.": Madame }
    unmapped: reject                          # reject | pass | default
  - { to: birthDate, from: Birthdate, transform: [{ date: "%Y-%m-%d" }] }
  - { to: leadScore, from: Lead_Score__c, description: "Score computed by marketing" }
)");
    ASSERT_EQ(c.problems, std::vector<std::string>{});
    const auto& p = *c.plan;
    const auto r = p.apply(row(p,
                               {{"Id", str("003A")},
                                {"Email", str(" Ada@Example.COM ")},
                                {"FirstName", str(" Ada")},
                                {"City_U__c", str("London")},
                                {"Salutation", str("Ms.")},
                                {"Birthdate", str("1815-12-10")},
                                {"Lead_Score__c", num("87")}}));
    ASSERT_TRUE(std::holds_alternative<payload>(r));
    EXPECT_EQ(std::get<payload>(r).fields,
              (std::vector<value>{str("003A"),
                                  str("ada@example.com"),
                                  str("Ada"),
                                  str("London"),
                                  str("Madame"),
                                  str("1815-12-10"),
                                  num("87")}));
    std::vector<std::string> names;
    for (const auto& f : p.destination_fields())
        names.push_back(f.destination);
    EXPECT_EQ(names,
              (std::vector<std::string>{"sfdcContactId",
                                        "email",
                                        "firstName",
                                        "city",
                                        "salutation",
                                        "birthDate",
                                        "leadScore"}));
    EXPECT_FALSE(p.skip(row(p, {})));  // no skip_if: never skips
}

TEST(skip_if, single_condition_and_any_of_a_list) {
    const auto one = compile_text(R"(
fields: [{ to: email, from: Email }]
skip_if: { field: Email, is: empty }
)");
    ASSERT_NE(one.plan, nullptr);
    const auto& p1 = *one.plan;
    EXPECT_TRUE(p1.skip(row(p1, {})));
    EXPECT_TRUE(p1.skip(row(p1, {{"Email", str("")}})));
    EXPECT_FALSE(p1.skip(row(p1, {{"Email", str("a@b")}})));

    const auto list = compile_text(R"(
fields: [{ to: email, from: Email }]
skip_if:
  - { field: Status__c, equals: Test }
  - { field: RecordType.Name, in: [Partner, Internal, 7] }
  - { field: Do_Not_Sync__c, equals: true }
  - { field: Opted_Out_Date__c, is: not_empty }
)");
    ASSERT_EQ(list.problems, std::vector<std::string>{});
    const auto& p = *list.plan;
    EXPECT_EQ(
        p.source_columns(),
        (std::vector<std::string>{
            "Id", "Email", "Status__c", "RecordType.Name", "Do_Not_Sync__c", "Opted_Out_Date__c"}));
    EXPECT_FALSE(p.skip(row(p, {})));  // null equals nothing
    EXPECT_TRUE(p.skip(row(p, {{"Status__c", str("Test")}})));
    EXPECT_FALSE(p.skip(row(p, {{"Status__c", str("test")}})));  // exact
    EXPECT_TRUE(p.skip(row(p, {{"RecordType.Name", str("Internal")}})));
    EXPECT_TRUE(p.skip(row(p, {{"RecordType.Name", num("7")}})));  // compared as text
    EXPECT_FALSE(p.skip(row(p, {{"RecordType.Name", str("Customer")}})));
    EXPECT_TRUE(p.skip(row(p, {{"Do_Not_Sync__c", value::boolean(true)}})));
    EXPECT_FALSE(p.skip(row(p, {{"Do_Not_Sync__c", value::boolean(false)}})));
    EXPECT_TRUE(p.skip(row(p, {{"Opted_Out_Date__c", str("2024-01-01")}})));
    EXPECT_FALSE(p.skip(row(p, {{"Opted_Out_Date__c", str("")}})));
}

}  // namespace
}  // namespace crmsync::mapping
