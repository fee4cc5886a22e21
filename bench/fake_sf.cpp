#include "crmsync/core/timestamp.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "fake_http.hpp"
#include "fakes.hpp"
#include "soql.hpp"
#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <set>

namespace crmsync::bench {
namespace {

namespace http = boost::beast::http;
using testing::http_request;
using testing::reply;
using namespace crmsync::fakes;

constexpr const char* json_type = "application/json;charset=UTF-8";
constexpr std::size_t max_open_cursors = 10;  // per user, as fake_salesforce

reply json_reply(unsigned status, std::string body) {
    return testing::make_reply(status, std::move(body), json_type);
}

// [{"message": ..., "errorCode": ...}] [SF-ERR]
reply sf_error(unsigned status, std::string_view code, std::string_view message) {
    std::string body = "[{\"message\":";
    append_json_string(body, message);
    body += ",\"errorCode\":";
    append_json_string(body, code);
    body += "}]";
    return json_reply(status, std::move(body));
}

reply oauth_error(std::string_view error, std::string_view description) {
    std::string body = "{\"error\":";
    append_json_string(body, error);
    body += ",\"error_description\":";
    append_json_string(body, description);
    body += '}';
    return json_reply(400, std::move(body));
}

bool is_text(std::string_view type) {
    return type != "boolean" && type != "double" && type != "date" && type != "datetime";
}

// The literal type a filter on a field of this type needs, as Salesforce names it.
std::string_view literal_type(std::string_view type) {
    if (type == "datetime")
        return "dateTime";
    if (type == "date" || type == "boolean" || type == "double")
        return type;
    return "string";
}

bool literal_fits(std::string_view type, const soql::literal& v) {
    using lt = soql::literal::type;
    if (v.kind == lt::null)
        return true;
    if (type == "datetime")
        return v.kind == lt::datetime;
    if (type == "date")
        return v.kind == lt::date;
    if (type == "boolean")
        return v.kind == lt::boolean;
    if (type == "double")
        return v.kind == lt::number;
    return v.kind == lt::string;
}

// One WHERE comparison, resolved against the bench schema.
struct condition {
    soql::expr::kind what = soql::expr::kind::compare;
    contact_field field{};
    std::string_view type;
    soql::op oper = soql::op::eq;
    std::vector<soql::literal> values;
    std::vector<condition> children;
};

int compare(const cell& c, std::string_view type, const soql::literal& v) {
    using namespace std::chrono;
    if (type == "datetime") {
        // Whole seconds on both sides [SFSE-234824].
        const auto a = floor<seconds>(milliseconds(c.ms)).count();
        const auto b = floor<seconds>(v.at.time_since_epoch()).count();
        return a < b ? -1 : (a > b ? 1 : 0);
    }
    if (type == "date") {
        const std::string b = timestamp{v.at}.to_iso().substr(0, 10);
        return c.text.compare(b) < 0 ? -1 : (c.text.compare(b) > 0 ? 1 : 0);
    }
    if (type == "boolean") {
        const bool a = c.text == "true";
        return a == v.boolean ? 0 : (a ? 1 : -1);
    }
    if (type == "double") {
        const double a = std::stod(c.text);
        return a < v.number ? -1 : (a > v.number ? 1 : 0);
    }
    if (type == "id" || type == "reference")
        return c.text.substr(0, 15).compare(v.text.substr(0, 15));
    // Text comparisons are case-insensitive in SOQL.
    const auto r = to_lower(c.text).compare(to_lower(v.text));
    return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

}  // namespace

struct fake_sf::impl {
    struct cursor {
        std::vector<std::uint32_t> rows;  // record indices, in result order
        std::vector<contact_field> select;
        std::size_t page = 2000;
    };

    sf_settings cfg;
    contact_org org;
    std::string base_url;
    std::mt19937_64 rng{std::random_device{}()};
    std::set<std::string> tokens;
    std::map<std::string, cursor> cursors;
    std::deque<std::string> cursor_order;
    std::int64_t api_calls = 0;
    std::int64_t queries = 0;
    std::int64_t pages = 0;
    std::int64_t records_served = 0;
    std::int64_t body_bytes = 0;

