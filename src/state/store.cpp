#include "crmsync/state/store.hpp"

#include "crmsync/state/migrate.hpp"
#include "crmsync/state/pragmas.hpp"
#include "crmsync/state/sqlite.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

namespace crmsync::state {
namespace {

using sqlite::connection;
using sqlite::statement;
using sqlite::transaction;

// Record ids per statement in load_digests/forget_digests/list_errors: one cached statement with
// this many placeholders serves every call (unused ones are bound to NULL, which IN never
// matches). 500 keeps a 2000-id lookup to four statements, far below SQLite's 32766 variables.
constexpr std::size_t ids_per_statement = 500;

// Rows per digest upsert in commit_batch: 50 cut SQLite's instructions per digest by about
// half against one statement per record, and more rows gained nothing.
constexpr std::size_t digests_per_statement = 50;

// The upsert of `rows` digests: ?1 the stream, ?2 the time, then each row's id and digest.
std::string upsert_digests_sql(std::size_t rows) {
    std::string sql = "INSERT INTO record_digests (stream, record_id, digest, updated_ms) VALUES ";
    for (std::size_t r = 0; r < rows; ++r) {
        const auto at = 3 + 2 * r;
        sql += fmt::format("{}(?1, ?{}, ?{}, ?2)", r == 0 ? "" : ", ", at, at + 1);
    }
    return sql +
           " ON CONFLICT (stream, record_id) DO UPDATE SET digest = excluded.digest, "
           "updated_ms = excluded.updated_ms";
}

std::int64_t to_ms(timestamp t) {
    return t.at.time_since_epoch().count();
}

timestamp from_ms(std::int64_t ms) {
    return timestamp{sys_ms{std::chrono::milliseconds{ms}}};
}

// "?2, ?3, ... ?(first + count - 1)"
std::string placeholders(int first, std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        if (i != 0)
            out += ", ";
        out += fmt::format("?{}", first + static_cast<int>(i));
    }
    return out;
}

// ---- reads shared by several operations ---------------------------------------------------

result<std::optional<watermark>> read_watermark(connection& db,
                                                std::string_view op,
                                                std::string_view stream) {
    auto s = db.cached(op, "SELECT modstamp_ms, record_id FROM watermarks WHERE stream = ?1");
    if (!s)
        return s.error();
    (*s)->bind_text(1, stream);
    auto row = (*s)->step(op);
    if (!row)
        return row.error();
    if (!*row)
        return std::optional<watermark>();
    return std::optional<watermark>(watermark{from_ms((*s)->column_int(0)), (*s)->column_text(1)});
}

constexpr std::string_view error_columns =
    "id, stream, record_id, category, code, message, payload_json, first_seen_ms, last_seen_ms, "
    "attempts";

error_entry read_error_entry(const statement& s) {
    error_entry e;
    e.id = s.column_int(0);
    e.stream = s.column_text(1);
    e.record_id = s.column_text(2);
    // The CHECK constraint admits only the stable names; "other" is the safe reading anyway.
    e.category = parse_category(s.column_text(3)).value_or(category::other);
    e.code = s.column_text(4);
    e.message = s.column_text(5);
    e.payload_json = s.column_text(6);
    e.first_seen = from_ms(s.column_int(7));
    e.last_seen = from_ms(s.column_int(8));
    e.attempts = static_cast<int>(s.column_int(9));
    return e;
}

// Binds `ids[from, from + ids_per_statement)` to the placeholders starting at `first`, NULL for
// the unused ones.
template <class Id, class Bind>
void bind_id_chunk(
    statement& s, int first, const std::vector<Id>& ids, std::size_t from, Bind bind) {
    for (std::size_t i = 0; i < ids_per_statement; ++i) {
        const int index = first + static_cast<int>(i);
        if (from + i < ids.size()) {
            bind(s, index, ids[from + i]);
        } else {
            s.bind_null(index);
        }
    }
}

}  // namespace

struct store::impl {
    connection db;
    clock_fn clock;
    int version = 0;

    timestamp now() const { return timestamp{clock()}; }
};

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
store::~store() = default;

result<std::unique_ptr<store>> store::open(const std::filesystem::path& path) {
    return open(path, system_now);
}

