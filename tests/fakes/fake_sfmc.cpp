#include "fake_sfmc.hpp"

#include "crmsync/core/timestamp.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "fake_http.hpp"
#include "loopback_server.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <pugixml.hpp>
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

constexpr const char* json_type = "application/json; charset=utf-8";
constexpr const char* doc_url =
    "https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm";
constexpr std::size_t max_rowset_bytes = 5 * 1024 * 1024;  // [SFMC-ROWSET-NEW]
constexpr std::size_t max_async_items = 32'000;            // [SFMC-HELP-LIMITS]

// The descriptions of the REST codes [SFMC-ERR], used as messages when a fault names a code.
std::string documented_message(const std::string& code) {
    static const std::map<std::string, std::string> texts = {
        {"0", "Not Authorized"},
        {"10000", "Generic Exception"},
        {"10001", "Invalid Data Type"},
        {"10002", "Missing Required Field"},
        {"10003", "Incorrect Format"},
        {"10004", "Invalid Message Format"},
        {"10005", "Invalid Value"},
        {"10006", "Aggregate Error"},
        {"20000", "General Exception"},
        {"20001", "Business Rule Not Set"},
        {"20002", "Insufficient Privileges"},
        {"50100", "Rate limit exceeded"},
        {"50200", "Your requests are temporarily blocked."},
    };
    const auto it = texts.find(code);
    return it == texts.end() ? "Error " + code : it->second;
}

unsigned status_for(const std::string& code) {
    if (code == "0")
        return 401;
    if (code == "50100" || code == "50200")
        return 429;
    if (code.rfind("200", 0) == 0)
        return 403;
    return 400;
}

std::size_t utf8_length(const std::string& s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool valid_email(const std::string& e) {
    static const std::regex re(R"(^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@)"
                               R"((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$)");
    return e.size() <= 254 && e.find("..") == std::string::npos && std::regex_match(e, re);
}

int default_length(const sfmc_column& c) {
    if (c.max_length > 0)
        return c.max_length;
    if (c.type == "EmailAddress")
        return 254;
    if (c.type == "Text" || c.type == "Phone")
        return 50;  // "For a Text field ... the default value is 50" [SSJS Fields.Add]
    return 0;
}

struct problem {
    std::string code;
    std::string message;
};

}  // namespace

struct fake_sfmc::impl {
    struct token_info {
        sys_ms expires_at;
        bool revoked = false;
    };
    struct table {
        sfmc_data_extension de;
        std::map<std::string, json> rows;  // primary-key text → row
    };
    struct async_request {
        std::string key;
        bool upsert = true;
        json items;
        int polls_left = 0;
        bool fail = false;
        bool processed = false;
        std::vector<ojson> results;
    };

    sfmc_options opt;
    mutable std::mutex mu;
    std::mt19937_64 rng{std::random_device{}()};
    std::map<std::string, table> tables;  // by external key, lower-cased
    std::map<std::string, token_info> tokens;
    std::map<std::string, async_request> async;
    std::vector<sfmc_call> calls;
    std::vector<json> rowsets;
    std::vector<json> async_bodies;
    std::map<std::string, int> errors_sent;
    int token_requests = 0;
    int fail_next_async = 0;
    fault_script faults;
    std::unique_ptr<testing::loopback_server> server;  // last: stops before the state goes

    explicit impl(sfmc_options o) : opt(std::move(o)) {
        if (!opt.clock)
            opt.clock = system_now;
    }

    sys_ms now() const { return opt.clock(); }
    std::string base() const { return server->base_url(); }

    // ---- replies --------------------------------------------------------------------------------

