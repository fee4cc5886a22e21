#include "sample_objects.hpp"

namespace crmsync::fakes {

sf_object license_sf_object() {
    return {.name = "License__c",
            .label = "License",
            .key_prefix = "a0L",
            .fields = {{.name = "Name", .type = "string", .length = 80},
                       {.name = "Product__c", .type = "string", .length = 80},
                       {.name = "Seats__c", .type = "double"},
                       {.name = "Contact__c",
                        .type = "reference",
                        .reference_to = "Contact",
                        .relationship_name = "Contact__r"}}};
}

mkto_custom_object license_mkto_object() {
    return {.api_name = "license_c",
            .display_name = "License",
            .dedupe_fields = {"licenseId"},
            .fields = {{.name = "licenseId", .length = 18},
                       {.name = "product", .length = 80},
                       {.name = "seats", .data_type = "integer"},
                       {.name = "contactSfdcId", .length = 18}},
            .link_field = "contactSfdcId",
            .link_lead_field = "sfdcContactId"};
}

}  // namespace crmsync::fakes
