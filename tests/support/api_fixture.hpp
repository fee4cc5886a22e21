#pragma once
// Reads a sample body from ../shared/api-fixtures/<api>/<name> (CRMSYNC_FIXTURES, set by the
// test's CMake target). A missing file fails the test that asked for it instead of handing it
// an empty body that some parsers would accept.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace crmsync::testing {

inline std::string api_fixture(const std::string& api, const std::string& name) {
    const std::string path = std::string(CRMSYNC_FIXTURES) + "/" + api + "/" + name;
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << "no fixture " << path;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace crmsync::testing
