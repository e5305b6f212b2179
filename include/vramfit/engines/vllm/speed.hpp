// vramfit/engines/vllm/speed.hpp — an upper bound on one sequence's decode rate for a TP × PP layout,
// from plan/speed.hpp's rates (GPU memory bandwidth, NVLink / PCIe between GPUs, the network
// between machines) and the start-up estimate's own shards.
//
// Per decoded token:
//  * every TP rank of a stage reads its shard at its GPU's bandwidth, all ranks at once: the
//    stage's decoder layers (routed experts: n_experts_per_tok / n_experts of them, whole experts
//    or slices alike), the lm_head on the last stage (the embedding is one row), and the KV cache
//    of one request half way through max_model_len (request_bytes, the mean over a generation
//    that fills it);
//  * weights kept in host memory by --cpu-offload-gb are read over the GPU's PCIe link (UVA);
//  * TP all-reduces the hidden state twice per layer (RowParallelLinear's reduce_results after
//    o_proj and down_proj): a ring moves 2 (TP − 1) / TP of it per rank over the GPUs' link;
//  * PP runs the stages one after the other, and each boundary sends the hidden state and the
//    residual (IntermediateTensors in the model files' forward) over NVLink / PCIe within a node or
//    the network between nodes.
// Only bytes over rates: no kernel launch, all-reduce or network latency, no compute, one sequence.
// It is a BOUND on what a layout can do, for ranking layouts, not a prediction; no measurement
// gives it an error band yet.
#pragma once

#include <cstdint>

#include "vramfit/core/device.hpp"
#include "vramfit/engines/vllm/estimate.hpp"
#include "vramfit/engines/vllm/kv_cache.hpp"
#include "vramfit/engines/vllm/layout.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"
#include "vramfit/plan/speed.hpp"

namespace vramfit::vllm {

struct decode_bound {
    double tokens_per_s = 0;
    // seconds per token
    double read_s = 0;        // GPU memory, every stage
    double offload_s = 0;     // host memory over PCIe
    double all_reduce_s = 0;  // TP
    double pipeline_s = 0;    // PP boundaries
};

// Bytes one GPU of a stage reads per token from its memory and from host memory.
struct stage_reads {
    double device = 0;
    double host = 0;
};

[[nodiscard]] constexpr stage_reads stage_read_bytes(const model_config& c, const stage_estimate& st, bool last_stage,
                                                     std::uint64_t max_model_len) noexcept {
    const auto& w = st.weights;
    const double expert_share =
        c.num_experts != 0 && c.num_experts_per_tok != 0 ? static_cast<double>(c.num_experts_per_tok) / static_cast<double>(c.num_experts) : 1.0;
    const auto d = [](bytes b) { return static_cast<double>(b.count()); };
    const double layers_held = d(w.attention) + d(w.mlp) + d(w.experts) + d(w.router) + d(w.norms);
    const double layers_read = d(w.attention) + d(w.mlp) + d(w.router) + d(w.norms) + d(w.experts) * expert_share;
    // tied embeddings on one stage: the embedding is the lm_head's matrix
    const double head = w.lm_head.count() != 0 ? d(w.lm_head) : (last_stage && c.tie_word_embeddings ? d(w.embedding) : 0.0);
    stage_reads r{};
    r.host = layers_held > 0 ? d(w.offloaded) * layers_read / layers_held : 0.0;
    r.device = layers_read + head - r.host + d(request_bytes(st.kv, max_model_len / 2));
    return r;
}

[[nodiscard]] constexpr decode_bound decode_speed(const model_config& c, const startup_estimate& e, const device& gpu,
                                                  const gpu_cluster& cluster, const speed_inputs& rates = {}) noexcept {
    decode_bound out{};
    const auto& r = e.args;
    const double bandwidth = gpu_bandwidth_gb_s(gpu) * 1e9;
    const double pcie = pcie_gb_s(gpu) * 1e9;
    const double link = gpu_link_gb_s(gpu, gpu) * 1e9;
    const double hidden = static_cast<double>(c.hidden_size) * bytes_per_block(r.model_dtype);
    for (std::uint32_t s = 0; s < e.stages.size(); ++s) {
        const auto& st = e.stages[s];
        const auto reads = stage_read_bytes(c, st, s + 1 == e.stages.size(), r.max_model_len);
        out.read_s += reads.device / bandwidth;
        out.offload_s += reads.host / pcie;
        if (r.tp > 1) {
            const double ring = 2.0 * static_cast<double>(r.tp - 1) / static_cast<double>(r.tp) * hidden / link;
            out.all_reduce_s += 2.0 * st.weights.layers * ring;
        }
        if (s + 1 < e.stages.size()) {
            const bool across = stage_node(cluster, r.tp, s) != stage_node(cluster, r.tp, s + 1);
            out.pipeline_s += 2.0 * hidden / ((across ? rates.network_gb_s : gpu_link_gb_s(gpu, gpu)) * 1e9);
        }
    }
    const double t = out.read_s + out.offload_s + out.all_reduce_s + out.pipeline_s;
    out.tokens_per_s = t > 0 ? 1.0 / t : 0.0;
    return out;
}

} // namespace vramfit::vllm