result<std::unique_ptr<store>> store::open(const std::filesystem::path& path, clock_fn clock) {
    if (!clock)
        clock = system_now;
    auto db = connection::open(path);  // its failures already name the path
    if (!db)
        return db.error();
    const auto in_context = [&](failure f) {
        return f.context(fmt::format("open state database '{}'", path.string()));
    };
    if (auto r = apply_pragmas(*db); !r)
        return in_context(r.error());
    auto version = migrate(*db, embedded_migrations(), timestamp{clock()});
    if (!version)
        return in_context(version.error());

    auto p = std::make_unique<impl>(impl{std::move(*db), std::move(clock), *version});
    return std::unique_ptr<store>(new store(std::move(p)));
}

int store::schema_version() const {
    return impl_->version;
}

// ---- watermarks ---------------------------------------------------------------------------

result<std::optional<watermark>> store::load_watermark(std::string_view stream) {
    return read_watermark(impl_->db, fmt::format("load watermark of {}", stream), stream);
}

result<void> store::set_watermark(std::string_view stream, const std::optional<watermark>& wm) {
    auto& db = impl_->db;
    const std::string op = fmt::format("set watermark of {}", stream);
    auto tx = transaction::begin(db, transaction::mode::immediate, op);
    if (!tx)
        return tx.error();
    {
        // Unconditional, unlike commit_batch: `watermark set/reset` exists to move it back.
        auto s =
            wm ? db.cached(op,
                           "INSERT INTO watermarks (stream, modstamp_ms, record_id, updated_ms) "
                           "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (stream) DO UPDATE SET "
                           "modstamp_ms = excluded.modstamp_ms, record_id = excluded.record_id, "
                           "updated_ms = excluded.updated_ms")
               : db.cached(op, "DELETE FROM watermarks WHERE stream = ?1");
        if (!s)
            return s.error();
        (*s)->bind_text(1, stream);
        if (wm) {
            (*s)->bind_int(2, to_ms(wm->modstamp))
                .bind_text(3, wm->id)
                .bind_int(4, to_ms(impl_->now()));
        }
        if (auto r = (*s)->run(op); !r)
            return r;
    }
    return tx->commit();
}

// ---- digests ------------------------------------------------------------------------------

result<std::map<std::string, digest>> store::load_digests(std::string_view stream,
                                                          const std::vector<std::string>& ids) {
    std::map<std::string, digest> out;
    if (ids.empty())
        return out;
    auto& db = impl_->db;
    const std::string op = fmt::format("load digests of {}", stream);
    static const std::string sql = fmt::format(
        "SELECT record_id, digest FROM record_digests WHERE stream = ?1 AND record_id IN ({})",
        placeholders(2, ids_per_statement));

    // One snapshot for all chunks, so a concurrent `errors retry` cannot show half its effect.
    auto tx = transaction::begin(db, transaction::mode::deferred, op);
    if (!tx)
        return tx.error();
    for (std::size_t from = 0; from < ids.size(); from += ids_per_statement) {
        auto s = db.cached(op, sql);
        if (!s)
            return s.error();
        (*s)->bind_text(1, stream);
        // In place: `ids` outlives the borrow, whose end resets the statement and its bindings
        // (a copy of every id of every page showed in profiles).
        bind_id_chunk(**s, 2, ids, from, [](statement& st, int i, const std::string& id) {
            st.bind_text_ref(i, id);
        });
        for (;;) {
            auto row = (*s)->step(op);
            if (!row)
                return row.error();
            if (!*row)
                break;
            const auto blob = (*s)->column_blob(1);
            digest d{};
            if (blob.size() != d.size()) {
                return make_failure(errc::state_failed,
                                    fmt::format("{}: digest of {} has {} bytes, expected {}",
                                                op,
                                                (*s)->column_text(0),
                                                blob.size(),
                                                d.size()));
            }
            std::copy(blob.begin(), blob.end(), d.begin());
            out.emplace((*s)->column_text(0), d);
        }
    }
    if (auto r = tx->commit(); !r)
        return r.error();
    return out;
}

result<void> store::forget_digests(std::string_view stream, const std::vector<std::string>& ids) {
    if (ids.empty())
        return {};
    auto& db = impl_->db;
    const std::string op = fmt::format("forget digests of {}", stream);
    static const std::string sql =
        fmt::format("DELETE FROM record_digests WHERE stream = ?1 AND record_id IN ({})",
                    placeholders(2, ids_per_statement));

    auto tx = transaction::begin(db, transaction::mode::immediate, op);
    if (!tx)
        return tx.error();
    for (std::size_t from = 0; from < ids.size(); from += ids_per_statement) {
        auto s = db.cached(op, sql);
        if (!s)
            return s.error();
        (*s)->bind_text(1, stream);
        bind_id_chunk(**s, 2, ids, from, [](statement& st, int i, const std::string& id) {
            st.bind_text(i, id);
        });
        if (auto r = (*s)->run(op); !r)
            return r;
    }
    return tx->commit();
}

