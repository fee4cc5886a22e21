#pragma once
// A data extension's columns. The REST API has no column describe (api-reference §3); the
// documented route is the SOAP API's Retrieve of DataExtensionField filtered on
// DataExtension.CustomerKey (the external key) [SFMC-SOAP-DEFIELD], POSTed to
// {soap_instance_url}/Service.asmx with the OAuth access token in the SOAP header <fueloauth>
// (the envelope of the Fuel SDKs). Up to 2,500 results come per call; OverallStatus
// MoreDataAvailable asks for a RetrieveRequest with ContinueRequest = the RequestID
// [SFMC-SOAP-CONTINUE]. An expired token answers a SOAP fault "Token Expired" (FuelSDK's
// checkExpiredToken), a refused one "Login Failed"; throttling is a SOAP fault with HTTP 500
// [SFMC-RATE-SOAP].
//
// [SFMC-SOAP-DEFIELD]
// https://developer.salesforce.com/docs/marketing/marketing-cloud/guide/dataextensionfield.html
// [SFMC-SOAP-CONTINUE]
// https://developer.salesforce.com/docs/marketing/marketing-cloud/guide/continuerequest_2500records.html

#include "crmsync/core/error.hpp"
#include "crmsync/sink/schema.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace crmsync::sink::sfmc {

// Pure: the SOAP 1.1 envelope. With `continue_id`, the follow-up request for the next page.
// The envelope holds the access token; it is sent and never logged.
std::string encode_field_retrieve(std::string_view access_token,
                                  std::string_view external_key,
                                  std::string_view continue_id = {});

struct field_page {
    std::vector<field_schema> fields;     // in the data extension's column order (Ordinal)
    std::vector<std::string> key_fields;  // the IsPrimaryKey columns, in the same order
    bool more = false;                    // OverallStatus MoreDataAvailable
    std::string request_id;               // for ContinueRequest
};

// Pure: the reply to a Retrieve. A SOAP fault "Token Expired" or "Login Failed" is
// errc::token_expired; any other fault with HTTP 500 is transient (throttling); an
// OverallStatus other than OK / MoreDataAvailable is request_rejected with its text; XML that
// does not parse, or a reply that is not a RetrieveResponseMsg, is bad_response.
result<field_page> decode_field_retrieve(unsigned http_status, std::string_view body);

}  // namespace crmsync::sink::sfmc
