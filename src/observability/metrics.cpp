#include "crmsync/observability/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace crmsync::observability {
namespace {

// A metric declared with a bad name or conflicting labels is a bug in crmsync, not an input
// problem (STYLE.md convention 5b): say what it is and stop.
[[noreturn]] void bug(const std::string& what) {
    std::fprintf(stderr, "crmsync: metrics registry: %s\n", what.c_str());
    std::abort();
}

bool name_char(char c, bool first, bool colon) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    return alpha || (colon && c == ':') || (!first && digit);
}

bool valid_name(std::string_view name, bool colon) {
    if (name.empty())
        return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (!name_char(name[i], i == 0, colon))
            return false;
    }
    return true;
}

constexpr std::string_view overflow_value = "_overflow";

}  // namespace

bool valid_metric_name(std::string_view name) {
    return valid_name(name, true);
}

bool valid_label_name(std::string_view name) {
    // Names starting with __ are reserved for Prometheus' own use.
    return valid_name(name, false) && !name.starts_with("__");
}

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (const char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string escape_help(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (const char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string format_value(double v) {
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    // Whole numbers (every counter of records or calls) print without a fraction or exponent,
    // as far as a double holds them exactly.
    if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0)
        return fmt::format("{}", static_cast<long long>(v));
    return fmt::format("{}", v);  // shortest text that reads back as the same double
}

void counter::inc(double by) noexcept {
    if (by > 0)
        v_.fetch_add(by, std::memory_order_relaxed);
}

histogram::histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
    for (std::size_t i = 0; i <= bounds_.size(); ++i)
        buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double v) noexcept {
    if (std::isnan(v))
        return;
    // Bucket i counts observations in (bounds[i-1], bounds[i]]; `le` is inclusive.
    const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
    buckets_[static_cast<std::size_t>(at)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
    snapshot s;
    s.bounds = bounds_;
    s.cumulative.resize(bounds_.size() + 1);
    std::uint64_t total = 0;
    // Cumulative counts and the count come from the same reads, so le="+Inf" always equals
    // _count and buckets never decrease, even while other threads observe.
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        total += buckets_[i].load(std::memory_order_relaxed);
        s.cumulative[i] = total;
    }
    s.count = total;
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
}

std::vector<double> latency_buckets() {
    return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
}

family_base::family_base(std::string name,
                         std::string help,
                         metric_type type,
                         std::vector<std::string> labels,
                         std::size_t max_series)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      labels_(std::move(labels)),
      max_series_(std::max<std::size_t>(1, max_series)) {}

label_values family_base::admit(const label_values& values, std::size_t size) const {
    if (values.size() != labels_.size()) {
        bug(fmt::format(
            "{} takes {} label values, {} given", name_, labels_.size(), values.size()));
    }
    // The last free place is kept for the overflow series itself.
    if (size + 1 < max_series_)
        return values;
    return label_values(labels_.size(), std::string(overflow_value));
}

std::string family_base::sample_labels(const label_values& values, std::string_view extra) const {
    if (labels_.empty() && extra.empty())
        return {};
    std::string out = "{";
    for (std::size_t i = 0; i < labels_.size(); ++i) {
        if (i != 0)
            out += ',';
        out += labels_[i];
        out += "=\"";
        out += escape_label_value(values[i]);
        out += '"';
    }
    if (!extra.empty()) {
        if (!labels_.empty())
            out += ',';
        out += extra;
    }
    out += '}';
    return out;
}

void family_base::render(std::string& out) const {
    static constexpr std::string_view type_names[] = {"counter", "gauge", "histogram"};
    out += fmt::format("# HELP {} {}\n", name_, escape_help(help_));
    out += fmt::format("# TYPE {} {}\n", name_, type_names[static_cast<int>(type_)]);
    render_series(out);
}

template <class Series>
Series& family<Series>::with(const label_values& values) {
    std::lock_guard lock(mutex_);
    if (auto it = series_.find(values); it != series_.end())
        return *it->second;
    auto key = admit(values, series_.size());
    auto [it, inserted] = series_.try_emplace(std::move(key));
    if (inserted)
        it->second = make_();
    return *it->second;
}

template <class Series>
void family<Series>::replace(const std::vector<std::pair<label_values, double>>& series) requires
    std::is_same_v<Series, gauge> {
    std::lock_guard lock(mutex_);
    series_.clear();
    for (const auto& [values, v] : series) {
        auto key = admit(values, series_.size());
        auto [it, inserted] = series_.try_emplace(std::move(key));
        if (inserted)
            it->second = make_();
        it->second->set(v);
    }
}

template <class Series>
std::vector<std::pair<label_values, double>> family<Series>::values() const
    requires(!std::is_same_v<Series, histogram>) {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<label_values, double>> out;
    for (const auto& [k, s] : series_)
        out.emplace_back(k, s->value());
    return out;
}

template <class Series>
void family<Series>::render_series(std::string& out) const {
    std::lock_guard lock(mutex_);
    for (const auto& [values, s] : series_) {
        if constexpr (std::is_same_v<Series, histogram>) {
            const auto snap = s->read();
            for (std::size_t i = 0; i <= snap.bounds.size(); ++i) {
                const auto le = i < snap.bounds.size() ? format_value(snap.bounds[i]) : "+Inf";
                out += fmt::format("{}_bucket{} {}\n",
                                   name_,
                                   sample_labels(values, fmt::format("le=\"{}\"", le)),
                                   snap.cumulative[i]);
            }
            out +=
                fmt::format("{}_sum{} {}\n", name_, sample_labels(values), format_value(snap.sum));
            out += fmt::format("{}_count{} {}\n", name_, sample_labels(values), snap.count);
        } else {
            out += fmt::format("{}{} {}\n", name_, sample_labels(values), format_value(s->value()));
        }
    }
}

// Member by member, not `template class family<...>`: clang 14 instantiates every member of an
// explicit class instantiation, even those whose requires-clause excludes that type.
template counter& family<counter>::with(const label_values&);
template gauge& family<gauge>::with(const label_values&);
template histogram& family<histogram>::with(const label_values&);
template void family<gauge>::replace(const std::vector<std::pair<label_values, double>>&);
template std::vector<std::pair<label_values, double>> family<counter>::values() const;
template std::vector<std::pair<label_values, double>> family<gauge>::values() const;
template void family<counter>::render_series(std::string&) const;
template void family<gauge>::render_series(std::string&) const;
template void family<histogram>::render_series(std::string&) const;

template <class F, class Make>
F& registry::declare(std::string_view name,
                     std::string_view help,
                     metric_type type,
                     std::vector<std::string> labels,
                     std::size_t max_series,
                     Make make) {
    if (!valid_metric_name(name) || !name.starts_with("crmsync_"))
        bug(fmt::format("'{}' is not a crmsync_ metric name", name));
    if (type == metric_type::counter && !name.ends_with("_total"))
        bug(fmt::format("counter '{}' must end in _total", name));
    for (const auto& l : labels) {
        if (!valid_label_name(l) || (type == metric_type::histogram && l == "le"))
            bug(fmt::format("'{}' is not a valid label name for {}", l, name));
    }
    std::lock_guard lock(mutex_);
    if (auto it = families_.find(name); it != families_.end()) {
        if (it->second->type() != type || it->second->labels() != labels)
            bug(fmt::format("'{}' declared twice with different type or labels", name));
        return static_cast<F&>(*it->second);
    }
    auto f = std::make_unique<F>(
        std::string(name), std::string(help), type, std::move(labels), max_series);
    f->make_ = std::move(make);
    auto& ref = *f;
    // A metric without labels has exactly one series: show it from the start, at zero.
    if (ref.labels().empty())
        ref.with({});
    families_.emplace(std::string(name), std::move(f));
    return ref;
}

counter_family& registry::counters(std::string_view name,
                                   std::string_view help,
                                   std::vector<std::string> labels,
                                   std::size_t max_series) {
    return declare<counter_family>(
        name, help, metric_type::counter, std::move(labels), max_series, [] {
            return std::make_unique<counter>();
        });
}

gauge_family& registry::gauges(std::string_view name,
                               std::string_view help,
                               std::vector<std::string> labels,
                               std::size_t max_series) {
    return declare<gauge_family>(name, help, metric_type::gauge, std::move(labels), max_series, [] {
        return std::make_unique<gauge>();
    });
}

histogram_family& registry::histograms(std::string_view name,
                                       std::string_view help,
                                       std::vector<std::string> labels,
                                       std::vector<double> bounds,
                                       std::size_t max_series) {
    if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
        std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end() ||
        std::isinf(bounds.back())) {
        bug(fmt::format("histogram '{}' needs finite, strictly increasing bucket bounds", name));
    }
    return declare<histogram_family>(
        name,
        help,
        metric_type::histogram,
        std::move(labels),
        max_series,
        [bounds = std::move(bounds)] { return std::make_unique<histogram>(bounds); });
}

