#pragma once
// Pure parsing of Marketo's describe answers into the destination-neutral object_schema
// (api-reference §2.4, 2.5), tested against the documented samples without a network.

#include "crmsync/core/error.hpp"
#include "crmsync/sink/schema.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace crmsync::sink::marketo {

// GET /rest/v1/leads/describe.json: one field per item that has a `rest` block (the others are
// not usable through REST [MK-LEADS]), named by its REST name, with dataType, length and
// rest.readOnly. Marketo marks no lead field required; id_field is "id" when described.
result<object_schema> parse_lead_describe(std::string_view body);

// GET /rest/v1/leads/describe2.json: the fields a lead can be looked up by, i.e. the
// single-field entries of searchableFields (the allowed filterType / lookupField values).
result<std::vector<std::string>> parse_lead_search_fields(std::string_view body);

// GET /rest/v1/customobjects/{apiName}/describe.json: result[0]'s fields (name, dataType,
// length; read_only = !updateable, except for the dedupe fields and the idField, which Marketo
// reports as not updateable because they never change, yet a sync must send them), its
// dedupeFields as key_fields, its idField, and its relationships as links (`relatedTo`, or
// `object` as one doc sample spells it [MK-CO]).
result<object_schema> parse_custom_object_describe(std::string_view body);

}  // namespace crmsync::sink::marketo
