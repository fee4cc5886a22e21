#include "fake_marketo.hpp"

#include "crmsync/core/central_time.hpp"
#include "crmsync/core/timestamp.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "fake_http.hpp"
#include "loopback_server.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <deque>
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
constexpr std::size_t max_batch = 300;         // Lead DB batch [MK-LEADS]
constexpr std::size_t max_body = 1024 * 1024;  // 1 MB -> 413 [MK-ERR]
constexpr std::size_t max_uri = 8 * 1024;      // 8 KB -> 414 [MK-ERR]

// Documented texts of the response-level codes [MK-ERR].
std::string documented_message(const std::string& code) {
    static const std::map<std::string, std::string> texts = {
        {"500", "Internal Server error"},
        {"502", "Bad Gateway"},
        {"601", "Access token invalid"},
        {"602", "Access token expired"},
        {"603", "Access denied"},
        {"604", "Request time-out"},
        {"605", "HTTP Method not supported"},
        {"606", "Max rate limit '100' exceeded with in '20' secs"},
        {"607", "Daily quota reached"},
        {"608", "API Temporarily Unavailable"},
        {"609", "Invalid JSON"},
        {"610", "Requested resource not found"},
        {"611", "System error"},
        {"612", "Invalid Content Type"},
        {"613", "Invalid Multipart Request"},
        {"614", "Invalid Subscription"},
        {"615", "Concurrent access limit reached"},
        {"616", "Invalid subscription type"},
        {"713", "Transient Error"},
    };
    const auto it = texts.find(code);
    return it == texts.end() ? "Error " + code : it->second;
}

bool has_length(const std::string& type) {
    return type == "string" || type == "email" || type == "phone" || type == "url";
}

mkto_field normalized(mkto_field f) {
    if (f.display_name.empty())
        f.display_name = f.name;
    if (f.length < 0)
        f.length = has_length(f.data_type) ? 255 : 0;
    if (f.soap_name.empty() && !f.name.empty()) {
        f.soap_name = f.name;
        f.soap_name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(f.name[0])));
    }
    return f;
}

std::vector<mkto_field> standard_fields() {
    std::vector<mkto_field> fs = {
        {.name = "id",
         .data_type = "integer",
         .display_name = "Id",
         .read_only = true,
         .searchable = true},
        {.name = "email",
         .data_type = "email",
         .display_name = "Email Address",
         .searchable = true},
        {.name = "salutation", .display_name = "Salutation"},
        {.name = "firstName", .display_name = "First Name"},
        {.name = "lastName", .display_name = "Last Name"},
        {.name = "title", .display_name = "Job Title"},
        {.name = "phone", .data_type = "phone", .display_name = "Phone Number"},
        {.name = "company", .display_name = "Company Name"},
        {.name = "city", .display_name = "City"},
        {.name = "country", .display_name = "Country"},
        {.name = "birthDate", .data_type = "date", .display_name = "Date of Birth"},
        {.name = "leadScore", .data_type = "integer", .display_name = "Lead Score"},
        {.name = "sfdcContactId",
         .display_name = "SFDC Contact ID",
         .length = 18,
         .searchable = true},
        {.name = "sfdcLeadId", .display_name = "SFDC Lead ID", .length = 18, .searchable = true},
        {.name = "crmDeleted", .data_type = "boolean", .display_name = "CRM Deleted"},
        {.name = "createdAt",
         .data_type = "datetime",
         .display_name = "Created At",
         .read_only = true},
        {.name = "updatedAt",
         .data_type = "datetime",
         .display_name = "Updated At",
         .read_only = true},
    };
    for (auto& f : fs)
        f = normalized(std::move(f));
    return fs;
}

std::size_t utf8_length(const std::string& s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool valid_email(const std::string& e) {
    // Email must be ASCII [MK-LEADS]; syntax: local@domain.tld with no spaces.
    static const std::regex re(R"(^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@)"
                               R"((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$)");
    if (e.find("..") != std::string::npos || e.front() == '.')
        return false;
    return std::regex_match(e, re);
}

std::string iso_seconds(sys_ms t) {
    return timestamp{t}.to_soql_literal();
}  // ...:45Z

// Values compare like Marketo's dedupe: strings case-insensitively, numbers by value.
// How Marketo compares a lookup value with a stored one: case-insensitively for text, 42 and
// 42.0 alike. Null matches nothing.
std::optional<std::string> match_key(const json& v) {
    if (v.is_null())
        return std::nullopt;
    if (v.is_string())
        return to_lower(v.get<std::string>());
    if (v.is_number_integer())
        return std::to_string(v.get<std::int64_t>());
    if (v.is_number()) {
        const double d = v.get<double>();
        if (std::floor(d) == d)
            return std::to_string(static_cast<std::int64_t>(d));
    }
    return to_lower(v.dump());
}

bool same_value(const json& a, const json& b) {
    const auto ka = match_key(a);
    return ka && ka == match_key(b);
}

}  // namespace

// =================================================================================================

struct fake_marketo::impl {
    struct token_info {
        std::string client_id;
        sys_ms expires_at;
        bool revoked = false;
    };
    struct check {
        std::optional<json> value;                                  // normalized value when ok
        std::optional<std::pair<std::string, std::string>> reason;  // code, message
    };

    mkto_options opt;
    mutable std::mutex mu;
    std::mt19937_64 rng{std::random_device{}()};
    std::vector<mkto_field> schema = standard_fields();
    std::map<std::int64_t, json> persons;
    // field -> match_key -> ids: lookups by value (Sync Leads' lookupField, Get Leads by
    // filterType) without a scan of every person per record, which made a 10,000-person load
    // quadratic. Kept in step by put_person / drop_person, the only writers of `persons`.
    std::map<std::string, std::multimap<std::string, std::int64_t>, std::less<>> by_value;
    std::int64_t next_id = 1001;
    // Lead partitions [MK-LEADS partitionName]: every instance has "Default"; a person lives in
    // exactly one. `api_partitions` are those the API-only user's role may write (empty: all).
    std::set<std::string> partitions{"Default"};
    std::set<std::string> api_partitions;
    std::map<std::int64_t, std::string> partition_of;
    struct custom_type {
        mkto_custom_object def;
        std::vector<json> records;  // creation order
        std::vector<json> pushes;
    };
    std::map<std::string, custom_type> custom;
    std::vector<json> unknown_custom_pushes;
    std::map<std::string, token_info> tokens;
    std::map<std::string, std::string> current_token;  // client_id -> token
    std::deque<sys_ms> window;
    int peak_window = 0;
    int in_flight = 0;
    int peak_in_flight = 0;
    std::map<std::int64_t, std::int64_t> daily;  // quota day -> counted calls
    std::map<std::string, int> errors_sent;
    std::vector<json> pushes;
    std::uint64_t request_seq = 0x1a2b;
    fault_script faults;
    std::unique_ptr<testing::loopback_server> server;  // last: stops before the state goes

    explicit impl(mkto_options o) : opt(std::move(o)) {
        if (!opt.clock)
            opt.clock = system_now;
    }

