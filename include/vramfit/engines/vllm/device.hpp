// vramfit/engines/vllm/device.hpp — what vLLM reads of a GPU: cudaMemGetInfo's total (the base of
// gpu_memory_utilization), its name (batch defaults), its compute capability (dtype, kernels).
//
// vLLM sizes everything from `torch.cuda.mem_get_info()`'s total (MemorySnapshot.measure,
// vllm/utils/mem_utils.py @0.33.0; Worker.determine_num_available_blocks @0.6.x), which is what
// CUDA reports, below the nvidia-smi total a catalog GPU carries (core/device.hpp). Where a vLLM
// (or PyTorch) log printed that total for a catalog GPU it is used as printed; otherwise the
// catalog total less core/cuda_overhead.hpp's driver-reserve estimate.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/cuda_overhead.hpp"
#include "vramfit/core/detail/ascii.hpp"
#include "vramfit/core/device.hpp"

namespace vramfit::vllm {

struct printed_total {
    std::string_view catalog_id;
    std::uint32_t centi_gib = 0;  // as printed, GiB with two decimals
    std::string_view source;
};

// CUDA totals as vLLM / PyTorch printed them (two decimals: ±5 MiB).
inline constexpr std::array<printed_total, 5> printed_totals{{
    {"rtx-3090", 2358, "https://github.com/vllm-project/vllm/issues/10517 (total_gpu_memory=23.58GiB, vLLM 0.6.4)"},
    {"h100-sxm", 7922, "https://github.com/vllm-project/vllm/pull/10511 (total_gpu_memory 79.22GiB, H100 80GB)"},
    {"h100-pcie", 7922, "https://github.com/vllm-project/vllm/pull/10511 (the same 80 GB part's figure)"},
    {"l40s", 4442, "vLLM 0.10.2 worker line 'Free memory on device (43.93/44.42 GiB)' on an L40S"},
    {"a100-80gb", 7925, "https://github.com/levihsu/OOTDiffusion/issues/235 (79.25 GiB total capacity, A100 80 GB)"},
}};

// The total vLLM multiplies by gpu_memory_utilization.
[[nodiscard]] constexpr bytes cuda_total_memory(const device& gpu) noexcept {
    if (gpu.total_from_cuda) return gpu.total_memory;
    for (const auto& p : printed_totals) {
        if (gpu.catalog_id.view() == p.catalog_id) return bytes{std::uint64_t{p.centi_gib} * 1073741824ULL / 100ULL};
    }
    return gpu.total_memory - cuda_process_overhead(gpu).driver_reserve;
}

// Compute capability as vLLM compares it (80 for 8.0, 121 for 12.1).
[[nodiscard]] constexpr int capability(const device& gpu) noexcept { return gpu.cc_major * 10 + gpu.cc_minor; }

// BF16 needs compute capability 8.0 (Platform.check_if_supports_dtype / _get_and_verify_dtype:
// "Casting torch.bfloat16 to torch.float16" on a 7.5 device in the 0.30.0 log).
[[nodiscard]] constexpr bool supports_bf16(const device& gpu) noexcept { return capability(gpu) >= 80; }

// Data-centre Blackwell (SM100): the CUDA-graph capture limit doubles (VllmConfig._set_cudagraph_sizes).
[[nodiscard]] constexpr bool is_sm100(const device& gpu) noexcept { return gpu.cc_major == 10; }

// get_batch_defaults' device classes (vllm/engine/arg_utils.py @0.11.0, @0.33.0): by total GiB
// and by name ("a100" and GB10 are kept in the small class).
enum class batch_class : std::uint8_t { small, large, huge };

[[nodiscard]] constexpr batch_class batch_class_of(const device& gpu) noexcept {
    const double gib = cuda_total_memory(gpu).gib();
    const bool a100 = vramfit::detail::contains_ignoring_case(gpu.name.view(), "a100");
    const bool gb10 = vramfit::detail::contains_ignoring_case(gpu.name.view(), "gb10");
    if (gib >= 160.0) return batch_class::huge;
    if (gib >= 70.0 && !a100 && !gb10) return batch_class::large;
    return batch_class::small;
}

} // namespace vramfit::vllm
