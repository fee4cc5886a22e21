#include "crmsync/observability/health.hpp"

#include "crmsync/observability/metrics.hpp"

#include "prometheus_text.hpp"
#include <gtest/gtest.h>

namespace crmsync::observability {
namespace {

using namespace std::chrono_literals;

const sys_ms t0{std::chrono::sys_days{std::chrono::year{2026} / 3 / 1}};

const stream_health& find(const std::vector<stream_health>& all, std::string_view name) {
    for (const auto& h : all) {
        if (h.stream == name)
            return h;
    }
    static const stream_health none{.stream = "<absent>"};
    return none;
}

TEST(health_state, names_are_stable) {
    EXPECT_EQ(to_string(stream_state::ok), "ok");
    EXPECT_EQ(to_string(stream_state::running), "running");
    EXPECT_EQ(to_string(stream_state::paused), "paused");
    EXPECT_EQ(to_string(stream_state::drift), "drift");
    EXPECT_EQ(to_string(stream_state::auth_failed), "auth_failed");
    EXPECT_EQ(to_string(stream_state::failing), "failing");
    EXPECT_TRUE(healthy(stream_state::ok));
    EXPECT_TRUE(healthy(stream_state::running));
    EXPECT_FALSE(healthy(stream_state::paused));
    EXPECT_FALSE(healthy(stream_state::failing));
}

TEST(health_state, a_failure_decides_the_state_after_the_run) {
    const struct {
        errc code;
        stream_state before, after;
    } rows[] = {
        {errc::quota_exhausted, stream_state::ok, stream_state::paused},
        {errc::schema_drift, stream_state::ok, stream_state::drift},
        {errc::auth_rejected, stream_state::ok, stream_state::auth_failed},
        {errc::timeout, stream_state::ok, stream_state::failing},
        {errc::transient, stream_state::paused, stream_state::failing},
        {errc::bad_response, stream_state::ok, stream_state::failing},
        {errc::cancelled, stream_state::failing, stream_state::failing},
        {errc::cancelled, stream_state::ok, stream_state::ok},
    };
    for (const auto& r : rows) {
        EXPECT_EQ(state_after(make_failure(r.code), r.before), r.after)
            << make_error_code(r.code).message();
    }
}

TEST(health_registry, tracks_exactly_the_configured_streams) {
    health_registry h;
    EXPECT_TRUE(h.ready()) << "nothing tracked";
    h.track({"b", "a"});
    auto all = h.snapshot();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].stream, "a");  // sorted
    EXPECT_EQ(all[0].state, stream_state::ok);
    EXPECT_FALSE(all[0].last_run);
    EXPECT_TRUE(h.ready());

    const auto f = make_failure(errc::timeout, "query Contact");
    h.run_finished("a", &f, t0);
    h.track({"a", "c"});  // a reload: b removed, c added, a keeps its state
    all = h.snapshot();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(find(all, "a").state, stream_state::failing);
    EXPECT_EQ(find(all, "c").state, stream_state::ok);
    EXPECT_EQ(find(all, "b").stream, "<absent>");
    h.set("b", stream_state::drift, "gone", t0);  // untracked: ignored
    EXPECT_EQ(h.snapshot().size(), 2u);
}

TEST(health_registry, a_run_shows_running_and_its_end_decides) {
    health_registry h;
    h.track({"contacts"});
    h.run_started("contacts");
    auto s = h.snapshot()[0];
    EXPECT_EQ(s.state, stream_state::running);
    EXPECT_TRUE(s.running);
    EXPECT_TRUE(h.ready());

    h.run_finished("contacts", nullptr, t0);
    s = h.snapshot()[0];
    EXPECT_EQ(s.state, stream_state::ok);
    EXPECT_FALSE(s.running);
    EXPECT_EQ(s.last_run, t0);
    EXPECT_EQ(s.consecutive_failures, 0);
}

TEST(health_registry, a_failing_stream_stays_unready_while_it_retries) {
    health_registry h;
    h.track({"contacts"});
    const auto f = make_failure(errc::transient, "http 503");
    h.run_finished("contacts", &f, t0);
    EXPECT_FALSE(h.ready());
    h.run_started("contacts");
    auto s = h.snapshot()[0];
    EXPECT_EQ(s.state, stream_state::failing) << "no flap to ready during the retry run";
    EXPECT_TRUE(s.running);
    EXPECT_FALSE(h.ready());
    h.run_finished("contacts", &f, t0 + 1min);
    s = h.snapshot()[0];
    EXPECT_EQ(s.consecutive_failures, 2);
    EXPECT_EQ(s.since, t0) << "since: when the state changed, not the last failure";
    EXPECT_EQ(s.reason, "http 503");
    h.run_finished("contacts", nullptr, t0 + 2min);
    EXPECT_TRUE(h.ready());
    EXPECT_TRUE(h.snapshot()[0].reason.empty());
}

