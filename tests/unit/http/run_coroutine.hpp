#pragma once
// Runs a test's coroutine to completion on a local io_context: co_spawn, then run() until no
// work is left (STYLE.md rule 7: wait on the io_context, never sleep). GoogleTest's ASSERT_*
// `return`, which a coroutine cannot, so test coroutines use EXPECT_* and co_return early.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <functional>

namespace crmsync::testing {

inline void run_coroutine(
    const std::function<boost::asio::awaitable<void>(boost::asio::any_io_executor)>& body) {
    boost::asio::io_context ioc;
    bool finished = false;
    boost::asio::co_spawn(ioc, body(ioc.get_executor()), [&](std::exception_ptr e) {
        finished = true;
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            ADD_FAILURE() << "test coroutine threw: " << x.what();
        }
    });
    ioc.run();
    EXPECT_TRUE(finished) << "the test coroutine never completed";
}

}  // namespace crmsync::testing
