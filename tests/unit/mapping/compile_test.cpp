#include "crmsync/mapping/compile.hpp"

#include "test_support.hpp"
#include <gtest/gtest.h>

namespace crmsync::mapping {
namespace {

using testing::compile_text;
using lines = std::vector<std::string>;

TEST(compile, source_columns_start_with_the_key_and_are_deduplicated) {
    const auto c = compile_text(R"(
fields:
  - { to: email, from: Email }
  - { to: city, coalesce: [MailingCity, City_A__c, email] }
  - { to: company, from: Account.Name }
  - { to: fullName, concat: [FirstName, { literal: " " }, LastName] }
  - { to: source, constant: CRM }
skip_if: [{ field: Status__c, equals: Test }, { field: EMAIL, is: empty }]
)");
    ASSERT_EQ(c.problems, lines{});
    // "email" and "EMAIL" reuse "Email": SOQL names are case-insensitive and a field may be
    // selected only once. SystemModstamp is never added on the plan's own initiative.
    EXPECT_EQ(c.plan->source_columns(),
              (std::vector<std::string>{"Id",
                                        "Email",
                                        "MailingCity",
                                        "City_A__c",
                                        "Account.Name",
                                        "FirstName",
                                        "LastName",
                                        "Status__c"}));
}

TEST(compile, key_field_is_always_present) {
    const auto c = compile_text(R"(
fields:
  - to: email
    from: Email
    transform: [trim, lower, { truncate: 80 }, { date: "%Y" }, { default: x }]
    map: { a: b }
    required: true
    description: "Work email"
)");
    ASSERT_EQ(c.problems, lines{});
    const auto& fields = c.plan->destination_fields();
    ASSERT_EQ(fields.size(), 2u);
    const auto& key = fields[c.plan->key_field()];
    EXPECT_EQ(key.destination, "sfdcContactId");
    EXPECT_EQ(key.sources, std::vector<std::string>{"Id"});
    EXPECT_TRUE(key.required);

    const auto& email = fields[1];
    EXPECT_EQ(email.destination, "email");
    EXPECT_EQ(email.sources, std::vector<std::string>{"Email"});
    EXPECT_EQ(email.transforms,
              (std::vector<std::string>{
                  "trim", "lower", "truncate: 80", "date: %Y", "default: x", "map(1)"}));
    EXPECT_TRUE(email.required);
    EXPECT_EQ(email.description, "Work email");
    EXPECT_EQ(email.where.line, 2);
    EXPECT_EQ(email.where.column, 5);
}

TEST(compile, field_info_lists_the_unmapped_policy_and_the_field_default_where_they_act) {
    const auto c = compile_text(R"(
fields:
  - to: salutation
    from: Salutation
    transform: trim
    map: { "Mr.": Monsieur }
    unmapped: default
    default: Madame
)");
    ASSERT_EQ(c.problems, lines{});
    EXPECT_EQ(c.plan->destination_fields()[1].transforms,
              (std::vector<std::string>{"trim", "map(1, unmapped: default)", "default: Madame"}));
}

TEST(compile, duplicate_destination_points_at_the_first) {
    EXPECT_EQ(compile_text(R"(
fields:
  - { to: email, from: Email }
  - { to: firstName, from: FirstName }
  - { to: Email, from: Email__c }
)")
                  .problems,
              lines{"m.yaml:4:11: destination field 'Email' is written twice; first at "
                    "m.yaml:2:5"});
}

TEST(compile, the_key_destination_cannot_be_mapped_again) {
    EXPECT_EQ(compile_text("fields:\n  - { to: sfdcContactId, from: Id }\n").problems,
              lines{"m.yaml:2:11: destination field 'sfdcContactId' is the stream key "
                    "(destination.key.destination), filled from Id; it cannot be mapped again"});
}

TEST(compile, unknown_transform_suggests_and_lists) {
    EXPECT_EQ(compile_text(R"(
fields:
  - { to: email, from: Email, transform: [trim, lowr] }
  - { to: phone, from: Phone, transform: [{ fone: E164 }] }
)")
                  .problems,
              (lines{"m.yaml:2:49: unknown transform 'lowr'; did you mean 'lower'? expected one "
                     "of: trim, lower, upper, title, collapse_spaces, truncate, date, phone, "
                     "default",
                     "m.yaml:3:45: unknown transform 'fone'; did you mean 'phone'? expected one "
                     "of: trim, lower, upper, title, collapse_spaces, truncate, date, phone, "
                     "default"}));
}

TEST(compile, phone_arguments_are_checked) {
    EXPECT_EQ(compile_text(R"(
fields:
  - { to: a, from: A, transform: phone }
  - { to: b, from: B, transform: [{ phone: E.164 }] }
  - { to: c, from: C, transform: [{ phone: { format: e164 } }] }
  - { to: d, from: D, transform: [{ phone: { region: FRA } }] }
  - { to: e, from: E, transform: [{ phone: { region: UK } }] }
  - { to: f, from: F, transform: [{ phone: { fromat: E164 } }] }
  - { to: g, from: G, transform: [{ phone: { invalid: drop } }] }
  - { to: h, from: H, transform: [{ phone: [E164] }] }
  - { to: i, from: I, transform: [{ phone: }] }
)")
                  .problems,
              (lines{
                  "m.yaml:2:34: transform 'phone' needs an argument: { phone: E164 }",
                  "m.yaml:3:44: unknown phone format 'E.164'; did you mean 'E164'? expected one "
                  "of: E164, INTERNATIONAL, NATIONAL, RFC3966",
                  "m.yaml:4:54: unknown phone format 'e164'; did you mean 'E164'? expected one "
                  "of: E164, INTERNATIONAL, NATIONAL, RFC3966",
                  "m.yaml:5:54: unknown phone region 'FRA'; expected an ISO 3166-1 two-letter "
                  "code such as FR, US or GB",
                  "m.yaml:6:54: unknown phone region 'UK'; expected an ISO 3166-1 two-letter "
                  "code such as FR, US or GB",
                  "m.yaml:7:46: unknown key 'fromat' in 'fields.f.transform.phone'; did you "
                  "mean 'format'? expected one of: format, region, invalid",
                  "m.yaml:8:55: unknown invalid phone policy 'drop'; expected one of: reject, "
                  "pass, clear",
                  "m.yaml:9:44: 'phone' must be a string, not a list",
                  "m.yaml:10:35: transform 'phone' needs an argument: { phone: E164 }",
              }));
}

TEST(compile, field_info_shows_each_phone_step_with_what_it_resolved_to) {
    const auto c = compile_text(R"(
phone_region: FR
fields:
  - { to: a, from: A, transform: [{ phone: E164 }] }
  - { to: b, from: B, transform: [{ phone: { format: INTERNATIONAL, region: us } }] }
  - { to: c, from: C, transform: [{ phone: { invalid: clear } }] }
)");
    ASSERT_EQ(c.problems, lines{});
    const auto& fields = c.plan->destination_fields();
    EXPECT_EQ(fields[1].transforms, std::vector<std::string>{"phone: E164, region FR"});
    EXPECT_EQ(fields[2].transforms, std::vector<std::string>{"phone: INTERNATIONAL, region US"});
    EXPECT_EQ(fields[3].transforms,
              std::vector<std::string>{"phone: E164, region FR, invalid: clear"});
    EXPECT_EQ(compile_text("fields:\n  - { to: p, from: P, transform: [{ phone: E164 }] }\n")
                  .plan->destination_fields()[1]
                  .transforms,
              std::vector<std::string>{"phone: E164"});
}

TEST(compile, phone_region_of_the_stream_is_checked) {
    EXPECT_EQ(compile_text(R"(
phone_region: Frankreich
fields:
  - { to: phone, from: Phone, transform: [{ phone: E164 }] }
)")
                  .problems,
              lines{"m.yaml:1:15: unknown phone region 'Frankreich'; expected an ISO 3166-1 "
                    "two-letter code such as FR, US or GB"});
    // Lower case is read as the code it spells.
    EXPECT_EQ(compile_text("phone_region: fr\nfields:\n  - { to: p, from: P, transform: [{ "
                           "phone: E164 }] }\n")
                  .problems,
              lines{});
}

TEST(compile, transform_arguments_are_checked) {
    EXPECT_EQ(compile_text(R"(
fields:
  - { to: a, from: A, transform: truncate }
  - { to: b, from: B, transform: [{ truncate: 0 }] }
  - { to: c, from: C, transform: [{ truncate: ten }] }
  - { to: d, from: D, transform: [{ date: "today" }] }
  - { to: e, from: E, transform: [{ date: "%Y-%q" }] }
  - { to: f, from: F, transform: [{ trim: yes }] }
  - { to: g, from: G, transform: [{ truncate: 1, date: "%Y" }] }
  - { to: h, from: H, transform: [[trim]] }
  - { to: i, from: I, transform: [{ truncate: }] }
)")
                  .problems,
              (lines{
                  "m.yaml:2:34: transform 'truncate' needs an argument: { truncate: 80 }",
                  "m.yaml:3:47: truncate needs a positive number of characters, not '0'",
                  "m.yaml:4:47: truncate needs a positive number of characters, not 'ten'",
                  "m.yaml:5:43: date format 'today' has no conversion; expected e.g. "
                  "\"%Y-%m-%d\"",
                  "m.yaml:6:43: unknown directive '%q' in date format '%Y-%q'; expected one of: "
                  "%Y %y %m %d %e %j %H %I %M %S %p %b %h %B %a %A %u %w %F %T %D %R %z %Z %s %%",
                  "m.yaml:7:35: transform 'trim' takes no argument; write it as trim",
                  "m.yaml:8:35: a transform with an argument is written { name: argument }, one "
                  "per list item",
                  "m.yaml:9:35: 'fields.h.transform' items must be a transform name or { name: "
                  "argument }, not a list",
                  "m.yaml:10:35: transform 'truncate' needs an argument: { truncate: 80 }",
              }));
}

TEST(compile, field_entries_reject_unknown_keys_and_bad_inputs) {
    EXPECT_EQ(compile_text(R"(
fields:
  - { to: email, from: Email, tranform: [trim] }
  - { to: city, from: City, coalesce: [A, B] }
  - { to: nothing }
  - { from: X }
  - { to: a, from: "First Name" }
  - { to: b, concat: [FirstName, " ", LastName] }
  - { to: c, coalesce: [] }
  - { to: d, coalesce: Single }
  - { to: e, concat: [{ literal: x }] }
  - { to: f, from: F, required: maybe }
  - just-a-string
)")
                  .problems,
              (lines{
                  "m.yaml:2:31: unknown key 'tranform' in 'fields.email'; did you mean "
                  "'transform'? expected one of: to, from, coalesce, constant, concat, map, "
                  "unmapped, transform, required, default, description",
                  "m.yaml:3:29: 'coalesce' cannot be combined with 'from'; a field reads from "
                  "exactly one of: from, coalesce, constant, concat",
                  "m.yaml:4:5: field 'nothing' needs one of: from, coalesce, constant, concat",
                  "m.yaml:5:5: missing required key 'to' in 'fields[3]'",
                  "m.yaml:6:20: 'First Name' is not a Salesforce field name",
                  "m.yaml:7:34: ' ' is not a Salesforce field name; write literal text as { "
                  "literal: \"...\" }",
                  "m.yaml:8:24: 'coalesce' must be a list of CRM fields, e.g. [MailingCity, City]",
                  "m.yaml:9:24: 'coalesce' must be a list of CRM fields, e.g. [MailingCity, City]",
                  "m.yaml:10:22: 'concat' names no CRM field; use 'constant' for fixed text",
                  "m.yaml:11:33: 'fields.f.required' must be true or false",
                  "m.yaml:12:5: 'fields[10]' must be a map, not a scalar",
              }));
}

TEST(compile, map_and_unmapped_are_checked) {
    EXPECT_EQ(compile_text(R"(
fields:
  - { to: a, from: A, unmapped: pass }
  - { to: b, from: B, map: { x: 1 }, unmapped: default }
  - { to: c, from: C, map: { x: 1 }, unmapped: drop }
  - { to: d, from: D, map: [x, y] }
  - { to: e, from: E, map: { x: 1, x: 2 } }
  - { to: f, from: F, map: { "": blank, x: 1 } }
)")
                  .problems,
              (lines{
                  "m.yaml:2:23: 'unmapped' needs a 'map' beside it",
                  "m.yaml:3:38: 'unmapped: default' needs the field's 'default' value",
                  "m.yaml:4:48: unknown unmapped policy 'drop'; expected one of: reject, pass, "
                  "default",
                  "m.yaml:5:28: 'fields.d.map' must be a map of CRM value to destination value, "
                  "not a list",
                  "m.yaml:6:36: 'x' appears twice in the map; first at line 6, column 30",
                  // Regression: a "" key was accepted and silently never used.
                  "m.yaml:7:30: map key \"\" is never looked up (null and \"\" are not "
                  "translated); use 'default' to fill them",
              }));
}

TEST(compile, a_null_default_is_refused_however_it_is_written) {
    // Regression: the field's `default: ~` and `default:` were accepted and did nothing, as
    // map_view::find reads a null value as absent. The step form needs its argument.
    EXPECT_EQ(compile_text(R"(
fields:
  - { to: a, from: A, default: ~ }
  - { to: b, from: B, default: }
  - { to: c, from: C, default: null }
  - { to: d, from: D, transform: [{ default: ~ }] }
  - { to: e, from: E, default: "" }
  - { to: f, from: F, default: "~" }
)")
                  .problems,
              (lines{
                  "m.yaml:2:23: 'default: ~' has no effect; remove it",
                  "m.yaml:3:23: 'default: ~' has no effect; remove it",
                  "m.yaml:4:23: 'default: ~' has no effect; remove it",
                  "m.yaml:5:35: transform 'default' needs an argument: { default: VALUE }",
              }));
}

TEST(compile, fields_must_be_a_list) {
    EXPECT_EQ(compile_text("description: x\n").problems,
              lines{"m.yaml:1:9: stream 'contacts' has no 'fields' to map"});
    EXPECT_EQ(compile_text("fields: { to: a }\n").problems,
              lines{"m.yaml:1:9: 'fields' must be a list of field entries, not a map"});
}

TEST(compile, skip_if_is_checked) {
    EXPECT_EQ(compile_text(R"(
fields: [{ to: a, from: A }]
skip_if:
  - { field: Email, is: blank }
  - { field: Email }
  - { field: Email, equals: x, in: [y] }
  - { is: empty }
  - { field: Email, in: [] }
  - { field: Email, equals: ~ }
  - { field: Email, op: empty }
)")
                  .problems,
              (lines{
                  "m.yaml:3:25: unknown condition 'blank'; expected one of: empty, not_empty",
                  "m.yaml:4:5: 'skip_if[1]' needs one of: is: empty | not_empty, equals: V, "
                  "in: [..]",
                  "m.yaml:5:32: 'in' cannot be combined with 'equals' in one condition; use a "
                  "list of conditions",
                  "m.yaml:6:5: missing required key 'field' in 'skip_if[3]'",
                  "m.yaml:7:25: 'skip_if[4].in' must be a non-empty list of values",
                  "m.yaml:8:21: missing required key 'equals' in 'skip_if[5]' (use 'is: empty' "
                  "to test for no value)",
                  "m.yaml:9:5: 'skip_if[6]' needs one of: is: empty | not_empty, equals: V, "
                  "in: [..]",
                  "m.yaml:9:21: unknown key 'op' in 'skip_if[6]'; did you mean 'is'? expected "
                  "one of: field, is, equals, in",
              }));
}

TEST(compile, every_problem_is_collected_and_no_plan_is_returned) {
    const auto c = compile_text(R"(
fields:
  - { to: a, from: A, transform: [nope] }
  - { to: a, from: B }
  - { to: c, from: C, transform: [{ date: "" }] }
)");
    EXPECT_EQ(c.plan, nullptr);
    EXPECT_EQ(c.problems.size(), 3u);
}

TEST(compile_all, keeps_the_streams_that_compile) {
    config::config cfg;
    cfg.streams.push_back(testing::make_stream("fields: [{ to: a, from: A }]\n"));
    cfg.streams.push_back(testing::make_stream("fields: [{ to: a, from: 'A B' }]\n"));
    cfg.streams.back().name = "broken";
    config::diagnostics d;
    const auto plans = compile_all(cfg, d);
    EXPECT_EQ(plans.size(), 1u);
    EXPECT_TRUE(plans.contains("contacts"));
    EXPECT_EQ(d.size(), 1u);
}

}  // namespace
}  // namespace crmsync::mapping
