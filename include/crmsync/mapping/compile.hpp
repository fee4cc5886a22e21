#pragma once
// The field-map grammar of a mapping file (SPEC §3), compiled by mapping::compile (plan.hpp).
//
// fields: a list of entries, one per destination field.
//
// | key         | meaning                                                          | default |
// |-------------|------------------------------------------------------------------|---------|
// | to          | destination field name (required; unique, case-insensitively)    |         |
// | from        | one CRM field ("Email", or a relationship path "Account.Name")   |         |
// | coalesce    | list of CRM fields; the first non-empty one wins. When none has  |         |
// |             | a value the result is null if all were null, else ""             |         |
// | constant    | a fixed value (quoted: string; plain: number, true/false, ~      |         |
// |             | null)                                                            |         |
// | concat      | list of parts joined without separator: a plain item is a CRM    |         |
// |             | field, { literal: TEXT } is text. Null fields add nothing; when  |         |
// |             | every field part is empty the result is null (so required and    |         |
// |             | default apply). e.g. concat: [FirstName, { literal: " " },       |         |
// |             | LastName]                                                        |         |
// | transform   | a step or a list of steps, applied in order: trim, lower, upper, | none    |
// |             | title, collapse_spaces, { truncate: N }, { date: FORMAT },       |         |
// |             | { phone: E164 } or { phone: { format, region, invalid } },       |         |
// |             | { default: V } (see transforms.hpp). Steps on null are no-ops    |         |
// | map         | picklist translation { CRM value: destination value }, looked up | none    |
// |             | by exact text after the steps; null and "" are not looked up     |         |
// | unmapped    | a value missing from map: reject (UNMAPPED_VALUE), pass          | reject  |
// |             | (unchanged) or default (the field's default, which must be       |         |
// |             | given)                                                           |         |
// | default     | used when the value is null or "" after map                      | none    |
// | required    | true: an empty final value rejects the record (REQUIRED_MISSING) | false   |
// | description | shown by mapping-doc                                             | ""      |
//
// Exactly one of from, coalesce, constant and concat. Evaluation order per field:
// input -> transform steps -> map (with unmapped) -> default -> required.
//
// phone: format E164 | INTERNATIONAL | NATIONAL | RFC3966 (default E164); region: the ISO code
// national numbers are read in (default: the stream's top-level phone_region, else none);
// invalid: reject (PHONE_INVALID, the default) | pass | clear (null).
//
// The stream key (destination.key) always adds the field key.destination, filled from the
// CRM field key.source and required; no entry may write that field too.
//
// skip_if: one condition, or a list of them (the record is skipped when ANY holds):
//   { field: F, is: empty }        F is null or ""
//   { field: F, is: not_empty }
//   { field: F, equals: V }        F's text equals V's text exactly (case-sensitive); null
//                                  equals nothing
//   { field: F, in: [V1, V2] }     equals one of them
// Fields named in skip_if are read from the CRM like mapped ones.

#include "crmsync/config/diagnostics.hpp"
#include "crmsync/config/model.hpp"
#include "crmsync/mapping/plan.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace crmsync::mapping {

using plans = std::map<std::string, std::shared_ptr<const plan>, std::less<>>;

// Compiles every stream; a stream with problems is left out and its problems are added.
plans compile_all(const config::config& cfg, config::diagnostics& problems);

}  // namespace crmsync::mapping