    reply rest_error(unsigned status,
                     const std::string& code,
                     const std::string& message,
                     const std::vector<problem>& more = {}) {
        ojson b = ojson::object();
        b["message"] = message;
        b["errorcode"] = std::stoi(code);
        b["documentation"] = doc_url;
        if (!more.empty()) {
            ojson arr = ojson::array();
            for (const auto& p : more) {
                ojson e = ojson::object();
                e["message"] = p.message;
                e["errorcode"] = std::stoi(p.code);
                e["documentation"] = "";
                arr.push_back(e);
            }
            b["additionalErrors"] = arr;
        }
        if (code == "50100")
            b["retryAfter"] = opt.retry_after;
        ++errors_sent[code];
        reply r = testing::make_reply(status, b.dump(), json_type);
        if (code == "50100")
            r.res.set(http::field::retry_after, std::to_string(opt.retry_after));
        return r;
    }
    reply vendor_error(const std::string& code, const std::string& message) {
        return rest_error(
            status_for(code), code, message.empty() ? documented_message(code) : message);
    }
    reply not_authorized() {
        // api-fixtures/sfmc/error_not_authorized_401_sfmc_devtools_test.json
        return rest_error(401, "0", "Not Authorized");
    }
    static reply oauth_error(unsigned status, const std::string& error, const std::string& text) {
        ojson b = ojson::object();
        b["error"] = error;
        b["error_description"] = text;
        b["error_uri"] = "https://developer.salesforce.com/docs";
        return testing::make_reply(status, b.dump(), json_type);
    }

    // ---- token ----------------------------------------------------------------------------------

    reply token(const http_request& req) {
        ++token_requests;
        if (req.method() != http::verb::post || media_type(req) != "application/json") {
            return oauth_error(400, "invalid_request", "Use POST with a JSON body.");
        }
        const json b = json::parse(req.body(), nullptr, false);
        if (!b.is_object())
            return oauth_error(400, "invalid_request", "The request body is not valid JSON.");
        if (b.value("grant_type", json()) != "client_credentials") {
            return oauth_error(400, "unsupported_grant_type", "Unsupported grant type.");
        }
        if (b.value("client_id", json()) != opt.client_id ||
            b.value("client_secret", json()) != opt.client_secret) {
            // api-fixtures/sfmc/token_error_invalid_client_401_sfmc_devtools_test.json
            return oauth_error(401,
                               "invalid_client",
                               "Client authentication failed. Make sure that the client ID and "
                               "client secret are valid and that the package is installed and "
                               "enabled.");
        }
        if (const auto a = b.find("account_id"); a != b.end()) {
            // The reply for a MID the package cannot reach is not documented; invalid_grant is
            // the fake's choice.
            const std::string mid = a->is_number_integer() ? std::to_string(a->get<long long>())
                                    : a->is_string()       ? a->get<std::string>()
                                                           : std::string{};
            if (!a->is_number_integer() || mid != opt.account_id) {
                return oauth_error(401,
                                   "invalid_grant",
                                   "The client's access to the requested account is denied.");
            }
        }
        const std::string t = random_hex(rng, 64);
        tokens[t] = token_info{
            now() + std::chrono::duration_cast<std::chrono::milliseconds>(opt.token_lifetime)};
        // api-fixtures/sfmc/token_response_sfmc_devtools_test.json
        ojson r = ojson::object();
        r["access_token"] = t;
        r["token_type"] = "Bearer";
        r["expires_in"] = opt.token_lifetime.count();
        r["scope"] = "data_extensions_read data_extensions_write";
        r["soap_instance_url"] = base() + "/";
        r["rest_instance_url"] = base() + "/";
        return testing::make_reply(200, r.dump(), json_type);
    }

    // Empty when the bearer token is valid; else which of expired/unknown it is.
    std::optional<std::string> token_problem(const std::optional<std::string>& t) const {
        const auto it = t ? tokens.find(*t) : tokens.end();
        if (it == tokens.end())
            return "Login Failed";
        if (it->second.revoked || it->second.expires_at <= now())
            return "Token Expired";
        return std::nullopt;
    }

    // ---- data ---------------------------------------------------------------------------------

