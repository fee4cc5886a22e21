// Fuzz target: the bytes are one mapping file. It goes through what `crmsync validate` runs
// (config::load, then mapping::compile per stream) and, when a plan compiles, maps two
// records through it. Any input must end in diagnostics or a plan: never a crash, an escaping
// exception or a hang. Built as a libFuzzer binary with CRMSYNC_FUZZ=ON (clang), and always as
// a replay driver that ctest runs over tests/fuzz/corpus/mapping_loader/.

#include "crmsync/config/load.hpp"
#include "crmsync/mapping/plan.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace {

namespace fs = std::filesystem;

// A main file naming one source and both destination kinds, so a mapping's `from:` and `to:`
// can resolve, and a mappings directory holding the one file under test.
struct fixture {
    fs::path dir;
    fs::path main_file;
    fs::path mapping_file;

    fixture() {
        std::string tmpl = (fs::temp_directory_path() / "crmsync-fuzz-XXXXXX").string();
        if (!::mkdtemp(tmpl.data()))
            std::abort();
        dir = tmpl;
        fs::create_directory(dir / "mappings");
        main_file = dir / "crmsync.yaml";
        mapping_file = dir / "mappings" / "m.yaml";
        std::ofstream(main_file) << R"(state: state.db
sources:
  prod_org:
    login_url: https://example.my.salesforce.com
    auth: { flow: client_credentials, client_id: id, client_secret: secret }
destinations:
  marketo:
    kind: marketo
    base_url: https://123-ABC-456.mktorest.com
    client_id: id
    client_secret: secret
  sfmc_bu_fr:
    kind: sfmc
    auth_url: https://example.auth.marketingcloudapis.com
    client_id: id
    client_secret: secret
mappings: mappings/*.yaml
)";
    }
    ~fixture() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

void map_records(const crmsync::mapping::plan& p) {
    crmsync::record nulls;
    crmsync::record texts;
    nulls.id = texts.id = "003000000000001AAA";
    for (std::size_t i = 0; i < p.source_columns().size(); ++i) {
        nulls.columns.push_back(crmsync::value::null());
        texts.columns.push_back(crmsync::value::string("2024-05-01T10:00:00.000+0000"));
    }
    for (const auto* r : {&nulls, &texts}) {
        (void)p.apply(*r);
        (void)p.skip(*r);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fixture f;
    {
        std::ofstream out(f.mapping_file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    auto loaded = crmsync::config::load(f.main_file);
    for (const auto& s : loaded.cfg.streams) {
        if (auto p = crmsync::mapping::compile(s, loaded.problems))
            map_records(*p);
    }
    // CRMSYNC_FUZZ_PRINT=1 shows what a seed produces (is it valid? which problems?).
    static const bool print = std::getenv("CRMSYNC_FUZZ_PRINT") != nullptr;
    for (const auto& d : loaded.problems.sorted()) {
        const std::string line = d.to_string();
        if (print)
            std::cout << "  " << line << '\n';
    }
    if (print)
        std::cout << "  " << loaded.problems.size() << " problems\n";
    return 0;
}
