#pragma once
// The benchmark's fake Salesforce and fake Marketo: the same wire formats as tests/fakes
// (api-reference.md §1 and §2, shared helpers from tests/fakes and the loopback server from
// tests/support), built for speed instead of for scripting faults. Records are computed from
// their index (data.hpp) rather than stored, Sync Leads bodies are parsed with Boost.JSON, and
// Marketo keeps only a 64-bit hash of each person's lookup value, so the fakes serve a million
// records in a few seconds of their own CPU and little memory (docs/performance.md).
//
// Salesforce: POST /services/oauth2/token (client_credentials, password), GET
// /services/data/vNN.N/{query,queryAll}?q= and /query/<locator>-<offset>, /limits,
// /sobjects/Contact/describe; 401 INVALID_SESSION_ID, Sforce-Limit-Info, SOQL errors.
// Marketo: /identity/oauth/token, POST /rest/v1/leads.json (Sync Leads), leads/describe.json,
// leads/describe2.json, stats/usage.json; 601/602, and with limits on 606/607/615.
// Both: GET /bench/stats, the counters the harness reads (not a vendor endpoint).

#include "data.hpp"
#include "loopback_server.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace crmsync::bench {

struct sf_settings {
    std::uint64_t records = 100'000;
    std::string client_id = "bench-sf-client";
    std::string client_secret = "bench-sf-secret";
    std::string username = "bench@example.com";
    std::string password = "bench-password";
    std::int64_t daily_limit = 5'000'000;  // DailyApiRequests Max: the run never reaches it
};

struct mkto_settings {
    std::string client_id = "bench-mkto-client";
    std::string client_secret = "bench-mkto-secret";
    bool limits = false;  // enforce the limits below (the throttled run)
    int calls_per_20s = 100;
    int max_concurrency = 10;
    std::int64_t daily_quota = 50'000;
    std::chrono::milliseconds latency{0};  // added to every Sync Leads reply
};

// Handlers for testing::loopback_server; each is used from its server's one io thread only.
class fake_sf {
public:
    explicit fake_sf(sf_settings s);
    ~fake_sf();
    testing::reply handle(const testing::http_request& req);
    void set_base_url(std::string url);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

class fake_mkto {
public:
    explicit fake_mkto(mkto_settings s);
    ~fake_mkto();
    testing::reply handle(const testing::http_request& req);

private:
    struct impl;
    std::unique_ptr<impl> impl_;  // outlives the server, whose replies call back into it
};

}  // namespace crmsync::bench
