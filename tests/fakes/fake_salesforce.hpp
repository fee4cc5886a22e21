#pragma once
// A fake Salesforce org (login host and instance in one loopback server) that follows the REST
// wire format of api-reference.md §1: OAuth token flows [SF-TOKEN-CC][SF-REFRESH][GYDE-JWT],
// INVALID_SESSION_ID on bad tokens [SF-ERR], query/queryAll over a SOQL subset with cursor paging
// [SF-QUERY][SF-QUERYALL][SF-QUERYOPTS], whole-second dateTime comparisons [SFSE-234824],
// Sforce-Limit-Info and REQUEST_LIMIT_EXCEEDED [SF-LIMITHDR][SF-LIMITS], describe
// [SF-DOME-DESCRIBE], plus a control API for tests and a fault script (STYLE.md rule 7).
//
// Endpoints
//   POST /services/oauth2/token                         client_credentials | password |
//                                                       refresh_token | jwt-bearer
//   GET  /services/data                                 versions (no auth, no limit header)
//   GET  /services/data/vNN.N/query?q=SOQL              also queryAll; Sforce-Query-Options
//   GET  /services/data/vNN.N/query/<locator>-<offset>  next page (query and queryAll)
//   GET  /services/data/vNN.N/limits[/]
//   GET  /services/data/vNN.N/sobjects[/]               describeGlobal (subset)
//   GET  /services/data/vNN.N/sobjects/<Object>/describe[/]
//   GET  /services/data/vNN.N/sobjects/<Object>/<Id>    one record, all fields
//   POST /services/data/vNN.N/jobs/query                Bulk API 2.0 query job (CSV results)
//   GET  /services/data/vNN.N/jobs/query/<id>[/results]  job info; result sets (maxRecords,
//                                                       locator, Sforce-Locator)
//   GET  /services/data/vNN.N/jobs/query                all query jobs (jobType, queryLocator
//                                                       paging through nextRecordsUrl)
//   PATCH /services/data/vNN.N/jobs/query/<id>          {"state":"Aborted"}
//
// Threading: the server answers on its own io thread; every control method may be called from
// the test thread at any time (one mutex guards the org).

#include "crmsync/core/clock.hpp"
#include "crmsync/core/timestamp.hpp"