    table* find_table(const std::string& key) {
        const auto it = tables.find(to_lower(key));
        return it == tables.end() ? nullptr : &it->second;
    }
    static const sfmc_column* column(const table& t, const std::string& name) {
        for (const auto& c : t.de.columns) {
            if (iequals(c.name, name))
                return &c;
        }
        return nullptr;
    }

    // A value checked against its column's type; the documented codes by kind of problem
    // [SFMC-ERR]: wrong type 10001, missing 10002, bad format 10003, bad value 10005.
    static std::optional<problem> check_value(const sfmc_column& c, const json& v) {
        if (v.is_null()) {
            if (c.required || c.primary_key)
                return problem{"10002", "The field " + c.name + " is required."};
            return std::nullopt;
        }
        const auto type_error = problem{"10001", "Invalid data type for field " + c.name + "."};
        if (c.type == "Number") {
            if (v.is_number_integer())
                return std::nullopt;
            static const std::regex re(R"(^-?\d+$)");
            if (v.is_string() && std::regex_match(v.get<std::string>(), re))
                return std::nullopt;
            return type_error;
        }
        if (c.type == "Decimal") {
            static const std::regex re(R"(^-?\d+(\.\d+)?$)");
            if (v.is_number() || (v.is_string() && std::regex_match(v.get<std::string>(), re)))
                return std::nullopt;
            return type_error;
        }
        if (c.type == "Boolean") {
            if (v.is_boolean() || (v.is_string() && (iequals(v.get<std::string>(), "true") ||
                                                     iequals(v.get<std::string>(), "false"))))
                return std::nullopt;
            return type_error;
        }
        if (c.type == "Date") {
            if (v.is_string() && timestamp::parse(v.get<std::string>()))
                return std::nullopt;
            return problem{"10003", "The value for field " + c.name + " is not a valid date."};
        }
        std::string s = v.is_string() ? v.get<std::string>() : v.dump();
        if (c.type == "EmailAddress" && !valid_email(s)) {
            return problem{"10003",
                           "The value for field " + c.name + " is not a valid email address."};
        }
        if (const int max = default_length(c);
            max > 0 && utf8_length(s) > static_cast<std::size_t>(max)) {
            return problem{"10005",
                           "The value for field " + c.name + " exceeds its maximum length of " +
                               std::to_string(max) + "."};
        }
        return std::nullopt;
    }

    // The row's primary-key text, or a problem.
    static std::optional<problem> key_of(const table& t, const json& keys, std::string& out) {
        out.clear();
        for (const auto& c : t.de.columns) {
            if (!c.primary_key)
                continue;
            const json* v = nullptr;
            for (const auto& [k, val] : keys.items()) {
                if (iequals(k, c.name))
                    v = &val;
            }
            if (v == nullptr || v->is_null())
                return problem{"10002", "The primary key field " + c.name + " is required."};
            out += (out.empty() ? "" : "|") + (v->is_string() ? v->get<std::string>() : v->dump());
        }
        return std::nullopt;
    }

    // Validates one row (column → value) for `t`; on success fills `normalized` with the
    // values under the columns' own names.
    std::vector<problem> check_row(const table& t,
                                   const json& values,
                                   bool is_new,
                                   json& normalized) const {
        std::vector<problem> out;
        normalized = json::object();
        for (const auto& [k, v] : values.items()) {
            const sfmc_column* c = column(t, k);
            if (c == nullptr) {
                out.push_back(
                    {"10000", "The field " + k + " does not exist in the data extension."});
                continue;
            }
            if (auto p = check_value(*c, v))
                out.push_back(*p);
            normalized[c->name] = v;
        }
        if (is_new) {
            for (const auto& c : t.de.columns) {
                if ((c.required || c.primary_key) &&
                    (!normalized.contains(c.name) || normalized[c.name].is_null())) {
                    out.push_back({"10002", "The field " + c.name + " is required."});
                }
            }
        }
        return out;
    }

