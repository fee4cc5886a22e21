#pragma once
// A fake Marketo Engage instance following api-reference.md §2: Identity tokens that stay the
// same until they expire [MK-AUTH], the HTTP 200 envelope with response-level 6xx/7xx and
// record-level 1xxx errors [MK-ERR], Sync Leads semantics [MK-LEADS], the rate window,
// concurrency and daily quota [MK-REST][MK-BEST], lead describe/describe2, usage stats
// [MK-USAGE], custom objects [MK-CO], plus a control API for tests and a fault script (STYLE.md
// rule 7).
//
// Endpoints
//   GET|POST /identity/oauth/token?grant_type=client_credentials&client_id=..&client_secret=..
//   POST /rest/v1/leads.json                     Sync Leads (GET with filterType: Get Leads)
//   GET  /rest/v1/leads.json?filterType=&filterValues=[&fields=&batchSize=&nextPageToken=]
//   POST /rest/v1/leads.json?_method=GET          the same with a form body (414 workaround)
//   POST /rest/v1/leads/delete.json               (also POST leads.json?_method=DELETE)
//   GET  /rest/v1/lead/{id}.json
//   GET  /rest/v1/leads/describe.json, /rest/v1/leads/describe2.json
//   GET  /rest/v1/stats/usage.json
//   POST /rest/v1/customobjects/{apiName}.json    Sync Custom Objects
//   GET  /rest/v1/customobjects/{apiName}/describe.json
//   GET  /rest/v1/customobjects/{apiName}.json?filterType=&filterValues=[&fields=]
//
// Threading: the server answers on its own io thread; control methods may be called from the
// test thread at any time (one mutex guards the instance).

#include "crmsync/core/clock.hpp"

