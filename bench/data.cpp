#include "data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <iterator>

namespace crmsync::bench {
namespace {

// 2025-06-01T00:00:00Z: far enough back that every record is older than crmsync's settle time.
constexpr std::int64_t base_ms = 1'748'736'000'000;
// Several records per second, so SOQL's whole-second comparisons see ties (api-reference §1.3).
constexpr std::int64_t step_ms = 37;
constexpr std::uint64_t accounts = 2000;

constexpr std::array<field_info, 24> fields{{
    {contact_field::id, "Id", "id", "Contact ID", 18, false},
    {contact_field::is_deleted, "IsDeleted", "boolean", "Deleted", 0, false},
    {contact_field::account_id, "AccountId", "reference", "Account ID", 18, true},
    {contact_field::salutation, "Salutation", "picklist", "Salutation", 40, true},
    {contact_field::first_name, "FirstName", "string", "First Name", 40, true},
    {contact_field::last_name, "LastName", "string", "Last Name", 80, false},
    {contact_field::email, "Email", "email", "Email", 80, true},
    {contact_field::phone, "Phone", "phone", "Business Phone", 40, true},
    {contact_field::mobile_phone, "MobilePhone", "phone", "Mobile Phone", 40, true},
    {contact_field::title, "Title", "string", "Title", 128, true},
    {contact_field::department, "Department", "string", "Department", 80, true},
    {contact_field::mailing_street, "MailingStreet", "textarea", "Mailing Street", 255, true},
    {contact_field::mailing_city, "MailingCity", "string", "Mailing City", 40, true},
    {contact_field::mailing_postal_code,
     "MailingPostalCode",
     "string",
     "Mailing Zip/Postal Code",
     20,
     true},
    {contact_field::mailing_country, "MailingCountry", "string", "Mailing Country", 80, true},
    {contact_field::city_a, "City_A__c", "string", "City (A)", 255, true},
    {contact_field::city_u, "City_U__c", "string", "City (U)", 255, true},
    {contact_field::birthdate, "Birthdate", "date", "Birthdate", 0, true},
    {contact_field::lead_source, "LeadSource", "picklist", "Lead Source", 40, true},
    {contact_field::has_opted_out_of_email,
     "HasOptedOutOfEmail",
     "boolean",
     "Email Opt Out",
     0,
     false},
    {contact_field::lead_score, "Lead_Score__c", "double", "Lead Score", 0, true},
    {contact_field::created_date, "CreatedDate", "datetime", "Created Date", 0, false},
    {contact_field::last_modified_date,
     "LastModifiedDate",
     "datetime",
     "Last Modified Date",
     0,
     false},
    {contact_field::system_modstamp, "SystemModstamp", "datetime", "System Modstamp", 0, false},
}};
constexpr field_info account_name_info{
    contact_field::account_name, "Name", "string", "Account Name", 255, false};

struct name {
    std::string_view display;  // may hold stray spaces and non-ASCII letters
    std::string_view ascii;    // for the e-mail address
};

constexpr std::array<name, 16> first_names{{{"Anna", "anna"},
                                            {" José", "jose"},
                                            {"Zoë ", "zoe"},
                                            {"Mohammed", "mohammed"},
                                            {"li", "li"},
                                            {"Jean-Luc", "jean-luc"},
                                            {"Sophie", "sophie"},
                                            {"Łukasz", "lukasz"},
                                            {"Emma", "emma"},
                                            {"  Noah", "noah"},
                                            {"Aiko", "aiko"},
                                            {"Olivia", "olivia"},
                                            {"Mateo", "mateo"},
                                            {"Fatima", "fatima"},
                                            {"Liam", "liam"},
                                            {"Chloé", "chloe"}}};
constexpr std::array<name, 16> last_names{{{"Smith", "smith"},
                                           {"O'Brien", "obrien"},
                                           {"Müller", "mueller"},
                                           {"García ", "garcia"},
                                           {"Nguyen", "nguyen"},
                                           {"Dubois", "dubois"},
                                           {"Kowalski", "kowalski"},
                                           {"Tanaka", "tanaka"},
                                           {"Rossi", "rossi"},
                                           {"  Johnson", "johnson"},
                                           {"Haddad", "haddad"},
                                           {"van der Berg", "vanderberg"},
                                           {"Silva", "silva"},
                                           {"Schmidt", "schmidt"},
                                           {"Novak", "novak"},
                                           {"Lefèvre", "lefevre"}}};
constexpr std::array<std::string_view, 4> domains{
    "example.com", "Example.org", "mail.example.net", "EXAMPLE.co.uk"};
constexpr std::array<std::string_view, 6> salutations{"Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", ""};
constexpr std::array<std::string_view, 8> titles{"Engineer",
                                                 "  Senior   Engineer ",
                                                 "VP Marketing",
                                                 "Head of\tSales",
                                                 "CTO",
                                                 "Account Executive",
                                                 "Product  Manager",
                                                 "Directrice générale"};
constexpr std::array<std::string_view, 6> departments{
    "Engineering", "Marketing", "Sales", "Finance", "Operations", ""};
constexpr std::array<std::string_view, 8> cities{
    "Paris", "Lyon", " Berlin", "München", "New York", "San Francisco", "London", "Kraków"};
constexpr std::array<std::string_view, 6> countries{
    "France", "Germany", "United States", "United Kingdom", "Poland", "Japan"};
constexpr std::array<std::string_view, 6> postal_codes{
    "75001", "69002", "10115", "sw1a 1aa", "94103 ", "31-007"};
constexpr std::array<std::string_view, 5> lead_sources{
    "Web", "Partner Referral", "Trade Show", "Purchased List", "Webinar"};
constexpr std::array<std::string_view, 4> account_names{"Acme", "Globex", "Initech", " Umbrella"};
constexpr std::array<std::string_view, 3> account_kinds{"Ltd", "GmbH", "Inc."};
constexpr std::array<std::string_view, 4> streets{
    "rue de la Paix", "Main Street", "Hauptstraße", "Baker St"};

// splitmix64: a cheap, well-mixed hash of (record, field), so every value is a pure function of
// the record index.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t roll(std::uint64_t i, contact_field f) {
    return mix(i * 64 + static_cast<std::uint64_t>(f));
}

template <class Array>
const auto& pick(const Array& a, std::uint64_t h) {
    return a[h % a.size()];
}

constexpr char base62_digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// A Salesforce 18-character id: key prefix, a pod-like "5g0", a base-62 sequence, and the
// documented case-safe suffix (one character per 5-character chunk, encoding which positions
// hold an upper-case letter). Sequence order is id order, as with real ids of one org.
std::string salesforce_id(std::string_view prefix, std::uint64_t seq) {
    std::string id(prefix);
    id += "5g0";
    char digits[9];
    for (int k = 8; k >= 0; --k) {
        digits[k] = base62_digits[seq % 62];
        seq /= 62;
    }
    id.append(digits, 9);
    static constexpr char suffix[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    for (int chunk = 0; chunk < 3; ++chunk) {
        int bits = 0;
        for (int k = 0; k < 5; ++k) {
            const char c = id[static_cast<std::size_t>(chunk * 5 + k)];
            if (c >= 'A' && c <= 'Z')
                bits |= 1 << k;
        }
        id += suffix[bits];
    }
    return id;
}

void set_string(cell& out, std::string_view s) {
    out.what = cell::kind::string;
    out.text.assign(s);
}

void set_null(cell& out) {
    out.what = cell::kind::null;
    out.text.clear();
}

}  // namespace

std::span<const field_info> contact_fields() {
    return fields;
}

const field_info& info(contact_field f) {
    if (f == contact_field::account_name)
        return account_name_info;
    return fields[static_cast<std::size_t>(f)];
}

std::optional<contact_field> find_field(std::string_view n) {
    auto iequals = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() &&
               std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   auto low = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
                   return low(x) == low(y);
               });
    };
    if (iequals(n, "Account.Name"))
        return contact_field::account_name;
    for (const auto& f : fields) {
        if (iequals(f.name, n))
            return f.field;
    }
    return std::nullopt;
}

