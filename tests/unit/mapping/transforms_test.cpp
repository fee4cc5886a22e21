#include "crmsync/mapping/transforms.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <functional>

namespace crmsync::mapping {
namespace {

struct text_case {
    std::string in;
    std::string out;
};

void check(const std::function<void(std::string&)>& f, std::initializer_list<text_case> cases) {
    for (const auto& c : cases) {
        std::string s = c.in;
        f(s);
        EXPECT_EQ(s, c.out) << "input: '" << c.in << "'";
    }
}

TEST(transforms, trim_is_ascii_whitespace_only) {
    check(trim,
          {{"", ""},
           {"   ", ""},
           {"  a  ", "a"},
           {"\t\na b\r\n\v\f", "a b"},
           {"  École  ", "École"},
           // U+00A0 NO-BREAK SPACE is not ASCII whitespace: kept, as documented.
           {"\u00a0x\u00a0", "\u00a0x\u00a0"}});
}

TEST(transforms, lower_and_upper_touch_ascii_letters_only) {
    check(lower,
          {{"", ""},
           {"JOHN.DOE@EXAMPLE.COM", "john.doe@example.com"},
           {"ÉCOLE Ü", "École Ü"},  // É and Ü are not ASCII: unchanged
           {"Straße 12", "straße 12"}});
    check(upper, {{"john.doe", "JOHN.DOE"}, {"école", "éCOLE"}, {"123-ab", "123-AB"}});
}

TEST(transforms, title_starts_words_after_space_dash_and_apostrophe) {
    check(title,
          {{"", ""},
           {"jean pierre", "Jean Pierre"},
           {"JEAN-PIERRE", "Jean-Pierre"},
           {"o'neil", "O'Neil"},
           {"élodie DUPONT", "élodie Dupont"},
           {"  mixed\tCASE words ", "  Mixed\tCase Words "}});
}

TEST(transforms, collapse_spaces_keeps_one_space_per_run) {
    check(collapse_spaces,
          {{"", ""}, {"a  \t b\n\nc", "a b c"}, {"  a  ", " a "}, {"no-space", "no-space"}});
}

TEST(transforms, truncate_counts_code_points_and_never_splits_one) {
    const auto to = [](std::size_t n) { return [n](std::string& s) { truncate(s, n); }; };
    check(to(3), {{"", ""}, {"abcdef", "abc"}, {"ab", "ab"}, {"abc", "abc"}});
    check(to(2),
          {{"héllo", "hé"},     // é is two bytes
           {"日本語", "日本"},  // three bytes each
           {"a😀b", "a😀"}});     // four bytes
    check(to(1), {{"😀😀", "😀"}, {"é", "é"}});
}

// Edge cases, one table per step. Values reach these functions only when they are not null
// (plan.cpp skips steps on null), so "" is the empty case here; null and absent are covered
// in apply_test.cpp.

TEST(transforms, trim_edge_cases) {
    check(trim,
          {{"\t", ""},
           {"\r\n", ""},
           {"a", "a"},
           {" a b ", "a b"},                    // inner whitespace is kept
           {"\u3000a\u3000", "\u3000a\u3000"},  // IDEOGRAPHIC SPACE: not ASCII, kept
           {"\u200ba", "\u200ba"},              // ZERO WIDTH SPACE: kept
           {std::string("\0a\0", 3), std::string("\0a\0", 3)},  // NUL is not whitespace
           {" 日本 ", "日本"}});
}

TEST(transforms, case_steps_leave_every_non_ascii_byte_alone) {
    // Documented choice (transforms.hpp): no Unicode case mapping, so no host or locale
    // dependency; multi-byte sequences come out byte for byte as they went in.
    check(lower,
          {{"ΑΒΓ", "ΑΒΓ"},            // Greek capitals stay
           {"İSTANBUL", "İstanbul"},  // no Turkish dotted-i rule
           {"ÀÉÎÕÜ ABC", "ÀÉÎÕÜ abc"},
           {"MÜLLER", "mÜller"},
           {"\xff\xfe"
            "AB",
            "\xff\xfe"
            "ab"}});  // invalid UTF-8 passes through
    check(upper,
          {{"", ""},
           {"straße", "STRAßE"},  // ß is not raised to SS
           {"αβγ abc", "αβγ ABC"},
           {"ñandú", "ñANDú"},
           {"i\u0307", "I\u0307"}});  // i + COMBINING DOT ABOVE: only the ASCII i changes
    check(title,
          {{"ÉLODIE", "Élodie"},  // É is kept as is, the rest of the word is lowered
           {"élodie", "élodie"},  // é is not raised (no Unicode case mapping)
           {"ÑANDÚ ÁRBOL", "ÑandÚ Árbol"},
           {"jean\u00a0pierre", "Jean\u00a0pierre"},  // a non-breaking space does not start a word
           {"o’neil", "O’neil"},                      // nor does the typographic apostrophe U+2019
           {"日本 tokyo", "日本 Tokyo"}});
}

TEST(transforms, title_word_boundaries) {
    check(title,
          {{"a", "A"},
           {"-", "-"},
           {"'", "'"},
           {"--jean--pierre--", "--Jean--Pierre--"},
           {"mary-kate o'hara", "Mary-Kate O'Hara"},
           {"3RD AVENUE", "3rd Avenue"},          // a digit is the word's first character
           {"j.r.r. TOLKIEN", "J.r.r. Tolkien"},  // '.' does not start a word
           {"(JOHN)", "(john)"},
           {"line\nbreak\ttab", "Line\nBreak\tTab"}});
}

TEST(transforms, collapse_spaces_edge_cases) {
    check(collapse_spaces,
          {{" ", " "},
           {"\r\n", " "},
           {"\t\t\t", " "},
           {"a\r\nb", "a b"},
           {"a \u00a0 b", "a \u00a0 b"},  // U+00A0 is not ASCII whitespace
           {"日本  語", "日本 語"}});
}

TEST(transforms, truncate_edge_cases) {
    const auto to = [](std::size_t n) { return [n](std::string& s) { truncate(s, n); }; };
    // 0 is refused by the compiler; the function itself gives "".
    check(to(0), {{"", ""}, {"abc", ""}, {"é", ""}, {"😀", ""}});
    check(to(1), {{"", ""}, {"a", "a"}, {"ab", "a"}, {"éa", "é"}, {"日本", "日"}});
    // A combining mark is its own code point: "é" written e + U+0301 is cut after the e.
    check(to(1), {{"e\u0301", "e"}});
    check(to(5), {{"  a  b", "  a  "}, {"日本語", "日本語"}});
    check(to(static_cast<std::size_t>(-1)), {{"unchanged", "unchanged"}});
    // Never a partial sequence: every cut of a mixed 1-4 byte text is valid UTF-8 and a
    // prefix of the input, at a code point boundary.
    const std::string mixed = "aé日😀b€ß𝄞";
    const std::vector<std::string> prefixes{
        "", "a", "aé", "aé日", "aé日😀", "aé日😀b", "aé日😀b€", "aé日😀b€ß", "aé日😀b€ß𝄞"};
    for (std::size_t n = 0; n < prefixes.size() + 2; ++n) {
        std::string s = mixed;
        truncate(s, n);
        EXPECT_EQ(s, prefixes[std::min(n, prefixes.size() - 1)]) << n;
    }
}

TEST(date_format, refuses_formats_that_cannot_be_right) {
    struct bad_case {
        const char* format;
        const char* problem;
    };
    for (const auto& c : std::initializer_list<bad_case>{
             {"", "date format '' has no conversion; expected e.g. \"%Y-%m-%d\""},
             {"today", "date format 'today' has no conversion; expected e.g. \"%Y-%m-%d\""},
             {"100%%", "date format '100%%' has no conversion; expected e.g. \"%Y-%m-%d\""},
             {"%Y-%Q",
              "unknown directive '%Q' in date format '%Y-%Q'; expected one of: %Y %y "
              "%m %d %e %j %H %I %M %S %p %b %h %B %a %A %u %w %F %T %D %R %z %Z %s %%"},
             {"%Y-%", "date format '%Y-%' ends with a lone '%' (write %% for a literal '%')"},
         }) {
        std::string problem;
        EXPECT_FALSE(date_format::compile(c.format, &problem)) << c.format;
        EXPECT_EQ(problem, c.problem);
    }
}

TEST(date_format, formats_in_utc_with_english_names) {
    const auto at = timestamp::parse("2013-05-20T20:49:32.123+0000")->at;
    struct format_case {
        const char* format;
        const char* out;
    };
    for (const auto& c : std::initializer_list<format_case>{
             {"%Y-%m-%d", "2013-05-20"},
             {"%Y-%m-%dT%H:%M:%SZ", "2013-05-20T20:49:32Z"},
             {"%d/%m/%y", "20/05/13"},
             {"%F %T %z %Z", "2013-05-20 20:49:32 +0000 UTC"},
             {"%a %A %b %h %B", "Mon Monday May May May"},
             {"%I:%M %p", "08:49 PM"},
             {"%j %u %w %e", "140 1 1 20"},
             {"%D %R", "05/20/13 20:49"},
             {"%s", "1369082972"},
             {"100%% on %Y", "100% on 2013"},
         }) {
        const auto f = date_format::compile(c.format, nullptr);
        ASSERT_TRUE(f) << c.format;
        EXPECT_EQ(f->format(at), c.out) << c.format;
        EXPECT_EQ(f->text(), c.format);
    }
    const auto f = date_format::compile("%Y-%m-%d %a %e %I%p", nullptr);
    EXPECT_EQ(f->format(timestamp::parse("1969-12-31T00:30:00Z")->at), "1969-12-31 Wed 31 12AM");
    EXPECT_EQ(f->format(timestamp::parse("2024-02-29T12:00:00Z")->at), "2024-02-29 Thu 29 12PM");
}

// Every directive against the C library's strftime (C locale, UTC) over instants from 1601
// to 2400: leap days, year ends, midnight and noon, one-digit days and hours. %Z and %s are
// left out: strftime names GMT and reads %s in the host's time zone.
TEST(date_format, agrees_with_strftime_on_every_directive) {
    const char* format = "%Y %y %m %d %e %j %H %I %M %S %p %b %h %B %a %A %u %w %F %T %D %R %z %%";
    const auto f = date_format::compile(format, nullptr);
    ASSERT_TRUE(f);
    std::uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // -11644473600 s is 1601-01-01; 800 years of seconds; some instants pinned to edges.
        std::int64_t secs = -11'644'473'600LL + static_cast<std::int64_t>(x % 25'246'080'000ULL);
        if (i % 4 == 1)
            secs -= secs % 86'400;  // midnight
        if (i % 4 == 2)
            secs = secs - secs % 86'400 + 43'200;  // noon
        const std::time_t t = static_cast<std::time_t>(secs);
        std::tm tm{};
        ASSERT_NE(gmtime_r(&t, &tm), nullptr);
        char want[256];
        ASSERT_GT(std::strftime(want, sizeof want, format, &tm), 0u);
        const sys_ms at{std::chrono::seconds(secs)};
        ASSERT_EQ(f->format(at), want) << "at " << secs;
    }
}