    reply rowset(const http_request& req, const std::string& key) {
        table* t = find_table(key);
        if (t == nullptr) {
            // Undocumented; the async API answers 400 for an unknown key, the fake 404 here.
            return rest_error(404, "10000", "Data extension with key " + key + " was not found.");
        }
        if (req.body().size() > max_rowset_bytes)
            return testing::make_reply(413, "Request Entity Too Large", "text/html");
        if (media_type(req) != "application/json")
            return testing::make_reply(415, "", "text/html");
        const json body = json::parse(req.body(), nullptr, false);
        rowsets.push_back(body.is_discarded() ? json(req.body()) : body);
        if (body.is_discarded())
            return rest_error(400, "10004", documented_message("10004"));
        if (!body.is_array() || body.empty())
            return rest_error(400, "10003", "The request body must be an array of rows.");
        // All rows are checked before any is written: the call is refused whole.
        std::vector<problem> problems;
        std::vector<std::pair<std::string, json>> writes;
        std::set<std::string> seen;
        for (const auto& item : body) {
            if (!item.is_object() || !item.contains("keys") || !item["keys"].is_object() ||
                (item.contains("values") && !item["values"].is_object())) {
                problems.push_back({"10003", "Each row needs a keys object and a values object."});
                continue;
            }
            std::string pk;
            if (auto p = key_of(*t, item["keys"], pk)) {
                problems.push_back(*p);
                continue;
            }
            json all = item["keys"];
            if (item.contains("values")) {
                for (const auto& [k, v] : item["values"].items())
                    all[k] = v;
            }
            json normalized;
            const bool is_new = !t->rows.contains(pk) && !seen.contains(pk);
            seen.insert(pk);
            auto ps = check_row(*t, all, is_new, normalized);
            problems.insert(problems.end(), ps.begin(), ps.end());
            writes.emplace_back(pk, std::move(normalized));
        }
        if (!problems.empty()) {
            return rest_error(400,
                              "10006",
                              "Unable to save rows for data extension " + t->de.external_key,
                              problems);
        }
        for (auto& [pk, values] : writes) {
            auto& row = t->rows[pk];
            if (row.is_null())
                row = json::object();
            for (const auto& [k, v] : values.items())
                row[k] = v;
        }
        // "Information about the data that was upserted" [SFMC-ROWSET]: the rows as written.
        return testing::make_reply(200, body.dump(), json_type);
    }

    reply async_write(const http_request& req, const std::string& key, bool upsert) {
        table* t = find_table(key);
        // "If the data extension key or ID is not found, a 400 error is returned; the request
        // is not queued" [SFMC-ASYNC-UPSERT].
        if (t == nullptr)
            return rest_error(400, "10000", "Data extension with key " + key + " was not found.");
        const json body = json::parse(req.body(), nullptr, false);
        async_bodies.push_back(body.is_discarded() ? json(req.body()) : body);
        if (body.is_discarded())
            return rest_error(400, "10004", documented_message("10004"));
        if (!body.is_object() || !body.contains("items") || !body["items"].is_array() ||
            body["items"].empty()) {
            return rest_error(400, "10002", "The items array is required.");
        }
        if (body["items"].size() > max_async_items) {
            return rest_error(400, "10005", "At most 32000 items may be sent in one request.");
        }
        const std::string id = random_uuid(rng);
        async_request a;
        a.key = key;
        a.upsert = upsert;
        a.items = body["items"];
        a.polls_left = opt.async_pending_polls;
        if (fail_next_async > 0) {
            --fail_next_async;
            a.fail = true;
        }
        async.emplace(id, std::move(a));
        ojson r = ojson::object();
        r["requestId"] = id;
        r["resultMessages"] = ojson::array();
        return testing::make_reply(202, r.dump(), json_type);
    }

