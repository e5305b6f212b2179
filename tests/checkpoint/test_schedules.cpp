// Checkpoint schedules: closed forms, DP oracles and the simulator agree, at compile time and at
// run time. The expected vectors were computed by an independent script (a brute-force search
// over schedules); the Revolve column also equals pyrevolve's numforw.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>

#include "vramfit/checkpoint/heterogeneous.hpp"
#include "vramfit/checkpoint/revolve.hpp"
#include "vramfit/checkpoint/schedule.hpp"
#include "vramfit/checkpoint/segments.hpp"

using namespace vramfit;
using namespace vramfit::checkpoint;

namespace {

struct revolve_vector { std::uint64_t steps, slots, repetitions, reversible, advances, forward_evaluations; };
constexpr std::array<revolve_vector, 9> revolve_vectors{{
    {10, 1, 9, 10, 45, 55},   {10, 2, 3, 10, 20, 30},   {10, 3, 2, 10, 15, 25},
    {4, 3, 1, 4, 3, 7},       {16, 4, 3, 35, 27, 43},   {55, 3, 5, 56, 205, 260},
    {56, 3, 5, 56, 210, 266}, {100, 5, 4, 126, 316, 416}, {1000, 10, 4, 1001, 3636, 4636},
}};

constexpr bool revolve_closed_form_matches(const revolve_vector& v) {
    const auto count = revolve_count(v.steps, v.slots);
    return count.ok() && count->repetitions == v.repetitions && count->advances == v.advances
        && count->forward_evaluations == v.forward_evaluations
        && max_reversible_steps(v.slots, v.repetitions) == v.reversible;
}

constexpr schedule_cost simulated(const result<schedule>& actions, const chain_profile& chain) {
    if (!actions) return {};
    const auto cost = simulate(*actions, chain);
    return cost ? *cost : schedule_cost{};
}

constexpr schedule_cost revolve_simulated(std::uint64_t steps, std::uint64_t slots) {
    return simulated(revolve_schedule(steps, slots), uniform_chain(steps));
}

constexpr bool all_revolve_vectors() {
    for (const auto& v : revolve_vectors) if (!revolve_closed_form_matches(v)) return false;
    return true;
}

struct sequential_vector { std::uint64_t steps, segments, recomputed, total_forwards, peak_units; };
constexpr std::array<sequential_vector, 4> sequential_vectors{{
    {16, 4, 12, 28, 7}, {10, 3, 6, 16, 6}, {100, 10, 90, 190, 19}, {12, 1, 0, 12, 12},
}};

constexpr bool sequential_matches(const sequential_vector& v) {
    const auto count = sequential_count(v.steps, v.segments);
    const auto cost = simulated(sequential_schedule(v.steps, v.segments), uniform_chain(v.steps));
    return count.ok() && count->recomputed_forwards == v.recomputed && count->peak_units == v.peak_units
        && cost.extra_forwards == v.recomputed && cost.forward_evaluations == v.total_forwards
        && cost.peak_bytes == bytes{v.peak_units};
}

// §1.6 vectors: costs f, sizes w, extra budget m beyond x_0 (w[0] is x_0's size).
struct heterogeneous_vector {
    std::array<std::uint64_t, 8> cost;
    std::array<std::uint64_t, 8> size;
    std::size_t steps;
    std::uint64_t extra_budget;
    std::uint64_t expected;
};
constexpr std::array<heterogeneous_vector, 9> heterogeneous_vectors{{
    {{4, 1, 1, 4}, {1, 1, 1, 1}, 4, 1, 7},
    {{4, 1, 1, 4}, {1, 1, 1, 1}, 4, 0, 15},
    {{1, 2, 3, 4, 5, 6}, {1, 1, 1, 1, 1, 1}, 6, 1, 22},
    {{1, 2, 3, 4, 5, 6}, {1, 1, 1, 1, 1, 1}, 6, 0, 35},
    {{1, 1, 1, 1, 1, 1}, {1, 3, 3, 1, 3, 3}, 6, 2, 9},
    {{1, 1, 1, 1, 1, 1}, {1, 3, 3, 1, 3, 3}, 6, 0, 15},
    {{1, 1, 1, 1, 1, 1, 1, 1}, {1, 2, 2, 2, 2, 2, 2, 2}, 8, 4, 11},
    {{2, 1, 2, 1, 2, 1, 2, 1}, {1, 2, 1, 2, 1, 2, 1, 2}, 8, 2, 19},
    {{3, 1, 4, 1, 5, 9, 2, 6}, {1, 2, 1, 2, 1, 2, 1, 2}, 8, 3, 35},
}};

constexpr chain_profile profile_of(const heterogeneous_vector& v, std::uint64_t scale = 1) {
    chain_profile chain;
    for (std::size_t k = 0; k < v.steps; ++k) {
        chain.forward_cost.push_back(v.cost[k]);
        chain.state_size.push_back(bytes{v.size[k] * scale});
        chain.tape_size.push_back(bytes{v.size[k] * scale});
    }
    return chain;
}

constexpr bool heterogeneous_matches(const heterogeneous_vector& v, std::uint64_t scale = 1) {
    const auto chain = profile_of(v, scale);
    const bytes budget{(v.size[0] + v.extra_budget) * scale};
    const auto plan = heterogeneous_schedule(chain, budget);
    if (!plan || plan->extra_forward_cost != v.expected) return false;
    const auto cost = simulate(plan->actions, chain);
    return cost && cost->extra_forward_cost == v.expected && cost->peak_checkpoint_bytes <= budget;
}

constexpr bool all_heterogeneous_vectors() {
    for (const auto& v : heterogeneous_vectors) if (!heterogeneous_matches(v)) return false;
    return true;
}

// Run-time cases with constant arguments: GCC would otherwise try to fold them at compile
// time under the project's raised constexpr limits.
template <class T>
T opaque(T value) {
    volatile T copy = value;
    return copy;
}

} // namespace

