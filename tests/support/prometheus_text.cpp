#include "prometheus_text.hpp"

#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>

namespace crmsync::testing {
namespace {

bool metric_name(std::string_view s) {
    static const std::regex re("[a-zA-Z_:][a-zA-Z0-9_:]*");
    return std::regex_match(s.begin(), s.end(), re);
}

bool label_name(std::string_view s) {
    static const std::regex re("[a-zA-Z_][a-zA-Z0-9_]*");
    return std::regex_match(s.begin(), s.end(), re);
}

std::optional<double> parse_float(std::string_view s) {
    if (s == "+Inf" || s == "Inf")
        return HUGE_VAL;
    if (s == "-Inf")
        return -HUGE_VAL;
    if (s == "NaN")
        return NAN;
    static const std::regex re(R"([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)");
    if (!std::regex_match(s.begin(), s.end(), re))
        return std::nullopt;
    return std::strtod(std::string(s).c_str(), nullptr);
}

bool blank(char c) {
    return c == ' ' || c == '\t';
}

struct parser {
    exposition out;
    std::set<std::string> closed;  // families whose lines ended
    std::string current;           // family of the previous line
    std::set<std::string> series_seen;
    int line_no = 0;

    void problem(const std::string& what) {
        out.problems.push_back("line " + std::to_string(line_no) + ": " + what);
    }

    // Switches to `family`; a family that reappears after another one is a problem.
    void enter(const std::string& family) {
        if (family == current)
            return;
        if (!current.empty())
            closed.insert(current);
        if (closed.count(family))
            problem("lines of metric '" + family + "' are not contiguous");
        current = family;
    }

    // The family a sample name belongs to: a declared histogram or summary owns its suffixes.
    std::string family_of(const std::string& name) const {
        for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
            if (name.size() > suffix.size() && name.ends_with(suffix)) {
                const auto base = name.substr(0, name.size() - suffix.size());
                const auto it = out.families.find(base);
                if (it != out.families.end() &&
                    (it->second.type == "histogram" || it->second.type == "summary"))
                    return base;
            }
        }
        return name;
    }

    void comment(std::string_view line) {
        std::string_view rest = line.substr(1);
        while (!rest.empty() && blank(rest.front()))
            rest.remove_prefix(1);
        const bool help = rest.starts_with("HELP") && rest.size() > 4 && blank(rest[4]);
        const bool type = rest.starts_with("TYPE") && rest.size() > 4 && blank(rest[4]);
        if (!help && !type)
            return;  // an ordinary comment
        rest.remove_prefix(4);
        while (!rest.empty() && blank(rest.front()))
            rest.remove_prefix(1);
        const auto end = rest.find_first_of(" \t");
        const std::string name(rest.substr(0, end));
        std::string_view text = end == std::string_view::npos ? "" : rest.substr(end + 1);
        if (!metric_name(name)) {
            problem("bad metric name '" + name + "' in " + (help ? "HELP" : "TYPE"));
            return;
        }
        enter(name);
        auto& f = out.families[name];
        f.name = name;
        if (help) {
            if (!helped.insert(name).second)
                problem("second HELP for " + name);
            std::string h;
            for (std::size_t i = 0; i < text.size(); ++i) {
                if (text[i] != '\\') {
                    h += text[i];
                } else if (i + 1 < text.size() && (text[i + 1] == '\\' || text[i + 1] == 'n')) {
                    h += text[i + 1] == 'n' ? '\n' : '\\';
                    ++i;
                } else {
                    problem("bad escape in HELP of " + name);
                }
            }
            f.help = h;
            return;
        }
        static const std::set<std::string> types{
            "counter", "gauge", "histogram", "summary", "untyped"};
        const std::string t(text);
        if (!types.count(t))
            problem("unknown TYPE '" + t + "' for " + name);
        if (!f.samples.empty())
            problem("TYPE for " + name + " after its samples");
        if (typed.count(name))
            problem("second TYPE for " + name);
        typed.insert(name);
        f.type = t;
    }

