#pragma once
// Schema drift at run time (SPEC §4): before a stream's first cycle and then every
// source.describe_every, describe its source object (and the parents of relationship paths)
// and its destination object, and check the mapping against them (schema_check.hpp). A
// mapped field that vanished, or whose type the mapping cannot use, stops that stream with one
// schema_drift_detected line; other streams keep running.
//
// A describe that fails (after retries) never stops a stream, as for preflight
// (destination_schema.hpp): the failure is logged, the check uses what is known (the last
// destination describe read, if any), and the next cycle describes again. A query refused
// with INVALID_FIELD still leads to the drift line (stream_cycle.cpp).

#include "crmsync/core/clock.hpp"
#include "crmsync/core/error.hpp"
#include "crmsync/daemon/runtime.hpp"
#include "crmsync/daemon/schema_check.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <string>

namespace crmsync::daemon {

// Pure: whether the source describes are due at `now`.
bool describe_due(const source_schema& schema, config::duration every, sys_ms now);

// The stream's source object and the parents of its relationship paths, described now.
struct source_describes {
    source::salesforce::object_describe object;
    std::map<std::string, source::salesforce::object_describe> parents;
};
boost::asio::awaitable<result<source_describes>> describe_source(stream_runtime& s);

// The check of `s`'s mapping against fresh source describes and a destination schema (null:
// none could be read). The stream's previous source describe, if any, is the baseline where
// the destination gives none (schema_check.hpp).
schema_inputs inputs_for(const stream_runtime& s,
                         const source_describes& source,
                         const sink::object_schema* destination);

// Describes when due and checks; true when it described (the destination describe was read,
// or tried, for this cycle). errc::schema_drift when the mapping no longer fits: the event is
// logged once, the stream's health set to drift, and s.stopped set. No other failure.
boost::asio::awaitable<result<bool>> watch_schema(stream_runtime& s, sys_ms now);

}  // namespace crmsync::daemon
