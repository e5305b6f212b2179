// The executor carries out every schedule family on a real chain: same gradients as keeping
// everything, and exactly the recomputation and peak that simulate() predicted.
#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "tanh_chain.hpp"
#include "vramfit/checkpoint/executor.hpp"
#include "vramfit/checkpoint/heterogeneous.hpp"
#include "vramfit/checkpoint/revolve.hpp"
#include "vramfit/checkpoint/segments.hpp"

using namespace vramfit;
using namespace vramfit::checkpoint;

namespace {
// A store with no runtime: a map, tracking its own peak.
struct map_store {
    struct done { bool ok() const { return true; } error err() const { return {}; } };
    std::map<std::uint64_t, std::vector<std::byte>> entries;
    std::uint64_t held = 0, peak = 0;
    done save(std::uint64_t key, const void* source, bytes size) {
        const auto* begin = static_cast<const std::byte*>(source);
        entries[key].assign(begin, begin + size.count());
        held += size.count();
        peak = std::max(peak, held);
        return {};
    }
    result<bytes> restore(std::uint64_t key, void* destination) {
        auto found = entries.find(key);
        if (found == entries.end()) return error(errc::missing_key, "no such checkpoint");
        std::memcpy(destination, found->second.data(), found->second.size());
        return bytes{found->second.size()};
    }
    bool erase(std::uint64_t key) {
        auto found = entries.find(key);
        if (found == entries.end()) return false;
        held -= found->second.size();
        entries.erase(found);
        return true;
    }
};

struct gradients { std::vector<float> weight, bias; std::vector<std::byte> input; };

gradients run(const schedule& actions, std::uint64_t& peak, execution_report& report) {
    tanh_chain chain(12, 64);
    std::vector<float> input(64);
    for (std::size_t i = 0; i < 64; ++i) input[i] = 0.01f * static_cast<float>(i) - 0.3f;
    map_store store;
    auto executed = execute(actions, chain, store, reinterpret_cast<const std::byte*>(input.data()));
    REQUIRE_MESSAGE(executed.ok(), std::string(executed.err().message()));
    report = *executed;
    peak = store.peak;
    CHECK(store.entries.empty());  // every schedule erases what it stored
    return {chain.weight_gradient, chain.bias_gradient, executed->input_gradient};
}
} // namespace

TEST_CASE("every schedule family gives the keep-everything gradients at the predicted cost") {
    const chain_profile profile = uniform_chain(12, bytes{256});
    std::uint64_t baseline_peak = 0;
    execution_report baseline_report;
    const auto baseline = run(*sequential_schedule(12, 1), baseline_peak, baseline_report);  // no checkpoints: all taped
    CHECK(baseline_report.extra_forwards == 0);
    CHECK(baseline_report.peak_tape_bytes == bytes{12 * 256});

    std::vector<schedule> schedules{*revolve_schedule(12, 1), *revolve_schedule(12, 2), *revolve_schedule(12, 3),
                                    *sqrt_n_schedule(12), *sequential_schedule(12, 4),
                                    heterogeneous_schedule(profile, bytes{3 * 256})->actions};
    for (const auto& actions : schedules) {
        const auto predicted = simulate(actions, profile);
        REQUIRE(predicted.ok());
        std::uint64_t peak = 0;
        execution_report report;
        const auto measured = run(actions, peak, report);
        CHECK(report.extra_forwards == predicted->extra_forwards);
        CHECK(report.forward_evaluations == predicted->forward_evaluations);
        CHECK(bytes{peak} == predicted->peak_checkpoint_bytes);
        CHECK(report.saves == predicted->stores);
        CHECK(report.restores == predicted->restores);
        CHECK(measured.weight == baseline.weight);  // same float operations in the same order
        CHECK(measured.bias == baseline.bias);
        CHECK(measured.input == baseline.input);
    }
    CHECK(revolve_count(12, 3)->advances == 21);  // r = 3: 3·12 − (1 + 4 + 10)
}

TEST_CASE("the executor refuses an invalid schedule before touching the store") {
    tanh_chain chain(3, 4);
    map_store store;
    std::vector<float> input(4, 0.5f);
    const schedule broken{{action_kind::store, 0}, {action_kind::backward, 2}};
    auto executed = execute(broken, chain, store, reinterpret_cast<const std::byte*>(input.data()));
    REQUIRE_FALSE(executed.ok());
    CHECK(executed.err().message().find("action 1") != std::string_view::npos);
    CHECK(store.entries.empty());
    CHECK(store.peak == 0);
}
