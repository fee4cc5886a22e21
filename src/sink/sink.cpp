#include "crmsync/sink/sink.hpp"

namespace crmsync::sink {

boost::asio::awaitable<result<std::vector<nlohmann::json>>> sink::read_current(
    std::span<const std::string>, std::span<const std::string>) {
    co_return make_failure(errc::config_invalid,
                           "this destination offers no way to read its records back");
}

boost::asio::awaitable<result<std::vector<record_outcome>>> sink::push_rekeyed(
    std::span<const payload> batch, std::span<const std::string>) {
    co_return co_await push(batch);
}

boost::asio::awaitable<result<std::vector<record_outcome>>> sink::remove(
    std::span<const std::string>) {
    co_return make_failure(errc::config_invalid,
                           "this destination offers no way to delete records");
}

}  // namespace crmsync::sink
