// vramfit/core/cuda_overhead.hpp — what any CUDA process loses on a device before its first
// buffer: memory no engine's buffer line shows. An ESTIMATE with explicit bounds, from public
// measurements; no engine computes it. Engines add their own unlogged use on top
// (llama.cpp: engines/llama_cpp/cuda/runtime_overhead.hpp).
//
// Two parts, per CUDA device:
//
//  1. Driver reserve: the catalog's capacity is the nvidia-smi total (catalog/gpus.hpp), but
//     CUDA (cudaMemGetInfo / cudaGetDeviceProperties, which llama.cpp reads) reports a smaller
//     total; the difference is never allocatable. Measured pairs (nvidia-smi vs CUDA total, MiB):
//     RTX 3090 24576 vs 24268 / 24238 (deviceQuery runs, see gpus.hpp) = 308..338;
//     RTX 4090 24564 vs 24080 (llama.cpp PR #15860's memory breakdown) = 484;
//     RTX 5090 32607 vs 32106 (llama.cpp issue #17536's device list) = 501;
//     RTX PRO 6000 Blackwell 97887 (NVML) vs 97247 (ggml_cuda_init) = 640 (PR #23604).
//     308 to 640 MiB on cards from 24 to 96 GB (0.65 % to 1.97 %: not a fixed share), so a flat
//     figure: their mean, 487 MiB, bounds 300 and 650 MiB; the three measured GeForce cards use
//     their own (catalog/gpus.hpp: driver_reserve_low_mib / driver_reserve_high_mib, carried by
//     core::device). A device whose figures come from CUDA (cudaMemGetInfo's total or free) is
//     charged none: CUDA's figures never include it.
//  2. CUDA primary context: llama.cpp PR #23604 measured what creating the context costs and
//     stays allocated ("cost scales with SM count"): RTX 4060 Ti (Ada, 34 SMs) 107 MiB, RTX PRO
//     6000 Blackwell (188 SMs) 555 MiB, i.e. 8.1 MiB + 2.909 MiB per SM through both points.
//     (PR #20595 gives the same range for the primary context llama.cpp creates: "120-550 MB
//     depending on GPU".)
//     Measured for Ada and Blackwell (CUDA 12/13 drivers, lazy module loading); other
//     generations use the same line with wider bounds (+-50 %), cross-checked against the
//     context sizes PyTorch users report: ~300 MB with lazy loading (pytorch #107667), 300-400 MB
//     per process on V100 with CUDA 10 (pytorch #20532), 200-700 MB on Kepler K40c with CUDA
//     10.1 (pytorch #28113, eager loading; Kepler/Maxwell/Pascal get those bounds).
//     A device measured live is charged none: cudaMemGetInfo answers only inside a context, so
//     its free figure already lacks one; that context goes when the querying process exits and
//     the engine's own takes its place.
//
// Assumes CUDA 12.2 or later, where lazy module loading is the default; with older toolkits
// every kernel is loaded when the context is created (PyTorch on an RTX 3090 with CUDA 11.1
// showed 1001 MiB for a tiny tensor, pytorch #54564), far above `high`.
#pragma once

#include <cstdint>
#include <string_view>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/device.hpp"

