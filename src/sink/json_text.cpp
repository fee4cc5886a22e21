#include "crmsync/sink/json_text.hpp"

#include <fmt/format.h>

namespace crmsync::sink {

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out += fmt::format("\\u{:04x}", c);
                } else {
                    out += ch;  // UTF-8 passes through; both destinations read UTF-8
                }
        }
    }
    out += '"';
}

void append_json_value(std::string& out, const value& v) {
    switch (v.type()) {
        case value::kind::null:
            out += "null";
            break;
        case value::kind::boolean:
            out += v.as_bool() ? "true" : "false";
            break;
        case value::kind::number:
            out += v.text();
            break;
        case value::kind::string:
            append_json_string(out, v.text());
            break;
    }
}

}  // namespace crmsync::sink
