#pragma once
// The main crmsync.yaml of the integration tests: the Salesforce source `org` on the fake
// Salesforce and the Marketo destination `mkto` on the fake Marketo, with the fakes'
// credentials and the mappings in mappings/*.yaml. A test sets only what it varies.

#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <vector>

namespace crmsync::testing {

struct main_config {
    std::filesystem::path state_dir;  // state.db goes here
    std::string sf_url;
    std::string mkto_url;  // empty: no `mkto` destination
    std::string log_level = "warn";
    std::string sf_auth =
        "{ flow: client_credentials, client_id: fake-sf-client, client_secret: fake-sf-secret }";
    std::string mkto_secret = "fake-mkto-secret";
    std::vector<std::string> sf_keys;    // more "key: value" lines of the source
    std::vector<std::string> mkto_keys;  // more "key: value" lines of the Marketo destination
    std::string destinations;            // more destinations, as YAML indented by two spaces
    std::string top;                     // more top-level keys

    std::string text() const {
        std::string out = fmt::format(R"(state: {}/state.db
log: {{ level: {}, format: json }}
sources:
  org:
    kind: salesforce
    login_url: {}
    auth: {}
)",
                                      state_dir.string(),
                                      log_level,
                                      sf_url,
                                      sf_auth);
        for (const auto& k : sf_keys)
            out += "    " + k + "\n";
        out += "destinations:\n";
        if (!mkto_url.empty()) {
            out += fmt::format(R"(  mkto:
    kind: marketo
    base_url: {}
    client_id: fake-mkto-client
    client_secret: {}
)",
                               mkto_url,
                               mkto_secret);
            for (const auto& k : mkto_keys)
                out += "    " + k + "\n";
        }
        out += destinations;
        out += "mappings: mappings/*.yaml\n";
        out += top;
        return out;
    }
};

// The contacts stream to Marketo that most tests run: `source` takes more settings after
// `settle: 0s` (", every: 1s"), `fields` more entries after email and lastName (line 9 on).
inline std::string contacts_mapping(const std::string& source = "",
                                    const std::string& fields = "") {
    return R"(stream: contacts
source: { from: org, object: Contact, settle: 0s)" +
           source + R"( }
destination:
  to: mkto
  key: { source: Id, destination: sfdcContactId }
fields:
  - { to: email, from: Email, transform: [trim, lower], required: true }
  - { to: lastName, from: LastName }
)" + fields;
}

}  // namespace crmsync::testing
