#include "sandbox_seed.hpp"

#include <algorithm>
#include <chrono>
#include <random>

namespace crmsync::fakes {
namespace {

using json = nlohmann::json;

struct person_name {
    const char* display;  // as the CRM stores it
    const char* ascii;    // for the email local part
};

constexpr person_name first_names[] = {
    {"Anna", "anna"},     {"Liam", "liam"},   {"Sofia", "sofia"},       {"Noah", "noah"},
    {"Zoë", "zoe"},       {"José", "jose"},   {"Chloé", "chloe"},       {"Łukasz", "lukasz"},
    {"Søren", "soren"},   {"Mei", "mei"},     {"Aarav", "aarav"},       {"Fatima", "fatima"},
    {"Olivia", "olivia"}, {"Mateo", "mateo"}, {"Hannah", "hannah"},     {"François", "francois"},
    {"Yuki", "yuki"},     {"Kwame", "kwame"}, {"Isabella", "isabella"}, {"Elena", "elena"},
    {"Jan", "jan"},       {"Priya", "priya"}, {"Tomás", "tomas"},       {"Grace", "grace"},
};

constexpr person_name last_names[] = {
    {"Smith", "smith"},
    {"Müller", "mueller"},
    {"García", "garcia"},
    {"Rossi", "rossi"},
    {"Nowak", "nowak"},
    {"Dubois", "dubois"},
    {"O'Brien", "obrien"},
    {"van der Berg", "vanderberg"},
    {"Kim", "kim"},
    {"Nguyen", "nguyen"},
    {"Johansson", "johansson"},
    {"Kowalski", "kowalski"},
    {"Martin", "martin"},
    {"Silva", "silva"},
    {"Tanaka", "tanaka"},
    {"Okafor", "okafor"},
    {"Patel", "patel"},
    {"Hernández", "hernandez"},
    {"Lefèvre", "lefevre"},
    {"Brown", "brown"},
    {"Schmidt", "schmidt"},
};

constexpr const char* cities[] = {
    "Paris",
    "Lyon",
    "Zürich",
    "München",
    "São Paulo",
    "Kraków",
    "Montréal",
    "New York",
    "San Francisco",
    "London",
    "Tokyo",
    "Madrid",
    "Amsterdam",
    "Oslo",
    "Lagos",
    "Bengaluru",
};

constexpr const char* countries[] = {
    "France",
    "Switzerland",
    "Germany",
    "Brazil",
    "Poland",
    "Canada",
    "United States",
    "United Kingdom",
    "Japan",
    "Spain",
    "Netherlands",
    "Norway",
    "Nigeria",
    "India",
};

constexpr const char* domains[] = {
    "example.com",
    "example.org",
    "acme.example",
    "globex.example",
    "initech.example",
    "mail.example.net",
};

constexpr const char* titles[] = {
    "Marketing Manager",
    "VP Sales",
    "CTO",
    "Head of Growth",
    "Account Executive",
    "Data Analyst",
    "Chief Executive Officer",
    "Product Owner",
    "Office Manager",
};

constexpr const char* companies[] = {
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella SA",
    "Stark Industries",
    "Wayne Enterprises",
    "Soylent GmbH",
    "Tyrell Ltd",
    "Cyberdyne",
    "Hooli",
    "Vandelay Imports",
    "Massive Dynamic",
};

template <class T, std::size_t N>
const T& pick(std::mt19937_64& rng, const T (&items)[N]) {
    return items[rng() % N];
}

std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

std::string phone(std::mt19937_64& rng) {
    auto digits = [&](int n) {
        std::string s;
        for (int i = 0; i < n; ++i)
            s.push_back(static_cast<char>('0' + rng() % 10));
        return s;
    };
    switch (rng() % 4) {
        case 0:
            return "+1 (415) 555-" + digits(4);
        case 1:
            return "+33 1 " + digits(2) + " " + digits(2) + " " + digits(2) + " " + digits(2);
        case 2:
            return "020 7946 " + digits(4);
        default:
            return "+49 30 " + digits(7);
    }
}

std::string birthdate(std::mt19937_64& rng) {
    using namespace std::chrono;
    const auto start = sys_days{year{1950} / January / 1};
    const auto day = start + days(static_cast<int>(rng() % (53 * 365)));
    const year_month_day ymd{day};
    char buf[16];
    std::snprintf(buf,
                  sizeof buf,
                  "%04d-%02u-%02u",
                  static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()));
    return buf;
}

}  // namespace