#include "fault_script.hpp"
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace crmsync::fakes {

// One field of an sObject, in describe terms ([JSFORCE-SOAP-SCHEMA]).
struct sf_field {
    std::string name;
    // Describe type: id, string, email, phone, url, textarea, picklist, reference, boolean,
    // double, int, currency, percent, date, datetime.
    std::string type = "string";
    std::string label;  // empty = name
    int length = -1;    // -1 = the type's default (255 text, 18 ids, 0 others)
    bool nillable = true;
    bool updateable = true;
    std::vector<std::string> picklist_values;  // picklist: active values, in order
    std::string reference_to;                  // reference: target object
    std::string relationship_name;             // reference: "Account" for AccountId
};

struct sf_object {
    std::string name;
    std::string label;             // empty = name
    std::string key_prefix;        // empty = next custom prefix (a00, a01, ...)
    std::vector<sf_field> fields;  // Id, IsDeleted, CreatedDate, LastModifiedDate and
                                   // SystemModstamp are added when missing
};

// Options (all optional):
// | Name | Description | Default |
// | port | 0 = ephemeral | 0 |
// | client_id / client_secret | the connected app | fake-sf-client / fake-sf-secret |
// | username / password | the integration user (password flow, JWT sub) | integration@example.com /
// fake-password | | refresh_tokens | values accepted by grant_type=refresh_token |
// {"fake-refresh-token"} | | jwt_public_key_pem | when set, JWT assertions must carry a valid RS256
// signature by it | "" (signature not checked) | | jwt_audiences | accepted `aud` values besides
// this server's base URL | login/test.salesforce.com | | daily_limit | DailyApiRequests Max | 15000
// | | session_timeout | tokens stop working this long after issue (fake clock) | none: until
// expire_tokens() | | cursor_ttl | an unused query locator expires after this (fake clock) | 15 min
// | | clock | the fake's "now" (modstamps, token and cursor expiry, issued_at) | system_now |
struct sf_options {
    unsigned short port = 0;
    std::string client_id = "fake-sf-client";
    std::string client_secret = "fake-sf-secret";
    std::string username = "integration@example.com";
    std::string password = "fake-password";
    std::vector<std::string> refresh_tokens = {"fake-refresh-token"};
    std::string jwt_public_key_pem;
    std::vector<std::string> jwt_audiences = {"https://login.salesforce.com",
                                              "https://test.salesforce.com"};
    std::int64_t daily_limit = 15000;
    std::optional<std::chrono::milliseconds> session_timeout;
    std::chrono::milliseconds cursor_ttl = std::chrono::minutes(15);
    clock_fn clock = system_now;
};

class fake_salesforce {
public:
    explicit fake_salesforce(sf_options options = {});
    ~fake_salesforce();
    fake_salesforce(const fake_salesforce&) = delete;
    fake_salesforce& operator=(const fake_salesforce&) = delete;

    std::string base_url() const;  // also the instance_url handed out with tokens
    unsigned short port() const;
    const sf_options& options() const;

    // ---- schema (Contact, Lead and Account are predefined) -------------------------------------
    void define_object(sf_object object);  // adds or replaces an object (data of a replaced
                                           // object is kept for fields that still exist)
    void add_field(const std::string& object, sf_field field);
    void remove_field(const std::string& object, const std::string& field);  // schema drift
    std::optional<sf_object> describe(const std::string& object) const;

    // ---- data
    // ------------------------------------------------------------------------------------ `fields`
    // uses API names; dateTime values are strings in any form timestamp::parse accepts, dates
    // "YYYY-MM-DD". Unknown fields or objects throw std::invalid_argument (a test bug).
    // SystemModstamp/LastModifiedDate/CreatedDate default to the fake's now.
    std::string insert(const std::string& object,
                       const nlohmann::json& fields,
                       std::optional<timestamp> modstamp = std::nullopt);
    // A late-committing transaction ([SF-GETUPDRESULT], api-reference §1.3 pitfall): the record
    // becomes visible now, carrying a SystemModstamp older than records already read.
    std::string insert_late(const std::string& object,
                            const nlohmann::json& fields,
                            timestamp old_modstamp);
    // Applies `changes`; SystemModstamp and LastModifiedDate become `modstamp` or now.
    void update(const std::string& object,
                const std::string& id,
                const nlohmann::json& changes,
                std::optional<timestamp> modstamp = std::nullopt);
    // Soft delete: IsDeleted = true, SystemModstamp = modstamp or now; visible to queryAll only.
    void remove(const std::string& object,
                const std::string& id,
                std::optional<timestamp> modstamp = std::nullopt);
    // Restored from the recycle bin: IsDeleted = false, SystemModstamp = now.
    void undelete(const std::string& object, const std::string& id);
    // Hard delete (emptied recycle bin): gone from queryAll too.
    void purge(const std::string& object, const std::string& id);
    // The record as the REST API renders it (all fields), or nothing.
    std::optional<nlohmann::json> get(const std::string& object, const std::string& id) const;
    std::vector<std::string> ids(const std::string& object) const;  // in Id order, incl. deleted
    // Lead conversion [SF-CDC-LEADCONV]: creates a Contact (from the lead's names, email and
    // `contact_fields`), marks the lead IsConverted, ConvertedContactId, ConvertedDate (date),
    // Status "Closed - Converted". Returns the contact Id.
    std::string convert_lead(const std::string& lead_id,
                             const nlohmann::json& contact_fields = nlohmann::json::object());

    // ---- time, auth, limits
    // -----------------------------------------------------------------------
    void set_clock(clock_fn clock);
    timestamp now() const;
    void expire_tokens();       // every issued token now gets 401 INVALID_SESSION_ID
    void expire_cursors();      // every open query locator now gets INVALID_QUERY_LOCATOR
    std::string issue_token();  // a valid token without the OAuth round trip
    // Every access token handed out so far (expired or not), for tests that prove none leaks.
    std::vector<std::string> issued_tokens() const;
    void set_daily_limit(std::int64_t max);
    void set_api_usage(std::int64_t used);     // pretend other integrations used this much
    std::int64_t api_usage() const;            // N of api-usage=N/M right now
    std::int64_t api_calls() const;            // REST API calls this fake counted, ever
    std::size_t token_requests() const;        // POSTs to the token endpoint (any outcome)
    std::vector<std::string> queries() const;  // every SOQL string received, decoded, in order
    std::size_t query_all_calls() const;       // how many of those came through queryAll
    // Bulk API 2.0 query jobs (api-reference §1.10): a job created from now on answers
    // InProgress to `polls_in_progress` polls, then ends in `end_state` (JobComplete, Failed
    // with `error_message`, Aborted). Default: one InProgress poll, then JobComplete.
    void set_bulk_job_outcome(int polls_in_progress,
                              std::string end_state = "JobComplete",
                              std::string error_message = {});
    // Jobs on this object are refused with 400 INVALIDENTITY [AIRBYTE-RATE] (or no more).
    void set_bulk_unsupported(const std::string& object, bool unsupported = true);
    // SOQL of every Bulk job asked for (these are not in queries()).
    std::vector<std::string> bulk_queries() const;
    std::size_t bulk_jobs_created() const;
    std::size_t bulk_result_calls() const;  // GET .../results, answered or refused
    // Every Bulk job (id, state) in creation order: PATCH {"state":"Aborted"} aborts one.
    std::vector<std::pair<std::string, std::string>> bulk_jobs() const;
    // GET jobs/query lists 1,000 jobs a page (Bulk API 2.0 guide, query_get_all_jobs.htm);
    // fewer to test its paging.
    void set_job_list_page_size(std::size_t jobs);
    // Salesforce may return fewer rows than batchSize [SF-QUERYOPTS]; cap pages at `rows`.
    void set_max_page_size(std::optional<int> rows);

    // ---- faults
    // ------------------------------------------------------------------------------------ Queue
    // faults for requests whose path starts with `path_prefix` (e.g. "/services/data",
    // "/services/oauth2/token"); consumed one per matching request, in order. vendor_error
    // answers `status` (default 500) with [{"message","errorCode": code}].
    void fail_next(std::string path_prefix, std::vector<fault_spec> faults);
    std::size_t pending_faults() const;
    void clear_faults();  // drops every queued fault not met yet

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crmsync::fakes
