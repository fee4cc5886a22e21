#include "fake_http.hpp"

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <cctype>

namespace crmsync::fakes {

namespace http = boost::beast::http;

// ---- fault_spec / fault_script ------------------------------------------------------------------

fault_spec fault_spec::pass() {
    return {};
}

fault_spec fault_spec::http(unsigned status, std::string body, std::string content_type) {
    fault_spec f;
    f.what = kind::http_status;
    f.status = status;
    f.body = std::move(body);
    f.content_type = std::move(content_type);
    return f;
}

fault_spec fault_spec::too_many_requests(std::chrono::seconds retry_after) {
    fault_spec f = http(429,
                        R"([{"message":"Too many requests","errorCode":"TOO_MANY_REQUESTS"}])",
                        "application/json");
    f.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
    return f;
}

fault_spec fault_spec::vendor(std::string code, std::string message, unsigned status) {
    fault_spec f;
    f.what = kind::vendor_error;
    f.code = std::move(code);
    f.message = std::move(message);
    f.status = status;
    return f;
}

fault_spec fault_spec::hang(std::chrono::milliseconds d) {
    fault_spec f;
    f.what = kind::delay;
    f.delay_by = d;
    f.executed = true;
    return f;
}

fault_spec fault_spec::connection_reset(bool executed) {
    fault_spec f;
    f.what = kind::reset;
    f.executed = executed;
    return f;
}

fault_spec fault_spec::truncated_body() {
    fault_spec f;
    f.what = kind::truncate;
    f.executed = true;
    return f;
}

fault_spec fault_spec::garbled_json() {
    fault_spec f;
    f.what = kind::malformed_json;
    f.executed = true;
    return f;
}

fault_spec fault_spec::token_expiry() {
    fault_spec f;
    f.what = kind::expire_tokens;
    return f;
}

void fault_script::fail_next(std::string path_prefix, std::vector<fault_spec> faults) {
    std::lock_guard lock(mutex_);
    for (auto& e : entries_) {
        if (e.prefix == path_prefix) {
            e.faults.insert(e.faults.end(), faults.begin(), faults.end());
            return;
        }
    }
    entries_.push_back({std::move(path_prefix), {faults.begin(), faults.end()}});
}

std::optional<fault_spec> fault_script::take(const std::string& path, std::string_view body) {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (path.compare(0, it->prefix.size(), it->prefix) != 0)
            continue;
        if (const auto& want = it->faults.front().body_contains;
            !want.empty() && body.find(want) == std::string_view::npos)
            continue;
        fault_spec f = std::move(it->faults.front());
        it->faults.pop_front();
        if (it->faults.empty())
            entries_.erase(it);
        return f;
    }
    return std::nullopt;
}

std::size_t fault_script::pending() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& e : entries_)
        n += e.faults.size();
    return n;
}

void fault_script::clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
}

// ---- HTTP helpers -------------------------------------------------------------------------------

split_target_result split_target(std::string_view target) {
    split_target_result r;
    const auto q = target.find('?');
    const auto raw_path = target.substr(0, q);
    r.path = percent_decode(raw_path, false).value_or(std::string(raw_path));
    if (q != std::string_view::npos)
        r.query = std::string(target.substr(q + 1));
    return r;
}

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size())
                return std::nullopt;
            const int hi = hex_value(s[i + 1]);
            const int lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

params parse_params(std::string_view s) {
    params p;
    while (!s.empty()) {
        const auto amp = s.find('&');
        const auto pair = s.substr(0, amp);
        s = amp == std::string_view::npos ? std::string_view{} : s.substr(amp + 1);
        if (pair.empty())
            continue;
        const auto eq = pair.find('=');
        auto key = percent_decode(pair.substr(0, eq), true);
        auto value = eq == std::string_view::npos ? std::optional<std::string>{""}
                                                  : percent_decode(pair.substr(eq + 1), true);
        if (key && value)
            p.emplace(std::move(*key), std::move(*value));
    }
    return p;
}

std::optional<std::string> param(const params& p, const std::string& key) {
    const auto it = p.find(key);
    if (it == p.end())
        return std::nullopt;
    return it->second;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<std::string> bearer_token(const testing::http_request& req) {
    const auto it = req.find(http::field::authorization);
    if (it == req.end())
        return std::nullopt;
    const std::string_view v(it->value().data(), it->value().size());
    if (v.size() < 7 || !iequals(v.substr(0, 7), "Bearer "))
        return std::nullopt;
    auto token = v.substr(7);
    while (!token.empty() && token.front() == ' ')
        token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ')
        token.remove_suffix(1);
    if (token.empty())
        return std::nullopt;
    return std::string(token);
}

std::string media_type(const testing::http_request& req) {
    const auto it = req.find(http::field::content_type);
    if (it == req.end())
        return {};
    std::string_view v(it->value().data(), it->value().size());
    v = v.substr(0, v.find(';'));
    while (!v.empty() && v.back() == ' ')
        v.remove_suffix(1);
    return to_lower(v);
}

testing::reply status_fault_reply(const fault_spec& f) {
    testing::reply r = testing::make_reply(f.status, f.body, f.content_type);
    for (const auto& [name, value] : f.headers)
        r.res.set(name, value);
    return r;
}

void apply_fault(const fault_spec& f, testing::reply& r) {
    switch (f.what) {
        case fault_spec::kind::pass:
        case fault_spec::kind::http_status:
        case fault_spec::kind::vendor_error:
        case fault_spec::kind::expire_tokens:
            break;  // the fake builds these replies itself
        case fault_spec::kind::delay:
            r.delay += f.delay_by;
            break;
        case fault_spec::kind::reset:
            r.fault = testing::fault::reset;
            break;
        case fault_spec::kind::truncate:
            r.fault = testing::fault::truncate;
            break;
        case fault_spec::kind::malformed_json: {
            // Well framed, but cut inside a value: a parser must fail, never crash. Only a
            // success is garbled (fault_script.hpp: "a well-framed 200"): the fault stands for
            // a body mangled between a server that did the work and the client, and garbling
            // an error answer (a 400 INVALID_QUERY_LOCATOR) would turn a documented vendor
            // error into an unknown one no client could act on.
            if (r.res.result_int() < 200 || r.res.result_int() > 299)
                break;
            std::string& body = r.res.body();
            body = body.substr(0, body.size() / 2) + "\x01<!--";
            r.res.set(http::field::content_type, "application/json;charset=UTF-8");
            break;
        }
    }
}

std::string random_hex(std::mt19937_64& rng, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        out.push_back(digits[rng() % 16]);
    return out;
}

std::string random_uuid(std::mt19937_64& rng) {
    std::string h = random_hex(rng, 32);
    h[12] = '4';
    h[16] = "89ab"[rng() % 4];
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
           "-" + h.substr(20, 12);
}

}  // namespace crmsync::fakes
