// crmsync status [--json]: per stream its watermark, last run, records synced, open rejections
// by category, when the next run is due, for a Marketo destination its daily quota as counted,
// for its Salesforce source the daily API use as last reported next to the api_budget share,
// and whether the stream is paused on either.

#include "common.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

namespace crmsync::cli {
namespace {

using json = nlohmann::json;

std::string format_counts(const std::map<std::string, std::int64_t>& by_category) {
    std::string out;
    for (const auto& [cat, n] : by_category) {
        if (!out.empty())
            out += ", ";
        out += fmt::format("{} {}", cat, n);
    }
    return out.empty() ? "-" : out;
}

// A stream's destination quota: the counted day (null when never counted), and `paused` when the
// day's calls are spent (Marketo 607 or the count reached limits.daily_calls) and the reset is
// still ahead.
struct quota_view {
    json quota = nullptr;
    json paused = nullptr;
    std::string line;  // for the text output; empty when not paused
};

result<quota_view> quota_of(state::store& store,
                            const config::config& cfg,
                            const config::stream& s) {
    quota_view v;
    const auto d = cfg.destinations.find(s.destination.to);
    if (d == cfg.destinations.end() || d->second.kind != config::destination_kind::marketo)
        return v;
    auto q = store.load_quota(d->first);
    if (!q)
        return q.error();
    if (!*q)
        return v;
    const auto& row = **q;
    const std::int64_t limit = d->second.limits.daily_calls;
    v.quota = {{"destination", d->first},
               {"day", row.day},
               {"calls", row.calls},
               {"limit", limit},
               {"spent_until", row.spent_until ? json(row.spent_until->to_iso()) : json(nullptr)}};
    if (row.spent_until && row.spent_until->at > system_now()) {
        v.paused = {
            {"reason", "quota"}, {"destination", d->first}, {"until", row.spent_until->to_iso()}};
        v.line = fmt::format(
            "paused on quota: {} has spent its daily calls ({} of {} counted on {}); "
            "resumes at {}",
            d->first,
            row.calls,
            limit,
            row.day,
            row.spent_until->to_iso());
    }
    return v;
}

// A stream's Salesforce source: its daily API use as last reported (migrations/0003) next to
// its api_budget share, and `paused` when its last run ended paused on that budget (or on the
// org's whole allocation) and the reading confirms it.
struct usage_view {
    json usage = nullptr;
    json paused = nullptr;
    std::string line;         // for the text output; empty when never read
    std::string paused_line;  // empty when not paused on it
};

result<usage_view> usage_of(state::store& store,
                            const config::config& cfg,
                            const config::stream& s,
                            const std::optional<state::run_entry>& last_run) {
    usage_view v;
    const auto src = cfg.sources.find(s.source.from);
    if (src == cfg.sources.end())
        return v;
    auto readings = store.load_api_usage(src->first);
    if (!readings)
        return readings.error();
    if (readings->empty())
        return v;
    // The newest reading is the figure; the /limits one is kept beside it (it can lag).
    const state::api_usage_reading* now = &readings->front();
    const state::api_usage_reading* limits = nullptr;
    for (const auto& r : *readings) {
        if (r.read_at > now->read_at)
            now = &r;
        if (r.origin == "limits")
            limits = &r;
    }
    const double budget = src->second.api_budget;
    const long allowed = source::salesforce::budget_calls(static_cast<long>(now->max), budget);
    v.usage = {{"source", src->first},
               {"used", now->used},
               {"limit", now->max},
               {"origin", now->origin},
               {"read_at", now->read_at.to_iso()},
               {"api_budget", budget},
               {"budget_calls", allowed},
               {"limits", nullptr}};
    if (limits) {
        v.usage["limits"] = {
            {"used", limits->used}, {"limit", limits->max}, {"read_at", limits->read_at.to_iso()}};
    }
    v.line = fmt::format("api usage: {} {}/{} daily requests, budget {:g}% = {} (read {})",
                         src->first,
                         now->used,
                         now->max,
                         budget * 100,
                         allowed,
                         now->read_at.to_iso());
    // The client holds its calls a reserve short of the budget, for the /limits reads that
    // show when the rolling day frees room again.
    const long reserve =
        source::salesforce::plan_budget_recheck(allowed, src->second.limits_every).reserve;
    if (last_run && last_run->status == "paused" && now->used >= allowed - reserve) {
        // At the org's whole allocation Salesforce itself refuses (403 REQUEST_LIMIT_EXCEEDED);
        // below it, it is crmsync's own api_budget that holds the stream.
        const bool org_spent = now->max > 0 && now->used >= now->max;
        v.paused = {{"reason", org_spent ? "api_limit" : "api_budget"},
                    {"source", src->first},
                    {"used", now->used},
                    {"budget_calls", allowed},
                    {"limit", now->max}};
        v.paused_line = org_spent
                            ? fmt::format(
                                  "paused on api_limit: the org of {} has used all its {} daily "
                                  "requests ({} reported)",
                                  src->first,
                                  now->max,
                                  now->used)
                            : fmt::format(
                                  "paused on api_budget: {} has used {} of the {} daily requests "
                                  "its budget of {:g}% allows ({} of {} in the org)",
                                  src->first,
                                  now->used,
                                  allowed,
                                  budget * 100,
                                  now->used,
                                  now->max);
    }
    return v;
}

}  // namespace

void add_status(CLI::App& app, context& ctx) {
    auto* cmd =
        app.add_subcommand("status", "Show each stream's watermark, last run and rejections");
    auto as_json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *as_json, "Stable JSON output");
    cmd->callback([&ctx, as_json] {
        ctx.action = [&ctx, as_json]() -> outcome {
            outcome why = outcome::ok;
            auto s = open_session(ctx.config_path, false, why);
            if (!s)
                return why;
            auto& store = s->store;
            auto& loaded = s->loaded;
            std::vector<std::string> names;
            for (const auto& stream : loaded.cfg.streams)
                names.push_back(stream.name);
            auto st = store->status(names);
            if (!st) {
                std::cerr << "crmsync: " << st.error().message() << '\n';
                return outcome::runtime_failure;
            }
            json out = json::array();
            std::vector<std::string> paused_lines;
            std::vector<std::string> usage_lines;
            for (const auto& s : *st) {
                const auto* cfg = loaded.cfg.find_stream(s.stream);
                quota_view qv;
                usage_view uv;
                if (cfg) {
                    auto q = quota_of(*store, loaded.cfg, *cfg);
                    auto u = usage_of(*store, loaded.cfg, *cfg, s.last_run);
                    if (!q || !u) {
                        std::cerr << "crmsync: " << (!q ? q.error() : u.error()).message() << '\n';
                        return outcome::runtime_failure;
                    }
                    qv = std::move(*q);
                    uv = std::move(*u);
                }
                // A spent destination quota is named first: it holds the stream longer (until
                // midnight) than a rolling 24 h source window usually does.
                if (qv.paused.is_null() && !uv.paused.is_null()) {
                    qv.paused = uv.paused;
                    qv.line = uv.paused_line;
                }
                paused_lines.push_back(qv.line);
                usage_lines.push_back(uv.line);
                json j = {{"stream", s.stream},
                          {"object", cfg ? cfg->source.object : ""},
                          {"watermark", nullptr},
                          {"last_run", nullptr},
                          {"next_run", nullptr},
                          {"synced_total", s.synced_total},
                          {"unchanged_total", s.unchanged_total},
                          {"open_errors", s.open_errors_by_category},
                          {"quota", qv.quota},
                          {"api_usage", uv.usage},
                          {"paused", qv.paused}};
                if (s.watermark)
                    j["watermark"] = {{"modstamp", s.watermark->modstamp.to_iso()},
                                      {"id", s.watermark->id}};
                if (s.last_run) {
                    const auto& r = *s.last_run;
                    j["last_run"] = {
                        {"id", r.id},
                        {"started", r.started.to_iso()},
                        {"finished", r.finished ? json(r.finished->to_iso()) : json(nullptr)},
                        {"status", r.status},
                        {"read", r.read},
                        {"created", r.created},
                        {"updated", r.updated},
                        {"unchanged", r.unchanged},
                        {"rejected", r.rejected},
                        {"error", r.error}};
                    if (r.finished && cfg)
                        j["next_run"] = timestamp{r.finished->at + cfg->source.every}.to_iso();
                }
                out.push_back(std::move(j));
            }
            if (*as_json) {
                std::cout << json{{"streams", out}}.dump(2) << '\n';
                return outcome::ok;
            }
            std::cout << fmt::format("{:<16} {:<25} {:<25} {:<9} {:>8} {:>9}  {}\n",
                                     "STREAM",
                                     "WATERMARK",
                                     "LAST RUN",
                                     "STATUS",
                                     "SYNCED",
                                     "UNCHANGED",
                                     "OPEN REJECTIONS");
            for (std::size_t i = 0; i < st->size(); ++i) {
                const auto& s = (*st)[i];
                std::cout << fmt::format("{:<16} {:<25} {:<25} {:<9} {:>8} {:>9}  {}\n",
                                         s.stream,
                                         s.watermark ? s.watermark->modstamp.to_iso() : "-",
                                         s.last_run ? s.last_run->started.to_iso() : "never",
                                         s.last_run ? s.last_run->status : "-",
                                         s.synced_total,
                                         s.unchanged_total,
                                         format_counts(s.open_errors_by_category));
                if (!usage_lines[i].empty())
                    std::cout << fmt::format("{:<16} {}\n", "", usage_lines[i]);
                if (!paused_lines[i].empty())
                    std::cout << fmt::format("{:<16} {}\n", "", paused_lines[i]);
                if (s.last_run && !s.last_run->error.empty()) {
                    std::cout << fmt::format("{:<16} last error: {}\n", "", s.last_run->error);
                }
            }
            return outcome::ok;
        };
    });
}

}  // namespace crmsync::cli
