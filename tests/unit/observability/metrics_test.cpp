#include "crmsync/observability/metrics.hpp"

#include "prometheus_text.hpp"
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

namespace crmsync::observability {
namespace {

TEST(metrics_format, names_follow_the_exposition_grammar) {
    EXPECT_TRUE(valid_metric_name("crmsync_records_read_total"));
    EXPECT_TRUE(valid_metric_name("a:b_c9"));
    EXPECT_FALSE(valid_metric_name(""));
    EXPECT_FALSE(valid_metric_name("9lives"));
    EXPECT_FALSE(valid_metric_name("has-dash"));
    EXPECT_TRUE(valid_label_name("stream"));
    EXPECT_FALSE(valid_label_name("a:b"));  // colons are for metric names only
    EXPECT_FALSE(valid_label_name("__name__"));
    EXPECT_FALSE(valid_label_name("1st"));
}

TEST(metrics_format, label_values_and_help_are_escaped) {
    EXPECT_EQ(escape_label_value(R"(a\b"c)"
                                 "\n"),
              R"(a\\b\"c\n)");
    // HELP escapes backslash and newline only; a quote stays as it is.
    EXPECT_EQ(escape_help("say \"hi\"\\\n"), R"(say "hi"\\\n)");
}

TEST(metrics_format, values_print_as_integers_floats_or_special_values) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(12), "12");
    EXPECT_EQ(format_value(-3), "-3");
    EXPECT_EQ(format_value(0.25), "0.25");
    EXPECT_EQ(format_value(HUGE_VAL), "+Inf");
    EXPECT_EQ(format_value(-HUGE_VAL), "-Inf");
    EXPECT_EQ(format_value(NAN), "NaN");
    EXPECT_EQ(std::stod(format_value(1e300)), 1e300);
}

TEST(metrics_registry, renders_help_type_and_sorted_series) {
    registry r;
    auto& c = r.counters("crmsync_things_total", "Things \"seen\".\nSecond line.", {"stream"});
    c.with({"b"}).inc(2);
    c.with({"a\"x"}).inc();
    auto& g = r.gauges("crmsync_level_ratio", "A level.");
    g.with({}).set(0.5);
    EXPECT_EQ(r.render(),
              "# HELP crmsync_level_ratio A level.\n"
              "# TYPE crmsync_level_ratio gauge\n"
              "crmsync_level_ratio 0.5\n"
              "# HELP crmsync_things_total Things \"seen\".\\nSecond line.\n"
              "# TYPE crmsync_things_total counter\n"
              "crmsync_things_total{stream=\"a\\\"x\"} 1\n"
              "crmsync_things_total{stream=\"b\"} 2\n");
}

TEST(metrics_registry, a_label_less_metric_shows_zero_before_its_first_event) {
    registry r;
    r.counters("crmsync_reloads_total", "Reloads.");
    EXPECT_NE(r.render().find("crmsync_reloads_total 0\n"), std::string::npos);
}

TEST(metrics_registry, histograms_render_cumulative_buckets_sum_and_count) {
    registry r;
    auto& h =
        r.histograms("crmsync_batch_duration_seconds", "Batch latency.", {"stream"}, {0.1, 1, 10});
    auto& s = h.with({"contacts"});
    s.observe(0.05);
    s.observe(0.1);  // le is inclusive
    s.observe(3);
    s.observe(100);
    EXPECT_EQ(r.render(),
              "# HELP crmsync_batch_duration_seconds Batch latency.\n"
              "# TYPE crmsync_batch_duration_seconds histogram\n"
              "crmsync_batch_duration_seconds_bucket{stream=\"contacts\",le=\"0.1\"} 2\n"
              "crmsync_batch_duration_seconds_bucket{stream=\"contacts\",le=\"1\"} 2\n"
              "crmsync_batch_duration_seconds_bucket{stream=\"contacts\",le=\"10\"} 3\n"
              "crmsync_batch_duration_seconds_bucket{stream=\"contacts\",le=\"+Inf\"} 4\n"
              "crmsync_batch_duration_seconds_sum{stream=\"contacts\"} 103.15\n"
              "crmsync_batch_duration_seconds_count{stream=\"contacts\"} 4\n");
}

