#pragma once
// The daily API quota of one Marketo instance (api-reference §2.6: 50,000 calls a day typical,
// error 607, the day starting at midnight US Central time): counted here before every REST
// call, durably through a quota_ledger so a restart does not forget what the day already
// used, and seeded from what Marketo itself reports (stats/usage), because the quota is shared
// with every other integration of the instance (SPEC §4).
//
// Durability without an fsync per call: the ledger is asked for calls in blocks (a
// reservation, written before the first call of the block), and the calls of a block are then
// counted in memory. A crash loses at most the unused rest of one block, which is then counted
// as used: the count may run over by a block, never under. A clean close gives the rest back.
// The ledger adds rather than overwrites, so two processes on one state (`crmsync once` beside
// the daemon) add their blocks to the same day's count.
//
// | Name  | Description                                         | Default                     |
// |-------|-----------------------------------------------------|-----------------------------|
// | limit | calls a day (destinations.X.limits.daily_calls)     | 50000                       |
// | block | calls reserved per ledger write                     | limit / 1000, within [1, 50] |

#include "crmsync/core/clock.hpp"
#include "crmsync/core/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crmsync::sink::marketo {

// What the ledger holds for one quota day.
struct ledger_state {
    std::int64_t count = 0;  // calls counted (reserved) by every process on this state
    bool spent = false;      // Marketo answered 607, or a count reached the limit
};

// The durable count of one destination's calls per quota day (the daemon keeps it in the state
// database; sinks never include state). `day` is the US Central date, "2026-12-01"; a new day
// starts from zero. add() and at_least() return the day's state after them.
class quota_ledger {
public:
    virtual ~quota_ledger() = default;
    // Adds `calls` (negative: gives unused calls back; the count never drops below zero).
    virtual result<ledger_state> add(std::string_view day, std::int64_t calls) = 0;
    // The count becomes at least `total`.
    virtual result<ledger_state> at_least(std::string_view day, std::int64_t total) = 0;
    // The quota is spent until `until` (the next reset), whatever the count says.
    virtual result<void> spent(std::string_view day, sys_ms until) = 0;
};

// One day of Marketo's own count (stats/usage.json [MK-USAGE]; api-fixtures/marketo/
// stats_usage_response.json): the date and the calls of every user of the instance.
struct usage_day {
    std::string date;
    std::int64_t total = 0;
};

// Pure: the first day of a stats/usage answer. A refused call (success:false) is classified
// like any other (607 → quota_exhausted); a body without a date and a count → bad_response.
result<usage_day> parse_usage(std::string_view body);

class daily_quota {
public:
    // `ledger` may be null: the count is then kept in memory only (preview, validate).
    daily_quota(std::int64_t limit, quota_ledger* ledger, clock_fn now);
    ~daily_quota();
    daily_quota(const daily_quota&) = delete;
    daily_quota& operator=(const daily_quota&) = delete;

    // Counts in `ledger` from now on (null: in memory), starting the day again from its count.
    void attach(quota_ledger* ledger);

    // Counts one call about to be made. errc::quota_exhausted, with retry_after = the time
    // until the next reset, when the day's calls are spent (by our count or Marketo's 607);
    // the ledger's failure (errc::state_failed) when it cannot count.
    result<void> count_call();
    // Marketo answered 607: spent until the next reset, whatever we counted. Returns `f` with
    // retry_after set to the time until then.
    failure spent(failure f);
    // Marketo's own count of the day's calls (stats/usage `date` and `total`); ignored for
    // another day than ours.
    result<void> reported(std::string_view date, std::int64_t total);
    // Gives the unused reservation back to the ledger (also done by the destructor).
    void close();

    // True once per quota day, until reported() or mark_usage_read() is called: time to read
    // stats/usage.
    bool wants_usage();
    void mark_usage_read() { usage_read_ = true; }

    std::int64_t limit() const noexcept { return limit_; }
    // Calls counted today: ours and, once reported, everyone's.
    std::int64_t used();
    std::string day() const { return day_; }

private:
    void roll();  // a new quota day began: start it from zero
    failure exhausted(std::string detail);

    std::int64_t limit_;
    std::int64_t block_;
    quota_ledger* ledger_;
    clock_fn now_;
    std::string day_;
    sys_ms reset_at_{};
    std::int64_t count_ = 0;     // the ledger's count after our last write (ours + others')
    std::int64_t reserved_ = 0;  // calls of our last block not made yet (part of count_)
    bool spent_ = false;
    bool usage_read_ = false;
};

}  // namespace crmsync::sink::marketo
