// vramfit/engines/vllm/memory.hpp — what vLLM subtracts before the KV cache gets the rest of
// gpu_memory_utilization: the budget, the weights, the profile run's activation peak, non-torch
// memory and (from 0.20) the CUDA-graph estimate.
//
// The accounting, per release family (version.hpp), is vLLM's:
//  * requested = total × util, the CUDA total of one GPU (device.hpp); math.ceil from 0.15
//    (request_memory, vllm/v1/worker/utils.py).
//  * V1 0.9 on (Worker.determine_available_memory, vllm/v1/worker/gpu_worker.py;
//    memory_profiling, vllm/utils/mem_utils.py): available = requested − (weights + the torch
//    peak's rise in the profile run + the non-torch rise) − the CUDA-graph estimate (0.20 on,
//    GPUModelRunner.profile_cudagraph_memory, unless --enforce-eager).
//  * V1 0.8 (@0.8.5.post1): total × util − (torch peak, weights included, + non-torch): the same sum.
//  * V0 0.6.4 on (Worker.determine_num_available_blocks, vllm/worker/worker.py): requested −
//    weights − non-torch − activation peak ("the rest of the memory reserved for KV Cache").
//  * --kv-cache-memory (kv_cache_memory_bytes): that figure, nothing subtracted.
//
// The three profiled terms are not in any file vLLM reads: they are ESTIMATES, each a named
// constant below with the logs it was fitted to (tests/data/vllm, BENCHMARKS.md has every row):
//  * the profile run's forward pass (GPUModelRunner.profile_run → _dummy_run over
//    max_num_batched_tokens tokens) peaks in the MLP: the residual, the normed input and the
//    output (3 × hidden) plus gate_up and its activation (V1's compiled graph: 2 × width, V0's
//    eager forward keeps gate_up alive through down_proj: 3 × width); MoE layers hold fused_moe's
//    intermediate caches instead (topk × (max(2 × width, hidden) + width), fused_experts_impl);
//  * the sampler pass (_dummy_sampler_run, last PP stage) over min(max_num_seqs,
//    max_num_batched_tokens) rows of vocabulary logits, whose bytes per logit depend on the
//    sampler's code path (float32 copies, sort and softmax buffers of top-k/top-p) — fitted per era;
//  * non-torch memory (cuBLAS workspaces, NCCL, the custom all-reduce buffers): a constant;
//  * the CUDA-graph estimate: per captured graph and decoder layer (graph nodes are per kernel).
#pragma once

#include <cstdint>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/device.hpp"
#include "vramfit/engines/vllm/device.hpp"
#include "vramfit/engines/vllm/settings.hpp"
#include "vramfit/engines/vllm/version.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::vllm {

namespace estimates {
inline constexpr std::uint64_t mib = 1048576;
// Non-torch memory of a V1 worker: 225 MiB, plus 50 MiB with tensor parallel (NCCL communicators);
// fitted to the 0.10.1.1 Qwen2-7B runs on A100 80GB (TP 1: 0.55 GiB, TP 2: 0.67 GiB of non-KV memory
// besides weights, the sampler's share removed).
inline constexpr std::uint64_t v1_non_torch = 225 * mib;
inline constexpr std::uint64_t v1_non_torch_tensor_parallel = 50 * mib;
// V0: the 0.35 GiB the 0.6.4 profiler printed on an RTX 3090 (issue #10517).
inline constexpr std::uint64_t v0_non_torch = 358 * mib;
// Sampler bytes per logit element (rows × vocabulary): V0 41 (PR #10511's 1.26 GiB peak for 256 ×
// 128256 logits), V1 up to 0.10 10 (the 0.10.1.1 A100 rows), 0.11–0.21 26 (the 0.11.2 and 0.19.0
// rows), 0.22 on 4 (the 0.27.1 TP 2 row: one float32 copy).
[[nodiscard]] constexpr std::uint64_t sampler_bytes_per_logit(release r, engine_kind e) noexcept {
    if (e == engine_kind::v0) return 41;
    if (r < release{0, 11, 0}) return 10;
    if (r < release{0, 21, 0}) return 26;
    return 4;
}
// CUDA-graph estimate per captured graph and decoder layer: 150 KiB (the 0.30.0 log's util 0.85 ≡
// 0.8265 on a 14.58 GiB T4: 0.343 GiB over 86 graphs of a 28-layer model).
inline constexpr std::uint64_t cudagraph_bytes_per_graph_layer = 150 * 1024;
} // namespace estimates

// The memory vLLM lets this instance use on one GPU.
[[nodiscard]] constexpr bytes requested_memory(bytes total, double util, release r, engine_kind e) noexcept {
    const double product = static_cast<double>(total.count()) * util;
    auto whole = static_cast<std::uint64_t>(product);
    if (e == engine_kind::v1 && rounds_requested_memory_up(r) && static_cast<double>(whole) < product) ++whole;
    return bytes{whole};
}

// CUDA-graph capture sizes (VllmConfig._set_cudagraph_sizes @0.33.0): 1, 2, 4, 8..248 step 8,
// 256..max step 16 with max = min(2 × max_num_seqs, 512) (1024 on SM100 and for gpt-oss, "Overriding
// max cuda graph capture size to 1024"), none above max_num_batched_tokens. PIECEWISE graphs for
// every size, FULL graphs for the decode sizes up to max_num_seqs (FULL_AND_PIECEWISE, 0.11 on).
struct capture_sizes {
    std::uint32_t piecewise = 0;
    std::uint32_t full = 0;
};