    explicit impl(sf_settings s) : cfg(std::move(s)), org(cfg.records) {}

    std::string random_text(std::string prefix, int n) {
        static constexpr char alnum[] =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        for (int i = 0; i < n; ++i)
            prefix.push_back(alnum[rng() % 62]);
        return prefix;
    }

    // ---- auth [SF-TOKEN-CC][SF-USERPW] ----------------------------------------------------------

    reply token(const http_request& req) {
        if (req.method() != http::verb::post)
            return oauth_error("invalid_request", "must use HTTP POST");
        const params form = parse_params(req.body());
        const auto grant = param(form, "grant_type");
        if (!grant || grant->empty())
            return oauth_error("invalid_request", "grant type is missing");
        if (param(form, "client_id") != cfg.client_id)
            return oauth_error("invalid_client_id", "client identifier invalid");
        if (param(form, "client_secret") != cfg.client_secret)
            return oauth_error("invalid_client", "invalid client credentials");
        if (*grant == "password") {
            if (param(form, "username") != cfg.username ||
                param(form, "password") != cfg.password) {
                return oauth_error("invalid_grant", "authentication failure");
            }
        } else if (*grant != "client_credentials") {
            return oauth_error("unsupported_grant_type", "grant type not supported");
        }
        const std::string t = random_text("00D5g00000BENCHEAA!AQ", 94);
        tokens.insert(t);
        // Field set of api-fixtures/salesforce/oauth_token_response_password_flow.json; `id`
        // ends in /<org id>/<user id>, which jsforce splits for its userInfo.
        const auto issued = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        std::string body = "{\"access_token\":";
        append_json_string(body, t);
        fmt::format_to(std::back_inserter(body),
                       ",\"instance_url\":\"{0}\",\"id\":\"{0}/id/00D5g00000BENCHEAA/"
                       "0055g00000BENCHAAA\",\"token_type\":\"Bearer\",\"issued_at\":\"{1}\","
                       "\"signature\":\"YmVuY2gtc2lnbmF0dXJl\",\"scope\":\"api\"}}",
                       base_url,
                       issued);
        return json_reply(200, std::move(body));
    }

    // ---- routing --------------------------------------------------------------------------------

    reply handle(const http_request& req) {
        const auto [path, query] = split_target(req.target());
        if (path == "/services/oauth2/token")
            return token(req);
        if (path == "/bench/stats")
            return stats();
        constexpr std::string_view api = "/services/data/v";
        if (!path.starts_with(api))
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist");
        const auto slash = path.find('/', api.size());
        const std::string version = path.substr(api.size(), slash - api.size());
        const std::string rest = slash == std::string::npos ? "" : path.substr(slash);
        const auto bearer = bearer_token(req);
        if (!bearer || !tokens.contains(*bearer)) {
            reply r = sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid");
            r.res.set(http::field::www_authenticate, "Token");
            return r;
        }
        ++api_calls;
        reply r = dispatch(req, version, rest, query);
        // On each REST call except the versions URI [SF-LIMITHDR].
        r.res.set("Sforce-Limit-Info", fmt::format("api-usage={}/{}", api_calls, cfg.daily_limit));
        return r;
    }

    reply dispatch(const http_request& req,
                   const std::string& version,
                   const std::string& rest,
                   const std::string& query) {
        if (req.method() != http::verb::get) {
            return sf_error(405,
                            "METHOD_NOT_ALLOWED",
                            fmt::format("HTTP Method '{}' not allowed. Allowed are GET,HEAD",
                                        std::string(req.method_string())));
        }
        if (rest == "/query" || rest == "/query/" || rest == "/queryAll" || rest == "/queryAll/")
            return run_query(req, version, query);
        if (rest.starts_with("/query/") || rest.starts_with("/queryAll/"))
            return next_page(version, rest.substr(rest.find('/', 1) + 1));
        if (rest == "/limits" || rest == "/limits/")
            return limits();
        if (rest == "/sobjects/Contact/describe" || rest == "/sobjects/Contact/describe/")
            return describe(version);
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist");
    }

