#include "crmsync/sink/sink.hpp"

namespace crmsync::sink {

boost::asio::awaitable<result<std::vector<nlohmann::json>>> sink::read_current(
    std::span<const std::string>, std::span<const std::string>) {
    co_return make_failure(errc::config_invalid,
                           "this destination offers no way to read its records back");
}

}  // namespace crmsync::sink
