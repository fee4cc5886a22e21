#include "crmsync/config/schema.hpp"

#include "crmsync/config/duration.hpp"
#include "crmsync/config/substitute.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace crmsync::config {
namespace {

// A JSON number literal: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) {
    std::size_t i = 0;
    const auto digits = [&] {
        const std::size_t start = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
            ++i;
        return i - start;
    };
    if (i < s.size() && s[i] == '-')
        ++i;
    if (i < s.size() && s[i] == '0') {
        ++i;
    } else if (digits() == 0) {
        return false;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (digits() == 0)
            return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-'))
            ++i;
        if (digits() == 0)
            return false;
    }
    return i == s.size();
}

bool is_plain(const YAML::Node& n) {
    return n.Tag() == "?";
}

}  // namespace

position position_of(const std::string& file, const YAML::Node& node) {
    if (!node.IsDefined())
        return {file, 0, 0};
    const YAML::Mark m = node.Mark();
    if (m.is_null() || m.line < 0)
        return {file, 0, 0};
    return {file, m.line + 1, m.column + 1};
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Levenshtein with one row; names are short.
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = up;
        }
    }
    return row[b.size()];
}

std::optional<std::string_view> closest(std::string_view got,
                                        std::span<const std::string_view> candidates) {
    constexpr std::size_t max_distance = 3;
    std::optional<std::string_view> best;
    std::size_t best_distance = max_distance + 1;
    for (const auto c : candidates) {
        const std::size_t d = edit_distance(got, c);
        if (d < best_distance) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

bool is_api_name(std::string_view name) {
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0])))
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

bool is_field_path(std::string_view path) {
    while (true) {
        const std::size_t dot = path.find('.');
        if (!is_api_name(path.substr(0, dot)))
            return false;
        if (dot == std::string_view::npos)
            return true;
        path.remove_prefix(dot + 1);
    }
}

std::string_view type_name(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map:
            return "a map";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Scalar:
            return "a scalar";
        case YAML::NodeType::Null:
            return "null";
        case YAML::NodeType::Undefined:
            break;
    }
    return "undefined";
}

value scalar_value(const YAML::Node& node) {
    if (!node.IsDefined() || node.IsNull())
        return value::null();
    const std::string& s = node.Scalar();
    if (!is_plain(node))
        return value::string(s);
    if (s == "~" || s == "null" || s == "Null" || s == "NULL")
        return value::null();
    if (s == "true" || s == "True" || s == "TRUE")
        return value::boolean(true);
    if (s == "false" || s == "False" || s == "FALSE")
        return value::boolean(false);
    if (is_json_number(s))
        return value::number(s);
    return value::string(s);
}

reader::reader(std::string file, diagnostics& problems)
    : file_(std::move(file)),
      base_dir_(std::filesystem::path(file_).parent_path()),
      problems_(problems) {}

void reader::problem(const position& where, std::string message) {
    problems_.add(where, std::move(message));
}

void reader::problem(const YAML::Node& node, std::string message) {
    problem(at(node), std::move(message));
}

void reader::redact_substitutions(const YAML::Node& node, const substituted& s) {
    if (s.inserted.empty())
        return;
    const position where = at(node);
    problems_.redact(where, s.text, node.Scalar());
    // A message may quote part of the scalar (a URL's host); values this short are not
    // secrets, and hiding them would garble the message's own words.
    for (const auto& [value, reference] : s.inserted) {
        if (value.size() >= diagnostics::min_redacted_size)
            problems_.redact(where, value, reference);
    }
}

std::optional<std::string> reader::text(const YAML::Node& node, std::string_view name) {
    if (!node.IsScalar()) {
        problem(node, fmt::format("'{}' must be a string, not {}", name, type_name(node)));
        return std::nullopt;
    }
    auto s = substitute(node.Scalar(), base_dir_);
    if (!s.ok()) {
        problem(node, std::move(s.problem));
        return std::nullopt;
    }
    redact_substitutions(node, s);
    return std::move(s.text);
}

std::optional<value> reader::scalar(const YAML::Node& node, std::string_view name) {
    if (node.IsNull())
        return value::null();
    if (!node.IsScalar()) {
        problem(node, fmt::format("'{}' must be a single value, not {}", name, type_name(node)));
        return std::nullopt;
    }
    auto s = substitute(node.Scalar(), base_dir_);
    if (!s.ok()) {
        problem(node, std::move(s.problem));
        return std::nullopt;
    }
    redact_substitutions(node, s);
    // A substituted value came from outside the YAML; its type is not the admin's to infer.
    if (s.changed)
        return value::string(std::move(s.text));
    return scalar_value(node);
}

