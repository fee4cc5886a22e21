#include "crmsync/daemon/runtime.hpp"

#include "crmsync/config/enum_table.hpp"
#include "crmsync/core/text.hpp"
#include "crmsync/observability/events.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace crmsync::daemon {
namespace {

// API call metrics for every exchange of one configured system, and for a Salesforce source
// the daily quota from each Sforce-Limit-Info header (api-reference §1.1): the share of the
// org's allocation this source may use (api_budget) and what is left of it.
void observe_calls(http::client& client,
                   std::string system,
                   std::string instance,
                   std::optional<double> api_budget) {
    client.observe([system = std::move(system), instance = std::move(instance), api_budget](
                       const http::exchange_record& x) {
        observability::emit(
            observability::api_call{.system = system,
                                    .instance = instance,
                                    .method = std::string(boost::beast::http::to_string(x.method)),
                                    .status = x.res ? x.res->status : 0,
                                    .error = x.error ? x.error->message() : std::string{},
                                    .duration_ms = x.duration.count()});
        if (!x.res || !api_budget)
            return;
        if (const auto u =
                source::salesforce::parse_limit_info(x.res->header("Sforce-Limit-Info"))) {
            observability::emit(observability::api_quota{
                .system = system,
                .instance = instance,
                .used = static_cast<std::int64_t>(u->used),
                .limit = source::salesforce::budget_calls(u->limit, *api_budget)});
        }
    });
}

// A Marketo destination's daily quota counted in the state database (migrations/0002); every
// write also publishes the count as crmsync_api_quota_{limit,remaining}_calls.
class store_quota_ledger final : public sink::marketo::quota_ledger {
public:
    store_quota_ledger(state::store& store,
                       std::string destination,
                       std::int64_t limit,
                       clock_fn now)
        : store_(store),
          destination_(std::move(destination)),
          limit_(limit),
          now_(std::move(now)) {}

    result<sink::marketo::ledger_state> add(std::string_view day, std::int64_t calls) override {
        return publish(store_.update_quota(destination_, day, state::quota_change::add, calls));
    }
    result<sink::marketo::ledger_state> at_least(std::string_view day,
                                                 std::int64_t total) override {
        return publish(store_.update_quota(destination_, day, state::quota_change::raise, total));
    }
    result<void> spent(std::string_view day, sys_ms until) override {
        auto r = publish(store_.update_quota(
            destination_, day, state::quota_change::spent, 0, timestamp{until}));
        if (!r)
            return r.error();
        return {};
    }

private:
    result<sink::marketo::ledger_state> publish(result<state::quota_day> q) {
        if (!q)
            return q.error();
        const bool spent = q->spent_until && q->spent_until->at > now_();
        observability::emit(
            observability::api_quota{.system = "marketo",
                                     .instance = destination_,
                                     .used = spent ? std::max(q->calls, limit_) : q->calls,
                                     .limit = limit_});
        return sink::marketo::ledger_state{.count = q->calls, .spent = spent};
    }