namespace vramfit {

struct cuda_overhead {
    bytes estimate{};
    bytes low{};
    bytes high{};
    // The three parts' estimates (they add up to `estimate`).
    bytes driver_reserve{};
    bytes context{};
    bytes runtime{};
    bool context_measured = false;  // the context line was measured on this generation
    std::string_view source;        // the measurements used, by address
};

namespace detail::overhead {

inline constexpr std::uint64_t mib = 1048576;
inline constexpr std::string_view ada_blackwell_sources =
    "https://github.com/ggml-org/llama.cpp/pull/23604 (context per SM), "
    "https://github.com/ggml-org/llama.cpp/pull/20595 (120-550 MB context), "
    "https://github.com/ggml-org/llama.cpp/pull/15860 (RTX 4090 unaccounted), "
    "https://github.com/ggml-org/llama.cpp/issues/17536 (RTX 5090 CUDA total)";
inline constexpr std::string_view volta_to_hopper_sources =
    "https://github.com/ggml-org/llama.cpp/pull/23604 (context per SM, Ada/Blackwell), "
    "https://github.com/pytorch/pytorch/issues/107667, https://github.com/pytorch/pytorch/issues/20532 "
    "(context size), https://github.com/ggml-org/llama.cpp/pull/15860 (llama.cpp extra)";
inline constexpr std::string_view before_volta_sources =
    "https://github.com/pytorch/pytorch/issues/28113 (Kepler context 200-700 MB), "
    "https://github.com/ggml-org/llama.cpp/pull/15860 (llama.cpp extra)";

// Part 2: 8.1 MiB + 2.909 MiB per SM, in bytes (PR #23604: 107 MiB at 34 SMs, 555 MiB at 188).
[[nodiscard]] constexpr std::uint64_t context_line(int sm_count) noexcept {
    const double value = 8.1 + 2.909 * static_cast<double>(sm_count < 0 ? 0 : sm_count);
    return static_cast<std::uint64_t>(value * static_cast<double>(mib));
}

// Part 1 for a card not measured: the mean of the four measurements and bounds around all four.
inline constexpr std::uint64_t reserve_mib = 487, reserve_mib_low = 300, reserve_mib_high = 650;

} // namespace detail::overhead

// Parts 1 and 2 for `gpu` (see the header for every figure); `runtime` is left to the engine.
// Figures from CUDA have no driver reserve left to charge; a measured free figure has no
// context left to charge either.
[[nodiscard]] constexpr cuda_overhead cuda_process_overhead(const device& gpu) noexcept {
    namespace o = detail::overhead;
    cuda_overhead r{};
    const int cc = gpu.cc_major * 10 + gpu.cc_minor;

    // 1. driver reserve: the card's measurement, else the mean of all measurements
    std::uint64_t reserve = o::reserve_mib * o::mib;
    std::uint64_t reserve_low = o::reserve_mib_low * o::mib;
    std::uint64_t reserve_high = o::reserve_mib_high * o::mib;
    if (gpu.driver_reserve_low && gpu.driver_reserve_high) {
        reserve_low = gpu.driver_reserve_low->count();
        reserve_high = gpu.driver_reserve_high->count();
        reserve = (reserve_low + reserve_high) / 2;
    }
    if (gpu.total_from_cuda || gpu.measured()) reserve = reserve_low = reserve_high = 0;

    // 2. CUDA context
    std::uint64_t context = o::context_line(gpu.sm_count), context_low = context, context_high = context;
    if (cc >= 89 && cc != 90) {  // Ada (8.9), Blackwell (10.x, 12.x): measured
        r.context_measured = true;
        context_low = context * 9 / 10;  // the line's two points are single runs
        context_high = context * 11 / 10;
        r.source = o::ada_blackwell_sources;
    } else if (cc >= 70) {  // Volta, Turing, Ampere, Hopper: the line, +-50 %
        context_low = context / 2;
        context_high = context * 3 / 2;
        r.source = o::volta_to_hopper_sources;
    } else {  // Kepler, Maxwell, Pascal: pytorch #28113's 200-700 MB
        context = 450 * 1000000ULL;
        context_low = 200 * 1000000ULL;
        context_high = 700 * 1000000ULL;
        r.source = o::before_volta_sources;
    }
    if (gpu.measured()) context = context_low = context_high = 0;

    r.driver_reserve = bytes{reserve};
    r.context = bytes{context};
    r.estimate = bytes{reserve + context};
    r.low = bytes{reserve_low + context_low};
    r.high = bytes{reserve_high + context_high};
    return r;
}

} // namespace vramfit
