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
#include <variant>
#include <vector>

namespace crmsync::mapping {

// The names accepted in `transform:` lists, in the order messages list them.
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

// `phone`: a phone number read by libphonenumber (its metadata decides what is valid) and
// written in one of its formats. E164 ("+33123456789") has no room for an extension, which is
// dropped; the other formats keep it (" ext. 12", RFC 3966 ";ext=12").
enum class phone_style { e164, international, national, rfc3966 };

// Why a text is not a phone number, for the rejection message.
enum class phone_error {
    not_a_number,        // no digits to speak of ("n/a", "tbd")
    no_region,           // no country code, and no region to read it in
    bad_country_code,    // "+999 ...", or a national number the region cannot read
    too_short,           // fewer digits than any number of its country
    too_long,            // more digits than any number of its country
    invalid_for_region,  // the right length, but in no range of its country ("0000000000")
};
std::string_view describe(phone_error e) noexcept;

// True for a region libphonenumber has metadata for: an upper-case ISO 3166-1 alpha-2 code
// ("FR", "US", "GB"; not "UK", "FRA" or "fr").
bool is_phone_region(std::string_view region);

// `text` as a phone number in `style`. Numbers without a country code ("01 23 45 67 89") are
// read as numbers of `region` (empty: none, and they are refused with no_region); numbers
// with one ("+44 20 7946 0958", or "0044..." with the region's international prefix) keep it.
// Spaces, dots, dashes and brackets are ignored. Thread-safe.
std::variant<std::string, phone_error> format_phone(std::string_view text,
                                                    phone_style style,
                                                    const std::string& region);

}  // namespace crmsync::mapping