result<void> store::forget_all_digests(std::string_view stream) {
    auto& db = impl_->db;
    const std::string op = fmt::format("forget all digests of {}", stream);
    auto tx = transaction::begin(db, transaction::mode::immediate, op);
    if (!tx)
        return tx.error();
    {
        auto s = db.cached(op, "DELETE FROM record_digests WHERE stream = ?1");
        if (!s)
            return s.error();
        (*s)->bind_text(1, stream);
        if (auto r = (*s)->run(op); !r)
            return r;
    }
    return tx->commit();
}

// ---- the batch commit ---------------------------------------------------------------------

result<commit_effect> store::commit_batch(const batch_commit& batch) {
    auto& db = impl_->db;
    const std::string op = fmt::format("commit batch of {}", batch.stream);
    const std::int64_t now_ms = to_ms(impl_->now());

    // Everything below lands together or not at all (SPEC §4 "No change is lost"): any early
    // return leaves `tx` uncommitted and its destructor rolls the whole batch back.
    auto tx = transaction::begin(db, transaction::mode::immediate, op);
    if (!tx)
        return tx.error();

    auto effect = commit_effect::applied;
    if (batch.read_from) {
        auto current = read_watermark(db, op, batch.stream);
        if (!current)
            return current.error();
        if (*current != *batch.read_from)
            effect = commit_effect::watermark_superseded;
    }

    if (batch.new_watermark && effect == commit_effect::applied) {
        // Only forwards, compared as (SystemModstamp, Id) like the source's ORDER BY and
        // watermark's operator<=>. Batches of a stream commit in order, so an older watermark
        // here can only come from a bug elsewhere (say, a retried batch committing after its
        // successor); keeping the newer one costs nothing and spares re-reading what was
        // already delivered. Moving back on purpose is set_watermark's job.
        auto s = db.cached(op,
                           "INSERT INTO watermarks (stream, modstamp_ms, record_id, updated_ms) "
                           "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (stream) DO UPDATE SET "
                           "modstamp_ms = excluded.modstamp_ms, record_id = excluded.record_id, "
                           "updated_ms = excluded.updated_ms "
                           "WHERE (excluded.modstamp_ms, excluded.record_id) > "
                           "(watermarks.modstamp_ms, watermarks.record_id)");
        if (!s)
            return s.error();
        (*s)->bind_text(1, batch.stream)
            .bind_int(2, to_ms(batch.new_watermark->modstamp))
            .bind_text(3, batch.new_watermark->id)
            .bind_int(4, now_ms);
        if (auto r = (*s)->run(fmt::format("{}: move watermark", op)); !r)
            return r.error();
    }

    // Delivered records resolve their open error-log entries. Most batches have none to
    // resolve: one look per batch then spares a DELETE per record (the rejections below are
    // written after this loop, so they cannot be among them).
    bool open_errors = false;
    if (!batch.delivered.empty()) {
        auto s = db.cached(op, "SELECT EXISTS (SELECT 1 FROM error_log WHERE stream = ?1)");
        if (!s)
            return s.error();
        (*s)->bind_text(1, batch.stream);
        auto row = (*s)->step(op);
        if (!row)
            return row.error();
        open_errors = *row && (*s)->column_int(0) != 0;
    }
    // Digests go in statements of digests_per_statement rows, the batch's own bytes bound in
    // place (SQLITE_STATIC, cleared by the reset after each statement): per record, SQLite's
    // work of running one statement cost as much as the row's insert itself. The rows of one
    // statement are written in order, so an id delivered twice in a batch keeps its last
    // digest, as one statement per record did. The tail of a batch goes one row at a time.
    const auto& delivered = batch.delivered;
    std::size_t done = 0;
    if (delivered.size() >= digests_per_statement) {
        static const std::string many = upsert_digests_sql(digests_per_statement);
        auto s = db.cached(op, many);
        if (!s)
            return s.error();
        for (; delivered.size() - done >= digests_per_statement; done += digests_per_statement) {
            (*s)->bind_text_ref(1, batch.stream).bind_int(2, now_ms);
            for (std::size_t i = 0; i < digests_per_statement; ++i) {
                const int at = 3 + 2 * static_cast<int>(i);
                (*s)->bind_text_ref(at, delivered[done + i].record_id)
                    .bind_blob_ref(at + 1, delivered[done + i].payload_digest);
            }
            auto upserted =
                (*s)->run(fmt::format("{}: records {} to {}",
                                      op,
                                      delivered[done].record_id,
                                      delivered[done + digests_per_statement - 1].record_id));
            (*s)->reset();
            if (!upserted)
                return upserted.error();
        }
    }
    if (done < delivered.size()) {
        static const std::string one = upsert_digests_sql(1);
        auto s = db.cached(op, one);
        if (!s)
            return s.error();
        for (; done < delivered.size(); ++done) {
            const auto& d = delivered[done];
            (*s)->bind_text_ref(1, batch.stream)
                .bind_int(2, now_ms)
                .bind_text_ref(3, d.record_id)
                .bind_blob_ref(4, d.payload_digest);
            auto upserted = (*s)->run(fmt::format("{}: record {}", op, d.record_id));
            (*s)->reset();
            if (!upserted)
                return upserted.error();
        }
    }
    // Delivered now, so whatever was rejected before is resolved: this is how `errors retry`
    // (and a fix in the CRM) empties the log.
    for (std::size_t i = 0; open_errors && i < delivered.size(); ++i) {
        const std::string rop = fmt::format("{}: record {}", op, delivered[i].record_id);
        auto s = db.cached(rop, "DELETE FROM error_log WHERE stream = ?1 AND record_id = ?2");
        if (!s)
            return s.error();
        (*s)->bind_text(1, batch.stream).bind_text(2, delivered[i].record_id);
        if (auto r = (*s)->run(rop); !r)
            return r.error();
    }

    for (const auto& id : batch.resolved) {
        const std::string rop = fmt::format("{}: resolved record {}", op, id);
        auto s = db.cached(rop, "DELETE FROM error_log WHERE stream = ?1 AND record_id = ?2");
        if (!s)
            return s.error();
        (*s)->bind_text(1, batch.stream).bind_text(2, id);
        if (auto r = (*s)->run(rop); !r)
            return r.error();
    }

    for (const auto& rej : batch.rejected) {
        const std::string rop = fmt::format("{}: rejected record {}", op, rej.record_id);
        {
            // The digest too: the same payload would be rejected the same way, so it is not
            // sent again until the record changes (SPEC §4) or `errors retry` forgets it.
            static const std::string one = upsert_digests_sql(1);
            auto s = db.cached(rop, one);
            if (!s)
                return s.error();
            (*s)->bind_text(1, batch.stream)
                .bind_int(2, now_ms)
                .bind_text(3, rej.record_id)
                .bind_blob(4, rej.payload_digest);
            if (auto r = (*s)->run(rop); !r)
                return r.error();
        }
        // One open entry per record: a repeated rejection refreshes it and counts the attempt.
        auto s = db.cached(
            rop,
            "INSERT INTO error_log (stream, record_id, category, code, message, payload_json, "
            "first_seen_ms, last_seen_ms, attempts, run_id) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, 1, ?8) "
            "ON CONFLICT (stream, record_id) DO UPDATE SET category = excluded.category, "
            "code = excluded.code, message = excluded.message, "
            "payload_json = excluded.payload_json, last_seen_ms = excluded.last_seen_ms, "
            "attempts = error_log.attempts + 1, run_id = excluded.run_id");
        if (!s)
            return s.error();
        (*s)->bind_text(1, batch.stream)
            .bind_text(2, rej.record_id)
            .bind_text(3, to_string(rej.category))
            .bind_text(4, rej.code)
            .bind_text(5, rej.message)
            .bind_text(6, rej.payload_json)
            .bind_int(7, now_ms);
        if (batch.run_id != 0) {
            (*s)->bind_int(8, batch.run_id);
        } else {
            (*s)->bind_null(8);  // committed outside a run (a test, a one-off tool)
        }
        if (auto r = (*s)->run(rop); !r)
            return r.error();
    }

    {
        auto s =
            db.cached(op,
                      "INSERT INTO stream_totals (stream, created, updated, unchanged, rejected) "
                      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (stream) DO UPDATE SET "
                      "created = created + excluded.created, "
                      "updated = updated + excluded.updated, "
                      "unchanged = unchanged + excluded.unchanged, "
                      "rejected = rejected + excluded.rejected");
        if (!s)
            return s.error();
        (*s)->bind_text(1, batch.stream)
            .bind_int(2, batch.created)
            .bind_int(3, batch.updated)
            .bind_int(4, batch.unchanged)
            .bind_int(5, static_cast<std::int64_t>(batch.rejected.size()));
        if (auto r = (*s)->run(fmt::format("{}: add totals", op)); !r)
            return r.error();
    }
    if (auto r = tx->commit(); !r)
        return r.error();
    return effect;
}

