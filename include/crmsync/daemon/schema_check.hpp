#pragma once
// A stream's mapping checked against the live describes of its source and destination objects
// (SPEC §4 "Schema drift is caught", §2 `validate --online`). Pure: the describes are fetched
// by the caller (the stream cycle every `describe_every`, validate once).
//
// What "changed type" is compared with: first of all the types the mapping requires, not the
// type seen at an earlier describe. A mapped field's type is acceptable when its value class
// (text, number, boolean, date, datetime, time) is one the mapping can use: the class the
// destination field takes for a plain copy, text/number/boolean for a `map`, date/datetime/text
// for a `date:` transform, anything readable for text transforms, `concat` and `skip_if`. That
// verdict needs no stored baseline and is the same at start, every `describe_every`, after a
// restart and in `validate --online`, so a change made while the daemon was down is caught at
// start and a restart cannot forget it. A change the mapping can still use (string to
// textarea, int to double into a float field) is not drift.
//
// Text into a number, boolean or date field is the one loose case: it may be deliberate (a
// text field holding "2013-05-20"), and preflight and the destination judge every value. It
// is drift only when the field had another class at the stream's previous describe in this
// process (a double turned string), and `validate --online` always reports it. The previous
// describe is also the baseline for plain copies when the destination cannot be described.
// It is held in memory only: a restart or reload is how an operator accepts a change.

#include "crmsync/config/diagnostics.hpp"
#include "crmsync/config/model.hpp"
#include "crmsync/mapping/plan.hpp"
#include "crmsync/sink/schema.hpp"
#include "crmsync/source/salesforce/describe.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::daemon {

// How a value can be used, whatever the vendor calls its type.
enum class value_class { text, number, boolean, date, datetime, time, other };
std::string_view to_string(value_class c) noexcept;

// A Salesforce describe type (api-reference §1.5): string, picklist, id, reference... → text;
// int, double, currency, percent, long → number; address, location, base64, anyType... → other.
value_class salesforce_class(std::string_view type) noexcept;
// A destination type name, case-insensitive: Marketo dataTypes (string, email, integer, float,
// score, boolean, date, datetime...) and Marketing Cloud field types (Text, EmailAddress,
// Number, Decimal, Boolean, Date...). Unknown names are `other`, which accepts any value.
value_class destination_class(std::string_view type) noexcept;

struct schema_finding {
    enum class side { source, destination };
    side on = side::source;
    std::string object;      // the Salesforce object, or the destination object
    std::string field;       // as the mapping names it (Account.Name, leadScore)
    std::string problem;     // "does not exist", "is string; the mapping needs a number"
    config::position where;  // the mapping entry that uses the field
    // Drift: the field vanished or has a type the mapping cannot use. Other findings
    // (length, picklist, read-only) are reported by validate --online but do not stop a stream.
    bool stops_stream = false;

    // "source field Contact.Lead_Score__c does not exist"
    std::string message() const;
};

struct schema_inputs {
    const config::stream* stream = nullptr;
    const mapping::plan* plan = nullptr;
    const source::salesforce::object_describe* source = nullptr;
    // The objects behind relationship paths (Account for Account.Name), by name as describe
    // returned it; a path whose parent is missing here is checked up to the relationship only.
    const std::map<std::string, source::salesforce::object_describe>* parents = nullptr;
    const sink::object_schema* destination = nullptr;  // null: the sink cannot describe
    const source::salesforce::object_describe* previous_source = nullptr;  // null: first look
};

enum class check_depth {
    drift,  // what stops a stream: missing fields, types the mapping cannot use
    full,   // validate --online: also read-only, length and picklist mismatches
};

// Every finding, in mapping order (source fields first, then destination fields).
std::vector<schema_finding> check_schema(const schema_inputs& in, check_depth depth);

// The parent objects to describe for the plan's relationship paths: for Account.Name, the
// object AccountId's relationship Account points at. Relationships the describe lacks are
// left out (check_schema reports them).
std::vector<std::string> parent_objects(const mapping::plan& plan,
                                        const source::salesforce::object_describe& source);

}  // namespace crmsync::daemon
