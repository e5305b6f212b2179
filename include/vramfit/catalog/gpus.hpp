// vramfit/catalog/gpus.hpp — built-in NVIDIA GPUs: what one CUDA device offers.
//
// Every figure is per CUDA device (a Tesla K80 board is two devices), copied from a cited
// NVIDIA datasheet, product page or architecture whitepaper, except the memory total:
//
//   memory  is the "Total" that nvidia-smi prints for the device (FB memory, MiB), as people
//           post it for current drivers (R535 and later) in the product's default ECC mode.
//           It is not the marketing figure: "24 GB" on an RTX 4090 is 24564 MiB, "80GB" on an
//           H100 is 81559 MiB, and a GDDR card with ECC enabled gives up 1/16 of its memory
//           (A40: 49140 MiB with ECC off, 46068 MiB with ECC on — the data-centre default;
//           nvidia-smi's help for memory.total notes that the ECC state changes it, as cited
//           in https://github.com/netdata/netdata/issues/15755).
//           Where each figure was read is in `memory_source`. What the CUDA runtime then
//           reports as total (cudaMemGetInfo, which llama.cpp uses) is a further few hundred
//           MiB lower and varies with the driver (an RTX 3090: 24576 MiB in nvidia-smi, 24268 or
//           24238 MiB from cudaGetDeviceProperties in posted deviceQuery runs), so fits must
//           keep a margin; this catalog states the physical total only.
//   datasheet_gb is the marketing capacity, for display.
//
// Throughput is dense (no 2:4 sparsity). fp16_tflops is the tensor-core FP16 rate with FP32
// accumulation: GeForce cards run that at half their FP16-accumulate rate, professional and
// data-centre parts at full rate; the datasheets of Ampere and later parts give the sparse
// rate, halved here. Before Volta there are no tensor cores: GP100 (P100) has a 2x FP16
// vector rate, Kepler and GP102 (K80, P40, GTX 1080 Ti) have no usable FP16 rate (0; use
// fp32_tflops). bf16_tflops is 0 where the part has no BF16 (before Ampere).
// Where a datasheet does not list a figure it is derived from the whitepaper's per-SM rate
// times SM count and boost clock, and the entry says so.
//
//   auto sel = vramfit::catalog::parse_gpu_argument("rtx-3090x2");   // 2 x RTX 3090
//   static_assert(vramfit::catalog::gpu<"h100-sxm">::spec.sm_count == 132);
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "vramfit/core/device.hpp"
#include "vramfit/core/detail/ascii.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/bytes.hpp"
#include "vramfit/core/fixed_string.hpp"
#include "vramfit/engines/llama_cpp/version.hpp"

namespace vramfit::catalog {

// How ECC affects the memory total (see the header comment).
enum class ecc_memory : std::uint8_t {
    none,        // no ECC (GeForce)
    sideband,    // HBM: ECC always on, costs no capacity
    inline_on,   // GDDR with ECC enabled by default: `memory` already excludes the check bits
    inline_off,  // GDDR with ECC available but off by default: enabling it costs 1/16
};

[[nodiscard]] constexpr std::string_view to_string(ecc_memory ecc) noexcept {
    switch (ecc) {
        case ecc_memory::none: return "none";
        case ecc_memory::sideband: return "sideband";
        case ecc_memory::inline_on: return "inline-on";
        case ecc_memory::inline_off: return "inline-off";
    }
    return "?";
}

struct gpu_spec {
    std::string_view id{};            // lowercase, what --gpu takes: "rtx-3090"
    std::string_view name{};          // as NVIDIA names it
    std::string_view vendor = "NVIDIA";
    std::string_view architecture{};  // "Ampere"
    bytes memory{};                   // nvidia-smi total of one CUDA device (see above)
    unsigned datasheet_gb = 0;      // marketed capacity of one CUDA device, GB
    std::string_view memory_type{};   // "GDDR6X"
    ecc_memory ecc = ecc_memory::none;
    int cc_major = 0;               // CUDA compute capability
    int cc_minor = 0;
    int sm_count = 0;
    double bandwidth_gb_s = 0;      // peak memory bandwidth, GB/s (10^9)
    double fp32_tflops = 0;         // non-tensor FP32, boost clock
    double fp16_tflops = 0;         // dense tensor FP16 with FP32 accumulate (see above)
    double bf16_tflops = 0;         // dense tensor BF16, 0 if unsupported
    int pcie_gen = 0;               // host interface
    int pcie_lanes = 0;
    double nvlink_gb_s = 0;         // total NVLink bandwidth per GPU (both directions), 0 if none
    int dies_per_board = 1;         // CUDA devices on one board (2 for the K80)
    // nvidia-smi total minus the CUDA runtime's total, where it was measured for this card
    // (MiB, the lowest and highest measurement; 0: not measured, engines estimate it).
    unsigned driver_reserve_low_mib = 0;
    unsigned driver_reserve_high_mib = 0;