    reply stats() const {
        return json_reply(200,
                          fmt::format("{{\"api_calls\":{},\"queries\":{},\"pages\":{},"
                                      "\"records_served\":{},\"body_bytes\":{}}}",
                                      api_calls,
                                      queries,
                                      pages,
                                      records_served,
                                      body_bytes));
    }

    reply limits() const {
        // Shape of api-fixtures/salesforce/limits_response_simple_salesforce_test.json.
        return json_reply(
            200,
            fmt::format("{{\"DailyApiRequests\":{{\"Max\":{},\"Remaining\":{}}},"
                        "\"DailyBulkApiRequests\":{{\"Max\":5000,\"Remaining\":5000}}}}",
                        cfg.daily_limit,
                        std::max<std::int64_t>(0, cfg.daily_limit - api_calls)));
    }

    reply describe(const std::string& version) const {
        // DescribeSObjectResult subset [SF-DOME-DESCRIBE], the keys fake_salesforce sends.
        std::string body =
            "{\"name\":\"Contact\",\"label\":\"Contact\",\"custom\":false,"
            "\"keyPrefix\":\"003\",\"queryable\":true,\"fields\":[";
        bool first = true;
        for (const auto& f : contact_fields()) {
            if (!first)
                body += ',';
            first = false;
            const bool system = f.field == contact_field::id ||
                                f.field == contact_field::is_deleted ||
                                f.field == contact_field::created_date ||
                                f.field == contact_field::last_modified_date ||
                                f.field == contact_field::system_modstamp;
            fmt::format_to(std::back_inserter(body),
                           "{{\"name\":\"{}\",\"label\":\"{}\",\"type\":\"{}\",\"length\":{},"
                           "\"nillable\":{},\"createable\":{},\"updateable\":{},\"custom\":{},"
                           "\"referenceTo\":[{}],\"relationshipName\":{},\"picklistValues\":[]}}",
                           f.name,
                           f.label,
                           f.type,
                           is_text(f.type) ? f.length : 0,
                           f.nillable,
                           !system,
                           !system,
                           f.name.ends_with("__c"),
                           f.field == contact_field::account_id ? "\"Account\"" : "",
                           f.field == contact_field::account_id ? "\"Account\"" : "null");
        }
        fmt::format_to(std::back_inserter(body),
                       "],\"urls\":{{\"describe\":\"/services/data/v{0}/sobjects/Contact/"
                       "describe\",\"sobject\":\"/services/data/v{0}/sobjects/Contact\"}}}}",
                       version);
        return json_reply(200, std::move(body));
    }

    // ---- query ----------------------------------------------------------------------------------

    static soql::query_error no_column(std::string_view soql_text, const soql::field_path& p) {
        return soql::query_error(
            "INVALID_FIELD",
            soql::positioned_message(soql_text,
                                     p.pos,
                                     fmt::format("No such column '{}' on entity 'Contact'. If you "
                                                 "are attempting to use a custom field, be sure "
                                                 "to append the '__c' after the custom field "
                                                 "name. Please reference your WSDL or the "
                                                 "describe call for the appropriate names.",
                                                 p.text)));
    }

    static contact_field resolve(std::string_view soql_text, const soql::field_path& p) {
        const auto f = find_field(p.text);
        if (!f)
            throw no_column(soql_text, p);
        return *f;
    }

    static condition compile(std::string_view soql_text, const soql::expr& e) {
        condition c;
        c.what = e.what;
        if (e.what != soql::expr::kind::compare) {
            for (const auto& child : e.children)
                c.children.push_back(compile(soql_text, child));
            return c;
        }
        c.field = resolve(soql_text, e.field);
        c.type = info(c.field).type;
        c.oper = e.oper;
        c.values = e.values;
        if (c.oper == soql::op::like) {
            throw soql::query_error("MALFORMED_QUERY",
                                    "bench fake: LIKE is not supported by the benchmark org");
        }
        for (const auto& v : c.values) {
            if (!literal_fits(c.type, v)) {
                const auto want = literal_type(c.type);
                throw soql::query_error(
                    "INVALID_FIELD",
                    soql::positioned_message(
                        soql_text,
                        v.pos,
                        fmt::format("value of filter criterion for field '{}' must be of type "
                                    "{} and should {}be enclosed in quotes",
                                    info(c.field).name,
                                    want,
                                    want == "string" ? "" : "not ")));
            }
        }
        return c;
    }

