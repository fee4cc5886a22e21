#include "crmsync/config/enum_table.hpp"

#include <gtest/gtest.h>

namespace crmsync::config {
namespace {

TEST(enum_table, parses_and_names_every_value) {
    for (const auto name : auth_flows.names()) {
        const auto v = auth_flows.parse(name);
        ASSERT_TRUE(v) << name;
        EXPECT_EQ(auth_flows.name(*v), name);
        EXPECT_EQ(to_string(*v), name);
    }
    EXPECT_EQ(auth_flows.parse("Password"), std::nullopt);  // exact, case-sensitive
    EXPECT_EQ(to_string(deletes_mode::remove), "delete");
    EXPECT_EQ(to_string(deletes_mode::flag), "flag");
    EXPECT_EQ(to_string(destination_kind::sfmc), "sfmc");
    EXPECT_EQ(to_string(converted_mode::follow_contact), "follow_contact");
}

TEST(enum_table, unknown_lists_values_and_suggests_within_distance_3) {
    EXPECT_EQ(auth_flows.unknown("jwt"),
              "unknown flow 'jwt'; expected one of: client_credentials, jwt_bearer, "
              "refresh_token, password");
    EXPECT_EQ(auth_flows.unknown("pasword"),
              "unknown flow 'pasword'; did you mean 'password'? expected one of: "
              "client_credentials, jwt_bearer, refresh_token, password");
    EXPECT_EQ(sync_actions.unknown("createorupdate"),
              "unknown action 'createorupdate'; did you mean 'createOrUpdate'? expected one of: "
              "createOnly, updateOnly, createOrUpdate, createDuplicate");
}

TEST(unknown_message, with_context) {
    const std::array<std::string_view, 2> keys{"level", "format"};
    EXPECT_EQ(unknown_message("key", "levl", keys, "'log'"),
              "unknown key 'levl' in 'log'; did you mean 'level'? expected one of: level, format");
    EXPECT_EQ(unknown_message("key", "colour", keys),
              "unknown key 'colour'; expected one of: level, format");
}

}  // namespace
}  // namespace crmsync::config