    // A catalog GPU is a device (core/device.hpp) wherever one is expected: a plan request's
    // devices, check_fit's list ({catalog::gpu<"rtx-3090">::spec, ...}).
    constexpr operator device() const;  // NOLINT: implicit by design
    std::string_view source{};        // datasheet, product page or whitepaper
    std::string_view memory_source{}; // where the nvidia-smi total was read
};

namespace detail {
// nvidia-smi totals of seven data-centre GPUs, listed by Modal from their fleet (Jan 2025):
// H100 81559, A100 80GB 81920, A100 40GB 40960, A10 23028, L40S 46068, L4 23034, T4 15360 MiB.
inline constexpr std::string_view modal_totals = "https://github.com/modal-labs/modal-client/pull/2797";
// Other totals: nvidia-smi tables in public GitHub repositories, found by exact-text search for
// the device name next to the figure; several independent posts agree on each.
inline constexpr std::string_view posted_smi = "nvidia-smi output posted in public GitHub repositories (several agree)";

inline constexpr std::string_view ga102_whitepaper = "https://www.nvidia.com/content/PDF/nvidia-ampere-ga-102-gpu-architecture-whitepaper-v2.pdf";
inline constexpr std::string_view ada_whitepaper = "https://images.nvidia.com/aem-dam/Solutions/geforce/ada/nvidia-ada-gpu-architecture.pdf";
inline constexpr std::string_view turing_whitepaper = "https://images.nvidia.com/aem-dam/en-zz/Solutions/design-visualization/technologies/turing-architecture/NVIDIA-Turing-Architecture-Whitepaper.pdf";
inline constexpr std::string_view v100_datasheet = "https://images.nvidia.com/content/technologies/volta/pdf/tesla-volta-v100-datasheet-letter-fnl-web.pdf";
inline constexpr std::string_view a100_datasheet = "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf";
inline constexpr std::string_view h100_datasheet = "https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet";

// nvidia-smi prints totals in MiB.
[[nodiscard]] constexpr bytes mib(std::uint64_t count) noexcept { return bytes{count * 1048576ULL}; }
} // namespace detail

// Ordered by architecture, then by memory.
inline constexpr std::array<gpu_spec, 34> gpus{{
    // ---- Kepler ----
    // K80 board spec: two GK210 dies, 24 GB GDDR5 (12 GB each), 480 GB/s, 8.73 TFLOPS FP32 at
    // boost, PCIe 3.0 x16 shared by both dies through an on-board switch. 4992 CUDA cores =
    // 2 x 13 SMX x 192. Per-die figures are the board's halved. Kepler has no FP16 arithmetic.
    // nvidia-smi: 11441 MiB per die with ECC on (the default).
    {.id = "tesla-k80", .name = "Tesla K80 (one GK210 die)", .architecture = "Kepler", .memory = detail::mib(11441),
     .datasheet_gb = 12, .memory_type = "GDDR5", .ecc = ecc_memory::inline_on, .cc_major = 3, .cc_minor = 7,
     .sm_count = 13, .bandwidth_gb_s = 240, .fp32_tflops = 4.37, .fp16_tflops = 0, .bf16_tflops = 0,
     .pcie_gen = 3, .pcie_lanes = 16, .nvlink_gb_s = 0, .dies_per_board = 2,
     .source = "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/tesla-product-literature/Tesla-K80-BoardSpec-07317-001-v05.pdf",
     .memory_source = "https://github.com/rcgsheffield/sheffield_hpc/pull/1030"},

    // ---- Pascal ----
    // P40 datasheet: 24 GB GDDR5, 346 GB/s, 12 TFLOPS FP32, 3840 cores (30 SMs), PCIe 3.0 x16.
    // GP102 runs FP16 at 1/64 rate: no usable FP16. nvidia-smi: 23040 MiB with ECC on (the
    // Tesla default); 24576 MiB with ECC disabled.
    {.id = "tesla-p40", .name = "Tesla P40", .architecture = "Pascal", .memory = detail::mib(23040), .datasheet_gb = 24,
     .memory_type = "GDDR5", .ecc = ecc_memory::inline_on, .cc_major = 6, .cc_minor = 1, .sm_count = 30,
     .bandwidth_gb_s = 346, .fp32_tflops = 12, .fp16_tflops = 0, .bf16_tflops = 0, .pcie_gen = 3,
     .pcie_lanes = 16, .nvlink_gb_s = 0,
     .source = "https://images.nvidia.com/content/pdf/tesla/184427-Tesla-P40-Datasheet-NV-Final-Letter-Web.pdf",
     .memory_source = detail::posted_smi},
    // P100 datasheet, PCIe 16 GB: 732 GB/s HBM2, 9.3 TFLOPS FP32, 18.7 TFLOPS FP16 (vector),
    // 56 SMs, PCIe 3.0 x16. nvidia-smi: 16384 MiB.
    {.id = "tesla-p100", .name = "Tesla P100 PCIe 16 GB", .architecture = "Pascal", .memory = detail::mib(16384),
     .datasheet_gb = 16, .memory_type = "HBM2", .ecc = ecc_memory::sideband, .cc_major = 6, .cc_minor = 0,
     .sm_count = 56, .bandwidth_gb_s = 732, .fp32_tflops = 9.3, .fp16_tflops = 18.7, .bf16_tflops = 0,
     .pcie_gen = 3, .pcie_lanes = 16, .nvlink_gb_s = 0,
     .source = "https://images.nvidia.com/content/tesla/pdf/nvidia-tesla-p100-datasheet.pdf",
     .memory_source = detail::posted_smi},
    // GTX 1080 Ti: 11 GB GDDR5X, 11 Gbps x 352 bit = 484 GB/s, 3584 cores (28 SMs) at 1582 MHz
    // boost = 11.3 TFLOPS FP32. nvidia-smi: 11264 MiB.
    {.id = "gtx-1080-ti", .name = "GeForce GTX 1080 Ti", .architecture = "Pascal", .memory = detail::mib(11264),
     .datasheet_gb = 11, .memory_type = "GDDR5X", .ecc = ecc_memory::none, .cc_major = 6, .cc_minor = 1,
     .sm_count = 28, .bandwidth_gb_s = 484, .fp32_tflops = 11.3, .fp16_tflops = 0, .bf16_tflops = 0,
     .pcie_gen = 3, .pcie_lanes = 16, .nvlink_gb_s = 0,
     .source = "https://www.nvidia.com/en-us/geforce/graphics-cards/geforce-gtx-1080-ti/specifications/",
     .memory_source = detail::posted_smi},

    // ---- Volta ----
    // V100 datasheet: SXM2 125 TFLOPS tensor, 15.7 FP32, NVLink 300 GB/s; PCIe 112 / 14,
    // PCIe 3.0 x16; both 900 GB/s HBM2, 80 SMs. nvidia-smi: 16384 / 32768 MiB.
    {.id = "v100-16gb", .name = "Tesla V100 SXM2 16 GB", .architecture = "Volta", .memory = detail::mib(16384),
     .datasheet_gb = 16, .memory_type = "HBM2", .ecc = ecc_memory::sideband, .cc_major = 7, .cc_minor = 0,
     .sm_count = 80, .bandwidth_gb_s = 900, .fp32_tflops = 15.7, .fp16_tflops = 125, .bf16_tflops = 0,
     .pcie_gen = 3, .pcie_lanes = 16, .nvlink_gb_s = 300, .source = detail::v100_datasheet,
     .memory_source = detail::posted_smi},
    {.id = "v100-32gb", .name = "Tesla V100 SXM2 32 GB", .architecture = "Volta", .memory = detail::mib(32768),
     .datasheet_gb = 32, .memory_type = "HBM2", .ecc = ecc_memory::sideband, .cc_major = 7, .cc_minor = 0,
     .sm_count = 80, .bandwidth_gb_s = 900, .fp32_tflops = 15.7, .fp16_tflops = 125, .bf16_tflops = 0,
     .pcie_gen = 3, .pcie_lanes = 16, .nvlink_gb_s = 300, .source = detail::v100_datasheet,
     .memory_source = detail::posted_smi},
    {.id = "v100-pcie-16gb", .name = "Tesla V100 PCIe 16 GB", .architecture = "Volta", .memory = detail::mib(16384),
     .datasheet_gb = 16, .memory_type = "HBM2", .ecc = ecc_memory::sideband, .cc_major = 7, .cc_minor = 0,
     .sm_count = 80, .bandwidth_gb_s = 900, .fp32_tflops = 14, .fp16_tflops = 112, .bf16_tflops = 0,
     .pcie_gen = 3, .pcie_lanes = 16, .nvlink_gb_s = 0, .source = detail::v100_datasheet,
     .memory_source = detail::posted_smi},

    // ---- Turing ----
    // T4 datasheet: 16 GB GDDR6, 320 GB/s, 65 TFLOPS mixed FP16/FP32, 8.1 FP32, 40 SMs,
    // PCIe 3.0 x16. nvidia-smi: 15360 MiB with ECC on (the default).
    {.id = "t4", .name = "Tesla T4", .architecture = "Turing", .memory = detail::mib(15360), .datasheet_gb = 16,
     .memory_type = "GDDR6", .ecc = ecc_memory::inline_on, .cc_major = 7, .cc_minor = 5, .sm_count = 40,
     .bandwidth_gb_s = 320, .fp32_tflops = 8.1, .fp16_tflops = 65, .bf16_tflops = 0, .pcie_gen = 3,
     .pcie_lanes = 16, .nvlink_gb_s = 0,
     .source = "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/tesla-t4/t4-tensor-core-datasheet-951643.pdf",
     .memory_source = detail::modal_totals},
    // Turing whitepaper, RTX 2080 Ti reference board (1545 MHz boost): 68 SMs, 616 GB/s,
    // 13.4 TFLOPS FP32, 53.8 TFLOPS FP16 tensor with FP32 accumulate (107.6 with FP16
    // accumulate), NVLink 100 GB/s (two x8 links). nvidia-smi: 11264 MiB.
    {.id = "rtx-2080-ti", .name = "GeForce RTX 2080 Ti", .architecture = "Turing", .memory = detail::mib(11264),
     .datasheet_gb = 11, .memory_type = "GDDR6", .ecc = ecc_memory::none, .cc_major = 7, .cc_minor = 5,
     .sm_count = 68, .bandwidth_gb_s = 616, .fp32_tflops = 13.4, .fp16_tflops = 53.8, .bf16_tflops = 0,
     .pcie_gen = 3, .pcie_lanes = 16, .nvlink_gb_s = 100, .source = detail::turing_whitepaper,
     .memory_source = detail::posted_smi},

    // ---- Ampere ----
    // GeForce GA10x tensor rate with FP32 accumulate: 512 FLOP/clk/SM dense (GA102 whitepaper:
    // RTX 3090 82 SMs x 1695 MHz -> 71 TFLOPS), same for BF16.
    // RTX 3060 12 GB: 28 SMs, 1777 MHz boost, 15 Gbps x 192 bit = 360 GB/s, PCIe 4.0 x16.
    // Tensor rate derived: 28 x 1.777 GHz x 512 = 25.5 TFLOPS; FP32 3584 x 2 x 1.777 = 12.7.
    // nvidia-smi: 12288 MiB.
    {.id = "rtx-3060-12gb", .name = "GeForce RTX 3060 12 GB", .architecture = "Ampere", .memory = detail::mib(12288),
     .datasheet_gb = 12, .memory_type = "GDDR6", .ecc = ecc_memory::none, .cc_major = 8, .cc_minor = 6,
     .sm_count = 28, .bandwidth_gb_s = 360, .fp32_tflops = 12.7, .fp16_tflops = 25.5, .bf16_tflops = 25.5,
     .pcie_gen = 4, .pcie_lanes = 16, .nvlink_gb_s = 0,
     .source = "https://www.nvidia.com/en-us/geforce/graphics-cards/30-series/rtx-3060-3060ti/",
     .memory_source = "https://github.com/geerlingguy/raspberry-pi-pcie-devices/issues/790"},
    // GA102 whitepaper appendix, RTX 3070: 46 SMs, 448 GB/s, 20.3 TFLOPS FP32, 40.6 tensor
    // with FP32 accumulate. nvidia-smi: 8192 MiB.
    {.id = "rtx-3070", .name = "GeForce RTX 3070", .architecture = "Ampere", .memory = detail::mib(8192), .datasheet_gb = 8,
     .memory_type = "GDDR6", .ecc = ecc_memory::none, .cc_major = 8, .cc_minor = 6, .sm_count = 46,
     .bandwidth_gb_s = 448, .fp32_tflops = 20.3, .fp16_tflops = 40.6, .bf16_tflops = 40.6, .pcie_gen = 4,
     .pcie_lanes = 16, .nvlink_gb_s = 0, .source = detail::ga102_whitepaper, .memory_source = detail::posted_smi},
    // GA102 whitepaper, RTX 3080 (10 GB): 68 SMs, 760 GB/s, 29.8 TFLOPS FP32, 59.5 tensor with
    // FP32 accumulate. nvidia-smi: 10240 MiB.
    {.id = "rtx-3080", .name = "GeForce RTX 3080", .architecture = "Ampere", .memory = detail::mib(10240), .datasheet_gb = 10,
     .memory_type = "GDDR6X", .ecc = ecc_memory::none, .cc_major = 8, .cc_minor = 6, .sm_count = 68,
     .bandwidth_gb_s = 760, .fp32_tflops = 29.8, .fp16_tflops = 59.5, .bf16_tflops = 59.5, .pcie_gen = 4,
     .pcie_lanes = 16, .nvlink_gb_s = 0, .source = detail::ga102_whitepaper, .memory_source = detail::posted_smi},
    // GA102 whitepaper, RTX 3090: 82 SMs, 936 GB/s, 35.6 TFLOPS FP32, 71 tensor with FP32
    // accumulate, NVLink 112.5 GB/s (bridge). nvidia-smi: 24576 MiB.
    {.id = "rtx-3090", .name = "GeForce RTX 3090", .architecture = "Ampere", .memory = detail::mib(24576), .datasheet_gb = 24,
     .memory_type = "GDDR6X", .ecc = ecc_memory::none, .cc_major = 8, .cc_minor = 6, .sm_count = 82,
     .bandwidth_gb_s = 936, .fp32_tflops = 35.6, .fp16_tflops = 71, .bf16_tflops = 71, .pcie_gen = 4,
     .pcie_lanes = 16, .nvlink_gb_s = 112.5,
     // Driver reserve: 24576 vs 24268 / 24238 MiB in posted deviceQuery runs.
     .driver_reserve_low_mib = 308, .driver_reserve_high_mib = 338, .source = detail::ga102_whitepaper,
     .memory_source = "https://github.com/noonghunna/club-3090/issues/390"},
    // Professional GA10x run FP32 accumulate at full rate, 1024 FLOP/clk/SM dense; the
    // datasheets give the sparse rate.
    // RTX A4000: 48 SMs, 16 GB GDDR6 ECC, 448 GB/s, 19.2 TFLOPS FP32, 153.4 sparse tensor ->
    // 76.7 dense. nvidia-smi: 16376 MiB with ECC off (the default).
    {.id = "rtx-a4000", .name = "NVIDIA RTX A4000", .architecture = "Ampere", .memory = detail::mib(16376),
     .datasheet_gb = 16, .memory_type = "GDDR6", .ecc = ecc_memory::inline_off, .cc_major = 8, .cc_minor = 6,
     .sm_count = 48, .bandwidth_gb_s = 448, .fp32_tflops = 19.2, .fp16_tflops = 76.7, .bf16_tflops = 76.7,
     .pcie_gen = 4, .pcie_lanes = 16, .nvlink_gb_s = 0,
     .source = "https://www.nvidia.com/en-us/design-visualization/rtx-a4000/", .memory_source = detail::posted_smi},
    // RTX A5000: 64 SMs, 24 GB GDDR6 ECC, 768 GB/s, 27.8 TFLOPS FP32, 222.2 sparse tensor ->
    // 111.1 dense, NVLink 112.5 GB/s. nvidia-smi: 24564 MiB with ECC off.
    {.id = "rtx-a5000", .name = "NVIDIA RTX A5000", .architecture = "Ampere", .memory = detail::mib(24564),
     .datasheet_gb = 24, .memory_type = "GDDR6", .ecc = ecc_memory::inline_off, .cc_major = 8, .cc_minor = 6,
     .sm_count = 64, .bandwidth_gb_s = 768, .fp32_tflops = 27.8, .fp16_tflops = 111.1, .bf16_tflops = 111.1,
     .pcie_gen = 4, .pcie_lanes = 16, .nvlink_gb_s = 112.5,
     .source = "https://www.nvidia.com/en-us/design-visualization/rtx-a5000/", .memory_source = detail::posted_smi},
    // RTX A6000: 84 SMs, 48 GB GDDR6 ECC, 768 GB/s, 38.7 TFLOPS FP32, 309.7 sparse tensor ->
    // 154.8 dense, NVLink 112.5 GB/s. nvidia-smi: 49140 MiB with ECC off (46068 with ECC on).
    {.id = "rtx-a6000", .name = "NVIDIA RTX A6000", .architecture = "Ampere", .memory = detail::mib(49140),
     .datasheet_gb = 48, .memory_type = "GDDR6", .ecc = ecc_memory::inline_off, .cc_major = 8, .cc_minor = 6,
     .sm_count = 84, .bandwidth_gb_s = 768, .fp32_tflops = 38.7, .fp16_tflops = 154.8, .bf16_tflops = 154.8,
     .pcie_gen = 4, .pcie_lanes = 16, .nvlink_gb_s = 112.5,
     .source = "https://www.nvidia.com/en-us/design-visualization/rtx-a6000/", .memory_source = detail::posted_smi},
    // A10 datasheet: 24 GB GDDR6, 600 GB/s, 31.2 TFLOPS FP32, 125 TFLOPS FP16/BF16 tensor
    // (250 sparse), 72 SMs, PCIe 4.0 x16. nvidia-smi: 23028 MiB with ECC on (the default).
    {.id = "a10", .name = "NVIDIA A10", .architecture = "Ampere", .memory = detail::mib(23028), .datasheet_gb = 24,
     .memory_type = "GDDR6", .ecc = ecc_memory::inline_on, .cc_major = 8, .cc_minor = 6, .sm_count = 72,
     .bandwidth_gb_s = 600, .fp32_tflops = 31.2, .fp16_tflops = 125, .bf16_tflops = 125, .pcie_gen = 4,
     .pcie_lanes = 16, .nvlink_gb_s = 0,
     .source = "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a10/pdf/a10-datasheet.pdf",
     .memory_source = detail::modal_totals},
    // A40 datasheet: 48 GB GDDR6, 696 GB/s, 37.4 TFLOPS FP32, 149.7 FP16/BF16 tensor (299.4
    // sparse), 84 SMs, PCIe 4.0 x16, NVLink 112.5 GB/s. nvidia-smi: 46068 MiB with ECC on
    // (the default; 49140 with ECC off).
    {.id = "a40", .name = "NVIDIA A40", .architecture = "Ampere", .memory = detail::mib(46068), .datasheet_gb = 48,
     .memory_type = "GDDR6", .ecc = ecc_memory::inline_on, .cc_major = 8, .cc_minor = 6, .sm_count = 84,
     .bandwidth_gb_s = 696, .fp32_tflops = 37.4, .fp16_tflops = 149.7, .bf16_tflops = 149.7, .pcie_gen = 4,
     .pcie_lanes = 16, .nvlink_gb_s = 112.5,
     .source = "https://images.nvidia.com/content/Solutions/data-center/a40/nvidia-a40-datasheet.pdf",
     .memory_source = detail::posted_smi},
    // A30 datasheet: 24 GB HBM2, 933 GB/s, 10.3 TFLOPS FP32, 165 FP16/BF16 tensor (330
    // sparse), 56 SMs, PCIe 4.0 x16, NVLink 200 GB/s. nvidia-smi: 24576 MiB.
    {.id = "a30", .name = "NVIDIA A30", .architecture = "Ampere", .memory = detail::mib(24576), .datasheet_gb = 24,
     .memory_type = "HBM2", .ecc = ecc_memory::sideband, .cc_major = 8, .cc_minor = 0, .sm_count = 56,
     .bandwidth_gb_s = 933, .fp32_tflops = 10.3, .fp16_tflops = 165, .bf16_tflops = 165, .pcie_gen = 4,
     .pcie_lanes = 16, .nvlink_gb_s = 200,
     .source = "https://www.nvidia.com/content/dam/en-zz/Solutions/data-center/products/a30-gpu/pdf/a30-datasheet.pdf",
     .memory_source = detail::posted_smi},
    // A100 datasheet: 108 SMs, 19.5 TFLOPS FP32, 312 FP16/BF16 tensor (624 sparse), PCIe 4.0
    // x16, NVLink 600 GB/s (SXM4; PCIe boards with a bridge for two GPUs). 40 GB HBM2
    // 1555 GB/s; 80 GB HBM2e 2039 GB/s (SXM4) / 1935 GB/s (PCIe). nvidia-smi: 40960 /
    // 81920 MiB.
    {.id = "a100-40gb", .name = "NVIDIA A100 SXM4 40 GB", .architecture = "Ampere", .memory = detail::mib(40960),
     .datasheet_gb = 40, .memory_type = "HBM2", .ecc = ecc_memory::sideband, .cc_major = 8, .cc_minor = 0,
     .sm_count = 108, .bandwidth_gb_s = 1555, .fp32_tflops = 19.5, .fp16_tflops = 312, .bf16_tflops = 312,
     .pcie_gen = 4, .pcie_lanes = 16, .nvlink_gb_s = 600, .source = detail::a100_datasheet,
     .memory_source = detail::modal_totals},
    {.id = "a100-80gb", .name = "NVIDIA A100 SXM4 80 GB", .architecture = "Ampere", .memory = detail::mib(81920),
     .datasheet_gb = 80, .memory_type = "HBM2e", .ecc = ecc_memory::sideband, .cc_major = 8, .cc_minor = 0,
     .sm_count = 108, .bandwidth_gb_s = 2039, .fp32_tflops = 19.5, .fp16_tflops = 312, .bf16_tflops = 312,
     .pcie_gen = 4, .pcie_lanes = 16, .nvlink_gb_s = 600, .source = detail::a100_datasheet,
     .memory_source = detail::modal_totals},
    {.id = "a100-pcie-80gb", .name = "NVIDIA A100 PCIe 80 GB", .architecture = "Ampere", .memory = detail::mib(81920),
     .datasheet_gb = 80, .memory_type = "HBM2e", .ecc = ecc_memory::sideband, .cc_major = 8, .cc_minor = 0,
     .sm_count = 108, .bandwidth_gb_s = 1935, .fp32_tflops = 19.5, .fp16_tflops = 312, .bf16_tflops = 312,
     .pcie_gen = 4, .pcie_lanes = 16, .nvlink_gb_s = 600, .source = detail::a100_datasheet,
     .memory_source = detail::posted_smi},

    // ---- Ada Lovelace ----
    // GeForce AD10x tensor rate with FP32 accumulate: 512 FLOP/clk/SM dense (Ada whitepaper:
    // RTX 4090 128 SMs x 2520 MHz -> 165.2 TFLOPS), same for BF16.
    // RTX 4060 Ti 16 GB: 34 SMs, 2535 MHz boost, 18 Gbps x 128 bit = 288 GB/s, PCIe 4.0 x8.
    // Derived: tensor 34 x 2.535 x 512 = 44.1 TFLOPS; FP32 4352 x 2 x 2.535 = 22.1.
    // nvidia-smi: 16380 MiB.
    {.id = "rtx-4060-ti-16gb", .name = "GeForce RTX 4060 Ti 16 GB", .architecture = "Ada Lovelace",
     .memory = detail::mib(16380), .datasheet_gb = 16, .memory_type = "GDDR6", .ecc = ecc_memory::none, .cc_major = 8,
     .cc_minor = 9, .sm_count = 34, .bandwidth_gb_s = 288, .fp32_tflops = 22.1, .fp16_tflops = 44.1,
     .bf16_tflops = 44.1, .pcie_gen = 4, .pcie_lanes = 8, .nvlink_gb_s = 0,
     .source = "https://www.nvidia.com/en-us/geforce/graphics-cards/40-series/rtx-4060-4060ti/",
     .memory_source = detail::posted_smi},
    // RTX 4070: 46 SMs, 2475 MHz boost, 21 Gbps x 192 bit = 504 GB/s, PCIe 4.0 x16.
    // Derived: tensor 46 x 2.475 x 512 = 58.3 TFLOPS; FP32 5888 x 2 x 2.475 = 29.1.
    // nvidia-smi: 12282 MiB.
    {.id = "rtx-4070", .name = "GeForce RTX 4070", .architecture = "Ada Lovelace", .memory = detail::mib(12282),
     .datasheet_gb = 12, .memory_type = "GDDR6X", .ecc = ecc_memory::none, .cc_major = 8, .cc_minor = 9,
     .sm_count = 46, .bandwidth_gb_s = 504, .fp32_tflops = 29.1, .fp16_tflops = 58.3, .bf16_tflops = 58.3,
     .pcie_gen = 4, .pcie_lanes = 16, .nvlink_gb_s = 0,
     .source = "https://www.nvidia.com/en-us/geforce/graphics-cards/40-series/rtx-4070-family/",
     .memory_source = detail::posted_smi},
    // Ada whitepaper appendix, RTX 4080 (16 GB): 76 SMs, 716.8 GB/s, 48.7 TFLOPS FP32, 97.5
    // tensor with FP32 accumulate. nvidia-smi: 16376 MiB.
    {.id = "rtx-4080", .name = "GeForce RTX 4080", .architecture = "Ada Lovelace", .memory = detail::mib(16376),
     .datasheet_gb = 16, .memory_type = "GDDR6X", .ecc = ecc_memory::none, .cc_major = 8, .cc_minor = 9,
     .sm_count = 76, .bandwidth_gb_s = 716.8, .fp32_tflops = 48.7, .fp16_tflops = 97.5, .bf16_tflops = 97.5,
     .pcie_gen = 4, .pcie_lanes = 16, .nvlink_gb_s = 0, .source = detail::ada_whitepaper,
     .memory_source = detail::posted_smi},
    // Ada whitepaper, RTX 4090: 128 SMs, 1008 GB/s, 82.6 TFLOPS FP32, 165.2 tensor with FP32
    // accumulate, no NVLink. nvidia-smi: 24564 MiB.
    {.id = "rtx-4090", .name = "GeForce RTX 4090", .architecture = "Ada Lovelace", .memory = detail::mib(24564),
     .datasheet_gb = 24, .memory_type = "GDDR6X", .ecc = ecc_memory::none, .cc_major = 8, .cc_minor = 9,
     .sm_count = 128, .bandwidth_gb_s = 1008, .fp32_tflops = 82.6, .fp16_tflops = 165.2, .bf16_tflops = 165.2,
     .pcie_gen = 4, .pcie_lanes = 16, .nvlink_gb_s = 0,
     // Driver reserve: 24564 vs 24080 MiB (llama.cpp PR #15860's memory breakdown).
     .driver_reserve_low_mib = 484, .driver_reserve_high_mib = 484, .source = detail::ada_whitepaper,
     .memory_source = "https://github.com/RLinf/RLinf/issues/255"},
    // L4 product page: 24 GB GDDR6, 300 GB/s, 30.3 TFLOPS FP32, 242 FP16/BF16 tensor sparse ->
    // 121 dense, 58 SMs, PCIe 4.0 x16. nvidia-smi: 23034 MiB with ECC on (the default).
    {.id = "l4", .name = "NVIDIA L4", .architecture = "Ada Lovelace", .memory = detail::mib(23034), .datasheet_gb = 24,
     .memory_type = "GDDR6", .ecc = ecc_memory::inline_on, .cc_major = 8, .cc_minor = 9, .sm_count = 58,
     .bandwidth_gb_s = 300, .fp32_tflops = 30.3, .fp16_tflops = 121, .bf16_tflops = 121, .pcie_gen = 4,
     .pcie_lanes = 16, .nvlink_gb_s = 0, .source = "https://www.nvidia.com/en-us/data-center/l4/",
     .memory_source = detail::modal_totals},
    // L40S product page: 48 GB GDDR6, 864 GB/s, 91.6 TFLOPS FP32, FP16/BF16 tensor 362.05
    // dense (733 sparse), 142 SMs, PCIe 4.0 x16. nvidia-smi: 46068 MiB with ECC on (the
    // default).
    {.id = "l40s", .name = "NVIDIA L40S", .architecture = "Ada Lovelace", .memory = detail::mib(46068), .datasheet_gb = 48,
     .memory_type = "GDDR6", .ecc = ecc_memory::inline_on, .cc_major = 8, .cc_minor = 9, .sm_count = 142,
     .bandwidth_gb_s = 864, .fp32_tflops = 91.6, .fp16_tflops = 362.05, .bf16_tflops = 362.05, .pcie_gen = 4,
     .pcie_lanes = 16, .nvlink_gb_s = 0, .source = "https://www.nvidia.com/en-us/data-center/l40s/",
     .memory_source = detail::modal_totals},
    // RTX 6000 Ada product page: 48 GB GDDR6 ECC, 960 GB/s, 91.1 TFLOPS FP32, 1457 FP8 tensor
    // sparse -> 364.2 FP16 dense (142 SMs x 2505 MHz x 1024), PCIe 4.0 x16, no NVLink.
    // nvidia-smi: 49140 MiB with ECC off (the default).
    {.id = "rtx-6000-ada", .name = "NVIDIA RTX 6000 Ada Generation", .architecture = "Ada Lovelace",
     .memory = detail::mib(49140), .datasheet_gb = 48, .memory_type = "GDDR6", .ecc = ecc_memory::inline_off,
     .cc_major = 8, .cc_minor = 9, .sm_count = 142, .bandwidth_gb_s = 960, .fp32_tflops = 91.1,
     .fp16_tflops = 364.2, .bf16_tflops = 364.2, .pcie_gen = 4, .pcie_lanes = 16, .nvlink_gb_s = 0,
     .source = "https://www.nvidia.com/en-us/design-visualization/rtx-6000/", .memory_source = detail::posted_smi},

    // ---- Hopper ----
    // H100 datasheet: SXM5 80 GB HBM3 3.35 TB/s, 67 TFLOPS FP32, 1979 FP16/BF16 sparse -> 989.4
    // dense, 132 SMs, NVLink 900 GB/s; PCIe 80 GB HBM2e 2 TB/s, 51 TFLOPS FP32, 1513 sparse ->
    // 756.5 dense, 114 SMs, NVLink bridge 600 GB/s. Both PCIe 5.0 x16. nvidia-smi: 81559 MiB.
    {.id = "h100-pcie", .name = "NVIDIA H100 PCIe", .architecture = "Hopper", .memory = detail::mib(81559),
     .datasheet_gb = 80, .memory_type = "HBM2e", .ecc = ecc_memory::sideband, .cc_major = 9, .cc_minor = 0,
     .sm_count = 114, .bandwidth_gb_s = 2000, .fp32_tflops = 51, .fp16_tflops = 756.5, .bf16_tflops = 756.5,
     .pcie_gen = 5, .pcie_lanes = 16, .nvlink_gb_s = 600, .source = detail::h100_datasheet,
     .memory_source = detail::posted_smi},
    {.id = "h100-sxm", .name = "NVIDIA H100 SXM5 80 GB", .architecture = "Hopper", .memory = detail::mib(81559),
     .datasheet_gb = 80, .memory_type = "HBM3", .ecc = ecc_memory::sideband, .cc_major = 9, .cc_minor = 0,
     .sm_count = 132, .bandwidth_gb_s = 3350, .fp32_tflops = 67, .fp16_tflops = 989.4, .bf16_tflops = 989.4,
     .pcie_gen = 5, .pcie_lanes = 16, .nvlink_gb_s = 900, .source = detail::h100_datasheet,
     .memory_source = "https://github.com/NVIDIA/nccl/issues/1264"},
    // H200 product page (SXM): 141 GB HBM3e, 4.8 TB/s, 67 TFLOPS FP32, 1979 FP16/BF16 sparse ->
    // 989.4 dense, NVLink 900 GB/s, PCIe 5.0 x16; the GH100 die of the H100 SXM (132 SMs).
    // nvidia-smi: 143771 MiB.
    {.id = "h200", .name = "NVIDIA H200 SXM 141 GB", .architecture = "Hopper", .memory = detail::mib(143771),
     .datasheet_gb = 141, .memory_type = "HBM3e", .ecc = ecc_memory::sideband, .cc_major = 9, .cc_minor = 0,
     .sm_count = 132, .bandwidth_gb_s = 4800, .fp32_tflops = 67, .fp16_tflops = 989.4, .bf16_tflops = 989.4,
     .pcie_gen = 5, .pcie_lanes = 16, .nvlink_gb_s = 900, .source = "https://www.nvidia.com/en-us/data-center/h200/",
     .memory_source = detail::posted_smi},

    // ---- Blackwell ----
    // HGX B200 (1000 W): 180 GB HBM3e per GPU (1.44 TB for eight), 8 TB/s, 80 TFLOPS FP32,
    // 4.5 PFLOPS FP16/BF16 sparse -> 2250 dense, NVLink 5 1.8 TB/s, PCIe 6.0 x16 host link.
    // 148 SMs and compute capability 10.0 as cudaGetDeviceProperties reports them
    // (https://github.com/pytorch/ao/pull/4002, which also notes the reported bus width gives
    // 7.7 TB/s). nvidia-smi: 183359 MiB.
    {.id = "b200", .name = "NVIDIA B200", .architecture = "Blackwell", .memory = detail::mib(183359), .datasheet_gb = 180,
     .memory_type = "HBM3e", .ecc = ecc_memory::sideband, .cc_major = 10, .cc_minor = 0, .sm_count = 148,
     .bandwidth_gb_s = 8000, .fp32_tflops = 80, .fp16_tflops = 2250, .bf16_tflops = 2250, .pcie_gen = 6,
     .pcie_lanes = 16, .nvlink_gb_s = 1800, .source = "https://www.nvidia.com/en-us/data-center/hgx/",
     .memory_source = "https://github.com/NVIDIA/TensorRT-LLM/issues/10278"},
    // Blackwell RTX whitepaper, RTX 5090: 170 SMs, 2407 MHz boost, 32 GB GDDR7, 28 Gbps x 512
    // bit = 1792 GB/s, 104.8 TFLOPS FP32, 209.5 tensor with FP32 accumulate (419 with FP16
    // accumulate, 838 sparse), PCIe 5.0 x16. nvidia-smi: 32607 MiB.
    {.id = "rtx-5090", .name = "GeForce RTX 5090", .architecture = "Blackwell", .memory = detail::mib(32607),
     .datasheet_gb = 32, .memory_type = "GDDR7", .ecc = ecc_memory::none, .cc_major = 12, .cc_minor = 0,
     .sm_count = 170, .bandwidth_gb_s = 1792, .fp32_tflops = 104.8, .fp16_tflops = 209.5, .bf16_tflops = 209.5,
     .pcie_gen = 5, .pcie_lanes = 16, .nvlink_gb_s = 0,
     // Driver reserve: 32607 vs 32106 MiB (llama.cpp issue #17536's device list).
     .driver_reserve_low_mib = 501, .driver_reserve_high_mib = 501,
     .source = "https://images.nvidia.com/aem-dam/Solutions/geforce/blackwell/nvidia-rtx-blackwell-gpu-architecture.pdf",
     .memory_source = "https://github.com/noonghunna/club-3090/issues/741"},
}};

// --gpu NAMExN: as many CUDA devices as llama.cpp addresses.
using llama_cpp::max_cuda_devices;

namespace detail {

// Name matching for --gpu (detail/ascii.hpp does the case-insensitive comparisons).
namespace gpu_names {

using vramfit::detail::contains_ignoring_case;
using vramfit::detail::equal_ignoring_case;
using vramfit::detail::lower_ascii;

// Levenshtein distance, case-insensitive, for "did you mean". Inputs longer than the row
// buffer are not compared (returns a large distance) so the cost stays bounded.
inline constexpr std::size_t max_compared_length = 48;
[[nodiscard]] constexpr std::size_t edit_distance(std::string_view a, std::string_view b) noexcept {
    if (a.size() > max_compared_length || b.size() > max_compared_length) return max_compared_length;
    std::size_t row[max_compared_length + 1] = {};
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const std::size_t substitute = diagonal + (lower_ascii(a[i - 1]) == lower_ascii(b[j - 1]) ? 0 : 1);
            const std::size_t best_insert_delete = (above < row[j - 1] ? above : row[j - 1]) + 1;
            row[j] = substitute < best_insert_delete ? substitute : best_insert_delete;
            diagonal = above;
        }
    }
    return row[b.size()];
}

// How close a catalog id is to what was typed: 0 when the id contains it ("a6000" in
// "rtx-a6000") or it extends the id ("rtx-3090-24gb"), otherwise the edit distance.
[[nodiscard]] constexpr std::size_t closeness(std::string_view typed, std::string_view id) noexcept {
    if (typed.size() >= 2 && contains_ignoring_case(id, typed)) return 0;
    if (typed.size() > id.size() && equal_ignoring_case(typed.substr(0, id.size()), id) && typed[id.size()] == '-') return 0;
    return edit_distance(typed, id);
}

// `typed` is the whole argument; `name` the part before an "xN" count, when there is one.
// Both are compared with the catalog ids.
[[nodiscard]] constexpr error unknown_gpu(std::string_view typed, std::string_view name) {
    constexpr std::size_t shown = 40;  // an absurdly long argument is echoed by its start
    error failure{errc::unknown_name, "unknown GPU '"};
    failure.with(typed.substr(0, shown)).with(typed.size() > shown ? "...'" : "'");
    if (name.size() < 3) name = {};  // "rtx4090" splits at the x of "rtx": "rt" says nothing
    // A typo of one character in three at most, and never more than three.
    std::size_t max_distance = (name.empty() ? typed.size() : name.size()) / 3;
    if (max_distance < 1) max_distance = 1;
    if (max_distance > 3) max_distance = 3;
    constexpr std::size_t max_suggestions = 6;
    std::size_t suggested = 0;
    for (std::size_t distance = 0; distance <= max_distance && suggested < max_suggestions; ++distance) {
        for (const auto& entry : gpus) {
            if (suggested == max_suggestions) break;
            const std::size_t by_typed = closeness(typed, entry.id);
            const std::size_t by_name = name.empty() ? by_typed : closeness(name, entry.id);
            if ((by_typed < by_name ? by_typed : by_name) != distance) continue;
            failure.with(suggested == 0 ? "; did you mean " : ", ").with(entry.id);
            ++suggested;
        }
    }
    // Where to look for the whole list depends on the program: the CLI adds "`vramfit gpus` lists ...".
    if (suggested != 0) failure.with("?");
    return failure;
}

} // namespace gpu_names

