// crmsync watermark set --stream S --to TIMESTAMP | watermark reset --stream S: backfill or
// replay from a point in time (SPEC §2).
//
// Both also forget the stream's payload digests: a backfill is asked for because the
// destination lacks data, so records must be sent again even when their mapped payload did not
// change. A running daemon notices at its next commit (the stored watermark is no longer the
// one its run read from), keeps the point set here and starts its next run from it.

#include "common.hpp"
#include <fmt/format.h>

#include <iostream>

namespace crmsync::cli {
namespace {

struct watermark_options {
    std::string stream;
    std::string to;
};

outcome apply(const std::string& config_path,
              const watermark_options& o,
              const std::optional<state::watermark>& wm) {
    outcome why = outcome::ok;
    auto s = open_session(config_path, false, why);
    if (!s)
        return why;
    if (!s->loaded.cfg.find_stream(o.stream)) {
        std::cerr << fmt::format("crmsync: no stream named '{}' in {}\n", o.stream, config_path);
        return outcome::bad_config;
    }
    // Digests first: a crash between the two steps then re-sends a little, never skips.
    if (auto r = s->store->forget_all_digests(o.stream); !r) {
        std::cerr << "crmsync: " << r.error().message() << '\n';
        return outcome::runtime_failure;
    }
    if (auto r = s->store->set_watermark(o.stream, wm); !r) {
        std::cerr << "crmsync: " << r.error().message() << '\n';
        return outcome::runtime_failure;
    }
    std::cout << (wm ? fmt::format("{}: watermark set to {}; every record changed since then will "
                                   "be sent again\n",
                                   o.stream,
                                   wm->modstamp.to_iso())
                     : fmt::format("{}: watermark cleared; the next run reads and sends every "
                                   "record again\n",
                                   o.stream));
    return outcome::ok;
}

}  // namespace

void add_watermark(CLI::App& app, context& ctx) {
    auto* cmd = app.add_subcommand("watermark", "Backfill or replay a stream from a point in time");
    cmd->require_subcommand(1);

    auto set_o = std::make_shared<watermark_options>();
    auto* set = cmd->add_subcommand("set", "Move the watermark to a time");
    set->add_option("--stream", set_o->stream, "Stream name")->required();
    set->add_option("--to", set_o->to, "ISO-8601 time, e.g. 2026-11-01T00:00:00Z")->required();
    set->callback([&ctx, set_o] {
        ctx.action = [&ctx, set_o]() -> outcome {
            const auto at = timestamp::parse(set_o->to);
            if (!at) {
                std::cerr << fmt::format("crmsync: --to '{}' is not an ISO-8601 time\n", set_o->to);
                return outcome::bad_config;
            }
            return apply(ctx.config_path, *set_o, state::watermark{*at, {}});
        };
    });

    auto reset_o = std::make_shared<watermark_options>();
    auto* reset =
        cmd->add_subcommand("reset", "Clear the watermark: the next run reads everything");
    reset->add_option("--stream", reset_o->stream, "Stream name")->required();
    reset->callback([&ctx, reset_o] {
        ctx.action = [&ctx, reset_o]() { return apply(ctx.config_path, *reset_o, std::nullopt); };
    });
}

}  // namespace crmsync::cli