[[nodiscard]] constexpr capture_sizes cudagraph_capture_sizes(const resolved_args& r, const model_config& c, const device& gpu) noexcept {
    capture_sizes n{};
    if (r.enforce_eager || r.engine == engine_kind::v0) return n;
    std::uint32_t limit = is_sm100(gpu) || c.model_type.view() == "gpt_oss" ? 1024u : 512u;
    if (2 * r.max_num_seqs < limit) limit = 2 * r.max_num_seqs;
    auto take = [&](std::uint32_t size) {
        if (size > limit || size > r.max_num_batched_tokens) return;
        ++n.piecewise;
        if (size <= r.max_num_seqs && r.version >= release{0, 11, 0}) ++n.full;
    };
    take(1);
    take(2);
    take(4);
    for (std::uint32_t size = 8; size < 256; size += 8) take(size);
    for (std::uint32_t size = 256; size <= limit; size += 16) take(size);
    return n;
}

// What the estimate of profile_cudagraph_memory subtracts (0 where it is not subtracted).
[[nodiscard]] constexpr bytes cudagraph_estimate(const resolved_args& r, const model_config& c, const device& gpu,
                                                 std::uint32_t layers) noexcept {
    if (!reserves_cudagraph_estimate(r.version, r.engine) || r.enforce_eager) return {};
    const auto n = cudagraph_capture_sizes(r, c, gpu);
    return bytes{std::uint64_t{n.piecewise + n.full} * layers * estimates::cudagraph_bytes_per_graph_layer};
}

// The profile run's peak above the weights on one GPU of a stage (estimate, header comment).
[[nodiscard]] constexpr bytes activation_peak(const model_config& c, const resolved_args& r, bool last_stage) noexcept {
    const std::uint64_t e = bytes_per_block(r.model_dtype);
    const std::uint64_t h = c.hidden_size;
    const std::uint64_t tokens = r.max_num_batched_tokens;
    std::uint64_t per_token = 3 * h;
    const std::uint64_t width_factor = r.engine == engine_kind::v0 ? 3 : 2;
    std::uint64_t mlp = 0;
    const bool dense_layers = !c.is_moe() || c.first_k_dense_replace != 0 || !c.mlp_only_layers.empty();
    if (dense_layers) mlp = width_factor * c.intermediate_size / r.tp;
    if (c.is_moe()) {
        const std::uint64_t width = (c.moe_intermediate_size != 0 ? c.moe_intermediate_size : c.intermediate_size) /
                                    (r.expert_parallel ? 1 : r.tp);
        const std::uint64_t cache13 = 2 * width > h ? 2 * width : h;
        const std::uint64_t moe = std::uint64_t{c.num_experts_per_tok} * (cache13 + width);
        mlp = moe > mlp ? moe : mlp;
    }
    per_token += mlp;
    const std::uint64_t forward = tokens * per_token * e;
    std::uint64_t sampler = 0;
    if (last_stage) {
        std::uint64_t rows = r.max_num_seqs;
        if (r.engine == engine_kind::v1 && tokens < rows) rows = tokens;
        sampler = rows * c.vocab_size * estimates::sampler_bytes_per_logit(r.version, r.engine) + tokens * h * e;
    }
    return bytes{forward > sampler ? forward : sampler};
}

[[nodiscard]] constexpr bytes non_torch_memory(const resolved_args& r) noexcept {
    if (r.engine == engine_kind::v0) return bytes{estimates::v0_non_torch};
    return bytes{estimates::v1_non_torch + (r.tp > 1 ? estimates::v1_non_torch_tensor_parallel : 0)};
}

// One GPU's budget and what is left for the KV cache. `available` and `shortfall` are never both
// non-zero: a budget the non-KV terms exceed leaves a shortfall (vLLM prints it negative).
struct memory_budget {
    bytes total{};
    double utilization = 0.0;
    bytes requested{};
    bytes weights{};
    bytes activation_peak{};
    bytes non_torch{};
    bytes cudagraph_estimate{};
    bool given = false;  // --kv-cache-memory: taken as is
    bytes available{};
    bytes shortfall{};

    [[nodiscard]] constexpr bytes non_kv() const noexcept { return weights + activation_peak + non_torch + cudagraph_estimate; }
    // The available figure in GiB, negative for a shortfall (what vLLM prints).
    [[nodiscard]] constexpr double available_gib() const noexcept { return shortfall.count() != 0 ? -shortfall.gib() : available.gib(); }
};

[[nodiscard]] constexpr memory_budget kv_memory(const model_config& c, const resolved_args& r, const device& gpu, bytes weights,
                                                std::uint32_t layers, bool last_stage) noexcept {
    memory_budget b{};
    b.total = cuda_total_memory(gpu);
    b.utilization = r.gpu_memory_utilization;
    b.requested = requested_memory(b.total, r.gpu_memory_utilization, r.version, r.engine);
    b.weights = weights;
    b.activation_peak = activation_peak(c, r, last_stage);
    b.non_torch = non_torch_memory(r);
    b.cudagraph_estimate = cudagraph_estimate(r, c, gpu, layers);
    if (r.kv_cache_memory_bytes) {
        b.given = true;
        b.available = *r.kv_cache_memory_bytes;
        return b;
    }
    const bytes used = b.non_kv();
    if (used > b.requested) b.shortfall = used - b.requested;
    else b.available = b.requested - used;
    return b;
}

} // namespace vramfit::vllm