[[nodiscard]] constexpr std::size_t gpu_index(std::string_view id) noexcept {
    for (std::size_t i = 0; i < gpus.size(); ++i) {
        if (gpus[i].id == id) return i;
    }
    return gpus.size();  // not a valid index: naming a missing tag fails to compile
}

} // namespace detail

// Exact id, case-insensitive; nullptr if unknown.
[[nodiscard]] constexpr const gpu_spec* find_gpu(std::string_view id) noexcept {
    for (const auto& entry : gpus) {
        if (vramfit::detail::equal_ignoring_case(entry.id, id)) return &entry;
    }
    return nullptr;
}

// One --gpu argument: a catalog id and how many of that GPU.
struct gpu_selection {
    const gpu_spec* gpu = nullptr;
    unsigned count = 0;

    // Sum of the devices' nvidia-smi totals.
    [[nodiscard]] constexpr bytes total_memory() const noexcept {
        return gpu == nullptr ? bytes{} : gpu->memory * count;
    }
};

// The catalog entry as a device (core/device.hpp): a total and no measurement.
[[nodiscard]] constexpr device to_device(const gpu_spec& gpu, int ordinal = -1) {
    device d{};
    d.name = gpu.name;
    d.catalog_id = gpu.id;
    d.ordinal = ordinal;
    d.cc_major = gpu.cc_major;
    d.cc_minor = gpu.cc_minor;
    d.sm_count = gpu.sm_count;
    d.total_memory = gpu.memory;
    d.bandwidth_gb_s = gpu.bandwidth_gb_s;
    d.fp32_tflops = gpu.fp32_tflops;
    d.fp16_tflops = gpu.fp16_tflops;
    d.bf16_tflops = gpu.bf16_tflops;
    d.pcie_gen = gpu.pcie_gen;
    d.pcie_lanes = gpu.pcie_lanes;
    d.nvlink_gb_s = gpu.nvlink_gb_s;
    if (gpu.driver_reserve_high_mib != 0) {
        d.driver_reserve_low = detail::mib(gpu.driver_reserve_low_mib);
        d.driver_reserve_high = detail::mib(gpu.driver_reserve_high_mib);
    }
    return d;
}

