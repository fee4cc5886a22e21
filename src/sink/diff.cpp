#include "crmsync/sink/diff.hpp"

#include "crmsync/core/text.hpp"
#include "crmsync/core/timestamp.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string_view>

namespace crmsync::sink {
namespace {

using json = nlohmann::json;

bool no_value(const json& v) {
    return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty());
}

// A whole text read as a number ("12", "-1.5e3"); nullopt for anything else.
std::optional<double> as_number(const json& v) {
    if (v.is_number())
        return v.get<double>();
    if (!v.is_string())
        return std::nullopt;
    const auto& s = v.get_ref<const std::string&>();
    double d = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size())
        return std::nullopt;
    return d;
}

std::optional<bool> as_boolean(const json& v) {
    if (v.is_boolean())
        return v.get<bool>();
    if (!v.is_string())
        return std::nullopt;
    const auto& s = v.get_ref<const std::string&>();
    if (iequals_ascii(s, "true"))
        return true;
    if (iequals_ascii(s, "false"))
        return false;
    return std::nullopt;
}

const json* find_field(const json& record, const std::string& name) {
    if (!record.is_object())
        return nullptr;
    if (const auto it = record.find(name); it != record.end())
        return &*it;
    for (auto it = record.begin(); it != record.end(); ++it) {
        if (iequals_ascii(it.key(), name))
            return &*it;
    }
    return nullptr;
}

}  // namespace

bool same_value(const json& a, const json& b) {
    if (no_value(a) || no_value(b))
        return no_value(a) && no_value(b);
    if (a.is_boolean() || b.is_boolean()) {
        const auto x = as_boolean(a), y = as_boolean(b);
        return x && y && *x == *y;
    }
    if (a.is_number() || b.is_number()) {
        const auto x = as_number(a), y = as_number(b);
        return x && y && *x == *y;
    }
    if (a.is_string() && b.is_string()) {
        const auto& x = a.get_ref<const std::string&>();
        const auto& y = b.get_ref<const std::string&>();
        if (x == y)
            return true;
        // Only datetimes ('T' present): a bare date equals only the same text.
        if (x.find('T') == std::string::npos || y.find('T') == std::string::npos)
            return false;
        const auto tx = timestamp::parse(x), ty = timestamp::parse(y);
        return tx && ty && *tx == *ty;
    }
    return a == b;
}

std::vector<field_change> diff_record(const nlohmann::ordered_json& sent, const json& stored) {
    std::vector<field_change> out;
    if (!sent.is_object())
        return out;
    for (auto it = sent.begin(); it != sent.end(); ++it) {
        const json to(it.value());  // same value, unordered representation
        const json* now = find_field(stored, it.key());
        const json from = now ? *now : json(nullptr);
        if (!same_value(from, to))
            out.push_back({it.key(), from, to});
    }
    return out;
}

}  // namespace crmsync::sink