// ---- compile time --------------------------------------------------------------------------
static_assert(all_revolve_vectors(), "Revolve closed form disagrees with the §1.2 vectors");
static_assert(revolve_count(10, 3)->advances == 15, "Revolve: 10 steps, 3 slots need 15 extra forward steps");
static_assert(revolve_advances_by_dp(10, 3).value() == 15);
static_assert(revolve_advances_by_dp(56, 3).value() == 210);
static_assert(revolve_advances_by_dp(16, 4).value() == 27);
static_assert(revolve_simulated(10, 3).extra_forwards == 15);
static_assert(revolve_simulated(10, 3).peak_checkpoints == 3);
static_assert(revolve_simulated(10, 1).extra_forwards == 45);
static_assert(revolve_simulated(16, 4).extra_forwards == 27);
static_assert(revolve_simulated(4, 3).extra_forwards == 3);
static_assert(!revolve_count(0, 3).ok() && !revolve_count(10, 0).ok(), "empty chains and zero slots are errors");
static_assert(sequential_matches(sequential_vectors[0]) && sequential_matches(sequential_vectors[1])
              && sequential_matches(sequential_vectors[3]));
static_assert(!sequential_count(4, 5).ok() && !sequential_count(4, 0).ok(), "PyTorch rejects segments > n");
static_assert(sqrt_n_count(16)->recomputed_forwards == 12 && sqrt_n_count(16)->peak_units == 7);
static_assert(all_heterogeneous_vectors(), "heterogeneous DP disagrees with the §1.6 vectors");
static_assert(heterogeneous_matches(heterogeneous_vectors[7], 256), "scaling sizes and budget changes nothing");

// ---- run time (the same vectors, plus what is too big for constant evaluation) -------------
TEST_CASE("Revolve closed form, DP oracle and simulated schedule agree") {
    for (const auto& v : revolve_vectors) {
        CAPTURE(v.steps); CAPTURE(v.slots);
        CHECK(revolve_closed_form_matches(v));
        if (v.steps <= 120) {
            CHECK(revolve_advances_by_dp(v.steps, v.slots).value() == v.advances);
            const auto cost = revolve_simulated(v.steps, v.slots);
            CHECK(cost.extra_forwards == v.advances);
            CHECK(cost.forward_evaluations == v.forward_evaluations);
            CHECK(cost.peak_checkpoints <= v.slots);
        }
    }
    // The notes' sweep: closed form = DP for l ≤ 120, c ≤ 7; schedules for a smaller sweep.
    for (std::uint64_t slots = 1; slots <= 7; ++slots) {
        for (std::uint64_t steps = 1; steps <= 120; ++steps) {
            CAPTURE(steps); CAPTURE(slots);
            const auto closed = revolve_count(steps, slots)->advances;
            CHECK(revolve_advances_by_dp(steps, slots).value() == closed);
            if (steps <= 40) {
                const auto cost = revolve_simulated(steps, slots);
                CHECK(cost.extra_forwards == closed);
                CHECK(cost.peak_checkpoints <= slots);
            }
        }
    }
}

TEST_CASE("Revolve at scale and at the limits") {
    CHECK(revolve_count(opaque(1000), 10)->advances == 3636);
    const auto schedule_1000 = revolve_schedule(opaque(1000), 10);
    REQUIRE(schedule_1000.ok());
    const auto cost = simulate(*schedule_1000, uniform_chain(1000));
    REQUIRE(cost.ok());
    CHECK(cost->extra_forwards == 3636);
    CHECK(cost->peak_checkpoints == 10);
    CHECK(revolve_count(1, 1)->advances == 0);
    const std::uint64_t big = opaque(1ULL << 20);
    CHECK(revolve_count(big, 1)->advances == big * (big - 1) / 2);
    CHECK(revolve_count(opaque(max_revolve_steps), 64)->advances > 0);
    CHECK(revolve_count(max_revolve_steps + 1, 2).err().code() == errc::limit_exceeded);
    CHECK(revolve_schedule(opaque(max_revolve_schedule_steps + 1), 4).err().code() == errc::limit_exceeded);
    // One slot over 4096 steps is 8,386,560 advances: refused rather than allocated.
    const auto quadratic = revolve_schedule(opaque(4096), 1);
    CHECK(quadratic.err().code() == errc::limit_exceeded);
    CHECK(quadratic.err().message().find("8386560 advances") != std::string_view::npos);
    CHECK(revolve_schedule(opaque(4096), 8).ok());
    CHECK(sequential_schedule(opaque(max_segment_steps + 1), 2).err().code() == errc::limit_exceeded);
    CHECK(max_reversible_steps(3, 5) == 56);
    CHECK(max_reversible_steps(1000, 1000) == ~std::uint64_t{0});
}

