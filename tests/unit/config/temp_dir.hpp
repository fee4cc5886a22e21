#pragma once
// A fresh directory per test with helpers to write YAML into it; removed afterwards.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace crmsync::config::testing {

class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "crmsync-config-XXXXXX");
        if (!::mkdtemp(tmpl.data()))
            std::abort();
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }

    // Writes `text` to path()/name (creating directories) and returns the full path. A leading
    // newline is dropped so raw-string literals start at line 1.
    std::string write(const std::string& name, std::string_view text) const {
        if (!text.empty() && text.front() == '\n')
            text.remove_prefix(1);
        const auto full = path_ / name;
        std::filesystem::create_directories(full.parent_path());
        std::ofstream(full, std::ios::binary) << text;
        return full.string();
    }

private:
    std::filesystem::path path_;
};

}  // namespace crmsync::config::testing
