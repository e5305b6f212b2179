// vramfit/plan/result.hpp — what the planner answers: per-device rows, the placement tier, the
// speed estimate, the alternatives it weighed and its decisions in words, plus the engine's
// settings for the choice (`typename Engine::choice`: llama.cpp's -ngl, --n-cpu-moe, KV types, ...).
// A result owns its text: it outlives the request and the candidates it was made from.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/text.hpp"
#include "vramfit/plan/request.hpp"
#include "vramfit/plan/speed.hpp"

namespace vramfit {

// Where the slowest-placed weight lives.
enum class plan_tier : std::uint8_t { gpu, host, disk, none };

[[nodiscard]] constexpr std::string_view to_string(plan_tier tier) noexcept {
    switch (tier) {
        case plan_tier::gpu: return "GPU";
        case plan_tier::host: return "GPU+CPU";
        case plan_tier::disk: return "GPU+CPU+disk";
        case plan_tier::none: return "does not fit";
    }
    return "?";
}

struct plan_device_row {
    std::string_view name;     // the engine's static device name ("CUDA0"), or "CPU"
    text gpu;                  // catalog id; empty for the CPU row
    std::uint32_t index = 0;   // position in the request's gpus (per node)
    std::uint32_t node = 0;    // 0: this machine
    std::uint32_t layers = 0;
    bool output_layer = false;
    bytes model{};
    bytes kv{};
    bytes compute{};           // the fixed cost (llama.cpp: compute buffer)
    bytes reserve{};
    bytes capacity{};          // unlimited_memory for a CPU row without a host RAM limit
    [[nodiscard]] constexpr bytes total() const noexcept { return model + kv + compute + reserve; }
    [[nodiscard]] constexpr bytes margin() const noexcept { return capacity - total(); }
};

template <class Engine>
struct basic_plan_alternative {
    text quant;
    std::size_t candidate = 0;
    std::uint32_t n_ctx = 0;
    std::uint32_t gpus_used = 0;
    std::uint32_t nodes_used = 1;
    plan_tier tier = plan_tier::none;
    bytes gpu_bytes{};
    bytes host_bytes{};
    bytes disk_bytes{};
    speed_estimate speed{};
    bool chosen = false;
    typename Engine::choice engine{};
};

template <class Engine>
struct basic_plan_result {
    text model;                     // the model's name
    text quant;
    std::size_t candidate = 0;
    std::uint32_t gpus_used = 0;
    std::uint32_t nodes_used = 1;
    std::uint32_t n_ctx = 0;        // as asked of the engine
    std::uint32_t n_seq = 1;
    std::uint32_t n_layer = 0;
    plan_tier tier = plan_tier::none;
    std::vector<std::uint32_t> gpu_indices;     // per used device: index in the request's gpus
    std::vector<std::uint32_t> gpu_nodes;       // per used device: its node
    std::vector<std::uint32_t> layers_per_gpu;  // units per used device, in sequence order
    std::vector<plan_device_row> devices;       // the devices used, then the CPU
    bytes host_bytes{};
    bytes disk_bytes{};
    speed_estimate speed{};
    bool compute_modelled = false;
    std::vector<basic_plan_alternative<Engine>> alternatives;  // chosen first
    std::vector<text> decisions;
    typename Engine::choice engine{};           // the settings the engine gets
};

} // namespace vramfit
