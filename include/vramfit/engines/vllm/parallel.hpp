// vramfit/engines/vllm/parallel.hpp — which tensor × pipeline layouts vLLM accepts for a model, and
// which layers each pipeline stage holds.
//
// Rules, each with the check that raises it in vLLM:
//  * ModelConfig.verify_with_parallel_config (vllm/config/model.py @0.33.0): the attention heads
//    divide by TP; PP needs at most one stage per layer.
//  * QKVParallelLinear (vllm/model_executor/layers/linear.py): KV heads divide by TP, or TP by the
//    KV heads (then each rank keeps one head, replicated TP / kv_heads times).
//  * Column/row-parallel linears (`divide`, vllm/distributed/utils.py): the MLP width and the
//    experts' width divide by TP (unless expert parallel shards whole experts, FusedMoE, which then
//    needs the experts to divide by the EP size, here TP with one data-parallel rank).
//  * VocabParallelEmbedding / ParallelLMHead: the vocabulary padded to 64 divides by TP.
//  * GPTQ/AWQ (gptq.py, awq.py create_weights): a row-parallel layer's input per rank is a whole
//    number of quantization groups ("The input size is not aligned with the quantized weight
//    shape. This can be caused by too large tensor parallel size.").
//  * get_pp_indices (vllm/distributed/utils.py @0.33.0): floor(L / PP) layers per stage, the
//    remainder one each to the stages before the last (PP−2, PP−3, …); VLLM_PP_LAYER_PARTITION
//    ("a,b,…", PP entries summing to L) overrides it.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "vramfit/core/error.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::vllm {

// DEFAULT_VOCAB_PADDING_SIZE (vocab_parallel_embedding.py): the vocabulary is padded to a multiple
// of 64, then split over the TP ranks.
inline constexpr std::uint32_t vocab_padding = 64;

[[nodiscard]] constexpr std::uint64_t padded_vocab(std::uint32_t vocab) noexcept {
    return (std::uint64_t{vocab} + vocab_padding - 1) / vocab_padding * vocab_padding;
}

// KV heads one TP rank holds (ModelConfig.get_num_kv_heads): max(1, kv_heads / tp).
[[nodiscard]] constexpr std::uint32_t kv_heads_per_rank(std::uint32_t kv_heads, std::uint32_t tp) noexcept {
    const std::uint32_t h = kv_heads / tp;
    return h == 0 ? 1u : h;
}

// A bound of this implementation, not vLLM's.
inline constexpr std::uint32_t max_pipeline_stages = 64;

struct pipeline_partition {
    std::array<std::uint32_t, max_pipeline_stages> layers{};  // decoder layers per stage
    std::uint32_t stages = 0;

    [[nodiscard]] constexpr std::uint32_t first_layer(std::uint32_t stage) const noexcept {
        std::uint32_t first = 0;
        for (std::uint32_t s = 0; s < stage && s < stages; ++s) first += layers[s];
        return first;
    }
};

// get_pp_indices for every stage.
[[nodiscard]] constexpr result<pipeline_partition> partition_layers(std::uint32_t num_layers, std::uint32_t pp,
                                                                    std::string_view layer_partition = {}) {
    if (pp == 0 || pp > max_pipeline_stages) {
        return error{errc::invalid_argument, "pipeline parallel must be 1 to "}.with_number(max_pipeline_stages).with(", got ").with_number(pp);
    }
    if (pp > num_layers) {
        return error{errc::invalid_argument, "pipeline parallel "}.with_number(pp).with(" exceeds the model's ").with_number(num_layers)
            .with(" decoder layers");
    }
    pipeline_partition p{};
    p.stages = pp;
    if (!layer_partition.empty()) {
        std::uint32_t stage = 0;
        std::uint64_t sum = 0;
        std::string_view rest = layer_partition;
        while (true) {
            const auto comma = rest.find(',');
            const std::string_view part = rest.substr(0, comma);
            std::uint64_t value = 0;
            bool digits = !part.empty() && part.size() <= 6;
            for (char ch : part) {
                digits = digits && ch >= '0' && ch <= '9';
                if (digits) value = value * 10 + static_cast<std::uint64_t>(ch - '0');
            }
            if (!digits || value == 0) {
                return error{errc::invalid_argument, "VLLM_PP_LAYER_PARTITION '"}.with(layer_partition).with("': '").with(part)
                    .with("' is not a positive layer count");
            }
            if (stage >= pp) {
                return error{errc::invalid_argument, "VLLM_PP_LAYER_PARTITION '"}.with(layer_partition).with("' has more than ")
                    .with_number(pp).with(" entries for pipeline parallel ").with_number(pp);
            }
            p.layers[stage++] = static_cast<std::uint32_t>(value);
            sum += value;
            if (comma == std::string_view::npos) break;
            rest = rest.substr(comma + 1);
        }
        if (stage != pp) {
            return error{errc::invalid_argument, "VLLM_PP_LAYER_PARTITION '"}.with(layer_partition).with("' has ").with_number(stage)
                .with(" entries for pipeline parallel ").with_number(pp);
        }
        if (sum != num_layers) {
            return error{errc::invalid_argument, "VLLM_PP_LAYER_PARTITION '"}.with(layer_partition).with("' sums to ").with_number(sum)
                .with(" layers, the model has ").with_number(num_layers);
        }
        return p;
    }
    for (std::uint32_t s = 0; s < pp; ++s) p.layers[s] = num_layers / pp;
    const std::uint32_t remainder = num_layers % pp;
    for (std::uint32_t i = 2; i < remainder + 2; ++i) p.layers[pp - i] += 1;
    return p;
}