constexpr gpu_spec::operator device() const { return to_device(*this); }

// "rtx-3090" (one), "rtx-3090x2", "a100-80gbx8": NAME or NAMExN with N from 1 to
// max_cuda_devices. Unknown names come back with close catalog ids as suggestions.
[[nodiscard]] constexpr result<gpu_selection> parse_gpu_argument(std::string_view text) {
    if (text.empty()) return error{errc::invalid_argument, "empty --gpu argument (expected NAME or NAMExN, e.g. rtx-3090x2)"};
    if (const gpu_spec* whole = find_gpu(text)) return gpu_selection{whole, 1};

    const auto times = text.find_last_of("xX");
    if (times != std::string_view::npos && times > 0) {
        const std::string_view name = text.substr(0, times);
        const std::string_view count_text = text.substr(times + 1);
        if (const gpu_spec* gpu = find_gpu(name)) {
            bool digits = !count_text.empty();
            for (char c : count_text) digits = digits && c >= '0' && c <= '9';
            unsigned long long count = 0;
            for (std::size_t i = 0; digits && i < count_text.size() && count <= max_cuda_devices; ++i) {
                count = count * 10 + static_cast<unsigned>(count_text[i] - '0');  // stops once past the limit
            }
            if (!digits || count == 0 || count > max_cuda_devices) {
                error failure{digits && count > max_cuda_devices ? errc::limit_exceeded : errc::invalid_argument,
                              "bad GPU count '"};
                failure.with(count_text.substr(0, 24)).with("' in --gpu '").with(text.substr(0, 48))
                    .with("': expected NAMExN with N from 1 to ").with_number(max_cuda_devices)
                    .with(" (llama.cpp's GGML_CUDA_MAX_DEVICES)");
                return failure;
            }
            return gpu_selection{gpu, static_cast<unsigned>(count)};
        }
        // "a6000x2": look for the name without its count.
        bool counted = !count_text.empty();
        for (char c : count_text) counted = counted && c >= '0' && c <= '9';
        if (counted) return detail::gpu_names::unknown_gpu(text, name);
    }
    return detail::gpu_names::unknown_gpu(text, {});
}

