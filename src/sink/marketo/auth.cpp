#include "crmsync/sink/marketo/auth.hpp"

#include <nlohmann/json.hpp>

namespace crmsync::sink::marketo {

result<identity_token> parse_identity_token(std::string_view body) {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object())
        return make_failure(errc::bad_response, "malformed token response: not a JSON object");
    const auto token = j.find("access_token");
    if (token == j.end() || !token->is_string() || token->get_ref<const std::string&>().empty())
        return make_failure(errc::bad_response, "malformed token response: no access_token");
    const auto expires = j.find("expires_in");
    // Bounded before it reaches a clock: a huge or negative lifetime added to steady_clock::now()
    // would overflow, and no Marketo token lives longer than an hour [MK-AUTH].
    constexpr std::int64_t max_lifetime = 24 * 3600;
    if (expires == j.end() || !expires->is_number_integer() ||
        (expires->is_number_unsigned()
             ? expires->get<std::uint64_t>() > static_cast<std::uint64_t>(max_lifetime)
             : (expires->get<std::int64_t>() < 0 || expires->get<std::int64_t>() > max_lifetime))) {
        return make_failure(errc::bad_response,
                            "malformed token response: expires_in is not 0 to 86400 seconds");
    }
    return identity_token{token->get<std::string>(),
                          std::chrono::seconds(expires->get<std::int64_t>())};
}

}  // namespace crmsync::sink::marketo
