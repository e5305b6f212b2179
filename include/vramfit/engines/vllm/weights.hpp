// vramfit/engines/vllm/weights.hpp — the parameters one GPU holds, what "Model loading took X GiB"
// prints (GPUModelRunner.load_model: the rise of torch.cuda.memory_allocated across loading).
//
// vLLM's model files build every decoder from the same parallel layers
// (vllm/model_executor/layers/linear.py, vocab_parallel_embedding.py, fused_moe/layer.py):
//  * QKVParallelLinear: q heads / TP; KV heads / TP, or one replicated head per rank when TP exceeds
//    them; RowParallelLinear o_proj: input / TP, its bias whole on every rank.
//  * MergedColumnParallelLinear gate_up / RowParallelLinear down: width / TP.
//  * FusedMoE: every expert's width / TP, or with expert parallel whole experts / EP size; the
//    router (ReplicatedLinear gate) whole on every rank.
//  * DeepSeek MLA (deepseek_v2.py DeepseekV2MLAAttention): q_a (or q), kv_a projections replicated,
//    q_b / kv_b column-parallel, o row-parallel.
//  * VocabParallelEmbedding / ParallelLMHead: padded vocabulary / TP; tied embeddings share one
//    tensor on one stage, and the last pipeline stage holds its own lm_head.
//  * The rotary cos/sin cache (rotary_embedding.py get_rope): one [positions, rotary_dim] buffer per
//    distinct rope, in the serving dtype; YaRN covers original_max_position_embeddings × factor.
//    (Llama-3.1-8B: 14.9575 GiB of parameters + 32 MiB of cache = the printed 14.9889 GiB.)
//  * PP stage s holds the layers get_pp_indices gives it (parallel.hpp), the embedding on the first
//    stage, the final norm and lm_head on the last.
//  * --cpu-offload-gb keeps up to that much of the parameters in pinned host memory.
// Checked against 18 printed figures (tests/vllm, BENCHMARKS.md); vLLM's Qwen2/Qwen3 files load
// 22–57 MiB more than their parameters in 0.8–0.10, which no rule here explains.
#pragma once

#include <cstdint>
#include <string_view>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/device.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/vllm/device.hpp"
#include "vramfit/engines/vllm/parallel.hpp"
#include "vramfit/engines/vllm/quantization.hpp"
#include "vramfit/engines/vllm/settings.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::vllm {

// The decoders whose vLLM model file these rules follow (vllm/model_executor/models/<type>.py).
[[nodiscard]] constexpr bool weights_modelled(std::string_view t) noexcept {
    return t == "llama" || t == "mistral" || t == "qwen2" || t == "qwen3" || t == "qwen2_moe" || t == "qwen3_moe" ||
           t == "mixtral" || t == "gemma2" || t == "gemma3_text" || t == "phi3" || t == "deepseek_v2" || t == "deepseek_v3" ||
           t == "gpt_oss" || t == "glm4";
}

struct stage_weights {
    std::uint32_t stage = 0;
    std::uint32_t first_layer = 0;
    std::uint32_t layers = 0;
    bytes embedding{};
    bytes lm_head{};
    bytes attention{};
    bytes mlp{};        // dense MLPs and shared experts
    bytes experts{};    // routed experts
    bytes router{};
    bytes norms{};
    bytes rope_cache{};
    bytes offloaded{};  // --cpu-offload-gb taken off the GPU

    [[nodiscard]] constexpr bytes on_gpu() const noexcept {
        return embedding + lm_head + attention + mlp + experts + router + norms + rope_cache - offloaded;
    }
};

