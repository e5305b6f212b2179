// vramfit/plan/speed.hpp — how fast a placement runs: a first-order model of decode and prompt
// throughput (stated here for llama.cpp, whose pipeline it was written for), for comparing placements side by side. It is a model, not a measurement:
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
#include <span>
#include <vector>

#include "vramfit/plan/device.hpp"
#include "vramfit/plan/engine.hpp"

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
[[nodiscard]] constexpr double pcie_gb_s(const plan_device& gpu) noexcept {
    const int lanes = gpu.pcie_lanes > 0 ? gpu.pcie_lanes : 16;
    return detail::pcie_lane_gb_s(gpu.pcie_gen) * lanes;
}

// Link between two GPUs of one machine, GB/s per direction.
[[nodiscard]] constexpr double gpu_link_gb_s(const plan_device& a, const plan_device& b) noexcept {
    if (a.nvlink_gb_s > 0 && b.nvlink_gb_s > 0) return (a.nvlink_gb_s < b.nvlink_gb_s ? a.nvlink_gb_s : b.nvlink_gb_s) / 2;
    const double pa = pcie_gb_s(a);
    const double pb = pcie_gb_s(b);
    return pa < pb ? pa : pb;
}

// Dense matrix rate of a GPU, TFLOPS: the tensor FP16 rate, or FP32 where the part has none.
[[nodiscard]] constexpr double gpu_tflops(const plan_device& gpu) noexcept {
    return gpu.fp16_tflops > 0 ? gpu.fp16_tflops : gpu.fp32_tflops;
}

// Memory bandwidth of a GPU, GB/s (a live device without a figure counts as the slowest catalog part).
[[nodiscard]] constexpr double gpu_bandwidth_gb_s(const plan_device& gpu) noexcept {
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

// A placement, as the speed model sees it (plan/engine.hpp: units, devices, splittable parts).
struct speed_layout {
    std::span<const std::uint32_t> devices;  // device ids, in sequence order
    std::span<const std::uint32_t> counts;   // units per device
    std::uint32_t on_devices = 0;
    std::uint32_t split_on_host = 0;
    std::uint64_t host_weights = 0;          // weight bytes in host memory (RAM or paged)
    std::uint64_t disk = 0;                  // of which paged from disk
};

// Decode and prompt speed of a placement. `gpu(id)` is the device of an id, `node(id)` its machine.
template <class Gpu, class Node>
[[nodiscard]] constexpr speed_estimate estimate_speed(const speed_inputs& s, const weight_costs& w, const context_costs& c,
                                                      const speed_layout& o, Gpu gpu, Node node) {
    speed_estimate out{};
    const std::uint32_t n_layer = w.n_layer();
    const std::uint32_t first = n_layer + 1 - o.on_devices;
    // Device of each unit in the sequence: -1 the host, else position in o.devices.
    std::vector<int> dev;
    {
        std::size_t j = 0;
        std::uint32_t left = o.counts.empty() ? 0 : o.counts[0];
        for (std::uint32_t il = 0; il <= n_layer; ++il) {
            if (il < first) { dev.push_back(-1); continue; }
            while (left == 0 && j + 1 < o.counts.size()) left = o.counts[++j];
            dev.push_back(static_cast<int>(j));
            if (left > 0) --left;
        }
    }
    const double act = 4.0 * static_cast<double>(w.n_embd);
    double host_read = 0;
    double prompt_s = 0;  // per ubatch
    double prompt_host_bytes = 0;
    double host_flops = 0;
    std::vector<double> gpu_read;
    std::vector<double> gpu_flops;
    for (std::size_t j = 0; j < o.devices.size(); ++j) { gpu_read.push_back(0); gpu_flops.push_back(0); }
    const double ub = static_cast<double>(c.n_ubatch);
    int previous = -1;  // the input layer is on the host
    std::uint32_t previous_node = 0;
    double transfer = 0;
    for (std::uint32_t il = 0; il <= n_layer; ++il) {
        const int d = dev[il];
        const layer_cost& lw = w.layers[il];
        const kv_cost& lc = c.layers[il];
        const double layer_flops = lw.flops + lc.flops;
        if (d < 0) {
            host_read += lw.read + lc.read;
            host_flops += layer_flops;
            prompt_host_bytes += static_cast<double>(lw.on_host);
        } else {
            const bool split_on_host = il < o.split_on_host && il < n_layer && lw.read_splittable > 0;
            const double on_gpu = lw.read - (split_on_host ? lw.read_splittable : 0.0) + lc.read;
            gpu_read[static_cast<std::size_t>(d)] += on_gpu;
            gpu_flops[static_cast<std::size_t>(d)] += layer_flops;
            if (split_on_host) {
                host_read += lw.read_splittable;
                prompt_host_bytes += static_cast<double>(lw.host_splittable);
                transfer += 2 * act / (pcie_gb_s(gpu(o.devices[static_cast<std::size_t>(d)])) * 1e9);  // to the host's part and back
            }
        }
        if (d != previous) {
            const std::uint32_t at = d < 0 ? 0 : node(o.devices[static_cast<std::size_t>(d)]);
            double link = 0;
            if (at != previous_node) link = s.network_gb_s;
            else if (d < 0) link = pcie_gb_s(gpu(o.devices[static_cast<std::size_t>(previous)]));
            else if (previous < 0) link = pcie_gb_s(gpu(o.devices[static_cast<std::size_t>(d)]));
            else link = gpu_link_gb_s(gpu(o.devices[static_cast<std::size_t>(previous)]), gpu(o.devices[static_cast<std::size_t>(d)]));
            transfer += act / (link * 1e9);
            previous = d;
            previous_node = at;
        }
    }
    double gpu_s = 0;
    for (std::size_t j = 0; j < o.devices.size(); ++j) {
        const auto& g = gpu(o.devices[j]);
        gpu_s += gpu_read[j] / (gpu_bandwidth_gb_s(g) * 1e9);
        const double flop_s = gpu_flops[j] * ub / (gpu_tflops(g) * 1e12);
        const double read_s = gpu_read[j] / (gpu_bandwidth_gb_s(g) * 1e9);
        prompt_s += flop_s > read_s ? flop_s : read_s;
    }
    out.gpu_s = gpu_s;
    // Disk: the share of the host-resident weights that does not fit in RAM pages in per token.
    const double host_weights = static_cast<double>(o.host_weights);
    const double paged = host_weights > 0 ? static_cast<double>(o.disk) / host_weights : 0.0;
    out.host_s = host_read * (1 - (paged > 1 ? 1 : paged)) / (s.host_bandwidth_gb_s * 1e9);
    out.disk_s = host_read * (paged > 1 ? 1 : paged) / (s.disk_gb_s * 1e9);
    out.transfer_s = transfer;
    const double decode = out.gpu_s + out.host_s + out.disk_s + out.transfer_s;
    out.decode_tokens_per_s = decode > 0 ? 1.0 / decode : 0.0;
    if (o.devices.empty()) {
        prompt_s += host_flops * ub / (s.host_tflops * 1e12);
    } else if (prompt_host_bytes > 0) {
        // ops on host weights are offloaded for the ubatch: the weights cross PCIe (see the header)
        prompt_s += prompt_host_bytes / (pcie_gb_s(gpu(o.devices.front())) * 1e9);
    }
    prompt_s += out.disk_s * ub > 0 ? static_cast<double>(o.disk) / (s.disk_gb_s * 1e9) : 0.0;
    prompt_s += transfer * ub;
    out.prompt_tokens_per_s = prompt_s > 0 ? ub / prompt_s : 0.0;
    return out;
}

} // namespace vramfit