    bool matches(std::uint64_t i, const condition& c, cell& scratch) const {
        using kind = soql::expr::kind;
        switch (c.what) {
            case kind::all_of:
                return std::all_of(c.children.begin(), c.children.end(), [&](const condition& x) {
                    return matches(i, x, scratch);
                });
            case kind::any_of:
                return std::any_of(c.children.begin(), c.children.end(), [&](const condition& x) {
                    return matches(i, x, scratch);
                });
            case kind::negate:
                return !matches(i, c.children.front(), scratch);
            case kind::compare:
                break;
        }
        org.value(i, c.field, scratch);
        const bool null = scratch.what == cell::kind::null;
        auto equal_to = [&](const soql::literal& v) {
            if (v.kind == soql::literal::type::null)
                return null;
            return !null && compare(scratch, c.type, v) == 0;
        };
        using soql::op;
        switch (c.oper) {
            case op::eq:
                return equal_to(c.values.front());
            case op::ne:
                return !equal_to(c.values.front());  // keeps nulls, unlike SQL
            case op::in:
                return std::any_of(c.values.begin(), c.values.end(), equal_to);
            case op::not_in:
                return std::none_of(c.values.begin(), c.values.end(), equal_to);
            default:
                break;
        }
        if (null || c.values.front().kind == soql::literal::type::null)
            return false;
        const int r = compare(scratch, c.type, c.values.front());
        switch (c.oper) {
            case op::lt:
                return r < 0;
            case op::le:
                return r <= 0;
            case op::gt:
                return r > 0;
            case op::ge:
                return r >= 0;
            default:
                return false;
        }
    }

    // Narrows [lo, hi) with the modstamp bounds of a top-level conjunction: records are in
    // modstamp order, so the window of an incremental query is found without a scan.
    void narrow(const condition& c, std::uint64_t& lo, std::uint64_t& hi) const {
        if (c.what == soql::expr::kind::all_of) {
            for (const auto& child : c.children)
                narrow(child, lo, hi);
            return;
        }
        if (c.what != soql::expr::kind::compare ||
            (c.field != contact_field::system_modstamp &&
             c.field != contact_field::last_modified_date) ||
            c.values.front().kind != soql::literal::type::datetime) {
            return;
        }
        const auto s = std::chrono::floor<std::chrono::seconds>(c.values.front().at)
                           .time_since_epoch()
                           .count();
        using soql::op;
        switch (c.oper) {
            case op::ge:
                lo = std::max(lo, org.first_at_or_after_second(s));
                break;
            case op::gt:
                lo = std::max(lo, org.first_at_or_after_second(s + 1));
                break;
            case op::lt:
                hi = std::min(hi, org.first_at_or_after_second(s));
                break;
            case op::le:
                hi = std::min(hi, org.first_at_or_after_second(s + 1));
                break;
            default:
                break;
        }
    }

    static int batch_size(const http_request& req) {
        // Sforce-Query-Options: batchSize=n, 200..2000, default 2000 [SF-QUERYOPTS].
        const auto it = req.find("Sforce-Query-Options");
        if (it == req.end())
            return 2000;
        const std::string v(it->value());
        const auto k = v.find("batchSize=");
        if (k == std::string::npos)
            return 2000;
        try {
            return std::clamp(std::stoi(v.substr(k + 10)), 200, 2000);
        } catch (const std::exception&) {
            return 2000;
        }
    }

