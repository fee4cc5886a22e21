#include "crmsync/sink/schema.hpp"

#include <algorithm>
#include <cctype>

namespace crmsync::sink {

const field_schema* object_schema::find(std::string_view name) const {
    for (const auto& f : fields) {
        if (f.name == name)
            return &f;
    }
    const auto same = [name](const field_schema& f) {
        return std::equal(
            f.name.begin(), f.name.end(), name.begin(), name.end(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            });
    };
    const auto it = std::find_if(fields.begin(), fields.end(), same);
    return it == fields.end() ? nullptr : &*it;
}

}  // namespace crmsync::sink
