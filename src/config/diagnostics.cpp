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
    apply_redactions(items_.back());
}

void diagnostics::redact(const position& where, std::string value, std::string shown) {
    if (value.empty() || value == shown)
        return;
    redactions_.push_back({where, std::move(value), std::move(shown)});
    for (auto& d : items_)
        apply(redactions_.back(), d);
}

void diagnostics::apply(const redaction& r, diagnostic& d) {
    const bool here = r.where.file == d.where.file && r.where.line == d.where.line &&
                      r.where.column == d.where.column;
    if (!here && r.value.size() < min_redacted_size)
        return;
    for (auto at = d.message.find(r.value); at != std::string::npos;
         at = d.message.find(r.value, at + r.shown.size())) {
        d.message.replace(at, r.value.size(), r.shown);
    }
}

void diagnostics::apply_redactions(diagnostic& d) const {
    // Longest first: a whole scalar before the values substituted into it, so that a message
    // quoting the whole value shows the scalar as written.
    std::vector<const redaction*> order;
    order.reserve(redactions_.size());
    for (const auto& r : redactions_)
        order.push_back(&r);
    std::stable_sort(order.begin(), order.end(), [](const redaction* a, const redaction* b) {
        return a->value.size() > b->value.size();
    });
    for (const redaction* r : order)
        apply(*r, d);
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
    for (const auto& r : other.redactions_) {
        redactions_.push_back(r);
        for (auto& d : items_)
            apply(r, d);
    }
    for (diagnostic d : other.items_) {
        apply_redactions(d);
        items_.push_back(std::move(d));
    }
}

}  // namespace crmsync::config