TEST(reformat_date, reads_every_form_salesforce_sends) {
    const auto f = *date_format::compile("%Y-%m-%dT%H:%M:%S", nullptr);
    for (const auto& [in, out] : std::initializer_list<std::pair<const char*, const char*>>{
             {"2013-05-20T20:49:32.000+0000", "2013-05-20T20:49:32"},
             {"2013-05-20T20:49:32Z", "2013-05-20T20:49:32"},
             {"2013-05-20T22:49:32+02:00", "2013-05-20T20:49:32"},  // converted to UTC
             {"2013-05-20T23:30:00-0100", "2013-05-21T00:30:00"},   // crosses midnight
             {"2013-05-20", "2013-05-20T00:00:00"},
         }) {
        EXPECT_EQ(reformat_date(in, f), out) << in;
    }
    for (const char* bad : {"",
                            "20/05/2013",
                            "2013-02-30",
                            "2013-05-20T25:00:00Z",
                            "yesterday",
                            "2013-05-20 20:49:32Z",
                            "1369082972"}) {
        EXPECT_EQ(reformat_date(bad, f), std::nullopt) << bad;
    }
}

TEST(reformat_date, edge_cases) {
    const auto f = *date_format::compile("%FT%T.%s", nullptr);
    const auto iso = *date_format::compile("%Y-%m-%dT%H:%M:%SZ", nullptr);
    for (const auto& [in, out] : std::initializer_list<std::pair<const char*, const char*>>{
             // What Salesforce sends for a dateTime field, and its variants.
             {"2024-05-01T10:00:00.000+0000", "2024-05-01T10:00:00Z"},
             {"2024-05-01T10:00:00.000Z", "2024-05-01T10:00:00Z"},
             {"2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00Z"},          // one fraction digit
             {"2024-05-01T10:00:00.999999999Z", "2024-05-01T10:00:00Z"},  // digits past ms dropped
             {"2024-05-01T10:00:00+05:30", "2024-05-01T04:30:00Z"},
             {"2024-05-01T10:00:00.000+0530", "2024-05-01T04:30:00Z"},
             {"2024-05-01T01:00:00+02:00", "2024-04-30T23:00:00Z"},  // crosses a month
             {"2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00Z"},  // crosses a year
             {"2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z"},       // a leap second
             // A Salesforce date field, and calendar edges.
             {"2024-05-01", "2024-05-01T00:00:00Z"},
             {"2024-02-29", "2024-02-29T00:00:00Z"},
             {"2000-02-29", "2000-02-29T00:00:00Z"},
             {"0001-01-01", "0001-01-01T00:00:00Z"},
             {"9999-12-31", "9999-12-31T00:00:00Z"},
         }) {
        EXPECT_EQ(reformat_date(in, iso), out) << in;
    }
    EXPECT_EQ(reformat_date("2024-05-01T10:00:00.000+0000", f), "2024-05-01T10:00:00.1714557600");

    for (const char* bad : {
             "2024-02-30",  // no such day
             "2023-02-29",  // not a leap year
             "1900-02-29",  // nor is a century not divisible by 400
             "2024-13-01",
             "2024-00-10",
             "2024-01-00",
             "2024-04-31",
             "2024-5-1",  // ISO needs two digits
             "24-05-01",
             "+2024-05-01",
             "2024/05/01",
             "20240501",     // basic format: not what Salesforce sends
             " 2024-05-01",  // surrounding whitespace: trim first
             "2024-05-01 ",
             "2024-05-01T",
             "2024-05-01T10:00",     // no seconds
             "2024-05-01T10:00:00",  // no offset: which time zone?
             "2024-05-01t10:00:00z",
             "2024-05-01T10:00:00.Z",       // a dot with no digits
             "2024-05-01T10:00:00.000+00",  // offset without minutes
             "2024-05-01T10:00:00.000+000",
             "2024-05-01T10:00:00.000+00000",
             "2024-05-01T10:00:00+24:00",
             "2024-05-01T10:00:00+01:60",
             "2024-05-01T24:00:00Z",
             "2024-05-01T10:60:00Z",
             "2024-05-01T10:00:61Z",
             "2024-05-01T10:00:00ZZ",
             "2024-05-01T10:00:00Z junk",
             "10:00:00.000Z",  // a Salesforce time field is not a date
             "٢٠٢٤-٠٥-٠١",     // non-ASCII digits
             "garbage",
             "-",
             "\xff\xfe",
         }) {
        EXPECT_EQ(reformat_date(bad, iso), std::nullopt) << bad;
    }
}

