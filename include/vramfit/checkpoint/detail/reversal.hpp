// vramfit/checkpoint/detail/reversal.hpp — turns a recursive split decision into an action list.
//
// Revolve and the heterogeneous programme share one shape (Griewank & Walther 2000; Herrmann et
// al. 2019): to reverse steps i..j with x_i held, either sweep (re-advance from x_i before every
// backward step) or advance to some k, keep x_k, reverse k..j with the smaller budget, drop x_k
// and reverse i..k-1 with the full budget. Only the decision differs, so it is a parameter.
// An explicit work stack replaces recursion: compilers cap constexpr recursion at 512 frames.
#pragma once

#include <cstdint>
#include <vector>

#include "vramfit/checkpoint/schedule.hpp"

namespace vramfit::checkpoint::detail {

struct split_decision {
    std::uint32_t keep = 0;        // 0: sweep; otherwise the state x_keep to checkpoint (i < keep ≤ j)
    std::uint64_t right_budget = 0;  // budget for reversing keep..j
};

// decide(i, j, budget) -> split_decision. The result stores x_0 first and erases it last.
template <class Decide>
constexpr schedule build_reversal(std::uint32_t steps, std::uint64_t budget, Decide decide) {
    struct task {
        bool erase = false;
        std::uint32_t first = 0, last = 0;  // reverse steps first..last, or erase x_first
        std::uint64_t budget = 0;
    };
    schedule actions;
    actions.push_back({action_kind::store, 0});
    std::vector<task> pending;
    pending.push_back({false, 0, steps - 1, budget});
    std::uint32_t working = 0;  // index of the working state; steps + 1 means "none"
    while (!pending.empty()) {
        const task current = pending.back();
        pending.pop_back();
        if (current.erase) {
            actions.push_back({action_kind::erase, current.first});
            continue;
        }
        const std::uint32_t i = current.first, j = current.last;
        if (working != i) actions.push_back({action_kind::restore, i});
        working = i;
        const split_decision split = decide(i, j, current.budget);
        if (split.keep == 0) {
            for (std::uint32_t t = j + 1; t-- > i;) {
                if (working != i) actions.push_back({action_kind::restore, i});
                append_advances(actions, i, t - i);
                actions.push_back({action_kind::forward_taped, t});
                actions.push_back({action_kind::backward, t});
                working = t + 1;
            }
            continue;
        }
        append_advances(actions, i, split.keep - i);
        actions.push_back({action_kind::store, split.keep});
        working = split.keep;
        pending.push_back({false, i, split.keep - 1, current.budget});   // left part, last
        pending.push_back({true, split.keep, 0, 0});                      // then drop x_keep
        pending.push_back({false, split.keep, j, split.right_budget});   // right part, first
    }
    actions.push_back({action_kind::erase, 0});
    return actions;
}

} // namespace vramfit::checkpoint::detail
