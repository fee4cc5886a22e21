#include "crmsync/observability/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <mutex>

namespace crmsync::observability {
namespace {

constexpr std::array<std::string_view, 5> level_names{"trace", "debug", "info", "warn", "error"};

spdlog::level::level_enum to_spdlog(level l) {
    switch (l) {
        case level::trace:
            return spdlog::level::trace;
        case level::debug:
            return spdlog::level::debug;
        case level::info:
            return spdlog::level::info;
        case level::warn:
            return spdlog::level::warn;
        case level::error:
            return spdlog::level::err;
    }
    return spdlog::level::info;
}

struct state {
    std::mutex mutex;
    std::shared_ptr<spdlog::logger> logger;
    bool json = true;
};

state& global() {
    static state s;
    return s;
}

std::shared_ptr<spdlog::logger> make_logger(bool json) {
    auto logger = std::make_shared<spdlog::logger>(
        "crmsync", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    // The timestamp comes from spdlog (UTC, milliseconds); the rest of the line is ours, so a
    // JSON line is {"timestamp":...,"level":...,<our fields>}.
    if (json) {
        logger->set_pattern(R"({"timestamp":"%Y-%m-%dT%H:%M:%S.%eZ",%v})",
                            spdlog::pattern_time_type::utc);
    } else {
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %v", spdlog::pattern_time_type::utc);
    }
    return logger;
}

std::string text_value(const nlohmann::json& v) {
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        // Quote only when a reader could not tell where the value ends.
        if (s.empty() || s.find_first_of(" =\"") != std::string::npos)
            return v.dump();
        return s;
    }
    return v.dump();
}

}  // namespace

bool parse_level(std::string_view text, level& out) {
    for (std::size_t i = 0; i < level_names.size(); ++i) {
        if (level_names[i] == text) {
            out = static_cast<level>(i);
            return true;
        }
    }
    if (text == "warning") {
        out = level::warn;
        return true;
    }
    return false;
}

std::string format_line(level l,
                        std::string_view message,
                        const nlohmann::json& fields,
                        bool json) {
    const auto name = level_names[static_cast<std::size_t>(l)];
    if (json) {
        std::string out = "\"level\":\"";
        out += name;
        out += "\",\"message\":";
        out +=
            nlohmann::json(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (fields.is_object()) {
            for (const auto& [k, v] : fields.items()) {
                out += ',';
                out += nlohmann::json(k).dump();
                out += ':';
                out += v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            }
        }
        return out;
    }
    std::string out(name);
    out.resize(5, ' ');
    out += ' ';
    out += message;
    if (fields.is_object()) {
        for (const auto& [k, v] : fields.items()) {
            out += ' ';
            out += k;
            out += '=';
            out += text_value(v);
        }
    }
    return out;
}

void init_logging(const log_settings& s) {
    auto& g = global();
    std::lock_guard lock(g.mutex);
    g.json = s.json;
    g.logger = make_logger(s.json);
    g.logger->set_level(to_spdlog(s.min_level));
    g.logger->flush_on(spdlog::level::trace);
}

void log(level l, std::string_view message, const nlohmann::json& fields) {
    auto& g = global();
    std::shared_ptr<spdlog::logger> logger;
    bool json = true;
    {
        std::lock_guard lock(g.mutex);
        if (!g.logger) {
            g.logger = make_logger(true);
            g.logger->flush_on(spdlog::level::trace);
        }
        logger = g.logger;
        json = g.json;
    }
    const auto sl = to_spdlog(l);
    if (!logger->should_log(sl))
        return;
    logger->log(sl, "{}", format_line(l, message, fields, json));
}

}  // namespace crmsync::observability