    // Applies a queued request's items one by one (each stands alone, unlike the rowset call).
    void process(async_request& a) {
        if (a.processed)
            return;
        a.processed = true;
        if (a.fail)
            return;
        table* t = find_table(a.key);
        for (const auto& item : a.items) {
            ojson res = ojson::object();
            auto fail = [&](const std::string& code, const std::string& message) {
                res["errorCode"] = code;
                res["message"] = message;
                res["status"] = "Error";
            };
            std::string pk;
            json normalized;
            if (!item.is_object()) {
                fail("UnexpectedError", "The item is not an object.");
            } else if (auto p = key_of(*t, item, pk)) {
                fail("UnexpectedError", p->message);
            } else if (!a.upsert && t->rows.contains(pk)) {
                // The documented per-item error [SFMC-ASYNC-RESULTS-OLD].
                fail("UnexpectedError",
                     "Violation of PRIMARY KEY constraint 'PK_" + t->de.external_key +
                         "'. Cannot insert duplicate key in object '" + t->de.external_key +
                         "'. The duplicate key value is (" + pk +
                         ").\r\nThe statement has been terminated.");
            } else if (auto ps = check_row(*t, item, !t->rows.contains(pk), normalized);
                       !ps.empty()) {
                fail("UnexpectedError", ps.front().message);
            } else {
                auto& row = t->rows[pk];
                if (row.is_null())
                    row = json::object();
                for (const auto& [k, v] : normalized.items())
                    row[k] = v;
                res["status"] = "OK";  // the success item's shape is not documented
            }
            a.results.push_back(std::move(res));
        }
    }

    reply async_status(const std::string& id) {
        const auto it = async.find(id);
        if (it == async.end())
            return rest_error(404, "10000", "Request " + id + " was not found.");
        auto& a = it->second;
        if (a.polls_left == 0)
            process(a);
        if (a.processed && a.fail) {
            // The error variant: no status object, resultMessages only, still HTTP 200
            // [SFMC-ASYNC-RESULTS-OLD].
            ojson r = ojson::object();
            r["requestId"] = random_uuid(rng);
            ojson msg = ojson::object();
            msg["resultType"] = "Error";
            msg["resultCode"] = "UnexpectedError";
            msg["resultMessage"] = "The request could not be processed.";
            r["resultMessages"] = ojson::array({ojson{{"resultMessage", msg}}});
            return testing::make_reply(200, r.dump(), json_type);
        }
        const bool done = a.processed;
        if (!done)
            --a.polls_left;
        const bool errors = std::any_of(a.results.begin(), a.results.end(), [](const ojson& r) {
            return r.value("status", "") == "Error";
        });
        // api-fixtures/sfmc/async_status_response_complete.json
        ojson s = ojson::object();
        s["callDateTime"] = "2026-11-23T10:00:00.00";
        if (done)
            s["completionDateTime"] = "2026-11-23T10:00:01.00";
        s["hasErrors"] = errors;
        if (done)
            s["pickupDateTime"] = "2026-11-23T10:00:00.50";
        s["requestStatus"] = done ? "Complete" : "Pending";
        s["resultStatus"] = done ? (errors ? "Error" : "OK") : "";
        s["requestId"] = id;
        ojson r = ojson::object();
        r["status"] = s;
        r["requestId"] = random_uuid(rng);
        return testing::make_reply(200, r.dump(), json_type);
    }

    reply async_results(const std::string& id, const params& p) {
        const auto it = async.find(id);
        if (it == async.end())
            return rest_error(404, "10000", "Request " + id + " was not found.");
        auto& a = it->second;
        long page = 1;
        if (const auto v = param(p, "page")) {
            try {
                page = std::max(1L, std::stol(*v));
            } catch (const std::exception&) {
                return rest_error(400, "10001", "page must be a number.");
            }
        }
        const auto size = static_cast<std::size_t>(std::max(1, opt.results_page_size));
        // api-fixtures/sfmc/async_results_response_errors.json
        ojson r = ojson::object();
        r["page"] = page;
        r["pageSize"] = size;
        r["count"] = a.results.size();
        ojson items = ojson::array();
        for (std::size_t i = static_cast<std::size_t>(page - 1) * size;
             i < a.results.size() && i < static_cast<std::size_t>(page) * size;
             ++i) {
            items.push_back(a.results[i]);
        }
        r["items"] = items;
        r["requestId"] = id;
        return testing::make_reply(200, r.dump(), json_type);
    }

