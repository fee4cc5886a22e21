#pragma once
// The configuration as plain structs with defaults (SPEC §3). Loading and validation live in
// load.hpp; the field map of each stream is compiled by mapping/compile.hpp.

#include "crmsync/config/diagnostics.hpp"
#include "crmsync/core/secret.hpp"
#include "crmsync/core/value.hpp"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace crmsync::config {

using duration = std::chrono::milliseconds;

enum class auth_flow { client_credentials, jwt_bearer, refresh_token, password };

struct salesforce_auth {
    auth_flow flow = auth_flow::client_credentials;
    std::string client_id;
    secret client_secret;
    std::string username;          // jwt_bearer, password
    secret password;               // password flow: password + security token
    std::string private_key_file;  // jwt_bearer
    secret refresh_token;          // refresh_token flow
};

struct source {
    std::string name;
    std::string kind = "salesforce";
    std::string login_url = "https://login.salesforce.com";
    std::string api_version = "61.0";
    salesforce_auth auth;
    double api_budget = 1.0;  // fraction of the org's daily API limit ("20%" -> 0.2)
    // While the api_budget holds its streams, /limits is read again this often (at least; see
    // source::salesforce::plan_budget_recheck) so they resume once the rolling day frees room.
    duration limits_every{300'000};
    // A Bulk API 2.0 query job still UploadComplete or InProgress this long after its creation
    // is aborted and the load fails; the next run starts a new one.
    duration bulk_timeout{21'600'000};
    std::string ca_file;
    position where;
};

enum class destination_kind { marketo, sfmc };

struct destination_limits {
    int calls_per_20s = 100;
    int concurrency = 10;
    long daily_calls = 50'000;
    // Batches one stream has sent and not yet committed, at most: a kill -9 sends that many
    // again at most. The loader's default: Marketo's concurrency, 4 for sfmc.
    int batches_in_flight = 10;
};

// Marketing Cloud data-extension writes (api-reference §3.2-3.3).
struct sfmc_options {
    // Rows per synchronous rowset call: Salesforce's best practice is at most 50 [SFMC-ROWSET-NEW].
    int batch_size = 50;
    // A batch of at least this many rows goes through the async rows API instead (one request,
    // then status polling); 0 = never. At most 32,000, the async hard limit [SFMC-HELP-LIMITS].
    int async_threshold = 1000;
};

struct destination {
    std::string name;
    destination_kind kind = destination_kind::marketo;
    std::string base_url;    // marketo: https://<munchkin>.mktorest.com
    std::string auth_url;    // sfmc
    std::string account_id;  // sfmc business unit MID
    std::string client_id;
    secret client_secret;
    destination_limits limits;
    sfmc_options sfmc;  // kind == sfmc only
    std::string ca_file;
    position where;
};

enum class deletes_mode { ignore, remove, flag };

struct deletes_policy {
    deletes_mode mode = deletes_mode::ignore;
    std::string flag_field;  // mode == flag
    value flag_value;        // mode == flag
};

enum class converted_mode { skip, follow_contact };

struct stream_source {
    std::string from;
    std::string object;
    std::string where;  // optional SOQL condition, ANDed with the watermark window
    duration every{60'000};
    duration settle{30'000};
    duration overlap{300'000};
    // How often the source and destination objects are described again to catch schema drift
    // (SPEC §4); they are always described before a stream's first run.
    duration describe_every{900'000};
    deletes_policy deletes;
    std::optional<converted_mode> converted;  // Lead streams only
    // An initial load (no watermark) of more records than this goes through a Bulk API 2.0
    // query job instead of REST paging (api-reference §1.10); 0 disables it.
    long bulk_threshold = 50'000;
};

struct stream_key {
    std::string source = "Id";
    std::string destination;
};

// How a Marketo custom-object sync matches records (api-reference §2.5 dedupeBy): by the
// object's dedupe fields, or by marketoGUID (updateOnly only).
enum class dedupe_mode { dedupe_fields, id_field };

struct stream_destination {
    std::string to;
    std::string object = "lead";  // lead | custom:<apiName> | data_extension:<externalKey>
    std::string action = "createOrUpdate";
    std::string partition;                               // Marketo partitionName
    dedupe_mode dedupe_by = dedupe_mode::dedupe_fields;  // custom objects only
    stream_key key;

    // The apiName of a `custom:<apiName>` object; empty for any other object.
    std::string_view custom_object() const noexcept;
};

struct stream {
    std::string name;
    std::string description;
    std::string file;  // the mapping file it came from
    stream_source source;
    stream_destination destination;
    YAML::Node fields;   // compiled by mapping::compile (keeps positions)
    YAML::Node skip_if;  // compiled by mapping::compile; null when absent
    // The region `phone` steps read numbers without a country code in, unless a step names its
    // own; checked by mapping::compile (which knows libphonenumber's regions). Null when absent.
    YAML::Node phone_region;
    position where;
};

struct log_options {
    std::string level = "info";   // trace | debug | info | warn | error
    std::string format = "json";  // json | text
};

struct admin_options {
    std::string listen = "127.0.0.1:9464";
};

struct config {
    std::string file;
    std::string state_path = "/var/lib/crmsync/state.db";
    position state_where;  // where `state` is set (a reload may not change it)
    log_options log;
    std::optional<admin_options> admin;
    std::map<std::string, source> sources;
    std::map<std::string, destination> destinations;
    std::vector<stream> streams;

    const stream* find_stream(std::string_view name) const;
};

}  // namespace crmsync::config
