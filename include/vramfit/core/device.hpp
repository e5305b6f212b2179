// vramfit/core/device.hpp — one GPU as the planner sees it.
//
// Filled either from a catalog entry or live from the CUDA runtime (runtime/: query_devices),
// so `plan`/`estimate` can work with the memory a device really has free right now.
#pragma once

#include <cstdint>

#include "vramfit/core/fixed_string.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit {

struct device_info {
    fixed_string<256> name{};          // cudaDeviceProp::name is 256 bytes
    fixed_string<48> uuid{};           // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", nvidia-smi's form
    fixed_string<32> pci_bus_id{};     // "0000:65:00.0"
    int ordinal = -1;                          // index as the process sees it (after CUDA_VISIBLE_DEVICES)
    int compute_major = 0;
    int compute_minor = 0;
    int multiprocessors = 0;
    int memory_bus_width_bits = 0;
    std::uint64_t memory_clock_khz = 0;
    bytes total_memory{};
    bytes free_memory{};                       // at query time; equals total_memory for catalog entries
    std::uint64_t bandwidth_bytes_per_second = 0;
    bool live = false;                         // true when free_memory was measured
};

// Peak DRAM bandwidth from bus width and memory clock: 2 transfers per clock (DDR signalling),
// the convention of the CUDA samples' deviceQuery/bandwidthTest (2 × clock × width / 8).
[[nodiscard]] constexpr std::uint64_t peak_bandwidth_bytes_per_second(std::uint64_t memory_clock_khz,
                                                                       int bus_width_bits) noexcept {
    if (bus_width_bits <= 0) return 0;
    return 2ULL * memory_clock_khz * 1000ULL * static_cast<std::uint64_t>(bus_width_bits) / 8ULL;
}

} // namespace vramfit
