#include "crmsync/sink/json_text.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>

namespace crmsync::sink {

void append_json_string(std::string& out, std::string_view s) {
    // Runs of characters that need no escape are appended whole: this is every byte of every
    // batch body, and one push_back per character was a tenth of crmsync's instructions.
    out += '"';
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        // Eight bytes at a time while none of them needs an escape (SWAR: a control
        // character, '"' or '\\' sets the high bit of its byte in `hit`).
        while (i + 8 <= s.size()) {
            std::uint64_t w;
            std::memcpy(&w, s.data() + i, 8);
            constexpr std::uint64_t ones = 0x0101010101010101ULL;
            constexpr std::uint64_t highs = 0x8080808080808080ULL;
            auto zero_byte = [&](std::uint64_t v) { return (v - ones) & ~v & highs; };
            const std::uint64_t hit = ((w - ones * 0x20) & ~w & highs) |
                                      zero_byte(w ^ (ones * '"')) | zero_byte(w ^ (ones * '\\'));
            if (hit != 0)
                break;
            i += 8;
        }
        if (i >= s.size())
            break;
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;  // UTF-8 passes through; both destinations read UTF-8
        out.append(s.data() + run, i - run);
        run = i + 1;
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
                out += fmt::format("\\u{:04x}", c);
        }
    }
    out.append(s.data() + run, s.size() - run);
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
