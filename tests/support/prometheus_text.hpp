#pragma once
// A strict reader of the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), written from the format's
// description, independently of crmsync's renderer, so tests can prove /metrics parses:
// - lines end in \n; `# HELP name text` and `# TYPE name counter|gauge|histogram|summary|
//   untyped` at most once per metric and before its samples; other `#` lines are comments;
// - samples `name{label="value",...} value [timestamp]` with valid metric and label names, only
//   the escapes \\ \" \n in label values, no label twice, a float value (Go syntax, +Inf, -Inf,
//   NaN) and an integer timestamp;
// - a metric's lines are contiguous; no series appears twice;
// - counters are not negative; a histogram's series have _bucket lines with increasing `le`,
//   non-decreasing counts, an le="+Inf" bucket equal to _count, and a _sum.
// parse() returns every problem with its line number; an empty list means valid.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::testing {

struct sample {
    std::string name;  // as written: foo_bucket, foo_sum, ...
    std::map<std::string, std::string> labels;
    double value = 0;
};

struct metric_family {
    std::string name;
    std::string type = "untyped";
    std::string help;
    std::vector<sample> samples;
};

struct exposition {
    std::map<std::string, metric_family> families;
    std::vector<std::string> problems;  // "line N: ..." ; empty when the text is valid

    // The value of the sample with exactly this name and these labels, if present.
    std::optional<double> value(const std::string& name,
                                const std::map<std::string, std::string>& labels = {}) const;
};

exposition parse_exposition(std::string_view text);

}  // namespace crmsync::testing
