// vramfit/engines/transformers/generate_memory.hpp — what generate() takes on each GPU for a
// placement of the model's modules: the weights placed there, the KV cache of the layers that
// run there, the activation peak there, the CUDA context, and their total.
//
// A placement says where each decoder layer and each top module (embed_tokens, the final norm,
// lm_head) sits: a GPU by index, the CPU or disk. It is deliberately small, so that a
// device_map (accelerate's infer_auto_device_map) can be turned into one.
//  * Layers run where they sit; offloaded ones (cpu, disk) run on the execution GPU: accelerate's
//    AlignDevicesHook (accelerate/hooks.py) with offload=True copies a layer's weights to its
//    execution device in pre_forward and drops them in post_forward, one layer at a time, so
//    that GPU holds the largest offloaded layer's weights on top of its own peak. Their
//    activations and their cache are made there too (the cache's tensors are created from the
//    layer's keys and values, cache_utils.py DynamicLayer.update).
//  * The hidden states cross devices between layers: the receiving layer's hook copies them (and
//    cos/sin, eager's mask) to its device; the logits live where lm_head is; generate() keeps
//    its int64 sequences and its float32 `next_token_logits` on input_ids' device, the
//    embedding's (generation/utils.py `_sample`: `.to(..., device=input_ids.device)`).
//  * The CUDA context is core/cuda_overhead.hpp's line (cuda_process_overhead), once per GPU
//    used.
// Weights are the module tree's (modules.hpp, compute_module_sizes): each decoder layer's bytes,
// embed_tokens, the final norm, lm_head (0 when tied), and the rest of the model (the rotary
// inv_freq buffers) with the embedding, so this header holds no second rule for parameter sizes.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/cuda_overhead.hpp"
#include "vramfit/core/device.hpp"
#include "vramfit/engines/transformers/activations.hpp"
#include "vramfit/engines/transformers/kv_cache.hpp"
#include "vramfit/engines/transformers/module_sizes.hpp"
#include "vramfit/engines/transformers/modules.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::transformers {

enum class location_kind : std::uint8_t { gpu, cpu, disk };

struct location {
    location_kind kind = location_kind::gpu;
    std::uint32_t gpu = 0;  // the GPU index, for location_kind::gpu
    friend constexpr bool operator==(const location&, const location&) = default;
};

// Decoder layers [first, first + count) at one location.
struct layer_block {
    location where{};
    std::uint32_t first = 0;
    std::uint32_t count = 0;
};

struct placement {
    std::span<const layer_block> layers{};  // every decoder layer once
    location embed_tokens{};
    location norm{};      // the final norm; lm_head's device in practice
    location lm_head{};
    std::uint32_t execution_gpu = 0;  // where offloaded modules run (dispatch_model's main device)
};

struct generate_request {
    attn_implementation attn = attn_implementation::sdpa;
    dtype type = dtype::bf16;
    std::uint32_t batch = 1;
    std::uint64_t prompt = 0;
    std::uint64_t new_tokens = 1;
    bool round512 = false;
};

inline constexpr std::uint32_t max_gpus = 16;

struct device_memory {
    bytes weights{};          // resident weights placed on this GPU
    bytes kv_cache{};         // the cache of the layers that run here, after generate()
    bytes prefill_peak{};     // the prefill forward's peak above weights (its cache included)
    bytes decode_peak{};      // the largest decode step's peak above weights, its cache included
    bytes activations{};      // the larger of the two, less the cache
    bytes offload_staging{};  // the largest offloaded layer's weights, on the execution GPU
    bytes cuda_context{};     // cuda_process_overhead(device).estimate; zero without a device
    bytes total{};
    bool used = false;
};

struct generate_memory_result {
    std::array<device_memory, max_gpus> gpus{};
    bytes offloaded_weights{};  // on the CPU or disk
    bool modelled = false;      // false: the architecture is not modelled
};

// The bytes compute_module_sizes gives the modules a placement places.
struct model_weights {
    std::vector<bytes> layers;  // decoder layer i: its no-split module
    bytes embed_tokens{};
    bytes norm{};
    bytes lm_head{};            // 0 when tied to embed_tokens (counted once, there)
    bytes rest{};               // everything else (rotary buffers), with the embedding

    [[nodiscard]] constexpr bytes total() const noexcept {
        bytes sum = embed_tokens + norm + lm_head + rest;
        for (auto b : layers) sum += b;
        return sum;
    }
};

// The decoder layers are the tree's decoder-layer modules in order; embed_tokens and the final
// norm are the text model's children of those names (the text model holds `layers`), lm_head
// the root's. GPT-NeoX names them embed_in and final_layer_norm; OPT's final_layer_norm is
// registered before its layers, so the map places it with the embedding and it stays in rest.
[[nodiscard]] constexpr model_weights weights_of(const module_tree& tree, const module_sizes& sizes) {
    model_weights w;
    bytes named{};
    std::size_t text_model = tree.nodes.size();
    for (std::size_t n = 1; n < tree.nodes.size(); ++n) {
        if (!tree.is_decoder_layer(tree.nodes[n])) continue;
        if (text_model == tree.nodes.size()) text_model = tree.nodes[tree.nodes[n].parent].parent;
        w.layers.push_back(sizes.of(n));
        named += sizes.of(n);
    }
    auto child = [&](std::size_t parent, std::string_view local, bytes& slot, bool after_layers = false) {
        if (parent >= tree.nodes.size()) return false;
        bool past_layers = false;
        for (auto c : tree.nodes[parent].children) {
            if (tree.nodes[c].local_name == "layers") past_layers = true;
            if (tree.nodes[c].local_name != local || (after_layers && !past_layers)) continue;
            slot = sizes.of(c);
            named += slot;
            return true;
        }
        return false;
    };
    if (!child(text_model, "embed_tokens", w.embed_tokens)) child(text_model, "embed_in", w.embed_tokens);
    if (!child(text_model, "norm", w.norm)) child(text_model, "final_layer_norm", w.norm, true);
    child(0, "lm_head", w.lm_head);
    w.rest = sizes.root() - std::min(sizes.root(), named);
    return w;
}

