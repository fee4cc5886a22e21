#include "crmsync/observability/events.hpp"

#include "crmsync/observability/health.hpp"
#include "crmsync/observability/log.hpp"
#include "crmsync/observability/metrics.hpp"

#include "prometheus_text.hpp"
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

namespace crmsync::observability {
namespace {

// Each test uses its own stream name, so the process-wide counters start at zero for it.
testing::exposition scrape() {
    auto parsed = testing::parse_exposition(metrics().render());
    EXPECT_TRUE(parsed.problems.empty()) << parsed.problems.front();
    return parsed;
}

class events : public ::testing::Test {
protected:
    // Logs at error only: the lines are tested in log_test; here it is the metrics.
    void SetUp() override { init_logging({.min_level = level::error, .json = true}); }
};

TEST_F(events, every_metric_is_declared_before_its_first_event) {
    declare_event_metrics();
    const auto m = scrape();
    for (const auto* name : {"crmsync_records_read_total",
                             "crmsync_records_sent_total",
                             "crmsync_records_delivered_total",
                             "crmsync_records_unchanged_total",
                             "crmsync_records_skipped_total",
                             "crmsync_records_rejected_total",
                             "crmsync_batches_total",
                             "crmsync_batch_duration_seconds",
                             "crmsync_stream_runs_total",
                             "crmsync_stream_failures_total",
                             "crmsync_api_retries_total",
                             "crmsync_watermark_superseded_total",
                             "crmsync_api_calls_total",
                             "crmsync_api_call_duration_seconds",
                             "crmsync_api_quota_limit_calls",
                             "crmsync_api_quota_remaining_calls",
                             "crmsync_destination_describes_total"}) {
        ASSERT_TRUE(m.families.count(name)) << name;
        EXPECT_FALSE(m.families.at(name).help.empty()) << name;
    }
    EXPECT_EQ(m.families.at("crmsync_batch_duration_seconds").type, "histogram");
    EXPECT_EQ(m.families.at("crmsync_api_quota_remaining_calls").type, "gauge");
}

TEST_F(events, batch_sent_counts_records_batches_and_latency) {
    emit(batch_sent{.stream = "ev_batch",
                    .object = "Contact",
                    .batch_id = 1,
                    .sent = 300,
                    .created = 250,
                    .updated = 48,
                    .rejected = 2,
                    .duration_ms = 1500});
    emit(batch_sent{.stream = "ev_batch", .sent = 10, .updated = 10, .duration_ms = 20});
    const auto m = scrape();
    const std::map<std::string, std::string> s{{"stream", "ev_batch"}};
    EXPECT_EQ(m.value("crmsync_records_sent_total", s), 310);
    EXPECT_EQ(
        m.value("crmsync_records_delivered_total", {{"stream", "ev_batch"}, {"result", "created"}}),
        250);
    EXPECT_EQ(
        m.value("crmsync_records_delivered_total", {{"stream", "ev_batch"}, {"result", "updated"}}),
        58);
    EXPECT_EQ(m.value("crmsync_batches_total", s), 2);
    EXPECT_EQ(m.value("crmsync_batch_duration_seconds_count", s), 2);
    EXPECT_EQ(m.value("crmsync_batch_duration_seconds_sum", s), 1.52);
    EXPECT_EQ(
        m.value("crmsync_batch_duration_seconds_bucket", {{"stream", "ev_batch"}, {"le", "1"}}), 1);
    EXPECT_EQ(
        m.value("crmsync_batch_duration_seconds_bucket", {{"stream", "ev_batch"}, {"le", "2.5"}}),
        2);
}

TEST_F(events, record_rejected_counts_by_category_and_code) {
    emit(record_rejected{.stream = "ev_rej", .cat = category::duplicate, .code = "1007"});
    emit(record_rejected{.stream = "ev_rej", .cat = category::duplicate, .code = "1007"});
    emit(record_rejected{.stream = "ev_rej",
                         .cat = category::validation,
                         .code = "REQUIRED_MISSING",
                         .preflight = true});
    const auto m = scrape();
    EXPECT_EQ(m.value("crmsync_records_rejected_total",
                      {{"stream", "ev_rej"}, {"category", "duplicate"}, {"code", "1007"}}),
              2);
    EXPECT_EQ(
        m.value("crmsync_records_rejected_total",
                {{"stream", "ev_rej"}, {"category", "validation"}, {"code", "REQUIRED_MISSING"}}),
        1);
}

TEST_F(events, a_run_summary_counts_reads_skips_and_the_run_by_status) {
    emit(stream_run_finished{
        .stream = "ev_run", .status = "ok", .read = 40, .unchanged = 30, .skipped = 2});
    emit(stream_run_finished{.stream = "ev_run", .status = "paused", .read = 5});
    const auto m = scrape();
    EXPECT_EQ(m.value("crmsync_records_read_total", {{"stream", "ev_run"}}), 45);
    EXPECT_EQ(m.value("crmsync_records_unchanged_total", {{"stream", "ev_run"}}), 30);
    EXPECT_EQ(m.value("crmsync_records_skipped_total", {{"stream", "ev_run"}}), 2);
    EXPECT_EQ(m.value("crmsync_stream_runs_total", {{"stream", "ev_run"}, {"status", "ok"}}), 1);
    EXPECT_EQ(m.value("crmsync_stream_runs_total", {{"stream", "ev_run"}, {"status", "paused"}}),
              1);
}

TEST_F(events, failures_and_retries_are_counted_by_their_bounded_kind) {
    emit(api_call_failed{.system = "ev_sys", .attempt = 1, .what = make_failure(errc::timeout)});
    emit(stream_failed{.stream = "ev_fail", .what = make_failure(errc::quota_exhausted, "607")});
    emit(stream_failed{.stream = "ev_fail", .what = make_failure(errc::transient, "503")});
    emit(watermark_superseded{.stream = "ev_fail"});
    const auto m = scrape();
    EXPECT_EQ(m.value("crmsync_api_retries_total", {{"system", "ev_sys"}}), 1);
    EXPECT_EQ(
        m.value("crmsync_stream_failures_total", {{"stream", "ev_fail"}, {"state", "paused"}}), 1);
    EXPECT_EQ(
        m.value("crmsync_stream_failures_total", {{"stream", "ev_fail"}, {"state", "failing"}}), 1);
    EXPECT_EQ(m.value("crmsync_watermark_superseded_total", {{"stream", "ev_fail"}}), 1);
}

TEST_F(events, describes_count_by_result) {
    emit(destination_described{.stream = "ev_desc", .object = "lead", .fields = 17});
    emit(destination_described{
        .stream = "ev_desc", .object = "lead", .fields = 3, .unmapped_required = {"vin"}});
    emit(destination_describe_failed{.stream = "ev_desc", .what = make_failure(errc::timeout)});
    const auto m = scrape();
    EXPECT_EQ(
        m.value("crmsync_destination_describes_total", {{"stream", "ev_desc"}, {"result", "ok"}}),
        2);
    EXPECT_EQ(m.value("crmsync_destination_describes_total",
                      {{"stream", "ev_desc"}, {"result", "failed"}}),
              1);
}

TEST_F(events, api_calls_count_by_status_class_and_quota_sets_what_is_left) {
    emit(api_call{.system = "salesforce", .instance = "ev_org", .method = "GET", .status = 200});
    emit(api_call{.system = "salesforce", .instance = "ev_org", .method = "GET", .status = 503});
    emit(api_call{.system = "salesforce",
                  .instance = "ev_org",
                  .method = "GET",
                  .error = "connect refused",
                  .duration_ms = 3});
    emit(api_quota{.system = "salesforce", .instance = "ev_org", .used = 1200, .limit = 3000});
    auto m = scrape();
    const auto calls = [&](const char* status) {
        return m.value("crmsync_api_calls_total",
                       {{"system", "salesforce"}, {"instance", "ev_org"}, {"status", status}});
    };
    EXPECT_EQ(calls("2xx"), 1);
    EXPECT_EQ(calls("5xx"), 1);
    EXPECT_EQ(calls("error"), 1);
    const std::map<std::string, std::string> q{{"system", "salesforce"}, {"instance", "ev_org"}};
    EXPECT_EQ(m.value("crmsync_api_quota_limit_calls", q), 3000);
    EXPECT_EQ(m.value("crmsync_api_quota_remaining_calls", q), 1800);
    emit(api_quota{.system = "salesforce", .instance = "ev_org", .used = 3500, .limit = 3000});
    m = scrape();
    EXPECT_EQ(m.value("crmsync_api_quota_remaining_calls", q), 0) << "never negative";
}

}  // namespace
}  // namespace crmsync::observability

