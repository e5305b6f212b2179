// vramfit/checkpoint/executor.hpp — runs a checkpoint schedule over a real chain of layers.
//
// The schedule decides; the executor only carries it out against a checkpoint store (the
// runtime's checkpoint_pool, or anything with the same three calls) and counts what it did,
// so a caller can compare the measured peak and recomputation with simulate()'s prediction.
// Header-only and independent of runtime/: the store is a template parameter.
//
// Chain (what a model provides), for steps k = 0 … l−1 and states x_0 … x_l:
//   std::size_t steps() const;
//   bytes state_size(std::size_t k) const;                       // size of x_k, k ≤ l
//   void forward(std::size_t k, const std::byte* x_k, std::byte* x_k1);
//   void loss_gradient(const std::byte* x_l, std::byte* gradient_x_l);
//   void backward(std::size_t k, const std::byte* x_k, const std::byte* gradient_x_k1, std::byte* gradient_x_k);
// backward() gets the step's input (its tape) and may recompute internals from it; it
// accumulates parameter gradients itself.
//
// Store: save(key, const void*, bytes), restore(key, void*) returning something with ok()
// and err().message(); erase(key) returning bool; optionally synchronize() (called after a
// restore, before the restored state is read). The key of x_k is k.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "vramfit/checkpoint/schedule.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::checkpoint {

struct execution_report {
    std::uint64_t forward_evaluations = 0;
    std::uint64_t extra_forwards = 0;      // forward_evaluations − l: the recomputation paid
    std::uint64_t saves = 0;
    std::uint64_t restores = 0;
    bytes peak_tape_bytes{};               // most step inputs held for backward at once
    std::vector<std::byte> input_gradient; // dL/dx_0
};

namespace detail {
inline error store_error(std::string_view what, std::uint32_t index, std::string_view message) {
    return error{errc::io, "checkpoint executor: "}.with(what).with(" of state ").with_number(index).with(" failed: ")
        .with(message);
}
} // namespace detail

template <class Chain>
[[nodiscard]] chain_profile profile_of(const Chain& chain) {
    chain_profile profile;
    for (std::size_t k = 0; k < chain.steps(); ++k) {
        profile.forward_cost.push_back(1);
        profile.state_size.push_back(chain.state_size(k));
        profile.tape_size.push_back(chain.state_size(k));
    }
    return profile;
}

// Runs `actions` on `chain` from the input state `input` (state_size(0) bytes).
template <class Chain, class Store>
[[nodiscard]] result<execution_report> execute(const schedule& actions, Chain& chain, Store& store, const std::byte* input) {
    const std::size_t steps = chain.steps();
    if (input == nullptr) return error(errc::invalid_argument, "checkpoint executor: null input state");
    // Reject an invalid schedule before it touches the store.
    if (auto checked = simulate(actions, profile_of(chain)); !checked) return checked.err();

    std::uint64_t largest = 0;
    for (std::size_t k = 0; k <= steps; ++k) largest = std::max(largest, chain.state_size(k).count());
    std::vector<std::byte> working(largest), next(largest), gradient(largest), gradient_next(largest);
    std::vector<std::vector<std::byte>> tapes(steps);
    std::memcpy(working.data(), input, chain.state_size(0).count());

    execution_report report;
    bytes tape_bytes{};
    const auto store_failure = [](std::string_view what, std::uint32_t index, std::string_view message) {
        return detail::store_error(what, index, message);
    };
    for (const action& step : actions) {
        const std::uint32_t k = step.index;
        switch (step.kind) {
            case action_kind::store: {
                auto saved = store.save(k, working.data(), chain.state_size(k));
                if (!saved.ok()) return store_failure("save", k, saved.err().message());
                ++report.saves;
                break;
            }
            case action_kind::restore: {
                auto restored = store.restore(k, working.data());
                if (!restored.ok()) return store_failure("restore", k, restored.err().message());
                if constexpr (requires { store.synchronize(); }) {
                    auto done = store.synchronize();
                    if (!done.ok()) return store_failure("restore", k, done.err().message());
                }
                ++report.restores;
                break;
            }
            case action_kind::erase:
                (void)store.erase(k);
                break;
            case action_kind::forward_taped:
                tapes[k].assign(working.begin(), working.begin() + static_cast<std::ptrdiff_t>(chain.state_size(k).count()));
                tape_bytes += chain.state_size(k);
                report.peak_tape_bytes = std::max(report.peak_tape_bytes, tape_bytes);
                [[fallthrough]];
            case action_kind::advance:
                chain.forward(k, working.data(), next.data());
                std::swap(working, next);
                ++report.forward_evaluations;
                if (step.kind == action_kind::forward_taped && k + 1 == steps) chain.loss_gradient(working.data(), gradient.data());
                break;
            case action_kind::backward:
                chain.backward(k, tapes[k].data(), gradient.data(), gradient_next.data());
                std::swap(gradient, gradient_next);
                tape_bytes -= chain.state_size(k);
                tapes[k].clear();
                tapes[k].shrink_to_fit();
                break;
        }
    }
    report.extra_forwards = report.forward_evaluations - steps;
    report.input_gradient.assign(gradient.begin(), gradient.begin() + static_cast<std::ptrdiff_t>(chain.state_size(0).count()));
    return report;
}

} // namespace vramfit::checkpoint
