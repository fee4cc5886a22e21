#include "crmsync/daemon/retry.hpp"

#include "crmsync/daemon/stream_cycle.hpp"
#include "crmsync/observability/events.hpp"
#include "crmsync/source/salesforce/soql.hpp"

#include <chrono>
#include <map>

namespace crmsync::daemon {
namespace asio = boost::asio;
namespace {

using steady = std::chrono::steady_clock;

// Every record behind `ids`, read by Id through queryAll so deleted ones say so.
asio::awaitable<result<std::map<std::string, record>>> read_by_ids(
    stream_runtime& s, const std::vector<std::string>& ids) {
    std::map<std::string, record> found;
    auto queries = source::salesforce::by_ids_chunked(
        s.cfg->source.object, s.plan->source_columns(), ids, true);
    if (!queries)
        co_return queries.error();
    for (const auto& soql : *queries) {
        auto page = co_await s.source->query(soql, *s.columns, true);
        for (;;) {
            if (!page)
                co_return page.error();
            for (auto& r : page->records) {
                auto id = r.id;
                found.insert_or_assign(std::move(id), std::move(r));
            }
            if (!page->next_records_url)
                break;
            page = co_await s.source->next(*page->next_records_url, *s.columns);
        }
    }
    co_return found;
}

struct to_send {
    std::vector<payload> payloads;
    std::vector<std::size_t> at;  // index into the results
    std::vector<digest> digests;
};

}  // namespace

std::string_view to_string(retry_result r) noexcept {
    switch (r) {
        case retry_result::delivered:
            return "delivered";
        case retry_result::rejected:
            return "rejected";
        case retry_result::deleted:
            return "deleted";
        case retry_result::not_found:
            return "not_found";
        case retry_result::skipped:
            return "skipped";
    }
    return "rejected";
}

asio::awaitable<result<std::vector<retried_record>>> retry_errors(
    stream_runtime& s,
    state::store& store,
    const std::vector<state::error_entry>& entries,
    const clock_fn& now) {
    const auto t0 = steady::now();
    const auto& cfg = *s.cfg;
    std::vector<retried_record> out;
    std::vector<std::string> ids;
    for (const auto& e : entries) {
        out.push_back({.error_id = e.id, .record_id = e.record_id});
        ids.push_back(e.record_id);
    }
    auto found = co_await read_by_ids(s, ids);
    if (!found)
        co_return with_context(result<std::vector<retried_record>>(found.error()),
                               "retry " + cfg.name);

    const auto reject = [&](state::batch_commit& c,
                            std::size_t i,
                            const rejected& why,
                            std::string payload_json,
                            const digest& d,
                            bool preflight) {
        observability::emit(observability::record_rejected{.stream = cfg.name,
                                                           .object = cfg.source.object,
                                                           .record_id = out[i].record_id,
                                                           .cat = why.category,
                                                           .code = why.code,
                                                           .message = why.message,
                                                           .preflight = preflight});
        c.rejected.push_back({.record_id = out[i].record_id,
                              .category = why.category,
                              .code = why.code,
                              .message = why.message,
                              .payload_json = std::move(payload_json),
                              .payload_digest = d});
        out[i].result = retry_result::rejected;
        out[i].rejection = why;
        out[i].attempts = entries[i].attempts + 1;
    };

    // What the mapping decides alone (deleted, gone, skipped, rejected) is committed first.
    state::batch_commit decided{.stream = cfg.name};
    to_send send;
    bool described = false;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto it = found->find(entries[i].record_id);
        if (it == found->end()) {
            out[i].result = retry_result::not_found;
            continue;
        }
        const record& r = it->second;
        if (r.is_deleted) {
            out[i].result = retry_result::deleted;
            continue;
        }
        if (s.plan->skip(r)) {
            out[i].result = retry_result::skipped;
            decided.resolved.push_back(r.id);
            continue;
        }
        auto mapped = s.plan->apply(r);
        const auto d = fingerprint(r, mapped);
        if (const auto* why = std::get_if<rejected>(&mapped)) {
            reject(decided, i, *why, {}, d, true);
            continue;
        }
        // The destination's describe, as the cycle checks it before sending (read once, and
        // only when something is to be sent).
        if (!described) {
            described = true;
            co_await refresh_destination_schema(s, now());
        }
        const auto& p = std::get<payload>(mapped);
        if (s.dest_schema.preflight) {
            if (auto refused = s.dest_schema.preflight->check(p)) {
                reject(decided, i, *refused, s.sink->to_json(p), d, true);
                continue;
            }
        }
        send.payloads.push_back(std::move(std::get<payload>(mapped)));
        send.at.push_back(i);
        send.digests.push_back(d);
    }
    if (!decided.resolved.empty() || !decided.rejected.empty()) {
        if (auto c = store.commit_batch(decided); !c)
            co_return c.error();
    }

    // Then the destination's answers, one commit per batch, so a failure keeps what was done.
    const std::size_t max = s.sink->max_batch();
    for (std::size_t from = 0; from < send.payloads.size(); from += max) {
        const std::size_t n = std::min(max, send.payloads.size() - from);
        const std::span<const payload> batch(send.payloads.data() + from, n);
        const auto t0 = steady::now();
        auto outcomes = co_await s.sink->push(batch);
        if (!outcomes)
            co_return with_context(result<std::vector<retried_record>>(outcomes.error()),
                                   "retry " + cfg.name);
        state::batch_commit c{.stream = cfg.name};
        std::size_t rejected_n = 0;
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = send.at[from + k];
            if (const auto* ok = std::get_if<delivered>(&(*outcomes)[k])) {
                c.delivered.push_back({out[i].record_id, send.digests[from + k]});
                ++(ok->created ? c.created : c.updated);
                out[i].result = retry_result::delivered;
                continue;
            }
            reject(c,
                   i,
                   std::get<rejected>((*outcomes)[k]),
                   s.sink->to_json(batch[k]),
                   send.digests[from + k],
                   false);
            ++rejected_n;
        }
        if (auto committed = store.commit_batch(c); !committed)
            co_return committed.error();
        observability::emit(observability::batch_sent{
            .stream = cfg.name,
            .object = cfg.source.object,
            .batch_id = static_cast<std::int64_t>(from / max + 1),
            .sent = n,
            .created = static_cast<std::size_t>(c.created),
            .updated = static_cast<std::size_t>(c.updated),
            .rejected = rejected_n,
            .duration_ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count()});
    }
    observability::errors_retried done{.stream = cfg.name, .object = cfg.source.object};
    for (const auto& o : out) {
        switch (o.result) {
            case retry_result::delivered:
                ++done.delivered;
                break;
            case retry_result::rejected:
                ++done.rejected;
                break;
            case retry_result::deleted:
                ++done.deleted;
                break;
            case retry_result::not_found:
                ++done.not_found;
                break;
            case retry_result::skipped:
                ++done.skipped;
                break;
        }
    }
    done.retried = out.size();
    done.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count();
    observability::emit(done);
    co_return out;
}

}  // namespace crmsync::daemon