bool is_monotonic(contact_field f) {
    return f == contact_field::id || f == contact_field::system_modstamp ||
           f == contact_field::last_modified_date;
}

contact_org::contact_org(std::uint64_t records) : records_(records) {}

std::int64_t contact_org::modstamp_ms(std::uint64_t i) const noexcept {
    return base_ms + static_cast<std::int64_t>(i) * step_ms;
}

std::uint64_t contact_org::first_at_or_after_second(std::int64_t second) const noexcept {
    const std::int64_t want = second * 1000 - base_ms;
    if (want <= 0)
        return 0;
    const auto i = static_cast<std::uint64_t>((want + step_ms - 1) / step_ms);
    return std::min(i, records_);
}

std::string contact_org::contact_id(std::uint64_t i) const {
    return salesforce_id("003", i + 1);
}

std::string contact_org::account_id(std::uint64_t i) const {
    return salesforce_id("001", i % accounts + 1);
}

void contact_org::value(std::uint64_t i, contact_field f, cell& out) const {
    const std::uint64_t h = roll(i, f);
    switch (f) {
        case contact_field::id:
            set_string(out, contact_id(i));
            return;
        case contact_field::is_deleted:
            out.what = cell::kind::boolean;
            out.text = "false";
            return;
        case contact_field::account_id:
            set_string(out, account_id(i));
            return;
        case contact_field::account_name:
            set_string(out, "");
            fmt::format_to(std::back_inserter(out.text),
                           "{} {} {}",
                           pick(account_names, i % accounts),
                           i % accounts,
                           pick(account_kinds, i % accounts / 4));
            return;
        case contact_field::salutation: {
            const auto s = pick(salutations, h);
            s.empty() ? set_null(out) : set_string(out, s);
            return;
        }
        case contact_field::first_name:
            set_string(out, pick(first_names, roll(i, contact_field::email) >> 8).display);
            return;
        case contact_field::last_name:
            set_string(out, pick(last_names, roll(i, contact_field::email) >> 16).display);
            return;
        case contact_field::email: {
            // Unique per record; some in upper case (the mapping lowers them). No surrounding
            // spaces: Marketo would refuse those from a client that does not trim.
            const auto& first = pick(first_names, h >> 8);
            const auto& last = pick(last_names, h >> 16);
            set_string(out, "");
            fmt::format_to(std::back_inserter(out.text),
                           "{}.{}.{}@{}",
                           first.ascii,
                           last.ascii,
                           i,
                           pick(domains, h >> 24));
            if (h % 5 == 0)
                out.text[0] = static_cast<char>(out.text[0] - 'a' + 'A');
            return;
        }
        case contact_field::phone:
            set_string(out, "");
            fmt::format_to(
                std::back_inserter(out.text), "+1 (555) {:03}-{:04}", h % 1000, (h >> 10) % 10000);
            return;
        case contact_field::mobile_phone:
            if (h % 2 == 0) {
                set_null(out);
                return;
            }
            set_string(out, "");
            fmt::format_to(std::back_inserter(out.text), "+33 6 {:08}", (h >> 3) % 100000000);
            return;
        case contact_field::title:
            set_string(out, pick(titles, h));
            return;
        case contact_field::department: {
            const auto d = pick(departments, h);
            d.empty() ? set_null(out) : set_string(out, d);
            return;
        }
        case contact_field::mailing_street:
            set_string(out, "");
            fmt::format_to(std::back_inserter(out.text),
                           "{}  {}\n{}",
                           h % 200 + 1,
                           pick(streets, h >> 8),
                           h % 3 == 0 ? "Bât. B" : "");
            return;
        case contact_field::mailing_city:
            // 30% without: the mapping falls back to City_A__c, then City_U__c.
            if (h % 10 < 3) {
                h % 10 == 0 ? set_string(out, "") : set_null(out);
                return;
            }
            set_string(out, pick(cities, h >> 4));
            return;
        case contact_field::city_a:
            if (h % 2 == 0) {
                set_null(out);
                return;
            }
            set_string(out, pick(cities, h >> 4));
            return;
        case contact_field::city_u:
            set_string(out, pick(cities, h >> 4));
            return;
        case contact_field::mailing_postal_code:
            set_string(out, pick(postal_codes, h));
            return;
        case contact_field::mailing_country:
            if (h % 20 == 0) {
                set_null(out);
                return;
            }
            set_string(out, pick(countries, h >> 5));
            return;
        case contact_field::birthdate: {
            if (h % 4 == 0) {
                set_null(out);
                return;
            }
            using namespace std::chrono;
            const year_month_day d{sys_days{year{1950} / January / 1} + days(h % 18000)};
            set_string(out, "");
            fmt::format_to(std::back_inserter(out.text),
                           "{:04}-{:02}-{:02}",
                           static_cast<int>(d.year()),
                           static_cast<unsigned>(d.month()),
                           static_cast<unsigned>(d.day()));
            return;
        }
        case contact_field::lead_source:
            // One in six is not in the mapping's map: it gets the field's default.
            if (h % 6 == 5) {
                set_string(out, "Other Source");
                return;
            }
            set_string(out, pick(lead_sources, h >> 3));
            return;
        case contact_field::has_opted_out_of_email:
            out.what = cell::kind::boolean;
            out.text = h % 10 == 0 ? "true" : "false";
            return;
        case contact_field::lead_score:
            if (h % 5 == 0) {
                set_null(out);
                return;
            }
            out.what = cell::kind::number;
            out.text.clear();
            fmt::format_to(std::back_inserter(out.text), "{}.{}", h % 100, (h >> 7) % 10);
            return;
        case contact_field::created_date:
            out.what = cell::kind::datetime;
            out.ms = modstamp_ms(i) - static_cast<std::int64_t>(h % (400LL * 86'400'000));
            return;
        case contact_field::last_modified_date:
        case contact_field::system_modstamp:
            out.what = cell::kind::datetime;
            out.ms = modstamp_ms(i);
            return;
    }
}

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
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (c < 0x20)
                    fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
                else
                    out += ch;
        }
    }
    out += '"';
}

