#pragma once
// Reading YAML against a fixed schema with exact diagnostics (STYLE rule 4; userver's
// validate_static_config, Fluent Bit's config_map): every map is checked against the keys it
// may hold (unknown keys are errors, with "did you mean"), every scalar goes through ${...}
// substitution before it is used, and every problem is appended with its file:line:column
// while reading goes on. Shared by config::load and mapping::compile.
//
// Null values (`key:` or `key: ~`) count as absent, as YAML readers expect.

#include "crmsync/config/diagnostics.hpp"
#include "crmsync/config/enum_table.hpp"
#include "crmsync/config/model.hpp"
#include "crmsync/config/substitute.hpp"
#include "crmsync/core/secret.hpp"
#include "crmsync/core/value.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crmsync::config {

// yaml-cpp marks are 0-based; diagnostics are 1-based. An undefined node or a node without a
// mark gives line and column 0.
position position_of(const std::string& file, const YAML::Node& node);

std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate nearest to `got` when it is within edit distance 3 (ties: the first listed).
std::optional<std::string_view> closest(std::string_view got,
                                        std::span<const std::string_view> candidates);

// "a map", "a list", "a scalar", "null": for "'x' must be a map, not a list".
std::string_view type_name(const YAML::Node& node);

// A scalar as a value: quoted scalars are strings; plain ones are null (~, null), booleans
// (true/false in any of YAML's three casings), numbers when the text is a JSON number (so
// "007" or "+1" stay strings and the payload encoder never writes an invalid literal), else
// strings.
value scalar_value(const YAML::Node& node);

// A Salesforce field or object API name ("Email", "City_A__c"), or a relationship path of them
// ("Account.Owner.Name"). These are pasted into SOQL, so nothing else may pass.
bool is_api_name(std::string_view name);
bool is_field_path(std::string_view path);

// The source of diagnostics for one file.
class reader {
public:
    reader(std::string file, diagnostics& problems);

    const std::string& file() const noexcept { return file_; }
    position at(const YAML::Node& node) const { return position_of(file_, node); }
    void problem(const position& where, std::string message);
    void problem(const YAML::Node& node, std::string message);
    std::size_t problem_count() const noexcept { return problems_.size(); }

    // A scalar's text after ${...} substitution. Reports a non-scalar ("'name' must be a
    // string, not a map") or a failed substitution, and returns nullopt.
    std::optional<std::string> text(const YAML::Node& node, std::string_view name);
    // scalar_value() after substitution; a substituted scalar is always a string.
    std::optional<value> scalar(const YAML::Node& node, std::string_view name);

private:
    void redact_substitutions(const YAML::Node& node, const substituted& s);

    std::string file_;
    std::filesystem::path base_dir_;
    diagnostics& problems_;
};

// A YAML map checked against its allowed keys. Constructing it reports a node that is not a
// map, each unknown key ("unknown key 'levl' in 'log'; did you mean 'level'? expected one of:
// level, format") and each duplicate key. A null node reads as an empty map, so the required
// keys it lacks are reported one by one.
class map_view {
public:
    // `path` is the dotted name of the map in messages ("sources.prod_org.auth"); empty for the
    // top level of a file.
    map_view(reader& r,
             const YAML::Node& node,
             std::string path,
             std::span<const std::string_view> allowed);

    bool is_map() const noexcept { return is_map_; }
    const YAML::Node& node() const noexcept { return node_; }
    position where() const { return r_.at(node_); }
    reader& source() const noexcept { return r_; }
    // "sources.prod_org.auth.client_id", or "client_id" at the top level.
    std::string path(std::string_view key) const;

    // The value under `key`, or nullptr when absent or null.
    const YAML::Node* find(std::string_view key) const;
    // The key's own node (for positions of a null value); nullptr when absent.
    const YAML::Node* key_node(std::string_view key) const;
    // Present and not null; otherwise reports "missing required key 'x' in 'path'" (at the
    // key when it is present with no value, else at the map) and returns nullptr.
    const YAML::Node* require(std::string_view key, std::string_view why = {});

    // Typed reads: an absent optional key gives nullopt without a problem; a present key with
    // a bad value is reported and gives nullopt.
    std::optional<std::string> string(std::string_view key, bool required = false);
    // Like string(), and also refuses the empty string when required.
    std::optional<secret> secret_value(std::string_view key, bool required = false);
    std::optional<duration> duration_value(std::string_view key);
    std::optional<long long> integer(std::string_view key, long long min, long long max);
    std::optional<bool> boolean(std::string_view key);
    std::optional<value> scalar(std::string_view key);

    template <class E, std::size_t N>
    std::optional<E> choice(std::string_view key, const enum_table<E, N>& table) {
        const YAML::Node* n = find(key);
        if (!n)
            return std::nullopt;
        auto t = r_.text(*n, path(key));
        if (!t)
            return std::nullopt;
        if (auto v = table.parse(*t))
            return v;
        r_.problem(*n, table.unknown(*t));
        return std::nullopt;
    }

    // The allowed keys present, in document order (first occurrence), with their value nodes
    // (null values included).
    const std::vector<std::pair<YAML::Node, YAML::Node>>& entries() const noexcept {
        return entries_;
    }

private:
    reader& r_;
    YAML::Node node_;
    std::string path_;
    bool is_map_ = false;
    std::vector<std::pair<YAML::Node, YAML::Node>> entries_;  // known keys, first occurrence
    std::vector<std::string> keys_;                           // entries_ key texts
};

}  // namespace crmsync::config
