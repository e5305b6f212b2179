// vramfit/plan/request.hpp — what the planner is asked: the devices, host memory, disk, reserves,
// objective, machines, context wish and speed-model inputs, plus the engine's own settings
// (`typename Engine::settings`: llama.cpp's batch sizes, KV types, flash attention, mmap, ...).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/plan/device.hpp"
#include "vramfit/plan/speed.hpp"

namespace vramfit {

enum class plan_objective : std::uint8_t { fit, speed };

// "Not given": host RAM is then not checked.
inline constexpr bytes unlimited_memory{~std::uint64_t{0}};

// One model to place: one candidate per quantization.
template <class Engine>
struct basic_plan_candidate {
    std::string_view quant;              // "Q4_K_M"; "file" for a file as it is (copied into the result)
    typename Engine::model model;
};

template <class Engine>
struct basic_plan_request {
    std::vector<plan_device> gpus;        // one per device, in the engine's order; memory = capacity
    bytes host_ram = unlimited_memory;    // host memory the model may use
    bool allow_disk = true;               // page weights beyond host RAM from the file, where the engine can
    bytes reserve_per_device{};           // left free on every device
    std::vector<bytes> reserve_per_gpu;   // optional, one per device in `gpus` order, added to the above
                                          // (e.g. cuda_overhead_for(gpu).estimate)
    std::uint32_t n_ctx = 4096;           // 0 = the training context
    bool max_ctx = false;                 // find the largest context that fits (n_ctx is the least)
    std::uint32_t n_seq = 1;              // parallel sequences
    plan_objective objective = plan_objective::fit;
    std::uint32_t nodes = 1;              // identical machines the engine can reach (llama.cpp RPC)
    speed_inputs speed{};
    typename Engine::settings engine{};   // the engine's own settings
};

} // namespace vramfit