TEST(date_format, names_a_non_ascii_directive_whole) {
    // The message quotes the whole character after '%', never half of its UTF-8 sequence.
    std::string problem;
    EXPECT_FALSE(date_format::compile("%Y-%é", &problem));
    EXPECT_TRUE(problem.starts_with("unknown directive '%é' in date format '%Y-%é';")) << problem;
    EXPECT_FALSE(date_format::compile("%😀", &problem));
    EXPECT_TRUE(problem.starts_with("unknown directive '%😀' in date format '%😀';")) << problem;
}

TEST(transforms, names_are_listed) {
    const auto names = transform_names();
    EXPECT_EQ(std::vector<std::string_view>(names.begin(), names.end()),
              (std::vector<std::string_view>{"trim",
                                             "lower",
                                             "upper",
                                             "title",
                                             "collapse_spaces",
                                             "truncate",
                                             "date",
                                             "phone",
                                             "default"}));
}

struct phone_case {
    std::string in;
    std::string region;  // "": none
    phone_style style = phone_style::e164;
    std::variant<std::string, phone_error> out;
};

void check_phones(std::initializer_list<phone_case> cases) {
    for (const auto& c : cases) {
        const auto got = format_phone(c.in, c.style, c.region);
        if (const auto* e = std::get_if<phone_error>(&c.out)) {
            ASSERT_TRUE(std::holds_alternative<phone_error>(got))
                << "'" << c.in << "' (region '" << c.region << "') gave "
                << std::get<std::string>(got) << ", expected: " << describe(*e);
            EXPECT_EQ(std::get<phone_error>(got), *e)
                << "'" << c.in << "': " << describe(std::get<phone_error>(got));
        } else {
            ASSERT_TRUE(std::holds_alternative<std::string>(got))
                << "'" << c.in << "' (region '" << c.region
                << "'): " << describe(std::get<phone_error>(got));
            EXPECT_EQ(std::get<std::string>(got), std::get<std::string>(c.out)) << c.in;
        }
    }
}