map_view::map_view(reader& r,
                   const YAML::Node& node,
                   std::string path,
                   std::span<const std::string_view> allowed)
    : r_(r), node_(node), path_(std::move(path)) {
    if (node_.IsNull()) {
        is_map_ = true;
        return;
    }
    if (!node_.IsMap()) {
        if (path_.empty()) {
            r_.problem(node_, fmt::format("expected a map of keys, not {}", type_name(node_)));
        } else {
            r_.problem(node_, fmt::format("'{}' must be a map, not {}", path_, type_name(node_)));
        }
        return;
    }
    is_map_ = true;
    const std::string context = path_.empty() ? std::string() : fmt::format("'{}'", path_);
    for (auto it = node_.begin(); it != node_.end(); ++it) {
        const YAML::Node key = it->first;
        const YAML::Node val = it->second;
        if (!key.IsScalar()) {
            r_.problem(key, fmt::format("a key must be a string, not {}", type_name(key)));
            continue;
        }
        const std::string& name = key.Scalar();
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            r_.problem(key, unknown_message("key", name, allowed, context));
            continue;
        }
        const auto seen = std::find(keys_.begin(), keys_.end(), name);
        if (seen != keys_.end()) {
            const auto first = r_.at(entries_[seen - keys_.begin()].first);
            r_.problem(key,
                       fmt::format("duplicate key '{}'; first at line {}, column {}",
                                   name,
                                   first.line,
                                   first.column));
            continue;
        }
        keys_.push_back(name);
        entries_.emplace_back(key, val);
    }
}

std::string map_view::path(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

const YAML::Node* map_view::key_node(std::string_view key) const {
    const auto it = std::find(keys_.begin(), keys_.end(), key);
    return it == keys_.end() ? nullptr : &entries_[it - keys_.begin()].first;
}

const YAML::Node* map_view::find(std::string_view key) const {
    const auto it = std::find(keys_.begin(), keys_.end(), key);
    if (it == keys_.end())
        return nullptr;
    const YAML::Node& v = entries_[it - keys_.begin()].second;
    return v.IsNull() ? nullptr : &v;
}

const YAML::Node* map_view::require(std::string_view key, std::string_view why) {
    if (const YAML::Node* v = find(key))
        return v;
    if (!is_map_)
        return nullptr;
    std::string message = path_.empty()
                              ? fmt::format("missing required key '{}'", key)
                              : fmt::format("missing required key '{}' in '{}'", key, path_);
    if (!why.empty())
        message += fmt::format(" ({})", why);
    if (const YAML::Node* k = key_node(key)) {
        r_.problem(*k, std::move(message));
    } else {
        r_.problem(where(), std::move(message));
    }
    return nullptr;
}

std::optional<std::string> map_view::string(std::string_view key, bool required) {
    const YAML::Node* n = required ? require(key) : find(key);
    if (!n)
        return std::nullopt;
    auto t = r_.text(*n, path(key));
    if (t && required && t->empty()) {
        r_.problem(*n, fmt::format("'{}' must not be empty", path(key)));
        return std::nullopt;
    }
    return t;
}

std::optional<secret> map_view::secret_value(std::string_view key, bool required) {
    auto t = string(key, required);
    if (!t)
        return std::nullopt;
    return secret(std::move(*t));
}

std::optional<duration> map_view::duration_value(std::string_view key) {
    const YAML::Node* n = find(key);
    if (!n)
        return std::nullopt;
    auto t = r_.text(*n, path(key));
    if (!t)
        return std::nullopt;
    std::string problem;
    auto d = parse_duration(*t, &problem);
    if (!d)
        r_.problem(*n, std::move(problem));
    return d;
}

std::optional<long long> map_view::integer(std::string_view key, long long min, long long max) {
    const YAML::Node* n = find(key);
    if (!n)
        return std::nullopt;
    auto t = r_.text(*n, path(key));
    if (!t)
        return std::nullopt;
    long long v = 0;
    const auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), v);
    if (t->empty() || ec != std::errc{} || ptr != t->data() + t->size() || v < min || v > max) {
        r_.problem(*n,
                   fmt::format(
                       "'{}' must be an integer from {} to {}, not '{}'", path(key), min, max, *t));
        return std::nullopt;
    }
    return v;
}

std::optional<bool> map_view::boolean(std::string_view key) {
    const YAML::Node* n = find(key);
    if (!n)
        return std::nullopt;
    auto v = r_.scalar(*n, path(key));
    if (!v)
        return std::nullopt;
    if (v->type() != value::kind::boolean) {
        r_.problem(*n, fmt::format("'{}' must be true or false", path(key)));
        return std::nullopt;
    }
    return v->as_bool();
}

std::optional<value> map_view::scalar(std::string_view key) {
    const YAML::Node* n = find(key);
    if (!n)
        return std::nullopt;
    return r_.scalar(*n, path(key));
}

}  // namespace crmsync::config