    // ---- SOAP ----------------------------------------------------------------------------------

    static std::string soap_envelope(const std::string& body) {
        return R"(<?xml version="1.0" encoding="utf-8"?>)"
               R"(<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/")"
               R"( xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance")"
               R"( xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>)" +
               body + "</soap:Body></soap:Envelope>";
    }
    static reply soap_fault(const std::string& text) {
        return testing::make_reply(
            500,
            soap_envelope(
                R"(<soap:Fault><faultcode xmlns:q0="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">q0:Security</faultcode><faultstring>)" +
                text + "</faultstring></soap:Fault>"),
            "text/xml; charset=utf-8");
    }
    static std::string xml_escape(const std::string& s) {
        std::string out;
        for (char c : s) {
            if (c == '&')
                out += "&amp;";
            else if (c == '<')
                out += "&lt;";
            else if (c == '>')
                out += "&gt;";
            else
                out += c;
        }
        return out;
    }
    static pugi::xml_node find_local(const pugi::xml_node& n, std::string_view name) {
        for (auto c = n.first_child(); c; c = c.next_sibling()) {
            std::string_view cn = c.name();
            if (const auto colon = cn.find(':'); colon != std::string_view::npos)
                cn = cn.substr(colon + 1);
            if (cn == name)
                return c;
            if (auto d = find_local(c, name))
                return d;
        }
        return {};
    }

    reply soap(const http_request& req) {
        pugi::xml_document doc;
        if (!doc.load_buffer(req.body().data(), req.body().size()))
            return soap_fault("Unable to read the SOAP request.");
        const std::string token = find_local(doc, "fueloauth").text().as_string();
        if (auto why = token_problem(token.empty() ? std::nullopt : std::optional(token)))
            return soap_fault(*why);
        const auto rr = find_local(doc, "RetrieveRequest");
        if (!rr ||
            std::string(find_local(rr, "ObjectType").text().as_string()) != "DataExtensionField")
            return soap_fault("The fake serves Retrieve of DataExtensionField only.");
        std::size_t start = 0;
        std::string key;
        if (const std::string cont = find_local(rr, "ContinueRequest").text().as_string();
            !cont.empty()) {
            const auto bar = cont.rfind('|');
            if (bar == std::string::npos)
                return soap_fault("Unknown ContinueRequest.");
            key = cont.substr(0, bar);
            start = std::stoul(cont.substr(bar + 1));
        } else {
            if (std::string(find_local(rr, "Property").text().as_string()) !=
                "DataExtension.CustomerKey")
                return soap_fault("The fake filters on DataExtension.CustomerKey only.");
            key = find_local(rr, "Value").text().as_string();
        }
        std::string results;
        bool more = false;
        if (const table* t = find_table(key)) {
            const auto& cols = t->de.columns;
            const auto page = static_cast<std::size_t>(std::max(1, opt.soap_page_size));
            // Listed last column first: Retrieve gives no order, the client sorts by Ordinal.
            for (std::size_t n = start; n < cols.size() && n < start + page; ++n) {
                const std::size_t i = cols.size() - 1 - n;
                const auto& c = cols[i];
                results +=
                    R"(<Results xsi:type="DataExtensionField"><PartnerKey xsi:nil="true" />)";
                results += "<CustomerKey>[" + xml_escape(t->de.external_key) + "].[" +
                           xml_escape(c.name) + "]</CustomerKey>";
                results += "<Name>" + xml_escape(c.name) + "</Name><DefaultValue />";
                if (const int len = default_length(c); len > 0)
                    results += "<MaxLength>" + std::to_string(len) + "</MaxLength>";
                results += std::string("<IsRequired>") +
                           (c.required || c.primary_key ? "true" : "false") + "</IsRequired>";
                results += "<Ordinal>" + std::to_string(i) + "</Ordinal>";
                results += std::string("<IsPrimaryKey>") + (c.primary_key ? "true" : "false") +
                           "</IsPrimaryKey>";
                results += "<FieldType>" + c.type + "</FieldType>";
                results += "<DataExtension><CustomerKey>" + xml_escape(t->de.external_key) +
                           "</CustomerKey></DataExtension></Results>";
            }
            more = start + page < cols.size();
            if (more)
                start += page;
        }
        const std::string request_id = more ? key + "|" + std::to_string(start) : random_uuid(rng);
        return testing::make_reply(
            200,
            soap_envelope(
                R"(<RetrieveResponseMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><OverallStatus>)" +
                std::string(more ? "MoreDataAvailable" : "OK") + "</OverallStatus><RequestID>" +
                xml_escape(request_id) + "</RequestID>" + results + "</RetrieveResponseMsg>"),
            "text/xml; charset=utf-8");
    }

    // ---- routing --------------------------------------------------------------------------------

    reply handle(const http_request& req) {
        const auto [path, query] = split_target(req.target());
        const auto at = std::chrono::steady_clock::now();
        reply r;
        const auto fault = faults.take(path);
        if (fault && fault->what == fault_spec::kind::http_status) {
            r = testing::make_reply(fault->status, fault->body, fault->content_type);
        } else if (fault && fault->what == fault_spec::kind::vendor_error) {
            std::lock_guard lock(mu);
            r = vendor_error(fault->code, fault->message);
        } else if (fault && fault->what == fault_spec::kind::reset && !fault->executed) {
            r = testing::make_reply(500, "");
        } else {
            r = route(req, path, query);
        }
        if (fault)
            apply_fault(*fault, r);
        std::lock_guard lock(mu);
        calls.push_back({std::string(req.method_string()), path, at, r.res.result_int()});
        return r;
    }

    reply route(const http_request& req, const std::string& path, const std::string& query) {
        std::lock_guard lock(mu);
        if (path == "/v2/token")
            return token(req);
        if (path == "/Service.asmx") {
            if (req.method() != http::verb::post)
                return testing::make_reply(405, "", "text/html");
            return soap(req);
        }
        if (token_problem(bearer_token(req)))
            return not_authorized();
        static const std::regex rowset_path(R"(^/hub/v1/dataevents/key:([^/]+)/rowset$)");
        static const std::regex rows_path(R"(^/data/v1/async/dataextensions/key:([^/]+)/rows$)");
        static const std::regex status_path(R"(^/data/v1/async/([^/]+)/status$)");
        static const std::regex results_path(R"(^/data/v1/async/([^/]+)/results$)");
        std::smatch m;
        const auto method = req.method();
        if (std::regex_match(path, m, rowset_path) && method == http::verb::post)
            return rowset(req, m[1].str());
        if (std::regex_match(path, m, rows_path) &&
            (method == http::verb::put || method == http::verb::post)) {
            return async_write(req, m[1].str(), method == http::verb::put);
        }
        if (std::regex_match(path, m, status_path) && method == http::verb::get)
            return async_status(m[1].str());
        if (std::regex_match(path, m, results_path) && method == http::verb::get)
            return async_results(m[1].str(), parse_params(query));
        return testing::make_reply(404, "", "text/html");
    }
};

