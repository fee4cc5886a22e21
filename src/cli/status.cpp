// crmsync status [--json]: per stream its watermark, last run, records synced, open rejections
// by category, and when the next run is due.

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
            for (const auto& s : *st) {
                const auto* cfg = loaded.cfg.find_stream(s.stream);
                json j = {{"stream", s.stream},
                          {"object", cfg ? cfg->source.object : ""},
                          {"watermark", nullptr},
                          {"last_run", nullptr},
                          {"next_run", nullptr},
                          {"synced_total", s.synced_total},
                          {"unchanged_total", s.unchanged_total},
                          {"open_errors", s.open_errors_by_category}};
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
                if (s.last_run && !s.last_run->error.empty()) {
                    std::cout << fmt::format("{:<16} last error: {}\n", "", s.last_run->error);
                }
            }
            return outcome::ok;
        };
    });
}

}  // namespace crmsync::cli