void append_sf_datetime(std::string& out, std::int64_t ms) {
    using namespace std::chrono;
    const sys_time<milliseconds> t{milliseconds{ms}};
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> tod{t - day};
    fmt::format_to(std::back_inserter(out),
                   "\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000\"",
                   static_cast<int>(ymd.year()),
                   static_cast<unsigned>(ymd.month()),
                   static_cast<unsigned>(ymd.day()),
                   tod.hours().count(),
                   tod.minutes().count(),
                   tod.seconds().count(),
                   tod.subseconds().count());
}

void append_record(std::string& out,
                   const contact_org& org,
                   std::uint64_t i,
                   std::span<const contact_field> select,
                   std::string_view api_version,
                   cell& v) {
    fmt::format_to(std::back_inserter(out),
                   "{{\"attributes\":{{\"type\":\"Contact\",\"url\":\"/services/data/v{}/sobjects/"
                   "Contact/{}\"}}",
                   api_version,
                   org.contact_id(i));
    bool account_done = false;
    for (const contact_field f : select) {
        if (f == contact_field::account_name) {
            if (account_done)
                continue;
            account_done = true;
            fmt::format_to(std::back_inserter(out),
                           ",\"Account\":{{\"attributes\":{{\"type\":\"Account\",\"url\":"
                           "\"/services/data/v{}/sobjects/Account/{}\"}},\"Name\":",
                           api_version,
                           org.account_id(i));
            org.value(i, f, v);
            append_json(out, v);
            out += '}';
            continue;
        }
        out += ",\"";
        out += info(f).name;
        out += "\":";
        org.value(i, f, v);
        append_json(out, v);
    }
    out += '}';
}

void append_json(std::string& out, const cell& c) {
    switch (c.what) {
        case cell::kind::null:
            out += "null";
            return;
        case cell::kind::string:
            append_json_string(out, c.text);
            return;
        case cell::kind::number:
        case cell::kind::boolean:
            out += c.text;
            return;
        case cell::kind::datetime:
            append_sf_datetime(out, c.ms);
            return;
    }
}

}  // namespace crmsync::bench
