#pragma once
// A fake Salesforce Marketing Cloud tenant following api-reference.md §3: the v2 token endpoint
// with expires_in and the documented error bodies [SFMC-TOKEN][SFMC-DEVTOOLS-AUTH], data
// extensions written through the synchronous rowset call [SFMC-ROWSET] and the async rows API
// with status and paged results [SFMC-ASYNC*], the REST error object and codes [SFMC-ERR],
// 429 throttling [SFMC-RATE], and the SOAP Retrieve of DataExtensionField with the fueloauth
// header (sink/sfmc/describe.hpp). One loopback port serves the auth, REST and SOAP hosts: the
// token answer names this server as rest_instance_url and soap_instance_url.
//
// Endpoints
//   POST /v2/token                                      JSON client_credentials (+ account_id)
//   POST /hub/v1/dataevents/key:{key}/rowset           upsert rows (all or nothing, see below)
//   PUT  /data/v1/async/dataextensions/key:{key}/rows  queue an upsert; 202 {requestId}
//   POST /data/v1/async/dataextensions/key:{key}/rows  queue an insert
//   GET  /data/v1/async/{requestId}/status             Pending for `async_pending_polls` polls
//   GET  /data/v1/async/{requestId}/results?page=N     one item per row, in row order
//   POST /Service.asmx                                 SOAP Retrieve DataExtensionField
//
// Where the documentation is silent the fake makes a choice and says so: a rowset with one bad
// row is refused whole with 400 10006 and additionalErrors that name the column but not the
// row (the client cannot tell which row, which is what it must cope with); an unknown key on
// the rowset call is 404 errorcode 10000; a successful async item reads {"status":"OK"}.
//
// Threading: the server answers on its own io thread; control methods may be called from the
// test thread at any time (one mutex guards the tenant).

#include "crmsync/core/clock.hpp"

#include "fault_script.hpp"
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace crmsync::fakes {

// One data-extension column as Contact Builder defines it (DataExtensionField).
struct sfmc_column {
    std::string name;
    std::string type = "Text";  // Text, Number, Decimal, Date, Boolean, EmailAddress, Phone
    int max_length = 0;         // 0: the type's default (Text 50 [SSJS Fields.Add], Email 254)
    bool primary_key = false;   // implies required
    bool required = false;
};

struct sfmc_data_extension {
    std::string external_key;
    std::vector<sfmc_column> columns;
};

// A recorded request, for tests that count calls or measure the time between them.
struct sfmc_call {
    std::string method;
    std::string path;  // without the query
    std::chrono::steady_clock::time_point at;
    unsigned status = 0;
};

// Options (all optional):
// | Name | Description | Default |
// | port | 0 = ephemeral | 0 |
// | client_id / client_secret | the installed package's credentials | fake-sfmc-client /
// fake-sfmc-secret | | account_id | the business unit MID the package may address | 5100001234 | |
// token_lifetime | expires_in of a new token | 1079 s (the fixture's) | | retry_after | Retry-After
// of a scripted 429 50100, seconds | 5 | | async_pending_polls | status polls that still answer
// Pending | 1 | | results_page_size | items per results page | 50 | | soap_page_size |
// DataExtensionField results per Retrieve page | 2500 | | clock | the fake's "now", for token
// expiry | system_now |
struct sfmc_options {
    unsigned short port = 0;
    std::string client_id = "fake-sfmc-client";
    std::string client_secret = "fake-sfmc-secret";
    std::string account_id = "5100001234";
    std::chrono::seconds token_lifetime{1079};
    int retry_after = 5;
    int async_pending_polls = 1;
    int results_page_size = 50;
    int soap_page_size = 2500;
    clock_fn clock = system_now;
};

class fake_sfmc {
public:
    explicit fake_sfmc(sfmc_options options = {});
    ~fake_sfmc();
    fake_sfmc(const fake_sfmc&) = delete;
    fake_sfmc& operator=(const fake_sfmc&) = delete;

    std::string base_url() const;  // http://127.0.0.1:PORT: auth, REST and SOAP host
    unsigned short port() const;
    const sfmc_options& options() const;

    // ---- data extensions
    void add_data_extension(sfmc_data_extension de);
    // Rows of a data extension, in primary-key order; each a JSON object column → value.
    std::vector<nlohmann::json> rows(const std::string& external_key) const;
    std::optional<nlohmann::json> row(const std::string& external_key,
                                      const std::string& key_value) const;

    // ---- traffic
    std::vector<sfmc_call> calls() const;               // every request, in arrival order
    std::vector<nlohmann::json> rowset_bodies() const;  // accepted-for-parsing rowset bodies
    std::vector<nlohmann::json> async_bodies() const;   // queued async request bodies
    std::size_t count(const std::string& method, const std::string& path_prefix) const;
    int token_requests() const;
    // How many times each REST errorcode / HTTP status was sent: "10006", "0", "50100", "404".
    std::map<std::string, int> errors_sent() const;

    // ---- time, auth, async behaviour
    void set_clock(clock_fn clock);
    void expire_tokens();  // every issued token answers 401 errorcode 0 from now on
    // Every access token handed out so far (expired or not), for tests that prove none leaks.
    std::vector<std::string> issued_tokens() const;
    void set_async_pending_polls(int n);
    // The next queued async request ends with requestStatus Error (the whole request failed).
    void fail_next_async_request();

    // ---- faults
    // Queue faults for requests whose path starts with `path_prefix` ("/hub/v1/dataevents",
    // "/v2/token", "/data/v1/async", "/Service.asmx"). vendor_error answers the documented REST
    // error for `code`: "0" → 401 Not Authorized, "50100" → 429 with Retry-After, "50200" →
    // 429 without, "20000"/"20001"/"20002" → 403, "10000".."10006" → 400; such requests are
    // not executed.
    void fail_next(std::string path_prefix, std::vector<fault_spec> faults);
    std::size_t pending_faults() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crmsync::fakes
