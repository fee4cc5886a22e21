#pragma once
// Seed data for the sandbox (crmsync-fakes) and for tests that want a realistic org: varied
// Contacts (names with accents, messy emails, salutations needing translation, the city fallback
// chain) plus the traps the daemon must handle: an email Marketo refuses, a Contact whose
// sfdcContactId matches two pre-existing Marketo persons (1007), a soft-deleted Contact,
// converted Leads, and SystemModstamp ties within one second.

#include "fake_marketo.hpp"
#include "fake_salesforce.hpp"
#include "fake_sfmc.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace crmsync::fakes {

// Sandbox credentials (documented in the sandbox's --help).
inline constexpr const char* sandbox_sf_client_id = "sandbox-sf-client";
inline constexpr const char* sandbox_sf_client_secret = "sandbox-sf-secret";
inline constexpr const char* sandbox_sf_username = "sandbox@example.com";
inline constexpr const char* sandbox_sf_password = "sandbox-password";
inline constexpr const char* sandbox_mkto_client_id = "sandbox-mkto-client";
inline constexpr const char* sandbox_mkto_client_secret = "sandbox-mkto-secret";
inline constexpr const char* sandbox_sfmc_client_id = "sandbox-sfmc-client";
inline constexpr const char* sandbox_sfmc_client_secret = "sandbox-sfmc-secret";
inline constexpr const char* sandbox_sfmc_account_id = "5100001234";
// The data extension the sandbox's Marketing Cloud stream writes.
inline constexpr const char* sandbox_data_extension = "CRM_Contacts";

sf_options sandbox_sf_options(unsigned short port = 0);
mkto_options sandbox_mkto_options(unsigned short port = 0);
sfmc_options sandbox_sfmc_options(unsigned short port = 0);
// Creates the sandbox's data extension: ContactId (the CRM id, primary key), Email
// (EmailAddress, required), FirstName, LastName, City.
void seed_sfmc(fake_sfmc& sfmc);

struct seed_options {
    int contacts = 300;
    int leads = 40;
    std::string seed = "sandbox";  // same seed, same data
};

// What was planted, so tests can find it.
struct seed_report {
    std::vector<std::string> account_ids;
    std::vector<std::string> contact_ids;  // every seeded Contact, insertion order
    std::vector<std::string> lead_ids;
    std::string invalid_email_contact;  // Email with invalid syntax
    std::string duplicate_contact;      // sfdcContactId on two Marketo persons
    std::vector<std::int64_t> duplicate_person_ids;
    std::string deleted_contact;             // IsDeleted = true (queryAll only)
    std::string unusual_salutation_contact;  // Salutation "Dr."
    std::vector<std::string> city_a_only;    // MailingCity empty, City_A__c set
    std::vector<std::string> city_u_only;    // MailingCity and City_A__c empty, City_U__c set
    std::vector<std::string> converted_leads;
};

seed_report seed_sandbox(fake_salesforce& sf, fake_marketo& mkto, const seed_options& options = {});

}  // namespace crmsync::fakes
