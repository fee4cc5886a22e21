// Fuzz target: the bytes are the 200 body of a Salesforce query, queryAll or nextRecordsUrl
// (api-reference §1.3). parse_query_page must return a page or errc::bad_response: never a
// crash, an exception or a hang. Invariants: a page has one value per column for each record,
// a next URL exactly when the body says it is not done, and it round-trips: the page written
// back in Salesforce's shape parses to the same page (nlohmann/json's fuzzer does the same).

#include "crmsync/source/salesforce/parse.hpp"

#include "fuzz_check.hpp"
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

using crmsync::value;
using json = nlohmann::json;

// Columns as a plan asks for them: plain fields, a relationship path, and two paths into one
// parent object, so nesting is exercised.
const std::vector<std::string> columns = {
    "Email", "Lead_Score__c", "Account.Name", "Account.Owner.Email", "IsDeleted"};

// A value as Salesforce sends it: numbers keep their literal, objects came as their text.
std::string literal(const value& v) {
    switch (v.type()) {
        case value::kind::null:
            return "null";
        case value::kind::boolean:
        case value::kind::number:
            return v.text();
        case value::kind::string:
            return json(v.text()).dump();
    }
    return "null";
}

std::string write_back(const crmsync::source::salesforce::query_page& page,
                       const crmsync::source::salesforce::column_set& set) {
    std::string records;
    for (const auto& r : page.records) {
        // Nested objects are written by hand so that number literals stay byte for byte.
        std::map<std::string, std::string> leaves;  // JSON pointer -> literal
        for (std::size_t i = 0; i < set.size(); ++i) {
            std::string pointer;
            for (const auto& part : set.paths()[i])
                pointer += "/" + part;
            leaves[pointer] = literal(r.columns[i]);
        }
        std::function<std::string(const std::string&)> object = [&](const std::string& prefix) {
            std::map<std::string, bool> children;  // name -> is leaf
            for (const auto& [pointer, lit] : leaves) {
                if (pointer.rfind(prefix + "/", 0) != 0)
                    continue;
                const auto rest = pointer.substr(prefix.size() + 1);
                const auto slash = rest.find('/');
                children[rest.substr(0, slash)] = slash == std::string::npos;
            }
            std::string out = "{";
            if (prefix.empty()) {
                out += "\"Id\":" + json(r.id).dump() +
                       ",\"SystemModstamp\":" + json(r.system_modstamp.to_iso()).dump();
                if (!children.count("IsDeleted"))
                    out += std::string(",\"IsDeleted\":") + (r.is_deleted ? "true" : "false");
            }
            for (const auto& [name, leaf] : children) {
                if (out.size() > 1)
                    out += ",";
                out += json(name).dump() + ":" +
                       (leaf ? leaves[prefix + "/" + name] : object(prefix + "/" + name));
            }
            return out + "}";
        };
        if (!records.empty())
            records += ",";
        records += object("");
    }
    std::string body = "{\"totalSize\":" + std::to_string(page.total_size) +
                       ",\"done\":" + (page.next_records_url ? "false" : "true");
    if (page.next_records_url)
        body += ",\"nextRecordsUrl\":" + json(*page.next_records_url).dump();
    return body + ",\"records\":[" + records + "]}";
}

bool same(const crmsync::record& a, const crmsync::record& b) {
    return a.id == b.id && a.system_modstamp.at == b.system_modstamp.at &&
           a.is_deleted == b.is_deleted && a.columns == b.columns;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace crmsync::source::salesforce;
    static const column_set set(columns);
    const auto page = parse_query_page(crmsync::fuzz::as_text(data, size), set);
    if (!page) {
        CRMSYNC_FUZZ_CHECK(page.error().code == crmsync::errc::bad_response);
        return 0;
    }
    for (const auto& r : page->records)
        CRMSYNC_FUZZ_CHECK(r.columns.size() == set.size());
    const std::string again = write_back(*page, set);
    const auto reread = parse_query_page(again, set);
    CRMSYNC_FUZZ_CHECK(reread);
    CRMSYNC_FUZZ_CHECK(reread->records.size() == page->records.size());
    CRMSYNC_FUZZ_CHECK(reread->next_records_url == page->next_records_url);
    CRMSYNC_FUZZ_CHECK(reread->total_size == page->total_size);
    for (std::size_t i = 0; i < page->records.size(); ++i)
        CRMSYNC_FUZZ_CHECK(same(reread->records[i], page->records[i]));
    return 0;
}