sf_options sandbox_sf_options(unsigned short port) {
    sf_options o;
    o.port = port;
    o.client_id = sandbox_sf_client_id;
    o.client_secret = sandbox_sf_client_secret;
    o.username = sandbox_sf_username;
    o.password = sandbox_sf_password;
    o.refresh_tokens = {"sandbox-refresh-token"};
    return o;
}

mkto_options sandbox_mkto_options(unsigned short port) {
    mkto_options o;
    o.port = port;
    o.client_id = sandbox_mkto_client_id;
    o.client_secret = sandbox_mkto_client_secret;
    o.scope = "sandbox-api@example.com";
    return o;
}

sfmc_options sandbox_sfmc_options(unsigned short port) {
    sfmc_options o;
    o.port = port;
    o.client_id = sandbox_sfmc_client_id;
    o.client_secret = sandbox_sfmc_client_secret;
    o.account_id = sandbox_sfmc_account_id;
    return o;
}

void seed_sfmc(fake_sfmc& sfmc) {
    sfmc.add_data_extension({sandbox_data_extension,
                             {{.name = "ContactId", .max_length = 18, .primary_key = true},
                              {.name = "Email", .type = "EmailAddress", .required = true},
                              {.name = "FirstName", .max_length = 40},
                              {.name = "LastName", .max_length = 80},
                              {.name = "City", .max_length = 50}}});
}

