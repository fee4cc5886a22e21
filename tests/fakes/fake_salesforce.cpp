#include "fake_salesforce.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "fake_http.hpp"
#include "loopback_server.hpp"
#include "soql.hpp"
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <stdexcept>

namespace crmsync::fakes {
namespace {

namespace http = boost::beast::http;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using testing::http_request;
using testing::reply;

constexpr const char* json_type = "application/json;charset=UTF-8";
constexpr std::size_t max_open_cursors = 10;

// ---- field types --------------------------------------------------------------------------------

bool is_text_type(const std::string& t) {
    return t == "string" || t == "email" || t == "phone" || t == "url" || t == "textarea" ||
           t == "picklist" || t == "multipicklist" || t == "combobox" || t == "encryptedstring";
}
bool is_id_type(const std::string& t) {
    return t == "id" || t == "reference";
}
bool is_number_type(const std::string& t) {
    return t == "double" || t == "int" || t == "currency" || t == "percent" || t == "long";
}

int default_length(const std::string& t) {
    if (is_id_type(t))
        return 18;
    if (t == "textarea")
        return 32000;
    if (is_text_type(t))
        return 255;
    return 0;
}

std::string soap_type(const std::string& t) {
    if (is_id_type(t))
        return "tns:ID";
    if (t == "boolean")
        return "xsd:boolean";
    if (t == "double" || t == "currency" || t == "percent")
        return "xsd:double";
    if (t == "int")
        return "xsd:int";
    if (t == "long")
        return "xsd:long";
    if (t == "date")
        return "xsd:date";
    if (t == "datetime")
        return "xsd:dateTime";
    return "xsd:string";
}

// The literal type a SOQL filter on this field needs, as Salesforce names it in its error.
std::string filter_type_name(const std::string& t) {
    if (t == "datetime")
        return "dateTime";
    if (t == "date")
        return "date";
    if (t == "boolean")
        return "boolean";
    if (is_number_type(t))
        return "double";
    return "string";
}

sf_field normalized(sf_field f) {
    if (f.label.empty())
        f.label = f.name;
    if (f.length < 0)
        f.length = default_length(f.type);
    return f;
}

bool is_custom_name(const std::string& name) {
    return name.size() > 3 && name.compare(name.size() - 3, 3, "__c") == 0;
}

// ---- Salesforce Ids -----------------------------------------------------------------------------

constexpr char base62_digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

std::string base62(std::uint64_t n, std::size_t width) {
    std::string out(width, '0');
    for (std::size_t i = width; i-- > 0;) {
        out[i] = base62_digits[n % 62];
        n /= 62;
    }
    return out;
}

// The documented 15 -> 18 character case-safe suffix: one character per 5-character chunk,
// encoding which positions hold an upper-case letter.
std::string case_safe(const std::string& id15) {
    static constexpr char map[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    std::string out = id15;
    for (int chunk = 0; chunk < 3; ++chunk) {
        int bits = 0;
        for (int i = 0; i < 5; ++i) {
            const char c = id15[static_cast<std::size_t>(chunk * 5 + i)];
            if (c >= 'A' && c <= 'Z')
                bits |= 1 << i;
        }
        out.push_back(map[bits]);
    }
    return out;
}

// ---- encodings
// ------------------------------------------------------------------------------------

std::string base64(const unsigned char* data, std::size_t n) {
    std::string out(4 * ((n + 2) / 3), '\0');
    const int len =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
    out.resize(static_cast<std::size_t>(len));
    return out;
}

std::optional<std::string> base64url_decode(std::string_view in) {
    std::string s(in);
    for (auto& c : s) {
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
    }
    while (s.size() % 4 != 0)
        s.push_back('=');
    std::string out(s.size() / 4 * 3, '\0');
    const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                    reinterpret_cast<const unsigned char*>(s.data()),
                                    static_cast<int>(s.size()));
    if (len < 0)
        return std::nullopt;
    std::size_t pad = 0;
    for (auto it = s.rbegin(); it != s.rend() && *it == '='; ++it)
        ++pad;
    out.resize(static_cast<std::size_t>(len) - pad);
    return out;
}

bool verify_rs256(const std::string& pem,
                  std::string_view signed_part,
                  const std::string& signature) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (bio == nullptr)
        return false;
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (key == nullptr)
        return false;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx != nullptr &&
              EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
              EVP_DigestVerify(ctx,
                               reinterpret_cast<const unsigned char*>(signature.data()),
                               signature.size(),
                               reinterpret_cast<const unsigned char*>(signed_part.data()),
                               signed_part.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}

// ---- replies
// --------------------------------------------------------------------------------------

reply json_reply(unsigned status, const ojson& body) {
    return testing::make_reply(status, body.dump(), json_type);
}

// REST errors are a JSON array of {message, errorCode} [SF-ERR].
reply sf_error(unsigned status, const std::string& code, const std::string& message) {
    ojson e = ojson::object();
    e["message"] = message;
    e["errorCode"] = code;
    return json_reply(status, ojson::array({e}));
}

// OAuth errors use {error, error_description} [SIMPLE-SF-LOGIN-TEST][VOLCENGINE-TOKEN].
reply oauth_error(unsigned status, const std::string& error, const std::string& description) {
    ojson e = ojson::object();
    e["error"] = error;
    e["error_description"] = description;
    return json_reply(status, e);
}

reply not_found() {
    ojson e = ojson::object();
    e["errorCode"] = "NOT_FOUND";
    e["message"] = "The requested resource does not exist";
    return json_reply(404, ojson::array({e}));
}

reply method_not_allowed(const http_request& req) {
    return sf_error(
        405,
        "METHOD_NOT_ALLOWED",
        "HTTP Method '" + std::string(req.method_string()) + "' not allowed. Allowed are GET,HEAD");
}

std::string render_datetime(std::int64_t ms) {
    // The REST API renders dateTimes with a ".000" fraction ([SF-LIMITHDR-200] example
    // "2013-05-20T20:49:32.000+0000"): the stored milliseconds are not shown, and SOQL compares
    // at whole seconds [SFSE-234824]. The fake keeps milliseconds internally (ordering) and shows
    // whole seconds, so a client can never build a watermark finer than the API allows.
    const sys_ms t{std::chrono::milliseconds(ms)};
    return timestamp{std::chrono::floor<std::chrono::seconds>(t)}.to_salesforce();
}

std::string render_date(sys_ms t) {
    const auto s = timestamp{t}.to_iso();
    return s.substr(0, 10);
}

}  // namespace

// =================================================================================================

struct fake_salesforce::impl {
    struct object_state {
        sf_object def;
        std::map<std::string, json> rows;  // Id -> field values (dateTime as epoch ms)
        std::uint64_t next_seq = 1;
    };
    struct token_info {
        sys_ms issued;
        bool valid = true;
    };
    struct cursor {
        std::vector<ojson> rows;  // rendered at query time: later changes stay invisible
        sys_ms last_used;
        std::size_t page = 2000;  // the batch size asked for by the query that opened it
    };
    struct resolved_field {
        const sf_field* field = nullptr;       // the field read
        const sf_field* via = nullptr;         // the reference field followed, if any
        const object_state* target = nullptr;  // the object `field` belongs to when via is set
    };

    sf_options opt;
    mutable std::mutex mu;
    std::mt19937_64 rng{std::random_device{}()};
    std::map<std::string, object_state> objects;  // lower-case name -> object
    int next_custom_prefix = 0;
    std::map<std::string, token_info> tokens;
    std::deque<sys_ms> calls;  // counted API calls within the rolling 24 h
    std::int64_t usage_baseline = 0;
    std::int64_t total_calls = 0;
    std::size_t token_requests = 0;
    std::map<std::string, cursor> cursors;
    std::deque<std::string> cursor_order;
    std::vector<std::string> queries;
    std::vector<bool> queries_all;       // per entry of `queries`: received through queryAll
    std::vector<std::string> bulk_soql;  // every query a Bulk API job was asked for, in order
    std::optional<int> max_page;
    // Bulk API 2.0 query jobs (api-reference §1.10), by id, with what tests count and decide.
    struct bulk_query_job {
        std::string id, object, operation, version, soql;
        std::string state = "UploadComplete";
        std::string line_ending = "LF", column_delimiter = "COMMA";
        std::string error_message;
        std::string created;
        std::string header;              // the CSV header line, without its line ending
        std::vector<std::string> lines;  // one CSV line per record, rendered at creation
        int polls_in_progress = 1;       // InProgress answers before the job ends
        std::string ends_in = "JobComplete";
        std::map<std::string, std::size_t> locators;  // locator -> first row of its set
    };
    std::map<std::string, bulk_query_job> bulk_jobs;
    std::vector<std::string> bulk_job_order;
    std::size_t bulk_result_calls = 0;
    int bulk_polls = 1;
    std::string bulk_outcome = "JobComplete", bulk_outcome_message;
    std::set<std::string> bulk_unsupported;  // lower-case objects the Bulk API refuses
    std::size_t job_list_page = 1000;        // jobs per page of GET jobs/query
    std::map<std::string, std::size_t> job_list_locators;  // queryLocator -> first job listed
    fault_script faults;
    std::unique_ptr<testing::loopback_server> server;  // last: stops before the state goes

    explicit impl(sf_options o) : opt(std::move(o)) {
        if (!opt.clock)
            opt.clock = system_now;
        define_standard_objects();
    }

    sys_ms now() const { return opt.clock(); }
    std::string base_url() const { return server->base_url(); }

    // ---- schema ---------------------------------------------------------------------------------

    static void add_system_fields(sf_object& o) {
        auto has = [&](const std::string& n) {
            return std::any_of(o.fields.begin(), o.fields.end(), [&](const sf_field& f) {
                return iequals(f.name, n);
            });
        };
        std::vector<sf_field> system;
        if (!has("Id")) {
            system.push_back({.name = "Id",
                              .type = "id",
                              .label = o.name + " ID",
                              .nillable = false,
                              .updateable = false});
        }
        std::vector<sf_field> tail;
        if (!has("IsDeleted")) {
            tail.push_back({.name = "IsDeleted",
                            .type = "boolean",
                            .label = "Deleted",
                            .nillable = false,
                            .updateable = false});
        }
        if (!has("CreatedDate")) {
            tail.push_back({.name = "CreatedDate",
                            .type = "datetime",
                            .label = "Created Date",
                            .nillable = false,
                            .updateable = false});
        }
        if (!has("LastModifiedDate")) {
            tail.push_back({.name = "LastModifiedDate",
                            .type = "datetime",
                            .label = "Last Modified Date",
                            .nillable = false,
                            .updateable = false});
        }
        if (!has("SystemModstamp")) {
            tail.push_back({.name = "SystemModstamp",
                            .type = "datetime",
                            .label = "System Modstamp",
                            .nillable = false,
                            .updateable = false});
        }
        o.fields.insert(o.fields.begin(), system.begin(), system.end());
        o.fields.insert(o.fields.end(), tail.begin(), tail.end());
        for (auto& f : o.fields)
            f = normalized(std::move(f));
    }

