// crmsync mapping-doc [--format md|csv] [--stream S]: the data dictionary of every stream,
// generated from the same compiled plans the daemon runs (mapping/dictionary.hpp).

#include "crmsync/mapping/dictionary.hpp"

#include "common.hpp"
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

namespace crmsync::cli {

void add_mapping_doc(CLI::App& app, context& ctx) {
    auto* cmd = app.add_subcommand(
        "mapping-doc",
        "Print the data dictionary of every stream: per destination field its source field(s) "
        "in fallback order, transforms, required flag, key and description. Destination types "
        "and lengths are not listed yet: they need the destination's describe, which this "
        "build does not read");
    auto format = std::make_shared<std::string>("md");
    auto streams = std::make_shared<std::vector<std::string>>();
    cmd->add_option("--format", *format, "md (one Markdown table per stream) or csv (RFC 4180)")
        ->check(CLI::IsMember({"md", "csv"}));
    cmd->add_option("--stream", *streams, "Only this stream (repeatable)");
    cmd->callback([&ctx, format, streams] {
        ctx.action = [&ctx, format, streams]() -> outcome {
            auto loaded = load_config(ctx.config_path);
            if (!loaded)
                return outcome::bad_config;
            for (const auto& name : *streams) {
                if (!loaded->cfg.find_stream(name)) {
                    std::cerr << fmt::format(
                        "crmsync: no stream named '{}' in {}\n", name, ctx.config_path);
                    return outcome::bad_config;
                }
            }
            std::vector<mapping::documented_stream> docs;
            for (const auto& s : loaded->streams) {
                if (streams->empty() ||
                    std::find(streams->begin(), streams->end(), s.cfg.name) != streams->end()) {
                    docs.push_back({&s.cfg, s.plan.get()});
                }
            }
            std::cout << (*format == "csv" ? mapping::dictionary_csv(docs)
                                           : mapping::dictionary_markdown(docs));
            return outcome::ok;
        };
    });
}

}  // namespace crmsync::cli