namespace detail::gen {

[[nodiscard]] constexpr std::uint32_t run_gpu(const location& l, const placement& p) noexcept {
    return l.kind == location_kind::gpu ? l.gpu : p.execution_gpu;
}

}  // namespace detail::gen

// Per GPU memory of generate() for `plan`; `gpus[i]` (when given) is GPU i, for its context line.
[[nodiscard]] constexpr generate_memory_result generate_memory(const model_config& config, const generate_request& request,
                                                               const placement& plan, const model_weights& weights,
                                                               std::span<const device> gpus = {}) {
    namespace a = detail::act;
    namespace g = detail::gen;
    generate_memory_result r{};
    if (!activations_modelled(config)) return r;
    r.modelled = true;

    auto place = [&](const location& l, bytes b) {
        if (l.kind == location_kind::gpu) {
            if (l.gpu < max_gpus) { r.gpus[l.gpu].weights += b; r.gpus[l.gpu].used = true; }
        } else {
            r.offloaded_weights += b;
        }
    };
    place(plan.embed_tokens, weights.embed_tokens + weights.rest);
    place(plan.norm, weights.norm);
    place(plan.lm_head, weights.lm_head);

    // layers per running GPU, the largest offloaded layer
    std::array<a::device_share, max_gpus> share{};
    bytes staging{};
    const auto final_cache = generate_cache(request.type, request.batch, request.prompt, request.new_tokens);
    for (const auto& block : plan.layers) {
        const std::uint32_t gpu = g::run_gpu(block.where, plan);
        if (gpu >= max_gpus) continue;
        r.gpus[gpu].used = true;
        for (std::uint32_t l = block.first; l < block.first + block.count; ++l) {
            share[gpu].layers.insert(l);
            ++share[gpu].count;
            const bytes layer = l < weights.layers.size() ? weights.layers[l] : bytes{};
            place(block.where, layer);
            r.gpus[gpu].kv_cache += kv_layer_bytes(config, l, final_cache);
            if (block.where.kind != location_kind::gpu) staging = std::max(staging, layer);
        }
    }
    if (staging != bytes{} && plan.execution_gpu < max_gpus) {
        r.gpus[plan.execution_gpu].offload_staging = staging;
        r.gpus[plan.execution_gpu].used = true;
    }

    const std::uint32_t embed_gpu = g::run_gpu(plan.embed_tokens, plan);
    const std::uint32_t head_gpu = g::run_gpu(plan.lm_head, plan);
    const activation_request ar{request.attn, request.type, request.batch, request.prompt, request.round512};
    // the decode steps: the last (prompt + new - 2 tokens cached before it) and, where a full
    // sliding window is trimmed as the step runs, the first (activations.hpp largest_decode_peak)
    const std::uint64_t last_cached = request.prompt + (request.new_tokens > 1 ? request.new_tokens - 2 : 0);
    for (std::uint32_t gpu = 0; gpu < max_gpus; ++gpu) {
        auto& d = r.gpus[gpu];
        if (!d.used) continue;
        share[gpu].embedding = gpu == embed_gpu;
        share[gpu].head = gpu == head_gpu;
        d.prefill_peak = a::prefill_on(config, ar, share[gpu], 1).above_weights;
        auto step = [&](std::uint64_t cached) {
            const auto above = a::decode_on(config, ar, share[gpu], cached).above_weights;
            return above + bytes{a::local_cache_bytes(config, share[gpu], request.type, request.batch, cached + 1, 1)};
        };
        if (request.new_tokens > 1) d.decode_peak = step(last_cached);
        if (request.new_tokens > 2) d.decode_peak = std::max(d.decode_peak, step(request.prompt));
        const bytes peak = std::max(d.prefill_peak, d.decode_peak);
        d.activations = peak - std::min(peak, d.kv_cache);
        if (gpu < gpus.size()) d.cuda_context = cuda_process_overhead(gpus[gpu]).estimate;
        d.total = d.weights + d.kv_cache + d.activations + d.offload_staging + d.cuda_context;
    }
    return r;
}

// The whole model on one GPU: every layer and top module on `gpu`, the weights from the module
// tree from_pretrained builds for `request.type`.
[[nodiscard]] constexpr generate_memory_result generate_memory_on_one_gpu(const model_config& config,
                                                                          const generate_request& request,
                                                                          std::uint32_t gpu = 0,
                                                                          std::span<const device> gpus = {}) {
    load_options load{};
    load.torch_dtype = request.type;
    const auto tree = build_module_tree(config, load);
    if (!tree) return {};
    const auto weights = weights_of(*tree, compute_module_sizes(*tree));
    const std::array<layer_block, 1> all{{{{location_kind::gpu, gpu}, 0, config.num_hidden_layers}}};
    const location here{location_kind::gpu, gpu};
    return generate_memory(config, request, {all, here, here, here, gpu}, weights, gpus);
}

}  // namespace vramfit::transformers