    reply run_query(const http_request& req, const std::string& version, const std::string& qs) {
        const auto q = param(parse_params(qs), "q");
        if (!q || q->empty())
            return sf_error(400, "MALFORMED_QUERY", "A query string has to be specified");
        ++queries;
        cursor c;
        std::size_t total = 0;
        try {
            const soql::query parsed = soql::parse(*q);
            if (!iequals(parsed.object, "Contact")) {
                throw soql::query_error(
                    "INVALID_TYPE",
                    soql::positioned_message(
                        *q,
                        parsed.object_pos,
                        fmt::format("sObject type '{}' is not supported.", parsed.object)));
            }
            for (const auto& p : parsed.fields)
                c.select.push_back(resolve(*q, p));
            for (const auto& o : parsed.order_by) {
                if (!is_monotonic(resolve(*q, o.field)) || o.descending) {
                    throw soql::query_error("MALFORMED_QUERY",
                                            "bench fake: ORDER BY only on SystemModstamp, "
                                            "LastModifiedDate or Id, ascending");
                }
            }
            if (parsed.offset)
                throw soql::query_error("MALFORMED_QUERY", "bench fake: OFFSET is not supported");
            std::uint64_t lo = 0;
            std::uint64_t hi = org.size();
            std::optional<condition> where;
            if (parsed.where) {
                where = compile(*q, *parsed.where);
                narrow(*where, lo, hi);
            }
            cell scratch;
            for (std::uint64_t i = lo; i < hi; ++i) {
                if (parsed.limit && c.rows.size() >= static_cast<std::size_t>(*parsed.limit))
                    break;
                if (!where || matches(i, *where, scratch))
                    c.rows.push_back(static_cast<std::uint32_t>(i));
            }
            total = c.rows.size();
            if (parsed.count_only)
                return json_reply(
                    200, fmt::format("{{\"totalSize\":{},\"done\":true,\"records\":[]}}", total));
        } catch (const soql::query_error& e) {
            return sf_error(400, e.code(), e.what());
        }
        c.page = static_cast<std::size_t>(batch_size(req));
        if (c.rows.size() <= c.page)
            return page(version, "", c, 0);
        const std::string locator = random_text("01g", 15);
        auto& stored = cursors[locator] = std::move(c);
        cursor_order.push_back(locator);
        // At most 10 open cursors per user; opening another releases the oldest.
        while (cursor_order.size() > max_open_cursors) {
            cursors.erase(cursor_order.front());
            cursor_order.pop_front();
        }
        return page(version, locator, stored, 0);
    }

    reply next_page(const std::string& version, const std::string& locator_and_offset) {
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
        if (it == cursors.end() || offset >= it->second.rows.size())
            return invalid();
        return page(version, locator, it->second, offset);
    }

    // One page, rendered from the record indices; the cursor is released once exhausted.
    reply page(const std::string& version,
               const std::string& locator,
               const cursor& c,
               std::size_t offset) {
        const std::size_t total = c.rows.size();
        const std::size_t end = std::min(total, offset + c.page);
        const bool done = end >= total;
        std::string body;
        body.reserve((end - offset) * 1024 + 256);
        fmt::format_to(std::back_inserter(body), "{{\"totalSize\":{},\"done\":{}", total, done);
        if (!done) {
            // Relative, "/services/data/vXX.X/query/<locator>-<offset>" [SF-QUERY].
            fmt::format_to(std::back_inserter(body),
                           ",\"nextRecordsUrl\":\"/services/data/v{}/query/{}-{}\"",
                           version,
                           locator,
                           end);
        }
        body += ",\"records\":[";
        cell v;
        for (std::size_t k = offset; k < end; ++k) {
            const std::uint64_t i = c.rows[k];
            if (k != offset)
                body += ',';
            append_record(body, org, i, c.select, version, v);
        }
        body += "]}";
        ++pages;
        records_served += static_cast<std::int64_t>(end - offset);
        body_bytes += static_cast<std::int64_t>(body.size());
        if (done && !locator.empty()) {
            cursors.erase(locator);
            std::erase(cursor_order, locator);
        }
        return json_reply(200, std::move(body));
    }
};

fake_sf::fake_sf(sf_settings s) : impl_(std::make_unique<impl>(std::move(s))) {}
fake_sf::~fake_sf() = default;

testing::reply fake_sf::handle(const testing::http_request& req) {
    return impl_->handle(req);
}

void fake_sf::set_base_url(std::string url) {
    impl_->base_url = std::move(url);
}

}  // namespace crmsync::bench