// =================================================================================================

fake_sfmc::fake_sfmc(sfmc_options options) : impl_(std::make_unique<impl>(std::move(options))) {
    impl_->server = std::make_unique<testing::loopback_server>(
        [p = impl_.get()](const http_request& req) { return p->handle(req); }, impl_->opt.port);
}

fake_sfmc::~fake_sfmc() {
    impl_->server.reset();
}

std::string fake_sfmc::base_url() const {
    return impl_->server->base_url();
}
unsigned short fake_sfmc::port() const {
    return impl_->server->port();
}
const sfmc_options& fake_sfmc::options() const {
    return impl_->opt;
}

void fake_sfmc::add_data_extension(sfmc_data_extension de) {
    std::lock_guard lock(impl_->mu);
    const auto key = to_lower(de.external_key);
    if (impl_->tables.contains(key))
        throw std::invalid_argument("fake_sfmc: data extension exists: " + de.external_key);
    impl_->tables[key] = impl::table{std::move(de), {}};
}

std::vector<nlohmann::json> fake_sfmc::rows(const std::string& external_key) const {
    std::lock_guard lock(impl_->mu);
    std::vector<nlohmann::json> out;
    if (const auto* t = impl_->find_table(external_key)) {
        for (const auto& [k, r] : t->rows)
            out.push_back(r);
    }
    return out;
}

