#include "crmsync/sink/schema.hpp"

#include "crmsync/core/text.hpp"

#include <algorithm>
#include <cctype>

namespace crmsync::sink {

const field_schema* object_schema::find(std::string_view name) const {
    for (const auto& f : fields) {
        if (f.name == name)
            return &f;
    }
    const auto it = std::find_if(fields.begin(), fields.end(), [name](const field_schema& f) {
        return iequals_ascii(f.name, name);
    });
    return it == fields.end() ? nullptr : &*it;
}

bool object_schema::is_key(std::string_view name) const {
    return std::any_of(key_fields.begin(), key_fields.end(), [name](const std::string& k) {
        return iequals_ascii(k, name);
    });
}

}  // namespace crmsync::sink
