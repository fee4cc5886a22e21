#include "crmsync/mapping/dictionary.hpp"

#include "test_support.hpp"

namespace crmsync::mapping {
namespace {

using testing::make_stream;

struct fixture {
    config::stream leads;
    config::stream contacts;
    std::shared_ptr<const plan> leads_plan;
    std::shared_ptr<const plan> contacts_plan;

    fixture() {
        contacts = make_stream(R"(
fields:
  - { to: email, from: Email, transform: [trim, lower], required: true, description: "Work email" }
  - to: city
    coalesce: [MailingCity, City_A__c]
    description: 'First non-empty, "as typed" | raw'
  - { to: note, from: Note__c, transform: [{ default: "n/a, none" }] }
)");
        contacts.source = {.from = "org", .object = "Contact"};
        contacts.destination.to = "mkto";
        leads = make_stream(R"(
fields:
  - { to: company, from: Company }
)",
                            "Id",
                            "sfdcLeadId");
        leads.name = "leads";
        leads.source = {.from = "org", .object = "Lead"};
        leads.destination.to = "mkto";
        config::diagnostics d;
        contacts_plan = compile(contacts, d);
        leads_plan = compile(leads, d);
        EXPECT_TRUE(d.empty());
    }

    // Given out of name order on purpose: the output sorts them.
    std::vector<documented_stream> streams() const {
        return {{&leads, leads_plan.get()}, {&contacts, contacts_plan.get()}};
    }
};

TEST(dictionary, csv_field_quotes_only_what_rfc_4180_requires) {
    EXPECT_EQ(csv_field("plain text"), "plain text");
    EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
    EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
    EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
    EXPECT_EQ(csv_field(""), "");
}

TEST(dictionary, csv_has_the_header_then_one_row_per_field_streams_sorted_key_first) {
    const fixture f;
    const auto s = f.streams();
    EXPECT_EQ(dictionary_csv(s),
              "stream,destination_field,type,length,source_fields,transforms,required,key,"
              "description\r\n"
              "contacts,sfdcContactId,,,Id,,true,true,stream key (destination.key)\r\n"
              "contacts,email,,,Email,trim > lower,true,false,Work email\r\n"
              "contacts,city,,,\"MailingCity, City_A__c\",,false,false,"
              "\"First non-empty, \"\"as typed\"\" | raw\"\r\n"
              "contacts,note,,,Note__c,\"default: n/a, none\",false,false,\r\n"
              "leads,sfdcLeadId,,,Id,,true,true,stream key (destination.key)\r\n"
              "leads,company,,,Company,,false,false,\r\n");
}

TEST(dictionary, a_read_describe_gives_each_field_its_type_and_length_or_says_it_is_missing) {
    const fixture f;
    auto s = f.streams();
    // contacts: sfdcContactId, email, city, note — note is not in the destination.
    s[1].described =
        std::vector<std::optional<described_field>>{described_field{"string", 255},
                                                    described_field{"email", 255},
                                                    described_field{"string", std::nullopt},
                                                    std::nullopt};
    const auto csv = dictionary_csv(s);
    EXPECT_NE(csv.find("contacts,sfdcContactId,string,255,Id,"), std::string::npos) << csv;
    EXPECT_NE(csv.find("contacts,email,email,255,Email,"), std::string::npos) << csv;
    EXPECT_NE(csv.find("contacts,city,string,,\"MailingCity"), std::string::npos) << csv;
    EXPECT_NE(csv.find("contacts,note,(not in destination),,Note__c,"), std::string::npos) << csv;
    // leads was not described: its cells stay empty.
    EXPECT_NE(csv.find("leads,company,,,Company,"), std::string::npos) << csv;
    const auto md = dictionary_markdown(s);
    EXPECT_NE(
        md.find("| `email` | email | 255 | `Email` | `trim`, `lower` | yes |  | Work email |"),
        std::string::npos)
        << md;
    EXPECT_NE(md.find("| `note` | (not in destination) |  | `Note__c` |"), std::string::npos) << md;
}

TEST(dictionary, markdown_has_a_section_and_a_table_per_stream) {
    const fixture f;
    const auto s = f.streams();
    const auto md = dictionary_markdown(s);
    const auto contacts = md.find("\n## contacts\n");
    const auto leads = md.find("\n## leads\n");
    ASSERT_NE(contacts, std::string::npos) << md;
    ASSERT_NE(leads, std::string::npos) << md;
    EXPECT_LT(contacts, leads);
    EXPECT_NE(md.find("CRM object `Contact` (source `org`) → destination object `lead` "
                      "(destination `mkto`), key `Id` → `sfdcContactId`."),
              std::string::npos)
        << md;
    EXPECT_NE(
        md.find("| `sfdcContactId` |  |  | `Id` |  | yes | key | stream key (destination.key) |"),
        std::string::npos)
        << md;
    EXPECT_NE(md.find("| `email` |  |  | `Email` | `trim`, `lower` | yes |  | Work email |"),
              std::string::npos)
        << md;
    // A '|' in a description would split the cell.
    EXPECT_NE(md.find("| `city` |  |  | `MailingCity`, `City_A__c` |  |  |  | First non-empty, "
                      "\"as typed\" \\| raw |"),
              std::string::npos)
        << md;
    EXPECT_NE(md.find("blank where it was not read"), std::string::npos);
    EXPECT_EQ(md, dictionary_markdown(s)) << "deterministic";
}

}  // namespace
}  // namespace crmsync::mapping
