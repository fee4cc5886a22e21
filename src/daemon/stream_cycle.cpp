#include "crmsync/daemon/stream_cycle.hpp"

#include "crmsync/core/hash.hpp"
#include "crmsync/daemon/schema_watch.hpp"
#include "crmsync/observability/events.hpp"
#include "crmsync/observability/health.hpp"
#include "crmsync/source/salesforce/soql.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>

namespace crmsync::daemon {
namespace asio = boost::asio;
namespace {

using steady = std::chrono::steady_clock;

// Rows per Bulk API 2.0 result set: a few REST pages' worth, so memory stays flat (SPEC §6)
// while a load of millions takes hundreds of calls, not thousands.
constexpr long bulk_max_records = 10'000;

std::int64_t ms_since(steady::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count();
}

// "1234/15000", so the summary line shows how close the org is to its api_budget (SPEC §4).
std::string api_usage_text(const std::optional<source::salesforce::api_usage>& u) {
    return u ? fmt::format("{}/{}", u->used, u->limit) : std::string{};
}

// The source's usage readings into the state (migrations/0003), for `crmsync status`.
result<void> record_api_usage(state::store& store, const source::salesforce::client& src) {
    const auto& name = src.settings().name;
    const std::pair<const char*, std::optional<source::salesforce::client::usage_reading>>
        readings[] = {{"sforce_limit_info", src.header_usage()}, {"limits", src.limits_usage()}};
    for (const auto& [origin, reading] : readings) {
        if (!reading)
            continue;
        if (auto r = store.record_api_usage({.source = name,
                                             .origin = origin,
                                             .used = reading->usage.used,
                                             .max = reading->usage.limit,
                                             .read_at = timestamp{reading->at}});
            !r) {
            return r;
        }
    }
    return {};
}

// Payloads for one sink, with the record id and digest each one stands for.
struct lane {
    std::vector<payload> payloads;
    std::vector<std::string> ids;
    std::vector<digest> digests;

    void add(payload p, const std::string& id, const digest& d) {
        payloads.push_back(std::move(p));
        ids.push_back(id);
        digests.push_back(d);
    }
};

// Records waiting to be sent, and everything else decided since the last commit.
struct pending_batch {
    std::vector<payload> payloads;
    std::vector<std::string> ids;
    std::vector<digest> digests;
    lane flags;  // deletes: flag — marks for deleted records, sent updateOnly in their own call
    // converted: follow_contact — what converted leads carry onto their contact's person, and
    // each lead's own key (the person it may re-key).
    lane follows;
    std::vector<std::string> follow_old_keys;
    lane removals;  // deletes: delete — the keys of deleted records, removed in their own call
    state::batch_commit commit;
    std::optional<state::watermark> last;  // position of the last record taken into this batch

    bool empty() const { return !last; }
};

// A batch handed to the destination and not committed yet. Several are in flight at once
// (up to stream_runtime::batches_in_flight), but each commits only after it and every batch
// before it were acknowledged (SPEC §4), so the watermark never passes a record whose batch
// may still fail.
struct sending {
    pending_batch batch;
    // The destination keys it writes (key_hash): a later batch holding one of them waits until
    // this one was answered, because Marketo may duplicate a person on closely timed upserts of
    // one key [MK-LEADS], and the later values must be the ones that stay.
    std::vector<std::uint64_t> keys;
    std::optional<result<void>> done;  // set when its last call ended
    std::size_t rejected_by_sink = 0;
    std::int64_t calls = 0, deleted = 0, skipped = 0;
    bool bulk = false;  // read by a bulk load: commits no watermark (finish_bulk does)
    steady::time_point t0;
};

class cycle {
public:
    cycle(stream_runtime& s,
          state::store& store,
          const clock_fn& now,
          cycle_control control,
          std::int64_t run_id)
        : s_(s), store_(store), now_(now), control_(control) {
        sum_.run_id = run_id;
    }