TEST(phone, national_numbers_are_read_in_the_region) {
    check_phones({
        {"01 23 45 67 89", "FR", phone_style::e164, "+33123456789"},
        {"0612345678", "FR", phone_style::e164, "+33612345678"},
        {"(650) 253-0000", "US", phone_style::e164, "+16502530000"},
        {"020 7946 0958", "GB", phone_style::e164, "+442079460958"},
        {"02 555 12 12", "BE", phone_style::e164, "+3225551212"},
        // Read in another region, the same digits are another number, or none.
        {"0470 12 34 56", "BE", phone_style::e164, "+32470123456"},
        {"0470 12 34 56", "FR", phone_style::e164, "+33470123456"},
        {"02 555 12 12", "FR", phone_style::e164, phone_error::invalid_for_region},
    });
}

TEST(phone, separators_and_blanks_are_ignored) {
    check_phones({
        {"01.23.45.67.89", "FR", phone_style::e164, "+33123456789"},
        {"01-23-45-67-89", "FR", phone_style::e164, "+33123456789"},
        {"(0)1 23 45 67 89", "FR", phone_style::e164, "+33123456789"},
        {"  01 23 45 67 89  ", "FR", phone_style::e164, "+33123456789"},
        {"01\u00a023\u00a045\u00a067\u00a089", "FR", phone_style::e164, "+33123456789"},
        // Full-width digits, as some input methods type them.
        {"\uff10\uff11 23 45 67 89", "FR", phone_style::e164, "+33123456789"},
    });
}

