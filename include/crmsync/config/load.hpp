#pragma once
// Reads the main file and every mapping file its `mappings:` glob names, substitutes ${ENV}
// and ${file:/path} in scalars, rejects unknown keys (with "did you mean"), and checks
// cross-references (a stream's source and destination exist). Every problem is collected.

#include "crmsync/config/diagnostics.hpp"
#include "crmsync/config/model.hpp"

#include <filesystem>

namespace crmsync::config {

struct loaded {
    config cfg;
    diagnostics problems;  // empty: cfg is usable
};

loaded load(const std::filesystem::path& main_file);

}  // namespace crmsync::config
