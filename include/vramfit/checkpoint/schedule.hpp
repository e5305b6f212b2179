// vramfit/checkpoint/schedule.hpp — a checkpoint schedule as a list of actions, and its exact cost.
//
// Every schedule family in this directory (Revolve, √n segments, PyTorch's
// checkpoint_sequential, the heterogeneous-chain programme) emits the same action list, and
// one simulator measures what a list costs. So the closed forms of each family are checked
// against an independent count, and the executor (executor.hpp) runs exactly what was costed.
//
// Conventions (Revolve's numbering, Griewank and Walther 2000): a chain has
// `l` steps F_0 … F_{l-1} and states x_0 … x_l with x_{k+1} = F_k(x_k). Backward step B_k needs
// x_k and whatever F_k recorded ("tape"). A checkpoint holds a state x_k; the state being
// computed on ("working state") and x_l are not checkpoints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vramfit/core/error.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::checkpoint {

enum class action_kind : std::uint8_t {
    store,          // keep the working state x_k as a checkpoint (it must be x_k)
    restore,        // working state := checkpoint x_k
    erase,          // drop checkpoint x_k
    advance,        // F_k without recording: x_k → x_{k+1}; the recomputation every schedule pays for
    forward_taped,  // F_k recording its tape for B_k: x_k → x_{k+1}; the tape lives until backward(k)
    backward,       // B_k: consumes the tape of step k; must run in order l-1, l-2, …, 0
};

[[nodiscard]] constexpr std::string_view to_string(action_kind kind) noexcept {
    switch (kind) {
        case action_kind::store: return "store";
        case action_kind::restore: return "restore";
        case action_kind::erase: return "erase";
        case action_kind::advance: return "advance";
        case action_kind::forward_taped: return "forward_taped";
        case action_kind::backward: return "backward";
    }
    return "?";
}

// `index` is the state x_k for store/restore/erase and the step F_k/B_k for the others.
struct action {
    action_kind kind = action_kind::advance;
    std::uint32_t index = 0;
    friend constexpr bool operator==(const action&, const action&) = default;
};

using schedule = std::vector<action>;

// Builders refuse to emit more actions than this (32 MiB of actions): a schedule's length grows
// with its recomputation, which for one slot is quadratic in the chain length.
inline constexpr std::uint64_t max_schedule_actions = 1ULL << 22;

// What a chain costs: per step, the forward cost (any unit: time, FLOPs, 1 for uniform chains)
// and the size of its input state x_k (what a checkpoint of x_k holds) and of its tape.
struct chain_profile {
    std::vector<std::uint64_t> forward_cost;  // l entries
    std::vector<bytes> state_size;            // l entries: x_0 … x_{l-1}
    std::vector<bytes> tape_size;             // l entries

    [[nodiscard]] constexpr std::size_t steps() const noexcept { return forward_cost.size(); }
};

// l identical steps, each state and tape `size` bytes (1 byte counts slots).
[[nodiscard]] constexpr chain_profile uniform_chain(std::size_t steps, bytes size = bytes{1}) {
    chain_profile chain;
    chain.forward_cost.assign(steps, 1);
    chain.state_size.assign(steps, size);
    chain.tape_size.assign(steps, size);
    return chain;
}

struct schedule_cost {
    std::uint64_t forward_evaluations = 0;  // every F_k run, taped or not (Gruslys et al.'s Q)
    std::uint64_t extra_forwards = 0;       // forward_evaluations − l (Revolve's numforw)
    std::uint64_t extra_forward_cost = 0;   // Σ forward_cost over all F runs − Σ forward_cost
    std::uint64_t stores = 0;
    std::uint64_t restores = 0;
    std::size_t peak_checkpoints = 0;       // most checkpoints held at once (x_0's counts)
    bytes peak_checkpoint_bytes{};          // most checkpoint bytes held at once
    bytes peak_bytes{};                     // most checkpoint + tape bytes held at once
};

namespace detail {
inline constexpr std::uint64_t no_number = ~std::uint64_t{0};

// "<first><n1><second><n2><third>", numbers skipped when no_number.
constexpr error compose_error(errc code, std::string_view first, std::uint64_t n1 = no_number,
                              std::string_view second = {}, std::uint64_t n2 = no_number, std::string_view third = {}) {
    error failure{code, first};
    if (n1 != no_number) failure.with_number(n1);
    failure.with(second);
    if (n2 != no_number) failure.with_number(n2);
    failure.with(third);
    return failure;
}

constexpr error schedule_error(std::size_t position, std::string_view what, std::uint32_t index) {
    return error{errc::invalid_argument, "checkpoint schedule, action "}.with_number(position).with(": ").with(what)
        .with(" (index ").with_number(index).with(")");
}
} // namespace detail

