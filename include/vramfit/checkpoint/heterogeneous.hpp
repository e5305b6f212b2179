// vramfit/checkpoint/heterogeneous.hpp — optimal checkpointing of a chain whose steps differ in
// forward cost and state size (the dynamic programme of Herrmann, Beaumont et al. 2019,
// "Optimal checkpointing for heterogeneous chains", as implemented in rotor; read through the
// open ports topal-team/rockmate hrockmate/solvers/rotor_solver.py `psolve_dp_functional` and
// hpcaitech/ColossalAI colossalai/auto_parallel/checkpoint/ckpt_solver_rotor.c `computeTable`).
//
// The reduced model of Herrmann et al. (rotor): cost f[k] per
// forward step, checkpoint size w[k] for x_k, x_0 always held, tapes transient. With m budget
// units free and x_i held, G(i, j, m) is the least advance cost to reverse steps i..j:
//   G(i, i, m) = 0
//   G(i, j, m) = min( Σ_{t=i+1..j} Σ_{u=i..t-1} f[u]                       (sweep from x_i),
//                     min_{i<k≤j, w[k]≤m} Σ_{u=i..k-1} f[u] + G(k, j, m−w[k]) + G(i, k−1, m) )
// With f ≡ 1 and w ≡ 1 it reproduces Revolve: G(0, l−1, c−1) = advances(l, c).
// Like rotor's, it is optimal among nested ("persistent") schedules, which keep a checkpoint
// until the part it starts has been reversed. An exhaustive search over all schedules
// (tests/checkpoint/test_oracle.cpp) agrees on uniform chains and on the notes' vectors, and
// finds rare heterogeneous chains where dropping a checkpoint earlier is cheaper (one: costs
// 2,4,1,4,3,5, sizes 3,1,3,2,2,2, budget 6: this DP 22, optimum 21).
// Rotor's full model (separate tape sizes x̄, transient ftmp/btmp, the "store all activations"
// option) is not modelled: tapes here cost nothing while only one step's tape is alive.
#pragma once

#include <cstdint>
#include <vector>

#include "vramfit/checkpoint/detail/reversal.hpp"
#include "vramfit/checkpoint/schedule.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::checkpoint {

// The budget is discretised in units of the greatest common divisor of the state sizes, which
// is exact. If that gives more than this many units, sizes are rounded up to a coarser unit:
// the schedule then still fits the budget but may recompute more than the true optimum.
inline constexpr std::uint64_t max_budget_units = 4096;
inline constexpr std::uint64_t max_heterogeneous_steps = 1024;
inline constexpr std::uint64_t max_heterogeneous_cells = 1ULL << 24;

struct optimal_schedule {
    schedule actions;
    std::uint64_t extra_forward_cost = 0;  // G(0, l−1, m): Σ f over all advances
    std::uint64_t budget_unit = 0;         // bytes per DP unit (the discretisation used)
    bool exact = true;                     // false when sizes were rounded to a coarser unit
};

namespace detail {
constexpr std::uint64_t gcd(std::uint64_t a, std::uint64_t b) noexcept {
    while (b != 0) { const std::uint64_t t = a % b; a = b; b = t; }
    return a;
}
} // namespace detail