TEST(health_registry, a_quota_pauses_until_the_reset_the_failure_names) {
    health_registry h;
    h.track({"contacts"});
    auto f = make_failure(errc::quota_exhausted, "Marketo 607: daily quota reached");
    f.retry_after = 5h;
    h.run_finished("contacts", &f, t0);
    const auto s = h.snapshot()[0];
    EXPECT_EQ(s.state, stream_state::paused);
    EXPECT_EQ(s.until, t0 + 5h);
    EXPECT_FALSE(h.ready());
}

TEST(health_registry, cancellation_leaves_the_state_as_it_was) {
    health_registry h;
    h.track({"contacts"});
    const auto drift = make_failure(errc::schema_drift, "Contact.City_A__c vanished");
    h.run_finished("contacts", &drift, t0);
    h.run_started("contacts");
    const auto stop = make_failure(errc::cancelled, "stopped by signal");
    h.run_finished("contacts", &stop, t0 + 1min);
    const auto s = h.snapshot()[0];
    EXPECT_EQ(s.state, stream_state::drift);
    EXPECT_FALSE(s.running);
    EXPECT_EQ(s.last_run, t0) << "a cancelled run is not a finished one";
}

TEST(health_registry, set_declares_a_state_found_outside_a_run) {
    health_registry h;
    h.track({"contacts"});
    h.set("contacts", stream_state::paused, "Marketo daily quota spent", t0, t0 + 3h);
    auto s = h.snapshot()[0];
    EXPECT_EQ(s.state, stream_state::paused);
    EXPECT_EQ(s.until, t0 + 3h);
    EXPECT_EQ(s.reason, "Marketo daily quota spent");
    h.set("contacts", stream_state::running, "ignored", t0);  // running is the run's flag
    s = h.snapshot()[0];
    EXPECT_EQ(s.state, stream_state::ok);
    EXPECT_TRUE(s.reason.empty());
    EXPECT_FALSE(s.until);
}

TEST(health_metrics, collect_publishes_states_health_and_watermark_lag) {
    health_registry h;
    h.track({"contacts", "leads"});
    h.set_watermark("contacts", t0 - 90s);
    const auto f = make_failure(errc::auth_rejected, "token: invalid_client");
    h.run_finished("leads", &f, t0);
    registry r;
    collect_health(h, r, t0);
    auto parsed = testing::parse_exposition(r.render());
    ASSERT_TRUE(parsed.problems.empty()) << parsed.problems.front();
    EXPECT_EQ(parsed.value("crmsync_stream_state", {{"stream", "contacts"}, {"state", "ok"}}), 1);
    EXPECT_EQ(parsed.value("crmsync_stream_state", {{"stream", "contacts"}, {"state", "failing"}}),
              0);
    EXPECT_EQ(parsed.value("crmsync_stream_state", {{"stream", "leads"}, {"state", "auth_failed"}}),
              1);
    EXPECT_EQ(parsed.value("crmsync_stream_healthy", {{"stream", "contacts"}}), 1);
    EXPECT_EQ(parsed.value("crmsync_stream_healthy", {{"stream", "leads"}}), 0);
    EXPECT_EQ(parsed.value("crmsync_watermark_lag_seconds", {{"stream", "contacts"}}), 90);
    EXPECT_FALSE(parsed.value("crmsync_watermark_lag_seconds", {{"stream", "leads"}}))
        << "no watermark, no lag";

    h.track({"contacts"});  // reload removed leads: its series go
    collect_health(h, r, t0 + 10s);
    parsed = testing::parse_exposition(r.render());
    EXPECT_FALSE(parsed.value("crmsync_stream_healthy", {{"stream", "leads"}}));
    EXPECT_EQ(parsed.value("crmsync_watermark_lag_seconds", {{"stream", "contacts"}}), 100);
}

TEST(health_metrics, the_global_registry_is_published_in_the_global_metrics) {
    health().track({"published_stream"});
    const auto parsed = testing::parse_exposition(metrics().render());
    ASSERT_TRUE(parsed.problems.empty()) << parsed.problems.front();
    EXPECT_EQ(parsed.value("crmsync_stream_healthy", {{"stream", "published_stream"}}), 1);
    health().track({});
}

}  // namespace
}  // namespace crmsync::observability