// ---- runs ---------------------------------------------------------------------------------

result<std::int64_t> store::begin_run(std::string_view stream, timestamp now) {
    auto& db = impl_->db;
    const std::string op = fmt::format("begin run of {}", stream);
    auto tx = transaction::begin(db, transaction::mode::immediate, op);
    if (!tx)
        return tx.error();
    std::int64_t id = 0;
    {
        auto s =
            db.cached(op,
                      "INSERT INTO runs (stream, started_ms, status) VALUES (?1, ?2, 'running') "
                      "RETURNING id");
        if (!s)
            return s.error();
        (*s)->bind_text(1, stream).bind_int(2, to_ms(now));
        auto row = (*s)->step(op);
        if (!row)
            return row.error();
        if (!*row)
            return make_failure(errc::state_failed, fmt::format("{}: no id returned", op));
        id = (*s)->column_int(0);
        if (auto r = (*s)->run(op); !r)
            return r.error();  // finish the INSERT's statement
    }
    if (auto r = tx->commit(); !r)
        return r.error();
    return id;
}

result<void> store::finish_run(std::int64_t run_id,
                               timestamp now,
                               std::string_view status,
                               const run_counts& counts,
                               std::string_view error) {
    auto& db = impl_->db;
    const std::string op = fmt::format("finish run {}", run_id);
    auto tx = transaction::begin(db, transaction::mode::immediate, op);
    if (!tx)
        return tx.error();
    {
        auto s =
            db.cached(op,
                      "UPDATE runs SET finished_ms = ?2, status = ?3, read = ?4, created = ?5, "
                      "updated = ?6, unchanged = ?7, rejected = ?8, error = ?9 WHERE id = ?1");
        if (!s)
            return s.error();
        (*s)->bind_int(1, run_id)
            .bind_int(2, to_ms(now))
            .bind_text(3, status)
            .bind_int(4, counts.read)
            .bind_int(5, counts.created)
            .bind_int(6, counts.updated)
            .bind_int(7, counts.unchanged)
            .bind_int(8, counts.rejected)
            .bind_text(9, error);
        if (auto r = (*s)->run(op); !r)
            return r;
        if (db.changes() == 0) {
            return make_failure(errc::state_failed, fmt::format("{}: no such run", op));
        }
    }
    return tx->commit();
}

