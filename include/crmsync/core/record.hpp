#pragma once
// A source record as the mapping plan sees it: its id, its change stamp, and the values of the
// plan's source columns in the plan's own order (no string-keyed lookups on the hot path).

#include "crmsync/core/timestamp.hpp"
#include "crmsync/core/value.hpp"

#include <string>
#include <vector>

namespace crmsync {

struct record {
    std::string id;              // the 18-character CRM id
    timestamp system_modstamp;   // SystemModstamp, millisecond precision
    bool is_deleted = false;     // from queryAll's IsDeleted
    std::vector<value> columns;  // values of plan::source_columns(), same order
};

// A record after mapping: values of plan::destination_fields(), same order.
struct payload {
    std::vector<value> fields;
};

}  // namespace crmsync
