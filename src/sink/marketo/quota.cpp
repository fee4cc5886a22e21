#include "crmsync/sink/marketo/quota.hpp"

#include "crmsync/core/central_time.hpp"

#include "detail_envelope.hpp"
#include <fmt/format.h>

#include <algorithm>

namespace crmsync::sink::marketo {

daily_quota::daily_quota(std::int64_t limit, quota_ledger* ledger, clock_fn now)
    : limit_(std::max<std::int64_t>(limit, 1)),
      block_(std::clamp<std::int64_t>(limit_ / 1000, 1, 50)),
      ledger_(ledger),
      now_(now ? std::move(now) : clock_fn(system_now)) {}

daily_quota::~daily_quota() {
    close();
}

void daily_quota::attach(quota_ledger* ledger) {
    close();
    ledger_ = ledger;
    day_.clear();  // the next call reads the ledger's count of the day
}

result<usage_day> parse_usage(std::string_view body) {
    auto days = detail::read_envelope(body, "stats/usage.json");
    if (!days)
        return days.error();
    const auto bad = [](const char* why) {
        return make_failure(errc::bad_response, std::string("stats/usage.json: ") + why);
    };
    if (!days->is_array() || days->empty() || !days->front().is_object())
        return bad("no day in the result");
    const auto& d = days->front();
    const auto date = d.find("date");
    const auto total = d.find("total");
    if (date == d.end() || !date->is_string())
        return bad("the day has no date");
    if (total == d.end() || !total->is_number_integer() || total->get<std::int64_t>() < 0)
        return bad("the day has no call count");
    return usage_day{date->get<std::string>(), total->get<std::int64_t>()};
}

void daily_quota::roll() {
    const sys_ms now = now_();
    if (!day_.empty() && now < reset_at_)
        return;
    day_ = us_central_date_text(now);
    reset_at_ = next_us_central_midnight(now);
    // What the ledger holds of this day (another run's count) is read with the first block.
    count_ = 0;
    reserved_ = 0;
    spent_ = false;
    usage_read_ = false;
}

failure daily_quota::exhausted(std::string detail) {
    failure f = make_failure(errc::quota_exhausted, std::move(detail));
    f.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(reset_at_ - now_());
    return f;
}

result<void> daily_quota::count_call() {
    roll();
    const auto refuse = [this] {
        spent_ = true;
        return exhausted(
            fmt::format("daily quota of {} calls spent ({} counted today); it resets "
                        "at midnight US Central time",
                        limit_,
                        count_ - reserved_));
    };
    if (spent_)
        return exhausted(
            fmt::format("daily quota of {} calls spent; it resets at midnight US "
                        "Central time",
                        limit_));
    if (reserved_ == 0) {
        // Never reserve past the limit: the last calls of a day are written one by one.
        const std::int64_t n = std::clamp<std::int64_t>(limit_ - count_, 1, block_);
        if (ledger_) {
            auto st = ledger_->add(day_, n);
            if (!st)
                return st.error();
            count_ = st->count;
            // Marketo refused this day before (another run, another process): no call until
            // the reset, rather than one more 607.
            if (st->spent) {
                reserved_ = n;
                return refuse();
            }
        } else {
            count_ += n;
        }
        reserved_ = n;
        // Another process may have counted calls meanwhile: ours are the last `n`.
        if (count_ - reserved_ >= limit_) {
            if (ledger_)
                (void)ledger_->spent(day_, reset_at_);
            return refuse();
        }
    }
    if (count_ - reserved_ >= limit_)
        return refuse();
    --reserved_;
    return {};
}

failure daily_quota::spent(failure f) {
    roll();
    spent_ = true;
    if (ledger_)
        (void)ledger_->spent(day_, reset_at_);  // status only; the pause holds without it
    f.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(reset_at_ - now_());
    return f;
}

result<void> daily_quota::reported(std::string_view date, std::int64_t total) {
    roll();
    usage_read_ = true;
    if (date != day_)
        return {};
    // Marketo counts calls made; our count also holds the reserved calls not made yet.
    const std::int64_t wanted = total + reserved_;
    if (wanted <= count_)
        return {};
    if (ledger_) {
        auto st = ledger_->at_least(day_, wanted);
        if (!st)
            return st.error();
        count_ = st->count;
        spent_ = spent_ || st->spent;
    } else {
        count_ = wanted;
    }
    return {};
}

void daily_quota::close() {
    if (reserved_ == 0)
        return;
    if (ledger_ && !day_.empty() && now_() < reset_at_)
        (void)ledger_->add(day_, -reserved_);  // best effort: a failure only over-counts
    count_ -= reserved_;
    reserved_ = 0;
}

bool daily_quota::wants_usage() {
    roll();
    return !usage_read_;
}

std::int64_t daily_quota::used() {
    roll();
    return count_ - reserved_;
}

}  // namespace crmsync::sink::marketo
