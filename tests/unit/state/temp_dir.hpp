#pragma once
// Test helpers for the state module: a private temporary directory per test, an injectable
// clock, and a raw view of the tables that does not go through the store under test.

#include "crmsync/core/clock.hpp"
#include "crmsync/core/hash.hpp"
#include "crmsync/state/sqlite.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

namespace crmsync::state::testing {

class temp_dir {
public:
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "crmsync-state-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr)
            std::abort();
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ec;
        // Tests may have taken write permission away; give it back so cleanup works.
        std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
        std::filesystem::remove_all(path_, ec);
    }

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// A clock the test moves by hand.
struct manual_clock {
    sys_ms now = sys_ms{std::chrono::milliseconds{1'700'000'000'123}};

    clock_fn fn() {
        return [this] { return now; };
    }
    void advance(std::chrono::milliseconds d) { now += d; }
};

inline digest make_digest(std::uint8_t seed) {
    digest d{};
    for (std::size_t i = 0; i < d.size(); ++i)
        d[i] = static_cast<std::uint8_t>(seed + i);
    return d;
}

inline timestamp at_ms(std::int64_t ms) {
    return timestamp{sys_ms{std::chrono::milliseconds{ms}}};
}

// One value from a second connection: what is really in the file, not what the store says.
inline std::int64_t query_int(const std::filesystem::path& db_path, const std::string& sql) {
    auto db = sqlite::connection::open(db_path);
    if (!db) {
        ADD_FAILURE() << db.error().message();
        return -1;
    }
    auto s = db->prepare("test query", sql);
    if (!s) {
        ADD_FAILURE() << s.error().message();
        return -1;
    }
    auto row = s->step("test query");
    if (!row || !*row) {
        ADD_FAILURE() << "no row for " << sql;
        return -1;
    }
    return s->column_int(0);
}

inline std::string query_text(const std::filesystem::path& db_path, const std::string& sql) {
    auto db = sqlite::connection::open(db_path);
    if (!db) {
        ADD_FAILURE() << db.error().message();
        return {};
    }
    auto s = db->prepare("test query", sql);
    if (!s) {
        ADD_FAILURE() << s.error().message();
        return {};
    }
    auto row = s->step("test query");
    if (!row || !*row) {
        ADD_FAILURE() << "no row for " << sql;
        return {};
    }
    return s->column_text(0);
}

inline void exec_sql(const std::filesystem::path& db_path, const std::string& sql) {
    auto db = sqlite::connection::open(db_path);
    ASSERT_TRUE(db) << db.error().message();
    auto r = db->exec("test exec", sql);
    ASSERT_TRUE(r) << r.error().message();
}

}  // namespace crmsync::state::testing
