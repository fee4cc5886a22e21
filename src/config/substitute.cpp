#include "crmsync/config/substitute.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <system_error>

namespace crmsync::config {
namespace {

constexpr std::uintmax_t max_file_bytes = 1 << 20;

bool valid_env_name(std::string_view name) {
    if (name.empty())
        return false;
    if (!std::isalpha(static_cast<unsigned char>(name[0])) && name[0] != '_')
        return false;
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
            return false;
    }
    return true;
}

// Reads a secret file; the problem names the path and the reason, never the content.
bool read_secret_file(const std::filesystem::path& path, std::string& out, std::string& problem) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
        problem = fmt::format("cannot read '{}' for ${{file:}}: {}",
                              path.string(),
                              ec ? ec.message() : std::strerror(ENOENT));
        return false;
    }
    if (std::filesystem::is_directory(status)) {
        problem = fmt::format("cannot read '{}' for ${{file:}}: it is a directory", path.string());
        return false;
    }
    if (std::filesystem::is_regular_file(status)) {
        const auto size = std::filesystem::file_size(path, ec);
        if (!ec && size > max_file_bytes) {
            problem = fmt::format("'{}' for ${{file:}} is larger than 1 MiB", path.string());
            return false;
        }
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        problem =
            fmt::format("cannot read '{}' for ${{file:}}: {}", path.string(), std::strerror(errno));
        return false;
    }
    // The size check above sees regular files only: /dev/zero or a pipe must not be read
    // without end (the mapping-loader fuzzer's `${file:/dev/zero}` ran out of memory).
    out.resize(max_file_bytes + 1);
    in.read(out.data(), static_cast<std::streamsize>(out.size()));
    out.resize(static_cast<std::size_t>(in.gcount()));
    if (out.size() > max_file_bytes) {
        out.clear();
        problem = fmt::format("'{}' for ${{file:}} is larger than 1 MiB", path.string());
        return false;
    }
    if (in.bad()) {
        problem = fmt::format("cannot read '{}' for ${{file:}}: read failed", path.string());
        return false;
    }
    // `echo secret > file` adds a newline that is not part of the secret.
    if (!out.empty() && out.back() == '\n') {
        out.pop_back();
        if (!out.empty() && out.back() == '\r')
            out.pop_back();
    }
    return true;
}

}  // namespace

substituted substitute(std::string_view text, const std::filesystem::path& base_dir) {
    substituted out;
    if (text.find('$') == std::string_view::npos) {
        out.text = text;
        return out;
    }
    out.text.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c != '$' || i + 1 == text.size()) {
            out.text += c;
            ++i;
            continue;
        }
        if (text[i + 1] == '$') {
            out.text += '$';
            out.changed = true;
            i += 2;
            continue;
        }
        if (text[i + 1] != '{') {
            out.text += c;
            ++i;
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            out.problem = "unterminated '${' (write '$$' for a literal '$')";
            return out;
        }
        const std::string_view inner = text.substr(i + 2, close - i - 2);
        if (inner.starts_with("file:")) {
            const std::string_view file = inner.substr(5);
            if (file.empty()) {
                out.problem = "'${file:}' needs a path, e.g. ${file:/etc/crmsync/secret}";
                return out;
            }
            std::filesystem::path path{std::string(file)};
            if (path.is_relative())
                path = base_dir / path;
            std::string content;
            if (!read_secret_file(path, content, out.problem))
                return out;
            out.text += content;
            out.inserted.emplace_back(std::move(content),
                                      std::string(text.substr(i, close - i + 1)));
        } else {
            if (!valid_env_name(inner)) {
                out.problem = fmt::format(
                    "invalid variable name '{}' in '${{...}}'; expected "
                    "${{NAME}} or ${{file:PATH}}",
                    inner);
                return out;
            }
            const std::string name(inner);
            const char* env = std::getenv(name.c_str());
            if (!env) {
                out.problem = fmt::format("environment variable '{}' is not set", name);
                return out;
            }
            out.text += env;
            out.inserted.emplace_back(env, std::string(text.substr(i, close - i + 1)));
        }
        out.changed = true;
        i = close + 1;
    }
    return out;
}

}  // namespace crmsync::config
