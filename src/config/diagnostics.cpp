#include "crmsync/config/diagnostics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace crmsync::config {

std::string diagnostic::to_string() const {
    if (where.line == 0) {
        // A problem with the file as a whole (unreadable, no match for a glob).
        return where.file.empty() ? message : fmt::format("{}: {}", where.file, message);
    }
    return fmt::format("{}:{}:{}: {}", where.file, where.line, where.column, message);
}

void diagnostics::add(position where, std::string message) {
    items_.push_back({std::move(where), std::move(message)});
}

std::vector<diagnostic> diagnostics::sorted() const {
    std::vector<diagnostic> out = items_;
    std::stable_sort(out.begin(), out.end(), [](const diagnostic& a, const diagnostic& b) {
        return std::tie(a.where.file, a.where.line, a.where.column) <
               std::tie(b.where.file, b.where.line, b.where.column);
    });
    return out;
}

void diagnostics::append(const diagnostics& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

}  // namespace crmsync::config
