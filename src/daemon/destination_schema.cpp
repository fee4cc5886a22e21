#include "crmsync/daemon/destination_schema.hpp"

#include "crmsync/daemon/runtime.hpp"
#include "crmsync/observability/events.hpp"

#include <string>
#include <vector>

namespace crmsync::daemon {

boost::asio::awaitable<void> refresh_destination_schema(stream_runtime& s, sys_ms now) {
    if (s.dest_schema.stale(now))
        co_await read_destination_schema(s, now);
}

boost::asio::awaitable<void> read_destination_schema(stream_runtime& s, sys_ms now) {
    auto& cache = s.dest_schema;
    auto described = co_await s.sink->describe();
    if (!described) {
        observability::emit(
            observability::destination_describe_failed{.stream = s.cfg->name,
                                                       .object = s.cfg->destination.object,
                                                       .have_older = cache.schema != nullptr,
                                                       .what = described.error()});
        co_return;
    }
    std::vector<std::string> fields;
    for (const auto& f : s.plan->destination_fields())
        fields.push_back(f.destination);
    auto schema = std::make_shared<const sink::object_schema>(std::move(*described));
    auto checks = std::make_shared<const sink::preflight>(fields, *schema);
    observability::emit(
        observability::destination_described{.stream = s.cfg->name,
                                             .object = s.cfg->destination.object,
                                             .fields = schema->fields.size(),
                                             .unmapped_required = checks->unmapped_required()});
    cache.schema = std::move(schema);
    cache.preflight = std::move(checks);
    cache.read_at = now;
}

}  // namespace crmsync::daemon