TEST(phone, international_numbers_keep_their_country_whatever_the_region) {
    check_phones({
        {"+33 1 23 45 67 89", "FR", phone_style::e164, "+33123456789"},
        {"+33 1 23 45 67 89", "US", phone_style::e164, "+33123456789"},
        {"+33 1 23 45 67 89", "", phone_style::e164, "+33123456789"},
        {"+33 (0)1 23 45 67 89", "", phone_style::e164, "+33123456789"},
        {"+1 (415) 555-0123", "", phone_style::e164, "+14155550123"},
        {"+44 7911 123456", "FR", phone_style::e164, "+447911123456"},
        {"tel:+33-1-23-45-67-89", "", phone_style::e164, "+33123456789"},
        // The region's own international prefix: 00 in France, 011 in the US.
        {"0033 1 23 45 67 89", "FR", phone_style::e164, "+33123456789"},
        {"011 44 20 7946 0958", "US", phone_style::e164, "+442079460958"},
    });
}

TEST(phone, extensions_are_dropped_by_e164_and_kept_by_the_other_formats) {
    check_phones({
        {"+1 650-253-0000 ext. 123", "", phone_style::e164, "+16502530000"},
        {"+1 650-253-0000 ext. 123", "", phone_style::international, "+1 650-253-0000 ext. 123"},
        {"+1 650-253-0000 x123", "", phone_style::rfc3966, "tel:+1-650-253-0000;ext=123"},
        {"+1 650-253-0000 ext. 123", "", phone_style::national, "(650) 253-0000 ext. 123"},
    });
}