// Runs the schedule symbolically and checks it is valid: every step's backward runs exactly
// once, in order, from a tape of the right state; nothing reads a state it does not have.
[[nodiscard]] constexpr result<schedule_cost> simulate(const schedule& actions, const chain_profile& chain) {
    const std::size_t steps = chain.steps();
    if (steps == 0) return error(errc::invalid_argument, "checkpoint schedule: the chain has no steps");
    if (chain.state_size.size() != steps || chain.tape_size.size() != steps)
        return error(errc::invalid_argument, "checkpoint schedule: chain profile arrays differ in length");
    if (steps > 0xFFFFFFFFull) return error(errc::limit_exceeded, "checkpoint schedule: too many steps");

    schedule_cost cost;
    std::vector<std::uint8_t> stored(steps, 0), taped(steps, 0);  // not vector<bool>: Clang 14 cannot evaluate it
    std::size_t checkpoints = 0;
    bytes checkpoint_bytes{}, tape_bytes{};
    std::uint64_t working = 0;   // index of the working state, valid when has_working
    bool has_working = true;     // x_0 is the input
    std::uint64_t next_backward = steps;  // backward(k) must have k == next_backward − 1
    std::uint64_t total_cost = 0;
    for (auto c : chain.forward_cost) total_cost += c;
    std::uint64_t spent_cost = 0;

    for (std::size_t position = 0; position < actions.size(); ++position) {
        const action step = actions[position];
        const std::uint32_t k = step.index;
        if (k >= steps) return detail::schedule_error(position, "index past the end of the chain", k);
        switch (step.kind) {
            case action_kind::store:
                if (!has_working || working != k) return detail::schedule_error(position, "store of a state that is not the working state", k);
                if (stored[k]) return detail::schedule_error(position, "state stored twice", k);
                stored[k] = 1;
                ++checkpoints;
                checkpoint_bytes += chain.state_size[k];
                ++cost.stores;
                break;
            case action_kind::restore:
                if (!stored[k]) return detail::schedule_error(position, "restore of a state that is not stored", k);
                working = k;
                has_working = true;
                ++cost.restores;
                break;
            case action_kind::erase:
                if (!stored[k]) return detail::schedule_error(position, "erase of a state that is not stored", k);
                stored[k] = 0;
                --checkpoints;
                checkpoint_bytes -= chain.state_size[k];
                break;
            case action_kind::advance:
            case action_kind::forward_taped:
                if (!has_working || working != k) return detail::schedule_error(position, "forward step without its input state", k);
                if (k >= next_backward) return detail::schedule_error(position, "forward step past the backward sweep", k);
                ++cost.forward_evaluations;
                spent_cost += chain.forward_cost[k];
                working = k + 1;
                if (step.kind == action_kind::forward_taped) {
                    if (taped[k]) return detail::schedule_error(position, "step taped twice", k);
                    taped[k] = 1;
                    tape_bytes += chain.tape_size[k];
                }
                break;
            case action_kind::backward:
                if (k + 1 != next_backward) return detail::schedule_error(position, "backward step out of order", k);
                if (!taped[k]) return detail::schedule_error(position, "backward step without a tape", k);
                taped[k] = 0;
                tape_bytes -= chain.tape_size[k];
                next_backward = k;
                break;
        }
        if (checkpoints > cost.peak_checkpoints) cost.peak_checkpoints = checkpoints;
        if (checkpoint_bytes > cost.peak_checkpoint_bytes) cost.peak_checkpoint_bytes = checkpoint_bytes;
        if (checkpoint_bytes + tape_bytes > cost.peak_bytes) cost.peak_bytes = checkpoint_bytes + tape_bytes;
    }
    if (next_backward != 0)
        return detail::compose_error(errc::invalid_argument, "checkpoint schedule: ends before backward step ", next_backward - 1);
    cost.extra_forwards = cost.forward_evaluations - steps;
    cost.extra_forward_cost = spent_cost - total_cost;
    return cost;
}

namespace detail {
// Emits `count` advances from the working state x_from.
constexpr void append_advances(schedule& actions, std::uint64_t from, std::uint64_t count) {
    for (std::uint64_t i = 0; i < count; ++i)
        actions.push_back({action_kind::advance, static_cast<std::uint32_t>(from + i)});
}
} // namespace detail

} // namespace vramfit::checkpoint
