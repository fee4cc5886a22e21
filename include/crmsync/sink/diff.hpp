#pragma once
// What an upsert would change in a record the destination holds (`preview --diff`), field by
// field. Pure: the payload as the sink encodes it (sink::to_json) against the record as the
// destination sends it back.
//
// Values compare as the destination stores them, so a field that would not really change is
// not reported: null, "" and a field the record lacks are all "no value"; numbers compare
// numerically, also with a number written as text ("12.0" = 12); a boolean equals the text
// true/false; two texts that are both ISO-8601 datetimes compare as instants
// ("2013-05-20T20:49:32.000+0000" = "2013-05-20T20:49:32Z"). Other texts compare exactly.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace crmsync::sink {

struct field_change {
    std::string field;    // as the payload names it
    nlohmann::json from;  // the destination's value now (null: none)
    nlohmann::json to;    // what the payload would write
};

// The fields of `sent` (a JSON object, in its order) whose value differs from `stored`'s;
// `stored` fields are found by name case-insensitively, as destinations match field names.
std::vector<field_change> diff_record(const nlohmann::ordered_json& sent,
                                      const nlohmann::json& stored);

// Whether two values are the same stored value (the rules above).
bool same_value(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace crmsync::sink
