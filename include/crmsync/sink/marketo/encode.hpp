#pragma once
// Pure encoding of Sync Leads requests and decoding of their responses (api-reference §2.3),
// so the wire format is tested without a network (Fluent Bit's formatter tests).

#include "crmsync/core/error.hpp"
#include "crmsync/core/outcome.hpp"
#include "crmsync/core/record.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::sink::marketo {

// | Name         | Description                                                  | Default        |
// |--------------|--------------------------------------------------------------|----------------|
// | action       | createOnly, updateOnly, createOrUpdate, createDuplicate       | createOrUpdate |
// | lookup_field | the key's destination field: Marketo's dedupe / lookup field  | (required)     |
// | partition    | partitionName for createOnly / createOrUpdate                 | default        |
struct sync_options {
    std::string action = "createOrUpdate";
    std::string lookup_field;
    std::string partition;  // empty: the default partition
};

// | Name      | Description                                                    | Default        |
// |-----------|----------------------------------------------------------------|----------------|
// | action    | createOnly, updateOnly, createOrUpdate                          | createOrUpdate |
// | dedupe_by | dedupeFields (the object's dedupe fields) or idField (marketoGUID) | dedupeFields |
struct custom_object_options {
    std::string action = "createOrUpdate";
    std::string dedupe_by = "dedupeFields";
};

// One record as a JSON object of destination field → value. Nulls are sent as null so a value
// cleared in the CRM is cleared in Marketo too: the CRM owns the mapped fields.
std::string encode_record(const std::vector<std::string>& fields, const payload& p);

// POST /rest/v1/leads.json body: action, lookupField (left out for createDuplicate, which does
// not dedupe), partitionName when set, input.
std::string encode_sync_leads(const sync_options& o,
                              const std::vector<std::string>& fields,
                              std::span<const payload> batch);

// POST /rest/v1/customobjects/{apiName}.json body: action, dedupeBy, input (api-reference §2.5).
std::string encode_sync_custom_objects(const custom_object_options& o,
                                       const std::vector<std::string>& fields,
                                       std::span<const payload> batch);

// Whether a sync call with `action` may go out twice with the effect of once (the HTTP client's
// http::request::idempotent): createOrUpdate and updateOnly address each record by its key
// (lookupField, dedupeBy), so a repeat writes the same values into the same records [MK-LEADS]
// [MK-CO]; a repeated createOnly meets the records the first made (skipped, 1005) and a repeated
// createDuplicate makes second ones.
bool sync_action_is_idempotent(std::string_view action) noexcept;

// The 200 body of a sync call (Sync Leads or Sync Custom Objects; `what` names the endpoint): one
// outcome per input record (results come in input order), or the response-level failure (errc from
// classify_response_code, vendor_code set), or errc::bad_response if the body is malformed or the
// result count does not match. Custom-object results carry `seq`, their index in the input, and are
// put back in input order by it.
result<std::vector<record_outcome>> decode_sync_response(std::string_view body,
                                                         std::size_t expected,
                                                         std::string_view what = "leads.json");
// The same reading through nlohmann/json alone: decode_sync_response's fallback for every body
// its simdjson path does not take, and the reference its tests compare it with.
result<std::vector<record_outcome>> reference_sync_response(std::string_view body,
                                                            std::size_t expected,
                                                            std::string_view what = "leads.json");

}  // namespace crmsync::sink::marketo