namespace detail {

[[nodiscard]] constexpr bool moe_layer(const model_config& c, std::uint32_t layer) noexcept {
    if (!c.is_moe()) return false;
    const auto t = c.model_type.view();
    if (t == "deepseek_v2" || t == "deepseek_v3") {
        const std::uint32_t freq = c.moe_layer_freq != 0 ? c.moe_layer_freq : 1;
        return layer >= c.first_k_dense_replace && layer % freq == 0;
    }
    if (t == "qwen2_moe" || t == "qwen3_moe") {
        const std::uint32_t step = c.decoder_sparse_step != 0 ? c.decoder_sparse_step : 1;
        return !c.mlp_only_layers.contains(layer) && (layer + 1) % step == 0;
    }
    return true;
}

// Norm vectors per decoder layer: input and post-attention; Gemma 2/3 and GLM-4 add two around the
// MLP (pre/post feed-forward, post self-attention / post MLP).
[[nodiscard]] constexpr std::uint64_t norms_per_layer(std::string_view t) noexcept {
    return t == "gemma2" || t == "gemma3_text" || t == "glm4" ? 4u : 2u;
}

// Distinct rotary caches: Gemma 3 has a local and a global rope (rope_local_base_freq).
[[nodiscard]] constexpr bytes rope_caches(const model_config& c, std::uint64_t e) noexcept {
    std::uint64_t rotary = c.is_mla() ? c.qk_rope_head_dim : c.attention_head_dim();
    if (c.partial_rotary_factor > 0.0 && c.partial_rotary_factor < 1.0) {
        rotary = static_cast<std::uint64_t>(static_cast<double>(rotary) * c.partial_rotary_factor);
    }
    std::uint64_t positions = c.max_position_embeddings;
    const auto& rs = c.rope_scaling;
    if (rs.rope_type.view() == "yarn" && rs.original_max_position_embeddings != 0 && rs.factor > 0.0) {
        positions = static_cast<std::uint64_t>(static_cast<double>(rs.original_max_position_embeddings) * rs.factor);
    }
    const std::uint64_t count = c.model_type.view() == "gemma3_text" ? 2 : 1;
    return bytes{count * positions * rotary * e};
}

} // namespace detail