TEST(phone, each_format) {
    check_phones({
        {"01 23 45 67 89", "FR", phone_style::e164, "+33123456789"},
        {"01 23 45 67 89", "FR", phone_style::international, "+33 1 23 45 67 89"},
        {"01 23 45 67 89", "FR", phone_style::national, "01 23 45 67 89"},
        {"01 23 45 67 89", "FR", phone_style::rfc3966, "tel:+33-1-23-45-67-89"},
    });
}

TEST(phone, what_is_not_a_number_says_why) {
    check_phones({
        {"", "FR", phone_style::e164, phone_error::not_a_number},
        {"n/a", "FR", phone_style::e164, phone_error::not_a_number},
        {"abc", "FR", phone_style::e164, phone_error::not_a_number},
        {"+", "FR", phone_style::e164, phone_error::not_a_number},
        {"+33", "FR", phone_style::e164, phone_error::not_a_number},
        {"12", "FR", phone_style::e164, phone_error::too_short},
        {"+33 1 23", "FR", phone_style::e164, phone_error::too_short},
        {"01 23 45 67 89 01 23", "FR", phone_style::e164, phone_error::too_long},
        {"+33 1 23 45 67 89 01 23 45", "", phone_style::e164, phone_error::too_long},
        {"+999 123 456", "FR", phone_style::e164, phone_error::bad_country_code},
        // The right length, in no range of the country: the placeholders CRMs are full of.
        {"0000000000", "FR", phone_style::e164, phone_error::invalid_for_region},
        {"1234567890", "US", phone_style::e164, phone_error::invalid_for_region},
        {"555-0100", "US", phone_style::e164, phone_error::invalid_for_region},
    });
}

TEST(phone, a_national_number_needs_a_region) {
    check_phones({
        {"01 23 45 67 89", "", phone_style::e164, phone_error::no_region},
        {"(650) 253-0000", "", phone_style::e164, phone_error::no_region},
    });
    EXPECT_EQ(describe(phone_error::no_region),
              "has no country code (+NN) and no phone region is set to read it in");
}

TEST(phone, regions_are_upper_case_iso_codes_libphonenumber_knows) {
    for (const char* r : {"FR", "US", "GB", "DE", "BE", "CH", "JP"})
        EXPECT_TRUE(is_phone_region(r)) << r;
    for (const char* r : {"", "fr", "UK", "FRA", "France", "ZZ", "001", "XX"})
        EXPECT_FALSE(is_phone_region(r)) << r;
}

TEST(phone, every_error_has_a_message) {
    for (const auto e : {phone_error::not_a_number,
                         phone_error::no_region,
                         phone_error::bad_country_code,
                         phone_error::too_short,
                         phone_error::too_long,
                         phone_error::invalid_for_region})
        EXPECT_FALSE(describe(e).empty());
}

}  // namespace
}  // namespace crmsync::mapping