// The tensor-parallel checks above for a model (expert parallel: whole experts per rank).
[[nodiscard]] constexpr result<void> check_tensor_parallel(const model_config& c, std::uint32_t tp, bool expert_parallel) {
    if (tp == 0) return error{errc::invalid_argument, "tensor parallel must be at least 1"};
    const std::uint32_t heads = c.num_attention_heads;
    if (heads % tp != 0) {
        return error{errc::invalid_argument, "tensor parallel "}.with_number(tp).with(" does not divide ").with_number(heads)
            .with(" attention heads");
    }
    const std::uint32_t kv = c.kv_heads();
    if (!c.is_mla() && kv != 0 && kv % tp != 0 && tp % kv != 0) {
        return error{errc::invalid_argument, "tensor parallel "}.with_number(tp).with(" and ").with_number(kv)
            .with(" KV heads: neither divides the other");
    }
    const bool dense_layers = !c.is_moe() || c.first_k_dense_replace != 0 || !c.mlp_only_layers.empty() ||
                              c.decoder_sparse_step > 1 || c.interleave_moe_layer_step > 1;
    if (dense_layers && c.intermediate_size % tp != 0) {
        return error{errc::invalid_argument, "tensor parallel "}.with_number(tp).with(" does not divide the MLP width ")
            .with_number(c.intermediate_size);
    }
    if (c.is_moe()) {
        const std::uint32_t width = c.moe_intermediate_size != 0 ? c.moe_intermediate_size : c.intermediate_size;
        if (expert_parallel) {
            if (c.num_experts % tp != 0) {
                return error{errc::invalid_argument, "expert parallel over "}.with_number(tp).with(" ranks does not divide ")
                    .with_number(c.num_experts).with(" experts");
            }
        } else if (width % tp != 0) {
            return error{errc::invalid_argument, "tensor parallel "}.with_number(tp).with(" does not divide the experts' width ")
                .with_number(width).with(" (--enable-expert-parallel shards whole experts instead)");
        }
    }
    const std::uint64_t vocab = padded_vocab(c.vocab_size);
    if (vocab % tp != 0) {
        return error{errc::invalid_argument, "tensor parallel "}.with_number(tp).with(" does not divide the padded vocabulary ")
            .with_number(vocab);
    }
    const auto& q = c.quantization;
    if ((q.method == quant_method::gptq || q.method == quant_method::awq) && q.group_size != 0) {
        const std::uint32_t attn_in = heads * (c.is_mla() ? c.v_head_dim : c.attention_head_dim()) / tp;
        const std::uint32_t width = c.is_moe() && c.moe_intermediate_size != 0 ? c.moe_intermediate_size : c.intermediate_size;
        const std::uint32_t mlp_in = expert_parallel && c.is_moe() ? width : width / tp;
        if (attn_in % q.group_size != 0 || mlp_in % q.group_size != 0) {
            return error{errc::invalid_argument, "tensor parallel "}.with_number(tp).with(" leaves a row-parallel input of ")
                .with_number(attn_in % q.group_size != 0 ? attn_in : mlp_in).with(" per rank, not a multiple of the ")
                .with(q.method_name.view()).with(" group size ").with_number(q.group_size);
        }
    }
    return {};
}

} // namespace vramfit::vllm
