#pragma once
// One field value as the CRM sent it and as a destination receives it. Numbers keep their
// original text so that a currency or a 64-bit id is never rounded through a double.

#include <string>
#include <string_view>

namespace crmsync {

class value {
public:
    enum class kind : unsigned char { null, boolean, number, string };

    value() = default;
    static value null() { return {}; }
    static value boolean(bool b) { return value(kind::boolean, b ? "true" : "false"); }
    static value number(std::string text) { return value(kind::number, std::move(text)); }
    static value string(std::string text) { return value(kind::string, std::move(text)); }

    kind type() const noexcept { return kind_; }
    bool is_null() const noexcept { return kind_ == kind::null; }
    // Null, or a string that is empty: "no value" for coalesce, required and default.
    bool is_empty() const noexcept { return kind_ == kind::null || text_.empty(); }
    // The text of a string, the literal of a number or boolean; empty for null.
    const std::string& text() const noexcept { return text_; }
    std::string& text() noexcept { return text_; }
    bool as_bool() const noexcept { return kind_ == kind::boolean && text_ == "true"; }

    friend bool operator==(const value&, const value&) = default;

private:
    // By reference: the factories' text is moved once, not twice (a parsed page makes 20
    // values per record, and the second move showed in profiles).
    value(kind k, std::string&& text) : kind_(k), text_(std::move(text)) {}

    kind kind_ = kind::null;
    std::string text_;
};

}  // namespace crmsync
