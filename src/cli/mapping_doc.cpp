// crmsync mapping-doc [--format md|csv] [--stream S] [--online]: the data dictionary of every
// stream, generated from the same compiled plans the daemon runs (mapping/dictionary.hpp).
// --online also reads each stream's destination describe, for the destination's own type and
// length of every field; it fails whole (nothing printed) if a describe cannot be read, so a
// dictionary never silently lacks the types it was asked for.

#include "crmsync/mapping/dictionary.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "common.hpp"
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <map>

namespace crmsync::cli {
namespace {

namespace asio = boost::asio;

using described_fields = std::vector<std::optional<mapping::described_field>>;

described_fields describe_fields(const mapping::plan& plan, const sink::object_schema& schema) {
    described_fields out;
    for (const auto& f : plan.destination_fields()) {
        const auto* d = schema.find(f.destination);
        out.push_back(d ? std::optional<mapping::described_field>({d->type, d->length})
                        : std::nullopt);
    }
    return out;
}

// Each stream's destination describe, by stream name.
asio::awaitable<result<std::map<std::string, described_fields>>> read_describes(
    daemon::runtime& rt) {
    std::map<std::string, described_fields> out;
    for (auto& s : rt.streams()) {
        auto schema = co_await s.sink->describe();
        if (!schema) {
            co_return with_context(
                result<void>(schema.error()),
                fmt::format(
                    "stream {}: describe destination {}", s.cfg->name, s.cfg->destination.object))
                .error();
        }
        out[s.cfg->name] = describe_fields(*s.plan, *schema);
    }
    co_return out;
}

outcome print_doc(const std::string& config_path,
                  const std::string& format,
                  const std::vector<std::string>& streams,
                  bool online) {
    auto loaded = load_config(config_path);
    if (!loaded)
        return outcome::bad_config;
    for (const auto& name : streams) {
        if (!loaded->cfg.find_stream(name)) {
            std::cerr << fmt::format("crmsync: no stream named '{}' in {}\n", name, config_path);
            return outcome::bad_config;
        }
    }
    std::erase_if(loaded->streams, [&](const daemon::compiled_stream& s) {
        return !streams.empty() &&
               std::find(streams.begin(), streams.end(), s.cfg.name) == streams.end();
    });
    std::vector<mapping::documented_stream> docs;
    for (const auto& s : loaded->streams)
        docs.push_back({&s.cfg, s.plan.get()});

    if (online) {
        start_logging(loaded->cfg);
        asio::io_context ioc;
        // The runtime copies the streams it builds; docs keep pointing at loaded's.
        auto rt = daemon::runtime::build(
            ioc.get_executor(), loaded->cfg, loaded->streams, interactive_options());
        if (!rt) {
            std::cerr << "crmsync: " << rt.error().message() << '\n';
            return outcome::bad_config;
        }
        result<std::map<std::string, described_fields>> read =
            make_failure(errc::cancelled, "mapping-doc --online did not finish");
        asio::co_spawn(ioc, read_describes(**rt), [&](std::exception_ptr e, auto r) {
            read = e ? result<std::map<std::string, described_fields>>(failure_from_exception(e))
                     : std::move(r);
        });
        ioc.run();
        if (!read) {
            std::cerr << "crmsync: mapping-doc --online: " << read.error().message() << '\n';
            return outcome_of(read.error());
        }
        for (auto& d : docs) {
            if (auto it = read->find(d.cfg->name); it != read->end())
                d.described = std::move(it->second);
        }
    }
    std::cout << (format == "csv" ? mapping::dictionary_csv(docs)
                                  : mapping::dictionary_markdown(docs));
    return outcome::ok;
}

}  // namespace

void add_mapping_doc(CLI::App& app, context& ctx) {
    auto* cmd = app.add_subcommand(
        "mapping-doc",
        "Print the data dictionary of every stream: per destination field its type and length "
        "(with --online), source field(s) in fallback order, transforms, required flag, key and "
        "description");
    auto format = std::make_shared<std::string>("md");
    auto streams = std::make_shared<std::vector<std::string>>();
    auto online = std::make_shared<bool>(false);
    cmd->add_option("--format", *format, "md (one Markdown table per stream) or csv (RFC 4180)")
        ->check(CLI::IsMember({"md", "csv"}));
    cmd->add_option("--stream", *streams, "Only this stream (repeatable)");
    cmd->add_flag("--online",
                  *online,
                  "Read each destination's describe for the fields' types and lengths (signs in "
                  "to the destinations; reads nothing else)");
    cmd->callback([&ctx, format, streams, online] {
        ctx.action = [&ctx, format, streams, online]() -> outcome {
            return print_doc(ctx.config_path, *format, *streams, *online);
        };
    });
}

}  // namespace crmsync::cli
