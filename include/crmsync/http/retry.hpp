#pragma once
// Backoff for transient failures (SPEC §4): exponential with full jitter (AWS architecture
// blog; Fluent Bit's scheduler), a Retry-After from the peer wins when it is longer, and a
// budget after which the caller pauses the stream instead of retrying forever.
//
// | Name         | Description                                   | Default |
// |--------------|-----------------------------------------------|---------|
// | base         | first backoff ceiling                         | 500ms   |
// | cap          | largest backoff ceiling                       | 60s     |
// | max_attempts | attempts (the first included) before giving up| 8       |

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace crmsync::http {

struct backoff_policy {
    std::chrono::milliseconds base{500};
    std::chrono::milliseconds cap{60'000};
    int max_attempts = 8;
};

// Pure: the wait before attempt number `attempt` (1 = first retry), drawn uniformly from
// [0, min(cap, base * 2^(attempt-1))], or retry_after if the peer asked for longer.
std::chrono::milliseconds backoff_delay(const backoff_policy& p,
                                        int attempt,
                                        std::optional<std::chrono::milliseconds> retry_after,
                                        std::mt19937_64& rng);

// Pure: a Retry-After header in its delay-seconds form (RFC 9110 §10.2.3), the form the
// vendors send with 429 and 503; empty, negative or unparseable values (including the
// HTTP-date form, which none of them uses) give nothing, and the backoff alone decides.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

}  // namespace crmsync::http