std::optional<nlohmann::json> fake_sfmc::row(const std::string& external_key,
                                             const std::string& key_value) const {
    std::lock_guard lock(impl_->mu);
    const auto* t = impl_->find_table(external_key);
    if (t == nullptr)
        return std::nullopt;
    const auto it = t->rows.find(key_value);
    if (it == t->rows.end())
        return std::nullopt;
    return it->second;
}

std::vector<sfmc_call> fake_sfmc::calls() const {
    std::lock_guard lock(impl_->mu);
    return impl_->calls;
}
std::vector<nlohmann::json> fake_sfmc::rowset_bodies() const {
    std::lock_guard lock(impl_->mu);
    return impl_->rowsets;
}
std::vector<nlohmann::json> fake_sfmc::async_bodies() const {
    std::lock_guard lock(impl_->mu);
    return impl_->async_bodies;
}
std::size_t fake_sfmc::count(const std::string& method, const std::string& path_prefix) const {
    std::lock_guard lock(impl_->mu);
    return static_cast<std::size_t>(
        std::count_if(impl_->calls.begin(), impl_->calls.end(), [&](const sfmc_call& c) {
            return c.method == method && c.path.rfind(path_prefix, 0) == 0;
        }));
}
int fake_sfmc::token_requests() const {
    std::lock_guard lock(impl_->mu);
    return impl_->token_requests;
}
std::map<std::string, int> fake_sfmc::errors_sent() const {
    std::lock_guard lock(impl_->mu);
    return impl_->errors_sent;
}
void fake_sfmc::set_clock(clock_fn clock) {
    std::lock_guard lock(impl_->mu);
    impl_->opt.clock = clock ? std::move(clock) : clock_fn(system_now);
}
std::vector<std::string> fake_sfmc::issued_tokens() const {
    std::lock_guard lock(impl_->mu);
    std::vector<std::string> out;
    for (const auto& [t, info] : impl_->tokens)
        out.push_back(t);
    return out;
}

void fake_sfmc::expire_tokens() {
    std::lock_guard lock(impl_->mu);
    for (auto& [t, info] : impl_->tokens)
        info.revoked = true;
}
void fake_sfmc::set_async_pending_polls(int n) {
    std::lock_guard lock(impl_->mu);
    impl_->opt.async_pending_polls = n;
}
void fake_sfmc::fail_next_async_request() {
    std::lock_guard lock(impl_->mu);
    ++impl_->fail_next_async;
}
void fake_sfmc::fail_next(std::string path_prefix, std::vector<fault_spec> faults) {
    impl_->faults.fail_next(std::move(path_prefix), std::move(faults));
}
std::size_t fake_sfmc::pending_faults() const {
    return impl_->faults.pending();
}

}  // namespace crmsync::fakes