registry::collector_handle::collector_handle(collector_handle&& o) noexcept
    : r_(std::exchange(o.r_, nullptr)), id_(o.id_) {}

registry::collector_handle& registry::collector_handle::operator=(collector_handle&& o) noexcept {
    if (this != &o) {
        if (r_)
            r_->remove_collector(id_);
        r_ = std::exchange(o.r_, nullptr);
        id_ = o.id_;
    }
    return *this;
}

registry::collector_handle::~collector_handle() {
    if (r_)
        r_->remove_collector(id_);
}

registry::collector_handle registry::add_collector(std::function<void()> fn) {
    std::lock_guard lock(collectors_mutex_);
    const auto id = next_collector_++;
    collectors_.emplace(id, std::move(fn));
    return collector_handle(this, id);
}

void registry::remove_collector(std::uint64_t id) {
    std::lock_guard lock(collectors_mutex_);
    collectors_.erase(id);
}

std::string registry::render() const {
    {
        // Held while collectors run, so one being removed is never running (its handle's
        // owner may destroy what it reads right after).
        std::lock_guard lock(collectors_mutex_);
        for (const auto& [id, fn] : collectors_)
            fn();
    }
    std::string out;
    std::lock_guard lock(mutex_);
    for (const auto& [name, f] : families_)
        f->render(out);
    return out;
}

const family_base* registry::find(std::string_view name) const {
    std::lock_guard lock(mutex_);
    const auto it = families_.find(name);
    return it == families_.end() ? nullptr : it->second.get();
}

registry& metrics() {
    static registry r;
    return r;
}

}  // namespace crmsync::observability
