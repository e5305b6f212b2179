// vramfit/plan/engine.hpp — what the planner asks of an engine, and what an engine tells it.
//
// The planner (plan/plan.hpp) places a model as a sequence of units: the repeating layers
// 0..n_layer-1 and the output layer (unit n_layer). A placement puts the last `on_devices` units
// on devices, cut into contiguous blocks in device order, and the rest on the host; units below
// `split_on_host` may keep their splittable part (llama.cpp: the routed experts) on the host
// while the rest of the unit stays on its device. The engine says what each unit costs where
// (weight_costs, context_costs), which KV types it can try (its KV ladder), and checks the chosen
// placement with its exact model (verify). Each quantization is a candidate model of its own.
//
// The fixed per-device cost (llama.cpp: the CUDA compute buffer) depends on the placement: the
// planner searches with the engine's first figure (context_costs::device_fixed), then verifies
// the placement; when a device's verified fixed cost is larger, it searches again with the
// largest verified figure (plan.hpp, place_verified). Weights and KV come from the same functions
// in the search and in the verification, so they cannot disagree.
#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/text.hpp"
#include "vramfit/plan/device.hpp"

namespace vramfit {

// What an engine can do with a placement.
struct plan_capabilities {
    bool pipeline = true;             // the unit sequence split over several devices, in order
    bool host_units = true;           // whole units on the host (llama.cpp -ngl)
    bool host_splittable = false;     // a unit's splittable part on the host (llama.cpp --n-cpu-moe)
    bool nodes = false;               // other machines' devices (llama.cpp RPC)
    bool remote_first = false;        // those come first in the unit sequence (llama.cpp lists RPC devices first)
    std::uint32_t max_devices = 16;   // devices in all (llama.cpp: GGML_CUDA_MAX_DEVICES)
};

// One unit's weights.
struct layer_cost {
    std::uint64_t on_device = 0;        // bytes in a device buffer
    std::uint64_t splittable = 0;       // of which may stay on the host
    std::uint64_t on_host = 0;          // bytes in host memory when the unit is on the host
    std::uint64_t host_splittable = 0;  // of which the splittable part
    double read = 0;                    // weight bytes one decoded token reads (plan/speed.hpp)
    double read_splittable = 0;         // of which the splittable part
    double flops = 0;                   // per token
};

// Per candidate model: its units' weights.
struct weight_costs {
    std::vector<layer_cost> layers;   // n_layer + 1 entries; the last is the output layer
    std::uint64_t host_fixed = 0;     // always in host memory (llama.cpp: the input layer)
    std::uint64_t weight_bytes = 0;   // every weight's data: the quality order of candidates
    std::uint32_t n_embd = 0;         // activation width (transfers between devices)
    bool has_splittable = false;

    [[nodiscard]] constexpr std::uint32_t n_layer() const noexcept { return static_cast<std::uint32_t>(layers.size()) - 1; }
};

// One unit's KV cache.
struct kv_cost {
    std::uint64_t device = 0;  // bytes in a device buffer
    std::uint64_t host = 0;    // in host memory
    double read = 0;           // bytes one token of one sequence reads, context half full
    double flops = 0;          // attention per token, context half full
};

// Per (candidate, context, KV type).
struct context_costs {
    std::vector<kv_cost> layers;      // n_layer + 1 entries (the output layer has none)
    std::uint64_t device_fixed = 0;   // per device in use, before verification (see the header)
    std::uint64_t host_fixed = 0;     // host memory when units run on the host
    std::uint32_t n_ctx = 0;          // the context as the engine sizes it (llama.cpp: padded, all sequences)
    std::uint32_t n_ubatch = 512;     // tokens per prompt step (plan/speed.hpp)
    bool modelled = true;             // the engine models the fixed cost (else 0 is charged)
};

// The context asked of the engine.
struct context_wish {
    std::uint32_t n_ctx = 0;
    std::uint32_t n_seq = 1;
};

// The engine's KV types to try, best first.
template <class Choice>
struct kv_ladder {
    std::vector<Choice> steps;
    bool fixed = false;        // the user fixed it (one step)
    std::size_t widen = 1;     // steps the largest-context search tries before the rest
};

// A placement, as the engine is asked to verify it.
struct plan_layout {
    std::vector<std::uint32_t> counts;  // units per device, in sequence order
    std::uint32_t on_devices = 0;       // the last on_devices units are on the devices
    std::uint32_t split_on_host = 0;    // units below it keep their splittable part on the host
};

// What the engine's exact model says one device holds.
struct device_usage {
    std::uint32_t layers = 0;
    bool output_layer = false;
    bytes model{};
    bytes kv{};
    bytes fixed{};  // the placement-dependent fixed cost (llama.cpp: the CUDA compute buffer)
};

struct verification {
    std::vector<device_usage> devices;  // one per device of the layout
    bytes host_fixed{};                 // the host's fixed cost, as the exact model has it
    bool host_fixed_known = false;      // else the planner keeps context_costs::host_fixed
};

template <class E>
concept planner_engine = requires(E& e, const typename E::model& m, const typename E::settings& s,
                                  const typename E::kv_choice& kv, const context_wish& wish, const plan_layout& layout,
                                  std::span<const plan_device> devices, std::span<const bytes> reserves, text& note) {
    { E::capabilities } -> std::convertible_to<plan_capabilities>;
    { E::model_name(m) } -> std::convertible_to<std::string_view>;
    { E::training_context(m) } -> std::convertible_to<std::uint32_t>;
    { E::device_name(0u) } -> std::convertible_to<std::string_view>;  // a static name ("CUDA0")
    { E::weights(m) } -> std::same_as<result<weight_costs>>;
    { E::ladder(s) } -> std::same_as<kv_ladder<typename E::kv_choice>>;
    { E::disk_paging(s) } -> std::convertible_to<bool>;  // host weights beyond RAM page in from the file
    { e.context(m, wish, kv, s) } -> std::same_as<result<context_costs>>;
    { e.verify(m, wish, kv, s, layout, devices, reserves) } -> std::same_as<result<verification>>;
    { E::choice_of(m, wish, kv, s, layout) } -> std::same_as<typename E::choice>;
    // Decision notes in the engine's words.
    E::explain_split(note, layout);
    E::explain_offload(note, layout, 0u);
    E::explain_kv(note, kv, s, false, std::size_t{0});
    E::explain_nodes(note);
};

} // namespace vramfit