TEST_CASE("segment schedules: PyTorch checkpoint_sequential and Chen sqrt(n)") {
    for (const auto& v : sequential_vectors) {
        CAPTURE(v.steps); CAPTURE(v.segments);
        CHECK(sequential_matches(v));
    }
    for (std::uint64_t steps = 1; steps <= 64; ++steps) {
        for (std::uint64_t segments = 1; segments <= steps; ++segments) {
            const auto count = sequential_count(steps, segments);
            const std::uint64_t q = steps / segments;
            CHECK(count->recomputed_forwards == q * (segments - 1));
            const std::uint64_t forward_pass = (segments - 1) + (steps - q * (segments - 1));
            const std::uint64_t backward_pass = segments >= 2 ? (segments - 2) + q : 0;
            CHECK(count->peak_units == (forward_pass > backward_pass ? forward_pass : backward_pass));
            const auto cost = simulated(sequential_schedule(steps, segments), uniform_chain(steps));
            CHECK(cost.extra_forwards == count->recomputed_forwards);
            CHECK(cost.peak_bytes == bytes{count->peak_units});
        }
        const auto chen = sqrt_n_count(steps);
        const auto cost = simulated(sqrt_n_schedule(steps), uniform_chain(steps));
        CHECK(cost.extra_forwards == chen->recomputed_forwards);
        CHECK(cost.peak_bytes == bytes{chen->peak_units});
        CHECK(chen->peak_units <= 2 * checkpoint::detail::ceil_sqrt(steps));  // the 2√n of Chen et al.
    }
    const std::uint64_t hundred = opaque(100);
    CHECK(sqrt_n_count(hundred)->segments == 10);
    CHECK(sqrt_n_count(hundred)->recomputed_forwards == 90);
    CHECK(sqrt_n_count(hundred)->peak_units == 19);
    CHECK(sequential_count(4, 5).err().code() == errc::invalid_argument);
}

TEST_CASE("heterogeneous DP: notes vectors, Revolve as a special case, scale invariance") {
    for (const auto& v : heterogeneous_vectors) {
        CAPTURE(v.expected);
        CHECK(heterogeneous_matches(v));
        CHECK(heterogeneous_matches(v, opaque(1000)));
    }
    for (std::uint64_t steps = 1; steps < 40; ++steps) {
        for (std::uint64_t slots = 1; slots <= 5; ++slots) {
            const auto plan = heterogeneous_schedule(uniform_chain(steps), bytes{slots});
            REQUIRE(plan.ok());
            CHECK(plan->extra_forward_cost == revolve_count(steps, slots)->advances);
        }
    }
    chain_profile bad = uniform_chain(4);
    CHECK(heterogeneous_schedule(bad, bytes{0}).err().code() == errc::invalid_argument);
    bad.state_size.pop_back();
    CHECK(heterogeneous_schedule(bad, bytes{4}).err().code() == errc::invalid_argument);
    // Huge sizes coarsen the unit: the result still fits the budget.
    chain_profile large = uniform_chain(opaque(16), bytes{1000003});
    const auto plan = heterogeneous_schedule(large, bytes{1000003ULL * 5000});
    REQUIRE(plan.ok());
    const auto cost = simulate(plan->actions, large);
    REQUIRE(cost.ok());
    CHECK(cost->peak_checkpoint_bytes <= bytes{1000003ULL * 5000});
    CHECK(cost->extra_forward_cost == plan->extra_forward_cost);
}

TEST_CASE("the simulator rejects invalid schedules with the position and the reason") {
    const auto chain = uniform_chain(3);
    schedule actions{{action_kind::advance, 0}, {action_kind::forward_taped, 2}};
    auto cost = simulate(actions, chain);
    REQUIRE_FALSE(cost.ok());
    CHECK(cost.err().message().find("action 1") != std::string_view::npos);
    actions = {{action_kind::forward_taped, 0}, {action_kind::backward, 0}};
    CHECK(simulate(actions, chain).err().message().find("out of order") != std::string_view::npos);
    actions = {{action_kind::restore, 1}};
    CHECK_FALSE(simulate(actions, chain).ok());
    actions = {{action_kind::forward_taped, 0}, {action_kind::forward_taped, 1}, {action_kind::forward_taped, 2},
               {action_kind::backward, 2}, {action_kind::backward, 1}};
    CHECK(simulate(actions, chain).err().message().find("ends before backward step 0") != std::string_view::npos);
    actions.push_back({action_kind::backward, 0});
    const auto whole = simulate(actions, chain);
    REQUIRE(whole.ok());
    CHECK(whole->extra_forwards == 0);
    CHECK(whole->peak_bytes == bytes{3});
    CHECK(to_string(action_kind::forward_taped) == "forward_taped");
}
