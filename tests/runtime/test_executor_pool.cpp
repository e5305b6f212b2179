// The schedule executor against the real pool (host backend): the pool's measured peak and
// the executor's recomputation equal simulate()'s prediction, gradients equal keeping
// everything, and a budget below the prediction fails with a message naming the state.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../checkpoint/tanh_chain.hpp"
#include "vramfit/checkpoint/executor.hpp"
#include "vramfit/checkpoint/heterogeneous.hpp"
#include "vramfit/checkpoint/revolve.hpp"
#include "vramfit/checkpoint/segments.hpp"
#include "vramfit/runtime/checkpoint/pool.hpp"

using namespace vramfit;
using namespace vramfit::checkpoint;

namespace {
constexpr std::size_t steps = 20, width = 64;  // 256-byte states

std::vector<float> input_state() {
    std::vector<float> input(width);
    for (std::size_t i = 0; i < width; ++i) input[i] = 0.02f * static_cast<float>(i) - 0.5f;
    return input;
}
} // namespace

TEST_CASE("pool peak and recomputation equal the prediction for every schedule family") {
    const chain_profile profile = uniform_chain(steps, bytes{width * 4});
    const auto input = input_state();
    tanh_chain reference(steps, width);
    runtime::host_backend backend;
    {
        auto pool = runtime::checkpoint_pool::create(backend, 1_KiB);
        REQUIRE(pool.ok());
        REQUIRE(execute(*sequential_schedule(steps, 1), reference, **pool, reinterpret_cast<const std::byte*>(input.data())).ok());
    }
    const std::vector<schedule> schedules{*revolve_schedule(steps, 2), *revolve_schedule(steps, 5), *sqrt_n_schedule(steps),
                                          *sequential_schedule(steps, 5), heterogeneous_schedule(profile, 1_KiB)->actions};
    for (const auto& actions : schedules) {
        const auto predicted = simulate(actions, profile);
        REQUIRE(predicted.ok());
        auto pool = runtime::checkpoint_pool::create(backend, predicted->peak_checkpoint_bytes + 256_B);
        REQUIRE(pool.ok());
        tanh_chain model(steps, width);
        auto report = execute(actions, model, **pool, reinterpret_cast<const std::byte*>(input.data()));
        REQUIRE_MESSAGE(report.ok(), std::string(report.err().message()));
        const auto stats = (*pool)->statistics();
        CHECK(stats.peak == predicted->peak_checkpoint_bytes);
        CHECK(stats.saves == predicted->stores);
        CHECK(stats.restores == predicted->restores);
        CHECK(stats.evictions == 0);
        CHECK(stats.entries == 0);
        CHECK(report->extra_forwards == predicted->extra_forwards);
        CHECK(model.weight_gradient == reference.weight_gradient);
        CHECK(model.bias_gradient == reference.bias_gradient);
    }
    CHECK(simulate(*revolve_schedule(steps, 5), profile)->peak_checkpoint_bytes == bytes{5 * 256});
}

TEST_CASE("a budget below the schedule's peak is reported, naming the state") {
    const auto input = input_state();
    runtime::host_backend backend;
    auto pool = runtime::checkpoint_pool::create(backend, 2 * 256_B);  // Revolve with 3 slots needs 3 states
    REQUIRE(pool.ok());
    tanh_chain model(steps, width);
    auto report = execute(*revolve_schedule(steps, 3), model, **pool, reinterpret_cast<const std::byte*>(input.data()));
    REQUIRE_FALSE(report.ok());
    const std::string message(report.err().message());
    MESSAGE(message);
    CHECK(message.find("checkpoint executor: restore of state ") != std::string::npos);
    CHECK(message.find("no checkpoint") != std::string::npos);
    CHECK((*pool)->statistics().evictions > 0);
}
