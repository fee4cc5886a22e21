#pragma once
// An sObject's fields as `GET sobjects/{Object}/describe/` reports them (api-reference §1.5
// [SF-DOME-DESCRIBE][JSFORCE-SOAP-SCHEMA]): what schema-drift checks and `validate --online`
// compare the mapping with. Pure parsing; the call itself is client::describe().

#include "crmsync/core/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::source::salesforce {

struct field_describe {
    std::string name;
    std::string type;        // the WSDL fieldType: string, picklist, reference, double, date...
    std::size_t length = 0;  // characters for text types, 0 otherwise
    bool nillable = true;
    std::vector<std::string> picklist;      // active picklistValues[].value, in order
    bool restricted_picklist = false;       // only those values can be stored
    std::vector<std::string> reference_to;  // reference: the objects a lookup points at
    std::string relationship_name;          // reference: "Account" for AccountId
};

struct object_describe {
    std::string name;
    bool custom = false;
    std::vector<field_describe> fields;

    // SOQL names are case-insensitive, so is this lookup.
    const field_describe* find(std::string_view field) const;
    // The reference field whose relationshipName is `relationship` (Account for Account.Name).
    const field_describe* find_relationship(std::string_view relationship) const;
};

// 200 body of sobjects/{Object}/describe/; errc::bad_response with context when it is not a
// DescribeSObjectResult (no name, no fields array, a field without name or type).
result<object_describe> parse_describe(std::string_view body);

}  // namespace crmsync::source::salesforce
