#pragma once
// An injectable wall clock: watermark bounds (now - settle), token expiry and rate windows are
// computed from it, so tests can move time without sleeping.

#include "crmsync/core/timestamp.hpp"

#include <chrono>
#include <functional>

namespace crmsync {

using clock_fn = std::function<sys_ms()>;

inline sys_ms system_now() {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
}

}  // namespace crmsync
