#pragma once
// The fingerprint of a mapped payload (SPEC §4 "Only real changes cost API calls"): equal
// payloads give equal digests, so an unchanged record is never sent twice.

#include "crmsync/core/record.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace crmsync {

// 128 bits of SHA-256: a collision (a real change taken for "unchanged") is out of reach.
using digest = std::array<std::uint8_t, 16>;

digest payload_digest(const payload& p);
std::string to_hex(const digest& d);

}  // namespace crmsync
