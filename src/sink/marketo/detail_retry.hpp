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
    auto r = co_await http::retry_call<T>(retry, std::move(op), classify, refresh);
    // 607: Marketo says the day's calls are spent, whatever we counted (other integrations
    // share the quota): no call until the reset, and the failure says when that is.
    if (!r && r.error().code == errc::quota_exhausted && r.error().vendor_code == "607")
        r = s.quota().spent(r.error());
    co_return with_context(std::move(r), fmt::format("marketo {}", s.settings().name));
}

}  // namespace crmsync::sink::marketo::detail
