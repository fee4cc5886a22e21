#include "crmsync/daemon/schema_watch.hpp"

#include "crmsync/daemon/destination_schema.hpp"
#include "crmsync/observability/events.hpp"
#include "crmsync/observability/health.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace crmsync::daemon {
namespace asio = boost::asio;

bool describe_due(const source_schema& schema, config::duration every, sys_ms now) {
    return !schema.at || now - *schema.at >= every;
}

asio::awaitable<result<source_describes>> describe_source(stream_runtime& s) {
    auto object = co_await s.source->describe(s.cfg->source.object);
    if (!object)
        co_return object.error();
    source_describes out{.object = std::move(*object), .parents = {}};
    for (const auto& name : parent_objects(*s.plan, out.object)) {
        auto p = co_await s.source->describe(name);
        if (!p)
            co_return p.error();
        out.parents.emplace(name, std::move(*p));
    }
    co_return out;
}

schema_inputs inputs_for(const stream_runtime& s,
                         const source_describes& source,
                         const sink::object_schema* destination) {
    return {.stream = s.cfg,
            .plan = s.plan.get(),
            .source = &source.object,
            .parents = &source.parents,
            .destination = destination,
            .previous_source = s.src_schema.object ? &*s.src_schema.object : nullptr};
}

asio::awaitable<result<bool>> watch_schema(stream_runtime& s, sys_ms now) {
    const auto& cfg = *s.cfg;
    if (!describe_due(s.src_schema, cfg.source.describe_every, now))
        co_return false;
    auto source = co_await describe_source(s);
    if (!source) {
        observability::emit(observability::source_describe_failed{
            .stream = cfg.name, .object = cfg.source.object, .what = source.error()});
        co_return false;
    }
    observability::emit(observability::source_described{
        .stream = cfg.name, .object = cfg.source.object, .fields = source->object.fields.size()});
    // The same describe preflight validates with; a failure keeps the last one read.
    co_await read_destination_schema(s, now);
    const auto findings =
        check_schema(inputs_for(s, *source, s.dest_schema.schema.get()), check_depth::drift);
    const auto stops = [](const schema_finding& f) { return f.stops_stream; };
    const auto first = std::find_if(findings.begin(), findings.end(), stops);
    if (first == findings.end()) {
        s.src_schema = source_schema{
            .object = std::move(source->object), .parents = std::move(source->parents), .at = now};
        co_return true;
    }
    const auto more = std::count_if(findings.begin(), findings.end(), stops) - 1;
    std::string detail = first->message();
    if (more > 0)
        detail += fmt::format(" (and {} more; `crmsync validate --online` lists them all)", more);
    failure f = make_failure(errc::schema_drift, detail);
    f.context("stream " + cfg.name);
    observability::emit(observability::schema_drift_detected{
        .stream = cfg.name,
        .object = first->object,
        .field = first->field,
        .side = first->on == schema_finding::side::source ? "source" : "destination",
        .error = f.message()});
    observability::health().set(cfg.name, observability::stream_state::drift, f.message(), now);
    s.stopped = f;
    co_return f;
}

}  // namespace crmsync::daemon
