// vramfit/engines/llama_cpp/cuda/runtime_overhead.hpp — what a CUDA device loses before llama.cpp's
// first buffer: the process's driver reserve and context (core/cuda_overhead.hpp) plus
// llama.cpp's own unlogged use. An ESTIMATE with explicit bounds, from public measurements; not an
// engine formula (the engine never computes it).
//
//   const auto o = vramfit::cuda_overhead_for(vramfit::catalog::gpu<"rtx-4090">::as_device());
//   // o.estimate ~ 935 MiB, o.low / o.high bound it, o.source says where the figures come from
//
//  3. llama.cpp's own unlogged use: the cuBLAS handle and workspace, the ggml CUDA memory pool,
//     loaded kernels. PR #15860 printed "unaccounted" = 451 / 456 / 456 MiB on three RTX 4090
//     running llama.cpp; less the context of part 2 for 128 SMs (380.5 MiB) that leaves 70-76
//     MiB. Estimate 75 MiB, low 0 (a run that loads few kernels), high 150 MiB (a judgment: twice
//     the one measurement, as the pool grows with batch size). Hopper and later add 28 MiB: the
//     cuBLAS documentation recommends a 32 MiB workspace there instead of 4 MiB (as cited in
//     pytorch PR #120925).
//
//
// Not included: other processes on the GPU (a desktop: R44's "unaccounted" 3945 MiB on an RTX
// 4090 is mostly that), a second llama-server process per GPU (llama.cpp issue #21692: ~700 MB
// more), MIG, and the cudaMalloc granularity of many small buffers. A fit should charge
// `estimate` per device, or `high` to be safe; cuda/fit.hpp charges it per device as its own line.
#pragma once

#include <cstdint>
#include <string_view>

#include "vramfit/catalog/gpus.hpp"
#include "vramfit/core/bytes.hpp"
#include "vramfit/core/cuda_overhead.hpp"
#include "vramfit/core/device.hpp"

namespace vramfit {

// The per-device overhead of running llama.cpp on `gpu`: the process's (core/cuda_overhead.hpp)
// and, as part 3, llama.cpp's cuBLAS workspace, pools and kernels.
[[nodiscard]] constexpr cuda_overhead cuda_overhead_for(const device& gpu) noexcept {
    namespace o = detail::overhead;
    cuda_overhead r = cuda_process_overhead(gpu);
    // 3. llama.cpp's cuBLAS workspace, pools and kernels
    std::uint64_t runtime = 75 * o::mib, runtime_low = 0, runtime_high = 150 * o::mib;
    if (gpu.cc_major >= 9) {
        runtime += 28 * o::mib;
        runtime_high += 28 * o::mib;
    }

    r.runtime = bytes{runtime};
    r.estimate += r.runtime;
    r.low += bytes{runtime_low};
    r.high += bytes{runtime_high};
    return r;
}

} // namespace vramfit
