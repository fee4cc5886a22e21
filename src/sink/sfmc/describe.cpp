#include "crmsync/sink/sfmc/describe.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <pugixml.hpp>

namespace crmsync::sink::sfmc {
namespace {

void append_xml_text(std::string& out, std::string_view s) {
    for (const char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out += c;
        }
    }
}

// The local part of a (possibly prefixed) element name: "soap:Body" → "Body".
std::string_view local_name(const pugi::xml_node& n) {
    std::string_view name = n.name();
    const auto colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node child(const pugi::xml_node& parent, std::string_view name) {
    for (auto c = parent.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && local_name(c) == name)
            return c;
    }
    return {};
}

std::string text_of(const pugi::xml_node& parent, std::string_view name) {
    return child(parent, name).text().as_string();
}

bool flag(const pugi::xml_node& parent, std::string_view name) {
    const std::string t = text_of(parent, name);
    return t == "true" || t == "1";
}

std::optional<long> number(const pugi::xml_node& parent, std::string_view name) {
    const std::string t = text_of(parent, name);
    long v = 0;
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc{} || p != t.data() + t.size())
        return std::nullopt;
    return v;
}

// Types whose MaxLength counts characters; for Decimal it counts digits [SFMC-SOAP-DEFIELD].
bool has_char_length(std::string_view type) {
    return type == "Text" || type == "EmailAddress" || type == "Phone" || type == "Locale";
}

}  // namespace

std::string encode_field_retrieve(std::string_view access_token,
                                  std::string_view external_key,
                                  std::string_view continue_id) {
    std::string out = R"(<?xml version="1.0" encoding="UTF-8"?>)"
                      R"(<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/")"
                      R"( xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">)"
                      R"(<s:Header><fueloauth xmlns="http://exacttarget.com">)";
    append_xml_text(out, access_token);
    out +=
        R"(</fueloauth></s:Header><s:Body>)"
        R"(<RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest>)";
    if (!continue_id.empty()) {
        out += "<ContinueRequest>";
        append_xml_text(out, continue_id);
        out += "</ContinueRequest>";
    }
    out += "<ObjectType>DataExtensionField</ObjectType>";
    for (const char* p :
         {"Name", "FieldType", "MaxLength", "IsRequired", "IsPrimaryKey", "Ordinal"}) {
        out += fmt::format("<Properties>{}</Properties>", p);
    }
    out += R"(<Filter xsi:type="SimpleFilterPart"><Property>DataExtension.CustomerKey</Property>)"
           R"(<SimpleOperator>equals</SimpleOperator><Value>)";
    append_xml_text(out, external_key);
    out += "</Value></Filter></RetrieveRequest></RetrieveRequestMsg></s:Body></s:Envelope>";
    return out;
}

result<field_page> decode_field_retrieve(unsigned http_status, std::string_view body) {
    pugi::xml_document doc;
    const auto parsed = doc.load_buffer(body.data(), body.size());
    if (!parsed) {
        failure f = make_failure(errc::bad_response,
                                 fmt::format("describe: http {}: reply is not XML ({} at byte {})",
                                             http_status,
                                             parsed.description(),
                                             parsed.offset));
        f.http_status = http_status;
        return f;
    }
    const auto envelope = doc.document_element();
    const auto soap_body =
        local_name(envelope) == "Envelope" ? child(envelope, "Body") : pugi::xml_node{};
    if (!soap_body) {
        failure f = make_failure(errc::bad_response, "describe: reply is not a SOAP envelope");
        f.http_status = http_status;
        return f;
    }
    if (const auto fault = child(soap_body, "Fault")) {
        const std::string text = text_of(fault, "faultstring");
        const bool token = text == "Token Expired" || text == "Login Failed";
        failure f =
            make_failure(token                ? errc::token_expired
                         : http_status >= 500 ? errc::transient
                                              : errc::request_rejected,
                         fmt::format("describe: SOAP fault: {}", text.empty() ? "?" : text));
        f.http_status = http_status;
        f.vendor_code = text_of(fault, "faultcode");
        return f;
    }
    const auto msg = child(soap_body, "RetrieveResponseMsg");
    if (!msg) {
        failure f =
            make_failure(errc::bad_response,
                         fmt::format("describe: http {}: no RetrieveResponseMsg", http_status));
        f.http_status = http_status;
        return f;
    }
    const std::string status = text_of(msg, "OverallStatus");
    field_page page;
    page.request_id = text_of(msg, "RequestID");
    if (status == "MoreDataAvailable") {
        // The next page is asked for by this id (ContinueRequest): without it there is none.
        if (page.request_id.empty()) {
            failure f = make_failure(errc::bad_response,
                                     "describe: MoreDataAvailable without a RequestID to continue");
            f.http_status = http_status;
            return f;
        }
        page.more = true;
    } else if (status != "OK") {
        // "Error: <reason>" [FuelSDK _parseResponse].
        failure f = make_failure(errc::request_rejected, fmt::format("describe: {}", status));
        f.http_status = http_status;
        return f;
    }
    struct column {
        long ordinal;
        bool key;
        field_schema f;
    };
    std::vector<column> ordered;
    for (auto r = msg.first_child(); r; r = r.next_sibling()) {
        if (r.type() != pugi::node_element || local_name(r) != "Results")
            continue;
        field_schema f;
        f.name = text_of(r, "Name");
        if (f.name.empty())
            return make_failure(errc::bad_response, "describe: a DataExtensionField has no Name");
        f.type = text_of(r, "FieldType");
        if (has_char_length(f.type)) {
            if (const auto n = number(r, "MaxLength"); n && *n > 0)
                f.length = static_cast<std::size_t>(*n);
        }
        const bool key = flag(r, "IsPrimaryKey");
        // A primary-key column can never be empty, whatever IsRequired says.
        f.required = flag(r, "IsRequired") || key;
        const long ordinal = number(r, "Ordinal").value_or(static_cast<long>(ordered.size()));
        ordered.push_back({ordinal, key, std::move(f)});
    }
    std::stable_sort(ordered.begin(), ordered.end(), [](const column& a, const column& b) {
        return a.ordinal < b.ordinal;
    });
    for (auto& c : ordered) {
        if (c.key)
            page.key_fields.push_back(c.f.name);
        page.fields.push_back(std::move(c.f));
    }
    return page;
}

}  // namespace crmsync::sink::sfmc
