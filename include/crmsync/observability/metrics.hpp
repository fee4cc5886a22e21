#pragma once
// Process metrics (SPEC §5 "/metrics"): a small thread-safe registry of counters, gauges and
// histograms, rendered in the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Who writes metrics: named events (events.hpp) increment them where they write their log line
// (STYLE.md rule 6), so a log line and its counters cannot drift apart. Code that is not an
// event does not touch counters directly; collectors (add_collector) compute what is best read
// at scrape time (watermark lag, quota left, stream states).
//
// Names follow crmsync_<name>_<unit>[_total] (STYLE.md rule 6): counters end in _total, units
// are base units (seconds, calls, records), 0/1 gauges carry no unit (like Prometheus' `up`).
// Registration checks the name and labels and aborts on a bad one: it is a bug, caught by the
// first test that touches the metric.
//
// Bounded cardinality: label values must come from bounded sets (stream names from the
// configuration, categories, systems, vendor codes; never messages or record ids). As a guard,
// a family holds at most `max_series` label sets; further ones share one series whose every
// label value is "_overflow", so a bug can not grow memory or a scrape without bound.
//
// Thread safety: every function may be called from any thread. A series reference returned by
// with() stays valid for the life of the registry, except after family::replace().

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace crmsync::observability {

// The Content-Type of render()'s output.
inline constexpr std::string_view prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

using label_values = std::vector<std::string>;

// Pure helpers of the format, public for tests and the admin server.
bool valid_metric_name(std::string_view name);       // [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_label_name(std::string_view name);        // [a-zA-Z_][a-zA-Z0-9_]*, not __reserved
std::string escape_label_value(std::string_view v);  // \ " and newline escaped
std::string escape_help(std::string_view v);         // \ and newline escaped
std::string format_value(double v);                  // 3, 0.25, +Inf, -Inf, NaN

class counter {
public:
    // Counters only go up: a negative or NaN increment is ignored.
    void inc(double by = 1.0) noexcept;
    double value() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> v_{0.0};
};

class gauge {
public:
    void set(double v) noexcept { v_.store(v, std::memory_order_relaxed); }
    void inc(double by = 1.0) noexcept { v_.fetch_add(by, std::memory_order_relaxed); }
    void dec(double by = 1.0) noexcept { v_.fetch_sub(by, std::memory_order_relaxed); }
    double value() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> v_{0.0};
};

class histogram {
public:
    // `bounds`: the upper bounds of the finite buckets, strictly increasing; +Inf is implied.
    explicit histogram(const std::vector<double>& bounds);

    void observe(double v) noexcept;

    struct snapshot {
        std::vector<double> bounds;
        std::vector<std::uint64_t> cumulative;  // per bound, then one more for +Inf (= count)
        double sum = 0;
        std::uint64_t count = 0;
    };
    snapshot read() const;

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
    std::atomic<double> sum_{0.0};
};

// Bucket bounds for durations in seconds: 5 ms to 2 min, for batch and API call latency.
std::vector<double> latency_buckets();

enum class metric_type { counter, gauge, histogram };

class family_base {
public:
    family_base(std::string name,
                std::string help,
                metric_type type,
                std::vector<std::string> labels,
                std::size_t max_series);
    virtual ~family_base() = default;

    const std::string& name() const noexcept { return name_; }
    metric_type type() const noexcept { return type_; }
    const std::vector<std::string>& labels() const noexcept { return labels_; }

    // Appends # HELP, # TYPE and every series, sorted by label values.
    void render(std::string& out) const;

protected:
    virtual void render_series(std::string& out) const = 0;
    // The series key for `values`, or the overflow key once the family is full.
    label_values admit(const label_values& values, std::size_t size) const;
    std::string sample_labels(const label_values& values, std::string_view extra = {}) const;

    std::string name_, help_;
    metric_type type_;
    std::vector<std::string> labels_;
    std::size_t max_series_;
    mutable std::mutex mutex_;
};

template <class Series>
class family : public family_base {
public:
    using family_base::family_base;

    // The series for these label values (one per declared label, in order), created at zero.
    Series& with(const label_values& values);
    // Only for families a collector owns: drops every series and sets these. References from
    // with() become invalid, so nothing else may hold one.
    void replace(const std::vector<std::pair<label_values, double>>& series) requires
        std::is_same_v<Series, gauge>;
    // Label values and value of every series (tests, collectors).
    std::vector<std::pair<label_values, double>> values() const
        requires(!std::is_same_v<Series, histogram>);

protected:
    void render_series(std::string& out) const override;

    std::function<std::unique_ptr<Series>()> make_;
    std::map<label_values, std::unique_ptr<Series>> series_;

    friend class registry;
};

using counter_family = family<counter>;
using gauge_family = family<gauge>;
using histogram_family = family<histogram>;

class registry {
public:
    static constexpr std::size_t default_max_series = 500;

    registry() = default;
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;

    // Registering a name again returns the same family if type and labels agree (aborts if
    // not), so independent call sites may each declare the metric they use.
    counter_family& counters(std::string_view name,
                             std::string_view help,
                             std::vector<std::string> labels = {},
                             std::size_t max_series = default_max_series);
    gauge_family& gauges(std::string_view name,
                         std::string_view help,
                         std::vector<std::string> labels = {},
                         std::size_t max_series = default_max_series);
    histogram_family& histograms(std::string_view name,
                                 std::string_view help,
                                 std::vector<std::string> labels,
                                 std::vector<double> bounds,
                                 std::size_t max_series = default_max_series);

    // A function run at the start of every render(), to set values best computed at scrape
    // time. The collector runs until the returned handle is destroyed.
    class collector_handle {
    public:
        collector_handle() = default;
        collector_handle(collector_handle&& o) noexcept;
        collector_handle& operator=(collector_handle&& o) noexcept;
        ~collector_handle();

    private:
        friend class registry;
        collector_handle(registry* r, std::uint64_t id) : r_(r), id_(id) {}
        registry* r_ = nullptr;
        std::uint64_t id_ = 0;
    };
    [[nodiscard]] collector_handle add_collector(std::function<void()> fn);

    // Every family, sorted by name, in the text exposition format 0.0.4.
    std::string render() const;

    // The family of this name, or null (tests).
    const family_base* find(std::string_view name) const;

private:
    template <class F, class Make>
    F& declare(std::string_view name,
               std::string_view help,
               metric_type type,
               std::vector<std::string> labels,
               std::size_t max_series,
               Make make);
    void remove_collector(std::uint64_t id);

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<family_base>, std::less<>> families_;
    mutable std::mutex collectors_mutex_;
    std::map<std::uint64_t, std::function<void()>> collectors_;
    std::uint64_t next_collector_ = 1;
};

// The process-wide registry that events write and /metrics renders.
registry& metrics();

}  // namespace crmsync::observability
