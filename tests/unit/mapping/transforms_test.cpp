#include "crmsync/mapping/transforms.hpp"

#include <gtest/gtest.h>

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

TEST(transforms, names_are_listed) {
    const auto names = transform_names();
    EXPECT_EQ(
        std::vector<std::string_view>(names.begin(), names.end()),
        (std::vector<std::string_view>{
            "trim", "lower", "upper", "title", "collapse_spaces", "truncate", "date", "default"}));
}

}  // namespace
}  // namespace crmsync::mapping
