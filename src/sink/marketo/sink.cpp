#include "crmsync/sink/marketo/sink.hpp"

#include "crmsync/sink/marketo/auth.hpp"
#include "crmsync/sink/marketo/describe.hpp"
#include "crmsync/sink/marketo/lookup.hpp"
#include "crmsync/sink/marketo/result_codes.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "detail_retry.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <utility>

namespace crmsync::sink::marketo {
namespace asio = boost::asio;
using detail::with_retries;

namespace {

// Sync Leads may take up to 90 s server-side [MK-LEADS]; give it a little more.
constexpr std::chrono::milliseconds push_timeout{100'000};
// Sync Custom Objects may take up to 120 s server-side [MK-CO].
constexpr std::chrono::milliseconds custom_push_timeout{130'000};
// Most lead endpoints time out after 30 s server-side [MK-LEADS].
constexpr std::chrono::milliseconds describe_timeout{35'000};
// stats/usage is a small read; the lead endpoints' 30 s [MK-LEADS] is plenty.
constexpr std::chrono::milliseconds usage_timeout{35'000};
// Renew a minute early so a token never expires between our check and Marketo's.
constexpr std::chrono::seconds token_margin{60};

// Marketo ids of the persons whose `field` holds each of `keys` (Get Leads by filterType).
asio::awaitable<result<std::map<std::string, std::vector<std::int64_t>>>> ids_by_key(
    session& s,
    const http::retry_context& retry,
    std::string field,
    std::vector<std::string> keys) {
    std::vector<std::string> fields{"id", field};
    auto found = co_await find_by_filter(
        s, retry, std::string(leads_path), field, std::move(keys), std::move(fields));
    if (!found)
        co_return found.error();
    std::map<std::string, std::vector<std::int64_t>> out;
    for (const auto& person : *found) {
        const auto k = person.find(field);
        const auto id = person.find("id");
        if (k != person.end() && k->is_string() && id != person.end() && id->is_number_integer())
            out[k->get<std::string>()].push_back(id->get<std::int64_t>());
    }
    co_return out;
}

// The body of each attempt of one sync call. The first takes the encoded body itself: it is a
// few hundred kilobytes, and a copy per attempt showed in profiles. A retry, rare, encodes the
// same bytes again (the encoders are pure).
template <class Encode>
class attempt_bodies {
public:
    explicit attempt_bodies(Encode encode) : encode_(std::move(encode)), first_(encode_()) {}

    std::string next() {
        if (!taken_) {
            taken_ = true;
            return std::move(first_);
        }
        return encode_();
    }

private:
    Encode encode_;
    std::string first_;
    bool taken_ = false;
};

}  // namespace

failure http_failure(const http::response& r, std::string_view where) {
    // [MK-ERR] HTTP-level: 413 payload too large, 414 URI too long; 5xx, 408 and 429 come from
    // the edge in front of the API and are transient (SPEC §4), its Retry-After honoured.
    const errc code = r.status == 429                      ? errc::rate_limited
                      : r.status >= 500 || r.status == 408 ? errc::transient
                                                           : errc::request_rejected;
    failure f = make_failure(code, fmt::format("{}: http {}", where, r.status));
    f.http_status = r.status;
    f.retry_after = http::parse_retry_after(r.header("Retry-After"));
    return f;
}

http::disposition classify(const failure& f) {
    using http::disposition;
    if (f.code == errc::token_expired)
        return disposition::refresh_token;
    if (f.code == errc::rate_limited || f.code == errc::transient || f.code == errc::timeout ||
        f.code == errc::connect_failed) {
        return disposition::retry;
    }
    if (f.code == errc::bad_response && f.http_status == 0)
        return disposition::retry;
    if (f.code.category() != crmsync_category())
        return disposition::retry;  // resets, partial reads
    return disposition::fail;
}

// A place in the call window and among the calls in flight, held for one call.
class session::slot {
public:
    explicit slot(session* s) noexcept : s_(s) {}
    slot(slot&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
    slot& operator=(slot&&) = delete;
    ~slot() {
        if (s_)
            s_->release_slot();
    }

private:
    session* s_;
};

session::session(http::client& http, config::destination cfg, session_options options)
    : http_(http),
      cfg_(std::move(cfg)),
      options_(std::move(options)),
      limiter_(static_cast<std::size_t>(std::max(1, cfg_.limits.calls_per_20s)),
               options_.window,
               static_cast<std::size_t>(std::max(1, cfg_.limits.concurrency))),
      quota_(cfg_.limits.daily_calls, nullptr, options_.now) {}

asio::awaitable<result<void>> session::authenticate() {
    http::request req;
    // [MK-AUTH]: credentials travel in the query string of the identity call; the http client
    // never logs query strings, and neither do we. Identity calls are not counted [MK-SWAGGER-ID].
    req.url = cfg_.base_url + "/identity/oauth/token?" +
              http::form_encode({{"grant_type", "client_credentials"},
                                 {"client_id", cfg_.client_id},
                                 {"client_secret", cfg_.client_secret.reveal()}});
    auto r = co_await http_.send(std::move(req));
    // with_retries names the destination; this names only the step.
    const std::string where = "identity";
    if (!r)
        co_return with_context(result<void>(r.error()), where);
    if (r->status != 200) {
        failure f = http_failure(*r, where);
        // [MK-ERR]: Identity answers 401 to unknown credentials.
        if (r->status == 401 || r->status == 400 || r->status == 403)
            f.code = make_error_code(errc::auth_rejected);
        co_return f;
    }
    auto t = parse_identity_token(r->body);
    if (!t)
        co_return with_context(result<void>(t.error()), where);
    token_ = std::move(t->access_token);
    token_expires_ = std::chrono::steady_clock::now() + t->expires_in;
    co_return result<void>{};
}

asio::awaitable<result<std::string>> session::token() {
    if (!token_ || std::chrono::steady_clock::now() + token_margin >= token_expires_) {
        auto a = co_await authenticate();
        if (!a)
            co_return a.error();
    }
    co_return *token_;
}

asio::awaitable<result<std::string>> session::call(boost::beast::http::verb method,
                                                   std::string path,
                                                   std::string body,
                                                   std::chrono::milliseconds timeout,
                                                   std::optional<bool> idempotent) {
    if (quota_.wants_usage()) {
        quota_.mark_usage_read();  // first: read_usage's own call must not come back here
        co_await read_usage();
    }
    co_return co_await send(method, path, std::move(body), timeout, idempotent);
}

asio::awaitable<void> session::read_usage() {
    // [MK-USAGE] today's calls of every user of the instance; the call itself counts as one.
    auto body = co_await send(
        boost::beast::http::verb::get, "/rest/v1/stats/usage.json", {}, usage_timeout, {});
    result<void> read;
    if (!body) {
        read = body.error();
    } else if (auto usage = parse_usage(*body); !usage) {
        read = usage.error();
    } else {
        read = quota_.reported(usage->date, usage->total);
    }
    if (read)
        co_return;
    failure f = read.error();
    if (f.code == errc::quota_exhausted) {
        if (f.vendor_code == "607")
            (void)quota_.spent(f);
        co_return;  // the call that follows reports it
    }
    f.context(fmt::format("marketo {}: read daily usage", cfg_.name));
    if (on_usage_unread_)
        on_usage_unread_(f);
}

asio::awaitable<result<std::string>> session::send(boost::beast::http::verb method,
                                                   const std::string& path,
                                                   std::string body,
                                                   std::chrono::milliseconds timeout,
                                                   std::optional<bool> idempotent) {
    auto token = co_await this->token();
    if (!token)
        co_return token.error();
    if (auto counted = quota_.count_call(); !counted)
        co_return counted.error();
    const slot held = co_await acquire_slot();
    ++calls_;
    http::request req;
    req.method = method;
    req.url = cfg_.base_url + path;
    req.headers.emplace_back("Authorization", "Bearer " + *token);
    if (!body.empty())
        req.content_type = "application/json";
    req.body = std::move(body);
    req.timeout = timeout;
    req.idempotent = idempotent;
    auto r = co_await http_.send(std::move(req));
    if (!r)
        co_return r.error();
    if (r->status != 200)
        co_return http_failure(*r, path.substr(path.rfind('/') + 1));
    co_return std::move(r->body);
}

asio::awaitable<session::slot> session::acquire_slot() {
    for (;;) {
        const auto v = limiter_.try_acquire(std::chrono::steady_clock::now());
        if (v.granted)
            co_return slot(this);
        // Woken by the window (v.wait) or by a call ending (release_slot cancels the timer).
        asio::steady_timer t(co_await asio::this_coro::executor,
                             v.wait.value_or(std::chrono::minutes(10)));
        // Unlisted on the way out, also when the daemon's shutdown destroys this frame while
        // another call still holds a place and will release it.
        struct waiter {
            std::list<asio::steady_timer*>& list;
            std::list<asio::steady_timer*>::iterator at;
            ~waiter() { list.erase(at); }
        } listed{waiting_, waiting_.insert(waiting_.end(), &t)};
        (void)co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

void session::release_slot() {
    limiter_.release(std::chrono::steady_clock::now());
    for (auto* t : waiting_)
        t->cancel();
}

object_sink::object_sink(session& s, std::vector<std::string> fields, http::retry_context retry)
    : session_(s), fields_(std::move(fields)), retry_(std::move(retry)) {}

std::string object_sink::to_json(const payload& p) const {
    return encode_record(fields_, p);
}

asio::awaitable<result<void>> object_sink::authenticate() {
    // Transport failures on the identity call are worth the same retries as any other call.
    auto op = [this]() { return session_.authenticate(); };
    auto no_refresh = []() -> asio::awaitable<result<void>> { co_return result<void>{}; };
    auto r = co_await http::retry_call<void>(retry_, op, classify, no_refresh);
    co_return with_context(std::move(r), fmt::format("marketo {}", session_.settings().name));
}

lead_sink::lead_sink(session& s,
                     sync_options options,
                     std::vector<std::string> fields,
                     http::retry_context retry)
    : object_sink(s, std::move(fields), std::move(retry)), options_(std::move(options)) {}

asio::awaitable<result<std::vector<record_outcome>>> lead_sink::push(
    std::span<const payload> batch) {
    co_return co_await sync(options_, fields_, batch);
}

asio::awaitable<result<std::vector<record_outcome>>> lead_sink::push_rekeyed(
    std::span<const payload> batch, std::span<const std::string> old_keys) {
    const auto key_at = static_cast<std::size_t>(
        std::find(fields_.begin(), fields_.end(), options_.lookup_field) - fields_.begin());
    const std::string& old_field = rekey_field_.empty() ? options_.lookup_field : rekey_field_;
    std::vector<std::string> new_keys;
    for (const auto& p : batch)
        new_keys.push_back(p.fields.at(key_at).text());
    auto by_new = co_await ids_by_key(session_, retry_, options_.lookup_field, new_keys);
    if (!by_new)
        co_return by_new.error();
    auto by_old = co_await ids_by_key(
        session_, retry_, old_field, std::vector<std::string>(old_keys.begin(), old_keys.end()));
    if (!by_old)
        co_return by_old.error();
    // Split: records that update (or create) by the new key, and persons re-keyed by their id.
    std::vector<std::size_t> by_key, by_id;
    std::vector<payload> keyed, rekeyed;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto old = by_old->find(old_keys[i]);
        if (!by_new->contains(new_keys[i]) && old != by_old->end() && old->second.size() == 1) {
            payload p = batch[i];
            p.fields.insert(p.fields.begin(), value::number(std::to_string(old->second.front())));
            rekeyed.push_back(std::move(p));
            by_id.push_back(i);
        } else {
            // Several persons with the old key are a duplicate the key upsert reports itself.
            keyed.push_back(batch[i]);
            by_key.push_back(i);
        }
    }
    std::vector<record_outcome> out(batch.size());
    if (!keyed.empty()) {
        auto r = co_await sync(options_, fields_, keyed);
        if (!r)
            co_return r.error();
        for (std::size_t j = 0; j < by_key.size(); ++j)
            out[by_key[j]] = std::move((*r)[j]);
    }
    if (!rekeyed.empty()) {
        // lookupField id is valid with updateOnly only [MK-LEADS].
        std::vector<std::string> fields{"id"};
        fields.insert(fields.end(), fields_.begin(), fields_.end());
        // (A named object: GCC 12 frees a temporary argument of a co_await too early.)
        const sync_options by_marketo_id{
            .action = "updateOnly", .lookup_field = "id", .partition = {}};
        auto r = co_await sync(by_marketo_id, fields, rekeyed);
        if (!r)
            co_return r.error();
        for (std::size_t j = 0; j < by_id.size(); ++j)
            out[by_id[j]] = std::move((*r)[j]);
    }
    co_return out;
}

asio::awaitable<result<std::vector<record_outcome>>> lead_sink::remove(
    std::span<const std::string> keys) {
    auto by_key = co_await ids_by_key(session_,
                                      retry_,
                                      options_.lookup_field,
                                      std::vector<std::string>(keys.begin(), keys.end()));
    if (!by_key)
        co_return by_key.error();
    std::vector<record_outcome> out(keys.size(), record_outcome{delivered{false}});
    std::vector<std::size_t> sent;
    nlohmann::json input = nlohmann::json::array();
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto found = by_key->find(keys[i]);
        if (found == by_key->end())
            continue;  // no person: already gone, or never synced
        if (found->second.size() > 1) {
            out[i] = rejected{.category = category::duplicate,
                              .code = "DELETE_AMBIGUOUS",
                              .message = fmt::format("{} persons have {} {}; none was deleted",
                                                     found->second.size(),
                                                     options_.lookup_field,
                                                     keys[i])};
            continue;
        }
        input.push_back({{"id", found->second.front()}});
        sent.push_back(i);
    }
    if (sent.empty())
        co_return out;
    const std::string body = nlohmann::json{{"input", std::move(input)}}.dump();
    auto r = co_await with_retries<std::vector<record_outcome>>(
        session_,
        retry_,
        [this, &body, n = sent.size()]() -> asio::awaitable<result<std::vector<record_outcome>>> {
            // Idempotent: deleting by id twice leaves the persons deleted [MK-LEADS].
            auto reply = co_await session_.call(boost::beast::http::verb::post,
                                                "/rest/v1/leads/delete.json",
                                                body,
                                                describe_timeout,
                                                true);
            if (!reply)
                co_return reply.error();
            co_return decode_sync_response(*reply, n);
        });
    if (!r)
        co_return r.error();
    for (std::size_t j = 0; j < sent.size(); ++j)
        out[sent[j]] = std::move((*r)[j]);
    co_return out;
}

asio::awaitable<result<std::vector<record_outcome>>> lead_sink::sync(
    const sync_options& o, const std::vector<std::string>& fields, std::span<const payload> batch) {
    attempt_bodies bodies([&] { return encode_sync_leads(o, fields, batch); });
    co_return co_await with_retries<std::vector<record_outcome>>(
        session_,
        retry_,
        [this, &bodies, &o, n = batch.size()]()
            -> asio::awaitable<result<std::vector<record_outcome>>> {
            std::string body = bodies.next();
            // By the action: an upsert by lookupField is idempotent, a create is not.
            auto r = co_await session_.call(boost::beast::http::verb::post,
                                            "/rest/v1/leads.json",
                                            std::move(body),
                                            push_timeout,
                                            sync_action_is_idempotent(o.action));
            if (!r)
                co_return r.error();
            co_return decode_sync_response(*r, n);
        });
}

asio::awaitable<result<object_schema>> lead_sink::describe() {
    // The envelope is read inside the retried call: a 601/602 or 606 arrives as HTTP 200.
    auto fetch = [this]<class T>(const char* path, result<T> (*parse)(std::string_view)) {
        return with_retries<T>(
            session_, retry_, [this, path, parse]() -> asio::awaitable<result<T>> {
                auto body = co_await session_.call(
                    boost::beast::http::verb::get, path, {}, describe_timeout);
                if (!body)
                    co_return body.error();
                co_return parse(*body);
            });
    };
    auto schema = co_await fetch("/rest/v1/leads/describe.json", &parse_lead_describe);
    if (!schema)
        co_return schema.error();
    auto keys = co_await fetch("/rest/v1/leads/describe2.json", &parse_lead_search_fields);
    if (!keys)
        co_return keys.error();
    schema->key_fields = std::move(*keys);
    // Sync Leads skips a record without its lookup field (1002) when it updates by it
    // [MK-LEADS]: for this stream the field is as good as required.
    if (options_.action == "createOrUpdate" || options_.action == "updateOnly") {
        for (auto& f : schema->fields) {
            if (f.name == options_.lookup_field)
                f.required = true;
        }
    }
    co_return schema;
}

asio::awaitable<result<std::vector<nlohmann::json>>> lead_sink::read_current(
    std::span<const std::string> keys, std::span<const std::string> fields) {
    std::vector<std::string> wanted(fields.begin(), fields.end());
    // The lookup field comes back too, so each person can be matched with its key.
    if (std::find(wanted.begin(), wanted.end(), options_.lookup_field) == wanted.end())
        wanted.push_back(options_.lookup_field);
    co_return co_await find_by_filter(session_,
                                      retry_,
                                      std::string(leads_path),
                                      options_.lookup_field,
                                      std::vector<std::string>(keys.begin(), keys.end()),
                                      std::move(wanted));
}

custom_object_sink::custom_object_sink(session& s,
                                       std::string api_name,
                                       custom_object_options options,
                                       std::string key_field,
                                       std::vector<std::string> fields,
                                       http::retry_context retry)
    : object_sink(s, std::move(fields), std::move(retry)),
      api_name_(std::move(api_name)),
      options_(std::move(options)),
      key_field_(std::move(key_field)) {}

asio::awaitable<result<std::vector<record_outcome>>> custom_object_sink::push(
    std::span<const payload> batch) {
    attempt_bodies bodies([&] { return encode_sync_custom_objects(options_, fields_, batch); });
    const std::string path = custom_object_path(api_name_);
    co_return co_await with_retries<std::vector<record_outcome>>(
        session_,
        retry_,
        [this, &bodies, &path, n = batch.size()]()
            -> asio::awaitable<result<std::vector<record_outcome>>> {
            std::string body = bodies.next();
            // By the action: an upsert by dedupeBy is idempotent, a create is not.
            auto r = co_await session_.call(boost::beast::http::verb::post,
                                            path,
                                            std::move(body),
                                            custom_push_timeout,
                                            sync_action_is_idempotent(options_.action));
            if (!r)
                co_return r.error();
            co_return decode_sync_response(*r, n, "customobjects/" + api_name_ + ".json");
        });
}

asio::awaitable<result<object_schema>> custom_object_sink::describe() {
    const std::string path = "/rest/v1/customobjects/" + api_name_ + "/describe.json";
    auto schema = co_await with_retries<object_schema>(
        session_, retry_, [this, &path]() -> asio::awaitable<result<object_schema>> {
            auto body =
                co_await session_.call(boost::beast::http::verb::get, path, {}, describe_timeout);
            if (!body)
                co_return body.error();
            co_return parse_custom_object_describe(*body);
        });
    if (!schema)
        co_return schema;
    const bool by_id = options_.dedupe_by == "idField";
    for (auto& f : schema->fields) {
        if (f.name == schema->id_field) {
            // marketoGUID is Marketo's to assign; only idField syncs send it, to address a record.
            f.required = by_id;
            f.read_only = !by_id;
        } else if (!by_id && schema->is_key(f.name)) {
            f.required = true;  // dedupeFields mode needs every dedupe field [MK-CO]
        }
    }
    co_return schema;
}

asio::awaitable<result<std::vector<nlohmann::json>>> custom_object_sink::read_current(
    std::span<const std::string> keys, std::span<const std::string> fields) {
    std::vector<std::string> wanted(fields.begin(), fields.end());
    if (std::find(wanted.begin(), wanted.end(), key_field_) == wanted.end())
        wanted.push_back(key_field_);
    // marketoGUID is asked for as filterType idField [MK-CO Query].
    const std::string filter = options_.dedupe_by == "idField" ? "idField" : key_field_;
    co_return co_await find_by_filter(session_,
                                      retry_,
                                      custom_object_path(api_name_),
                                      filter,
                                      std::vector<std::string>(keys.begin(), keys.end()),
                                      std::move(wanted));
}

}  // namespace crmsync::sink::marketo