TEST(metrics_registry, counters_ignore_negative_increments) {
    registry r;
    auto& c = r.counters("crmsync_x_total", "X.").with({});
    c.inc(3);
    c.inc(-1);
    c.inc(NAN);
    EXPECT_EQ(c.value(), 3);
}

TEST(metrics_registry, declaring_a_metric_again_returns_the_same_family) {
    registry r;
    auto& a = r.counters("crmsync_x_total", "X.", {"stream"});
    auto& b = r.counters("crmsync_x_total", "X.", {"stream"});
    EXPECT_EQ(&a, &b);
    a.with({"s"}).inc();
    EXPECT_EQ(b.with({"s"}).value(), 1);
}

TEST(metrics_registry_death, bad_declarations_are_bugs_that_stop_the_process) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(registry().counters("crmsync_x", "no _total"), "must end in _total");
    EXPECT_DEATH(registry().gauges("other_prefix", "x"), "not a crmsync_ metric name");
    EXPECT_DEATH(registry().gauges("crmsync_x", "x", {"bad-label"}), "not a valid label name");
    EXPECT_DEATH(registry().histograms("crmsync_h_seconds", "x", {"le"}, {1}),
                 "not a valid label name");
    EXPECT_DEATH(registry().histograms("crmsync_h_seconds", "x", {}, {2, 1}), "increasing");
    EXPECT_DEATH(
        {
            registry r;
            r.gauges("crmsync_x", "x", {"a"});
            r.gauges("crmsync_x", "x", {"b"});
        },
        "declared twice");
    EXPECT_DEATH(
        {
            registry r;
            r.gauges("crmsync_x", "x", {"a"}).with({"1", "2"});
        },
        "takes 1 label values, 2 given");
}

TEST(metrics_registry, label_sets_past_the_cap_share_one_overflow_series) {
    registry r;
    auto& c = r.counters("crmsync_x_total", "X.", {"stream", "code"}, 3);
    c.with({"a", "1"}).inc();
    c.with({"b", "2"}).inc();
    c.with({"c", "3"}).inc();
    c.with({"d", "4"}).inc();
    c.with({"a", "1"}).inc();  // an existing series still counts on its own
    const auto values = c.values();
    ASSERT_EQ(values.size(), 3u);
    EXPECT_EQ(values[0].first, (label_values{"_overflow", "_overflow"}));
    EXPECT_EQ(values[0].second, 2);
    EXPECT_EQ(values[1].first, (label_values{"a", "1"}));
    EXPECT_EQ(values[1].second, 2);
}

TEST(metrics_registry, collectors_run_at_render_until_their_handle_goes) {
    registry r;
    auto& g = r.gauges("crmsync_now_seconds", "X.");
    int calls = 0;
    {
        auto handle = r.add_collector([&] { g.with({}).set(++calls); });
        EXPECT_NE(r.render().find("crmsync_now_seconds 1\n"), std::string::npos);
        EXPECT_NE(r.render().find("crmsync_now_seconds 2\n"), std::string::npos);
    }
    r.render();
    EXPECT_EQ(calls, 2);
}

TEST(metrics_registry, replace_drops_series_a_collector_no_longer_sets) {
    registry r;
    auto& g = r.gauges("crmsync_lag_seconds", "X.", {"stream"});
    g.replace({{{"a"}, 1}, {{"b"}, 2}});
    g.replace({{{"b"}, 3}});
    const auto text = r.render();
    EXPECT_EQ(text.find("stream=\"a\""), std::string::npos) << text;
    EXPECT_NE(text.find("crmsync_lag_seconds{stream=\"b\"} 3\n"), std::string::npos) << text;
}

TEST(metrics_registry, concurrent_updates_are_all_counted_and_renders_stay_valid) {
    registry r;
    auto& c = r.counters("crmsync_x_total", "X.", {"stream"});
    auto& h = r.histograms("crmsync_h_seconds", "H.", {"stream"}, latency_buckets());
    constexpr int threads = 4, per_thread = 20'000;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                c.with({t % 2 ? "a" : "b"}).inc();
                h.with({"a"}).observe(i % 100 / 10.0);
            }
        });
    }
    // Scrapes while the writers run must always be valid exposition text.
    for (int i = 0; i < 50; ++i) {
        const auto parsed = testing::parse_exposition(r.render());
        ASSERT_TRUE(parsed.problems.empty()) << parsed.problems.front();
    }
    for (auto& t : pool)
        t.join();
    const auto parsed = testing::parse_exposition(r.render());
    ASSERT_TRUE(parsed.problems.empty()) << parsed.problems.front();
    EXPECT_EQ(parsed.value("crmsync_x_total", {{"stream", "a"}}), threads / 2 * per_thread);
    EXPECT_EQ(parsed.value("crmsync_x_total", {{"stream", "b"}}), threads / 2 * per_thread);
    EXPECT_EQ(parsed.value("crmsync_h_seconds_count", {{"stream", "a"}}), threads * per_thread);
    EXPECT_EQ(parsed.value("crmsync_h_seconds_bucket", {{"stream", "a"}, {"le", "+Inf"}}),
              threads * per_thread);
}