    state::store& store_;
    std::string destination_;
    std::int64_t limit_;
    clock_fn now_;
};

// The sink for a Marketo stream's object: Sync Leads for `lead`, Sync Custom Objects for
// `custom:<apiName>`; `action` is the stream's, or updateOnly for deletes: flag marks, which
// must never create a record.
std::unique_ptr<sink::sink> marketo_sink(sink::marketo::session& session,
                                         const config::stream_destination& d,
                                         std::string action,
                                         std::vector<std::string> fields,
                                         http::retry_context retry) {
    if (const auto api_name = d.custom_object(); !api_name.empty()) {
        return std::make_unique<sink::marketo::custom_object_sink>(
            session,
            std::string(api_name),
            sink::marketo::custom_object_options{
                .action = std::move(action),
                .dedupe_by = std::string(config::to_string(d.dedupe_by))},
            d.key.destination,
            std::move(fields),
            std::move(retry));
    }
    // partitionName is only valid with createOnly/createOrUpdate [MK-LEADS].
    const bool creates = action == "createOnly" || action == "createOrUpdate";
    return std::make_unique<sink::marketo::lead_sink>(
        session,
        sink::marketo::sync_options{.action = action,
                                    .lookup_field = d.key.destination,
                                    .partition = creates ? d.partition : std::string{}},
        std::move(fields),
        std::move(retry));
}

// A `data_extension:<key>` stream's sink: the key column is filled from the CRM record id (the
// plan's key field), every other mapped field is a column (api-reference §3.2, §3.5).
std::unique_ptr<sink::sink> data_extension_sink(sink::sfmc::session& session,
                                                const config::stream& s,
                                                const mapping::plan& plan,
                                                http::retry_context retry,
                                                const options& opts) {
    sink::sfmc::de_options o;
    o.external_key = s.destination.object.substr(std::string_view("data_extension:").size());
    for (std::size_t i = 0; i < plan.destination_fields().size(); ++i) {
        o.layout.columns.push_back(plan.destination_fields()[i].destination);
        o.layout.is_key.push_back(i == plan.key_field());
    }
    o.batch_size = session.settings().sfmc.batch_size;
    o.async_threshold = session.settings().sfmc.async_threshold;
    o.poll = opts.backoff;  // status polls start at the backoff base and double to its cap
    o.on_async_resend = [stream = s.name, object = s.destination.object](
                            const std::string& request_id, const std::string& why) {
        observability::emit(observability::async_write_resent{
            .stream = stream, .object = object, .request_id = request_id, .reason = why});
    };
    return std::make_unique<sink::sfmc::data_extension_sink>(
        session, std::move(o), std::move(retry));
}

// follow_contact: where a converted lead's data goes. `key` is the destination field that holds
// contact ids (the Contact stream's key into the same object; the lead's own key when there is
// no such stream), `fields` the lead's destination fields the Contact stream does not write, by
// index in the lead's payload, key first. Those are what the contact lacks (a lead score); the
// fields the contact stream owns are left to it, so a lead's older values never overwrite them.
struct follow_target {
    std::string key;
    std::vector<std::size_t> fields;
};

follow_target lead_only_fields(const compiled_stream& lead,
                               const std::vector<compiled_stream>& all) {
    follow_target out{.key = lead.cfg.destination.key.destination, .fields = {}};
    std::set<std::string> owned;
    for (const auto& other : all) {
        const auto& o = other.cfg;
        if (!iequals_ascii(o.source.object, "Contact") ||
            o.destination.to != lead.cfg.destination.to ||
            o.destination.object != lead.cfg.destination.object) {
            continue;
        }
        out.key = o.destination.key.destination;
        for (const auto& f : other.plan->destination_fields())
            owned.insert(f.destination);
    }
    const auto& fields = lead.plan->destination_fields();
    out.fields.push_back(lead.plan->key_field());
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i != lead.plan->key_field() && !owned.contains(fields[i].destination) &&
            fields[i].destination != out.key) {
            out.fields.push_back(i);
        }
    }
    return out;
}

}  // namespace

std::vector<std::string> read_columns(const config::stream& s, const mapping::plan& plan) {
    auto cols = plan.source_columns();
    if (s.source.converted) {
        cols.emplace_back("IsConverted");
        cols.emplace_back("ConvertedContactId");
    }
    return cols;
}