    void put_object(sf_object o) {
        if (o.label.empty())
            o.label = o.name;
        if (o.key_prefix.empty()) {
            o.key_prefix = "a0" + std::string(1, base62_digits[next_custom_prefix++ % 62]);
        }
        add_system_fields(o);
        auto& slot = objects[to_lower(o.name)];
        slot.def = std::move(o);
        for (auto& [id, row] : slot.rows)
            drop_unknown_fields(slot.def, row);
    }

    static void drop_unknown_fields(const sf_object& def, json& row) {
        for (auto it = row.begin(); it != row.end();) {
            const bool known = std::any_of(def.fields.begin(),
                                           def.fields.end(),
                                           [&](const sf_field& f) { return f.name == it.key(); });
            it = known ? std::next(it) : row.erase(it);
        }
    }

    void define_standard_objects() {
        const std::vector<std::string> salutations = {"Mr.", "Ms.", "Mrs.", "Dr.", "Prof."};
        put_object(
            {.name = "Account",
             .label = "Account",
             .key_prefix = "001",
             .fields = {
                 {.name = "Name", .type = "string", .label = "Account Name", .nillable = false},
                 {.name = "Industry",
                  .type = "picklist",
                  .picklist_values =
                      {"Banking", "Education", "Manufacturing", "Retail", "Technology"}},
                 {.name = "BillingCity", .type = "string", .label = "Billing City", .length = 40},
                 {.name = "Phone", .type = "phone", .label = "Account Phone", .length = 40},
             }});
        put_object(
            {.name = "Contact",
             .label = "Contact",
             .key_prefix = "003",
             .fields = {
                 {.name = "AccountId",
                  .type = "reference",
                  .label = "Account ID",
                  .reference_to = "Account",
                  .relationship_name = "Account"},
                 {.name = "Salutation", .type = "picklist", .picklist_values = salutations},
                 {.name = "FirstName", .type = "string", .label = "First Name", .length = 40},
                 {.name = "LastName",
                  .type = "string",
                  .label = "Last Name",
                  .length = 80,
                  .nillable = false},
                 {.name = "Email", .type = "email", .length = 80},
                 {.name = "Phone", .type = "phone", .label = "Business Phone", .length = 40},
                 {.name = "Title", .type = "string", .length = 128},
                 {.name = "MailingCity", .type = "string", .label = "Mailing City", .length = 40},
                 {.name = "MailingCountry",
                  .type = "string",
                  .label = "Mailing Country",
                  .length = 80},
                 {.name = "Birthdate", .type = "date"},
                 {.name = "HasOptedOutOfEmail",
                  .type = "boolean",
                  .label = "Email Opt Out",
                  .nillable = false},
                 {.name = "City_A__c", .type = "string", .label = "City (A)"},
                 {.name = "City_U__c", .type = "string", .label = "City (U)"},
                 {.name = "Lead_Score__c", .type = "double", .label = "Lead Score"},
             }});
        put_object(
            {.name = "Lead",
             .label = "Lead",
             .key_prefix = "00Q",
             .fields = {
                 {.name = "Salutation", .type = "picklist", .picklist_values = salutations},
                 {.name = "FirstName", .type = "string", .label = "First Name", .length = 40},
                 {.name = "LastName",
                  .type = "string",
                  .label = "Last Name",
                  .length = 80,
                  .nillable = false},
                 {.name = "Email", .type = "email", .length = 80},
                 {.name = "Phone", .type = "phone", .length = 40},
                 {.name = "Title", .type = "string", .length = 128},
                 {.name = "Company", .type = "string", .nillable = false},
                 {.name = "City", .type = "string", .length = 40},
                 {.name = "Country", .type = "string", .length = 80},
                 {.name = "Status",
                  .type = "picklist",
                  .label = "Lead Status",
                  .nillable = false,
                  .picklist_values = {"Open - Not Contacted",
                                      "Working - Contacted",
                                      "Closed - Converted",
                                      "Closed - Not Converted"}},
                 {.name = "Lead_Score__c", .type = "double", .label = "Lead Score"},
                 {.name = "IsConverted",
                  .type = "boolean",
                  .label = "Converted",
                  .nillable = false,
                  .updateable = false},
                 {.name = "ConvertedDate",
                  .type = "date",
                  .label = "Converted Date",
                  .updateable = false},
                 {.name = "ConvertedAccountId",
                  .type = "reference",
                  .label = "Converted Account ID",
                  .updateable = false,
                  .reference_to = "Account",
                  .relationship_name = "ConvertedAccount"},
                 {.name = "ConvertedContactId",
                  .type = "reference",
                  .label = "Converted Contact ID",
                  .updateable = false,
                  .reference_to = "Contact",
                  .relationship_name = "ConvertedContact"},
             }});
    }

    object_state* find_object(const std::string& name) {
        const auto it = objects.find(to_lower(name));
        return it == objects.end() ? nullptr : &it->second;
    }
    const object_state* find_object(const std::string& name) const {
        const auto it = objects.find(to_lower(name));
        return it == objects.end() ? nullptr : &it->second;
    }
    object_state& object_or_throw(const std::string& name) {
        auto* o = find_object(name);
        if (o == nullptr)
            throw std::invalid_argument("fake_salesforce: no object " + name);
        return *o;
    }

    static const sf_field* find_field(const sf_object& o, std::string_view name) {
        for (const auto& f : o.fields) {
            if (iequals(f.name, name))
                return &f;
        }
        return nullptr;
    }

    // ---- data -----------------------------------------------------------------------------------

    // Test-side values -> stored values (dateTime as epoch ms). Throws on test bugs.
    static json coerce(const sf_field& f, const json& v) {
        auto bad = [&](const std::string& why) {
            return std::invalid_argument("fake_salesforce: field " + f.name + ": " + why);
        };
        if (v.is_null())
            return nullptr;
        if (f.type == "datetime") {
            if (v.is_number_integer())
                return v;
            if (!v.is_string())
                throw bad("dateTime must be a string");
            const auto ts = timestamp::parse(v.get<std::string>());
            if (!ts)
                throw bad("unparseable dateTime " + v.get<std::string>());
            return ts->at.time_since_epoch().count();
        }
        if (f.type == "date") {
            if (!v.is_string())
                throw bad("date must be a string");
            const auto ts = timestamp::parse(v.get<std::string>());
            if (!ts)
                throw bad("unparseable date " + v.get<std::string>());
            return render_date(ts->at);
        }
        if (f.type == "boolean") {
            if (!v.is_boolean())
                throw bad("boolean expected");
            return v;
        }
        if (is_number_type(f.type)) {
            if (!v.is_number())
                throw bad("number expected");
            return f.type == "int" ? json(v.get<std::int64_t>()) : json(v.get<double>());
        }
        if (!v.is_string())
            throw bad("string expected");
        if (f.length > 0 && static_cast<int>(utf8_length(v.get<std::string>())) > f.length) {
            throw bad("longer than " + std::to_string(f.length) + " characters");
        }
        return v;
    }

