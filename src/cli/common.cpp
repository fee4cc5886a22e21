#include "common.hpp"

#include "crmsync/config/load.hpp"
#include "crmsync/mapping/plan.hpp"
#include "crmsync/observability/log.hpp"
#include "crmsync/source/salesforce/auth.hpp"
#include "crmsync/source/salesforce/soql.hpp"

#include <fmt/format.h>

#include <iostream>

namespace crmsync::cli {

namespace {

// Checks that need the compiled plan or that this build's support decides, reported like any
// other configuration problem, at the stream's position.
void check_streams(const config::config& cfg,
                   const std::vector<daemon::compiled_stream>& streams,
                   config::diagnostics& problems) {
    for (const auto& [name, src] : cfg.sources) {
        if (src.auth.flow != config::auth_flow::jwt_bearer)
            continue;
        // The loader proved the file readable; parse it too, so `validate` (ExecStartPre)
        // rejects a key that is not an RSA private key instead of the first token request.
        if (auto key = source::salesforce::signing_key::load(src.auth.private_key_file); !key) {
            problems.add(src.where, fmt::format("source {}: {}", name, key.error().message()));
        }
    }
    for (const auto& cs : streams) {
        const auto& s = cs.cfg;
        for (const auto& c : cs.plan->source_columns()) {
            if (!source::salesforce::is_field_name(c)) {
                problems.add(
                    s.where,
                    fmt::format("stream {}: '{}' is not a Salesforce field name", s.name, c));
            }
        }
        const auto dst = cfg.destinations.find(s.destination.to);
        if (dst == cfg.destinations.end())
            continue;  // the loader reported it
        if (dst->second.kind == config::destination_kind::sfmc) {
            // A rowset upsert cannot update only, so marking a deleted record would create its
            // row (api-reference §3.2).
            if (s.source.deletes.mode == config::deletes_mode::flag) {
                problems.add(s.where,
                             fmt::format("stream {}: 'deletes: flag' is not supported for data "
                                         "extensions (a row upsert would create the row)",
                                         s.name));
            }
        }
        if (s.source.deletes.mode == config::deletes_mode::remove &&
            dst->second.kind == config::destination_kind::sfmc) {
            // api-reference §3.2-3.3 document row upserts and inserts only: no row delete.
            problems.add(s.where,
                         fmt::format("stream {}: 'deletes: delete' is not supported for data "
                                     "extensions (Marketing Cloud documents no row delete); use "
                                     "'ignore'",
                                     s.name));
        } else if (s.source.deletes.mode == config::deletes_mode::flag &&
                   s.source.deletes.flag_field == s.destination.key.destination) {
            problems.add(s.where,
                         fmt::format("stream {}: deletes flag field '{}' is the stream key "
                                     "(destination.key.destination); name another field",
                                     s.name,
                                     s.source.deletes.flag_field));
        }
        if (s.source.converted == config::converted_mode::follow_contact &&
            dst->second.kind == config::destination_kind::sfmc) {
            // A row's primary key cannot be changed through the documented row APIs, so the
            // lead's row could not follow its contact (api-reference §3.2, §3.3).
            problems.add(s.where,
                         fmt::format("stream {}: 'converted: follow_contact' is not supported for "
                                     "data extensions; use 'converted: skip'",
                                     s.name));
        }
    }
}

}  // namespace

checked_config check_config(const std::string& path) {
    auto loaded = config::load(path);
    checked_config out{.loaded = {}, .problems = std::move(loaded.problems)};
    auto& problems = out.problems;
    // Mappings are compiled even when the main file has problems, so one run of validate
    // lists everything.
    for (const auto& s : loaded.cfg.streams) {
        auto plan = mapping::compile(s, problems);
        if (plan)
            out.loaded.streams.push_back({s, std::move(plan)});
    }
    if (problems.empty())
        check_streams(loaded.cfg, out.loaded.streams, problems);
    out.loaded.cfg = std::move(loaded.cfg);
    return out;
}

std::optional<loaded_config> load_config(const std::string& path) {
    auto checked = check_config(path);
    const auto& problems = checked.problems;
    if (!problems.empty()) {
        for (const auto& d : problems.sorted())
            std::cerr << d.to_string() << '\n';
        std::cerr << fmt::format(
            "{}: {} problem{} found\n", path, problems.size(), problems.size() == 1 ? "" : "s");
        return std::nullopt;
    }
    return std::move(checked.loaded);
}

void start_logging(const config::config& cfg) {
    observability::log_settings s;
    observability::parse_level(cfg.log.level, s.min_level);
    s.json = cfg.log.format != "text";
    observability::init_logging(s);
}

std::unique_ptr<state::store> open_state(const config::config& cfg) {
    auto st = state::store::open(cfg.state_path);
    if (!st) {
        std::cerr << "crmsync: " << st.error().message() << '\n';
        return nullptr;
    }
    return std::move(*st);
}

std::optional<session> open_session(const std::string& path, bool logging, outcome& why) {
    auto loaded = load_config(path);
    if (!loaded) {
        why = outcome::bad_config;
        return std::nullopt;
    }
    if (logging)
        start_logging(loaded->cfg);
    auto store = open_state(loaded->cfg);
    if (!store) {
        why = outcome::runtime_failure;
        return std::nullopt;
    }
    return session{std::move(*loaded), std::move(store)};
}

std::unique_ptr<daemon::runtime> build_runtime(session& s, boost::asio::io_context& ioc) {
    auto rt =
        daemon::runtime::build(ioc.get_executor(), s.loaded.cfg, std::move(s.loaded.streams), {});
    if (!rt) {
        std::cerr << "crmsync: " << rt.error().message() << '\n';
        return nullptr;
    }
    (*rt)->count_quota_in(*s.store);
    return std::move(*rt);
}

daemon::options interactive_options() {
    daemon::options opts;
    opts.backoff = {.base = std::chrono::milliseconds(250),
                    .cap = std::chrono::milliseconds(2'000),
                    .max_attempts = 3};
    return opts;
}

outcome outcome_of(const failure& f) {
    if (f.code == errc::auth_rejected)
        return outcome::auth_refused;
    // The mapping no longer matches the live schema: a configuration problem, as validate
    // --online reports it.
    if (f.code == errc::schema_drift)
        return outcome::bad_config;
    return outcome::runtime_failure;
}

}  // namespace crmsync::cli
