#include "crmsync/core/secret.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace crmsync {

std::ostream& operator<<(std::ostream& os, const secret&) {
    return os << secret::redacted;
}

void to_json(nlohmann::json& j, const secret&) {
    j = secret::redacted;
}

}  // namespace crmsync