    static std::size_t utf8_length(const std::string& s) {
        return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
            return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        }));
    }

    void apply_fields(object_state& o, json& row, const json& fields, bool allow_system) {
        if (!fields.is_object())
            throw std::invalid_argument("fake_salesforce: fields must be an object");
        for (const auto& [key, value] : fields.items()) {
            const sf_field* f = find_field(o.def, key);
            if (f == nullptr) {
                throw std::invalid_argument("fake_salesforce: no field " + key + " on " +
                                            o.def.name);
            }
            if (f->name == "Id")
                throw std::invalid_argument("fake_salesforce: Id is generated");
            if (!allow_system && (f->name == "SystemModstamp" || f->name == "IsDeleted")) {
                throw std::invalid_argument("fake_salesforce: use the modstamp argument/remove()");
            }
            row[f->name] = coerce(*f, value);
        }
    }

    std::string new_id(object_state& o) {
        const std::string id15 = o.def.key_prefix + "5g0" + base62(o.next_seq++, 9);
        return case_safe(id15);
    }

    std::string insert(const std::string& object,
                       const json& fields,
                       std::optional<timestamp> modstamp) {
        auto& o = object_or_throw(object);
        json row = json::object();
        for (const auto& f : o.def.fields) {
            if (f.type == "boolean")
                row[f.name] = false;
        }
        if (o.def.name == "Lead")
            row["Status"] = "Open - Not Contacted";
        apply_fields(o, row, fields, false);
        const std::string id = new_id(o);
        row["Id"] = id;
        const std::int64_t now_ms = now().time_since_epoch().count();
        const std::int64_t stamp = modstamp ? modstamp->at.time_since_epoch().count() : now_ms;
        if (!fields.contains("CreatedDate"))
            row["CreatedDate"] = std::min(stamp, now_ms);
        if (!fields.contains("LastModifiedDate"))
            row["LastModifiedDate"] = stamp;
        row["SystemModstamp"] = stamp;
        row["IsDeleted"] = false;
        o.rows[id] = std::move(row);
        return id;
    }

    json& row_or_throw(object_state& o, const std::string& id) {
        auto it = o.rows.find(id);
        if (it == o.rows.end()) {
            // Accept the 15-character form as Salesforce does.
            it = std::find_if(o.rows.begin(), o.rows.end(), [&](const auto& kv) {
                return id.size() == 15 && kv.first.compare(0, 15, id) == 0;
            });
        }
        if (it == o.rows.end())
            throw std::invalid_argument("fake_salesforce: no record " + id);
        return it->second;
    }

    void touch(json& row, std::optional<timestamp> modstamp) {
        const std::int64_t stamp =
            modstamp ? modstamp->at.time_since_epoch().count() : now().time_since_epoch().count();
        row["SystemModstamp"] = stamp;
        row["LastModifiedDate"] = stamp;
    }

    ojson render_row(const object_state& o, const json& row, const std::string& version) const {
        ojson rec = ojson::object();
        rec["attributes"] = attributes(o.def.name, row["Id"].get<std::string>(), version);
        for (const auto& f : o.def.fields)
            rec[f.name] = render_value(f, row);
        return rec;
    }

    static ojson attributes(const std::string& type,
                            const std::string& id,
                            const std::string& version) {
        ojson a = ojson::object();
        a["type"] = type;
        a["url"] = "/services/data/v" + version + "/sobjects/" + type + "/" + id;
        return a;
    }

    static ojson render_value(const sf_field& f, const json& row) {
        const auto it = row.find(f.name);
        if (it == row.end() || it->is_null())
            return nullptr;
        if (f.type == "datetime")
            return render_datetime(it->get<std::int64_t>());
        return ojson::parse(it->dump());
    }

    // ---- auth -----------------------------------------------------------------------------------

    std::string mint_token() {
        static constexpr char alnum[] =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        std::string t = org_id() + "!AQ";
        for (int i = 0; i < 94; ++i)
            t.push_back(alnum[rng() % 62]);
        tokens[t] = {now(), true};
        return t;
    }

    static std::string org_id() { return "00D5g00000FAKEaEAA"; }
    static std::string user_id() { return "0055g00000FAKEaAAA"; }

    bool token_ok(const std::string& t) const {
        const auto it = tokens.find(t);
        if (it == tokens.end() || !it->second.valid)
            return false;
        if (opt.session_timeout && now() - it->second.issued >= *opt.session_timeout) {
            return false;
        }
        return true;
    }

    reply token_success() {
        const std::string token = mint_token();
        const std::string id = base_url() + "/id/" + org_id() + "/" + user_id();
        const std::string issued_at = std::to_string(now().time_since_epoch().count());
        // Salesforce documents the signature as a base64 HMAC-SHA256 of id + issued_at keyed
        // with the client secret; api-reference.md calls its computation unknown and clients
        // ignore it, so this only has to look right.
        const std::string signed_data = id + issued_at;
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mac_len = 0;
        HMAC(EVP_sha256(),
             opt.client_secret.data(),
             static_cast<int>(opt.client_secret.size()),
             reinterpret_cast<const unsigned char*>(signed_data.data()),
             signed_data.size(),
             mac,
             &mac_len);
        // Field set and order of api-fixtures/salesforce/oauth_token_response_client_credentials
        // .json; no expires_in: lifetime is the org's session timeout [SF-REFRESH].
        ojson r = ojson::object();
        r["access_token"] = token;
        r["signature"] = base64(mac, mac_len);
        r["scope"] = "api";
        r["instance_url"] = base_url();
        r["id"] = id;
        r["token_type"] = "Bearer";
        r["issued_at"] = issued_at;
        return json_reply(200, r);
    }

    reply token_endpoint(const http_request& req, const std::string& query) {
        ++token_requests;
        if (req.method() != http::verb::post) {
            return oauth_error(400, "invalid_request", "must use HTTP POST");
        }
        params form = parse_params(req.body());
        for (auto& kv : parse_params(query))
            form.insert(kv);
        const auto grant = param(form, "grant_type");
        if (!grant || grant->empty()) {
            return oauth_error(400, "invalid_request", "grant type is missing");
        }
        const auto client_id = param(form, "client_id");
        const auto client_secret = param(form, "client_secret");
        // Unknown consumer key vs wrong secret are distinct OAuth errors at Salesforce
        // ("invalid_client_id" / "invalid_client"); a wrong user or password is invalid_grant
        // "authentication failure" [SIMPLE-SF-LOGIN-TEST].
        auto check_client = [&](bool secret_required) -> std::optional<reply> {
            if (!client_id || *client_id != opt.client_id) {
                return oauth_error(400, "invalid_client_id", "client identifier invalid");
            }
            if ((secret_required || client_secret) &&
                (!client_secret || *client_secret != opt.client_secret)) {
                return oauth_error(400, "invalid_client", "invalid client credentials");
            }
            return std::nullopt;
        };
        if (*grant == "client_credentials") {
            if (auto e = check_client(true))
                return *e;
            return token_success();
        }
        if (*grant == "password") {
            if (auto e = check_client(true))
                return *e;
            if (param(form, "username") != opt.username ||
                param(form, "password") != opt.password) {
                return oauth_error(400, "invalid_grant", "authentication failure");
            }
            return token_success();
        }
        if (*grant == "refresh_token") {
            // client_secret is optional or required per app setting [SF-REFRESH]: optional here.
            if (auto e = check_client(false))
                return *e;
            const auto rt = param(form, "refresh_token");
            if (!rt || std::find(opt.refresh_tokens.begin(), opt.refresh_tokens.end(), *rt) ==
                           opt.refresh_tokens.end()) {
                return oauth_error(400, "invalid_grant", "expired access/refresh token");
            }
            return token_success();
        }
        if (*grant == "urn:ietf:params:oauth:grant-type:jwt-bearer") {
            return jwt_grant(param(form, "assertion").value_or(""));
        }
        return oauth_error(400, "unsupported_grant_type", "grant type not supported");
    }

    // JWT bearer flow [GYDE-JWT][SIMPLE-SF-LOGIN]: header alg RS256; iss = consumer key, sub =
    // username, aud = login/test host (or this fake), exp in the future. The error descriptions
    // for each failed check are not documented in api-reference.md: "invalid assertion" and
    // "audience is invalid" are the texts Salesforce is commonly reported to send.
    reply jwt_grant(const std::string& assertion) {
        const auto dot1 = assertion.find('.');
        const auto dot2 = dot1 == std::string::npos ? dot1 : assertion.find('.', dot1 + 1);
        if (dot2 == std::string::npos) {
            return oauth_error(400, "invalid_grant", "invalid assertion");
        }
        const auto header = base64url_decode(std::string_view(assertion).substr(0, dot1));
        const auto payload =
            base64url_decode(std::string_view(assertion).substr(dot1 + 1, dot2 - dot1 - 1));
        const auto signature = base64url_decode(std::string_view(assertion).substr(dot2 + 1));
        if (!header || !payload || !signature) {
            return oauth_error(400, "invalid_grant", "invalid assertion");
        }
        const json h = json::parse(*header, nullptr, false);
        const json c = json::parse(*payload, nullptr, false);
        if (!h.is_object() || !c.is_object() || h.value("alg", "") != "RS256") {
            return oauth_error(400, "invalid_grant", "invalid assertion");
        }
        if (!c.contains("iss") || c["iss"] != opt.client_id) {
            return oauth_error(400, "invalid_client_id", "client identifier invalid");
        }
        bool aud_ok = false;
        auto aud_matches = [&](const json& a) {
            if (!a.is_string())
                return false;
            const auto s = a.get<std::string>();
            return s == base_url() ||
                   std::find(opt.jwt_audiences.begin(), opt.jwt_audiences.end(), s) !=
                       opt.jwt_audiences.end();
        };
        if (c.contains("aud")) {
            if (c["aud"].is_array()) {
                for (const auto& a : c["aud"])
                    aud_ok = aud_ok || aud_matches(a);
            } else {
                aud_ok = aud_matches(c["aud"]);
            }
        }
        if (!aud_ok)
            return oauth_error(400, "invalid_grant", "audience is invalid");
        const auto now_s =
            std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
        if (!c.contains("exp") || !c["exp"].is_number() || c["exp"].get<double>() <= now_s) {
            return oauth_error(400, "invalid_grant", "invalid assertion");
        }
        if (!c.contains("sub") || c["sub"] != opt.username) {
            return oauth_error(400, "invalid_grant", "user hasn't approved this consumer");
        }
        if (!opt.jwt_public_key_pem.empty() &&
            !verify_rs256(
                opt.jwt_public_key_pem, std::string_view(assertion).substr(0, dot2), *signature)) {
            return oauth_error(400, "invalid_grant", "invalid assertion");
        }
        return token_success();
    }

    // ---- limits ---------------------------------------------------------------------------------

    std::int64_t usage() {
        // DailyApiRequests is a rolling 24 h allocation [SF-LIMITS-CHEAT via APIEV-SF-RATE].
        const auto horizon = now() - std::chrono::hours(24);
        while (!calls.empty() && calls.front() <= horizon)
            calls.pop_front();
        return usage_baseline + static_cast<std::int64_t>(calls.size());
    }

    std::string limit_info(std::int64_t used) const {
        return "api-usage=" + std::to_string(used) + "/" + std::to_string(opt.daily_limit);
    }

    // ---- routing --------------------------------------------------------------------------------

    reply handle(const http_request& req) {
        const auto [path, query] = split_target(req.target());
        const auto fault = faults.take(path);
        if (fault && fault->on_arrival)
            fault->on_arrival();
        if (fault) {
            if (fault->what == fault_spec::kind::http_status)
                return status_fault_reply(*fault);
            if (fault->what == fault_spec::kind::expire_tokens) {
                std::lock_guard lock(mu);
                for (auto& [t, info] : tokens)
                    info.valid = false;
            }
            if (fault->what == fault_spec::kind::vendor_error) {
                return sf_error(fault->status != 0 ? fault->status : 500,
                                fault->code,
                                fault->message.empty() ? fault->code : fault->message);
            }
            if (fault->what == fault_spec::kind::reset && !fault->executed) {
                reply r = testing::make_reply(500, "");
                apply_fault(*fault, r);
                return r;
            }
        }
        reply r = route(req, path, query);
        if (fault)
            apply_fault(*fault, r);
        return r;
    }

    reply route(const http_request& req, const std::string& path, const std::string& query) {
        // URI and URI + headers are bounded at 16,384 bytes [SF-KB-URI].
        if (req.target().size() > 16384) {
            return testing::make_reply(414, "URI Too Long", "text/plain");
        }
        std::size_t header_bytes = req.target().size();
        for (const auto& h : req)
            header_bytes += h.name_string().size() + h.value().size() + 4;
        if (header_bytes > 16384) {
            return testing::make_reply(431, "Request Header Fields Too Large", "text/plain");
        }
        std::lock_guard lock(mu);
        if (path == "/services/oauth2/token")
            return token_endpoint(req, query);
        if (path == "/services/data" || path == "/services/data/")
            return versions();
        static const std::regex api_path(R"(^/services/data/v(\d+\.\d+)(/.*)?$)");
        std::smatch m;
        if (!std::regex_match(path, m, api_path))
            return not_found();
        return api(req, m[1].str(), m[2].str(), query);
    }

    static reply versions() {
        ojson list = ojson::array();
        const std::vector<std::pair<std::string, std::string>> known = {{"Winter '24", "59.0"},
                                                                        {"Spring '24", "60.0"},
                                                                        {"Summer '24", "61.0"},
                                                                        {"Winter '25", "62.0"},
                                                                        {"Spring '25", "63.0"},
                                                                        {"Summer '25", "64.0"}};
        for (const auto& [label, v] : known) {
            ojson e = ojson::object();
            e["label"] = label;
            e["url"] = "/services/data/v" + v;
            e["version"] = v;
            list.push_back(e);
        }
        return json_reply(200, list);
    }

    reply api(const http_request& req,
              const std::string& version,
              const std::string& rest,
              const std::string& query) {
        const auto token = bearer_token(req);
        if (!token || !token_ok(*token)) {
            reply r = sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid");
            r.res.set(http::field::www_authenticate, "Token");
            return r;
        }
        std::int64_t used = usage();
        if (used >= opt.daily_limit) {
            // Over the allocation: refused and not counted [SF-ERR][AIRBYTE-RATE].
            reply r = sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
            r.res.set("Sforce-Limit-Info", limit_info(used));
            return r;
        }
        calls.push_back(now());
        ++total_calls;
        ++used;
        reply r = dispatch(req, version, rest, query);
        // Returned on each REST call except the versions URI [SF-LIMITHDR].
        r.res.set("Sforce-Limit-Info", limit_info(used));
        return r;
    }

    reply dispatch(const http_request& req,
                   const std::string& version,
                   const std::string& rest,
                   const std::string& query) {
        const bool readable = req.method() == http::verb::get || req.method() == http::verb::head;
        if (rest == "/query" || rest == "/query/" || rest == "/queryAll" || rest == "/queryAll/") {
            if (!readable)
                return method_not_allowed(req);
            return run_query(req, version, query, rest.rfind("/queryAll", 0) == 0);
        }
        if (rest.rfind("/query/", 0) == 0 || rest.rfind("/queryAll/", 0) == 0) {
            if (!readable)
                return method_not_allowed(req);
            return next_page(version, rest.substr(rest.find('/', 1) + 1));
        }
        if (rest == "/limits" || rest == "/limits/") {
            if (!readable)
                return method_not_allowed(req);
            return limits();
        }
        if (rest == "/jobs/query" || rest == "/jobs/query/") {
            if (req.method() == http::verb::post)
                return create_bulk_job(req, version);
            if (readable)
                return list_bulk_jobs(version, query);
            return method_not_allowed(req);
        }
        static const std::regex job_path(R"(^/jobs/query/([A-Za-z0-9]+)(/results)?/?$)");
        std::smatch jm;
        if (std::regex_match(rest, jm, job_path)) {
            if (!jm[2].matched && req.method() == http::verb::patch)
                return abort_bulk_job(req, jm[1].str());
            if (!readable)
                return method_not_allowed(req);
            return jm[2].matched ? bulk_results(version, jm[1].str(), query)
                                 : bulk_job_info(jm[1].str());
        }
        if (rest == "/sobjects" || rest == "/sobjects/") {
            if (!readable)
                return method_not_allowed(req);
            return describe_global(version);
        }
        static const std::regex describe_path(R"(^/sobjects/([A-Za-z0-9_]+)/describe/?$)");
        static const std::regex record_path(
            R"(^/sobjects/([A-Za-z0-9_]+)/([A-Za-z0-9]{15,18})/?$)");
        std::smatch m;
        if (std::regex_match(rest, m, describe_path)) {
            if (!readable)
                return method_not_allowed(req);
            const auto* o = find_object(m[1].str());
            if (o == nullptr)
                return not_found();
            return json_reply(200, describe_json(*o, version));
        }
        if (std::regex_match(rest, m, record_path)) {
            if (!readable)
                return method_not_allowed(req);
            auto* o = find_object(m[1].str());
            if (o == nullptr)
                return not_found();
            try {
                const json& row = row_or_throw(*o, m[2].str());
                if (row.value("IsDeleted", false))
                    return not_found();
                return json_reply(200, render_row(*o, row, version));
            } catch (const std::invalid_argument&) {
                return not_found();
            }
        }
        return not_found();
    }

    // ---- query ----------------------------------------------------------------------------------

    static int batch_size(const http_request& req) {
        // Sforce-Query-Options: batchSize=n, min 200, max 2,000, default 2,000 [SF-QUERYOPTS].
        // Out-of-range values are clamped (what Salesforce does with them: unknown).
        int size = 2000;
        const auto it = req.find("Sforce-Query-Options");
        if (it == req.end())
            return size;
        const std::string v(it->value());
        static const std::regex re(R"(batchSize\s*=\s*(\d+))", std::regex::icase);
        std::smatch m;
        if (std::regex_search(v, m, re)) {
            try {
                size = std::clamp(std::stoi(m[1].str()), 200, 2000);
            } catch (const std::exception&) {
                size = 2000;
            }
        }
        return size;
    }

    reply run_query(const http_request& req,
                    const std::string& version,
                    const std::string& query_string,
                    bool all) {
        const params p = parse_params(query_string);
        const auto q = param(p, "q");
        if (!q || q->empty()) {
            return sf_error(400, "MALFORMED_QUERY", "A query string has to be specified");
        }
        queries.push_back(*q);
        queries_all.push_back(all);
        std::vector<ojson> rows;
        std::size_t total = 0;
        bool count_only = false;
        try {
            const soql::query parsed = soql::parse(*q);
            count_only = parsed.count_only;
            rows = evaluate(*q, parsed, all, version, total);
        } catch (const soql::query_error& e) {
            return sf_error(400, e.code(), e.what());
        }
        if (count_only)
            return page_json(version, "", std::move(rows), total, 0, total);
        const std::size_t page = page_size(batch_size(req));
        if (rows.size() <= page)
            return page_json(version, "", std::move(rows), total, 0, total);
        const std::string locator = new_locator();
        cursors[locator] = {std::move(rows), now(), page};
        cursor_order.push_back(locator);
        // At most 10 open cursors per user; opening another releases the oldest (Salesforce
        // QueryLocator documentation; not in api-reference.md, so "plausible").
        while (cursor_order.size() > max_open_cursors) {
            cursors.erase(cursor_order.front());
            cursor_order.pop_front();
        }
        return serve_page(version, locator, 0, page);
    }

    std::size_t page_size(int requested) const {
        int n = requested;
        if (max_page)
            n = std::min(n, *max_page);
        return static_cast<std::size_t>(std::max(n, 1));
    }

    std::string new_locator() {
        static constexpr char alnum[] =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        std::string l = "01g";
        for (int i = 0; i < 15; ++i)
            l.push_back(alnum[rng() % 62]);
        return l;
    }

    reply serve_page(const std::string& version,
                     const std::string& locator,
                     std::size_t offset,
                     std::size_t page) {
        auto it = cursors.find(locator);
        auto& c = it->second;
        const std::size_t total = c.rows.size();
        const std::size_t end = std::min(total, offset + page);
        std::vector<ojson> slice(c.rows.begin() + static_cast<std::ptrdiff_t>(offset),
                                 c.rows.begin() + static_cast<std::ptrdiff_t>(end));
        c.last_used = now();
        if (end >= total) {
            // Exhausted: the locator is released (a later GET gets INVALID_QUERY_LOCATOR).
            cursors.erase(it);
            std::erase(cursor_order, locator);
            return page_json(version, "", std::move(slice), total, offset, total);
        }
        return page_json(version, locator, std::move(slice), total, offset, end);
    }

    static reply page_json(const std::string& version,
                           const std::string& locator,
                           std::vector<ojson> rows,
                           std::size_t total,
                           std::size_t /*offset*/,
                           std::size_t next) {
        ojson r = ojson::object();
        r["totalSize"] = total;
        r["done"] = locator.empty();
        if (!locator.empty()) {
            // Relative, "/services/data/vXX.X/query/<locator>-<offset>", also for queryAll
            // [SF-QUERY][SF-QUERYALL].
            r["nextRecordsUrl"] =
                "/services/data/v" + version + "/query/" + locator + "-" + std::to_string(next);
        }
        r["records"] = ojson::array();
        for (auto& row : rows)
            r["records"].push_back(std::move(row));
        return json_reply(200, r);
    }

    reply next_page(const std::string& version, const std::string& locator_and_offset) {
        // The locator lifetime is unknown in api-reference.md: expired, exhausted, released or
        // made-up locators answer 400 INVALID_QUERY_LOCATOR, Salesforce's code for them.
        const auto dash = locator_and_offset.rfind('-');
        auto invalid = [] {
            return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
        };
        if (dash == std::string::npos)
            return invalid();
        const std::string locator = locator_and_offset.substr(0, dash);
        std::size_t offset = 0;
        try {
            offset = std::stoul(locator_and_offset.substr(dash + 1));
        } catch (const std::exception&) {
            return invalid();
        }
        const auto it = cursors.find(locator);
        if (it == cursors.end() || now() - it->second.last_used > opt.cursor_ttl ||
            offset >= it->second.rows.size()) {
            return invalid();
        }
        // Follow-up pages keep the batch size of the query that opened the cursor (whether
        // Salesforce re-reads the header on each page is unknown).
        return serve_page(version, locator, offset, it->second.page);
    }

    // Resolves a field path on `o` or throws Salesforce's INVALID_FIELD.
    resolved_field resolve(std::string_view soql_text,
                           const object_state& o,
                           const soql::field_path& p) const {
        auto no_column = [&](const std::string& field, const std::string& entity, std::size_t pos) {
            return soql::query_error(
                "INVALID_FIELD",
                soql::positioned_message(
                    soql_text,
                    pos,
                    "No such column '" + field + "' on entity '" + entity +
                        "'. If you are attempting to use a custom field, be sure to append the "
                        "'__c' after the custom field name. Please reference your WSDL or the "
                        "describe call for the appropriate names."));
        };
        resolved_field r;
        if (p.parts.size() == 1) {
            r.field = find_field(o.def, p.parts[0]);
            if (r.field == nullptr)
                throw no_column(p.parts[0], o.def.name, p.pos);
            return r;
        }
        const sf_field* via = nullptr;
        for (const auto& f : o.def.fields) {
            if (f.type == "reference" && iequals(f.relationship_name, p.parts[0]))
                via = &f;
        }
        const object_state* target = via == nullptr ? nullptr : find_object(via->reference_to);
        if (via == nullptr || target == nullptr || p.parts.size() > 2) {
            throw soql::query_error(
                "INVALID_FIELD",
                soql::positioned_message(
                    soql_text,
                    p.pos,
                    "Didn't understand relationship '" + p.parts[0] +
                        "' in field path. If you are attempting to use a custom relationship, be "
                        "sure to append the '__r' after the custom relationship name. Please "
                        "reference your WSDL or the describe call for the appropriate names."));
        }
        r.via = via;
        r.target = target;
        r.field = find_field(target->def, p.parts[1]);
        if (r.field == nullptr) {
            throw no_column(p.parts[1], target->def.name, p.pos + p.parts[0].size() + 1);
        }
        return r;
    }

    const json* value_of(const json& row, const resolved_field& f) const {
        static const json null_value = nullptr;
        if (f.via == nullptr) {
            const auto it = row.find(f.field->name);
            return it == row.end() ? &null_value : &*it;
        }
        const auto ref = row.find(f.via->name);
        if (ref == row.end() || !ref->is_string())
            return &null_value;
        const auto target = f.target->rows.find(ref->get<std::string>());
        if (target == f.target->rows.end())
            return &null_value;
        const auto it = target->second.find(f.field->name);
        return it == target->second.end() ? &null_value : &*it;
    }

    // Salesforce refuses literals of the wrong type for the field ("value of filter criterion
    // for field 'X' must be of type dateTime and should not be enclosed in quotes") and malformed
    // Ids ("invalid ID field: x", INVALID_QUERY_FILTER_OPERATOR).
    static void check_literal(std::string_view soql_text,
                              const sf_field& f,
                              const soql::literal& v,
                              soql::op oper) {
        using lt = soql::literal::type;
        if (v.kind == lt::null)
            return;
        const std::string want = filter_type_name(f.type);
        bool ok = false;
        if (want == "dateTime")
            ok = v.kind == lt::datetime;
        else if (want == "date")
            ok = v.kind == lt::date;
        else if (want == "boolean")
            ok = v.kind == lt::boolean;
        else if (want == "double")
            ok = v.kind == lt::number;
        else
            ok = v.kind == lt::string;
        if (!ok) {
            const bool quoted = want == "string";
            throw soql::query_error(
                "INVALID_FIELD",
                soql::positioned_message(soql_text,
                                         v.pos,
                                         "value of filter criterion for field '" + f.name +
                                             "' must be of type " + want + " and should " +
                                             (quoted ? "" : "not ") + "be enclosed in quotes"));
        }
        if (is_id_type(f.type) && oper != soql::op::like) {
            const bool valid_id = (v.text.size() == 15 || v.text.size() == 18) &&
                                  std::all_of(v.text.begin(), v.text.end(), [](char c) {
                                      return std::isalnum(static_cast<unsigned char>(c));
                                  });
            // Salesforce accepts '' as "no id" in comparisons.
            if (!valid_id && !v.text.empty()) {
                throw soql::query_error(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    soql::positioned_message(soql_text, v.pos, "invalid ID field: " + v.text));
            }
        }
    }

    void check_expr(std::string_view soql_text, const object_state& o, const soql::expr& e) const {
        if (e.what != soql::expr::kind::compare) {
            for (const auto& c : e.children)
                check_expr(soql_text, o, c);
            return;
        }
        const auto rf = resolve(soql_text, o, e.field);
        for (const auto& v : e.values)
            check_literal(soql_text, *rf.field, v, e.oper);
    }

    // Three-way comparison of a stored value with a literal of the checked type.
    static int compare_value(const sf_field& f, const json& value, const soql::literal& v) {
        using namespace std::chrono;
        if (f.type == "datetime") {
            // Whole seconds on both sides: "comparisons ignore milliseconds" [SFSE-234824].
            const auto a = floor<seconds>(sys_ms(milliseconds(value.get<std::int64_t>())));
            const auto b = floor<seconds>(v.at);
            return a < b ? -1 : (a > b ? 1 : 0);
        }
        if (f.type == "date") {
            const auto b = render_date(v.at);
            const auto a = value.get<std::string>();
            return a < b ? -1 : (a > b ? 1 : 0);
        }
        if (f.type == "boolean") {
            const bool a = value.get<bool>();
            return a == v.boolean ? 0 : (a ? 1 : -1);
        }
        if (is_number_type(f.type)) {
            const double a = value.get<double>();
            return a < v.number ? -1 : (a > v.number ? 1 : 0);
        }
        if (is_id_type(f.type)) {
            // Ids compare on their case-sensitive 15-character form; 18-character literals
            // match too.
            const auto a = value.get<std::string>().substr(0, 15);
            const auto b = v.text.substr(0, 15);
            return a < b ? -1 : (a > b ? 1 : 0);
        }
        // Text comparisons are case-insensitive in SOQL.
        const auto a = to_lower(value.get<std::string>());
        const auto b = to_lower(v.text);
        return a < b ? -1 : (a > b ? 1 : 0);
    }

    static bool like_match(std::string_view text, std::string_view pattern) {
        // % any run, _ one character, \% and \_ literal; case-insensitive.
        std::vector<std::pair<char, bool>> pat;  // (char, is_wildcard)
        for (std::size_t i = 0; i < pattern.size(); ++i) {
            if (pattern[i] == '\\' && i + 1 < pattern.size()) {
                pat.emplace_back(pattern[++i], false);
            } else {
                pat.emplace_back(pattern[i], pattern[i] == '%' || pattern[i] == '_');
            }
        }
        const std::string t = to_lower(text);
        std::vector<std::vector<char>> memo(t.size() + 1, std::vector<char>(pat.size() + 1, -1));
        std::function<bool(std::size_t, std::size_t)> go = [&](std::size_t ti, std::size_t pi) {
            if (memo[ti][pi] != -1)
                return memo[ti][pi] == 1;
            bool r = false;
            if (pi == pat.size()) {
                r = ti == t.size();
            } else if (pat[pi].second && pat[pi].first == '%') {
                r = go(ti, pi + 1) || (ti < t.size() && go(ti + 1, pi));
            } else if (ti < t.size() &&
                       ((pat[pi].second && pat[pi].first == '_') ||
                        std::tolower(static_cast<unsigned char>(pat[pi].first)) == t[ti])) {
                r = go(ti + 1, pi + 1);
            }
            memo[ti][pi] = r ? 1 : 0;
            return r;
        };
        return go(0, 0);
    }

    bool matches(std::string_view soql_text,
                 const object_state& o,
                 const json& row,
                 const soql::expr& e) const {
        using kind = soql::expr::kind;
        switch (e.what) {
            case kind::all_of:
                return std::all_of(e.children.begin(), e.children.end(), [&](const soql::expr& c) {
                    return matches(soql_text, o, row, c);
                });
            case kind::any_of:
                return std::any_of(e.children.begin(), e.children.end(), [&](const soql::expr& c) {
                    return matches(soql_text, o, row, c);
                });
            case kind::negate:
                return !matches(soql_text, o, row, e.children.front());
            case kind::compare:
                break;
        }
        const auto rf = resolve(soql_text, o, e.field);
        const json& value = *value_of(row, rf);
        using soql::op;
        auto equal_to = [&](const soql::literal& v) {
            if (v.kind == soql::literal::type::null)
                return value.is_null();
            if (value.is_null())
                return false;
            return compare_value(*rf.field, value, v) == 0;
        };
        switch (e.oper) {
            case op::eq:
                return equal_to(e.values.front());
            // SOQL's != keeps rows whose value is null (unlike SQL).
            case op::ne:
                return !equal_to(e.values.front());
            case op::in:
                return std::any_of(e.values.begin(), e.values.end(), equal_to);
            case op::not_in:
                return std::none_of(e.values.begin(), e.values.end(), equal_to);
            case op::like:
                return !value.is_null() && value.is_string() &&
                       like_match(value.get<std::string>(), e.values.front().like_raw);
            default:
                break;
        }
        const auto& v = e.values.front();
        if (value.is_null() || v.kind == soql::literal::type::null)
            return false;
        const int c = compare_value(*rf.field, value, v);
        switch (e.oper) {
            case op::lt:
                return c < 0;
            case op::le:
                return c <= 0;
            case op::gt:
                return c > 0;
            case op::ge:
                return c >= 0;
            default:
                return false;
        }
    }

    static int order_compare(const sf_field& f, const json& a, const json& b) {
        if (f.type == "datetime" || is_number_type(f.type)) {
            // Ordered by the stored value, milliseconds included (unknown whether Salesforce
            // sorts below the second; it cannot show them, see render_datetime).
            const double x = a.get<double>();
            const double y = b.get<double>();
            return x < y ? -1 : (x > y ? 1 : 0);
        }
        if (f.type == "boolean")
            return static_cast<int>(a.get<bool>()) - static_cast<int>(b.get<bool>());
        if (is_id_type(f.type) || f.type == "date") {
            const auto x = a.get<std::string>();
            const auto y = b.get<std::string>();
            return x < y ? -1 : (x > y ? 1 : 0);
        }
        const auto x = to_lower(a.get<std::string>());
        const auto y = to_lower(b.get<std::string>());
        return x < y ? -1 : (x > y ? 1 : 0);
    }

    std::vector<ojson> evaluate(std::string_view soql_text,
                                const soql::query& q,
                                bool all,
                                const std::string& version,
                                std::size_t& total) const {
        const object_state* o = find_object(q.object);
        if (o == nullptr) {
            throw soql::query_error(
                "INVALID_TYPE",
                soql::positioned_message(
                    soql_text,
                    q.object_pos,
                    "sObject type '" + q.object +
                        "' is not supported. If you are attempting to use a custom object, be "
                        "sure to append the '__c' after the entity name. Please reference your "
                        "WSDL or the describe call for the appropriate names."));
        }
        std::vector<resolved_field> selected;
        for (const auto& p : q.fields) {
            auto rf = resolve(soql_text, *o, p);
            for (const auto& s : selected) {
                if (s.field == rf.field && s.via == rf.via) {
                    // Salesforce refuses duplicates in the select list (errorCode not in
                    // api-reference.md; MALFORMED_QUERY is our guess).
                    throw soql::query_error(
                        "MALFORMED_QUERY",
                        soql::positioned_message(
                            soql_text, p.pos, "duplicate field selected: " + p.text));
                }
            }
            selected.push_back(rf);
        }
        if (q.where)
            check_expr(soql_text, *o, *q.where);
        std::vector<std::pair<resolved_field, const soql::order_item*>> order;
        for (const auto& item : q.order_by) {
            order.emplace_back(resolve(soql_text, *o, item.field), &item);
        }
        if (q.offset && *q.offset > 2000) {
            throw soql::query_error("NUMBER_OUTSIDE_VALID_RANGE",
                                    "Maximum SOQL offset allowed is 2000");
        }

        std::vector<const json*> rows;
        for (const auto& [id, row] : o->rows) {
            // query leaves soft-deleted rows out; queryAll includes them [SF-QUERYALL].
            if (!all && row.value("IsDeleted", false))
                continue;
            if (q.where && !matches(soql_text, *o, row, *q.where))
                continue;
            rows.push_back(&row);
        }
        if (!order.empty()) {
            std::stable_sort(rows.begin(), rows.end(), [&](const json* a, const json* b) {
                for (const auto& [rf, item] : order) {
                    const json& x = *value_of(*a, rf);
                    const json& y = *value_of(*b, rf);
                    int c = 0;
                    if (x.is_null() || y.is_null()) {
                        if (x.is_null() && y.is_null())
                            continue;
                        // NULLS FIRST by default for ASC, LAST for DESC.
                        c = x.is_null() ? -1 : 1;
                        if (item->nulls_last)
                            c = -c;
                        return c < 0;
                    }
                    c = order_compare(*rf.field, x, y);
                    if (item->descending)
                        c = -c;
                    if (c != 0)
                        return c < 0;
                }
                return false;
            });
        }
        const std::size_t offset = q.offset ? static_cast<std::size_t>(*q.offset) : 0;
        if (offset >= rows.size()) {
            rows.clear();
        } else {
            rows.erase(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(offset));
        }
        if (q.limit && rows.size() > static_cast<std::size_t>(*q.limit)) {
            rows.resize(static_cast<std::size_t>(*q.limit));
        }
        total = rows.size();
        std::vector<ojson> out;
        if (q.count_only)
            return out;
        out.reserve(rows.size());
        for (const json* row : rows) {
            ojson rec = ojson::object();
            rec["attributes"] = attributes(o->def.name, (*row)["Id"].get<std::string>(), version);
            for (const auto& rf : selected) {
                if (rf.via == nullptr) {
                    rec[rf.field->name] = render_value(*rf.field, *row);
                    continue;
                }
                // Parent fields nest under the relationship name, or null when the reference
                // is empty [SF-DOME-QUERY].
                const std::string& rel = rf.via->relationship_name;
                const auto ref = row->find(rf.via->name);
                const json* parent = nullptr;
                if (ref != row->end() && ref->is_string()) {
                    const auto it = rf.target->rows.find(ref->get<std::string>());
                    if (it != rf.target->rows.end())
                        parent = &it->second;
                }
                if (parent == nullptr) {
                    rec[rel] = nullptr;
                    continue;
                }
                if (!rec.contains(rel) || rec[rel].is_null()) {
                    ojson nested = ojson::object();
                    nested["attributes"] = attributes(
                        rf.target->def.name, (*parent)["Id"].get<std::string>(), version);
                    rec[rel] = nested;
                }
                rec[rel][rf.field->name] = render_value(*rf.field, *parent);
            }
            out.push_back(std::move(rec));
        }
        return out;
    }

    // ---- Bulk API 2.0 query jobs (api-reference §1.10) ------------------------------------------

    static std::string csv_quote(const std::string& text) {
        // Every value quoted, inner quotes doubled ([SF-BULK2-RES] sample: "Id","Name").
        std::string out = "\"";
        for (char c : text) {
            if (c == '"')
                out += '"';
            out += c;
        }
        return out + '"';
    }

    // One cell as the results CSV writes it: null is an empty, unquoted cell; a dateTime is
    // ISO-8601 in UTC with Z (the REST form's +0000 is JSON's only).
    static std::string csv_cell(const sf_field& f, const ojson& v) {
        if (v.is_null())
            return {};
        if (v.is_string()) {
            std::string text = v.get<std::string>();
            if (f.type == "datetime" && text.ends_with("+0000"))
                text = text.substr(0, text.size() - 5) + "Z";
            return csv_quote(text);
        }
        return csv_quote(v.dump());
    }

    static std::string job_json_time(sys_ms t) { return timestamp{t}.to_salesforce(); }

    ojson bulk_job_json(const bulk_query_job& j, bool info) const {
        ojson r = ojson::object();
        r["id"] = j.id;
        r["operation"] = j.operation;
        r["object"] = j.object;
        r["createdById"] = user_id();
        r["createdDate"] = j.created;
        r["systemModstamp"] = job_json_time(now());
        r["state"] = j.state;
        r["concurrencyMode"] = "Parallel";
        r["contentType"] = "CSV";
        r["apiVersion"] = std::stod(j.version);
        r["lineEnding"] = j.line_ending;
        r["columnDelimiter"] = j.column_delimiter;
        if (info) {
            r["jobType"] = "V2Query";
            r["numberRecordsProcessed"] =
                j.state == "JobComplete" ? static_cast<std::int64_t>(j.lines.size()) : 0;
            r["retries"] = 0;
            r["totalProcessingTime"] = 0;
            if (j.state == "Failed")
                r["errorMessage"] = j.error_message;
        }
        return r;
    }

    reply create_bulk_job(const http_request& req, const std::string& version) {
        // Error codes for a bad job body are not in api-reference.md: INVALIDJOB is a guess.
        const ojson body = ojson::parse(req.body(), nullptr, false);
        if (body.is_discarded() || !body.is_object() || !body.contains("query") ||
            !body["query"].is_string()) {
            return sf_error(
                400, "INVALIDJOB", "InvalidJob : a query job needs operation and query");
        }
        const std::string operation = body.value("operation", std::string("query"));
        if (operation != "query" && operation != "queryAll")
            return sf_error(400, "INVALIDJOB", "InvalidJob : unknown operation " + operation);
        if (body.value("contentType", std::string("CSV")) != "CSV")
            return sf_error(400, "INVALIDJOB", "InvalidJob : CSV is the only content type");
        bulk_query_job j;
        j.operation = operation;
        j.version = version;
        j.soql = body["query"].get<std::string>();
        j.line_ending = body.value("lineEnding", std::string("LF"));
        j.column_delimiter = body.value("columnDelimiter", std::string("COMMA"));
        static const std::map<std::string, char> delimiters = {{"COMMA", ','},
                                                               {"BACKQUOTE", '`'},
                                                               {"CARET", '^'},
                                                               {"PIPE", '|'},
                                                               {"SEMICOLON", ';'},
                                                               {"TAB", '\t'}};
        const auto delim = delimiters.find(j.column_delimiter);
        if (delim == delimiters.end() || (j.line_ending != "LF" && j.line_ending != "CRLF"))
            return sf_error(400, "INVALIDJOB", "InvalidJob : bad columnDelimiter or lineEnding");
        bulk_soql.push_back(j.soql);
        try {
            const soql::query q = soql::parse(j.soql);
            // Aggregates (COUNT()) and OFFSET are not supported in Bulk API 2.0 [SF-BULK2-CREATE];
            // the code Salesforce answers them with is not in api-reference.md (API_ERROR, as
            // Airbyte saw for unsupported queries [AIRBYTE-RATE]).
            if (q.count_only || q.offset)
                return sf_error(400, "API_ERROR", "Aggregate and OFFSET queries are not supported");
            const object_state* o = find_object(q.object);
            if (o != nullptr && bulk_unsupported.count(to_lower(o->def.name)) != 0) {
                return sf_error(400,
                                "INVALIDENTITY",
                                "Entity '" + o->def.name + "' is not supported by the Bulk API.");
            }
            std::size_t total = 0;
            const auto rows = evaluate(j.soql, q, operation == "queryAll", version, total);
            j.object = o->def.name;
            const char d = delim->second;
            const std::string eol = j.line_ending == "CRLF" ? "\r\n" : "\n";
            for (std::size_t i = 0; i < q.fields.size(); ++i)
                j.header += (i ? std::string(1, d) : std::string()) + csv_quote(q.fields[i].text);
            std::vector<resolved_field> fields;
            for (const auto& p : q.fields)
                fields.push_back(resolve(j.soql, *o, p));
            for (const auto& rec : rows) {
                std::string line;
                for (std::size_t i = 0; i < q.fields.size(); ++i) {
                    const ojson* v = &rec;
                    if (fields[i].via != nullptr) {
                        const ojson& parent = rec[fields[i].via->relationship_name];
                        v = parent.is_null() ? &parent : &parent[fields[i].field->name];
                    } else {
                        v = &rec[fields[i].field->name];
                    }
                    if (i != 0)
                        line += d;
                    line += csv_cell(*fields[i].field, *v);
                }
                j.lines.push_back(std::move(line));
            }
        } catch (const soql::query_error& e) {
            return sf_error(400, e.code(), e.what());
        }
        j.id = "750" + new_locator().substr(3);
        j.created = job_json_time(now());
        j.polls_in_progress = bulk_polls;
        j.ends_in = bulk_outcome;
        j.error_message = bulk_outcome_message;
        const std::string id = j.id;
        bulk_job_order.push_back(id);
        auto& stored = bulk_jobs[id] = std::move(j);
        return json_reply(200, bulk_job_json(stored, false));
    }

    // Get Information About All Query Jobs (not in api-reference.md: Salesforce's Bulk API 2.0
    // guide, query_get_all_jobs.htm, API v47.0+): {done, records, nextRecordsUrl},
    // up to 1,000 jobs a page in no documented order, jobType narrows them (this org has only
    // Bulk API 2.0 query jobs, V2Query); queryLocator continues a listing and is only ever taken
    // from the nextRecordsUrl of the page before. The records carry no query text.
    reply list_bulk_jobs(const std::string& version, const std::string& query_string) {
        const params p = parse_params(query_string);
        std::size_t from = 0;
        if (const auto l = param(p, "queryLocator"); l && !l->empty()) {
            const auto at = job_list_locators.find(*l);
            if (at == job_list_locators.end())
                return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
            from = at->second;
        }
        std::vector<const bulk_query_job*> listed;
        if (const auto t = param(p, "jobType"); !t || t->empty() || *t == "V2Query") {
            for (const auto& id : bulk_job_order)
                listed.push_back(&bulk_jobs.at(id));
        }
        const std::size_t end = std::min(listed.size(), from + job_list_page);
        ojson records = ojson::array();
        for (std::size_t i = from; i < end; ++i) {
            ojson j = bulk_job_json(*listed[i], false);
            j["jobType"] = "V2Query";
            records.push_back(j);
        }
        ojson r = ojson::object();
        r["done"] = end >= listed.size();
        r["records"] = records;
        if (end < listed.size()) {
            const std::string locator = new_locator();
            job_list_locators[locator] = end;
            r["nextRecordsUrl"] =
                "/services/data/v" + version + "/jobs/query?queryLocator=" + locator;
        } else {
            r["nextRecordsUrl"] = nullptr;
        }
        return json_reply(200, r);
    }

    // Abort a Query Job (not in api-reference.md: the Bulk API 2.0 guide, query_abort_job.htm,
    // API v47.0+): PATCH {"state": "Aborted"}; only UploadComplete and
    // InProgress jobs abort, answered 200 with the job, state Aborted. The error code for a job
    // in another state is not documented: INVALIDJOBSTATE is a guess (as for the 409 below).
    reply abort_bulk_job(const http_request& req, const std::string& id) {
        const auto it = bulk_jobs.find(id);
        if (it == bulk_jobs.end())
            return not_found();
        const ojson body = ojson::parse(req.body(), nullptr, false);
        if (body.is_discarded() || !body.is_object() || body.value("state", "") != "Aborted")
            return sf_error(
                400, "INVALIDJOB", "InvalidJob : the body must be {\"state\": \"Aborted\"}");
        auto& j = it->second;
        if (j.state != "UploadComplete" && j.state != "InProgress") {
            return sf_error(400,
                            "INVALIDJOBSTATE",
                            "InvalidJobState : a job in state " + j.state + " cannot be aborted");
        }
        j.state = "Aborted";
        return json_reply(200, bulk_job_json(j, false));
    }

    reply bulk_job_info(const std::string& id) {
        const auto it = bulk_jobs.find(id);
        if (it == bulk_jobs.end())
            return not_found();
        auto& j = it->second;
        // Each poll moves the job on: UploadComplete, InProgress (polls_in_progress times),
        // then its end state [SF-BULK2-JOBINFO].
        if (j.state == "UploadComplete") {
            j.state = "InProgress";
        } else if (j.state == "InProgress") {
            if (--j.polls_in_progress <= 0)
                j.state = j.ends_in;
        }
        return json_reply(200, bulk_job_json(j, true));
    }

    reply bulk_results(const std::string& version,
                       const std::string& id,
                       const std::string& query_string) {
        ++bulk_result_calls;
        const auto it = bulk_jobs.find(id);
        if (it == bulk_jobs.end())
            return not_found();
        auto& j = it->second;
        if (j.state != "JobComplete") {
            std::string now_state = j.state == "InProgress"       ? "IN_PROGRESS"
                                    : j.state == "UploadComplete" ? "UPLOAD_COMPLETE"
                                    : j.state == "Failed"         ? "FAILED"
                                                                  : "ABORTED";
            return sf_error(412,
                            "JOB_NOT_COMPLETE",
                            "can only download query results of successfully completed bulk job "
                            "with status: JOB_COMPLETE. Current status: " +
                                now_state);
        }
        if (version != j.version) {
            // Same API version as the job's creation, or 409 [SF-BULK2-RES]; the errorCode is not
            // in api-reference.md.
            return sf_error(
                409, "INVALIDJOBSTATE", "results must be read with API version " + j.version);
        }
        const params p = parse_params(query_string);
        std::size_t from = 0;
        if (const auto l = param(p, "locator"); l && !l->empty()) {
            const auto at = j.locators.find(*l);
            if (at == j.locators.end())
                return sf_error(400, "INVALIDLOCATOR", "invalid locator " + *l);
            from = at->second;
        }
        // Without maxRecords Salesforce sends as many rows as fit its limits (how many is not
        // in api-reference.md); the fake sends up to 100,000.
        std::size_t max_records = 100'000;
        if (const auto m = param(p, "maxRecords"); m && !m->empty()) {
            try {
                max_records = std::stoul(*m);
            } catch (const std::exception&) {
                max_records = 0;
            }
            if (max_records == 0)
                return sf_error(400, "INVALIDPARAMETER", "maxRecords must be a positive integer");
        }
        const std::string eol = j.line_ending == "CRLF" ? "\r\n" : "\n";
        const std::size_t end = std::min(j.lines.size(), from + max_records);
        std::string body = j.header + eol;
        for (std::size_t i = from; i < end; ++i)
            body += j.lines[i] + eol;
        reply r = testing::make_reply(200, std::move(body), "text/csv");
        r.res.set("Sforce-NumberOfRecords", std::to_string(end - from));
        std::string next = "null";  // the string null: no more sets [SF-BULK2-RES-228]
        if (end < j.lines.size()) {
            // v49.0+: pseudo-random strings like MTAwMDA [SF-BULK2-RES-242].
            next = new_locator().substr(3, 8);
            j.locators[next] = end;
        }
        r.res.set("Sforce-Locator", next);
        return r;
    }

    // ---- other resources ------------------------------------------------------------------------

    reply limits() {
        // Shape of api-fixtures/salesforce/limits_response_simple_salesforce_test.json; only
        // DailyApiRequests moves.
        const std::int64_t used = usage();
        auto entry = [](std::int64_t max, std::int64_t remaining) {
            ojson e = ojson::object();
            e["Max"] = max;
            e["Remaining"] = remaining;
            return e;
        };
        ojson r = ojson::object();
        r["ConcurrentAsyncGetReportInstances"] = entry(200, 200);
        r["ConcurrentSyncReportRuns"] = entry(20, 20);
        r["DailyApiRequests"] =
            entry(opt.daily_limit, std::max<std::int64_t>(0, opt.daily_limit - used));
        r["DailyAsyncApexExecutions"] = entry(250000, 250000);
        r["DailyBulkApiRequests"] = entry(5000, 5000);
        r["DailyBulkV2QueryJobs"] = entry(10000, 10000);
        r["DataStorageMB"] = entry(5, 5);
        r["FileStorageMB"] = entry(20, 20);
        r["HourlyODataCallout"] = entry(10000, 10000);
        return json_reply(200, r);
    }

    reply describe_global(const std::string& version) const {
        ojson list = ojson::array();
        for (const auto& [key, o] : objects) {
            ojson e = ojson::object();
            e["custom"] = is_custom_name(o.def.name);
            e["keyPrefix"] = o.def.key_prefix;
            e["label"] = o.def.label;
            e["name"] = o.def.name;
            e["queryable"] = true;
            e["replicateable"] = true;
            e["urls"] = urls(o.def.name, version);
            list.push_back(e);
        }
        ojson r = ojson::object();
        r["encoding"] = "UTF-8";
        r["maxBatchSize"] = 200;
        r["sobjects"] = list;
        return json_reply(200, r);
    }

    static ojson urls(const std::string& name, const std::string& version) {
        const std::string base = "/services/data/v" + version + "/sobjects/" + name;
        ojson u = ojson::object();
        u["describe"] = base + "/describe";
        u["rowTemplate"] = base + "/{ID}";
        u["sobject"] = base;
        return u;
    }

    static ojson describe_json(const object_state& o, const std::string& version) {
        // DescribeSObjectResult subset [SF-DOME-DESCRIBE][JSFORCE-SOAP-SCHEMA].
        ojson fields = ojson::array();
        for (const auto& f : o.def.fields) {
            ojson d = ojson::object();
            const bool text = is_text_type(f.type) || is_id_type(f.type);
            d["autoNumber"] = false;
            d["byteLength"] = text ? f.length * 3 : 0;
            d["calculated"] = false;
            d["caseSensitive"] = false;
            d["createable"] = f.updateable && f.name != "Id";
            d["custom"] = is_custom_name(f.name);
            d["defaultValue"] = nullptr;
            d["defaultedOnCreate"] = f.type == "boolean" || f.name == "Id" ||
                                     f.name == "CreatedDate" || f.name == "LastModifiedDate" ||
                                     f.name == "SystemModstamp";
            d["digits"] = f.type == "int" ? 9 : 0;
            d["externalId"] = false;
            d["filterable"] = f.type != "textarea";
            d["idLookup"] = f.type == "id" || f.type == "email";
            d["label"] = f.label;
            d["length"] = text ? f.length : 0;
            d["name"] = f.name;
            d["nillable"] = f.nillable;
            ojson picklist = ojson::array();
            for (const auto& v : f.picklist_values) {
                ojson pv = ojson::object();
                pv["active"] = true;
                pv["defaultValue"] = false;
                pv["label"] = v;
                pv["validFor"] = nullptr;
                pv["value"] = v;
                picklist.push_back(pv);
            }
            d["picklistValues"] = picklist;
            d["precision"] =
                f.type == "double" || f.type == "currency" || f.type == "percent" ? 18 : 0;
            d["referenceTo"] =
                f.reference_to.empty() ? ojson::array() : ojson::array({f.reference_to});
            d["relationshipName"] =
                f.relationship_name.empty() ? ojson(nullptr) : ojson(f.relationship_name);
            d["restrictedPicklist"] = false;
            d["scale"] = f.type == "double" || f.type == "currency" || f.type == "percent" ? 2 : 0;
            d["soapType"] = soap_type(f.type);
            d["sortable"] = f.type != "textarea";
            d["type"] = f.type;
            d["unique"] = false;
            d["updateable"] = f.updateable && f.name != "Id";
            fields.push_back(d);
        }
        ojson r = ojson::object();
        r["activateable"] = false;
        r["childRelationships"] = ojson::array();
        r["createable"] = true;
        r["custom"] = is_custom_name(o.def.name);
        r["customSetting"] = false;
        r["deletable"] = true;
        r["fields"] = fields;
        r["keyPrefix"] = o.def.key_prefix;
        r["label"] = o.def.label;
        r["labelPlural"] = o.def.label + "s";
        r["name"] = o.def.name;
        r["queryable"] = true;
        r["replicateable"] = true;
        r["retrieveable"] = true;
        r["searchable"] = true;
        r["updateable"] = true;
        r["urls"] = urls(o.def.name, version);
        return r;
    }
};

