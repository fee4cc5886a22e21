#include "crmsync/core/clock.hpp"
#include "crmsync/core/timestamp.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "fake_http.hpp"
#include "fakes.hpp"
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <unordered_map>
#include <unordered_set>

namespace crmsync::bench {
namespace {

namespace http = boost::beast::http;
namespace bj = boost::json;
using testing::http_request;
using testing::reply;
using namespace crmsync::fakes;
using steady = std::chrono::steady_clock;

constexpr const char* json_type = "application/json;charset=UTF-8";
constexpr std::size_t max_batch = 300;         // Lead DB batch [MK-LEADS]
constexpr std::size_t max_body = 1024 * 1024;  // 1 MB -> 413 [MK-ERR]
constexpr std::size_t max_uri = 8 * 1024;      // 8 KB -> 414 [MK-ERR]
constexpr std::chrono::seconds window_length{20};

struct lead_field {
    std::string_view name;
    std::string_view type;  // string, email, phone, text, integer, float, boolean, date, datetime
    std::string_view display;
    bool searchable = false;
    bool read_only = false;
};

// Standard Marketo person fields plus the custom ones the benchmark mapping writes.
constexpr std::array<lead_field, 23> lead_fields{{
    {"id", "integer", "Id", true, true},
    {"email", "email", "Email Address", true},
    {"sfdcContactId", "string", "SFDC Contact ID", true},
    {"salutation", "string", "Salutation"},
    {"firstName", "string", "First Name"},
    {"lastName", "string", "Last Name"},
    {"title", "string", "Job Title"},
    {"phone", "phone", "Phone Number"},
    {"mobilePhone", "phone", "Mobile Phone Number"},
    {"address", "text", "Address"},
    {"city", "string", "City"},
    {"postalCode", "string", "Postal Code"},
    {"country", "string", "Country"},
    {"company", "string", "Company Name"},
    {"department", "string", "Department"},
    {"dateOfBirth", "date", "Date of Birth"},
    {"leadSource", "string", "Lead Source"},
    {"unsubscribed", "boolean", "Unsubscribed"},
    {"crmLeadScore", "float", "CRM Lead Score"},
    {"fullName", "string", "Full Name"},
    {"crmCreatedAt", "datetime", "CRM Created At"},
    {"createdAt", "datetime", "Created At", false, true},
    {"updatedAt", "datetime", "Updated At", false, true},
}};

const lead_field* find_lead_field(std::string_view name) {
    for (const auto& f : lead_fields) {
        if (f.name == name)
            return &f;  // REST names are case-sensitive
    }
    return nullptr;
}

bool has_length(std::string_view type) {
    return type == "string" || type == "email" || type == "phone";
}

std::size_t utf8_length(std::string_view s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// local@domain.tld, ASCII, no spaces [MK-LEADS] (the rules fake_marketo checks by regex).
bool valid_email(std::string_view e) {
    const auto at = e.find('@');
    if (at == 0 || at == std::string_view::npos || e.find('@', at + 1) != std::string_view::npos)
        return false;
    if (e.front() == '.' || e.find("..") != std::string_view::npos)
        return false;
    const auto domain = e.substr(at + 1);
    const auto dot = domain.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || domain.size() - dot - 1 < 2)
        return false;
    return std::all_of(e.begin(), e.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c > 0x20 && c < 0x7f;
    });
}

bool digits(std::string_view s, bool fraction) {
    if (!s.empty() && s.front() == '-')
        s.remove_prefix(1);
    bool dot = false;
    if (s.empty())
        return false;
    for (char c : s) {
        if (c == '.' && fraction && !dot) {
            dot = true;
            continue;
        }
        if (c < '0' || c > '9')
            return false;
    }
    return s.back() != '.';
}

// A bad value gets record-level 1003 "Invalid value for field" (what fake_marketo answers).
bool valid_value(const lead_field& f, const bj::value& v) {
    if (v.is_null())
        return true;
    const std::string_view t = f.type;
    if (t == "integer")
        return v.is_int64() || v.is_uint64() || (v.is_string() && digits(v.get_string(), false));
    if (t == "float")
        return v.is_number() || (v.is_string() && digits(v.get_string(), true));
    if (t == "boolean") {
        if (v.is_bool())
            return true;
        if (v.is_string())
            return iequals(v.get_string(), "true") || iequals(v.get_string(), "false");
        return v.is_int64() && (v.get_int64() == 0 || v.get_int64() == 1);
    }
    if (t == "date")
        return v.is_string() && v.get_string().size() == 10 && timestamp::parse(v.get_string());
    if (t == "datetime")
        return v.is_string() && timestamp::parse(v.get_string()).has_value();
    if (!v.is_string())
        return v.is_number() || v.is_bool();
    const std::string_view s = v.get_string();
    if (t == "email" && !s.empty() && !valid_email(s))
        return false;
    return !has_length(t) || utf8_length(s) <= 255;
}

// The text a lookup compares: strings case-insensitively, as Marketo's dedupe does.
std::string lookup_text(const bj::value& v) {
    if (v.is_string())
        return to_lower(v.get_string());
    if (v.is_int64())
        return std::to_string(v.get_int64());
    if (v.is_uint64())
        return std::to_string(v.get_uint64());
    if (v.is_double()) {
        const double d = v.get_double();
        if (std::floor(d) == d)
            return std::to_string(static_cast<std::int64_t>(d));
    }
    return bj::serialize(v);
}

void append_string(std::string& out, std::string_view s) {
    append_json_string(out, s);
}

}  // namespace

