#pragma once
// One CRM custom object with a lookup to Contact, and the Marketo custom object it feeds, shared
// by the sink tests, the integration tests and anything seeding the fakes: a License__c per
// license in Salesforce; a license_c record per license in Marketo, deduplicated by licenseId
// (the CRM id) and linked to its person by contactSfdcId = the person's sfdcContactId.

#include "fake_marketo.hpp"
#include "fake_salesforce.hpp"

namespace crmsync::fakes {

// License__c: Name, Product__c, Seats__c (double), Contact__c (reference to Contact).
sf_object license_sf_object();

// license_c: licenseId (dedupe field), product, seats (integer), contactSfdcId (link field).
mkto_custom_object license_mkto_object();

}  // namespace crmsync::fakes
