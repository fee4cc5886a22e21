#pragma once
// Several senders sharing one client on an io_context that several threads run: what
// client.cpp's strand is there for (send() may be called from any thread running the client's
// executor). The daemon itself runs one io thread, so only these tests exercise it; under
// scripts/tsan (ThreadSanitizer) they are what checks it.

#include "crmsync/http/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace crmsync::testing {

struct threaded_sends_outcome {
    int answered = 0;   // sends that returned a 200
    int timed_out = 0;  // sends that failed with errc::timeout (anything else fails the test)
    int observed = 0;   // exchanges the client's observer saw
};

// `senders` coroutines each send `sends` GETs to `url` with `timeout`, one after the other, all
// on `c`, while `threads` threads run the io_context `c` was made on.
inline threaded_sends_outcome send_from_threads(boost::asio::io_context& ioc,
                                                http::client& c,
                                                const std::string& url,
                                                std::chrono::milliseconds timeout,
                                                int senders,
                                                int sends,
                                                int threads) {
    namespace asio = boost::asio;
    std::atomic<int> answered{0}, timed_out{0}, observed{0};
    c.observe([&observed](const http::exchange_record&) { ++observed; });
    for (int s = 0; s < senders; ++s) {
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> {
                for (int i = 0; i < sends; ++i) {
                    http::request q;
                    q.url = url;
                    q.timeout = timeout;
                    auto r = co_await c.send(std::move(q));
                    if (r && r->status == 200)
                        ++answered;
                    else if (!r && r.error().code == make_error_code(errc::timeout))
                        ++timed_out;
                    else
                        ADD_FAILURE()
                            << (r ? "status " + std::to_string(r->status) : r.error().message());
                }
            },
            asio::detached);
    }
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
        pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool)
        t.join();
    ioc.restart();
    c.observe(nullptr);
    return {answered.load(), timed_out.load(), observed.load()};
}

}  // namespace crmsync::testing
