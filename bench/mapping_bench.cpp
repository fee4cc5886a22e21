// Google Benchmark of crmsync's per-record work on the benchmark's contacts (data.hpp), with the
// 20-field mapping of bench/config/mappings/contacts.yaml: the mapping plan alone, the plan
// plus the payload digest, parsing a 2,000-record query page, and encoding a 300-record Sync
// Leads body and decoding its answer. Built with the project, not run by ctest
// (docs/performance.md):
//
//   build/bench/crmsync-mapping-bench [--benchmark_filter=plan]

#include "crmsync/config/load.hpp"
#include "crmsync/core/hash.hpp"
#include "crmsync/daemon/stream_cycle.hpp"
#include "crmsync/mapping/plan.hpp"
#include "crmsync/sink/marketo/encode.hpp"
#include "crmsync/source/salesforce/parse.hpp"

#include "data.hpp"
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>

namespace {

using namespace crmsync;

constexpr std::size_t page_records = 2000;

// The bench stream's compiled plan, loaded the way crmsync loads it.
struct fixture {
    std::shared_ptr<const mapping::plan> plan;
    std::unique_ptr<source::salesforce::column_set> columns;
    std::string page_body;
    std::vector<record> records;
    std::vector<std::string> destination_fields;

    fixture() {
        // Only the stream is used: the addresses and secrets just have to load.
        ::setenv("CRMSYNC_BENCH_STATE", "/tmp", 0);
        ::setenv("CRMSYNC_BENCH_SF_URL", "http://127.0.0.1:1", 0);
        ::setenv("CRMSYNC_BENCH_MKTO_URL", "http://127.0.0.1:1", 0);
        ::setenv("CRMSYNC_BENCH_SF_SECRET", "unused", 0);
        ::setenv("CRMSYNC_BENCH_MKTO_SECRET", "unused", 0);
        ::setenv("CRMSYNC_BENCH_CALLS_PER_20S", "100", 0);
        ::setenv("CRMSYNC_BENCH_DAILY_CALLS", "50000", 0);
        auto loaded = config::load(std::filesystem::path(CRMSYNC_BENCH_CONFIG) / "crmsync.yaml");
        if (!loaded.problems.empty())
            throw std::runtime_error(loaded.problems.sorted().front().to_string());
        plan = mapping::compile(loaded.cfg.streams.at(0), loaded.problems);
        if (!plan)
            throw std::runtime_error(loaded.problems.sorted().front().to_string());
        columns = std::make_unique<source::salesforce::column_set>(plan->source_columns());
        for (const auto& f : plan->destination_fields())
            destination_fields.push_back(f.destination);

        // A page as the bench fake serves it: the columns crmsync selects, plus SystemModstamp.
        std::vector<bench::contact_field> select{bench::contact_field::id,
                                                 bench::contact_field::system_modstamp};
        for (const auto& c : plan->source_columns()) {
            const auto f = bench::find_field(c);
            if (!f)
                throw std::runtime_error("bench org has no field " + c);
            if (*f != bench::contact_field::id)
                select.push_back(*f);
        }
        const bench::contact_org org(page_records);
        page_body = "{\"totalSize\":2000,\"done\":true,\"records\":[";
        bench::cell scratch;
        for (std::uint64_t i = 0; i < page_records; ++i) {
            if (i != 0)
                page_body += ',';
            bench::append_record(page_body, org, i, select, "61.0", scratch);
        }
        page_body += "]}";
        auto page = source::salesforce::parse_query_page(page_body, *columns);
        if (!page)
            throw std::runtime_error(page.error().message());
        records = std::move(page->records);
    }
};

const fixture& data() {
    static const fixture f;
    return f;
}

void plan_apply(benchmark::State& state) {
    const auto& f = data();
    std::size_t i = 0;
    for (auto _ : state) {
        auto r = f.plan->apply(f.records[i++ % f.records.size()]);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(plan_apply);

void plan_apply_and_digest(benchmark::State& state) {
    const auto& f = data();
    std::size_t i = 0;
    for (auto _ : state) {
        const auto& rec = f.records[i++ % f.records.size()];
        auto mapped = f.plan->apply(rec);
        auto d = daemon::fingerprint(rec, mapped);
        benchmark::DoNotOptimize(d);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(plan_apply_and_digest);

void parse_page(benchmark::State& state) {
    const auto& f = data();
    for (auto _ : state) {
        auto page = source::salesforce::parse_query_page(f.page_body, *f.columns);
        benchmark::DoNotOptimize(page);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * page_records));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * f.page_body.size()));
}
BENCHMARK(parse_page)->Unit(benchmark::kMillisecond);

void encode_batch(benchmark::State& state) {
    const auto& f = data();
    std::vector<payload> batch;
    for (std::size_t i = 0; i < 300; ++i)
        batch.push_back(std::get<payload>(f.plan->apply(f.records[i])));
    const sink::marketo::sync_options opts{.action = "createOrUpdate",
                                           .lookup_field = "sfdcContactId"};
    for (auto _ : state) {
        auto body = sink::marketo::encode_sync_leads(opts, f.destination_fields, batch);
        benchmark::DoNotOptimize(body);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch.size()));
}
BENCHMARK(encode_batch)->Unit(benchmark::kMicrosecond);

// A Sync Leads answer for 300 records as the bench fake writes it: decode_sync_response (the
// simdjson path) and reference_sync_response (nlohmann alone, its fallback).
std::string sync_answer() {
    std::string out = R"({"requestId":"e42b#14272d07d78","success":true,"result":[)";
    for (int i = 0; i < 300; ++i) {
        out += i ? "," : "";
        out += R"({"id":)" + std::to_string(1000000 + i) + R"(,"status":")" +
               (i % 3 ? "updated" : "created") + "\"}";
    }
    return out + "]}";
}

template <auto Decode>
void decode_batch(benchmark::State& state) {
    const std::string body = sync_answer();
    for (auto _ : state) {
        auto out = Decode(body, 300, "leads.json");
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 300));
}
BENCHMARK(decode_batch<&sink::marketo::decode_sync_response>)
    ->Name("decode_batch")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(decode_batch<&sink::marketo::reference_sync_response>)
    ->Name("decode_batch_reference")
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
