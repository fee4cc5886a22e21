// The checked-in example (tests/data/config/example, the SPEC §3 sample) loads without a
// problem and every stream compiles: config and mapping agree on the same files.

#include "crmsync/config/load.hpp"
#include "crmsync/mapping/compile.hpp"

#include "test_support.hpp"
#include <gtest/gtest.h>

#include <cstdlib>

namespace crmsync::mapping {
namespace {

TEST(example, loads_and_compiles) {
    for (const char* name : {"SF_CLIENT_ID",
                             "MKTO_CLIENT_ID",
                             "MKTO_CLIENT_SECRET",
                             "SFMC_CLIENT_ID",
                             "SFMC_CLIENT_SECRET"}) {
        ::setenv(name, "from-env", 1);
    }
    const auto l = config::load(CRMSYNC_TEST_DATA_DIR "/config/example/crmsync.yaml");
    std::vector<std::string> problems;
    for (const auto& d : l.problems.sorted())
        problems.push_back(d.to_string());
    ASSERT_EQ(problems, std::vector<std::string>{});
    EXPECT_EQ(l.cfg.sources.at("prod_org").auth.client_secret.reveal(), "not-a-real-secret");

    config::diagnostics d;
    const auto plans = compile_all(l.cfg, d);
    for (const auto& x : d.sorted())
        ADD_FAILURE() << x.to_string();
    ASSERT_EQ(plans.size(), 2u);

    const auto& leads = *plans.at("leads_fr");
    EXPECT_EQ(leads.source_columns(),
              (std::vector<std::string>{
                  "Id", "Email", "FirstName", "LastName", "Company", "Status", "CreatedDate"}));
    using testing::str;
    const auto r =
        leads.apply(testing::row(leads,
                                 {{"Id", str("00Q1")},
                                  {"Email", str("Ada@Example.com")},
                                  {"FirstName", str("ADA")},
                                  {"LastName", str("lovelace  king")},
                                  {"Status", str("Nurturing")},
                                  {"CreatedDate", str("2024-03-01T09:30:00.000+0100")}}));
    ASSERT_TRUE(std::holds_alternative<payload>(r));
    EXPECT_EQ(std::get<payload>(r).fields,
              (std::vector<value>{str("00Q1"),
                                  str("ada@example.com"),
                                  str("Ada Lovelace King"),
                                  str("(none)"),
                                  str("crmsync"),
                                  str("other"),
                                  str("2024-03-01T08:30:00Z")}));

    const auto& contacts = *plans.at("contacts");
    EXPECT_TRUE(contacts.skip(testing::row(contacts, {{"RecordType.Name", str("Test")}})));
}

}  // namespace
}  // namespace crmsync::mapping
