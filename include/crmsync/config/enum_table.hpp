#pragma once
// Every enumerated setting is parsed through one table that can also list its values (STYLE
// rule 4, userver's TrivialBiMap), so the error message, the config reference and the parser
// cannot disagree: "unknown flow 'jwt'; expected one of: client_credentials, jwt_bearer, ...".

#include "crmsync/config/model.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace crmsync::config {

// "unknown {what} '{got}'[ in {context}]; [did you mean 'x'? ]expected one of: a, b, c".
// The suggestion appears when a candidate is within edit distance 3.
std::string unknown_message(std::string_view what,
                            std::string_view got,
                            std::span<const std::string_view> candidates,
                            std::string_view context = {});

template <class E, std::size_t N>
class enum_table {
public:
    struct entry {
        std::string_view name;
        E value;
    };

    constexpr enum_table(std::string_view what, std::array<entry, N> entries)
        : what_(what), entries_(entries) {
        for (std::size_t i = 0; i < N; ++i)
            names_[i] = entries_[i].name;
    }

    std::optional<E> parse(std::string_view text) const noexcept {
        for (const auto& e : entries_) {
            if (e.name == text)
                return e.value;
        }
        return std::nullopt;
    }

    // The first name of a value (tables list each value once, so this is its only name).
    constexpr std::string_view name(E value) const noexcept {
        for (const auto& e : entries_) {
            if (e.value == value)
                return e.name;
        }
        return {};
    }

    std::string_view what() const noexcept { return what_; }
    std::span<const std::string_view> names() const noexcept { return names_; }
    std::string unknown(std::string_view got) const { return unknown_message(what_, got, names_); }

private:
    std::string_view what_;
    std::array<entry, N> entries_;
    std::array<std::string_view, N> names_{};
};

// The tables behind the model's enums, and the enumerated strings the model keeps as text.
inline constexpr enum_table<auth_flow, 4> auth_flows{
    "flow",
    {{{"client_credentials", auth_flow::client_credentials},
      {"jwt_bearer", auth_flow::jwt_bearer},
      {"refresh_token", auth_flow::refresh_token},
      {"password", auth_flow::password}}}};

inline constexpr enum_table<destination_kind, 2> destination_kinds{
    "destination kind",
    {{{"marketo", destination_kind::marketo}, {"sfmc", destination_kind::sfmc}}}};

// `deletes:` as a scalar; the flag form is a map ({flag: {field, value}}).
inline constexpr enum_table<deletes_mode, 2> deletes_modes{
    "deletes mode", {{{"ignore", deletes_mode::ignore}, {"delete", deletes_mode::remove}}}};

inline constexpr enum_table<converted_mode, 2> converted_modes{
    "converted mode",
    {{{"skip", converted_mode::skip}, {"follow_contact", converted_mode::follow_contact}}}};

enum class source_kind { salesforce };
inline constexpr enum_table<source_kind, 1> source_kinds{
    "source kind", {{{"salesforce", source_kind::salesforce}}}};

// Marketo's sync actions (api-reference §2.3); stream_destination::action keeps the name.
enum class sync_action { create_only, update_only, create_or_update, create_duplicate };
inline constexpr enum_table<sync_action, 4> sync_actions{
    "action",
    {{{"createOnly", sync_action::create_only},
      {"updateOnly", sync_action::update_only},
      {"createOrUpdate", sync_action::create_or_update},
      {"createDuplicate", sync_action::create_duplicate}}}};

// stream_destination::dedupe_by, spelled as Marketo's dedupeBy values.
inline constexpr enum_table<dedupe_mode, 2> dedupe_modes{
    "dedupe_by",
    {{{"dedupeFields", dedupe_mode::dedupe_fields}, {"idField", dedupe_mode::id_field}}}};

enum class log_level { trace, debug, info, warn, error };
inline constexpr enum_table<log_level, 5> log_levels{"log level",
                                                     {{{"trace", log_level::trace},
                                                       {"debug", log_level::debug},
                                                       {"info", log_level::info},
                                                       {"warn", log_level::warn},
                                                       {"error", log_level::error}}}};

enum class log_format { json, text };
inline constexpr enum_table<log_format, 2> log_formats{
    "log format", {{{"json", log_format::json}, {"text", log_format::text}}}};

std::string_view to_string(auth_flow f) noexcept;
std::string_view to_string(destination_kind k) noexcept;
std::string_view to_string(deletes_mode m) noexcept;  // ignore | delete | flag
std::string_view to_string(converted_mode m) noexcept;
std::string_view to_string(dedupe_mode m) noexcept;  // dedupeFields | idField

}  // namespace crmsync::config