TEST(metrics_registry, rendered_text_passes_the_strict_reader) {
    registry r;
    r.counters("crmsync_a_total", "A with \\ and\nnewline.", {"stream", "code"})
        .with({"we\"ird\\", "x\ny"})
        .inc(5);
    r.gauges("crmsync_b_calls", "B.", {"system"}).with({"marketo"}).set(-2.5);
    r.histograms("crmsync_c_seconds", "C.", {}, {0.5, 1}).with({}).observe(0.7);
    const auto parsed = testing::parse_exposition(r.render());
    ASSERT_TRUE(parsed.problems.empty()) << parsed.problems.front();
    EXPECT_EQ(parsed.families.at("crmsync_a_total").type, "counter");
    EXPECT_EQ(parsed.families.at("crmsync_a_total").help, "A with \\ and\nnewline.");
    EXPECT_EQ(parsed.value("crmsync_a_total", {{"stream", "we\"ird\\"}, {"code", "x\ny"}}), 5);
    EXPECT_EQ(parsed.value("crmsync_b_calls", {{"system", "marketo"}}), -2.5);
    EXPECT_EQ(parsed.families.at("crmsync_c_seconds").type, "histogram");
    EXPECT_EQ(parsed.value("crmsync_c_seconds_bucket", {{"le", "1"}}), 1);
}

// The reader must itself be strict, or the check above proves nothing.
TEST(prometheus_reader, rejects_what_the_format_forbids) {
    const auto problems = [](std::string_view text) {
        return testing::parse_exposition(text).problems.size();
    };
    EXPECT_EQ(problems("# TYPE a counter\na 1\n"), 0u);
    EXPECT_EQ(problems("a 1"), 1u) << "no final newline";
    EXPECT_GT(problems("a{l=\"x\\t\"} 1\n"), 0u) << "escape other than \\\\ \\\" \\n";
    EXPECT_GT(problems("a{l=x} 1\n"), 0u) << "unquoted label value";
    EXPECT_GT(problems("a{l=\"1\",l=\"2\"} 1\n"), 0u) << "label twice";
    EXPECT_GT(problems("a{1l=\"1\"} 1\n"), 0u) << "bad label name";
    EXPECT_GT(problems("a one\n"), 0u) << "bad value";
    EXPECT_GT(problems("a\n"), 0u) << "no value";
    EXPECT_GT(problems("a 1 12.5\n"), 0u) << "bad timestamp";
    EXPECT_GT(problems("a 1\nb 1\na{x=\"1\"} 2\n"), 0u) << "not contiguous";
    EXPECT_GT(problems("a 1\na 2\n"), 0u) << "series twice";
    EXPECT_GT(problems("a 1\n# TYPE a counter\n"), 0u) << "TYPE after samples";
    EXPECT_GT(problems("# TYPE a counter\n# TYPE a counter\n"), 0u) << "TYPE twice";
    EXPECT_GT(problems("# TYPE a meter\n"), 0u) << "unknown type";
    EXPECT_GT(problems("# TYPE a counter\na -1\n"), 0u) << "negative counter";
    EXPECT_GT(problems("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"), 0u)
        << "no +Inf bucket";
    EXPECT_GT(problems("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                       "h_sum 1\nh_count 1\n"),
              0u)
        << "decreasing buckets";
    EXPECT_GT(problems("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n"), 0u)
        << "_count differs from +Inf";
    EXPECT_GT(problems("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n"), 0u)
        << "no _sum";
    EXPECT_GT(problems("a 1\r\n"), 0u) << "CRLF";
}

}  // namespace
}  // namespace crmsync::observability
