// vramfit/checkpoint/segments.hpp — segment checkpointing: PyTorch checkpoint_sequential and
// Chen et al.'s √n segments.
//
// Both split the chain into segments and keep only each segment's input; in the backward pass
// a segment is run forward again, taped, then reversed. The last segment is taped on the first
// pass and never recomputed (pytorch/pytorch torch/utils/checkpoint.py `checkpoint_sequential`
// runs the final segment outside checkpoint()). Memory is counted in state/tape bytes: a
// segment's input, once restored, becomes the input of its first taped step and is counted
// once, as torch.utils.checkpoint.checkpoint_sequential counts it.
#pragma once

#include <cstdint>
#include <vector>

#include "vramfit/checkpoint/schedule.hpp"
#include "vramfit/core/error.hpp"

namespace vramfit::checkpoint {

// About 4 actions per step: keeps schedules within max_schedule_actions.
inline constexpr std::uint64_t max_segment_steps = 1ULL << 20;

struct segment_count {
    std::uint64_t segments = 0;
    std::uint64_t recomputed_forwards = 0;  // = schedule_cost::extra_forwards
    std::uint64_t peak_units = 0;           // checkpoints + tapes held at once, one unit per state
};

namespace detail {
// Segment starts s_0 = 0 < s_1 < … < s_{S-1} < n. Counts for uniform unit-size chains:
// forward pass holds S−1 checkpoints + the last segment's tapes; the backward of segment j
// holds j checkpoints + its own tapes.
constexpr segment_count count_segments(const std::vector<std::uint64_t>& starts, std::uint64_t steps) {
    segment_count count;
    count.segments = starts.size();
    const std::uint64_t last_length = steps - starts.back();
    count.recomputed_forwards = steps - last_length;
    count.peak_units = (starts.size() - 1) + last_length;
    for (std::uint64_t j = 0; j + 1 < starts.size(); ++j) {
        const std::uint64_t held = j + (starts[j + 1] - starts[j]);
        if (held > count.peak_units) count.peak_units = held;
    }
    return count;
}

constexpr schedule segmented_schedule(const std::vector<std::uint64_t>& starts, std::uint64_t steps) {
    schedule actions;
    const auto at = [](std::uint64_t k) { return static_cast<std::uint32_t>(k); };
    // Forward: every segment but the last runs untaped, keeping only its input.
    for (std::size_t j = 0; j + 1 < starts.size(); ++j) {
        actions.push_back({action_kind::store, at(starts[j])});
        append_advances(actions, starts[j], starts[j + 1] - starts[j]);
    }
    for (std::uint64_t k = starts.back(); k < steps; ++k) actions.push_back({action_kind::forward_taped, at(k)});
    for (std::uint64_t k = steps; k-- > starts.back();) actions.push_back({action_kind::backward, at(k)});
    // Backward: recompute each kept segment taped, then reverse it.
    for (std::size_t j = starts.size() - 1; j-- > 0;) {
        actions.push_back({action_kind::restore, at(starts[j])});
        actions.push_back({action_kind::erase, at(starts[j])});
        for (std::uint64_t k = starts[j]; k < starts[j + 1]; ++k) actions.push_back({action_kind::forward_taped, at(k)});
        for (std::uint64_t k = starts[j + 1]; k-- > starts[j];) actions.push_back({action_kind::backward, at(k)});
    }
    return actions;
}

// torch.utils.checkpoint.checkpoint_sequential: segment_size = n // segments; the first
// segments−1 segments have that size, the last takes the rest. n // segments == 0 makes
// PyTorch's range() step zero (a ValueError), so segments > n is rejected here too.
constexpr result<std::vector<std::uint64_t>> sequential_starts(std::uint64_t steps, std::uint64_t segments) {
    if (steps == 0) return error(errc::invalid_argument, "checkpoint_sequential: a chain needs at least one step");
    if (steps > max_segment_steps) return detail::compose_error(errc::limit_exceeded, "checkpoint_sequential: too many steps: ", steps);
    if (segments == 0 || segments > steps)
        return compose_error(errc::invalid_argument, "checkpoint_sequential: segments must be between 1 and the step count ",
                             steps, ", got ", segments);
    const std::uint64_t size = steps / segments;
    std::vector<std::uint64_t> starts;
    for (std::uint64_t j = 0; j < segments; ++j) starts.push_back(j * size);
    return starts;
}

constexpr std::uint64_t ceil_sqrt(std::uint64_t n) noexcept {
    std::uint64_t root = 0;
    while (root * root < n) ++root;
    return root;
}

constexpr result<std::vector<std::uint64_t>> sqrt_n_starts(std::uint64_t steps) {
    if (steps == 0) return error(errc::invalid_argument, "sqrt(n) checkpointing: a chain needs at least one step");
    if (steps > max_segment_steps) return detail::compose_error(errc::limit_exceeded, "sqrt(n) checkpointing: too many steps: ", steps);
    const std::uint64_t length = ceil_sqrt(steps);
    std::vector<std::uint64_t> starts;
    for (std::uint64_t start = 0; start < steps; start += length) starts.push_back(start);
    return starts;
}
} // namespace detail

// PyTorch checkpoint_sequential(functions, segments) over a chain of `steps` layers.
[[nodiscard]] constexpr result<segment_count> sequential_count(std::uint64_t steps, std::uint64_t segments) {
    auto starts = detail::sequential_starts(steps, segments);
    if (!starts) return starts.err();
    return detail::count_segments(*starts, steps);
}
[[nodiscard]] constexpr result<schedule> sequential_schedule(std::uint64_t steps, std::uint64_t segments) {
    auto starts = detail::sequential_starts(steps, segments);
    if (!starts) return starts.err();
    return detail::segmented_schedule(*starts, steps);
}

// Chen et al. 2016, "Training deep nets with sublinear memory cost": segments of ⌈√n⌉ steps,
// so about 2√n states are held and each step is recomputed at most once.
[[nodiscard]] constexpr result<segment_count> sqrt_n_count(std::uint64_t steps) {
    auto starts = detail::sqrt_n_starts(steps);
    if (!starts) return starts.err();
    return detail::count_segments(*starts, steps);
}
[[nodiscard]] constexpr result<schedule> sqrt_n_schedule(std::uint64_t steps) {
    auto starts = detail::sqrt_n_starts(steps);
    if (!starts) return starts.err();
    return detail::segmented_schedule(*starts, steps);
}

} // namespace vramfit::checkpoint
