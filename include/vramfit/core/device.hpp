// vramfit/core/device.hpp — one GPU, as every engine and the planner see it.
//
// Filled from a catalog entry (catalog/gpus.hpp: to_device) or live from the CUDA runtime
// (runtime/: query_devices). The two differ in what the memory figures mean, and the type says
// which it holds instead of forging one into the other:
//  * a catalog device has a total (the nvidia-smi figure) and no measurement; the CUDA runtime
//    never hands out `driver_reserve` of that total, so an engine charges it;
//  * a live device has cudaMemGetInfo's total and free memory: free already excludes the driver's
//    reserve and whatever other processes hold, so nothing of that is charged again.
#pragma once

#include <cstdint>
#include <optional>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/fixed_string.hpp"

namespace vramfit {

struct device {
    fixed_string<256> name{};          // cudaDeviceProp::name (256 bytes), or the catalog's name
    fixed_string<32> catalog_id{};     // "rtx-3090"; empty for a live device
    fixed_string<48> uuid{};           // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", nvidia-smi's form
    fixed_string<32> pci_bus_id{};     // "0000:65:00.0"
    int ordinal = -1;                  // index as the process sees it (after CUDA_VISIBLE_DEVICES)
    int cc_major = 0;                  // CUDA compute capability
    int cc_minor = 0;
    int sm_count = 0;

    bytes total_memory{};                // catalog: nvidia-smi total; live: cudaMemGetInfo total
    // total_memory is CUDA's own figure (cudaMemGetInfo / totalGlobalMem): the driver's reserve is
    // already out of it. Live devices set it; catalog devices hold the larger nvidia-smi total.
    bool total_from_cuda = false;
    std::optional<bytes> free_memory{};  // live: cudaMemGetInfo free at query time; catalog: none
    // Catalog devices: the part of total_memory the CUDA runtime never reports, where it was
    // measured for this card (lowest and highest measurement); unset: estimate it
    // (core/cuda_overhead.hpp). Live devices leave it unset: their free memory excludes it.
    std::optional<bytes> driver_reserve_low{};
    std::optional<bytes> driver_reserve_high{};

    double bandwidth_gb_s = 0;         // peak memory bandwidth, GB/s (10^9)
    double fp32_tflops = 0;            // non-tensor FP32
    double fp16_tflops = 0;            // dense tensor FP16 with FP32 accumulate, 0 if none
    double bf16_tflops = 0;            // dense tensor BF16, 0 if unsupported
    int pcie_gen = 0;                  // host link
    int pcie_lanes = 0;
    double nvlink_gb_s = 0;            // NVLink per GPU, both directions; 0 if none

    int memory_bus_width_bits = 0;     // live only (cudaDevAttrGlobalMemoryBusWidth)
    std::uint64_t memory_clock_khz = 0;  // live only (cudaDevAttrMemoryClockRate)

    // Whether the memory figures were measured on this machine just now.
    [[nodiscard]] constexpr bool measured() const noexcept { return free_memory.has_value(); }
    // What an engine's buffers (and its CUDA context) may take: the free memory when measured,
    // else the total.
    [[nodiscard]] constexpr bytes capacity() const noexcept { return free_memory ? *free_memory : total_memory; }
};

// How reports name a device: its catalog id ("rtx-3090"), "cudaN-live" for a device this
// machine reports, else empty.
[[nodiscard]] constexpr fixed_string<32> device_label(const device& d) {
    if (!d.catalog_id.empty() || d.ordinal < 0) return d.catalog_id;
    fixed_string<32> label{"cuda"};
    label.append_number(static_cast<unsigned long long>(d.ordinal));
    label.append("-live");
    return label;
}

// Peak DRAM bandwidth from bus width and memory clock: 2 transfers per clock (DDR signalling),
// the convention of the CUDA samples' deviceQuery/bandwidthTest (2 × clock × width / 8).
[[nodiscard]] constexpr std::uint64_t peak_bandwidth_bytes_per_second(std::uint64_t memory_clock_khz,
                                                                       int bus_width_bits) noexcept {
    if (bus_width_bits <= 0) return 0;
    return 2ULL * memory_clock_khz * 1000ULL * static_cast<std::uint64_t>(bus_width_bits) / 8ULL;
}

} // namespace vramfit