// Every --gpu argument of a command line, expanded into CUDA devices in the order given
// ("--gpu rtx-4090 --gpu rtx-3090x2" is devices 0: 4090, 1: 3090, 2: 3090).
struct gpu_fleet {
    std::array<const gpu_spec*, max_cuda_devices> devices{};
    unsigned count = 0;

    [[nodiscard]] constexpr bytes total_memory() const noexcept {
        bytes total{};
        for (unsigned i = 0; i < count; ++i) total += devices[i]->memory;
        return total;
    }
};

[[nodiscard]] constexpr result<gpu_fleet> parse_gpu_arguments(std::span<const std::string_view> arguments) {
    gpu_fleet fleet{};
    unsigned long long requested = 0;
    for (const std::string_view argument : arguments) {
        const auto selection = parse_gpu_argument(argument);
        if (!selection) return selection.err();
        requested += selection->count;
        if (requested > max_cuda_devices) {
            error failure{errc::limit_exceeded, "--gpu asks for "};
            failure.with_number(requested).with(" GPUs or more (at '").with(argument.substr(0, 48))
                .with("'); llama.cpp addresses at most ").with_number(max_cuda_devices)
                .with(" CUDA devices (GGML_CUDA_MAX_DEVICES)");
            return failure;
        }
        for (unsigned i = 0; i < selection->count; ++i) fleet.devices[fleet.count++] = selection->gpu;
    }
    return fleet;
}

// Tags: a GPU named in a type, for static_assert and compile-time plans
// (fits<catalog::model<"gemma-3-12b">, quant::Q4_K_M, catalog::gpu<"tesla-k80">>). An unknown id
// stops the build at this static_assert, with the id in the template argument of the message.
template <string_literal Id>
struct gpu {
    static constexpr std::size_t index = detail::gpu_index(Id.view());
    static_assert(index < gpus.size(), "catalog::gpu<ID>: no catalog GPU has this id (vramfit gpus lists them)");
    static constexpr const gpu_spec& spec = gpus[index < gpus.size() ? index : 0];
    [[nodiscard]] static constexpr device as_device() { return to_device(spec); }
};

} // namespace vramfit::catalog
