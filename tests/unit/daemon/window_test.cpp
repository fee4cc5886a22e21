#include "crmsync/daemon/stream_cycle.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

namespace crmsync::daemon {
namespace {

using namespace std::chrono_literals;

timestamp at(const char* s) {
    return *timestamp::parse(s);
}

TEST(window, initial_load_has_no_lower_bound) {
    const auto w = compute_window(std::nullopt, 5min, 30s, at("2026-11-23T10:00:45.600Z").at);
    EXPECT_FALSE(w.from);
    EXPECT_EQ(w.before.to_iso(), "2026-11-23T10:00:15.000Z");
}

TEST(window, reads_back_by_the_overlap_in_whole_seconds) {
    const state::watermark wm{at("2026-11-23T09:58:10.900Z"), "003A"};
    const auto w = compute_window(wm, 5min, 30s, at("2026-11-23T10:00:45.600Z").at);
    ASSERT_TRUE(w.from);
    // Rounded down: a record in the same second as the watermark compares equal in SOQL.
    EXPECT_EQ(w.from->to_iso(), "2026-11-23T09:53:10.000Z");
    EXPECT_EQ(w.before.to_iso(), "2026-11-23T10:00:15.000Z");
}

TEST(window, zero_overlap_still_rereads_the_watermark_second) {
    const state::watermark wm{at("2026-11-23T09:58:10.900Z"), "003A"};
    const auto w = compute_window(wm, 0s, 0s, at("2026-11-23T10:00:00Z").at);
    EXPECT_EQ(w.from->to_iso(), "2026-11-23T09:58:10.000Z");
}

}  // namespace
}  // namespace crmsync::daemon

namespace crmsync::daemon {
namespace {

TEST(fingerprint, payload_when_mapped_source_values_when_rejected) {
    record r;
    r.id = "003A";
    r.columns = {value::string("A@Example.com")};
    const payload p{{value::string("a@example.com")}};
    EXPECT_EQ(fingerprint(r, p), payload_digest(p));
    const mapping::map_result refused = rejected{category::validation, "REQUIRED_MISSING", "x"};
    EXPECT_EQ(fingerprint(r, refused), payload_digest(payload{r.columns}));
    EXPECT_NE(fingerprint(r, refused), fingerprint(r, p));
}

TEST(key_hash, matches_keys_as_marketo_does_without_regard_to_ascii_case) {
    EXPECT_EQ(key_hash("Anna.Smith@Example.COM"), key_hash("anna.smith@example.com"));
    EXPECT_EQ(key_hash("0035g0000000001AAA"), key_hash("0035G0000000001aaa"));
    // Only ASCII folds, as to_lower_ascii did: other bytes are compared as they are.
    EXPECT_NE(key_hash("zo\xc3\xab@example.com"), key_hash("zo\xc3\x8b@example.com"));
    // Distinct keys of one batch, the ids of consecutive records included, stay distinct.
    std::set<std::uint64_t> seen;
    for (int i = 0; i < 100'000; ++i)
        seen.insert(key_hash(fmt::format("contact{}@example.com", i)));
    EXPECT_EQ(seen.size(), 100'000u);
    EXPECT_NE(key_hash(""), key_hash("a"));
}

}  // namespace
}  // namespace crmsync::daemon
