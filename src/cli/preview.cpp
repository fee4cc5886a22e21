// crmsync preview --stream NAME [--limit N] [--id ID]... [--trace] [--diff]: a dry run (SPEC
// §2). Reads records from the CRM as the next cycle would, maps them with today's mapping, and
// prints one JSON line per record saying what would be sent. It sends nothing and writes no
// state: the watermark is only read, and only when the state database already exists. The
// destination is only read: its describe (for preflight) and, with --diff, the records the
// payloads would update, one lookup per page of CRM records (sink::read_current).

#include "crmsync/core/hash.hpp"
#include "crmsync/core/text.hpp"
#include "crmsync/daemon/runtime.hpp"
#include "crmsync/daemon/stream_cycle.hpp"
#include "crmsync/sink/diff.hpp"
#include "crmsync/source/salesforce/soql.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "common.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <map>

namespace crmsync::cli {
namespace {

namespace asio = boost::asio;
// Ordered so the payload keeps the field order the sink sends and the trace the plan's order.
using ordered_json = nlohmann::ordered_json;

struct preview_options {
    std::string stream;
    std::size_t limit = 10;
    std::vector<std::string> ids;
    bool trace = false;
    bool diff = false;
};

// One output line, and for a record that would be sent, the key its payload is upserted by
// and the sink that would send it (the stream's, or the flag sink for a deletion mark).
struct preview_line {
    ordered_json line;
    std::optional<std::string> key;
    bool flag = false;
};

// One output line: what the stream cycle would do with this record.
// `known` is the digest stored for this record by the last cycle, if any: an equal digest means
// the cycle would count the record unchanged and send nothing, exactly as stream_cycle does.
preview_line describe(const daemon::stream_runtime& s,
                      const record& r,
                      const std::optional<digest>& known,
                      bool trace) {
    preview_line out;
    ordered_json& line = out.line;
    line["record_id"] = r.id;
    const auto mark = r.is_deleted && s.flag_sink ? daemon::deletion_mark(s, r) : std::nullopt;
    if (mark) {
        // deletes: flag — the mark the cycle sends (updateOnly) for a record in the recycle bin.
        const bool unchanged = known && *known == mark->d;
        line["action"] = unchanged ? "unchanged" : "flag";
        line["payload"] = ordered_json::parse(s.flag_sink->to_json(mark->p));
        if (!unchanged) {
            out.key = mark->p.fields.front().text();
            out.flag = true;
        }
    } else if (r.is_deleted || s.plan->skip(r)) {
        line["action"] = "skip";
    } else {
        auto mapped = s.plan->apply(r);
        const bool unchanged = known && *known == daemon::fingerprint(r, mapped);
        if (const auto* why = std::get_if<rejected>(&mapped)) {
            line["action"] = unchanged ? "unchanged" : "reject";
            line["rejection"] = {{"category", to_string(why->category)},
                                 {"code", why->code},
                                 {"message", why->message}};
        } else {
            const auto& p = std::get<payload>(mapped);
            // The cycle checks what it would send against the destination's describe.
            const auto refused = unchanged || !s.dest_schema.preflight
                                     ? std::nullopt
                                     : s.dest_schema.preflight->check(p);
            line["action"] = unchanged ? "unchanged" : refused ? "reject" : "send";
            // Exactly what the destination would receive (nulls included: they clear fields).
            line["payload"] = ordered_json::parse(s.sink->to_json(p));
            if (refused) {
                line["rejection"] = {{"category", to_string(refused->category)},
                                     {"code", refused->code},
                                     {"message", refused->message}};
            } else if (!unchanged) {
                out.key = p.fields.at(s.plan->key_field()).text();
            }
        }
    }
    if (trace) {
        ordered_json t = ordered_json::object();
        for (const auto& f : s.plan->destination_fields())
            t[f.destination] = f.sources;
        line["trace"] = std::move(t);
    }
    return out;
}

// The records `lines` (those of `flags`: deletion marks, or the others) would upsert, as the
// destination holds them now, by key.
asio::awaitable<result<std::vector<nlohmann::json>>> read_targets(
    daemon::stream_runtime& s, const std::vector<preview_line>& lines, bool flags) {
    std::vector<std::string> keys;
    for (const auto& l : lines) {
        if (l.key && l.flag == flags)
            keys.push_back(*l.key);
    }
    if (keys.empty())
        co_return std::vector<nlohmann::json>{};
    // Only fields the describe knows: asking for one it does not list fails the whole read.
    std::vector<std::string> fields;
    const auto add = [&](const std::string& f) {
        if (!s.dest_schema.schema || s.dest_schema.schema->find(f))
            fields.push_back(f);
    };
    if (flags) {
        add(s.cfg->destination.key.destination);
        add(s.cfg->source.deletes.flag_field);
    } else {
        for (const auto& f : s.plan->destination_fields())
            add(f.destination);
    }
    co_return co_await (flags ? s.flag_sink : s.sink)->read_current(keys, fields);
}

// --diff: reads the records the page's payloads would upsert and adds to each line to send (or
// deletion mark) what the destination holds: "destination": "new" (no record has the key: the
// upsert creates one; for a mark, "absent": updateOnly finds nothing to mark), "exists" with
// "changes" {field: {from, to}} (unchanged fields left out), or "duplicates" with "matches" N
// (several records have the key; the destination would refuse the upsert).
asio::awaitable<result<void>> add_diffs(daemon::stream_runtime& s,
                                        std::vector<preview_line>& lines) {
    const std::string& key_field = s.cfg->destination.key.destination;
    for (const bool flags : {false, true}) {
        auto current = co_await read_targets(s, lines, flags);
        if (!current)
            co_return with_context(result<void>(current.error()), "--diff");
        for (auto& l : lines) {
            if (!l.key || l.flag != flags)
                continue;
            // Marketo matches lookup values case-insensitively, as its dedupe does.
            std::vector<const nlohmann::json*> matches;
            for (const auto& rec : *current) {
                const auto k = rec.find(key_field);
                if (k != rec.end() && k->is_string() &&
                    iequals_ascii(k->get<std::string>(), *l.key))
                    matches.push_back(&rec);
            }
            if (matches.empty()) {
                l.line["destination"] = flags ? "absent" : "new";
            } else if (matches.size() > 1) {
                l.line["destination"] = "duplicates";
                l.line["matches"] = matches.size();
            } else {
                l.line["destination"] = "exists";
                ordered_json changes = ordered_json::object();
                for (const auto& c : sink::diff_record(l.line["payload"], *matches.front()))
                    changes[c.field] = {{"from", c.from}, {"to", c.to}};
                l.line["changes"] = std::move(changes);
            }
        }
    }
    co_return result<void>{};
}

// The state the next cycle would start from (watermark, digests), opened only to read. A
// missing database means no cycle ever ran: preview does not create one, and the window starts
// at the beginning, as the first run's.
struct existing_state {
    std::unique_ptr<state::store> store;  // null: no database yet
    std::optional<state::watermark> watermark;
};

result<existing_state> read_state(const config::config& cfg, const std::string& stream) {
    std::error_code ec;
    if (!std::filesystem::exists(cfg.state_path, ec))
        return existing_state{};
    auto store = open_state(cfg);
    if (!store)
        return make_failure(errc::state_failed, "cannot open the state to read the watermark");
    auto wm = store->load_watermark(stream);
    if (!wm)
        return wm.error();
    return existing_state{std::move(store), *wm};
}

// Whether preview reads deleted records: only where the cycle would send something for them.
bool reads_deletes(const daemon::stream_runtime& s) {
    return s.flag_sink != nullptr;
}

// The query a cycle starting now would send, cut to --limit; or the records --id names.
result<std::string> preview_query(const daemon::stream_runtime& s,
                                  const preview_options& o,
                                  const std::optional<state::watermark>& wm,
                                  sys_ms now) {
    const auto& cfg = *s.cfg;
    // deletes: flag reads through queryAll with IsDeleted, as the cycle does, so a record in the
    // recycle bin shows the mark it would get.
    if (!o.ids.empty()) {
        return source::salesforce::by_ids(
            cfg.source.object, s.plan->source_columns(), o.ids, reads_deletes(s));
    }
    const auto w = daemon::compute_window(wm, cfg.source.overlap, cfg.source.settle, now);
    return source::salesforce::changed_since({.object = cfg.source.object,
                                              .columns = s.plan->source_columns(),
                                              .where = cfg.source.where,
                                              .from = w.from,
                                              .before = w.before,
                                              .limit = o.limit,
                                              .with_deleted = reads_deletes(s)});
}

asio::awaitable<result<void>> fetch_and_print(daemon::stream_runtime& s,
                                              state::store* store,
                                              std::string soql,
                                              const preview_options& o,
                                              sys_ms now) {
    // As the cycle would before sending: preflight needs the destination's describe. A failed
    // describe is logged and the preview goes on without preflight, as the cycle would.
    co_await daemon::refresh_destination_schema(s, now);
    auto page = co_await s.source->query(soql, *s.columns, reads_deletes(s));
    for (;;) {
        if (!page)
            co_return page.error();
        std::map<std::string, digest> known;
        if (store) {
            std::vector<std::string> ids;
            for (const auto& r : page->records)
                ids.push_back(r.id);
            auto d = store->load_digests(s.cfg->name, ids);
            if (!d)
                co_return d.error();
            known = std::move(*d);
        }
        std::vector<preview_line> lines;
        for (const auto& r : page->records) {
            const auto k = known.find(r.id);
            const auto digest_of =
                k == known.end() ? std::optional<digest>{} : std::optional<digest>{k->second};
            lines.push_back(describe(s, r, digest_of, o.trace));
        }
        if (o.diff) {
            if (auto d = co_await add_diffs(s, lines); !d)
                co_return d.error();
        }
        for (const auto& l : lines)
            std::cout << l.line.dump() << '\n';
        if (!page->next_records_url)
            break;
        page = co_await s.source->next(*page->next_records_url, *s.columns);
    }
    std::cout.flush();
    co_return result<void>{};
}

outcome run_preview(const std::string& config_path, const preview_options& o) {
    auto loaded = load_config(config_path);
    if (!loaded)
        return outcome::bad_config;
    std::vector<daemon::compiled_stream> chosen;
    for (auto& s : loaded->streams) {
        if (s.cfg.name == o.stream)
            chosen.push_back(std::move(s));
    }
    if (chosen.empty()) {
        std::cerr << fmt::format("crmsync: no stream named '{}' in {}\n", o.stream, config_path);
        return outcome::bad_config;
    }
    // Marketing Cloud's REST API documents no way to read data-extension rows back (rows are
    // read through the SOAP API's Retrieve, which crmsync does not speak): say so before any
    // call rather than after the CRM was read.
    if (o.diff && chosen.front().cfg.destination.object.starts_with("data_extension:")) {
        std::cerr << fmt::format(
            "crmsync: preview --diff is not available for Marketing Cloud data extensions "
            "(stream {} writes {}): their REST API documents no way to read rows back; "
            "preview without --diff shows what would be sent\n",
            o.stream,
            chosen.front().cfg.destination.object);
        return outcome::bad_config;
    }
    start_logging(loaded->cfg);
    auto st = read_state(loaded->cfg, o.stream);
    if (!st) {
        std::cerr << "crmsync: " << st.error().message() << '\n';
        return outcome::runtime_failure;
    }
    asio::io_context ioc;
    // Only the previewed stream is built: no other destination session is created.
    auto rt = daemon::runtime::build(ioc.get_executor(), loaded->cfg, std::move(chosen), {});
    if (!rt) {
        std::cerr << "crmsync: " << rt.error().message() << '\n';
        return outcome::bad_config;
    }
    auto* s = (*rt)->find(o.stream);
    const auto soql = preview_query(*s, o, st->watermark, (*rt)->opts().now());
    if (!soql) {
        // A malformed --id is bad usage, not a runtime failure.
        std::cerr << "crmsync: " << soql.error().message() << '\n';
        return outcome::bad_config;
    }
    result<void> done = make_failure(errc::cancelled, "preview did not finish");
    asio::co_spawn(ioc,
                   fetch_and_print(*s, st->store.get(), *soql, o, (*rt)->opts().now()),
                   [&](std::exception_ptr e, result<void> r) {
                       done = e ? result<void>(failure_from_exception(e)) : std::move(r);
                   });
    ioc.run();
    if (!done) {
        std::cerr << fmt::format("crmsync: preview {}: {}\n", o.stream, done.error().message());
        return outcome_of(done.error());
    }
    return outcome::ok;
}

}  // namespace

void add_preview(CLI::App& app, context& ctx) {
    auto* cmd = app.add_subcommand(
        "preview",
        "Dry run: fetch records from the CRM, map them, and print what would be sent as one JSON "
        "line per record (action send, unchanged, reject or skip). Sends nothing, moves no "
        "watermark");
    auto o = std::make_shared<preview_options>();
    cmd->add_option("--stream", o->stream, "The stream to preview")->required();
    auto* limit = cmd->add_option("--limit",
                                  o->limit,
                                  "At most this many records from the next cycle's window, "
                                  "oldest change first (default 10)")
                      ->check(CLI::PositiveNumber);
    cmd->add_option("--id", o->ids, "Preview this CRM record id instead (repeatable)")
        ->excludes(limit);
    cmd->add_flag("--trace", o->trace, "Add each destination field's source field(s)");
    cmd->add_flag("--diff",
                  o->diff,
                  "Also read the destination's current records and add, per record to send, "
                  "whether it is new and which fields would change (from, to)");
    cmd->callback(
        [&ctx, o] { ctx.action = [&ctx, o]() { return run_preview(ctx.config_path, *o); }; });
}

}  // namespace crmsync::cli