// What one GPU of pipeline stage `stage` holds (every TP rank of a stage holds the same).
[[nodiscard]] constexpr result<stage_weights> weights_per_gpu(const model_config& c, const resolved_args& r, const device& gpu,
                                                              const pipeline_partition& pp, std::uint32_t stage,
                                                              mxfp4_backend fp4 = mxfp4_backend::automatic, bytes cpu_offload = {}) {
    const auto type = c.model_type.view();
    if (c.multimodal) {
        return error{errc::unsupported_architecture, "multimodal model ("}.with(type).with(
            "): the vision tower's weights and its profile run are not modelled for vLLM");
    }
    if (!weights_modelled(type)) {
        return error{errc::unsupported_architecture, "model_type '"}.with(type).with(
            "' is not modelled for vLLM (llama, mistral, qwen2, qwen3, qwen2_moe, qwen3_moe, mixtral, gemma2, gemma3_text, phi3, "
            "deepseek_v2, deepseek_v3, gpt_oss, glm4)");
    }
    if (auto ok = check_tensor_parallel(c, r.tp, r.expert_parallel); !ok) return ok.err();
    if (stage >= pp.stages) return error{errc::invalid_argument, "no pipeline stage "}.with_number(stage);

    const bool marlin = fp4 == mxfp4_backend::marlin || (fp4 == mxfp4_backend::automatic && capability(gpu) < 90);
    auto quant = quantization_of(c.quantization, marlin);
    if (!quant) return quant.err();
    const std::uint64_t e = bytes_per_block(r.model_dtype);  // 2 for bf16/f16
    const std::uint64_t tp = r.tp;
    const std::uint64_t h = c.hidden_size;

    stage_weights w{};
    w.stage = stage;
    w.first_layer = pp.first_layer(stage);
    w.layers = pp.layers[stage];
    const bool first = stage == 0;
    const bool last = stage + 1 == pp.stages;

    const std::uint64_t vocab_rank = padded_vocab(c.vocab_size) / tp;
    if (first) w.embedding = bytes{vocab_rank * h * e};
    if (last && (!c.tie_word_embeddings || pp.stages > 1)) w.lm_head = bytes{vocab_rank * h * e};
    if (last) w.norms += bytes{h * e};
    if (first || w.layers != 0) w.rope_cache = detail::rope_caches(c, e);

    const std::uint64_t heads = c.num_attention_heads / tp;
    const std::uint64_t hd = c.attention_head_dim();
    const std::uint64_t kvh = kv_heads_per_rank(c.kv_heads(), r.tp);
    const bool qkv_bias = c.attention_bias || type == "qwen2" || type == "qwen2_moe";
    const bool o_bias = c.attention_bias && type != "qwen2" && type != "qwen2_moe";
    const bool qk_norm = type == "qwen3" || type == "qwen3_moe" || type == "gemma3_text";

    for (std::uint32_t il = w.first_layer; il < w.first_layer + w.layers; ++il) {
        // attention
        std::uint64_t attn = 0;
        if (c.is_mla()) {
            const std::uint64_t qk = c.qk_nope_head_dim + c.qk_rope_head_dim;
            if (c.q_lora_rank != 0) {
                attn += linear_bytes(h, c.q_lora_rank + c.kv_lora_rank + c.qk_rope_head_dim, quant->linears, e);
                attn += c.q_lora_rank * e;  // q_a_layernorm
                attn += linear_bytes(c.q_lora_rank, heads * qk, quant->linears, e);
            } else {
                attn += linear_bytes(h, heads * qk, quant->linears, e);
                attn += linear_bytes(h, c.kv_lora_rank + c.qk_rope_head_dim, quant->linears, e);
            }
            attn += c.kv_lora_rank * e;  // kv_a_layernorm
            attn += linear_bytes(c.kv_lora_rank, heads * (c.qk_nope_head_dim + c.v_head_dim), quant->linears, e);
            attn += linear_bytes(heads * c.v_head_dim, h, quant->linears, e);
        } else {
            const std::uint64_t qkv_out = (heads + 2 * kvh) * hd;
            attn += linear_bytes(h, qkv_out, quant->linears, e);
            if (qkv_bias) attn += qkv_out * e;
            attn += linear_bytes(heads * hd, h, quant->linears, e);
            if (o_bias) attn += h * e;
            if (qk_norm) attn += 2 * hd * e;
            if (type == "gpt_oss") attn += heads * e;  // attention sinks, one per head
        }
        w.attention += bytes{attn};
        w.norms += bytes{detail::norms_per_layer(type) * h * e};

        // MLP or experts
        if (detail::moe_layer(c, il)) {
            const std::uint64_t experts = c.num_experts;
            const std::uint64_t width = c.moe_intermediate_size != 0 ? c.moe_intermediate_size : c.intermediate_size;
            const std::uint64_t local = r.expert_parallel ? experts / tp : experts;
            std::uint64_t width_rank = r.expert_parallel ? width : width / tp;
            if (quant->experts.format == weight_format::mxfp4) {
                const std::uint64_t m = quant->experts.mxfp4_width_multiple;
                width_rank = ceil_div(width_rank, m) * m;
            }
            std::uint64_t one = linear_bytes(h, 2 * width_rank, quant->experts, e) + linear_bytes(width_rank, h, quant->experts, e);
            if (type == "gpt_oss") one += (2 * width_rank + h) * e;  // w13 / w2 biases
            w.experts += bytes{local * one};
            std::uint64_t router = h * experts * e;
            if (type == "gpt_oss") router += experts * e;
            if (c.topk_method.view() == "noaux_tc") router += experts * 4;  // e_score_correction_bias, float32
            w.router += bytes{router};
            std::uint64_t shared = 0;
            if (c.n_shared_experts != 0) shared = std::uint64_t{c.n_shared_experts} * width;
            if (c.shared_expert_intermediate_size != 0) shared = c.shared_expert_intermediate_size;
            if (shared != 0) {
                w.mlp += bytes{linear_bytes(h, 2 * shared / tp, quant->linears, e) + linear_bytes(shared / tp, h, quant->linears, e)};
                if (type == "qwen2_moe") w.router += bytes{h * e};  // shared_expert_gate
            }
        } else {
            const std::uint64_t width = c.intermediate_size / tp;
            std::uint64_t mlp = linear_bytes(h, 2 * width, quant->linears, e) + linear_bytes(width, h, quant->linears, e);
            if (c.mlp_bias) mlp += 2 * width * e + h * e;
            w.mlp += bytes{mlp};
        }
    }
    const bytes all = w.embedding + w.lm_head + w.attention + w.mlp + w.experts + w.router + w.norms + w.rope_cache;
    w.offloaded = cpu_offload < all ? cpu_offload : all;
    return w;
}

} // namespace vramfit::vllm
