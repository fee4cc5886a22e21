#pragma once
// The destination object's describe as a stream last read it, and the preflight checks compiled
// from it for the stream's payload fields (sink/preflight.hpp). Kept per stream in the runtime,
// so every cycle reads it from memory; schema-drift checks read the same copy.
//
// Refresh rule: the schema-drift check (schema_watch.hpp) reads it before the stream's first
// run and then every source.describe_every, which is also max_age; a cycle that would send a
// record with no describe or one older than max_age (the drift check's describe failed) reads
// it again first. A describe that fails (after the sink's retries) is logged and changes nothing:
// preflight goes on with the last schema read, or is skipped until one is read. It never stops the
// stream: the destination validates every record itself anyway; preflight only rejects earlier,
// more clearly and without spending a call.

#include "crmsync/core/timestamp.hpp"
#include "crmsync/sink/preflight.hpp"
#include "crmsync/sink/schema.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace crmsync::daemon {

struct stream_runtime;

// Marketo says describes may be cached for a day or more [MK-BEST]; a quarter of an hour lets a
// field an admin lengthened or added reach preflight soon after, for 4 describes an hour.
inline constexpr std::chrono::minutes describe_max_age{15};

struct destination_schema {
    std::shared_ptr<const sink::object_schema> schema;  // null until a describe succeeded
    std::shared_ptr<const sink::preflight> preflight;   // null with schema
    std::optional<sys_ms> read_at;                      // when `schema` was read
    std::chrono::milliseconds max_age = describe_max_age;

    bool stale(sys_ms now) const noexcept { return !read_at || now - *read_at >= max_age; }
};

// Reads the describe into s.dest_schema when it is stale (see above); logs
// destination_described or destination_describe_failed.
boost::asio::awaitable<void> refresh_destination_schema(stream_runtime& s, sys_ms now);
// The same, whether stale or not (schema drift checks read it every describe_every).
boost::asio::awaitable<void> read_destination_schema(stream_runtime& s, sys_ms now);

}  // namespace crmsync::daemon
