#include "crmsync/sink/schema.hpp"

#include <algorithm>
#include <cctype>

namespace crmsync::sink {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

}  // namespace

const field_schema* object_schema::find(std::string_view name) const {
    for (const auto& f : fields) {
        if (f.name == name)
            return &f;
    }
    const auto it = std::find_if(fields.begin(), fields.end(), [name](const field_schema& f) {
        return iequals(f.name, name);
    });
    return it == fields.end() ? nullptr : &*it;
}

bool object_schema::is_key(std::string_view name) const {
    return std::any_of(key_fields.begin(), key_fields.end(), [name](const std::string& k) {
        return iequals(k, name);
    });
}

}  // namespace crmsync::sink
