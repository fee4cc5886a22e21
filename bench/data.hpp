#pragma once
// The benchmark's contacts: record i of a deterministic org, computed on demand from i alone, so
// the bench fake can serve a million records without holding them (docs/performance.md). The
// same generator feeds the Google Benchmark of the mapping plan, so both measure the same data.
//
// Values are realistic for the 20-field mapping in bench/config/mappings/contacts.yaml: names
// with stray spaces and non-ASCII letters, e-mails in mixed case, picklists with values the
// mapping translates and some it does not, nulls where coalesce falls back, dates, numbers,
// booleans, a parent Account.Name, and modstamps several to a second (SOQL ties).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace crmsync::bench {

// Contact fields the bench org has, in describe order. account_name is the parent field
// Account.Name, reached through AccountId's relationship "Account".
enum class contact_field : unsigned char {
    id,
    is_deleted,
    account_id,
    salutation,
    first_name,
    last_name,
    email,
    phone,
    mobile_phone,
    title,
    department,
    mailing_street,
    mailing_city,
    mailing_postal_code,
    mailing_country,
    city_a,
    city_u,
    birthdate,
    lead_source,
    has_opted_out_of_email,
    lead_score,
    created_date,
    last_modified_date,
    system_modstamp,
    account_name,
};

// Salesforce describe types, as the REST describe spells them.
struct field_info {
    contact_field field;
    std::string_view name;  // API name; "Name" for account_name (on Account)
    std::string_view type;  // id, reference, string, email, phone, picklist, textarea, date,
                            // datetime, boolean, double
    std::string_view label;
    int length;  // text length, 0 for other types
    bool nillable;
};

// Every Contact field in describe order (account_name excluded: it belongs to Account).
std::span<const field_info> contact_fields();
const field_info& info(contact_field f);
// The Contact field named `name` (case-insensitive, as SOQL), or "Account.Name" for the parent.
std::optional<contact_field> find_field(std::string_view name);
// The fields that grow with the record index, so ORDER BY on them is index order.
bool is_monotonic(contact_field f);

// One value as the REST API renders it.
struct cell {
    enum class kind : unsigned char { null, string, number, boolean, datetime };
    kind what = kind::null;
    std::string text;     // string value, number literal, "true"/"false"
    std::int64_t ms = 0;  // datetime: epoch milliseconds
};

class contact_org {
public:
    // `records` contacts; record i was last modified at base + i * step.
    explicit contact_org(std::uint64_t records);

    std::uint64_t size() const noexcept { return records_; }
    // The value of `f` for record i (0 <= i < size()); reuses `out`'s buffer.
    void value(std::uint64_t i, contact_field f, cell& out) const;
    std::int64_t modstamp_ms(std::uint64_t i) const noexcept;
    // The first record whose SystemModstamp, in whole seconds, is >= `second` (epoch seconds).
    std::uint64_t first_at_or_after_second(std::int64_t second) const noexcept;

    std::string contact_id(std::uint64_t i) const;
    std::string account_id(std::uint64_t i) const;

private:
    std::uint64_t records_;
};

// Appends record i as the REST query API renders it [SF-QUERY][SF-DOME-QUERY]: "attributes",
// then the selected fields in SELECT order, parent fields nested under "Account".
void append_record(std::string& out,
                   const contact_org& org,
                   std::uint64_t i,
                   std::span<const contact_field> select,
                   std::string_view api_version,
                   cell& scratch);

// Appends `c` as a JSON value, dateTimes as "2013-05-20T20:49:32.000+0000" [SF-LIMITHDR-200].
void append_json(std::string& out, const cell& c);
void append_json_string(std::string& out, std::string_view s);
// "2013-05-20T20:49:32.000+0000"
void append_sf_datetime(std::string& out, std::int64_t ms);

}  // namespace crmsync::bench