result<std::int64_t> store::trim_runs(std::string_view stream, std::int64_t keep) {
    auto& db = impl_->db;
    const std::string op = fmt::format("trim runs of {}", stream);
    auto tx = transaction::begin(db, transaction::mode::immediate, op);
    if (!tx)
        return tx.error();
    std::int64_t trimmed = 0;
    {
        // runs_by_stream (stream, id) serves both the OFFSET scan and the delete.
        auto s = db.cached(op,
                           "DELETE FROM runs WHERE stream = ?1 AND id <= (SELECT id FROM runs "
                           "WHERE stream = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)");
        if (!s)
            return s.error();
        (*s)->bind_text(1, stream).bind_int(2, std::max<std::int64_t>(keep, 1));
        if (auto r = (*s)->run(op); !r)
            return r.error();
        trimmed = db.changes();
    }
    if (auto r = tx->commit(); !r)
        return r.error();
    return trimmed;
}

// ---- error log ----------------------------------------------------------------------------

result<std::vector<error_entry>> store::list_errors(const error_filter& f) {
    auto& db = impl_->db;
    const std::string op = "list errors";

    // The WHERE clause is assembled from constant fragments only (values are bound), so each
    // combination of filters is one cached statement.
    std::string sql = fmt::format("SELECT {} FROM error_log WHERE 1", error_columns);
    int next = 1;
    if (f.stream)
        sql += fmt::format(" AND stream = ?{}", next++);
    if (f.category)
        sql += fmt::format(" AND category = ?{}", next++);
    if (f.since)
        sql += fmt::format(" AND last_seen_ms >= ?{}", next++);
    const int first_id = next;
    if (!f.ids.empty()) {
        sql += fmt::format(" AND id IN ({})", placeholders(first_id, ids_per_statement));
        next += static_cast<int>(ids_per_statement);
    }
    sql += fmt::format(" ORDER BY last_seen_ms DESC, id DESC LIMIT ?{}", next);
    // LIMIT -1 is SQLite's "no limit".
    const std::int64_t limit =
        f.limit == 0 || f.limit > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())
            ? -1
            : static_cast<std::int64_t>(f.limit);

    std::vector<std::int64_t> ids = f.ids;  // sorted and unique: no entry twice across chunks
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());

    auto tx = transaction::begin(db, transaction::mode::deferred, op);
    if (!tx)
        return tx.error();
    std::vector<error_entry> out;
    const std::size_t chunks =
        ids.empty() ? 1 : (ids.size() + ids_per_statement - 1) / ids_per_statement;
    for (std::size_t c = 0; c < chunks; ++c) {
        auto s = db.cached(op, sql);
        if (!s)
            return s.error();
        int i = 1;
        if (f.stream)
            (*s)->bind_text(i++, *f.stream);
        if (f.category)
            (*s)->bind_text(i++, to_string(*f.category));
        if (f.since)
            (*s)->bind_int(i++, to_ms(*f.since));
        if (!ids.empty()) {
            bind_id_chunk(**s,
                          first_id,
                          ids,
                          c * ids_per_statement,
                          [](statement& st, int k, std::int64_t id) { st.bind_int(k, id); });
        }
        (*s)->bind_int(next, limit);
        for (;;) {
            auto row = (*s)->step(op);
            if (!row)
                return row.error();
            if (!*row)
                break;
            out.push_back(read_error_entry(**s));
        }
    }
    if (auto r = tx->commit(); !r)
        return r.error();

    if (chunks > 1) {  // each chunk was ordered and limited on its own
        std::sort(out.begin(), out.end(), [](const error_entry& a, const error_entry& b) {
            return std::pair(a.last_seen, a.id) > std::pair(b.last_seen, b.id);
        });
        if (limit >= 0 && out.size() > static_cast<std::size_t>(limit)) {
            out.resize(static_cast<std::size_t>(limit));
        }
    }
    return out;
}

