#include "crmsync/config/model.hpp"

namespace crmsync::config {

const stream* config::find_stream(std::string_view name) const {
    for (const auto& s : streams) {
        if (s.name == name)
            return &s;
    }
    return nullptr;
}

}  // namespace crmsync::config