namespace crmsync::observability {
namespace {

// docs/operations.md lists every metric: a metric added without its row, or a row left behind
// by a removed metric, fails here.
TEST(metrics_docs, operations_md_lists_exactly_the_metrics_crmsync_exports) {
    declare_event_metrics();
    health();  // registers the collector of the stream gauges
    const auto exported = testing::parse_exposition(metrics().render());
    std::ifstream in(std::string(CRMSYNC_SOURCE_DIR) + "/docs/operations.md");
    ASSERT_TRUE(in) << "docs/operations.md";
    std::set<std::string> documented;
    const std::regex row(R"(^\| `(crmsync_[a-z_]+)` \| (counter|gauge|histogram) \|)");
    std::map<std::string, std::string> types;
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_search(line, m, row)) {
            documented.insert(m[1]);
            types[m[1]] = m[2];
        }
    }
    for (const auto& [name, family] : exported.families) {
        EXPECT_TRUE(documented.count(name)) << name << " is exported but not in operations.md";
        if (documented.count(name)) {
            EXPECT_EQ(types[name], family.type) << name;
        }
    }
    for (const auto& name : documented)
        EXPECT_TRUE(exported.families.count(name)) << name << " is documented but not exported";
}

}  // namespace
}  // namespace crmsync::observability