// =================================================================================================

fake_salesforce::fake_salesforce(sf_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {
    impl_->server = std::make_unique<testing::loopback_server>(
        [p = impl_.get()](const http_request& req) { return p->handle(req); }, impl_->opt.port);
}

fake_salesforce::~fake_salesforce() {
    impl_->server.reset();
}

std::string fake_salesforce::base_url() const {
    return impl_->base_url();
}
unsigned short fake_salesforce::port() const {
    return impl_->server->port();
}
const sf_options& fake_salesforce::options() const {
    return impl_->opt;
}

void fake_salesforce::define_object(sf_object object) {
    std::lock_guard lock(impl_->mu);
    impl_->put_object(std::move(object));
}

void fake_salesforce::add_field(const std::string& object, sf_field field) {
    std::lock_guard lock(impl_->mu);
    auto& o = impl_->object_or_throw(object);
    if (impl::find_field(o.def, field.name) != nullptr) {
        throw std::invalid_argument("fake_salesforce: field exists: " + field.name);
    }
    // New fields go before the trailing system fields, as custom fields do in describe.
    auto pos = std::find_if(o.def.fields.begin(), o.def.fields.end(), [](const sf_field& f) {
        return f.name == "IsDeleted";
    });
    o.def.fields.insert(pos, normalized(std::move(field)));
}

void fake_salesforce::remove_field(const std::string& object, const std::string& field) {
    std::lock_guard lock(impl_->mu);
    auto& o = impl_->object_or_throw(object);
    const auto it = std::find_if(o.def.fields.begin(), o.def.fields.end(), [&](const sf_field& f) {
        return iequals(f.name, field);
    });
    if (it == o.def.fields.end())
        throw std::invalid_argument("fake_salesforce: no field " + field);
    const std::string name = it->name;
    o.def.fields.erase(it);
    for (auto& [id, row] : o.rows)
        row.erase(name);
}

std::optional<sf_object> fake_salesforce::describe(const std::string& object) const {
    std::lock_guard lock(impl_->mu);
    const auto* o = impl_->find_object(object);
    if (o == nullptr)
        return std::nullopt;
    return o->def;
}

std::string fake_salesforce::insert(const std::string& object,
                                    const nlohmann::json& fields,
                                    std::optional<timestamp> modstamp) {
    std::lock_guard lock(impl_->mu);
    return impl_->insert(object, fields, modstamp);
}

std::string fake_salesforce::insert_late(const std::string& object,
                                         const nlohmann::json& fields,
                                         timestamp old_modstamp) {
    std::lock_guard lock(impl_->mu);
    return impl_->insert(object, fields, old_modstamp);
}

void fake_salesforce::update(const std::string& object,
                             const std::string& id,
                             const nlohmann::json& changes,
                             std::optional<timestamp> modstamp) {
    std::lock_guard lock(impl_->mu);
    auto& o = impl_->object_or_throw(object);
    auto& row = impl_->row_or_throw(o, id);
    impl_->apply_fields(o, row, changes, false);
    impl_->touch(row, modstamp);
}

void fake_salesforce::remove(const std::string& object,
                             const std::string& id,
                             std::optional<timestamp> modstamp) {
    std::lock_guard lock(impl_->mu);
    auto& o = impl_->object_or_throw(object);
    auto& row = impl_->row_or_throw(o, id);
    row["IsDeleted"] = true;
    impl_->touch(row, modstamp);
}

void fake_salesforce::undelete(const std::string& object, const std::string& id) {
    std::lock_guard lock(impl_->mu);
    auto& o = impl_->object_or_throw(object);
    auto& row = impl_->row_or_throw(o, id);
    row["IsDeleted"] = false;
    impl_->touch(row, std::nullopt);
}

void fake_salesforce::purge(const std::string& object, const std::string& id) {
    std::lock_guard lock(impl_->mu);
    auto& o = impl_->object_or_throw(object);
    const std::string full = impl_->row_or_throw(o, id)["Id"].get<std::string>();
    o.rows.erase(full);
}

std::optional<nlohmann::json> fake_salesforce::get(const std::string& object,
                                                   const std::string& id) const {
    std::lock_guard lock(impl_->mu);
    auto* o = const_cast<impl*>(impl_.get())->find_object(object);
    if (o == nullptr)
        return std::nullopt;
    try {
        const auto& row = const_cast<impl*>(impl_.get())->row_or_throw(*o, id);
        return nlohmann::json::parse(impl_->render_row(*o, row, "60.0").dump());
    } catch (const std::invalid_argument&) {
        return std::nullopt;
    }
}

std::vector<std::string> fake_salesforce::ids(const std::string& object) const {
    std::lock_guard lock(impl_->mu);
    const auto* o = impl_->find_object(object);
    std::vector<std::string> out;
    if (o == nullptr)
        return out;
    for (const auto& [id, row] : o->rows)
        out.push_back(id);
    return out;
}

std::string fake_salesforce::convert_lead(const std::string& lead_id,
                                          const nlohmann::json& contact_fields) {
    std::lock_guard lock(impl_->mu);
    auto& leads = impl_->object_or_throw("Lead");
    auto& lead = impl_->row_or_throw(leads, lead_id);
    nlohmann::json account = {{"Name", lead.value("Company", "Converted")}};
    const std::string account_id = impl_->insert("Account", account, std::nullopt);
    nlohmann::json contact = nlohmann::json::object();
    for (const char* f : {"FirstName", "LastName", "Email", "Phone", "Title", "Salutation"}) {
        if (lead.contains(f) && !lead[f].is_null())
            contact[f] = lead[f];
    }
    contact["AccountId"] = account_id;
    for (const auto& [k, v] : contact_fields.items())
        contact[k] = v;
    const std::string contact_id = impl_->insert("Contact", contact, std::nullopt);
    lead["IsConverted"] = true;
    lead["ConvertedContactId"] = contact_id;
    lead["ConvertedAccountId"] = account_id;
    lead["ConvertedDate"] = render_date(impl_->now());  // a date, no time [SF-CDC-LEADCONV]
    lead["Status"] = "Closed - Converted";
    impl_->touch(lead, std::nullopt);
    return contact_id;
}

void fake_salesforce::set_clock(clock_fn clock) {
    std::lock_guard lock(impl_->mu);
    impl_->opt.clock = clock ? std::move(clock) : clock_fn(system_now);
}

timestamp fake_salesforce::now() const {
    std::lock_guard lock(impl_->mu);
    return timestamp{impl_->now()};
}

std::vector<std::string> fake_salesforce::issued_tokens() const {
    std::lock_guard lock(impl_->mu);
    std::vector<std::string> out;
    for (const auto& [t, info] : impl_->tokens)
        out.push_back(t);
    return out;
}

void fake_salesforce::expire_tokens() {
    std::lock_guard lock(impl_->mu);
    for (auto& [t, info] : impl_->tokens)
        info.valid = false;
}

void fake_salesforce::expire_cursors() {
    std::lock_guard lock(impl_->mu);
    impl_->cursors.clear();
    impl_->cursor_order.clear();
}

std::string fake_salesforce::issue_token() {
    std::lock_guard lock(impl_->mu);
    return impl_->mint_token();
}

void fake_salesforce::set_daily_limit(std::int64_t max) {
    std::lock_guard lock(impl_->mu);
    impl_->opt.daily_limit = max;
}

void fake_salesforce::set_api_usage(std::int64_t used) {
    std::lock_guard lock(impl_->mu);
    impl_->calls.clear();
    impl_->usage_baseline = used;
}

std::int64_t fake_salesforce::api_usage() const {
    std::lock_guard lock(impl_->mu);
    return const_cast<impl*>(impl_.get())->usage();
}

std::int64_t fake_salesforce::api_calls() const {
    std::lock_guard lock(impl_->mu);
    return impl_->total_calls;
}

std::size_t fake_salesforce::token_requests() const {
    std::lock_guard lock(impl_->mu);
    return impl_->token_requests;
}

std::size_t fake_salesforce::query_all_calls() const {
    std::lock_guard lock(impl_->mu);
    return static_cast<std::size_t>(
        std::count(impl_->queries_all.begin(), impl_->queries_all.end(), true));
}

void fake_salesforce::set_bulk_job_outcome(int polls_in_progress,
                                           std::string end_state,
                                           std::string error_message) {
    std::lock_guard lock(impl_->mu);
    impl_->bulk_polls = polls_in_progress;
    impl_->bulk_outcome = std::move(end_state);
    impl_->bulk_outcome_message = std::move(error_message);
}

void fake_salesforce::set_bulk_unsupported(const std::string& object, bool unsupported) {
    std::lock_guard lock(impl_->mu);
    if (unsupported)
        impl_->bulk_unsupported.insert(to_lower(object));
    else
        impl_->bulk_unsupported.erase(to_lower(object));
}

std::vector<std::string> fake_salesforce::bulk_queries() const {
    std::lock_guard lock(impl_->mu);
    return impl_->bulk_soql;
}

std::size_t fake_salesforce::bulk_jobs_created() const {
    std::lock_guard lock(impl_->mu);
    return impl_->bulk_job_order.size();
}

std::vector<std::pair<std::string, std::string>> fake_salesforce::bulk_jobs() const {
    std::lock_guard lock(impl_->mu);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& id : impl_->bulk_job_order)
        out.emplace_back(id, impl_->bulk_jobs.at(id).state);
    return out;
}

void fake_salesforce::set_job_list_page_size(std::size_t jobs) {
    std::lock_guard lock(impl_->mu);
    impl_->job_list_page = std::max<std::size_t>(1, jobs);
}

std::size_t fake_salesforce::bulk_result_calls() const {
    std::lock_guard lock(impl_->mu);
    return impl_->bulk_result_calls;
}

std::vector<std::string> fake_salesforce::queries() const {
    std::lock_guard lock(impl_->mu);
    return impl_->queries;
}

void fake_salesforce::set_max_page_size(std::optional<int> rows) {
    std::lock_guard lock(impl_->mu);
    impl_->max_page = rows;
}

void fake_salesforce::fail_next(std::string path_prefix, std::vector<fault_spec> faults) {
    impl_->faults.fail_next(std::move(path_prefix), std::move(faults));
}

void fake_salesforce::clear_faults() {
    impl_->faults.clear();
}

std::size_t fake_salesforce::pending_faults() const {
    return impl_->faults.pending();
}

}  // namespace crmsync::fakes
