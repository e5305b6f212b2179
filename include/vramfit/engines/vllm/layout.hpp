// vramfit/engines/vllm/layout.hpp — whether a TP × PP layout is one vLLM starts for a model on a
// cluster of one GPU kind (`gpus_per_node` GPUs in each of `nodes` machines), and where its
// pipeline stages run.
//
// The model's rules are parallel.hpp's, the same ones the estimate applies: check_tensor_parallel
// (attention heads, KV heads divided or replicated, MLP and expert widths, the padded vocabulary,
// GPTQ/AWQ groups, FP8 weight blocks) and partition_layers (at most one stage per layer,
// VLLM_PP_LAYER_PARTITION). The cluster's:
//  * the world size TP × PP is at most the GPUs there are (ParallelConfig.world_size; Ray's
//    placement group, vllm/v1/executor/ray_utils.py initialize_ray_cluster, needs one GPU bundle
//    per worker);
//  * ranks are numbered tensor-parallel first (initialize_model_parallel,
//    vllm/distributed/parallel_state.py: rank = pp_rank × TP + tp_rank), so stage s runs on the
//    GPUs s·TP … s·TP + TP − 1, counted machine by machine. A TP group on two machines all-reduces
//    twice per layer over the network; vLLM starts it, the planner does not: TP stays inside a
//    node and pipeline stages span nodes, the multi-node layout vLLM's documentation recommends.
#pragma once

#include <cstdint>
#include <string_view>

#include "vramfit/core/error.hpp"
#include "vramfit/engines/vllm/parallel.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::vllm {

struct gpu_cluster {
    std::uint32_t gpus_per_node = 1;
    std::uint32_t nodes = 1;
    [[nodiscard]] constexpr std::uint32_t gpus() const noexcept { return gpus_per_node * nodes; }
};

// The machine (0-based) the first GPU of pipeline stage `stage` is on.
[[nodiscard]] constexpr std::uint32_t stage_node(const gpu_cluster& k, std::uint32_t tp, std::uint32_t stage) noexcept {
    return k.gpus_per_node == 0 ? 0 : stage * tp / k.gpus_per_node;
}

// Machines a layout occupies.
[[nodiscard]] constexpr std::uint32_t nodes_used(const gpu_cluster& k, std::uint32_t tp, std::uint32_t pp) noexcept {
    return k.gpus_per_node == 0 ? 0 : (tp * pp + k.gpus_per_node - 1) / k.gpus_per_node;
}

// The cluster's rules (header comment), in the order a person fixes them.
[[nodiscard]] constexpr result<void> check_placement(const gpu_cluster& k, std::uint32_t tp, std::uint32_t pp) {
    if (tp == 0 || pp == 0) return error{errc::invalid_argument, "tensor and pipeline parallel sizes must be at least 1"};
    if (k.gpus_per_node == 0 || k.nodes == 0) return error{errc::invalid_argument, "a cluster needs at least one node with one GPU"};
    if (tp > k.gpus_per_node) {
        return error{errc::invalid_argument, "tensor parallel "}.with_number(tp).with(" exceeds the ").with_number(k.gpus_per_node)
            .with(k.gpus_per_node == 1 ? " GPU of one node" : " GPUs of one node").with(" (tensor parallel stays within a node, pipeline stages span nodes)");
    }
    const std::uint64_t world = std::uint64_t{tp} * pp;
    if (world > k.gpus()) {
        return error{errc::invalid_argument, "TP "}.with_number(tp).with(" x PP ").with_number(pp).with(" needs ").with_number(world)
            .with(" GPUs, ").with_number(k.nodes).with(k.nodes == 1 ? " node of " : " nodes of ").with_number(k.gpus_per_node).with(" give ")
            .with_number(k.gpus());
    }
    for (std::uint32_t s = 0; s < pp; ++s) {
        const std::uint32_t first = s * tp;
        const std::uint32_t last = first + tp - 1;
        if (first / k.gpus_per_node != last / k.gpus_per_node) {
            return error{errc::invalid_argument, "TP "}.with_number(tp).with(" x PP ").with_number(pp).with(": stage ").with_number(s)
                .with(" (GPUs ").with_number(first).with("-").with_number(last).with(") would span two nodes of ").with_number(k.gpus_per_node)
                .with(" GPUs");
        }
    }
    return {};
}

// Every rule for a layout: the model's tensor-parallel rules, the cluster's, then the layer
// partition. The partition is returned, as partition_layers gives it.
[[nodiscard]] constexpr result<pipeline_partition> check_layout(const model_config& c, const gpu_cluster& k, std::uint32_t tp,
                                                                std::uint32_t pp, bool expert_parallel = false,
                                                                std::string_view layer_partition = {}) {
    if (auto ok = check_tensor_parallel(c, tp, expert_parallel); !ok) return ok.err();
    if (auto ok = check_placement(k, tp, pp); !ok) return ok.err();
    return partition_layers(c.num_hidden_layers, pp, layer_partition);
}

} // namespace vramfit::vllm
