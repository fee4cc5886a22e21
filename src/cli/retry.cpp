// crmsync errors retry [--stream S] [--category C] [--json] [ID...]: the records behind these
// error-log entries (all open ones when nothing narrows them) are read again from the CRM by Id,
// mapped with today's mapping and pushed (SPEC §2, daemon/retry.hpp). The admin fixes a mapping
// (or a duplicate, a permission), reloads, retries, and the error log empties.
//
// Exit code 0 when every chosen entry was retried, whatever the destination answered (as for
// `once`: a rejection is logged, not a failure); 1 when the CRM or the destination could not be
// reached, 3 when either refused the credentials. What was committed before a failure stays.

#include "crmsync/daemon/retry.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "common.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

namespace crmsync::cli {
namespace {

namespace asio = boost::asio;
using ordered_json = nlohmann::ordered_json;

struct retry_options {
    std::string stream, category;
    std::vector<std::int64_t> ids;
    bool json = false;
};

// An entry whose stream today's configuration no longer has: there is no mapping to retry it
// with, so it is reported and left for `errors purge`.
constexpr std::string_view unknown_stream = "unknown_stream";

struct line {
    std::int64_t id = 0;
    std::string stream, record_id;
    std::string result;
    std::optional<rejected> rejection;
    int attempts = 0;
};

ordered_json to_json(const line& l) {
    ordered_json j = {
        {"id", l.id}, {"stream", l.stream}, {"record_id", l.record_id}, {"result", l.result}};
    if (l.rejection) {
        j["category"] = to_string(l.rejection->category);
        j["code"] = l.rejection->code;
        j["message"] = l.rejection->message;
        j["attempts"] = l.attempts;
    }
    return j;
}

void print(const std::vector<line>& lines, bool as_json) {
    // Every result appears in the counts, also at 0, so a script reads the same keys each time.
    std::map<std::string, int> counts;
    for (const auto r : {daemon::retry_result::delivered,
                         daemon::retry_result::rejected,
                         daemon::retry_result::deleted,
                         daemon::retry_result::not_found,
                         daemon::retry_result::skipped})
        counts[std::string(daemon::to_string(r))] = 0;
    counts[std::string(unknown_stream)] = 0;
    for (const auto& l : lines)
        ++counts[l.result];
    if (as_json) {
        ordered_json out = {{"retried", ordered_json::array()}};
        for (const auto& l : lines)
            out["retried"].push_back(to_json(l));
        ordered_json c;
        for (const auto& [k, n] : counts)
            c[k] = n;
        out["counts"] = c;
        std::cout << out.dump(2) << '\n';
        return;
    }
    for (const auto& l : lines) {
        std::cout << fmt::format(
            "{:>6}  {:<14} {:<18} {:<10}", l.id, l.stream, l.record_id, l.result);
        if (l.rejection) {
            std::cout << fmt::format("  {} {} (attempt {}): {}",
                                     to_string(l.rejection->category),
                                     l.rejection->code,
                                     l.attempts,
                                     l.rejection->message);
        }
        std::cout << '\n';
    }
    std::cout << fmt::format(
        "{} delivered, {} rejected again, {} deleted in the CRM, {} not found in the CRM, {} "
        "skipped by the mapping, {} of streams no longer configured\n",
        counts["delivered"],
        counts["rejected"],
        counts["deleted"],
        counts["not_found"],
        counts["skipped"],
        counts[std::string(unknown_stream)]);
}

outcome run_retry(const std::string& config_path, const retry_options& o) {
    state::error_filter f;
    f.limit = 0;
    f.ids = o.ids;
    if (!o.stream.empty())
        f.stream = o.stream;
    if (!o.category.empty()) {
        f.category = parse_category(o.category);
        if (!f.category) {
            std::cerr << fmt::format(
                "crmsync: unknown category '{}'; expected one of: duplicate, validation, access, "
                "not_found, other\n",
                o.category);
            return outcome::bad_config;
        }
    }
    outcome why = outcome::ok;
    auto s = open_session(config_path, true, why);
    if (!s)
        return why;
    if (!o.stream.empty() && !s->loaded.cfg.find_stream(o.stream)) {
        std::cerr << fmt::format("crmsync: no stream named '{}' in {}\n", o.stream, config_path);
        return outcome::bad_config;
    }
    auto entries = s->store->list_errors(f);
    if (!entries) {
        std::cerr << "crmsync: " << entries.error().message() << '\n';
        return outcome::runtime_failure;
    }
    // An id named on the command line that is not in the log is a mistake worth stopping for:
    // nothing is retried, so the admin can correct the list and run it again as a whole.
    for (const auto id : o.ids) {
        const bool found = std::any_of(
            entries->begin(), entries->end(), [&](const auto& e) { return e.id == id; });
        if (!found) {
            std::cerr << fmt::format("crmsync: no error log entry {}{}\n",
                                     id,
                                     f.stream || f.category ? " matching --stream/--category" : "");
            return outcome::runtime_failure;
        }
    }
    // Oldest first, so the output reads like the log's history and is the same run to run.
    std::sort(
        entries->begin(), entries->end(), [](const auto& a, const auto& b) { return a.id < b.id; });

    std::map<std::string, std::vector<state::error_entry>> by_stream;
    std::vector<line> lines;
    for (auto& e : *entries) {
        if (s->loaded.cfg.find_stream(e.stream)) {
            by_stream[e.stream].push_back(std::move(e));
        } else {
            lines.push_back({.id = e.id,
                             .stream = e.stream,
                             .record_id = e.record_id,
                             .result = std::string(unknown_stream)});
        }
    }
    // Only the streams with entries to retry are built: no other destination is contacted.
    std::vector<daemon::compiled_stream> chosen;
    for (auto& cs : s->loaded.streams) {
        if (by_stream.count(cs.cfg.name))
            chosen.push_back(std::move(cs));
    }
    result<void> done;
    if (!chosen.empty()) {
        asio::io_context ioc;
        auto rt = daemon::runtime::build(ioc.get_executor(), s->loaded.cfg, std::move(chosen), {});
        if (!rt) {
            std::cerr << "crmsync: " << rt.error().message() << '\n';
            return outcome::bad_config;
        }
        auto work = [&]() -> asio::awaitable<result<void>> {
            for (const auto& [name, list] : by_stream) {
                auto* stream = (*rt)->find(name);
                auto r = co_await daemon::retry_errors(*stream, *s->store, list, (*rt)->opts().now);
                if (!r)
                    co_return r.error();
                for (const auto& x : *r) {
                    lines.push_back({.id = x.error_id,
                                     .stream = name,
                                     .record_id = x.record_id,
                                     .result = std::string(daemon::to_string(x.result)),
                                     .rejection = x.rejection,
                                     .attempts = x.attempts});
                }
            }
            co_return result<void>{};
        };
        done = make_failure(errc::cancelled, "retry did not finish");
        asio::co_spawn(ioc, work(), [&](std::exception_ptr e, result<void> r) {
            done = e ? result<void>(failure_from_exception(e)) : std::move(r);
        });
        ioc.run();
    }
    std::sort(lines.begin(), lines.end(), [](const line& a, const line& b) { return a.id < b.id; });
    if (!done) {
        // What was retried before the failure is committed; the rest is still in the log.
        std::cerr << "crmsync: errors retry: " << done.error().message() << '\n';
        return outcome_of(done.error());
    }
    print(lines, o.json);
    return outcome::ok;
}

}  // namespace

void add_errors_retry(CLI::App& errors, context& ctx) {
    auto o = std::make_shared<retry_options>();
    auto* cmd = errors.add_subcommand(
        "retry",
        "Read these rejected records again from the CRM, map them with today's mapping and push "
        "them; delivered ones leave the error log (all open entries when nothing narrows them)");
    cmd->add_option("--stream", o->stream, "Only this stream");
    cmd->add_option("--category", o->category, "duplicate, validation, access, not_found or other");
    cmd->add_flag("--json", o->json, "Stable JSON output");
    cmd->add_option("ID", o->ids, "Error log ids (from errors list)");
    cmd->callback(
        [&ctx, o] { ctx.action = [&ctx, o]() { return run_retry(ctx.config_path, *o); }; });
}

}  // namespace crmsync::cli
