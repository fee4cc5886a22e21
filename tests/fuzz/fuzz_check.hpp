#pragma once
// Invariant checks for the fuzz targets: a broken invariant prints what broke and aborts, so
// libFuzzer records the input as a crash and the replay test (ctest) fails on it.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define CRMSYNC_FUZZ_CHECK(cond)                                                              \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                     \
        }                                                                                     \
    } while (false)

namespace crmsync::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace crmsync::fuzz