struct fake_mkto::impl {
    mkto_settings cfg;
    std::mt19937_64 rng{std::random_device{}()};
    const steady::time_point started = steady::now();
    std::string token;
    steady::time_point token_expires{};
    // 64-bit hash of (lookup field, lookup value) -> person id: a million persons in ~40 MB.
    std::unordered_map<std::uint64_t, std::int64_t> persons;
    std::int64_t next_id = 1001;
    std::uint64_t request_seq = 0x1a2b;
    std::deque<steady::time_point> window;
    int in_flight = 0;
    int peak_in_flight = 0;
    int peak_window = 0;
    std::int64_t calls_today = 0;
    std::map<std::string, std::int64_t> errors;
    std::int64_t sync_calls = 0;
    std::int64_t created = 0;
    std::int64_t updated = 0;
    std::int64_t skipped = 0;
    std::int64_t body_bytes = 0;
    // Accepted Sync Leads calls: (ms since start, records), for the quota-ceiling share.
    std::vector<std::pair<std::int64_t, std::int64_t>> accepted;

    explicit impl(mkto_settings s) : cfg(std::move(s)) {}

    std::int64_t ms_since_start(steady::time_point t) const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(t - started).count();
    }

    std::string request_id() {
        return fmt::format("{:x}#{:x}", ++request_seq, ms_since_start(steady::now()));
    }

    reply ok(std::string result) {
        std::string body = "{\"requestId\":\"" + request_id() + "\",\"result\":";
        body += result;
        body += ",\"success\":true}";
        return testing::make_reply(200, std::move(body), json_type);
    }

    // Response-level errors: HTTP 200, success false, code a quoted integer [MK-ERR].
    reply error(const std::string& code, std::string_view message) {
        ++errors[code];
        std::string body =
            "{\"requestId\":\"" + request_id() + "\",\"success\":false,\"errors\":[{\"code\":";
        append_string(body, code);
        body += ",\"message\":";
        append_string(body, message);
        body += "}]}";
        return testing::make_reply(200, std::move(body), json_type);
    }

    // ---- identity [MK-AUTH] ---------------------------------------------------------------------

    reply identity(const http_request& req, const std::string& query) {
        if (req.method() != http::verb::get && req.method() != http::verb::post)
            return testing::make_reply(405, "", "text/html");
        params p = parse_params(query);
        if (req.method() == http::verb::post &&
            media_type(req) == "application/x-www-form-urlencoded") {
            for (auto& kv : parse_params(req.body()))
                p.insert(kv);
        }
        if (param(p, "client_id") != cfg.client_id ||
            param(p, "client_secret") != cfg.client_secret) {
            return testing::make_reply(
                401,
                R"({"error":"invalid_client","error_description":"Bad client credentials"})",
                json_type);
        }
        if (param(p, "grant_type") != "client_credentials") {
            return testing::make_reply(
                400,
                R"({"error":"unsupported_grant_type","error_description":"Unsupported grant type"})",
                json_type);
        }
        const auto now = steady::now();
        if (token.empty() || token_expires <= now) {
            // "<uuid>:<pod>"; the same token until it expires [MK-AUTH].
            token = random_uuid(rng) + ":bn";
            token_expires = now + std::chrono::seconds(3600);
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::seconds>(token_expires - now).count();
        reply r = testing::make_reply(
            200,
            fmt::format(
                R"({{"access_token":"{}","token_type":"bearer","expires_in":{},"scope":"apis@bench"}})",
                token,
                std::max<std::int64_t>(0, left - 1)),
            json_type);
        r.res.set(http::field::cache_control, "no-store");
        return r;
    }

    // ---- routing --------------------------------------------------------------------------------

    reply handle(const http_request& req) {
        const auto [path, query] = split_target(req.target());
        if (path == "/identity/oauth/token")
            return identity(req, query);
        if (path == "/bench/stats")
            return stats();
        if (!path.starts_with("/rest/"))
            return testing::make_reply(404, "", "text/html");
        // HTTP-level limits come first: the request never reaches the API [MK-ERR].
        if (req.target().size() > max_uri)
            return testing::make_reply(414, "Request-URI Too Long", "text/html");
        if (req.body().size() > max_body)
            return testing::make_reply(413, "Request Entity Too Large", "text/html");
        const auto bearer = bearer_token(req);
        if (!bearer || *bearer != token)
            return error("601", "Access token invalid");
        if (token_expires <= steady::now())
            return error("602", "Access token expired");

        const bool get = req.method() == http::verb::get;
        const bool post = req.method() == http::verb::post;
        enum class ep { sync, describe, describe2, usage, none } e = ep::none;
        if (path == "/rest/v1/leads.json") {
            if (!post)
                return error("605", "HTTP Method not supported");
            e = ep::sync;
        } else if (path == "/rest/v1/leads/describe.json" ||
                   path == "/rest/v1/leads/describe2.json" || path == "/rest/v1/stats/usage.json") {
            if (!get)
                return error("605", "HTTP Method not supported");
            e = path.ends_with("describe.json")    ? ep::describe
                : path.ends_with("describe2.json") ? ep::describe2
                                                   : ep::usage;
        }
        // 601/602/605 are not counted; every other answer is, including 606/607/615 [MK-ERR].
        if (cfg.limits) {
            if (auto refused = admit())
                return *refused;
        }
        ++calls_today;
        ++in_flight;
        peak_in_flight = std::max(peak_in_flight, in_flight);
        reply r;
        switch (e) {
            case ep::sync:
                r = sync(req);
                r.delay = cfg.latency;
                break;
            case ep::describe:
                r = describe();
                break;
            case ep::describe2:
                r = describe2();
                break;
            case ep::usage:
                r = usage();
                break;
            case ep::none:
                r = error("610", "Requested resource not found");
                break;
        }
        r.on_done = [this] { --in_flight; };
        return r;
    }

    std::optional<reply> admit() {
        const auto t = steady::now();
        while (!window.empty() && window.front() <= t - window_length)
            window.pop_front();
        std::optional<reply> refused;
        if (calls_today >= cfg.daily_quota) {
            refused = error("607", "Daily quota reached");
        } else if (static_cast<int>(window.size()) >= cfg.calls_per_20s) {
            refused = error(
                "606",
                fmt::format("Max rate limit '{}' exceeded with in '20' secs", cfg.calls_per_20s));
        } else if (in_flight >= cfg.max_concurrency) {
            refused = error("615", "Concurrent access limit reached");
        }
        window.push_back(t);
        peak_window = std::max(peak_window, static_cast<int>(window.size()));
        if (refused)
            ++calls_today;
        return refused;
    }

    // ---- Sync Leads [MK-LEADS] ------------------------------------------------------------------

    reply sync(const http_request& req) {
        if (media_type(req) != "application/json")
            return error("612", "Invalid Content Type");
        body_bytes += static_cast<std::int64_t>(req.body().size());
        // One arena per call: parsing a 300-record body allocates nothing else.
        bj::monotonic_resource arena;
        boost::system::error_code ec;
        const bj::value body = bj::parse(req.body(), ec, &arena);
        if (ec || !body.is_object())
            return error("609", "Invalid JSON");
        const auto& o = body.get_object();
        const auto* input = o.if_contains("input");
        if (!input || !input->is_array() || input->get_array().empty())
            return error("701", "input cannot be blank");
        if (input->get_array().size() > max_batch)
            return error("1003", "Invalid data: more than 300 records");
        std::string action = "createOrUpdate";
        if (const auto* a = o.if_contains("action"); a && a->is_string())
            action = a->get_string();
        if (action != "createOrUpdate" && action != "createOnly" && action != "updateOnly" &&
            action != "createDuplicate") {
            return error("1003", "Invalid action '" + action + "'");
        }
        std::string lookup = "email";
        if (const auto* l = o.if_contains("lookupField"); l && l->is_string())
            lookup = l->get_string();
        const lead_field* lookup_field = find_lead_field(lookup);

        std::string result = "[";
        std::unordered_set<std::uint64_t> seen;
        const auto& records = input->get_array();
        for (std::size_t k = 0; k < records.size(); ++k) {
            if (k != 0)
                result += ',';
            sync_one(records[k], action, lookup, lookup_field, seen, result);
        }
        result += ']';
        ++sync_calls;
        accepted.emplace_back(ms_since_start(steady::now()),
                              static_cast<std::int64_t>(records.size()));
        return ok(std::move(result));
    }

    void skip(std::string& out, std::string_view code, std::string_view message) {
        ++skipped;
        out += R"({"status":"skipped","reasons":[{"code":)";
        append_string(out, code);
        out += ",\"message\":";
        append_string(out, message);
        out += "}]}";
    }

    void sync_one(const bj::value& rec,
                  const std::string& action,
                  const std::string& lookup,
                  const lead_field* lookup_field,
                  std::unordered_set<std::uint64_t>& seen,
                  std::string& out) {
        if (!rec.is_object())
            return skip(out, "1003", "Invalid data");
        if (action != "createDuplicate") {
            if (!lookup_field)
                return skip(out, "1006", "Field '" + lookup + "' not found");
            if (!lookup_field->searchable)
                return skip(out, "1011", "Field '" + lookup + "' not supported");
        }
        for (const auto& [key, v] : rec.get_object()) {
            const lead_field* f = find_lead_field(key);
            if (!f)
                return skip(
                    out, "1006", fmt::format("Field '{}' not found", std::string_view(key)));
            if (f->read_only)
                return skip(
                    out, "1003", fmt::format("Field '{}' is read only", std::string_view(key)));
            if (!valid_value(*f, v)) {
                return skip(out,
                            "1003",
                            fmt::format("Invalid value for field '{}'", std::string_view(key)));
            }
        }
        std::optional<std::uint64_t> key;
        if (action != "createDuplicate") {
            const auto* v = rec.get_object().if_contains(lookup);
            if (v && !v->is_null() && !(v->is_string() && v->get_string().empty()))
                key = std::hash<std::string>{}(lookup + '\0' + lookup_text(*v));
        }
        const bool needs_lookup = action == "createOrUpdate" || action == "updateOnly";
        if (needs_lookup && !key)
            return skip(out, "1002", "Missing value for the required parameter '" + lookup + "'");
        if (key && !seen.insert(*key).second)
            return skip(out, "1036", "Duplicate object found in input");
        const auto found = key ? persons.find(*key) : persons.end();
        auto created_now = [&] {
            const std::int64_t id = next_id++;
            if (key)
                persons.emplace(*key, id);
            ++created;
            fmt::format_to(std::back_inserter(out), R"({{"id":{},"status":"created"}})", id);
        };
        if (action == "createDuplicate")
            return created_now();
        if (action == "createOnly") {
            if (found != persons.end())
                return skip(out, "1005", "Lead already exists");
            return created_now();
        }
        if (found == persons.end()) {
            if (action == "updateOnly")
                return skip(out, "1004", "Lead not found");
            return created_now();
        }
        ++updated;
        fmt::format_to(std::back_inserter(out), R"({{"id":{},"status":"updated"}})", found->second);
    }

    // ---- describe, usage ------------------------------------------------------------------------

    reply describe() {
        // [MK-LEADS] describe.json: id, displayName, dataType, length, rest, soap.
        std::string result = "[";
        int n = 0;
        for (const auto& f : lead_fields) {
            if (n != 0)
                result += ',';
            std::string soap(f.name);
            soap[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(soap[0])));
            fmt::format_to(
                std::back_inserter(result),
                R"({{"id":{},"displayName":"{}","dataType":"{}",{}"rest":{{"name":"{}","readOnly":{}}},"soap":{{"name":"{}","readOnly":{}}}}})",
                ++n,
                f.display,
                f.type,
                has_length(f.type) ? "\"length\":255," : "",
                f.name,
                f.read_only,
                soap,
                f.read_only);
        }
        result += ']';
        return ok(std::move(result));
    }

    reply describe2() {
        // [MK-SWAGGER-MAPI] describe2.json: searchableFields and fields of the "API Lead".
        std::string searchable;
        std::string fields;
        for (const auto& f : lead_fields) {
            if (f.searchable) {
                searchable += searchable.empty() ? "" : ",";
                fmt::format_to(std::back_inserter(searchable), "[\"{}\"]", f.name);
            }
            fields += fields.empty() ? "" : ",";
            fmt::format_to(
                std::back_inserter(fields),
                R"({{"name":"{}","displayName":"{}","dataType":"{}",{}"updateable":{},"crmManaged":false}})",
                f.name,
                f.display,
                f.type,
                has_length(f.type) ? "\"length\":255," : "",
                !f.read_only);
        }
        return ok(fmt::format(R"([{{"name":"API Lead","searchableFields":[{}],"fields":[{}]}}])",
                              searchable,
                              fields));
    }

    reply usage() {
        // [MK-USAGE] stats/usage.json: today's calls by API user.
        const std::string date = timestamp{system_now()}.to_iso().substr(0, 10);
        return ok(fmt::format(
            R"([{{"date":"{}","total":{},"users":[{{"userId":"apis@bench","count":{}}}]}}])",
            date,
            calls_today,
            calls_today));
    }

    // ---- bench counters -------------------------------------------------------------------------

    reply stats() const {
        // The quota-ceiling share: over [first call, first call + D), D whole 20 s windows,
        // no client can have more than calls_per_20s calls per window accepted.
        std::int64_t span_ms = 0;
        std::int64_t in_span = 0;
        std::int64_t calls_in_span = 0;
        if (!accepted.empty()) {
            const std::int64_t first = accepted.front().first;
            const std::int64_t last = accepted.back().first;
            const std::int64_t w = std::chrono::milliseconds(window_length).count();
            span_ms = (last - first) / w * w;
            for (const auto& [t, n] : accepted) {
                if (t < first + span_ms) {
                    in_span += n;
                    ++calls_in_span;
                }
            }
        }
        std::string errs;
        for (const auto& [code, n] : errors)
            errs += fmt::format(",\"error_{}\":{}", code, n);
        const std::int64_t ceiling = span_ms / 20000 * cfg.calls_per_20s * 300;
        return testing::make_reply(
            200,
            fmt::format("{{\"sync_calls\":{},\"created\":{},\"updated\":{},\"skipped\":{},"
                        "\"persons\":{},\"body_bytes\":{},\"peak_window\":{},"
                        "\"peak_concurrency\":{},\"first_call_ms\":{},\"last_call_ms\":{},"
                        "\"span_ms\":{},\"span_calls\":{},\"span_records\":{},"
                        "\"span_ceiling_records\":{}{}}}",
                        sync_calls,
                        created,
                        updated,
                        skipped,
                        persons.size(),
                        body_bytes,
                        peak_window,
                        peak_in_flight,
                        accepted.empty() ? 0 : accepted.front().first,
                        accepted.empty() ? 0 : accepted.back().first,
                        span_ms,
                        calls_in_span,
                        in_span,
                        ceiling,
                        errs),
            json_type);
    }
};

fake_mkto::fake_mkto(mkto_settings s) : impl_(std::make_unique<impl>(std::move(s))) {}
fake_mkto::~fake_mkto() = default;

testing::reply fake_mkto::handle(const testing::http_request& req) {
    return impl_->handle(req);
}

}  // namespace crmsync::bench