result<std::unique_ptr<runtime>> runtime::build(boost::asio::any_io_executor ex,
                                                const config::config& cfg,
                                                std::vector<compiled_stream> streams,
                                                const options& opts) {
    std::unique_ptr<runtime> rt(new runtime());
    rt->opts_ = opts;
    rt->compiled_ = std::move(streams);

    auto retry_for = [&rt](std::string system) {
        http::retry_context ctx;
        ctx.policy = rt->opts_.backoff;
        ctx.rng = &rt->rng_;
        ctx.on_retry = [system](int attempt, const failure& f, std::chrono::milliseconds delay) {
            observability::emit(observability::api_call_failed{.stream = {},
                                                               .system = system,
                                                               .attempt = attempt,
                                                               .retry_in_ms = delay.count(),
                                                               .what = f});
        };
        return ctx;
    };

    for (const auto& [name, src] : cfg.sources) {
        auto& client = rt->make_http_client(ex, src.ca_file);
        observe_calls(client, "salesforce", name, src.api_budget);
        rt->sources_[name] = std::make_unique<source::salesforce::client>(
            client, src, retry_for("salesforce"), rt->opts_.now);
    }
    for (const auto& [name, dst] : cfg.destinations) {
        auto& client = rt->make_http_client(ex, dst.ca_file);
        const bool sfmc = dst.kind == config::destination_kind::sfmc;
        observe_calls(client, sfmc ? "sfmc" : "marketo", name, std::nullopt);
        if (sfmc) {
            rt->sfmc_sessions_[name] =
                std::make_unique<sink::sfmc::session>(client, dst, rt->opts_.now);
            continue;
        }
        auto& session = rt->sessions_[name] = std::make_unique<sink::marketo::session>(
            client, dst, sink::marketo::session_options{.now = rt->opts_.now});
        // An init-capture: clang 14 (scripts/tsan) cannot capture a structured binding.
        session->on_usage_unread([instance = name](const failure& f) {
            observability::emit(observability::quota_usage_unread{
                .system = "marketo", .instance = instance, .what = f});
        });
    }

    for (auto& cs : rt->compiled_) {
        const auto& s = cs.cfg;
        stream_runtime sr;
        sr.cfg = &s;
        sr.plan = cs.plan;
        // Preflight and the drift check read one describe, on the stream's own period.
        sr.dest_schema.max_age = s.source.describe_every;
        auto src = rt->sources_.find(s.source.from);
        if (src == rt->sources_.end()) {
            return make_failure(
                errc::config_invalid,
                fmt::format("stream {}: unknown source '{}'", s.name, s.source.from));
        }
        sr.source = src->second.get();
        if (const auto d = cfg.destinations.find(s.destination.to); d != cfg.destinations.end())
            sr.batches_in_flight =
                static_cast<std::size_t>(std::max(1, d->second.limits.batches_in_flight));
        sr.columns = std::make_unique<source::salesforce::column_set>(read_columns(s, *cs.plan));
        sr.converted_column = cs.plan->source_columns().size();
        const auto& cols = cs.plan->source_columns();
        sr.key_column = static_cast<std::size_t>(
            std::find_if(
                cols.begin(),
                cols.end(),
                [&](const std::string& c) { return iequals_ascii(c, s.destination.key.source); }) -
            cols.begin());
        const bool reads_key = s.source.deletes.mode != config::deletes_mode::ignore ||
                               s.source.converted == config::converted_mode::follow_contact;
        if (reads_key && sr.key_column == cols.size()) {
            return make_failure(
                errc::config_invalid,
                fmt::format(
                    "stream {}: key source '{}' is not read", s.name, s.destination.key.source));
        }
        if (const auto bu = rt->sfmc_sessions_.find(s.destination.to);
            bu != rt->sfmc_sessions_.end()) {
            // A rowset upsert cannot update only: marking a deleted record would create its row.
            if (s.source.deletes.mode == config::deletes_mode::flag) {
                return make_failure(errc::config_invalid,
                                    fmt::format("stream {}: 'deletes: flag' is not supported for "
                                                "data extensions",
                                                s.name));
            }
            if (s.source.converted == config::converted_mode::follow_contact) {
                return make_failure(errc::config_invalid,
                                    fmt::format("stream {}: 'converted: follow_contact' is not "
                                                "supported for data extensions",
                                                s.name));
            }
            if (s.source.deletes.mode == config::deletes_mode::remove) {
                return make_failure(errc::config_invalid,
                                    fmt::format("stream {}: 'deletes: delete' is not supported "
                                                "for data extensions",
                                                s.name));
            }
            sr.sink = data_extension_sink(*bu->second, s, *cs.plan, retry_for("sfmc"), rt->opts_);
            rt->streams_.push_back(std::move(sr));
            continue;
        }
        auto dst = rt->sessions_.find(s.destination.to);
        if (dst == rt->sessions_.end()) {
            return make_failure(
                errc::config_invalid,
                fmt::format("stream {}: destination '{}' is not a Marketo instance; only Marketo "
                            "destinations are supported in this build",
                            s.name,
                            s.destination.to));
        }
        std::vector<std::string> fields;
        for (const auto& f : cs.plan->destination_fields())
            fields.push_back(f.destination);
        // Re-keying and Delete Leads address persons; a custom-object record has no key to
        // move, and its delete call is not wired (api-reference §2.5 documents one).
        if (!s.destination.custom_object().empty()) {
            if (s.source.converted == config::converted_mode::follow_contact) {
                return make_failure(errc::config_invalid,
                                    fmt::format("stream {}: 'converted: follow_contact' is only "
                                                "supported for Marketo persons (object: lead)",
                                                s.name));
            }
            if (s.source.deletes.mode == config::deletes_mode::remove) {
                return make_failure(errc::config_invalid,
                                    fmt::format("stream {}: 'deletes: delete' is only supported "
                                                "for Marketo persons (object: lead)",
                                                s.name));
            }
        }
        sr.sink = marketo_sink(*dst->second,
                               s.destination,
                               s.destination.action,
                               std::move(fields),
                               retry_for("marketo"));
        if (s.source.converted == config::converted_mode::follow_contact) {
            // Re-keying moves a person to the contact's key; a custom-object record has no
            // such key to move (its dedupe fields are the object's own).
            auto target = lead_only_fields(cs, rt->compiled_);
            sr.follow_fields = std::move(target.fields);
            std::vector<std::string> carried{target.key};
            for (std::size_t k = 1; k < sr.follow_fields.size(); ++k)
                carried.push_back(cs.plan->destination_fields()[sr.follow_fields[k]].destination);
            sink::marketo::sync_options co{.action = "createOrUpdate",
                                           .lookup_field = target.key,
                                           .partition = s.destination.partition};
            auto follow = std::make_unique<sink::marketo::lead_sink>(
                *dst->second, co, std::move(carried), retry_for("marketo"));
            follow->rekey_from(s.destination.key.destination);
            sr.follow_sink = std::move(follow);
        }
        if (s.source.deletes.mode == config::deletes_mode::flag) {
            sr.flag_sink =
                marketo_sink(*dst->second,
                             s.destination,
                             "updateOnly",
                             {s.destination.key.destination, s.source.deletes.flag_field},
                             retry_for("marketo"));
        }
        rt->streams_.push_back(std::move(sr));
    }
    return rt;
}

http::client& runtime::make_http_client(boost::asio::any_io_executor ex,
                                        const std::string& ca_file) {
    auto& c = http_clients_.emplace_back(
        std::make_unique<http::client>(std::move(ex), http::tls_options{.ca_file = ca_file}));
    c->set_timeout_cap(opts_.http_timeout_cap);
    return *c;
}

void runtime::count_quota_in(state::store& store) {
    for (auto& [name, session] : sessions_) {
        auto& ledger = ledgers_.emplace_back(std::make_unique<store_quota_ledger>(
            store, name, session->settings().limits.daily_calls, opts_.now));
        session->count_quota_in(ledger.get());
    }
}

stream_runtime* runtime::find(std::string_view name) {
    for (auto& s : streams_) {
        if (s.cfg->name == name)
            return &s;
    }
    return nullptr;
}

}  // namespace crmsync::daemon
