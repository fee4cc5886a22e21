#include "crmsync/http/retry.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace crmsync::http {

std::chrono::milliseconds backoff_delay(const backoff_policy& p,
                                        int attempt,
                                        std::optional<std::chrono::milliseconds> retry_after,
                                        std::mt19937_64& rng) {
    using rep = std::chrono::milliseconds::rep;
    const rep base = std::max<rep>(p.base.count(), 0);
    const rep cap = std::max<rep>(p.cap.count(), 0);

    // ceiling = min(cap, base * 2^(attempt-1)), computed without overflow: once base * 2^k
    // would pass the cap the cap is the answer, so the shift is clamped well below 63 bits and
    // only taken while base still fits under cap >> k.
    const int k = std::clamp(attempt, 1, 62) - 1;
    rep ceiling = cap;
    if (base <= (cap >> k))
        ceiling = base << k;

    // Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): spreading retries
    // uniformly over [0, ceiling] keeps many streams that failed together from retrying together.
    std::uniform_int_distribution<rep> draw(0, ceiling);
    const std::chrono::milliseconds delay{draw(rng)};

    // The peer knows its own recovery time better than our guess (RFC 9110 §10.2.3).
    if (retry_after && *retry_after > delay)
        return *retry_after;
    return delay;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
    long long secs = 0;
    const auto r = std::from_chars(value.data(), value.data() + value.size(), secs);
    if (value.empty() || r.ec != std::errc{} || r.ptr != value.data() + value.size() || secs < 0)
        return std::nullopt;
    // A day is far beyond any vendor's window; clamping keeps the milliseconds from overflowing.
    return std::chrono::seconds(std::min<long long>(secs, 86'400));
}

}  // namespace crmsync::http