result<std::optional<error_entry>> store::get_error(std::int64_t id) {
    const std::string op = fmt::format("get error {}", id);
    static const std::string sql =
        fmt::format("SELECT {} FROM error_log WHERE id = ?1", error_columns);
    auto s = impl_->db.cached(op, sql);
    if (!s)
        return s.error();
    (*s)->bind_int(1, id);
    auto row = (*s)->step(op);
    if (!row)
        return row.error();
    if (!*row)
        return std::optional<error_entry>();
    return std::optional<error_entry>(read_error_entry(**s));
}

result<std::int64_t> store::purge_errors(timestamp before) {
    auto& db = impl_->db;
    const std::string op = fmt::format("purge errors before {}", before.to_iso());
    auto tx = transaction::begin(db, transaction::mode::immediate, op);
    if (!tx)
        return tx.error();
    std::int64_t purged = 0;
    {
        auto s = db.cached(op, "DELETE FROM error_log WHERE last_seen_ms < ?1");
        if (!s)
            return s.error();
        (*s)->bind_int(1, to_ms(before));
        if (auto r = (*s)->run(op); !r)
            return r.error();
        purged = db.changes();
    }
    if (auto r = tx->commit(); !r)
        return r.error();
    return purged;
}

// ---- status -------------------------------------------------------------------------------