    sys_ms now() const { return opt.clock(); }

    // The daily quota resets at 12:00 AM CST [MK-REST], "midnight central time" (Adobe KB
    // ka-29461): 06:00 UTC in winter, 05:00 UTC while Chicago keeps daylight time.
    std::int64_t quota_day() const { return us_central_date(now()).time_since_epoch().count(); }
    std::string quota_date() const { return us_central_date_text(now()); }

    const mkto_field* field(std::string_view name) const {
        for (const auto& f : schema) {
            if (f.name == name)
                return &f;  // REST names are case-sensitive
        }
        return nullptr;
    }

    // ---- envelopes ------------------------------------------------------------------------------

    std::string request_id() {
        char buf[64];
        std::snprintf(buf,
                      sizeof buf,
                      "%llx#%llx",
                      static_cast<unsigned long long>(++request_seq),
                      static_cast<unsigned long long>(now().time_since_epoch().count()));
        return buf;
    }

    reply ok(ojson result, std::optional<ojson> extra = std::nullopt) {
        ojson r = ojson::object();
        r["requestId"] = request_id();
        r["result"] = std::move(result);
        r["success"] = true;
        if (extra) {
            for (auto& [k, v] : extra->items())
                r[k] = v;
        }
        return testing::make_reply(200, r.dump(), json_type);
    }

    // Response-level errors: HTTP 200, success false, code a quoted integer [MK-ERR].
    reply error(const std::string& code, std::string message = {}, unsigned status = 200) {
        ++errors_sent[code];
        ojson e = ojson::object();
        e["code"] = code;
        e["message"] = message.empty() ? documented_message(code) : std::move(message);
        ojson r = ojson::object();
        r["requestId"] = request_id();
        r["success"] = false;
        r["errors"] = ojson::array({e});
        return testing::make_reply(status, r.dump(), json_type);
    }

    static ojson reason(const std::string& code, const std::string& message) {
        ojson r = ojson::object();
        r["code"] = code;
        r["message"] = message;
        return r;
    }

    static ojson skipped(const std::string& code, const std::string& message) {
        ojson s = ojson::object();
        s["status"] = "skipped";
        s["reasons"] = ojson::array({reason(code, message)});
        return s;
    }

    // ---- identity -------------------------------------------------------------------------------

    std::string token_for(const std::string& client_id) {
        const auto it = current_token.find(client_id);
        if (it != current_token.end()) {
            const auto& info = tokens[it->second];
            if (!info.revoked && info.expires_at > now())
                return it->second;
        }
        // "<uuid>:<pod>" like "cdf01657-110d-4155-99a7-f986b2ff13a0:int" [MK-AUTH].
        std::string t = random_uuid(rng) + ":fk";
        tokens[t] = {client_id, now() + opt.token_lifetime, false};
        current_token[client_id] = t;
        return t;
    }

    reply identity(const http_request& req, const std::string& query) {
        if (req.method() != http::verb::get && req.method() != http::verb::post) {
            return testing::make_reply(405, "", "text/html");
        }
        params p = parse_params(query);
        if (req.method() == http::verb::post &&
            media_type(req) == "application/x-www-form-urlencoded") {
            for (auto& kv : parse_params(req.body()))
                p.insert(kv);
        }
        auto oauth_error =
            [](unsigned status, const std::string& error, const std::string& description) {
                ojson e = ojson::object();
                e["error"] = error;
                e["error_description"] = description;
                return testing::make_reply(status, e.dump(), json_type);
            };
        // Identity answers HTTP 401 to bad credentials [MK-ERR]; the body is not documented:
        // Spring-OAuth's {"error":"invalid_client","error_description":"Bad client
        // credentials"}, which Marketo client test suites stub (e.g. the Ruby mkto_rest gem).
        if (param(p, "client_id") != opt.client_id ||
            param(p, "client_secret") != opt.client_secret) {
            return oauth_error(401, "invalid_client", "Bad client credentials");
        }
        const auto grant = param(p, "grant_type");
        if (grant != "client_credentials") {
            return oauth_error(
                400, "unsupported_grant_type", "Unsupported grant type: " + grant.value_or(""));
        }
        const std::string t = token_for(opt.client_id);
        const auto remaining = tokens[t].expires_at - now();
        // expires_in is the remaining lifetime; a brand-new token reads 3599 as in [MK-AUTH].
        const auto expires_in = std::max<std::int64_t>(0, (remaining.count() - 1) / 1000);
        ojson r = ojson::object();
        r["access_token"] = t;
        r["token_type"] = "bearer";
        r["expires_in"] = expires_in;
        r["scope"] = opt.scope;
        reply out = testing::make_reply(200, r.dump(), json_type);
        out.res.set(http::field::cache_control, "no-store");
        return out;
    }

    // ---- routing --------------------------------------------------------------------------------

