// crmsync errors list|show|purge (retry: retry.cpp): the error log of rejected records (SPEC §2).

#include "common.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <iostream>

namespace crmsync::cli {
namespace {

using json = nlohmann::json;

json to_json(const state::error_entry& e, bool with_payload) {
    json j = {{"id", e.id},
              {"stream", e.stream},
              {"record_id", e.record_id},
              {"category", to_string(e.category)},
              {"code", e.code},
              {"message", e.message},
              {"first_seen", e.first_seen.to_iso()},
              {"last_seen", e.last_seen.to_iso()},
              {"attempts", e.attempts}};
    if (with_payload) {
        auto p = json::parse(e.payload_json, nullptr, false);
        j["payload"] = p.is_discarded() ? json(nullptr) : p;
    }
    return j;
}

// --since accepts an ISO-8601 time or an age like 24h, 30m, 7d.
std::optional<timestamp> parse_since(const std::string& text) {
    if (auto t = timestamp::parse(text))
        return t;
    if (text.size() < 2)
        return std::nullopt;
    long n = 0;
    const auto unit = text.back();
    const auto r = std::from_chars(text.data(), text.data() + text.size() - 1, n);
    if (r.ec != std::errc{} || r.ptr != text.data() + text.size() - 1 || n < 0)
        return std::nullopt;
    std::chrono::milliseconds age;
    switch (unit) {
        case 's':
            age = std::chrono::seconds(n);
            break;
        case 'm':
            age = std::chrono::minutes(n);
            break;
        case 'h':
            age = std::chrono::hours(n);
            break;
        case 'd':
            age = std::chrono::hours(24 * n);
            break;
        default:
            return std::nullopt;
    }
    return timestamp{system_now() - age};
}

}  // namespace

void add_errors(CLI::App& app, context& ctx) {
    auto* cmd = app.add_subcommand("errors", "Inspect the error log of rejected records");
    cmd->require_subcommand(1);

    struct list_options {
        std::string stream, category, since;
        bool json = false;
        std::size_t limit = 1000;
    };
    auto lo = std::make_shared<list_options>();
    auto* list = cmd->add_subcommand("list", "List rejected records, newest first");
    list->add_option("--stream", lo->stream, "Only this stream");
    list->add_option(
        "--category", lo->category, "duplicate, validation, access, not_found or other");
    list->add_option(
        "--since", lo->since, "Seen at or after this time (ISO-8601) or age (24h, 7d)");
    list->add_option("--limit", lo->limit, "At most this many entries")->capture_default_str();
    list->add_flag("--json", lo->json, "Stable JSON output");
    list->callback([&ctx, lo] {
        ctx.action = [&ctx, lo]() -> outcome {
            state::error_filter f;
            f.limit = lo->limit;
            if (!lo->stream.empty())
                f.stream = lo->stream;
            if (!lo->category.empty()) {
                f.category = parse_category(lo->category);
                if (!f.category) {
                    std::cerr << fmt::format(
                        "crmsync: unknown category '{}'; expected one of: duplicate, validation, "
                        "access, not_found, "
                        "other\n",
                        lo->category);
                    return outcome::bad_config;
                }
            }
            if (!lo->since.empty()) {
                f.since = parse_since(lo->since);
                if (!f.since) {
                    std::cerr << fmt::format(
                        "crmsync: --since '{}' is neither an ISO-8601 time nor an age like 24h\n",
                        lo->since);
                    return outcome::bad_config;
                }
            }
            outcome why = outcome::ok;
            auto s = open_session(ctx.config_path, false, why);
            if (!s)
                return why;
            auto& store = s->store;
            auto entries = store->list_errors(f);
            if (!entries) {
                std::cerr << "crmsync: " << entries.error().message() << '\n';
                return outcome::runtime_failure;
            }
            if (lo->json) {
                json out = json::array();
                for (const auto& e : *entries)
                    out.push_back(to_json(e, false));
                std::cout << json{{"errors", out}}.dump(2) << '\n';
                return outcome::ok;
            }
            std::cout << fmt::format("{:>6}  {:<14} {:<18} {:<10} {:<18} {:<24}  {}\n",
                                     "ID",
                                     "STREAM",
                                     "RECORD",
                                     "CATEGORY",
                                     "CODE",
                                     "LAST SEEN",
                                     "MESSAGE");
            for (const auto& e : *entries) {
                std::cout << fmt::format("{:>6}  {:<14} {:<18} {:<10} {:<18} {:<24}  {}\n",
                                         e.id,
                                         e.stream,
                                         e.record_id,
                                         to_string(e.category),
                                         e.code,
                                         e.last_seen.to_iso(),
                                         e.message);
            }
            std::cout << fmt::format(
                "{} rejected record{}\n", entries->size(), entries->size() == 1 ? "" : "s");
            return outcome::ok;
        };
    });

    auto id = std::make_shared<std::int64_t>(0);
    auto* show =
        cmd->add_subcommand("show", "Show one rejected record with the payload that was sent");
    show->add_option("ID", *id, "Error log id (from errors list)")->required();
    show->callback([&ctx, id] {
        ctx.action = [&ctx, id]() -> outcome {
            outcome why = outcome::ok;
            auto s = open_session(ctx.config_path, false, why);
            if (!s)
                return why;
            auto& store = s->store;
            auto e = store->get_error(*id);
            if (!e) {
                std::cerr << "crmsync: " << e.error().message() << '\n';
                return outcome::runtime_failure;
            }
            if (!*e) {
                std::cerr << fmt::format("crmsync: no error log entry {}\n", *id);
                return outcome::runtime_failure;
            }
            std::cout << to_json(**e, true).dump(2) << '\n';
            return outcome::ok;
        };
    });

    add_errors_retry(*cmd, ctx);

    auto before = std::make_shared<std::string>();
    auto* purge = cmd->add_subcommand("purge", "Drop entries last seen before a time");
    purge->add_option("--before", *before, "ISO-8601 time, or an age like 30d")->required();
    purge->callback([&ctx, before] {
        ctx.action = [&ctx, before]() -> outcome {
            // The same reading as --since: "purge --before 30d" drops what is older than 30 days.
            const auto t = parse_since(*before);
            if (!t) {
                std::cerr << fmt::format(
                    "crmsync: --before '{}' is neither an ISO-8601 time nor an age like 30d\n",
                    *before);
                return outcome::bad_config;
            }
            outcome why = outcome::ok;
            auto s = open_session(ctx.config_path, false, why);
            if (!s)
                return why;
            auto n = s->store->purge_errors(*t);
            if (!n) {
                std::cerr << "crmsync: " << n.error().message() << '\n';
                return outcome::runtime_failure;
            }
            std::cout << fmt::format(
                "{} entr{} last seen before {} purged\n", *n, *n == 1 ? "y" : "ies", t->to_iso());
            return outcome::ok;
        };
    });
}

}  // namespace crmsync::cli