    asio::awaitable<result<void>> run();
    // The drift check read the destination describe for this cycle (or tried to): preflight
    // uses what it got instead of asking again.
    void destination_described() noexcept { described_ = true; }
    // What was committed so far, also after a failure.
    const cycle_summary& summary() const noexcept { return sum_; }

private:
    asio::awaitable<result<void>> read_all();
    asio::awaitable<result<void>> take(record& r, const std::map<std::string, digest>& known);
    // The initial load's first REST page says how many records the window holds (totalSize):
    // past source.bulk_threshold the load goes through a Bulk API 2.0 job instead, and this
    // returns its first result set. Nullopt: stay with REST paging (a small object, bulk
    // disabled, or column types the describe does not give).
    asio::awaitable<std::optional<result<source::salesforce::query_page>>> start_bulk(
        const source::salesforce::query_page& first, const std::string& soql, bool all);
    // After a bulk load's last batch: its watermark, in a commit of its own.
    result<void> finish_bulk();
    source::salesforce::bulk_job job_;
    std::vector<source::salesforce::cell_kind> kinds_;
    std::vector<std::string> bulk_columns_;
    // Hands the batch taken so far to the destination once the pipeline has room, and commits
    // whatever the destination acknowledged in order meanwhile.
    asio::awaitable<result<void>> flush();
    // Every call of one batch, in the order the sequential cycle made them; outcomes go into
    // its commit.
    asio::awaitable<result<void>> send(sending& f);
    // Commits, in order, the batches at the head of the pipeline that were acknowledged; stops
    // at the first one not answered yet. A failed batch halts the pipeline: neither it nor
    // anything after it commits, so its records are read again by the next run.
    result<void> commit_acknowledged();
    result<void> commit(sending& f);
    // Waits until one send ends (only called while one runs).
    asio::awaitable<void> a_send_ended();
    // Waits for every send to end, committing what may be committed.
    asio::awaitable<result<void>> drain();
    bool collides(const std::vector<std::uint64_t>& keys) const;
    std::vector<std::uint64_t> keys_of(const pending_batch& b) const;
    enum class lane_kind { flags, follows, removals };
    // Sends one side lane of `f` and adds its outcomes to its commit; the number rejected.
    asio::awaitable<result<std::size_t>> send_lane(sending& f,
                                                   lane& l,
                                                   sink::sink& to,
                                                   lane_kind kind);
    // deletes: flag marks and deletes: delete removals: a payload of the record's key (and the
    // flag), under a digest no full payload can have.
    void take_deleted(const record& r, const std::map<std::string, digest>& known);
    void take_converted(const record& r,
                        const payload& p,
                        std::string contact_id,
                        const std::map<std::string, digest>& known);
    void reject_preflight(const record& r,
                          const rejected& why,
                          const digest& d,
                          std::string payload_json = {});
    // The destination describe's verdict on a mapped payload (sink/preflight.hpp); reads the
    // describe first when this cycle has not yet (daemon/destination_schema.hpp).
    asio::awaitable<std::optional<rejected>> preflight(const payload& p);
    // Logs one rejection and adds it to the batch's commit (the error log row).
    void log_rejection(pending_batch& b,
                       const std::string& id,
                       const rejected& why,
                       std::string payload_json,
                       const digest& d,
                       bool preflight);
    void reset_batch();

