#pragma once
// The one retry policy of every Marketo REST call (sink, describe, record reads).

#include "crmsync/http/disposition.hpp"
#include "crmsync/sink/marketo/sink.hpp"

#include <boost/asio/awaitable.hpp>

#include <fmt/format.h>

namespace crmsync::sink::marketo::detail {

// Runs one Marketo call under the retry policy: 601/602 get one new token, transient failures
// back off (http::retry_call), everything else goes up.
template <class T, class Op>
boost::asio::awaitable<result<T>> with_retries(session& s,
                                               const http::retry_context& retry,
                                               Op op) {
    auto refresh = [&s]() -> boost::asio::awaitable<result<void>> {
        s.invalidate_token();
        co_return co_await s.authenticate();
    };
    co_return with_context(co_await http::retry_call<T>(retry, std::move(op), classify, refresh),
                           fmt::format("marketo {}", s.settings().name));
}

}  // namespace crmsync::sink::marketo::detail