result<std::vector<stream_status>> store::status(const std::vector<std::string>& streams) {
    auto& db = impl_->db;
    const std::string op = "read status";
    // One read snapshot: the watermark, totals and error counts shown belong together even while
    // the daemon commits batches.
    auto tx = transaction::begin(db, transaction::mode::deferred, op);
    if (!tx)
        return tx.error();

    std::vector<stream_status> out;
    out.reserve(streams.size());
    for (const auto& stream : streams) {
        const std::string sop = fmt::format("{} of {}", op, stream);
        stream_status st;
        st.stream = stream;

        auto wm = read_watermark(db, sop, stream);
        if (!wm)
            return wm.error();
        st.watermark = std::move(*wm);

        {
            auto s =
                db.cached(sop,
                          "SELECT id, started_ms, finished_ms, status, read, created, updated, "
                          "unchanged, rejected, error FROM runs WHERE stream = ?1 "
                          "ORDER BY id DESC LIMIT 1");
            if (!s)
                return s.error();
            (*s)->bind_text(1, stream);
            auto row = (*s)->step(sop);
            if (!row)
                return row.error();
            if (*row) {
                run_entry r;
                r.id = (*s)->column_int(0);
                r.stream = stream;
                r.started = from_ms((*s)->column_int(1));
                if (!(*s)->column_is_null(2))
                    r.finished = from_ms((*s)->column_int(2));
                r.status = (*s)->column_text(3);
                r.read = (*s)->column_int(4);
                r.created = (*s)->column_int(5);
                r.updated = (*s)->column_int(6);
                r.unchanged = (*s)->column_int(7);
                r.rejected = (*s)->column_int(8);
                r.error = (*s)->column_text(9);
                st.last_run = std::move(r);
            }
        }
        {
            auto s = db.cached(sop,
                               "SELECT created + updated, unchanged FROM stream_totals "
                               "WHERE stream = ?1");
            if (!s)
                return s.error();
            (*s)->bind_text(1, stream);
            auto row = (*s)->step(sop);
            if (!row)
                return row.error();
            if (*row) {
                st.synced_total = (*s)->column_int(0);
                st.unchanged_total = (*s)->column_int(1);
            }
        }
        {
            auto s = db.cached(sop,
                               "SELECT category, count(*) FROM error_log WHERE stream = ?1 "
                               "GROUP BY category");
            if (!s)
                return s.error();
            (*s)->bind_text(1, stream);
            for (;;) {
                auto row = (*s)->step(sop);
                if (!row)
                    return row.error();
                if (!*row)
                    break;
                st.open_errors_by_category.emplace((*s)->column_text(0), (*s)->column_int(1));
            }
        }
        out.push_back(std::move(st));
    }
    if (auto r = tx->commit(); !r)
        return r.error();
    return out;
}

// ---- destination quota --------------------------------------------------------------------

namespace {

// The quota row of `destination`, as read inside the caller's transaction.
result<std::optional<quota_day>> read_quota(connection& db,
                                            std::string_view op,
                                            std::string_view destination) {
    auto s = db.cached(op,
                       "SELECT day, calls, spent_until_ms FROM destination_quota "
                       "WHERE destination = ?1");
    if (!s)
        return s.error();
    (*s)->bind_text(1, destination);
    auto row = (*s)->step(op);
    if (!row)
        return row.error();
    if (!*row)
        return std::optional<quota_day>();
    quota_day q{.destination = std::string(destination),
                .day = (*s)->column_text(0),
                .calls = (*s)->column_int(1)};
    if (!(*s)->column_is_null(2))
        q.spent_until = from_ms((*s)->column_int(2));
    return std::optional<quota_day>(std::move(q));
}

}  // namespace

