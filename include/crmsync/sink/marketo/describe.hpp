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

}  // namespace crmsync::sink::marketo
