#include "crmsync/sink/sfmc/sink.hpp"

#include "crmsync/sink/sfmc/errors.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <utility>

namespace crmsync::sink::sfmc {
namespace asio = boost::asio;
using verb = boost::beast::http::verb;
namespace {

// The rowset call is synchronous and may take a while for 50 wide rows; the async calls only
// queue or read.
constexpr std::chrono::milliseconds rowset_timeout{120'000};
constexpr std::chrono::milliseconds async_timeout{60'000};
// A data extension holds at most a few thousand columns: two Retrieve pages of 2,500.
constexpr int max_describe_pages = 10;

http::disposition action_of(const failure& f) {
    return classify(f).action;
}

std::chrono::milliseconds poll_delay(const http::backoff_policy& p, int poll) {
    // Plain doubling, no jitter: polling one request is not a thundering herd.
    auto d = std::max(p.base, std::chrono::milliseconds(1));
    for (int i = 0; i < poll && d < p.cap; ++i)
        d *= 2;
    return std::min(d, std::max(p.cap, std::chrono::milliseconds(1)));
}

}  // namespace

data_extension_sink::data_extension_sink(session& s, de_options options, http::retry_context retry)
    : session_(s),
      options_(std::move(options)),
      retry_(std::move(retry)),
      key_path_("key:" + http::url_encode(options_.external_key)) {
    options_.batch_size = std::max(1, options_.batch_size);
}

std::size_t data_extension_sink::max_batch() const {
    const auto rowset = static_cast<std::size_t>(options_.batch_size);
    if (options_.async_threshold <= 0)
        return rowset;
    return std::max(rowset, static_cast<std::size_t>(options_.async_threshold));
}

std::string data_extension_sink::to_json(const payload& p) const {
    return encode_rowset_row(options_.layout, p);
}

asio::awaitable<result<void>> data_extension_sink::authenticate() {
    auto op = [this]() { return session_.authenticate(); };
    auto no_refresh = []() -> asio::awaitable<result<void>> { co_return result<void>{}; };
    auto r = co_await http::retry_call<void>(retry_, op, action_of, no_refresh);
    co_return with_context(std::move(r), fmt::format("sfmc {}", session_.settings().name));
}

template <class T, class Op>
asio::awaitable<result<T>> data_extension_sink::with_retries(Op op) {
    auto refresh = [this]() -> asio::awaitable<result<void>> {
        session_.invalidate_token();
        co_return co_await session_.authenticate();
    };
    co_return co_await http::retry_call<T>(retry_, op, action_of, refresh);
}

asio::awaitable<result<http::response>> data_extension_sink::call(verb method,
                                                                  std::string path,
                                                                  std::string body,
                                                                  std::optional<bool> idempotent) {
    auto g = co_await session_.grant();
    if (!g)
        co_return g.error();
    co_await session_.acquire_slot();
    http::request req;
    req.method = method;
    req.url = g->rest_base + path;
    req.headers.emplace_back("Authorization", "Bearer " + g->access_token);
    if (!body.empty()) {
        req.content_type = "application/json";
        req.body = std::move(body);
    }
    req.timeout = method == verb::post ? rowset_timeout : async_timeout;
    req.idempotent = idempotent;
    auto r = co_await session_.http().send(std::move(req));
    if (!r)
        co_return r.error();
    if (r->status < 200 || r->status > 299)
        co_return rest_failure(*r);
    co_return std::move(*r);
}

asio::awaitable<result<void>> data_extension_sink::rowset_once(std::span<const payload> rows) {
    // Idempotent: a rowset upserts each row by its primary key [SFMC-DE-SYNC].
    auto r = co_await call(verb::post,
                           "/hub/v1/dataevents/" + key_path_ + "/rowset",
                           encode_rowset(options_.layout, rows),
                           true);
    if (!r)
        co_return r.error();
    co_return decode_rowset_response(r->body);
}

asio::awaitable<result<data_extension_sink::outcomes>> data_extension_sink::push_rowset(
    std::span<const payload> rows) {
    // Marketing Cloud does not say whether a row was inserted or updated [SFMC-ROWSET]: every
    // accepted row counts as updated.
    std::vector<std::optional<record_outcome>> out(rows.size());
    // Ranges still to send, last = next; a refused range is replaced by its two halves.
    std::vector<std::pair<std::size_t, std::size_t>> todo;
    const auto chunk = static_cast<std::size_t>(options_.batch_size);
    for (std::size_t off = rows.size(); off > 0;) {
        const std::size_t start = off > chunk ? ((off - 1) / chunk) * chunk : 0;
        todo.emplace_back(start, off - start);
        off = start;
    }
    while (!todo.empty()) {
        const auto [off, len] = todo.back();
        todo.pop_back();
        const auto part = rows.subspan(off, len);
        auto r = co_await with_retries<void>([this, part]() { return rowset_once(part); });
        if (r) {
            for (std::size_t i = off; i < off + len; ++i)
                out[i] = delivered{false};
            continue;
        }
        const auto d = classify(r.error());
        if (!d.reject)
            co_return r.error();
        if (*d.reject == category::validation && len > 1) {
            todo.emplace_back(off + len / 2, len - len / 2);
            todo.emplace_back(off, len / 2);
            continue;
        }
        for (std::size_t i = off; i < off + len; ++i)
            out[i] = rejection(r.error(), *d.reject);
    }
    outcomes done;
    done.reserve(out.size());
    for (auto& o : out)
        done.push_back(std::move(*o));
    co_return done;
}

asio::awaitable<result<data_extension_sink::outcomes>> data_extension_sink::read_async_results(
    const std::string& id, std::span<const payload> rows, bool& attributable) {
    // Results list the rows the request processed, `count` in all, pageSize per page
    // [SFMC-ASYNC-RESULTS]. They carry no key, so they are matched to the rows by position; when
    // the count is not the number of rows sent, that match would be a guess.
    outcomes out;
    attributable = false;
    for (long page = 1;; ++page) {
        auto r = co_await with_retries<http::response>([this, &id, page]() {
            return call(
                verb::get,
                fmt::format("/data/v1/async/{}/results?page={}", http::url_encode(id), page),
                {});
        });
        if (!r)
            co_return r.error();
        auto p = decode_async_results(r->body);
        if (!p)
            co_return p.error();
        if (p->count != static_cast<long>(rows.size()))
            co_return out;
        for (const auto& item : p->items) {
            if (out.size() == rows.size())
                co_return out;  // more items than rows: not attributable
            if (item.ok) {
                out.push_back(delivered{false});
            } else {
                out.push_back(rejected{.category = classify_item_error(item),
                                       .code = item.error_code,
                                       .message = item.message});
            }
        }
        if (out.size() == rows.size()) {
            attributable = true;
            co_return out;
        }
        if (p->items.empty())
            co_return out;  // ran out of pages before `count` rows
    }
}

asio::awaitable<result<data_extension_sink::outcomes>> data_extension_sink::push_async(
    std::span<const payload> rows) {
    const std::string body = encode_async_upsert(options_.layout, rows);
    auto resend = [this, rows](const std::string& id,
                               const std::string& why) -> asio::awaitable<result<outcomes>> {
        if (options_.on_async_resend)
            options_.on_async_resend(id, why);
        co_return co_await push_rowset(rows);
    };
    auto accepted = co_await with_retries<http::response>([this, &body]() {
        // A PUT, idempotent: it upserts by primary key [SFMC-ASYNC-UPSERT]; the insert (a POST)
        // would not be, and is not used.
        return call(verb::put, "/data/v1/async/dataextensions/" + key_path_ + "/rows", body);
    });
    if (!accepted) {
        // A 400 refuses the whole request (e.g. one malformed row), without saying which row:
        // the rowset path finds out row by row.
        if (classify(accepted.error()).reject)
            co_return co_await resend({}, accepted.error().detail);
        co_return accepted.error();
    }
    auto id = decode_async_accepted(accepted->body);
    if (!id)
        co_return id.error();

    for (int poll = 0;; ++poll) {
        if (poll >= options_.max_polls) {
            co_return make_failure(
                errc::transient,
                fmt::format("async request {} still pending after {} status polls", *id, poll));
        }
        asio::steady_timer t(co_await asio::this_coro::executor, poll_delay(options_.poll, poll));
        auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return make_failure(errc::cancelled, "async status wait cancelled");
        auto r = co_await with_retries<http::response>([this, &id]() {
            return call(
                verb::get, fmt::format("/data/v1/async/{}/status", http::url_encode(*id)), {});
        });
        if (!r)
            co_return r.error();
        auto s = decode_async_status(r->body);
        if (!s)
            co_return s.error();
        if (s->request == async_status::state::pending)
            continue;
        if (s->request == async_status::state::error)
            co_return co_await resend(*id, "the request ended in Error " + s->result_status);
        if (!s->has_errors)
            co_return outcomes(rows.size(), delivered{false});
        bool attributable = false;
        auto per_row = co_await read_async_results(*id, rows, attributable);
        if (!per_row)
            co_return per_row.error();
        if (!attributable)
            co_return co_await resend(*id, "its results do not line up with the rows sent");
        co_return std::move(*per_row);
    }
}

asio::awaitable<result<std::vector<record_outcome>>> data_extension_sink::push(
    std::span<const payload> batch) {
    const bool use_async = options_.async_threshold > 0 &&
                           batch.size() >= static_cast<std::size_t>(options_.async_threshold);
    // Not a ?: around the co_awaits: GCC 12 mishandles temporaries of a conditional expression
    // in a coroutine.
    result<outcomes> r = make_failure(errc::cancelled);
    if (use_async)
        r = co_await push_async(batch);
    else
        r = co_await push_rowset(batch);
    co_return with_context(
        std::move(r),
        fmt::format("sfmc {}: data extension {}", session_.settings().name, options_.external_key));
}

asio::awaitable<result<field_page>> data_extension_sink::describe_once(
    const std::string& continue_id) {
    auto g = co_await session_.grant();
    if (!g)
        co_return g.error();
    if (g->soap_base.empty())
        co_return make_failure(errc::bad_response, "token response had no soap_instance_url");
    co_await session_.acquire_slot();
    http::request req;
    req.method = verb::post;
    req.url = g->soap_base + "/Service.asmx";
    req.headers.emplace_back("SOAPAction", "Retrieve");
    req.content_type = "text/xml; charset=utf-8";
    req.body = encode_field_retrieve(g->access_token, options_.external_key, continue_id);
    req.timeout = async_timeout;
    req.idempotent = true;  // a SOAP Retrieve only reads
    auto r = co_await session_.http().send(std::move(req));
    if (!r)
        co_return r.error();
    co_return decode_field_retrieve(r->status, r->body);
}

asio::awaitable<result<object_schema>> data_extension_sink::describe() {
    object_schema out;
    out.object = options_.external_key;
    const auto where =
        fmt::format("sfmc {}: describe {}", session_.settings().name, options_.external_key);
    std::string continue_id;
    for (int page = 0; page < max_describe_pages; ++page) {
        auto p = co_await with_retries<field_page>(
            [this, &continue_id]() { return describe_once(continue_id); });
        if (!p)
            co_return with_context(result<object_schema>(p.error()), where);
        for (auto& f : p->fields)
            out.fields.push_back(std::move(f));
        for (auto& k : p->key_fields)
            out.key_fields.push_back(std::move(k));
        if (!p->more)
            break;
        continue_id = p->request_id;
    }
    if (out.fields.empty()) {
        // Retrieve answers OK with no results for a key that names no data extension.
        co_return make_failure(errc::request_rejected,
                               where + ": no data extension has this external key");
    }
    co_return out;
}

}  // namespace crmsync::sink::sfmc
