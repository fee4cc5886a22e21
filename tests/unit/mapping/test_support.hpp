#pragma once
// Builds a stream from a YAML snippet (fields: and skip_if:) as config::load would, and rows
// keyed by CRM field name for plans that expect their own column order.

#include "crmsync/config/model.hpp"
#include "crmsync/mapping/plan.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync {

// Readable gtest failures: string "a", number 1, true, null.
inline void PrintTo(const value& v, std::ostream* os) {
    switch (v.type()) {
        case value::kind::null:
            *os << "null";
            break;
        case value::kind::string:
            *os << '"' << v.text() << '"';
            break;
        default:
            *os << v.text();
            break;
    }
}

}  // namespace crmsync

namespace crmsync::mapping::testing {

inline config::stream make_stream(std::string_view text,
                                  std::string key_source = "Id",
                                  std::string key_destination = "sfdcContactId") {
    if (!text.empty() && text.front() == '\n')
        text.remove_prefix(1);
    config::stream s;
    s.name = "contacts";
    s.file = "m.yaml";
    s.where = {"m.yaml", 1, 9};
    s.destination.key.source = std::move(key_source);
    s.destination.key.destination = std::move(key_destination);
    const YAML::Node doc = YAML::Load(std::string(text));
    for (auto it = doc.begin(); it != doc.end(); ++it) {
        // Rebinding default-constructed nodes, as config::load does.
        if (it->first.Scalar() == "fields")
            s.fields = it->second;
        if (it->first.Scalar() == "skip_if")
            s.skip_if = it->second;
        if (it->first.Scalar() == "phone_region")
            s.phone_region = it->second;
    }
    return s;
}

struct compiled {
    std::shared_ptr<const mapping::plan> plan;
    std::vector<std::string> problems;  // sorted "file:line:col: message"
};

inline compiled compile_text(std::string_view text) {
    config::diagnostics d;
    compiled out;
    out.plan = compile(make_stream(text), d);
    for (const auto& x : d.sorted())
        out.problems.push_back(x.to_string());
    return out;
}

// A record whose columns follow p.source_columns(); fields not given are null.
inline record row(const plan& p, const std::map<std::string, value>& values) {
    record r;
    r.id = "003000000000001AAA";
    for (const auto& name : p.source_columns()) {
        const auto it = values.find(name);
        r.columns.push_back(it == values.end() ? value::null() : it->second);
    }
    for (const auto& [name, _] : values) {
        const auto& cols = p.source_columns();
        EXPECT_NE(std::find(cols.begin(), cols.end(), name), cols.end())
            << "test row names a column the plan does not read: " << name;
    }
    return r;
}

inline value str(std::string s) {
    return value::string(std::move(s));
}
inline value num(std::string s) {
    return value::number(std::move(s));
}

}  // namespace crmsync::mapping::testing
