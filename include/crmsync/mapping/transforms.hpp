#pragma once
// The value transforms of a field map (SPEC §3) as pure functions on text, so they can be
// tested one by one and reused by mapping-doc. The plan (plan.hpp) calls them through a
// compiled list of steps; nothing here looks anything up by name at run time.
//
// Text is UTF-8. Case and whitespace handling is deliberately ASCII-only: bytes >= 0x80 pass
// through untouched, so "ÉCOLE" lowers to "École" and a non-breaking space is not trimmed.
// Unicode case mapping needs ICU-sized tables and locale rules (Turkish dotted i) that would
// make a payload depend on the host; marketing platforms compare emails and picklists in ASCII.
// `truncate` counts Unicode code points and never splits a multi-byte character.

#include "crmsync/core/timestamp.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::mapping {

// The names accepted in `transform:` lists, in the order messages list them. `phone` is not
// among them yet: E.164 formatting needs libphonenumber, whose Debian package conflicts with
// the Boost 1.81 we build against (STYLE.md toolchain note).
std::span<const std::string_view> transform_names();

void trim(std::string& s);   // ASCII whitespace (space, \t, \n, \v, \f, \r), both ends
void lower(std::string& s);  // A-Z -> a-z
void upper(std::string& s);  // a-z -> A-Z
// Lowers everything, then raises the first letter of each word; a word starts after
// whitespace, '-' or '\'' ("o'neil-smith" -> "O'Neil-Smith").
void title(std::string& s);
void collapse_spaces(std::string& s);  // each run of ASCII whitespace -> one ' ' (ends kept)
void truncate(std::string& s, std::size_t code_points);

// A strftime-style output format, checked once when the mapping is compiled and applied in
// UTC with English names, whatever the host's locale and time zone.
// Directives: %Y %y %m %d %e %j %H %I %M %S %p %b %h %B %a %A %u %w %F %T %D %R %z (+0000)
// %Z (UTC) %s (Unix seconds) %%.
class date_format {
public:
    // Nullopt for an unknown directive, a lone trailing '%', or a format with no conversion
    // at all (a constant date is surely a mistake); `problem` then says which.
    static std::optional<date_format> compile(std::string_view format, std::string* problem);

    std::string format(sys_ms at) const;
    const std::string& text() const noexcept { return text_; }

private:
    struct segment {
        char directive;       // 0: literal
        std::string literal;  // directive == 0
    };

    std::string text_;
    std::vector<segment> segments_;
};

// Parses any ISO-8601 date or datetime Salesforce sends ("2013-05-20T20:49:32.000+0000",
// "2013-05-20T20:49:32Z", "2013-05-20T22:49:32+02:00", "2013-05-20") and formats it.
// Nullopt when the text is not one of those.
std::optional<std::string> reformat_date(std::string_view text, const date_format& format);

}  // namespace crmsync::mapping