    stream_runtime& s_;
    state::store& store_;
    const clock_fn& now_;
    cycle_control control_;
    cycle_summary sum_;
    pending_batch batch_;
    // The pipeline, oldest first: batches sent (or being sent) and not committed.
    std::deque<std::unique_ptr<sending>> flight_;
    std::size_t running_ = 0;  // sends not ended
    // Keys written by sends not ended (key_hash), with how many of them write each.
    std::unordered_map<std::uint64_t, int> keys_in_flight_;
    std::optional<failure> halted_;  // the first failure in order: nothing commits after it
    // The first send that failed, in time: no batch is handed over after it.
    std::optional<failure> send_failed_;
    asio::any_io_executor ex_;
    // Cancelled when a send ends, waking the cycle if it waits for room.
    std::optional<asio::steady_timer> wake_;
    // The stored watermark as this run last knew it (see batch_commit::read_from).
    std::optional<state::watermark> read_from_;
    bool superseded_ = false;
    bool described_ = false;  // refresh_destination_schema ran in this cycle
    // An initial load through a Bulk API 2.0 job: its records come in no order, so batches
    // commit digests only and the watermark is set once, to the greatest position read, after
    // the whole load was delivered.
    bool bulk_ = false;
    std::optional<state::watermark> bulk_max_;
};

void cycle::reset_batch() {
    batch_ = pending_batch{};
    batch_.commit.stream = s_.cfg->name;
    batch_.commit.run_id = sum_.run_id;
}

void cycle::log_rejection(pending_batch& b,
                          const std::string& id,
                          const rejected& why,
                          std::string payload_json,
                          const digest& d,
                          bool preflight) {
    observability::emit(observability::record_rejected{.stream = s_.cfg->name,
                                                       .object = s_.cfg->source.object,
                                                       .record_id = id,
                                                       .cat = why.category,
                                                       .code = why.code,
                                                       .message = why.message,
                                                       .preflight = preflight});
    b.commit.rejected.push_back({.record_id = id,
                                 .category = why.category,
                                 .code = why.code,
                                 .message = why.message,
                                 .payload_json = std::move(payload_json),
                                 .payload_digest = d});
}

void cycle::reject_preflight(const record& r,
                             const rejected& why,
                             const digest& d,
                             std::string payload_json) {
    // `d` is the record's fingerprint(), so an unchanged record re-read in the overlap window is
    // not logged again. Nothing was sent: a mapping rejection has no payload, a preflight one
    // keeps the payload that would have been sent.
    log_rejection(batch_, r.id, why, std::move(payload_json), d, true);
    ++sum_.rejected;
}

asio::awaitable<std::optional<rejected>> cycle::preflight(const payload& p) {
    if (!described_) {
        described_ = true;
        co_await refresh_destination_schema(s_, now_());
    }
    if (!s_.dest_schema.preflight)
        co_return std::nullopt;
    co_return s_.dest_schema.preflight->check(p);
}

asio::awaitable<result<void>> cycle::take(record& r, const std::map<std::string, digest>& known) {
    ++sum_.read;
    batch_.last = state::watermark{r.system_modstamp, r.id};
    if (bulk_ && (!bulk_max_ || *bulk_max_ < *batch_.last))
        bulk_max_ = batch_.last;
    const auto seen = known.find(r.id);
    // A converted lead (source.converted): the columns the daemon read after the plan's.
    std::optional<std::string> converted_to;
    if (s_.cfg->source.converted) {
        const auto at = s_.converted_column;
        if (r.columns.at(at).text() == "true")
            converted_to = r.columns.at(at + 1).text();
        r.columns.resize(at);
    }
    const bool skip_converted = converted_to && (converted_to->empty() || !s_.follow_sink);
    if (r.is_deleted &&
        (s_.flag_sink || s_.cfg->source.deletes.mode == config::deletes_mode::remove)) {
        take_deleted(r, known);
    } else if (r.is_deleted || skip_converted || s_.plan->skip(r)) {
        ++sum_.skipped;
    } else {
        auto mapped = s_.plan->apply(r);
        const auto d = fingerprint(r, mapped);
        if (converted_to && std::holds_alternative<payload>(mapped)) {
            take_converted(r, std::get<payload>(mapped), std::move(*converted_to), known);
        } else if (seen != known.end() && seen->second == d) {
            ++sum_.unchanged;
            ++batch_.commit.unchanged;
        } else if (const auto* why = std::get_if<rejected>(&mapped)) {
            reject_preflight(r, *why, d);
        } else if (auto refused = co_await preflight(std::get<payload>(mapped))) {
            reject_preflight(r, *refused, d, s_.sink->to_json(std::get<payload>(mapped)));
        } else {
            batch_.payloads.push_back(std::move(std::get<payload>(mapped)));
            batch_.ids.push_back(std::move(r.id));  // the record's last use: read_all drops it
            batch_.digests.push_back(d);
        }
    }
    if (batch_.payloads.size() >= s_.sink->max_batch() ||
        (s_.flag_sink && batch_.flags.payloads.size() >= s_.flag_sink->max_batch()) ||
        (s_.follow_sink && batch_.follows.payloads.size() >= s_.follow_sink->max_batch()) ||
        batch_.removals.payloads.size() >= s_.sink->max_batch()) {
        co_return co_await flush();
    }
    co_return result<void>{};
}

void cycle::take_deleted(const record& r, const std::map<std::string, digest>& known) {
    auto mark = deletion_mark(s_, r);
    if (!mark) {
        ++sum_.skipped;  // no key: no person to address
        return;
    }
    if (const auto seen = known.find(r.id); seen != known.end() && seen->second == mark->d) {
        ++sum_.unchanged;
        ++batch_.commit.unchanged;
        return;
    }
    const bool remove = s_.cfg->source.deletes.mode == config::deletes_mode::remove;
    (remove ? batch_.removals : batch_.flags).add(std::move(mark->p), r.id, mark->d);
}

void cycle::take_converted(const record& r,
                           const payload& p,
                           std::string contact_id,
                           const std::map<std::string, digest>& known) {
    // Re-keyed to the contact (SPEC §3 follow_contact): the key becomes the ConvertedContactId,
    // and only what the contact's own stream does not write is carried.
    payload carried;
    carried.fields.push_back(value::string(std::move(contact_id)));
    for (std::size_t k = 1; k < s_.follow_fields.size(); ++k)
        carried.fields.push_back(p.fields[s_.follow_fields[k]]);
    // Marked, so the carried payload never shares a digest with the lead's own one: a lead
    // synced before its conversion is carried once, and not again while it is unchanged.
    payload marked = carried;
    marked.fields.insert(marked.fields.begin(), value::string("converted"));
    const auto d = payload_digest(marked);
    if (const auto seen = known.find(r.id); seen != known.end() && seen->second == d) {
        ++sum_.unchanged;
        ++batch_.commit.unchanged;
        return;
    }
    batch_.follows.add(std::move(carried), r.id, d);
    batch_.follow_old_keys.push_back(p.fields[s_.plan->key_field()].text());
}

asio::awaitable<result<std::size_t>> cycle::send_lane(sending& s,
                                                      lane& f,
                                                      sink::sink& to,
                                                      lane_kind kind) {
    auto& c = s.batch.commit;
    std::size_t rejected_by_sink = 0;
    if (f.payloads.empty())
        co_return rejected_by_sink;
    result<std::vector<record_outcome>> outcomes = std::vector<record_outcome>{};
    if (kind == lane_kind::flags) {
        outcomes = co_await to.push(f.payloads);
    } else if (kind == lane_kind::follows) {
        outcomes = co_await to.push_rekeyed(f.payloads, s.batch.follow_old_keys);
    } else {
        std::vector<std::string> keys;
        for (const auto& p : f.payloads)
            keys.push_back(p.fields.front().text());
        outcomes = co_await to.remove(keys);
    }
    if (!outcomes)
        co_return outcomes.error();
    for (std::size_t i = 0; i < outcomes->size(); ++i) {
        const auto& o = (*outcomes)[i];
        if (const auto* d = std::get_if<delivered>(&o)) {
            c.delivered.push_back({f.ids[i], f.digests[i]});
            if (kind == lane_kind::removals)
                ++s.deleted;
            else
                ++(d->created && kind == lane_kind::follows ? c.created : c.updated);
            continue;
        }
        const auto& why = std::get<rejected>(o);
        // 1004 "Lead not found" from updateOnly: the record was deleted before it ever reached
        // the destination, so there is no person to mark — and updateOnly is what kept us from
        // creating one. Nothing is left to do; the digest is stored so the overlap window does
        // not ask again.
        if (kind != lane_kind::follows && why.code == "1004") {
            c.delivered.push_back({f.ids[i], f.digests[i]});
            ++s.skipped;
            continue;
        }
        log_rejection(s.batch, f.ids[i], why, to.to_json(f.payloads[i]), f.digests[i], false);
        ++rejected_by_sink;
    }
    ++s.calls;
    co_return rejected_by_sink;
}

std::vector<std::uint64_t> cycle::keys_of(const pending_batch& b) const {
    std::vector<std::uint64_t> keys;
    keys.reserve(b.payloads.size() + b.flags.payloads.size() + b.follows.payloads.size() +
                 b.removals.payloads.size() + b.follow_old_keys.size());
    for (const auto& p : b.payloads)
        keys.push_back(key_hash(p.fields.at(s_.plan->key_field()).text()));
    for (const lane* l : {&b.flags, &b.follows, &b.removals}) {
        for (const auto& p : l->payloads)
            keys.push_back(key_hash(p.fields.front().text()));
    }
    for (const auto& k : b.follow_old_keys)
        keys.push_back(key_hash(k));
    return keys;
}

bool cycle::collides(const std::vector<std::uint64_t>& keys) const {
    if (keys_in_flight_.empty())
        return false;
    return std::any_of(
        keys.begin(), keys.end(), [&](std::uint64_t k) { return keys_in_flight_.contains(k); });
}

asio::awaitable<void> cycle::a_send_ended() {
    (void)co_await wake_->async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<result<void>> cycle::flush() {
    if (batch_.empty())
        co_return result<void>{};
    auto f = std::make_unique<sending>();
    f->t0 = steady::now();
    f->bulk = bulk_;
    f->batch = std::move(batch_);
    reset_batch();
    f->keys = keys_of(f->batch);
    for (;;) {
        if (auto c = commit_acknowledged(); !c)
            co_return c.error();
        if (send_failed_)
            co_return *send_failed_;
        if (flight_.size() < s_.batches_in_flight && !collides(f->keys))
            break;
        co_await a_send_ended();  // the pipeline is full, or a key is still being written
    }
    sending& started = *f;
    flight_.push_back(std::move(f));
    const bool to_send = !started.batch.payloads.empty() || !started.batch.flags.payloads.empty() ||
                         !started.batch.follows.payloads.empty() ||
                         !started.batch.removals.payloads.empty();
    if (!to_send) {
        started.done = result<void>{};  // only a watermark and digests: it commits in its turn
    } else {
        ++running_;
        for (const auto& k : started.keys)
            ++keys_in_flight_[k];
        asio::co_spawn(ex_, send(started), [this, &started](std::exception_ptr e, result<void> r) {
            started.done = e ? result<void>(failure_from_exception(e)) : std::move(r);
            if (!*started.done && !send_failed_)
                send_failed_ = started.done->error();
            for (const auto& k : started.keys) {
                if (const auto it = keys_in_flight_.find(k);
                    it != keys_in_flight_.end() && --it->second == 0)
                    keys_in_flight_.erase(it);
            }
            --running_;
            // Commit now, not when the cycle next hands a batch over: it may be waiting for a
            // page that is slow to come, and the watermark should not wait with it.
            (void)commit_acknowledged();
            wake_->cancel();
        });
    }
    co_return commit_acknowledged();
}

asio::awaitable<result<void>> cycle::send(sending& f) {
    auto& b = f.batch;
    auto& c = b.commit;
    if (!b.payloads.empty()) {
        auto outcomes = co_await s_.sink->push(b.payloads);
        if (!outcomes)
            co_return outcomes.error();
        for (std::size_t i = 0; i < outcomes->size(); ++i) {
            if (const auto* d = std::get_if<delivered>(&(*outcomes)[i])) {
                c.delivered.push_back({std::move(b.ids[i]), b.digests[i]});  // its last use
                ++(d->created ? c.created : c.updated);
                continue;
            }
            const auto& why = std::get<rejected>((*outcomes)[i]);
            log_rejection(b, b.ids[i], why, s_.sink->to_json(b.payloads[i]), b.digests[i], false);
            ++f.rejected_by_sink;
        }
        ++f.calls;
    }
    if (s_.flag_sink) {
        auto flagged = co_await send_lane(f, b.flags, *s_.flag_sink, lane_kind::flags);
        if (!flagged)
            co_return flagged.error();
        f.rejected_by_sink += *flagged;
    }
    if (s_.follow_sink) {
        auto followed = co_await send_lane(f, b.follows, *s_.follow_sink, lane_kind::follows);
        if (!followed)
            co_return followed.error();
        f.rejected_by_sink += *followed;
    }
    auto removed = co_await send_lane(f, b.removals, *s_.sink, lane_kind::removals);
    if (!removed)
        co_return removed.error();
    f.rejected_by_sink += *removed;
    co_return result<void>{};
}

result<void> cycle::commit_acknowledged() {
    while (!halted_ && !flight_.empty() && flight_.front()->done) {
        sending& f = *flight_.front();
        if (!*f.done) {
            halted_ = f.done->error();
            break;
        }
        if (auto c = commit(f); !c) {
            halted_ = c.error();
            break;
        }
        flight_.pop_front();
    }
    if (halted_)
        return *halted_;
    return result<void>{};
}

result<void> cycle::commit(sending& f) {
    auto& b = f.batch;
    auto& c = b.commit;
    // A bulk load's batches are in no order: their watermark waits for the end of the load.
    c.new_watermark = f.bulk ? std::nullopt : b.last;
    c.read_from = read_from_;
    // The destination acknowledged this batch and every one before it: only now may the
    // watermark pass its records.
    auto effect = store_.commit_batch(c);
    if (!effect)
        return effect.error();
    if (*effect == state::commit_effect::watermark_superseded) {
        superseded_ = true;
        observability::emit(observability::watermark_superseded{.stream = s_.cfg->name,
                                                                .object = s_.cfg->source.object});
    } else if (c.new_watermark && (!read_from_ || *read_from_ < *c.new_watermark)) {
        read_from_ = c.new_watermark;  // the store only moves forwards, and so does this copy
        observability::health().set_watermark(s_.cfg->name, c.new_watermark->modstamp.at);
    }
    sum_.created += c.created;
    sum_.updated += c.updated;
    sum_.rejected += static_cast<std::int64_t>(f.rejected_by_sink);
    sum_.deleted += f.deleted;
    sum_.skipped += f.skipped;
    sum_.batches += f.calls;
    if (c.new_watermark)
        sum_.watermark = c.new_watermark;
    if (const auto sent = b.payloads.size() + b.flags.payloads.size() + b.follows.payloads.size() +
                          b.removals.payloads.size();
        sent != 0) {
        observability::emit(observability::batch_sent{
            .stream = s_.cfg->name,
            .object = s_.cfg->source.object,
            .batch_id = sum_.batches,
            .sent = sent,
            .created = static_cast<std::size_t>(c.created),
            .updated = static_cast<std::size_t>(c.updated),
            .rejected = f.rejected_by_sink,
            .duration_ms = ms_since(f.t0),
            .watermark = c.new_watermark ? c.new_watermark->modstamp.to_iso() : std::string{},
            .watermark_id = c.new_watermark ? c.new_watermark->id : std::string{}});
    }
    return result<void>{};
}

asio::awaitable<result<void>> cycle::drain() {
    for (;;) {
        (void)commit_acknowledged();
        if (running_ == 0)
            break;
        co_await a_send_ended();
    }
    (void)commit_acknowledged();
    if (halted_)
        co_return *halted_;
    co_return result<void>{};
}

asio::awaitable<result<void>> cycle::run() {
    ex_ = co_await asio::this_coro::executor;
    wake_.emplace(ex_, steady::time_point::max());
    auto r = co_await read_all();
    // The sends still running refer to this cycle: every one ends before it does, and what the
    // destination acknowledged in order still commits. The first failure is the run's.
    auto drained = co_await drain();
    if (!r)
        co_return r;
    co_return drained;
}

asio::awaitable<result<void>> cycle::read_all() {
    const auto& cfg = *s_.cfg;
    const auto wm = store_.load_watermark(cfg.name);
    if (!wm)
        co_return wm.error();
    sum_.watermark = *wm;
    read_from_ = *wm;
    if (*wm)
        observability::health().set_watermark(cfg.name, (*wm)->modstamp.at);
    // ignore reads through query, which never returns deleted records: no deletes are read.
    const bool read_deletes = cfg.source.deletes.mode != config::deletes_mode::ignore;
    const auto w = compute_window(*wm, cfg.source.overlap, cfg.source.settle, now_());
    // The window's end stays the run's first one when a lost cursor makes it query again, so
    // a restart reads no further than the run set out to.
    auto changed_since = [&](const std::optional<timestamp>& from) {
        return source::salesforce::changed_since({.object = cfg.source.object,
                                                  .columns = read_columns(cfg, *s_.plan),
                                                  .where = cfg.source.where,
                                                  .from = from,
                                                  .before = w.before,
                                                  .limit = std::nullopt,
                                                  .with_deleted = read_deletes});
    };
    auto soql = changed_since(w.from);
    if (!soql)
        co_return soql.error();
    reset_batch();

    // Each restart begins at a watermark the previous attempt moved (it commits what it read
    // first), so a few are enough; an org that keeps releasing cursors fails the run as before.
    constexpr int max_query_restarts = 3;
    int restarts = 0;
    auto page = co_await s_.source->query(*soql, *s_.columns, read_deletes);
    if (page && !*wm) {
        auto bulk_soql = source::salesforce::changed_since({.object = cfg.source.object,
                                                            .columns = read_columns(cfg, *s_.plan),
                                                            .where = cfg.source.where,
                                                            .from = std::nullopt,
                                                            .before = w.before,
                                                            .limit = std::nullopt,
                                                            .with_deleted = read_deletes,
                                                            .ordered = false});
        if (!bulk_soql)
            co_return bulk_soql.error();
        if (auto first = co_await start_bulk(*page, *bulk_soql, read_deletes))
            page = std::move(*first);
    }
    bool paging = false;  // `page` came from a nextRecordsUrl
    for (;;) {
        if (!page && !bulk_ && source::salesforce::cursor_lost(page.error(), paging) &&
            restarts < max_query_restarts) {
            // Salesforce documents query locators as expiring, and the retry of a page whose
            // answer was lost meets a cursor already released (api-reference §1.3); a garbled
            // 400 on a nextRecordsUrl is taken for the same (cursor_lost). Every
            // record read so far is whole: deliver and commit it, then query again from the
            // committed watermark; the overlap window's re-read costs no destination call
            // (digests), and the next interval is not lost.
            if (auto f = co_await flush(); !f)
                co_return f.error();
            // Every batch in flight commits first: the query starts from where they end, and
            // never reads a record again while its batch is still being sent.
            if (auto d = co_await drain(); !d)
                co_return d.error();
            if (superseded_)
                break;
            ++restarts;
            const auto again_from =
                compute_window(read_from_, cfg.source.overlap, cfg.source.settle, now_()).from;
            observability::emit(observability::query_restarted{
                .stream = cfg.name,
                .object = cfg.source.object,
                .from = read_from_ ? read_from_->modstamp.to_iso() : std::string{},
                .restart = restarts,
                .what = page.error()});
            auto again = changed_since(again_from);
            if (!again)
                co_return again.error();
            paging = false;
            page = co_await s_.source->query(*again, *s_.columns, read_deletes);
            continue;
        }
        if (!page) {
            // What earlier pages left waiting is whole and read: deliver it before stopping.
            if (auto f = co_await flush(); !f)
                co_return f.error();
            co_return page.error();
        }
        ++sum_.pages;
        std::vector<std::string> ids;
        ids.reserve(page->records.size());
        for (const auto& r : page->records)
            ids.push_back(r.id);
        auto known = store_.load_digests(cfg.name, ids);
        if (!known)
            co_return known.error();
        for (auto& r : page->records) {
            if (auto t = co_await take(r, *known); !t)
                co_return t.error();
            if (control_.stopping && control_.stopping->load())
                break;
        }
        // A page ends with a commit, so the watermark follows the reading even when nothing
        // needed sending (a restart then re-reads at most one page) — unless payloads wait for
        // the next page to fill their batch: every call but a run's last then carries the
        // sink's maximum (SPEC §4 "Batches are as large as the API allows"), where flushing
        // each page of 2,000 took 7 calls instead of 6.67 to Marketo's 300.
        const bool waiting = !batch_.payloads.empty() || !batch_.flags.payloads.empty() ||
                             !batch_.follows.payloads.empty() || !batch_.removals.payloads.empty();
        const bool stopping = control_.stopping && control_.stopping->load();
        if (!waiting || !page->next_records_url || stopping || superseded_) {
            if (auto f = co_await flush(); !f)
                co_return f.error();
        }
        // An operator moved the watermark: what this run would read next is no longer what
        // they asked for. The next run starts from their point.
        if (superseded_)
            break;
        if (control_.stopping && control_.stopping->load()) {
            co_return make_failure(errc::cancelled, "stopped by signal");
        }
        if (!page->next_records_url)
            break;
        if (bulk_) {
            const std::optional<std::string> locator = page->next_records_url;
            page = co_await s_.source->query_job_results(
                job_, locator, bulk_columns_, kinds_, bulk_max_records);
        } else {
            paging = true;
            page = co_await s_.source->next(*page->next_records_url, *s_.columns);
        }
    }
    if (bulk_ && !superseded_) {
        // The load's watermark passes every record it read: each batch must have committed.
        if (auto d = co_await drain(); !d)
            co_return d.error();
        if (auto f = finish_bulk(); !f)
            co_return f.error();
    }
    co_return result<void>{};
}

result<void> cycle::finish_bulk() {
    if (!bulk_max_)
        return {};  // nothing was read: the next run loads again
    state::batch_commit c;
    c.stream = s_.cfg->name;
    c.run_id = sum_.run_id;
    c.new_watermark = bulk_max_;
    c.read_from = read_from_;
    auto effect = store_.commit_batch(c);
    if (!effect)
        return effect.error();
    if (*effect == state::commit_effect::watermark_superseded) {
        observability::emit(observability::watermark_superseded{.stream = s_.cfg->name,
                                                                .object = s_.cfg->source.object});
        return {};
    }
    read_from_ = bulk_max_;
    sum_.watermark = bulk_max_;
    observability::health().set_watermark(s_.cfg->name, bulk_max_->modstamp.at);
    return {};
}

// What each read column is in the describe, for typing CSV cells as REST JSON types them;
// nullopt when one is not described (the describe failed, or a path it cannot follow).
std::optional<std::vector<source::salesforce::cell_kind>> column_kinds(
    const stream_runtime& s, const std::vector<std::string>& columns) {
    if (!s.src_schema.object)
        return std::nullopt;
    const auto& object = *s.src_schema.object;
    std::vector<source::salesforce::cell_kind> kinds;
    for (const auto& c : columns) {
        const source::salesforce::field_describe* f = nullptr;
        if (const auto dot = c.find('.'); dot == std::string::npos) {
            f = object.find(c);
        } else if (c.find('.', dot + 1) == std::string::npos) {
            const auto* via = object.find_relationship(std::string_view(c).substr(0, dot));
            if (via && !via->reference_to.empty()) {
                const auto parent = s.src_schema.parents.find(via->reference_to.front());
                if (parent != s.src_schema.parents.end())
                    f = parent->second.find(std::string_view(c).substr(dot + 1));
            }
        }
        if (!f)
            return std::nullopt;
        kinds.push_back(source::salesforce::cell_kind_of(f->type));
    }
    return kinds;
}

asio::awaitable<std::optional<result<source::salesforce::query_page>>> cycle::start_bulk(
    const source::salesforce::query_page& first, const std::string& soql, bool all) {
    using out = std::optional<result<source::salesforce::query_page>>;
    const auto threshold = s_.cfg->source.bulk_threshold;
    if (threshold <= 0 || first.total_size <= threshold || !first.next_records_url)
        co_return out{};
    bulk_columns_ = read_columns(*s_.cfg, *s_.plan);
    auto kinds = column_kinds(s_, bulk_columns_);
    if (!kinds)
        co_return out{};
    kinds_ = std::move(*kinds);
    // Bulk jobs avoid ORDER BY (it disables PK chunking, api-reference §1.3), so what the first
    // REST page read is left unread: the job reads the whole window again.
    auto job = co_await s_.source->create_query_job(soql, all);
    if (!job)
        co_return out{job.error()};
    observability::emit(
        observability::bulk_load_started{.stream = s_.cfg->name,
                                         .object = s_.cfg->source.object,
                                         .job_id = job->id,
                                         .records = first.total_size,
                                         .duplicates_aborted = job->duplicates_aborted});
    const std::string id = job->id;
    auto done = co_await s_.source->wait_for_query_job(id);
    if (!done)
        co_return out{done.error()};
    job_ = std::move(*done);
    bulk_ = true;
    const std::optional<std::string> from_start;
    co_return out{co_await s_.source->query_job_results(
        job_, from_start, bulk_columns_, kinds_, bulk_max_records)};
}

}  // namespace

std::optional<flag_mark> deletion_mark(const stream_runtime& s, const record& r) {
    const auto& flag = s.cfg->source.deletes;
    const value& key = r.columns.at(s.key_column);
    if (key.is_null())
        return std::nullopt;
    // The flag field's name (or the word "deleted") is part of the digest, so a mark can never
    // share a digest with the record's full payload: a record restored from the recycle bin is
    // sent in full again.
    if (flag.mode == config::deletes_mode::remove)
        return flag_mark{.p = payload{{key}},
                         .d = payload_digest(payload{{key, value::string("deleted")}})};
    return flag_mark{
        .p = payload{{key, flag.flag_value}},
        .d = payload_digest(payload{{key, value::string(flag.flag_field), flag.flag_value}})};
}

std::uint64_t key_hash(std::string_view key) noexcept {
    // A string and a map node per record, for the lower-case copy it replaces, showed in
    // profiles.
    std::uint64_t h = 14'695'981'039'346'656'037ULL;
    for (const char c : key) {
        const auto b = static_cast<unsigned char>(c);
        h = (h ^ (b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b)) * 1'099'511'628'211ULL;
    }
    return h;
}

digest fingerprint(const record& r, const mapping::map_result& mapped) {
    if (const auto* p = std::get_if<payload>(&mapped))
        return payload_digest(*p);
    return payload_digest(payload{r.columns});
}

window compute_window(const std::optional<state::watermark>& wm,
                      std::chrono::milliseconds overlap,
                      std::chrono::milliseconds settle,
                      sys_ms now) {
    window w;
    // SOQL compares whole seconds: start the exclusive bound at the second now - settle is in.
    w.before = timestamp{std::chrono::floor<std::chrono::seconds>(now - settle)};
    if (wm)
        w.from = timestamp{std::chrono::floor<std::chrono::seconds>(wm->modstamp.at - overlap)};
    return w;
}

asio::awaitable<result<cycle_summary>> run_cycle(stream_runtime& s,
                                                 state::store& store,
                                                 const clock_fn& now,
                                                 cycle_control control) {
    const auto t0 = steady::now();
    const auto& cfg = *s.cfg;
    // Stopped on schema drift: that was said once; nothing runs until a reload or restart.
    if (s.stopped)
        co_return *s.stopped;
    const auto checked = co_await watch_schema(s, now());
    if (!checked)
        co_return checked.error();
    auto run_id = store.begin_run(cfg.name, timestamp{now()});
    if (!run_id) {
        auto failed = with_context(result<cycle_summary>(run_id.error()), "stream " + cfg.name);
        const failure f = failed.error();
        observability::health().run_finished(cfg.name, &f, now());
        co_return failed;
    }

    const auto before = observability::health().find(cfg.name);
    observability::health().run_started(cfg.name);
    cycle c(s, store, now, control, *run_id);
    if (*checked)
        c.destination_described();
    // The run's row and its summary line, with the counts so far.
    const auto close_run = [&, t0](const std::string& status,
                                   const std::string& error) -> result<void> {
        const auto& sum = c.summary();
        result<void> closed;
        const state::run_counts counts{.read = sum.read,
                                       .created = sum.created,
                                       .updated = sum.updated,
                                       .unchanged = sum.unchanged,
                                       .rejected = sum.rejected};
        if (auto fin = store.finish_run(*run_id, timestamp{now()}, status, counts, error); !fin) {
            closed = fin.error();
        }
        // About a week of history at a one-minute interval: enough for audits, bounded for a daemon
        // that runs for months.
        constexpr std::int64_t runs_kept_per_stream = 10'000;
        if (auto trimmed = store.trim_runs(cfg.name, runs_kept_per_stream); !trimmed && closed)
            closed = trimmed.error();
        // Also after a failed or paused run: a spent api_budget is what status must explain.
        if (auto used = record_api_usage(store, *s.source); !used && closed)
            closed = used.error();
        const auto usage = s.source->usage();
        observability::emit(observability::stream_run_finished{
            .stream = cfg.name,
            .object = cfg.source.object,
            .run_id = *run_id,
            .status = status,
            .read = sum.read,
            .created = sum.created,
            .updated = sum.updated,
            .unchanged = sum.unchanged,
            .rejected = sum.rejected,
            .skipped = sum.skipped,
            .deleted = sum.deleted,
            .pages = sum.pages,
            .batches = sum.batches,
            .duration_ms = ms_since(t0),
            .watermark = sum.watermark ? sum.watermark->modstamp.to_iso() : std::string{},
            .error = error,
            .api_usage = api_usage_text(usage),
            .api_budget_calls = usage ? source::salesforce::budget_calls(
                                            usage->limit, s.source->settings().api_budget)
                                      : 0});
        return closed;
    };
    // SIGTERM's grace ended with this cycle's batch unanswered: the daemon stops the io_context
    // and this frame never resumes, so the run is closed here (scheduler.cpp, on_signal).
    s.abandon_run = [&] {
        (void)close_run("cancelled",
                        fmt::format("stream {}: the shutdown grace ended with a batch in flight; "
                                    "it was not committed and is sent again at the next start",
                                    cfg.name));
    };
    struct abandon_guard {
        stream_runtime& s;
        ~abandon_guard() { s.abandon_run = nullptr; }
    } guard{s};
    auto r = co_await c.run();
    if (!r &&
        (r.error().vendor_code == "INVALID_FIELD" || r.error().vendor_code == "INVALID_TYPE")) {
        // The query names a field or object Salesforce no longer knows: drift since the last
        // describe. Describe now, so the line says which field instead of a raw query error.
        s.src_schema.at.reset();
        if (auto again = co_await watch_schema(s, now());
            !again && again.error().code == errc::schema_drift)
            r = again.error();
    }
    std::string status = "ok";
    std::string error;
    if (!r) {
        failure f = r.error();
        f.context("stream " + cfg.name);
        error = f.message();
        status = f.code == errc::cancelled         ? "cancelled"
                 : f.code == errc::quota_exhausted ? "paused"
                                                   : "failed";
        // Drift has said it in its own line (schema_drift_detected).
        if (f.code == errc::quota_exhausted) {
            observability::emit(observability::stream_paused{
                .stream = cfg.name,
                .object = cfg.source.object,
                .until = f.retry_after ? timestamp{now() + *f.retry_after}.to_iso() : std::string{},
                .what = f});
        } else if (f.code != errc::cancelled && f.code != errc::schema_drift) {
            observability::emit(observability::stream_failed{
                .stream = cfg.name, .object = cfg.source.object, .what = f});
        }
        r = f;
    }
    s.abandon_run = nullptr;
    if (auto closed = close_run(status, error); !closed && r)
        r = closed.error();
    const failure ended = r ? failure{} : r.error();
    observability::health().run_finished(cfg.name, r ? nullptr : &ended, now());
    if (r && before && before->state == observability::stream_state::paused) {
        observability::emit(observability::stream_resumed{
            .stream = cfg.name,
            .object = cfg.source.object,
            .paused_since = before->since ? timestamp{*before->since}.to_iso() : std::string{},
            .api_usage = api_usage_text(s.source->usage())});
    }
    if (!r)
        co_return r.error();
    co_return c.summary();
}

}  // namespace crmsync::daemon
