// vramfit/plan/speed.hpp — how fast a placement runs: a first-order model of llama.cpp's decode and
// prompt throughput, for comparing placements side by side. It is a model, not a measurement:
// it ranks alternatives and says what a GB of GPU memory buys; it does not promise tokens/s.
//
// Basis (every term is a byte count or a FLOP count divided by a rate):
//  * Decode (one token, one sequence) is memory-bound: every weight a token touches is read once
//    from the memory it lives in. Per layer that is the layer's non-expert weights plus, for a
//    mixture of experts, n_expert_used / n_expert of its expert weights (the router picks
//    n_expert_used experts per token: ggml_mul_mat_id reads only the selected experts' rows,
//    ggml/src/ggml-cuda/ggml-cuda.cu ggml_cuda_mul_mat_id), plus the layer's KV cells in use
//    (the context half full: the mean over a generation that fills it). The output layer reads
//    output.weight in full; the input layer reads one row of token_embd (ignored).
//    llama.cpp runs the layers of one token one device after the other (layer split is a
//    pipeline, src/llama-context.cpp graph_compute → ggml_backend_sched_graph_compute), so the
//    times add: t = Σ_device bytes_device / bandwidth_device.
//  * Prompt (a ubatch of n_ubatch tokens) is compute-bound on a GPU: 2 FLOPs per active weight
//    per token plus attention (2 · 2 · n_head · head_dim · n_kv per token and layer, QKᵀ and PV),
//    at the GPU's dense tensor rate (catalog fp16_tflops; fp32_tflops where the part has none).
//    Each device's time is the larger of its FLOP time and its weight-read time (roofline).
//    Weights kept in host memory are not computed on the CPU for a prompt: ggml-cuda's
//    ggml_backend_cuda_device_offload_op offloads an op whose batch is at least 32 tokens
//    (get_op_batch_size >= min_batch_size = 32), copying its weights over PCIe each ubatch, so
//    their cost is bytes / PCIe bandwidth per ubatch. With no GPU in use they run on the CPU.
//  * Transfers: at each boundary between two devices one token's activations (n_embd f32 values,
//    ggml_backend_sched copies the layer input tensor) cross the link: NVLink when both GPUs have
//    it (half the catalog figure, which counts both directions), else PCIe (the slower end), per
//    direction: lanes × the per-lane rate of the generation after line coding (PCI-SIG: gen3
//    8 GT/s 128b/130b = 0.985 GB/s, gen4 1.969, gen5 3.938, gen6 7.563 GB/s). Latency is not
//    modelled (a few microseconds per hop: small beside a 70B layer read, not beside a 1B one).
//  * Across machines (llama.cpp RPC, tools/rpc): the same activations cross the network at
//    `network_gb_s`.
//  * Host memory bandwidth, host FLOP rate, disk bandwidth and network rate are inputs
//    (speed_inputs) with documented defaults, because vramfit cannot see the machine.
//  * Disk: with mmap, weights that do not fit in RAM are paged in from the file on every token
//    that touches them; the paged share of the host-resident bytes read per token costs
//    bytes / disk bandwidth. This is why disk placement is flagged as slow.
#pragma once

#include <cstdint>

#include "vramfit/catalog/gpus.hpp"

namespace vramfit {

struct speed_inputs {
    // Host memory bandwidth, GB/s. Default: dual-channel DDR4-3200 peak, 2 channels × 8 bytes ×
    // 3200 MT/s = 51.2 GB/s (JEDEC DDR4-3200 transfer rate; 64-bit channel).
    double host_bandwidth_gb_s = 51.2;
    // Host dense FLOP rate, TFLOPS. Default: 8 cores × 3.0 GHz × 32 FP32 FLOP per cycle (two
    // 256-bit FMA units, AVX2: 2 × 8 lanes × 2) = 0.768 TFLOPS peak.
    double host_tflops = 0.768;
    // Disk read bandwidth, GB/s. Default: a PCIe 3.0 x4 NVMe link, 4 × 0.985 = 3.94 GB/s.
    double disk_gb_s = 3.94;
    // Network between RPC nodes, GB/s. Default: 10 Gb Ethernet = 1.25 GB/s.
    double network_gb_s = 1.25;
};

namespace detail {
// Per-lane, per-direction PCIe rate after line coding, GB/s (PCI-SIG base specifications:
// gen1 2.5 GT/s 8b/10b, gen2 5 GT/s 8b/10b, gen3 8 GT/s, gen4 16, gen5 32 GT/s 128b/130b,
// gen6 64 GT/s PAM4 FLIT ~ 7.563 GB/s).
[[nodiscard]] constexpr double pcie_lane_gb_s(int gen) noexcept {
    switch (gen) {
        case 1: return 0.25;
        case 2: return 0.5;
        case 3: return 0.985;
        case 4: return 1.969;
        case 5: return 3.938;
        case 6: return 7.563;
        default: return 0.985;  // unknown generation: gen3, the oldest in the catalog
    }
}
} // namespace detail

// Host link of one GPU, GB/s per direction.
[[nodiscard]] constexpr double pcie_gb_s(const catalog::gpu_spec& gpu) noexcept {
    const int lanes = gpu.pcie_lanes > 0 ? gpu.pcie_lanes : 16;
    return detail::pcie_lane_gb_s(gpu.pcie_gen) * lanes;
}

// Link between two GPUs of one machine, GB/s per direction.
[[nodiscard]] constexpr double gpu_link_gb_s(const catalog::gpu_spec& a, const catalog::gpu_spec& b) noexcept {
    if (a.nvlink_gb_s > 0 && b.nvlink_gb_s > 0) return (a.nvlink_gb_s < b.nvlink_gb_s ? a.nvlink_gb_s : b.nvlink_gb_s) / 2;
    const double pa = pcie_gb_s(a);
    const double pb = pcie_gb_s(b);
    return pa < pb ? pa : pb;
}

// Dense matrix rate of a GPU, TFLOPS: the tensor FP16 rate, or FP32 where the part has none.
[[nodiscard]] constexpr double gpu_tflops(const catalog::gpu_spec& gpu) noexcept {
    return gpu.fp16_tflops > 0 ? gpu.fp16_tflops : gpu.fp32_tflops;
}

// Memory bandwidth of a GPU, GB/s (a live device without a figure counts as the slowest catalog part).
[[nodiscard]] constexpr double gpu_bandwidth_gb_s(const catalog::gpu_spec& gpu) noexcept {
    return gpu.bandwidth_gb_s > 0 ? gpu.bandwidth_gb_s : 240.0;
}

// What one device contributes to a token: bytes read and FLOPs done there.
struct device_work {
    double decode_bytes = 0;   // read per decoded token
    double prompt_flops = 0;   // per prompt token
    double prompt_bytes = 0;   // weight bytes read once per ubatch
};

struct speed_estimate {
    double decode_tokens_per_s = 0;
    double prompt_tokens_per_s = 0;
    // Shares of the decode time per token, seconds.
    double gpu_s = 0;
    double host_s = 0;
    double disk_s = 0;
    double transfer_s = 0;
};

} // namespace vramfit