#include "fault_script.hpp"
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace crmsync::fakes {

// One lead field as describe reports it.
struct mkto_field {
    std::string name;                  // REST name (also the describe2 "name")
    std::string data_type = "string";  // string, email, phone, integer, float, boolean, date,
                                       // datetime, text, url, currency, score, percent, reference
    std::string display_name;          // empty = name
    int length = -1;                   // -1 = 255 for string/email/phone/url, none otherwise
    bool read_only = false;
    bool searchable = false;  // usable as filterType / lookupField (describe2)
    std::string soap_name;    // empty = name with an upper-case first letter
};

// A Marketo custom object type as its describe reports it [MK-CO]. marketoGUID, createdAt and
// updatedAt are added by the fake; `link_field` (one of `fields`) holds the value of the
// person's `link_lead_field` that links a record to its person (relationships[], type parent,
// relatedTo Lead).
struct mkto_custom_object {
    std::string api_name;                    // e.g. "license_c"
    std::string display_name;                // empty = api_name
    std::vector<std::string> dedupe_fields;  // each also in `fields`; not updateable
    std::vector<mkto_field> fields;          // name, data_type, length (read_only ignored)
    std::string link_field;                  // empty: not linked to persons
    std::string link_lead_field;             // e.g. "sfdcContactId"
};

struct mkto_limits {
    int calls_per_20s = 100;                   // more in a rolling 20 s -> 606 [MK-BEST]
    int max_concurrency = 10;                  // more in flight -> 615
    std::int64_t daily_quota = 50000;          // calls per day (from midnight US Central) -> 607
    std::chrono::milliseconds window{20'000};  // the rate window; tests may shorten it
};

// Options (all optional):
//
// | Name                      | Description                                       | Default       |
// |---------------------------|---------------------------------------------------|---------------|
// | port                      | 0 = ephemeral                                     | 0             |
// | client_id / client_secret | the custom service's credentials                  | fake-mkto-... |
// | scope                     | the API-only user in token responses and usage    | apis@fake     |
// | token_lifetime            | lifetime of a new access token                    | 3600 s        |
// | limits                    | rate window, concurrency and daily quota          | 100/10/50000  |
// | latency                   | added to every REST reply (still in flight)       | 0             |
// | clock                     | the fake's "now": tokens, window, quota day, dates| system_now    |
struct mkto_options {
    unsigned short port = 0;
    std::string client_id = "fake-mkto-client";
    std::string client_secret = "fake-mkto-secret";
    std::string scope = "apis@fake";
    std::chrono::seconds token_lifetime{3600};
    mkto_limits limits;
    std::chrono::milliseconds latency{0};
    clock_fn clock = system_now;
};

class fake_marketo {
public:
    explicit fake_marketo(mkto_options options = {});
    ~fake_marketo();
    fake_marketo(const fake_marketo&) = delete;
    fake_marketo& operator=(const fake_marketo&) = delete;

    std::string base_url() const;  // http://127.0.0.1:PORT; REST under /rest, Identity /identity
    unsigned short port() const;
    const mkto_options& options() const;

    // Lead schema.
    void add_field(mkto_field field);
    void remove_field(const std::string& name);  // destination-side schema drift
    std::vector<mkto_field> fields() const;

    // Persons.
    std::vector<nlohmann::json> leads() const;  // every person, ascending id
    // Persons whose `field` equals `value` (strings compare case-insensitively, as Marketo's
    // dedupe does).
    std::vector<nlohmann::json> find(const std::string& field, const nlohmann::json& value) const;
    std::optional<nlohmann::json> lead(std::int64_t id) const;
    // Seeds a person as-is (no dedupe, no validation): e.g. two persons with one sfdcContactId,
    // the pre-existing duplicate that makes Sync Leads answer 1007. Returns its id.
    std::int64_t add_person(const nlohmann::json& person, const std::string& partition = "Default");

    // Lead partitions. Every instance has "Default". Sync Leads with partitionName
    // (createOnly/createOrUpdate) creates there; a partition that does not exist or the API user
    // may not write → 1008; no name while the user may not write Default → 1009; updating a person
    // of another partition → 1010.
    void add_partition(const std::string& name);
    void set_api_partitions(std::set<std::string> writable);  // empty: every partition
    std::string partition_of(std::int64_t id) const;          // empty for an unknown id

    // Custom objects. Sync (createOnly/updateOnly/createOrUpdate, dedupeBy dedupeFields or
    // idField), describe, query by one field; an unknown apiName answers 610. Records are kept in
    // creation order.
    void add_custom_object(mkto_custom_object type);
    std::vector<nlohmann::json> custom_records(const std::string& api_name) const;
    // Seeds a record as-is (another integration's); marketoGUID and dates are added.
    void add_custom_record(const std::string& api_name, nlohmann::json record);
    // The person a custom-object record links to (its link field = the person's link lead
    // field), if exactly one does.
    std::optional<nlohmann::json> linked_person(const std::string& api_name,
                                                const nlohmann::json& record) const;
    // Bodies of the Sync Custom Objects POSTs, like push_calls().
    std::vector<nlohmann::json> custom_push_calls(const std::string& api_name) const;

    // Traffic and limits. push_calls(): bodies of the Sync Leads POSTs that passed
    // authentication (refused by a limit or not), in arrival order; a body that is not JSON is
    // kept as a string.
    std::vector<nlohmann::json> push_calls() const;
    int calls_in_window() const;       // counted calls in the current rolling 20 s
    int peak_calls_in_window() const;  // the most counted calls ever seen in one 20 s window
    int peak_concurrency() const;      // the most accepted requests ever in flight at once
    std::int64_t calls_today() const;  // counted calls in the current quota day
    // How many times each response-level error code was sent ("606", "615", "601", ...).
    std::map<std::string, int> errors_sent() const;
    void set_limits(mkto_limits limits);
    void set_latency(std::chrono::milliseconds latency);
    void set_calls_today(std::int64_t n);  // pretend other integrations used the quota

    // Time and auth.
    void set_clock(clock_fn clock);
    void expire_tokens();       // issued tokens answer 602; Identity then hands out a new one
    std::string issue_token();  // the current (or a new) token without the Identity round trip
    // Every access token handed out so far (expired or not), for tests that prove none leaks.
    std::vector<std::string> issued_tokens() const;

    // Faults. Queue
    // faults for requests whose path starts with `path_prefix` ("/rest/v1/leads.json",
    // "/identity"); consumed one per matching request, in order. vendor_error answers HTTP 200
    // with {"success":false,"errors":[{"code","message"}]} (message defaults to the documented
    // text for the code); such calls are not counted, like any request that failed before
    // Marketo executed it.
    void fail_next(std::string path_prefix, std::vector<fault_spec> faults);
    std::size_t pending_faults() const;
    void clear_faults();  // drops every queued fault not met yet

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace crmsync::fakes
