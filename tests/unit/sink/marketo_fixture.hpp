#pragma once
// What the Marketo sink tests share: a fake Marketo on loopback with a manual clock, the
// destination settings that point at it, and a short retry policy.

#include "crmsync/config/model.hpp"
#include "crmsync/http/disposition.hpp"

#include "fake_marketo.hpp"
#include "manual_clock.hpp"
#include <gtest/gtest.h>

#include <chrono>
#include <random>

namespace crmsync::testing {

class marketo_fixture : public ::testing::Test {
protected:
    config::destination destination() const {
        config::destination d;
        d.name = "mkto";
        d.base_url = mk.base_url();
        d.client_id = "fake-mkto-client";
        d.client_secret = secret("fake-mkto-secret");
        return d;
    }

    http::retry_context retry() {
        using namespace std::chrono_literals;
        http::retry_context r;
        r.policy = {.base = 1ms, .cap = 2ms, .max_attempts = 3};
        r.rng = &rng;
        return r;
    }

    fakes::manual_clock clock{timestamp::parse("2026-11-23T10:00:00Z")->at};
    fakes::fake_marketo mk{fakes::mkto_options{.clock = clock.fn()}};
    std::mt19937_64 rng{42};
};

}  // namespace crmsync::testing
