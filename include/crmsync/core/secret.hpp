#pragma once
// A credential that never prints (STYLE.md rule 5, Vector's sensitive_string): formatting it
// through fmt/spdlog, an ostream or nlohmann::json yields **REDACTED**. The plain text is
// reachable only through reveal(), which belongs at the HTTP call site.

#include <fmt/format.h>
#include <nlohmann/json_fwd.hpp>

#include <iosfwd>
#include <string>

namespace crmsync {

class secret {
public:
    static constexpr std::string_view redacted = "**REDACTED**";

    secret() = default;
    explicit secret(std::string value) : value_(std::move(value)) {}

    const std::string& reveal() const noexcept { return value_; }
    bool empty() const noexcept { return value_.empty(); }

    friend bool operator==(const secret&, const secret&) = default;

private:
    std::string value_;
};

std::ostream& operator<<(std::ostream& os, const secret&);
void to_json(nlohmann::json& j, const secret&);

}  // namespace crmsync

template <>
struct fmt::formatter<crmsync::secret> : fmt::formatter<std::string_view> {
    auto format(const crmsync::secret&, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(crmsync::secret::redacted, ctx);
    }
};
