#include "crmsync/daemon/stream_cycle.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace crmsync::daemon
