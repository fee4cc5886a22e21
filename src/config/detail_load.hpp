#pragma once
// Pieces of config::load shared by the main-file and mapping-file readers.

#include "crmsync/config/diagnostics.hpp"
#include "crmsync/config/model.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace crmsync::config::detail {

// Reads and parses one YAML file. yaml-cpp throws; this is the boundary where its exceptions
// become diagnostics that keep the parser's position (STYLE.md convention 5a).
std::optional<YAML::Node> parse_file(const std::string& file, diagnostics& problems);

// Stream, source and destination names appear in the CLI, in logs and metric labels, and as
// state keys: letters, digits, '_' and '-'.
bool is_config_name(std::string_view name);

// A relative path from a config file is taken relative to that file's directory, so a config
// tree can be moved as a whole (and systemd's working directory does not matter).
std::string resolve(const std::filesystem::path& base_dir, const std::string& path);

// Streams already read: name -> where, for "duplicate stream" diagnostics.
using stream_index = std::map<std::string, position, std::less<>>;

// Reads one mapping file into cfg.streams; sources and destinations must already be read so
// that `from:` and `to:` can be checked against them.
void read_stream_file(const std::string& file,
                      config& cfg,
                      stream_index& seen,
                      diagnostics& problems);

}  // namespace crmsync::config::detail