    void sample_line(std::string_view line) {
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && !blank(line[i]))
            ++i;
        sample s;
        s.name = std::string(line.substr(0, i));
        if (!metric_name(s.name)) {
            problem("bad metric name '" + s.name + "'");
            return;
        }
        if (i < line.size() && line[i] == '{') {
            ++i;
            for (;;) {
                if (i < line.size() && line[i] == '}') {
                    ++i;
                    break;
                }
                std::size_t eq = line.find('=', i);
                if (eq == std::string_view::npos) {
                    problem("unterminated label set");
                    return;
                }
                const std::string lname(line.substr(i, eq - i));
                if (!label_name(lname)) {
                    problem("bad label name '" + lname + "'");
                    return;
                }
                i = eq + 1;
                if (i >= line.size() || line[i] != '"') {
                    problem("label value of " + lname + " is not quoted");
                    return;
                }
                ++i;
                std::string value;
                bool closed_quote = false;
                while (i < line.size()) {
                    const char c = line[i++];
                    if (c == '"') {
                        closed_quote = true;
                        break;
                    }
                    if (c != '\\') {
                        value += c;
                        continue;
                    }
                    if (i >= line.size()) {
                        break;
                    }
                    const char e = line[i++];
                    if (e == '\\' || e == '"')
                        value += e;
                    else if (e == 'n')
                        value += '\n';
                    else
                        problem(std::string("bad escape \\") + e + " in label " + lname);
                }
                if (!closed_quote) {
                    problem("unterminated label value of " + lname);
                    return;
                }
                if (!s.labels.emplace(lname, value).second)
                    problem("label " + lname + " twice");
                if (i < line.size() && line[i] == ',') {
                    ++i;
                } else if (i >= line.size() || line[i] != '}') {
                    problem("expected , or } after label " + lname);
                    return;
                }
            }
        }
        if (i >= line.size() || !blank(line[i])) {
            problem("no value after " + s.name);
            return;
        }
        while (i < line.size() && blank(line[i]))
            ++i;
        auto rest = line.substr(i);
        const auto sp = rest.find_first_of(" \t");
        const auto v = parse_float(rest.substr(0, sp));
        if (!v) {
            problem("bad value '" + std::string(rest.substr(0, sp)) + "' for " + s.name);
            return;
        }
        s.value = *v;
        if (sp != std::string_view::npos) {
            auto ts = rest.substr(sp);
            while (!ts.empty() && blank(ts.front()))
                ts.remove_prefix(1);
            static const std::regex int_re("-?[0-9]+");
            if (!std::regex_match(ts.begin(), ts.end(), int_re))
                problem("bad timestamp '" + std::string(ts) + "' for " + s.name);
        }
        const auto family = family_of(s.name);
        enter(family);
        auto& f = out.families[family];
        f.name = family;
        std::string key = s.name + "{";
        for (const auto& [k, val] : s.labels)
            key += k + "=" + val + ",";
        if (!series_seen.insert(key).second)
            problem("series " + key + "} twice");
        if (f.type == "counter" && !(s.value >= 0))
            problem("counter " + s.name + " is negative or NaN");
        if (f.type == "histogram" && s.name == family)
            problem("histogram " + family + " has a bare sample");
        f.samples.push_back(std::move(s));
    }

    void check_histograms() {
        for (const auto& [name, f] : out.families) {
            if (f.type != "histogram")
                continue;
            struct series {
                std::vector<std::pair<double, double>> buckets;  // le, count
                std::optional<double> sum, count;
            };
            std::map<std::map<std::string, std::string>, series> by_labels;
            for (const auto& s : f.samples) {
                auto labels = s.labels;
                if (s.name == name + "_bucket") {
                    const auto le = labels.find("le");
                    if (le == labels.end()) {
                        out.problems.push_back(name + ": bucket without le");
                        continue;
                    }
                    const auto bound = parse_float(le->second);
                    if (!bound) {
                        out.problems.push_back(name + ": bad le '" + le->second + "'");
                        continue;
                    }
                    labels.erase(le);
                    by_labels[labels].buckets.emplace_back(*bound, s.value);
                } else if (s.name == name + "_sum") {
                    by_labels[labels].sum = s.value;
                } else if (s.name == name + "_count") {
                    by_labels[labels].count = s.value;
                }
            }
            for (const auto& [labels, se] : by_labels) {
                const auto& b = se.buckets;
                if (b.empty() || !std::isinf(b.back().first) || b.back().first < 0) {
                    out.problems.push_back(name + ": a series has no le=\"+Inf\" bucket last");
                    continue;
                }
                for (std::size_t i = 1; i < b.size(); ++i) {
                    if (!(b[i].first > b[i - 1].first))
                        out.problems.push_back(name + ": le not increasing");
                    if (b[i].second < b[i - 1].second)
                        out.problems.push_back(name + ": bucket counts decrease");
                }
                if (!se.count || *se.count != b.back().second)
                    out.problems.push_back(name + ": _count missing or not the +Inf bucket");
                if (!se.sum)
                    out.problems.push_back(name + ": _sum missing");
            }
        }
    }

    std::set<std::string> typed, helped;
};

}  // namespace

std::optional<double> exposition::value(const std::string& name,
                                        const std::map<std::string, std::string>& labels) const {
    for (const auto& [fname, f] : families) {
        for (const auto& s : f.samples) {
            if (s.name == name && s.labels == labels)
                return s.value;
        }
    }
    return std::nullopt;
}

exposition parse_exposition(std::string_view text) {
    parser p;
    if (!text.empty() && text.back() != '\n') {
        p.out.problems.push_back("the text does not end with a newline");
    }
    std::size_t at = 0;
    while (at < text.size()) {
        auto end = text.find('\n', at);
        if (end == std::string_view::npos)
            end = text.size();
        const auto line = text.substr(at, end - at);
        at = end + 1;
        ++p.line_no;
        if (line.empty())
            continue;
        if (line.find('\r') != std::string_view::npos)
            p.problem("carriage return in line");
        if (line.front() == '#')
            p.comment(line);
        else
            p.sample_line(line);
    }
    p.check_histograms();
    return std::move(p.out);
}

}  // namespace crmsync::testing