    reply handle(const http_request& req) {
        const auto [path, query] = split_target(req.target());
        const auto fault = faults.take(path, req.body());
        if (fault && fault->on_arrival)
            fault->on_arrival();
        if (fault) {
            if (fault->what == fault_spec::kind::http_status)
                return status_fault_reply(*fault);
            if (fault->what == fault_spec::kind::expire_tokens) {
                std::lock_guard lock(mu);
                for (auto& [t, info] : tokens)
                    info.revoked = true;
            }
            if (fault->what == fault_spec::kind::vendor_error) {
                std::lock_guard lock(mu);
                return error(fault->code, fault->message, fault->status != 0 ? fault->status : 200);
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

    enum class endpoint {
        none,
        sync,
        get_leads,
        remove,
        lead_by_id,
        describe,
        describe2,
        usage,
        custom_sync,
        custom_describe,
        custom_query,
    };

    reply route(const http_request& req, const std::string& path, const std::string& query) {
        std::lock_guard lock(mu);
        if (path == "/identity/oauth/token")
            return identity(req, query);
        if (path.rfind("/rest/", 0) != 0)
            return testing::make_reply(404, "", "text/html");

        // HTTP-level limits come first: the request never reaches the API [MK-ERR].
        if (req.target().size() > max_uri) {
            return testing::make_reply(414, "Request-URI Too Long", "text/html");
        }
        if (req.body().size() > max_body) {
            return testing::make_reply(413, "Request Entity Too Large", "text/html");
        }

        // The token goes in the Authorization header only; the access_token query parameter is
        // being removed [MK-AUTH], so the fake ignores it (the client must not rely on it).
        const auto token = bearer_token(req);
        const auto tok = token ? tokens.find(*token) : tokens.end();
        if (tok == tokens.end())
            return error("601");
        if (tok->second.revoked || tok->second.expires_at <= now())
            return error("602");

        const params p = parse_params(query);
        const auto method_override = param(p, "_method");
        const bool get = req.method() == http::verb::get;
        const bool post = req.method() == http::verb::post;
        endpoint ep = endpoint::none;
        std::string id_text;
        static const std::regex lead_by_id(R"(^/rest/v1/lead/(\d+)\.json$)");
        static const std::regex custom_path(R"(^/rest/v1/customobjects/(\w+)(/describe)?\.json$)");
        std::smatch m;
        if (path == "/rest/v1/leads.json") {
            if (post && method_override == "GET")
                ep = endpoint::get_leads;
            else if (post && method_override == "DELETE")
                ep = endpoint::remove;
            else if (post)
                ep = endpoint::sync;
            else if (get && param(p, "filterType"))
                ep = endpoint::get_leads;
            // GET is not supported for Sync Leads [MK-ERR]; neither is anything but GET/POST.
            else
                return error("605");
        } else if (path == "/rest/v1/leads/delete.json") {
            if (!post)
                return error("605");
            ep = endpoint::remove;
        } else if (std::regex_match(path, m, lead_by_id)) {
            if (!get)
                return error("605");
            ep = endpoint::lead_by_id;
            id_text = m[1].str();
        } else if (path == "/rest/v1/leads/describe.json") {
            if (!get)
                return error("605");
            ep = endpoint::describe;
        } else if (path == "/rest/v1/leads/describe2.json") {
            if (!get)
                return error("605");
            ep = endpoint::describe2;
        } else if (path == "/rest/v1/stats/usage.json") {
            if (!get)
                return error("605");
            ep = endpoint::usage;
        } else if (std::regex_match(path, m, custom_path)) {
            id_text = m[1].str();  // the apiName
            const bool describing = m[2].matched;
            if (describing && !get)
                return error("605");
            if (describing)
                ep = endpoint::custom_describe;
            else if (get && param(p, "filterType"))
                ep = endpoint::custom_query;
            else if (post)
                ep = endpoint::custom_sync;
            else
                return error("605");
        }
        if (ep == endpoint::sync || ep == endpoint::custom_sync) {
            const json body = json::parse(req.body(), nullptr, false);
            auto& log = ep == endpoint::sync       ? pushes
                        : custom.contains(id_text) ? custom[id_text].pushes
                                                   : unknown_custom_pushes;
            log.push_back(body.is_discarded() ? json(req.body()) : body);
        }

        // Limits. 601/602/604/605/608/611 are "not counted against your daily quota, or your
        // rate limit" [MK-ERR]; every other answer counts, including 606/607/615 themselves
        // (the doc marks only the asterisked codes as free).
        if (auto refused = admit())
            return *refused;
        ++in_flight;
        peak_in_flight = std::max(peak_in_flight, in_flight);

        reply r;
        switch (ep) {
            case endpoint::none:
                r = error("610");
                break;
            case endpoint::sync:
                r = sync_leads(req);
                break;
            case endpoint::get_leads: {
                params q = p;
                if (post) {
                    for (auto& kv : parse_params(req.body()))
                        q.insert(kv);
                }
                r = get_leads(q);
                break;
            }
            case endpoint::remove:
                r = delete_leads(req);
                break;
            case endpoint::lead_by_id:
                r = get_lead(id_text, p);
                break;
            case endpoint::describe:
                r = describe();
                break;
            case endpoint::describe2:
                r = describe2();
                break;
            case endpoint::usage:
                r = usage();
                break;
            case endpoint::custom_sync:
                r = sync_custom(id_text, req);
                break;
            case endpoint::custom_describe:
                r = describe_custom(id_text);
                break;
            case endpoint::custom_query:
                r = query_custom(id_text, p);
                break;
        }
        r.delay = opt.latency;
        r.on_done = [this] {
            std::lock_guard done_lock(mu);
            --in_flight;
        };
        return r;
    }

    std::optional<reply> admit() {
        const auto t = now();
        while (!window.empty() && window.front() <= t - opt.limits.window) {
            window.pop_front();
        }
        auto& today = daily[quota_day()];
        std::optional<reply> refused;
        if (today >= opt.limits.daily_quota) {
            refused = error("607");
        } else if (static_cast<int>(window.size()) >= opt.limits.calls_per_20s) {
            refused = error("606",
                            "Max rate limit '" + std::to_string(opt.limits.calls_per_20s) +
                                "' exceeded with in '" +
                                std::to_string(opt.limits.window.count() / 1000) + "' secs");
        } else if (in_flight >= opt.limits.max_concurrency) {
            // The refused request itself is not "in flight": it is answered at once.
            refused = error("615");
        }
        window.push_back(t);
        ++today;
        peak_window = std::max(peak_window, static_cast<int>(window.size()));
        return refused;
    }

    // ---- Sync Leads -----------------------------------------------------------------------------

    // Validates one value against the field type. Marketo's live answer to a bad value (a bad
    // email, 14.1 for an integer, "14c" for a float, "other" for a boolean) is record-level 1003
    // "Invalid value for field '<name>'" (recorded responses in grouparoo's Marketo plugin
    // fixtures, plugins/@grouparoo/marketo/__tests__/fixtures/export-profiles.js). Too-long
    // strings are not documented: the same 1003 is our guess.
    static check validate(const mkto_field& f, const json& v) {
        const auto invalid = check{std::nullopt,
                                   std::pair<std::string, std::string>{
                                       "1003", "Invalid value for field '" + f.name + "'"}};
        if (v.is_null())
            return {json(nullptr), std::nullopt};
        const std::string& t = f.data_type;
        if (t == "integer" || t == "score") {
            if (v.is_number_integer())
                return {v, std::nullopt};
            if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) {
                return {json(static_cast<std::int64_t>(v.get<double>())), std::nullopt};
            }
            if (v.is_string()) {
                static const std::regex re(R"(^-?\d+$)");
                if (std::regex_match(v.get<std::string>(), re)) {
                    return {json(std::stoll(v.get<std::string>())), std::nullopt};
                }
            }
            return invalid;
        }
        if (t == "float" || t == "currency" || t == "percent") {
            if (v.is_number())
                return {v, std::nullopt};
            if (v.is_string()) {
                static const std::regex re(R"(^-?\d+(\.\d+)?$)");
                if (std::regex_match(v.get<std::string>(), re)) {
                    return {json(std::stod(v.get<std::string>())), std::nullopt};
                }
            }
            return invalid;
        }
        if (t == "boolean") {
            if (v.is_boolean())
                return {v, std::nullopt};
            if (v.is_string() &&
                (iequals(v.get<std::string>(), "true") || iequals(v.get<std::string>(), "false"))) {
                return {json(iequals(v.get<std::string>(), "true")), std::nullopt};
            }
            if (v.is_number_integer() && (v == 0 || v == 1))
                return {json(v == 1), std::nullopt};
            return invalid;
        }
        if (t == "date") {
            if (!v.is_string())
                return invalid;
            const auto& s = v.get<std::string>();
            if (s.size() != 10 || !timestamp::parse(s))
                return invalid;
            return {v, std::nullopt};
        }
        if (t == "datetime") {
            if (!v.is_string() || !timestamp::parse(v.get<std::string>()))
                return invalid;
            return {json(iso_seconds(timestamp::parse(v.get<std::string>())->at)), std::nullopt};
        }
        // Text types.
        std::string s;
        if (v.is_string())
            s = v.get<std::string>();
        else if (v.is_number() || v.is_boolean())
            s = v.dump();
        else
            return invalid;
        if (t == "email") {
            if (s.empty())
                return {json(nullptr), std::nullopt};
            const bool ascii = std::all_of(
                s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
            if (!ascii || !valid_email(s))
                return invalid;
        }
        if (f.length > 0 && static_cast<int>(utf8_length(s)) > f.length)
            return invalid;
        return {json(s), std::nullopt};
    }

    void index_person(std::int64_t id, const json& person) {
        for (const auto& [field_name, v] : person.items()) {
            if (auto k = match_key(v))
                by_value[field_name].emplace(std::move(*k), id);
        }
    }

    void unindex_person(std::int64_t id, const json& person) {
        for (const auto& [field_name, v] : person.items()) {
            const auto k = match_key(v);
            const auto f = by_value.find(field_name);
            if (!k || f == by_value.end())
                continue;
            auto [first, last] = f->second.equal_range(*k);
            for (; first != last; ++first) {
                if (first->second == id) {
                    f->second.erase(first);
                    break;
                }
            }
        }
    }

    void put_person(std::int64_t id, json person) {
        if (const auto old = persons.find(id); old != persons.end())
            unindex_person(id, old->second);
        index_person(id, person);
        persons[id] = std::move(person);
    }

    bool drop_person(std::int64_t id) {
        const auto it = persons.find(id);
        if (it == persons.end())
            return false;
        unindex_person(id, it->second);
        persons.erase(it);
        return true;
    }

    // Ascending ids, as a scan of `persons` would give them.
    std::vector<std::int64_t> matching(const std::string& field_name, const json& value) const {
        std::vector<std::int64_t> out;
        const auto k = match_key(value);
        const auto f = by_value.find(field_name);
        if (!k || f == by_value.end())
            return out;
        auto [first, last] = f->second.equal_range(*k);
        for (; first != last; ++first)
            out.push_back(first->second);
        std::sort(out.begin(), out.end());
        return out;
    }

    json create_person(const json& values, const std::string& partition = "Default") {
        const std::int64_t id = next_id++;
        partition_of[id] = partition;
        json p = values;
        p["id"] = id;
        p["createdAt"] = iso_seconds(now());
        p["updatedAt"] = iso_seconds(now());
        put_person(id, std::move(p));
        return id;
    }

    reply sync_leads(const http_request& req) {
        // Content type before body: Marketo wants application/json [MK-ERR] 612.
        if (media_type(req) != "application/json")
            return error("612");
        const json body = json::parse(req.body(), nullptr, false);
        if (body.is_discarded() || !body.is_object())
            return error("609");
        if (!body.contains("input") || !body["input"].is_array() || body["input"].empty()) {
            return error("701", "input cannot be blank");
        }
        const json& input = body["input"];
        if (input.size() > max_batch) {
            // More than 300 records: the response for this is unknown (api-reference §5);
            // a response-level 1003 refusing the whole call is our choice.
            return error("1003", "Invalid data: more than 300 records");
        }
        const std::string action = body.value("action", std::string("createOrUpdate"));
        if (action != "createOrUpdate" && action != "createOnly" && action != "updateOnly" &&
            action != "createDuplicate") {
            return error("1003", "Invalid action '" + action + "'");
        }
        const std::string lookup = body.value("lookupField", std::string("email"));
        const mkto_field* lookup_field = field(lookup);
        const bool needs_lookup = action == "createOrUpdate" || action == "updateOnly";
        // partitionName applies to createOnly / createOrUpdate only [MK-LEADS]; otherwise new
        // persons go to the default partition.
        std::optional<std::string> partition;
        if (const auto pn = body.find("partitionName");
            pn != body.end() && pn->is_string() &&
            (action == "createOnly" || action == "createOrUpdate")) {
            partition = pn->get<std::string>();
        }

        ojson result = ojson::array();
        std::vector<json> seen;  // lookup values already handled in this call
        for (const auto& rec : input) {
            result.push_back(
                sync_one(rec, action, lookup, lookup_field, needs_lookup, partition, seen));
        }
        return ok(std::move(result));
    }

    bool partition_writable(const std::string& name) const {
        return partitions.contains(name) &&
               (api_partitions.empty() || api_partitions.contains(name));
    }

    ojson sync_one(const json& rec,
                   const std::string& action,
                   const std::string& lookup,
                   const mkto_field* lookup_field,
                   bool needs_lookup,
                   const std::optional<std::string>& partition,
                   std::vector<json>& seen) {
        if (!rec.is_object())
            return skipped("1003", "Invalid data");
        const std::string target = partition.value_or("Default");
        if (action != "updateOnly" && !partition_writable(target)) {
            // 1008 "Access denied to partition"; 1009 "Partition name must be specified" when
            // the role cannot write the default partition and none was named [MK-ERR]. That
            // they come per record is our reading: both are record-level codes.
            if (partition)
                return skipped("1008", "Access denied to partition '" + target + "'");
            return skipped("1009", "Partition name must be specified");
        }
        // The lookup field itself must exist and be searchable (1006 / 1011 [MK-ERR]); `id` is
        // a lookup for updateOnly only [MK-LEADS].
        if (action != "createDuplicate") {
            if (lookup_field == nullptr)
                return skipped("1006", "Field '" + lookup + "' not found");
            if (!lookup_field->searchable) {
                return skipped("1011", "Field '" + lookup + "' not supported");
            }
            if (lookup == "id" && action != "updateOnly")
                return skipped("1003", "Invalid data");
        }
        json values = json::object();
        for (const auto& [key, value] : rec.items()) {
            const mkto_field* f = field(key);
            if (f == nullptr)
                return skipped("1006", "Field '" + key + "' not found");
            if (key == "id") {
                // id is system managed: only usable to address a lead with updateOnly, and
                // "id submitted with createOnly" is the doc's example of 1003 [MK-ERR].
                if (action != "updateOnly")
                    return skipped("1003", "Invalid data");
                continue;
            }
            if (f->read_only) {
                // Writing a read-only field: undocumented; refused like invalid data.
                return skipped("1003", "Field '" + key + "' is read only");
            }
            const check c = validate(*f, value);
            if (c.reason)
                return skipped(c.reason->first, c.reason->second);
            values[key] = *c.value;
        }
        json key_value = nullptr;
        if (action != "createDuplicate") {
            const auto it = rec.find(lookup);
            if (it != rec.end() && !it->is_null() &&
                !(it->is_string() && it->get<std::string>().empty())) {
                key_value = lookup == "id" ? *it : values.value(lookup, json(nullptr));
            }
        }
        if (needs_lookup && key_value.is_null()) {
            // Documented as "Missing value for the required parameter '%s'" (1002) [MK-ERR];
            // that Sync Leads uses it for a record without its lookup field is our reading.
            return skipped("1002", "Missing value for the required parameter '" + lookup + "'");
        }
        if (!key_value.is_null()) {
            // The same key twice in one call: 1036 "Duplicate object found in input" is
            // documented for keyed syncs (companies, custom objects) [MK-ERR]; for leads Marketo
            // does not say. We skip the later record so a client never relies on intra-batch
            // ordering of two writes to one person.
            for (const auto& s : seen) {
                if (same_value(s, key_value)) {
                    return skipped("1036", "Duplicate object found in input");
                }
            }
            seen.push_back(key_value);
        }
        std::vector<std::int64_t> found;
        if (!key_value.is_null())
            found = matching(lookup, key_value);

        auto created = [&] {
            ojson r = ojson::object();
            r["id"] = create_person(values, target);
            r["status"] = "created";
            return r;
        };
        auto updated = [&](std::int64_t id) {
            json p = persons.at(id);
            for (const auto& [k, v] : values.items())
                p[k] = v;
            p["updatedAt"] = iso_seconds(now());
            put_person(id, std::move(p));
            ojson r = ojson::object();
            r["id"] = id;
            r["status"] = "updated";
            return r;
        };
        if (action == "createDuplicate")
            return created();
        if (action == "createOnly") {
            if (!found.empty())
                return skipped("1005", "Lead already exists");
            return created();
        }
        if (found.size() > 1)
            return skipped("1007", "Multiple leads match the lookup criteria");
        if (action == "updateOnly") {
            if (found.empty())
                return skipped("1004", "Lead not found");
            return updated(found.front());
        }
        if (!found.empty() && partition && partition_of[found.front()] != *partition) {
            // 1010 "Partition update not allowed": the person lives in another partition than
            // the one the call names [MK-ERR].
            return skipped("1010", "Partition update not allowed");
        }
        return found.empty() ? created() : updated(found.front());
    }

    // ---- custom objects [MK-CO]
    // ------------------------------------------------------------------

    static const mkto_field* find_in(const std::vector<mkto_field>& fields, std::string_view name) {
        for (const auto& f : fields) {
            if (f.name == name)
                return &f;
        }
        return nullptr;
    }

    reply sync_custom(const std::string& api_name, const http_request& req) {
        const auto type = custom.find(api_name);
        // An unknown apiName: the doc does not say; 610 "Requested resource not found" is the
        // documented answer to a URI that names nothing, and our choice.
        if (type == custom.end())
            return error("610");
        if (media_type(req) != "application/json")
            return error("612");
        const json body = json::parse(req.body(), nullptr, false);
        if (body.is_discarded() || !body.is_object())
            return error("609");
        if (!body.contains("input") || !body["input"].is_array() || body["input"].empty())
            return error("701", "input cannot be blank");
        const json& input = body["input"];
        if (input.size() > max_batch)
            return error("1003", "Invalid data: more than 300 records");
        // Defaults when omitted are unknown (api-reference §2.5): the lead sync's are taken.
        const std::string action = body.value("action", std::string("createOrUpdate"));
        const std::string dedupe_by = body.value("dedupeBy", std::string("dedupeFields"));
        if (action != "createOrUpdate" && action != "createOnly" && action != "updateOnly")
            return error("1003", "Invalid action '" + action + "'");
        if (dedupe_by != "dedupeFields" && dedupe_by != "idField")
            return error("1003", "Invalid dedupeBy '" + dedupe_by + "'");
        // "idField is only valid for the updateOnly action type, as this field is always system
        // managed" [MK-CO]; refusing the whole call is our choice of level.
        if (dedupe_by == "idField" && action != "updateOnly")
            return error("1003", "dedupeBy idField is only valid with updateOnly");

        ojson result = ojson::array();
        std::vector<std::string> seen;  // keys already handled in this call
        for (std::size_t i = 0; i < input.size(); ++i) {
            ojson r = sync_custom_one(type->second, input[i], action, dedupe_by == "idField", seen);
            ojson item = ojson::object();
            item["seq"] = i;
            for (auto& [k, v] : r.items())
                item[k] = v;
            result.push_back(std::move(item));
        }
        return ok(std::move(result));
    }

    ojson sync_custom_one(custom_type& type,
                          const json& rec,
                          const std::string& action,
                          bool by_id,
                          std::vector<std::string>& seen) {
        const auto& def = type.def;
        if (!rec.is_object())
            return skipped("1003", "Invalid data");
        json values = json::object();
        for (const auto& [key, value] : rec.items()) {
            if (key == "marketoGUID") {
                // System managed: only the idField mode's address [MK-CO].
                if (!by_id)
                    return skipped("1003", "Field 'marketoGUID' is read only");
                continue;
            }
            const mkto_field* f = find_in(def.fields, key);
            if (f == nullptr)
                return skipped("1006", "Field '" + key + "' not found");
            const check c = validate(*f, value);
            if (c.reason)
                return skipped(c.reason->first, c.reason->second);
            values[key] = *c.value;
        }
        // The record's identity: its marketoGUID, or its dedupe fields' values, every one of
        // which must be present [MK-CO]. The code for a missing one is not documented; 1002
        // "Missing value for the required parameter" is our reading.
        std::string key;
        if (by_id) {
            const auto g = rec.find("marketoGUID");
            if (g == rec.end() || !g->is_string() || g->get<std::string>().empty())
                return skipped("1002", "Missing value for the required parameter 'marketoGUID'");
            key = g->get<std::string>();
        } else {
            for (const auto& d : def.dedupe_fields) {
                const auto v = values.find(d);
                if (v == values.end() || v->is_null() ||
                    (v->is_string() && v->get<std::string>().empty())) {
                    return skipped("1002", "Missing value for the required parameter '" + d + "'");
                }
                key += to_lower(v->is_string() ? v->get<std::string>() : v->dump()) + '\x1f';
            }
        }
        // "Duplicate object found in input" (1036): the same key twice in one call [MK-ERR].
        if (std::find(seen.begin(), seen.end(), key) != seen.end())
            return skipped("1036", "Duplicate object found in input");
        seen.push_back(key);

        json* found = nullptr;
        for (auto& r : type.records) {
            if (by_id ? r["marketoGUID"] == key : custom_key(def, r) == key) {
                found = &r;
                break;
            }
        }
        ojson out = ojson::object();
        if (found) {
            if (action == "createOnly")
                return skipped("1017", "Object already exists");  // [MK-ERR] 1017
            for (const auto& [k, v] : values.items()) {
                // Dedupe fields are not updateable [MK-CO describe]: they identify the record
                // and stay as they are.
                if (std::find(def.dedupe_fields.begin(), def.dedupe_fields.end(), k) ==
                    def.dedupe_fields.end())
                    (*found)[k] = v;
            }
            (*found)["updatedAt"] = iso_seconds(now());
            out["status"] = "updated";
            out["marketoGUID"] = (*found)["marketoGUID"];
            return out;
        }
        if (action == "updateOnly") {
            // The documented sample answers an updateOnly miss with 1004 [MK-CO].
            return skipped("1004", "Lead not found");
        }
        json r = values;
        r["marketoGUID"] = random_uuid(rng);
        r["createdAt"] = iso_seconds(now());
        r["updatedAt"] = iso_seconds(now());
        type.records.push_back(r);
        out["status"] = "created";
        out["marketoGUID"] = r["marketoGUID"];
        return out;
    }

    static std::string custom_key(const mkto_custom_object& def, const json& record) {
        std::string key;
        for (const auto& d : def.dedupe_fields) {
            const auto v = record.find(d);
            if (v == record.end())
                return {};
            key += to_lower(v->is_string() ? v->get<std::string>() : v->dump()) + '\x1f';
        }
        return key;
    }

    // GET /rest/v1/customobjects/{apiName}.json?filterType=F&filterValues=..[&fields=]
    // [MK-CO Query]: F is a searchable field (one dedupe field, the link field) or idField for
    // marketoGUID; results carry seq, marketoGUID, the dedupe fields and the asked fields.
    // Paging and the compound-key POST form are not modelled.
    reply query_custom(const std::string& api_name, const params& p) {
        const auto type = custom.find(api_name);
        if (type == custom.end())
            return error("610");
        const auto& def = type->second.def;
        const auto filter_type = param(p, "filterType").value_or("");
        const auto filter_values = param(p, "filterValues").value_or("");
        if (filter_values.empty())
            return error("1002", "Missing value for the required parameter 'filterValues'");
        std::string field = filter_type == "idField" ? "marketoGUID" : filter_type;
        const bool searchable =
            field == "marketoGUID" || field == def.link_field ||
            (def.dedupe_fields.size() == 1 && def.dedupe_fields.front() == field);
        if (!searchable)
            return error("1003", "Invalid filterType '" + filter_type + "'");
        std::vector<std::string> values;
        for (std::size_t start = 0;;) {
            const auto comma = filter_values.find(',', start);
            values.push_back(filter_values.substr(start, comma - start));
            if (comma == std::string::npos)
                break;
            start = comma + 1;
        }
        std::vector<std::string> names;
        if (const auto f = param(p, "fields"); f && !f->empty()) {
            for (std::size_t start = 0;;) {
                const auto comma = f->find(',', start);
                std::string n = f->substr(start, comma - start);
                if (!n.empty() && n != "marketoGUID" && find_in(def.fields, n) == nullptr &&
                    n != "createdAt" && n != "updatedAt")
                    return error("1006", "Field '" + n + "' not found");
                if (!n.empty())
                    names.push_back(n);
                if (comma == std::string::npos)
                    break;
                start = comma + 1;
            }
        }
        for (const auto& d : def.dedupe_fields)
            names.push_back(d);
        ojson result = ojson::array();
        for (const auto& r : type->second.records) {
            const auto v = r.find(field);
            if (v == r.end())
                continue;
            if (std::none_of(values.begin(), values.end(), [&](const std::string& x) {
                    return same_value(*v, json(x));
                }))
                continue;
            ojson item = ojson::object();
            item["seq"] = result.size();
            item["marketoGUID"] = r["marketoGUID"];
            for (const auto& n : names) {
                const auto it = r.find(n);
                item[n] = it == r.end() ? ojson(nullptr) : ojson::parse(it->dump());
            }
            result.push_back(std::move(item));
        }
        return ok(std::move(result));
    }

    reply describe_custom(const std::string& api_name) {
        const auto type = custom.find(api_name);
        if (type == custom.end())
            return error("610");
        const auto& def = type->second.def;
        // Shape of api-fixtures/marketo/customobject_describe_response.json, with `relatedTo`
        // as the List sample and swagger spell it [MK-CO][MK-SWAGGER-MAPI].
        ojson d = ojson::object();
        d["name"] = def.api_name;
        d["displayName"] = def.display_name.empty() ? def.api_name : def.display_name;
        d["description"] = "";
        d["createdAt"] = "2026-01-05T09:00:00Z";
        d["updatedAt"] = "2026-01-05T09:00:00Z";
        d["idField"] = "marketoGUID";
        d["dedupeFields"] = def.dedupe_fields;
        ojson searchable = ojson::array();
        searchable.push_back(ojson(def.dedupe_fields));
        searchable.push_back(ojson::array({"marketoGUID"}));
        if (!def.link_field.empty())
            searchable.push_back(ojson::array({def.link_field}));
        d["searchableFields"] = searchable;
        ojson rel = ojson::array();
        if (!def.link_field.empty()) {
            ojson r = ojson::object();
            r["field"] = def.link_field;
            r["type"] = "parent";
            ojson to = ojson::object();
            to["name"] = "Lead";
            to["field"] = def.link_lead_field;
            r["relatedTo"] = to;
            rel.push_back(r);
        }
        d["relationships"] = rel;
        ojson fields = ojson::array();
        auto add = [&](const std::string& name,
                       const std::string& display,
                       const std::string& type,
                       int length,
                       bool updateable) {
            ojson f = ojson::object();
            f["name"] = name;
            f["displayName"] = display;
            f["dataType"] = type;
            if (length > 0)
                f["length"] = length;
            f["updateable"] = updateable;
            fields.push_back(f);
        };
        add("marketoGUID", "Marketo GUID", "string", 36, false);
        add("createdAt", "Created At", "datetime", 0, false);
        add("updatedAt", "Updated At", "datetime", 0, false);
        for (const auto& f : def.fields) {
            const bool dedupe =
                std::find(def.dedupe_fields.begin(), def.dedupe_fields.end(), f.name) !=
                def.dedupe_fields.end();
            add(f.name, f.display_name, f.data_type, f.length, !dedupe);
        }
        d["fields"] = fields;
        return ok(ojson::array({d}));
    }

    // ---- other lead endpoints -------------------------------------------------------------------

    ojson project(const json& person, const std::vector<std::string>& names) const {
        ojson r = ojson::object();
        r["id"] = person.at("id");
        for (const auto& n : names) {
            if (n == "id")
                continue;
            const auto it = person.find(n);
            r[n] = it == person.end() ? ojson(nullptr) : ojson::parse(it->dump());
        }
        return r;
    }

    std::optional<reply> field_list(const params& p, std::vector<std::string>& names) {
        names = {
            "email", "updatedAt", "createdAt", "firstName", "lastName"};  // defaults [MK-LEADS]
        const auto fields = param(p, "fields");
        if (!fields || fields->empty())
            return std::nullopt;
        names.clear();
        std::size_t start = 0;
        while (start <= fields->size()) {
            const auto comma = fields->find(',', start);
            std::string n = fields->substr(start, comma - start);
            if (!n.empty()) {
                if (field(n) == nullptr)
                    return error("1006", "Field '" + n + "' not found");
                names.push_back(n);
            }
            if (comma == std::string::npos)
                break;
            start = comma + 1;
        }
        return std::nullopt;
    }

    reply get_leads(const params& p) {
        const auto filter_type = param(p, "filterType");
        const auto filter_values = param(p, "filterValues");
        // Missing parameters: documented wording of 1002 [MK-ERR]; the level is our choice.
        if (!filter_type || filter_type->empty()) {
            return error("1002", "Missing value for the required parameter 'filterType'");
        }
        if (!filter_values || filter_values->empty()) {
            return error("1002", "Missing value for the required parameter 'filterValues'");
        }
        const mkto_field* f = field(*filter_type);
        if (f == nullptr)
            return error("1006", "Field '" + *filter_type + "' not found");
        if (!f->searchable)
            return error("1011", "Field '" + *filter_type + "' not supported");
        std::vector<std::string> values;
        std::size_t start = 0;
        for (;;) {
            const auto comma = filter_values->find(',', start);
            values.push_back(filter_values->substr(start, comma - start));
            if (comma == std::string::npos)
                break;
            start = comma + 1;
        }
        if (values.size() > max_batch) {
            return error("1003", "Invalid data: more than 300 filter values");
        }
        std::vector<std::string> names;
        if (auto e = field_list(p, names))
            return *e;
        std::set<std::int64_t> hit_ids;  // ascending, each person once
        for (const auto& v : values) {
            for (const auto id : matching(*filter_type, json(v)))
                hit_ids.insert(id);
        }
        std::vector<const json*> hits;
        for (const auto id : hit_ids)
            hits.push_back(&persons.at(id));
        if (hits.size() > 1000)
            return error("1003", "Too many results match the filter");
        std::size_t batch = max_batch;
        if (const auto b = param(p, "batchSize")) {
            try {
                batch = std::clamp<std::size_t>(std::stoul(*b), 1, max_batch);
            } catch (const std::exception&) {
            }
        }
        std::size_t offset = 0;
        if (const auto t = param(p, "nextPageToken")) {
            try {
                offset = std::stoul(t->substr(t->find('-') + 1));
            } catch (const std::exception&) {
                return error("1003", "Invalid data: nextPageToken");
            }
        }
        ojson result = ojson::array();
        for (std::size_t i = offset; i < hits.size() && i < offset + batch; ++i) {
            result.push_back(project(*hits[i], names));
        }
        if (offset + batch < hits.size()) {
            ojson extra = ojson::object();
            extra["moreResult"] = true;
            extra["nextPageToken"] = "FAKEPAGE-" + std::to_string(offset + batch);
            return ok(std::move(result), extra);
        }
        return ok(std::move(result));
    }

    reply get_lead(const std::string& id_text, const params& p) {
        std::vector<std::string> names;
        if (auto e = field_list(p, names))
            return *e;
        ojson result = ojson::array();
        const auto it = persons.find(std::stoll(id_text));
        if (it != persons.end())
            result.push_back(project(it->second, names));
        return ok(std::move(result));
    }

    reply delete_leads(const http_request& req) {
        if (media_type(req) != "application/json")
            return error("612");
        const json body = json::parse(req.body(), nullptr, false);
        if (body.is_discarded() || !body.is_object())
            return error("609");
        if (!body.contains("input") || !body["input"].is_array() || body["input"].empty()) {
            return error("701", "input cannot be blank");
        }
        if (body["input"].size() > max_batch) {
            return error("1003", "Invalid data: more than 300 records");
        }
        ojson result = ojson::array();
        for (const auto& rec : body["input"]) {
            if (!rec.is_object() || !rec.contains("id") || !rec["id"].is_number_integer()) {
                result.push_back(skipped("1003", "Invalid data"));
                continue;
            }
            const auto id = rec["id"].get<std::int64_t>();
            ojson r = ojson::object();
            r["id"] = id;
            partition_of.erase(id);
            if (drop_person(id)) {
                r["status"] = "deleted";
            } else {
                r["status"] = "skipped";
                r["reasons"] = ojson::array({reason("1004", "Lead not found")});
            }
            result.push_back(r);
        }
        return ok(std::move(result));
    }

    reply describe() {
        // Shape of api-fixtures/marketo/describe_leads_response.json [MK-LEADS].
        ojson result = ojson::array();
        int n = 1;
        for (const auto& f : schema) {
            ojson d = ojson::object();
            d["id"] = n++;
            d["displayName"] = f.display_name;
            d["dataType"] = f.data_type;
            if (f.length > 0)
                d["length"] = f.length;
            ojson rest = ojson::object();
            rest["name"] = f.name;
            rest["readOnly"] = f.read_only;
            d["rest"] = rest;
            ojson soap = ojson::object();
            soap["name"] = f.soap_name;
            soap["readOnly"] = f.read_only;
            d["soap"] = soap;
            result.push_back(d);
        }
        return ok(std::move(result));
    }

    reply describe2() {
        // Shape of api-fixtures/marketo/describe2_leads_response_rudder_mock.json.
        ojson searchable = ojson::array();
        ojson fields = ojson::array();
        for (const auto& f : schema) {
            if (f.searchable)
                searchable.push_back(ojson::array({f.name}));
            ojson d = ojson::object();
            d["name"] = f.name;
            d["displayName"] = f.display_name;
            d["dataType"] = f.data_type;
            if (f.length > 0)
                d["length"] = f.length;
            d["updateable"] = !f.read_only;
            d["crmManaged"] = false;
            fields.push_back(d);
        }
        ojson item = ojson::object();
        item["name"] = "API Lead";
        item["searchableFields"] = searchable;
        item["fields"] = fields;
        return ok(ojson::array({item}));
    }

    reply usage() {
        // Shape of api-fixtures/marketo/stats_usage_response.json: today's counted calls, this
        // call included, all attributed to the one API user.
        const std::int64_t total = daily[quota_day()];
        ojson user = ojson::object();
        user["userId"] = opt.scope;
        user["count"] = total;
        ojson day = ojson::object();
        day["date"] = quota_date();
        day["total"] = total;
        day["users"] = ojson::array({user});
        return ok(ojson::array({day}));
    }
};

// =================================================================================================

fake_marketo::fake_marketo(mkto_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {
    impl_->server = std::make_unique<testing::loopback_server>(
        [p = impl_.get()](const http_request& req) { return p->handle(req); }, impl_->opt.port);
}

fake_marketo::~fake_marketo() {
    impl_->server.reset();
}

std::string fake_marketo::base_url() const {
    return impl_->server->base_url();
}
unsigned short fake_marketo::port() const {
    return impl_->server->port();
}
const mkto_options& fake_marketo::options() const {
    return impl_->opt;
}

void fake_marketo::add_field(mkto_field f) {
    std::lock_guard lock(impl_->mu);
    if (impl_->field(f.name) != nullptr) {
        throw std::invalid_argument("fake_marketo: field exists: " + f.name);
    }
    impl_->schema.push_back(normalized(std::move(f)));
}

void fake_marketo::remove_field(const std::string& name) {
    std::lock_guard lock(impl_->mu);
    const auto it = std::find_if(impl_->schema.begin(),
                                 impl_->schema.end(),
                                 [&](const mkto_field& f) { return f.name == name; });
    if (it == impl_->schema.end())
        throw std::invalid_argument("fake_marketo: no field " + name);
    impl_->schema.erase(it);
    for (auto& [id, p] : impl_->persons)
        p.erase(name);
    impl_->by_value.erase(name);
}

std::vector<mkto_field> fake_marketo::fields() const {
    std::lock_guard lock(impl_->mu);
    return impl_->schema;
}

std::vector<nlohmann::json> fake_marketo::leads() const {
    std::lock_guard lock(impl_->mu);
    std::vector<nlohmann::json> out;
    for (const auto& [id, p] : impl_->persons)
        out.push_back(p);
    return out;
}

std::vector<nlohmann::json> fake_marketo::find(const std::string& field,
                                               const nlohmann::json& value) const {
    std::lock_guard lock(impl_->mu);
    std::vector<nlohmann::json> out;
    for (const auto id : impl_->matching(field, value))
        out.push_back(impl_->persons.at(id));
    return out;
}

std::optional<nlohmann::json> fake_marketo::lead(std::int64_t id) const {
    std::lock_guard lock(impl_->mu);
    const auto it = impl_->persons.find(id);
    if (it == impl_->persons.end())
        return std::nullopt;
    return it->second;
}

std::int64_t fake_marketo::add_person(const nlohmann::json& person, const std::string& partition) {
    std::lock_guard lock(impl_->mu);
    nlohmann::json values = person;
    values.erase("id");
    impl_->partitions.insert(partition);
    return impl_->create_person(values, partition).get<std::int64_t>();
}

void fake_marketo::add_partition(const std::string& name) {
    std::lock_guard lock(impl_->mu);
    impl_->partitions.insert(name);
}

void fake_marketo::set_api_partitions(std::set<std::string> writable) {
    std::lock_guard lock(impl_->mu);
    impl_->api_partitions = std::move(writable);
}

std::string fake_marketo::partition_of(std::int64_t id) const {
    std::lock_guard lock(impl_->mu);
    const auto it = impl_->partition_of.find(id);
    return it == impl_->partition_of.end() ? std::string{} : it->second;
}

void fake_marketo::add_custom_object(mkto_custom_object type) {
    std::lock_guard lock(impl_->mu);
    for (auto& f : type.fields)
        f = normalized(std::move(f));
    for (const auto& d : type.dedupe_fields) {
        if (impl::find_in(type.fields, d) == nullptr)
            throw std::invalid_argument("fake_marketo: dedupe field is not a field: " + d);
    }
    if (!type.link_field.empty() && impl::find_in(type.fields, type.link_field) == nullptr)
        throw std::invalid_argument("fake_marketo: link field is not a field: " + type.link_field);
    const auto name = type.api_name;
    impl_->custom[name].def = std::move(type);
}

std::vector<nlohmann::json> fake_marketo::custom_records(const std::string& api_name) const {
    std::lock_guard lock(impl_->mu);
    const auto it = impl_->custom.find(api_name);
    return it == impl_->custom.end() ? std::vector<nlohmann::json>{} : it->second.records;
}

void fake_marketo::add_custom_record(const std::string& api_name, nlohmann::json record) {
    std::lock_guard lock(impl_->mu);
    const auto it = impl_->custom.find(api_name);
    if (it == impl_->custom.end())
        throw std::invalid_argument("fake_marketo: no custom object " + api_name);
    record["marketoGUID"] = random_uuid(impl_->rng);
    record["createdAt"] = iso_seconds(impl_->now());
    record["updatedAt"] = iso_seconds(impl_->now());
    it->second.records.push_back(std::move(record));
}

std::optional<nlohmann::json> fake_marketo::linked_person(const std::string& api_name,
                                                          const nlohmann::json& record) const {
    std::lock_guard lock(impl_->mu);
    const auto it = impl_->custom.find(api_name);
    if (it == impl_->custom.end() || it->second.def.link_field.empty())
        return std::nullopt;
    const auto v = record.find(it->second.def.link_field);
    if (v == record.end())
        return std::nullopt;
    const auto ids = impl_->matching(it->second.def.link_lead_field, *v);
    if (ids.size() != 1)
        return std::nullopt;
    return impl_->persons.at(ids.front());
}

std::vector<nlohmann::json> fake_marketo::custom_push_calls(const std::string& api_name) const {
    std::lock_guard lock(impl_->mu);
    const auto it = impl_->custom.find(api_name);
    return it == impl_->custom.end() ? impl_->unknown_custom_pushes : it->second.pushes;
}

std::vector<nlohmann::json> fake_marketo::push_calls() const {
    std::lock_guard lock(impl_->mu);
    return impl_->pushes;
}

int fake_marketo::calls_in_window() const {
    std::lock_guard lock(impl_->mu);
    const auto horizon = impl_->now() - impl_->opt.limits.window;
    return static_cast<int>(std::count_if(
        impl_->window.begin(), impl_->window.end(), [&](sys_ms t) { return t > horizon; }));
}

int fake_marketo::peak_calls_in_window() const {
    std::lock_guard lock(impl_->mu);
    return impl_->peak_window;
}

int fake_marketo::peak_concurrency() const {
    std::lock_guard lock(impl_->mu);
    return impl_->peak_in_flight;
}

std::int64_t fake_marketo::calls_today() const {
    std::lock_guard lock(impl_->mu);
    const auto it = impl_->daily.find(impl_->quota_day());
    return it == impl_->daily.end() ? 0 : it->second;
}

std::map<std::string, int> fake_marketo::errors_sent() const {
    std::lock_guard lock(impl_->mu);
    return impl_->errors_sent;
}

void fake_marketo::set_limits(mkto_limits limits) {
    std::lock_guard lock(impl_->mu);
    impl_->opt.limits = limits;
}

void fake_marketo::set_latency(std::chrono::milliseconds latency) {
    std::lock_guard lock(impl_->mu);
    impl_->opt.latency = latency;
}

void fake_marketo::set_calls_today(std::int64_t n) {
    std::lock_guard lock(impl_->mu);
    impl_->daily[impl_->quota_day()] = n;
}

void fake_marketo::set_clock(clock_fn clock) {
    std::lock_guard lock(impl_->mu);
    impl_->opt.clock = clock ? std::move(clock) : clock_fn(system_now);
}

std::vector<std::string> fake_marketo::issued_tokens() const {
    std::lock_guard lock(impl_->mu);
    std::vector<std::string> out;
    for (const auto& [t, info] : impl_->tokens)
        out.push_back(t);
    return out;
}

void fake_marketo::expire_tokens() {
    std::lock_guard lock(impl_->mu);
    for (auto& [t, info] : impl_->tokens)
        info.revoked = true;
}

std::string fake_marketo::issue_token() {
    std::lock_guard lock(impl_->mu);
    return impl_->token_for(impl_->opt.client_id);
}

void fake_marketo::fail_next(std::string path_prefix, std::vector<fault_spec> faults) {
    impl_->faults.fail_next(std::move(path_prefix), std::move(faults));
}

void fake_marketo::clear_faults() {
    impl_->faults.clear();
}

std::size_t fake_marketo::pending_faults() const {
    return impl_->faults.pending();
}

}  // namespace crmsync::fakes