result<quota_day> store::update_quota(std::string_view destination,
                                      std::string_view day,
                                      quota_change change,
                                      std::int64_t calls,
                                      std::optional<timestamp> spent_until) {
    auto& db = impl_->db;
    const std::string op = fmt::format("count quota calls of {}", destination);
    // Days only move forwards: a process still on yesterday (its clock read just before
    // midnight) must not take today's row back. The quota day's text sorts like its date.
    static constexpr std::string_view add_sql =
        "INSERT INTO destination_quota (destination, day, calls, spent_until_ms, updated_ms) "
        "VALUES (?1, ?2, max(?3, 0), NULL, ?4) ON CONFLICT (destination) DO UPDATE SET "
        "calls = CASE WHEN day = excluded.day THEN max(calls + ?3, 0) ELSE excluded.calls END, "
        "spent_until_ms = CASE WHEN day = excluded.day THEN spent_until_ms ELSE NULL END, "
        "day = excluded.day, updated_ms = excluded.updated_ms "
        "WHERE excluded.day >= destination_quota.day";
    static constexpr std::string_view raise_sql =
        "INSERT INTO destination_quota (destination, day, calls, spent_until_ms, updated_ms) "
        "VALUES (?1, ?2, max(?3, 0), NULL, ?4) ON CONFLICT (destination) DO UPDATE SET "
        "calls = CASE WHEN day = excluded.day THEN max(calls, ?3) ELSE excluded.calls END, "
        "spent_until_ms = CASE WHEN day = excluded.day THEN spent_until_ms ELSE NULL END, "
        "day = excluded.day, updated_ms = excluded.updated_ms "
        "WHERE excluded.day >= destination_quota.day";
    static constexpr std::string_view spent_sql =
        "INSERT INTO destination_quota (destination, day, calls, spent_until_ms, updated_ms) "
        "VALUES (?1, ?2, 0, ?5, ?4) ON CONFLICT (destination) DO UPDATE SET "
        "calls = CASE WHEN day = excluded.day THEN calls ELSE 0 END, "
        "spent_until_ms = excluded.spent_until_ms, day = excluded.day, "
        "updated_ms = excluded.updated_ms WHERE excluded.day >= destination_quota.day";

    auto tx = transaction::begin(db, transaction::mode::immediate, op);
    if (!tx)
        return tx.error();
    {
        auto s = db.cached(op,
                           change == quota_change::add     ? add_sql
                           : change == quota_change::raise ? raise_sql
                                                           : spent_sql);
        if (!s)
            return s.error();
        (*s)->bind_text(1, destination)
            .bind_text(2, day)
            .bind_int(3, calls)
            .bind_int(4, to_ms(impl_->now()));
        if (change == quota_change::spent)
            (*s)->bind_int(5, to_ms(spent_until.value_or(impl_->now())));
        if (auto r = (*s)->run(op); !r)
            return r.error();
    }
    auto q = read_quota(db, op, destination);
    if (!q)
        return q.error();
    if (auto r = tx->commit(); !r)
        return r.error();
    // The row moved on to a later day than the caller's: the caller's day is over, and nothing
    // of it is counted any more.
    if (!*q || (*q)->day != day)
        return quota_day{.destination = std::string(destination), .day = std::string(day)};
    return std::move(**q);
}

result<std::optional<quota_day>> store::load_quota(std::string_view destination) {
    return read_quota(impl_->db, fmt::format("load quota of {}", destination), destination);
}

// ---- source API usage ---------------------------------------------------------------------

result<void> store::record_api_usage(const api_usage_reading& reading) {
    auto& db = impl_->db;
    const std::string op = fmt::format("record API usage of {}", reading.source);
    auto tx = transaction::begin(db, transaction::mode::immediate, op);
    if (!tx)
        return tx.error();
    {
        // A reading never replaces a newer one: two processes on one state (the daemon and
        // `errors retry`) may finish in either order.
        auto s = db.cached(op,
                           "INSERT INTO source_api_usage (source, origin, used, max, read_ms) "
                           "VALUES (?1, ?2, max(?3, 0), max(?4, 0), ?5) "
                           "ON CONFLICT (source, origin) DO UPDATE SET used = excluded.used, "
                           "max = excluded.max, read_ms = excluded.read_ms "
                           "WHERE excluded.read_ms >= source_api_usage.read_ms");
        if (!s)
            return s.error();
        (*s)->bind_text(1, reading.source)
            .bind_text(2, reading.origin)
            .bind_int(3, reading.used)
            .bind_int(4, reading.max)
            .bind_int(5, to_ms(reading.read_at));
        if (auto r = (*s)->run(op); !r)
            return r;
    }
    return tx->commit();
}

result<std::vector<api_usage_reading>> store::load_api_usage(std::string_view source) {
    auto& db = impl_->db;
    const std::string op = fmt::format("load API usage of {}", source);
    auto s = db.cached(op,
                       "SELECT origin, used, max, read_ms FROM source_api_usage WHERE source = ?1 "
                       "ORDER BY origin DESC");
    if (!s)
        return s.error();
    (*s)->bind_text(1, source);
    std::vector<api_usage_reading> out;
    for (;;) {
        auto row = (*s)->step(op);
        if (!row)
            return row.error();
        if (!*row)
            break;
        out.push_back({.source = std::string(source),
                       .origin = (*s)->column_text(0),
                       .used = (*s)->column_int(1),
                       .max = (*s)->column_int(2),
                       .read_at = from_ms((*s)->column_int(3))});
    }
    return out;
}

}  // namespace crmsync::state