// The optimal schedule for `chain` keeping at most `checkpoint_budget` bytes of checkpoints,
// x_0's included.
[[nodiscard]] constexpr result<optimal_schedule> heterogeneous_schedule(const chain_profile& chain, bytes checkpoint_budget) {
    const std::uint64_t steps = chain.steps();
    if (steps == 0) return error(errc::invalid_argument, "heterogeneous checkpointing: the chain has no steps");
    if (chain.state_size.size() != steps)
        return detail::compose_error(errc::invalid_argument, "heterogeneous checkpointing: state_size has ",
                                     chain.state_size.size(), " entries for ", steps, " steps");
    if (steps > max_heterogeneous_steps)
        return detail::compose_error(errc::limit_exceeded, "heterogeneous checkpointing: too many steps: ", steps);
    if (checkpoint_budget < chain.state_size[0])
        return detail::compose_error(errc::invalid_argument, "heterogeneous checkpointing: the budget ", checkpoint_budget.count(),
                                     " B does not hold x_0 (", chain.state_size[0].count(), " B)");
    std::uint64_t total_cost = 0;
    for (auto cost : chain.forward_cost) {
        if (cost > (1ULL << 40)) return detail::compose_error(errc::limit_exceeded, "heterogeneous checkpointing: forward cost too large: ", cost);
        total_cost += cost;
    }
    (void)total_cost;

    // Discretise: unit = gcd of the sizes of x_1 … x_{l−1}; coarsen if too many units.
    const std::uint64_t free_bytes = (checkpoint_budget - chain.state_size[0]).count();
    std::uint64_t unit = 0, all_states = 0;
    for (std::uint64_t k = 1; k < steps; ++k) {
        unit = detail::gcd(unit, chain.state_size[k].count());
        all_states += chain.state_size[k].count();
    }
    if (unit == 0) unit = 1;
    const std::uint64_t useful_bytes = free_bytes < all_states ? free_bytes : all_states;  // more never helps
    bool exact = true;
    if (useful_bytes / unit > max_budget_units) {
        unit = (useful_bytes + max_budget_units - 1) / max_budget_units;
        exact = false;
    }
    const std::uint64_t units = useful_bytes / unit;
    std::vector<std::uint64_t> size_units(steps, 0);
    for (std::uint64_t k = 1; k < steps; ++k) size_units[k] = (chain.state_size[k].count() + unit - 1) / unit;
    if (steps * steps * (units + 1) > max_heterogeneous_cells)
        return detail::compose_error(errc::limit_exceeded, "heterogeneous checkpointing: table too large: ", steps,
                                     " steps x ", units + 1, " budget units");

    std::vector<std::uint64_t> prefix(steps + 1, 0);  // prefix[k] = Σ_{u<k} f[u]
    for (std::uint64_t k = 0; k < steps; ++k) prefix[k + 1] = prefix[k] + chain.forward_cost[k];
    const auto cell = [steps](std::uint64_t m, std::uint64_t i, std::uint64_t j) { return (m * steps + i) * steps + j; };
    std::vector<std::uint64_t> best(steps * steps * (units + 1), 0);
    std::vector<std::uint32_t> keep(best.size(), 0);
    for (std::uint64_t m = 0; m <= units; ++m) {
        for (std::uint64_t length = 2; length <= steps; ++length) {
            for (std::uint64_t i = 0; i + length <= steps; ++i) {
                const std::uint64_t j = i + length - 1;
                std::uint64_t sweep = 0;
                for (std::uint64_t t = i + 1; t <= j; ++t) sweep += prefix[t] - prefix[i];
                std::uint64_t value = sweep;
                std::uint32_t choice = 0;
                for (std::uint64_t k = i + 1; k <= j; ++k) {
                    if (size_units[k] > m) continue;
                    const std::uint64_t candidate = (prefix[k] - prefix[i]) + best[cell(m - size_units[k], k, j)] + best[cell(m, i, k - 1)];
                    if (candidate < value) { value = candidate; choice = static_cast<std::uint32_t>(k); }
                }
                best[cell(m, i, j)] = value;
                keep[cell(m, i, j)] = choice;
            }
        }
    }

    optimal_schedule plan;
    plan.extra_forward_cost = best[cell(units, 0, steps - 1)];
    plan.budget_unit = unit;
    plan.exact = exact;
    auto decide = [&](std::uint32_t first, std::uint32_t last, std::uint64_t budget) {
        detail::split_decision split;
        split.keep = keep[cell(budget, first, last)];
        if (split.keep != 0) split.right_budget = budget - size_units[split.keep];
        return split;
    };
    plan.actions = detail::build_reversal(static_cast<std::uint32_t>(steps), units, decide);
    return plan;
}

} // namespace vramfit::checkpoint
