// vramfit/checkpoint/revolve.hpp — Griewank–Walther binomial checkpointing (Revolve).
//
// Optimal for a chain of `l` equal steps and `c` checkpoint slots, where the slot holding x_0
// counts. Sources: A. Griewank and
// A. Walther, "Algorithm 799: revolve", ACM TOMS 26(1), 2000; the closed form is the one
// devitocodes/pyrevolve c/revolve.cpp `numforw` computes. Integer arithmetic only, so all of it
// runs in constant expressions.
#pragma once

#include <cstdint>
#include <vector>

#include "vramfit/checkpoint/detail/reversal.hpp"
#include "vramfit/checkpoint/schedule.hpp"
#include "vramfit/core/error.hpp"

namespace vramfit::checkpoint {

// Limits that keep every intermediate below 2^63 (β(c, r-1) < l ≤ 2^31, c + r < 2^32).
inline constexpr std::uint64_t max_revolve_steps = 1ULL << 31;
inline constexpr std::uint64_t max_revolve_slots = 1ULL << 20;
// Building the action list is O(l² · r) in the worst case; beyond this, use the counts only.
inline constexpr std::uint64_t max_revolve_schedule_steps = 1ULL << 14;

struct binomial_count {
    std::uint64_t repetitions = 0;  // r: no step runs forward more than r times (plus its taping run)
    std::uint64_t advances = 0;     // forward steps beyond the one taping run per step (numforw)
    std::uint64_t forward_evaluations = 0;  // advances + l (Gruslys et al.'s Q)
};

namespace detail {
// Unchecked core: l ≥ 1, c ≥ 1, within the limits above.
// r is the smallest integer with β(c, r) = C(c + r, c) ≥ l; then
// advances = r·l − C(c + r, c + 1) and C(c + r, c + 1) = Σ_{i<r} β(c, i) (hockey-stick identity),
// which never exceeds r·l, so nothing overflows.
constexpr binomial_count binomial_advances(std::uint64_t steps, std::uint64_t slots) noexcept {
    std::uint64_t repetitions = 0, reversible = 1, below = 0;  // reversible = β(c, r)
    while (reversible < steps) {
        below += reversible;
        ++repetitions;
        reversible = reversible * (slots + repetitions) / repetitions;  // exact: C(c+r,c) = C(c+r-1,c)(c+r)/r
    }
    binomial_count count;
    count.repetitions = repetitions;
    count.advances = repetitions * steps - below;
    count.forward_evaluations = count.advances + steps;
    return count;
}

constexpr result<bool> check_revolve_arguments(std::uint64_t steps, std::uint64_t slots) {
    if (steps == 0) return error(errc::invalid_argument, "revolve: a chain needs at least one step");
    if (slots == 0) return error(errc::invalid_argument, "revolve: at least one checkpoint slot (the one holding x_0) is needed");
    if (steps > max_revolve_steps) return detail::compose_error(errc::limit_exceeded, "revolve: too many steps: ", steps);
    if (slots > max_revolve_slots) return detail::compose_error(errc::limit_exceeded, "revolve: too many slots: ", slots);
    return true;
}
} // namespace detail

// β(c, r) = C(c + r, c): the most steps `c` slots can reverse when no step is advanced more than
// r times. Saturates at UINT64_MAX instead of overflowing.
[[nodiscard]] constexpr std::uint64_t max_reversible_steps(std::uint64_t slots, std::uint64_t repetitions) noexcept {
    std::uint64_t value = 1;
    for (std::uint64_t i = 1; i <= repetitions; ++i) {
        const std::uint64_t factor = slots + i;
        if (value > ~std::uint64_t{0} / factor) return ~std::uint64_t{0};
        value = value * factor / i;  // exact, see binomial_advances
    }
    return value;
}

// Minimal recomputation for `steps` equal steps and `slots` checkpoint slots (x_0's included).
[[nodiscard]] constexpr result<binomial_count> revolve_count(std::uint64_t steps, std::uint64_t slots) {
    if (auto ok = detail::check_revolve_arguments(steps, slots); !ok) return ok.err();
    return detail::binomial_advances(steps, slots);
}

// The same minimum by dynamic programming, bottom-up (the test oracle, §1.2):
// F(1,c) = 0, F(l,1) = l(l−1)/2, F(l,c) = min_{1≤j<l} j + F(l−j, c−1) + F(j, c). O(l²·c).
inline constexpr std::uint64_t max_revolve_dp_cells = 1ULL << 22;
[[nodiscard]] constexpr result<std::uint64_t> revolve_advances_by_dp(std::uint64_t steps, std::uint64_t slots) {
    if (auto ok = detail::check_revolve_arguments(steps, slots); !ok) return ok.err();
    if ((steps + 1) * (slots + 1) > max_revolve_dp_cells)
        return detail::compose_error(errc::limit_exceeded, "revolve DP: table too large for ", steps, " steps");
    const std::uint64_t width = steps + 1;
    std::vector<std::uint64_t> table((slots + 1) * width, 0);  // table[c * width + l]
    for (std::uint64_t c = 1; c <= slots; ++c) {
        for (std::uint64_t l = 2; l <= steps; ++l) {
            if (c == 1) { table[c * width + l] = l * (l - 1) / 2; continue; }
            std::uint64_t best = ~std::uint64_t{0};
            for (std::uint64_t j = 1; j < l; ++j) {
                const std::uint64_t candidate = j + table[(c - 1) * width + (l - j)] + table[c * width + j];
                if (candidate < best) best = candidate;
            }
            table[c * width + l] = best;
        }
    }
    return table[slots * width + steps];
}

// The optimal action list: stores x_0, never holds more than `slots` checkpoints, and runs
// exactly revolve_count(steps, slots).advances advances (checked by simulate() in the tests).
// The split point is the first k with k + A(l−k, c−1) + A(k, c) = A(l, c); where sweeping from
// the held state is as cheap, it sweeps and keeps fewer checkpoints.
[[nodiscard]] constexpr result<schedule> revolve_schedule(std::uint64_t steps, std::uint64_t slots) {
    if (auto ok = detail::check_revolve_arguments(steps, slots); !ok) return ok.err();
    if (steps > max_revolve_schedule_steps)
        return detail::compose_error(errc::limit_exceeded, "revolve schedule: too many steps for an action list: ", steps);
    // Advances, one taped forward and one backward per step, stores/erases/restores (≤ 2 per step
    // and split): bounded by advances + 6·l.
    if (const auto count = detail::binomial_advances(steps, slots); count.advances + 6 * steps > max_schedule_actions)
        return detail::compose_error(errc::limit_exceeded, "revolve schedule: ", count.advances,
                                     " advances make the action list too long; use revolve_count, or more slots");
    auto decide = [](std::uint32_t first, std::uint32_t last, std::uint64_t budget) {
        const std::uint64_t length = last - first + 1;
        detail::split_decision split;
        if (budget <= 1 || length <= 1) return split;
        const std::uint64_t best = detail::binomial_advances(length, budget).advances;
        if (best == length * (length - 1) / 2) return split;  // sweeping is optimal too
        for (std::uint64_t k = 1; k < length; ++k) {
            if (k + detail::binomial_advances(length - k, budget - 1).advances
                  + detail::binomial_advances(k, budget).advances == best) {
                split.keep = static_cast<std::uint32_t>(first + k);
                split.right_budget = budget - 1;
                return split;
            }
        }
        return split;  // unreachable: the recurrence's minimum is attained by some k
    };
    return detail::build_reversal(static_cast<std::uint32_t>(steps), slots, decide);
}

} // namespace vramfit::checkpoint
