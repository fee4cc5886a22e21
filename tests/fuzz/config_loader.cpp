// Fuzz target: the bytes are the main configuration file (crmsync.yaml), beside one fixed valid
// mapping file. config::load must end in a configuration or diagnostics: never a crash, an
// escaping exception or a hang. Invariants: every diagnostic names a file and says something;
// a configuration without problems has a state path and streams whose source and destination
// exist; and the value of a secret substituted from the environment never appears in a
// diagnostic (SPEC §4 "Secrets never reach logs"). A diagnostic may quote the file's own text,
// so that check holds only for inputs that do not spell the secret's value out literally
// (libFuzzer learns the value from the loader's redaction compares and writes it into plain
// fields such as `flow:`; quoting what the file itself says leaks nothing).

#include "crmsync/config/load.hpp"

#include "fuzz_check.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

namespace {

namespace fs = std::filesystem;

constexpr const char* secret_value = "fuzz-secret-7f3a9c";

struct fixture {
    fs::path dir;
    fs::path main_file;

    fixture() {
        std::string tmpl = (fs::temp_directory_path() / "crmsync-fuzz-XXXXXX").string();
        if (!::mkdtemp(tmpl.data()))
            std::abort();
        dir = tmpl;
        fs::create_directory(dir / "mappings");
        main_file = dir / "crmsync.yaml";
        ::setenv("CRMSYNC_FUZZ_SECRET", secret_value, 1);
        std::ofstream(dir / "mappings" / "contacts.yaml") << R"(stream: contacts
source: { from: prod_org, object: Contact }
destination:
  to: marketo
  key: { source: Id, destination: sfdcContactId }
fields:
  - { to: email, from: Email }
)";
    }
    ~fixture() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fixture f;
    {
        std::ofstream out(f.main_file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    const auto loaded = crmsync::config::load(f.main_file);
    // A value written in the file itself is no secret from the environment: a diagnostic may
    // quote it (libFuzzer's comparison tracing copies the value in; the first 90 s run did).
    const bool typed_in =
        crmsync::fuzz::as_text(data, size).find(secret_value) != std::string_view::npos;
    static const bool print = std::getenv("CRMSYNC_FUZZ_PRINT") != nullptr;
    for (const auto& d : loaded.problems.items()) {
        if (print)
            std::cout << "  " << d.to_string() << '\n';
        CRMSYNC_FUZZ_CHECK(!d.where.file.empty());
        CRMSYNC_FUZZ_CHECK(!d.message.empty());
        CRMSYNC_FUZZ_CHECK(d.where.line >= 0 && d.where.column >= 0);
        CRMSYNC_FUZZ_CHECK(typed_in || d.to_string().find(secret_value) == std::string::npos);
    }
    if (loaded.problems.empty()) {
        const auto& cfg = loaded.cfg;
        CRMSYNC_FUZZ_CHECK(!cfg.state_path.empty());
        for (const auto& s : cfg.streams) {
            CRMSYNC_FUZZ_CHECK(cfg.sources.count(s.source.from) == 1);
            CRMSYNC_FUZZ_CHECK(cfg.destinations.count(s.destination.to) == 1);
        }
    }
    if (print)
        std::cout << "  " << loaded.problems.size() << " problems\n";
    return 0;
}