seed_report seed_sandbox(fake_salesforce& sf, fake_marketo& mkto, const seed_options& options) {
    using namespace std::chrono;
    std::mt19937_64 rng(fnv1a(options.seed));
    seed_report report;
    const sys_ms now = sf.now().at;

    for (const char* company : companies) {
        report.account_ids.push_back(sf.insert("Account",
                                               {{"Name", company}, {"Industry", "Technology"}},
                                               timestamp{now - hours(24 * 30)}));
    }

    const int n = std::max(options.contacts, 0);
    // Planted records sit at fixed positions so every seed has them (when n is large enough).
    const int invalid_email_at = n > 3 ? 3 : -1;
    const int duplicate_at = n > 7 ? 7 : -1;
    const int dr_at = n > 11 ? 11 : -1;
    const int prof_at = n > 12 ? 12 : -1;
    const int deleted_at = n > 20 ? 20 : -1;
    // Modstamps spread over the last week, oldest first, several sharing one second (ties the
    // whole-second comparison [SFSE-234824] makes equal), never younger than 2 minutes so a
    // first sync with the default settle time sees them all.
    sys_ms stamp = now - hours(24 * 7);
    const auto step = n > 0 ? (hours(24 * 7) - minutes(2)) / n : milliseconds(0);
    for (int i = 0; i < n; ++i) {
        const auto& first = pick(rng, first_names);
        const auto& last = pick(rng, last_names);
        json c = json::object();
        c["FirstName"] = first.display;
        c["LastName"] = last.display;
        c["Title"] = pick(rng, titles);
        c["Phone"] = phone(rng);
        c["AccountId"] = report.account_ids[rng() % report.account_ids.size()];
        c["MailingCountry"] = pick(rng, countries);
        if (rng() % 5 != 0)
            c["Birthdate"] = birthdate(rng);
        // Whole scores in a double field, as CRMs hold them: Marketo's leadScore is an integer
        // and refuses 14.1 (1003), not 14.0.
        if (rng() % 6 != 0)
            c["Lead_Score__c"] = static_cast<double>(rng() % 101);

        // Emails: mostly clean, some with capitals or stray spaces (the mapping trims and
        // lower-cases), a few missing (filtered by "Email != null").
        std::string email = std::string(first.ascii) + "." + last.ascii + "." +
                            std::to_string(i + 1) + "@" + pick(rng, domains);
        const auto shape = rng() % 40;
        if (shape == 0) {
            c["Email"] = nullptr;
        } else if (shape < 3) {
            std::string upper = email;
            upper[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[0])));
            c["Email"] = upper;
        } else if (shape == 3) {
            c["Email"] = "  " + email + " ";
        } else {
            c["Email"] = email;
        }
        if (i == invalid_email_at)
            c["Email"] = std::string(first.ascii) + ".dupont@@example";

        // Salutations: Mr./Ms./Mrs. translate, Dr. and Prof. are the unusual values.
        const auto s = rng() % 20;
        if (s < 7)
            c["Salutation"] = "Mr.";
        else if (s < 13)
            c["Salutation"] = "Ms.";
        else if (s < 16)
            c["Salutation"] = "Mrs.";
        else if (s == 16)
            c["Salutation"] = "Dr.";
        if (i == dr_at)
            c["Salutation"] = "Dr.";
        if (i == prof_at)
            c["Salutation"] = "Prof.";

        // The city fallback chain: MailingCity, then City_A__c, then City_U__c.
        const auto city = rng() % 20;
        const std::string a = pick(rng, cities);
        const std::string b = pick(rng, cities);
        bool a_only = false;
        bool u_only = false;
        if (city < 15) {
            c["MailingCity"] = a;
            if (city == 0)
                c["City_A__c"] = b;  // set but shadowed by MailingCity
        } else if (city < 17) {
            c["MailingCity"] = city == 15 ? json(nullptr) : json("");
            c["City_A__c"] = a;
            a_only = true;
        } else if (city < 19) {
            c["MailingCity"] = "";
            c["City_A__c"] = nullptr;
            c["City_U__c"] = b;
            u_only = true;
        }                        // else: no city at all
        if (i == 5 || i == 6) {  // always at least one of each
            c["MailingCity"] = i == 5 ? json(nullptr) : json("");
            c["City_A__c"] = i == 5 ? json(a) : json(nullptr);
            c["City_U__c"] = i == 6 ? json(b) : json(nullptr);
            a_only = i == 5;
            u_only = i == 6;
        }

        stamp += step;
        sys_ms modstamp = stamp;
        if (i % 10 == 9) {
            // Same second as the previous contact, different milliseconds.
            modstamp = floor<seconds>(stamp - step) + milliseconds(900);
        }
        const std::string id = sf.insert("Contact", c, timestamp{modstamp});
        report.contact_ids.push_back(id);
        if (i == invalid_email_at)
            report.invalid_email_contact = id;
        if (i == duplicate_at)
            report.duplicate_contact = id;
        if (i == dr_at)
            report.unusual_salutation_contact = id;
        if (a_only)
            report.city_a_only.push_back(id);
        if (u_only)
            report.city_u_only.push_back(id);
    }
    if (deleted_at >= 0) {
        report.deleted_contact = report.contact_ids[static_cast<std::size_t>(deleted_at)];
        sf.remove("Contact", report.deleted_contact);
    }

    for (int i = 0; i < options.leads; ++i) {
        const auto& first = pick(rng, first_names);
        const auto& last = pick(rng, last_names);
        json l = {{"FirstName", first.display},
                  {"LastName", last.display},
                  {"Company", pick(rng, companies)},
                  {"Email",
                   std::string(first.ascii) + "." + last.ascii + ".lead" + std::to_string(i + 1) +
                       "@" + pick(rng, domains)},
                  {"City", pick(rng, cities)},
                  {"Lead_Score__c", static_cast<double>(rng() % 100)}};
        if (i % 4 == 1)
            l["Status"] = "Working - Contacted";
        report.lead_ids.push_back(
            sf.insert("Lead", l, timestamp{now - hours(24 * 6) + minutes(37 * i)}));
    }
    for (std::size_t i = 0; i < report.lead_ids.size() && i < 2; ++i) {
        report.converted_leads.push_back(report.lead_ids[i]);
        sf.convert_lead(report.lead_ids[i]);
    }

    // Marketo: persons that already exist. A few match Contacts by email (so createOrUpdate by
    // email updates them); one Contact's Id sits on two persons (lookup by sfdcContactId: 1007).
    for (std::size_t i = 0; i < report.contact_ids.size() && i < 40; i += 8) {
        const auto contact = sf.get("Contact", report.contact_ids[i]);
        if (!contact || !(*contact)["Email"].is_string())
            continue;
        std::string email = (*contact)["Email"].get<std::string>();
        email.erase(0, email.find_first_not_of(' '));
        email.erase(email.find_last_not_of(' ') + 1);
        if (report.contact_ids[i] == report.invalid_email_contact)
            continue;
        mkto.add_person({{"email", email},
                         {"firstName", (*contact)["FirstName"]},
                         {"lastName", (*contact)["LastName"]},
                         {"company", "Imported from a trade show"}});
    }
    if (!report.duplicate_contact.empty()) {
        const auto contact = sf.get("Contact", report.duplicate_contact);
        for (int copy = 0; copy < 2; ++copy) {
            report.duplicate_person_ids.push_back(mkto.add_person(
                {{"email", copy == 0 ? (*contact)["Email"] : json("old-address@example.com")},
                 {"firstName", (*contact)["FirstName"]},
                 {"lastName", (*contact)["LastName"]},
                 {"sfdcContactId", report.duplicate_contact}}));
        }
    }
    return report;
}

}  // namespace crmsync::fakes
