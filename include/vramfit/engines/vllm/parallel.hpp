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
//  * Block-wise FP8 (validate_fp8_block_shape, quantization/utils/fp8_utils.py, called by
//    Fp8LinearMethod.create_weights; Fp8MoEMethod.create_weights for the experts): a row-parallel
//    input per rank is whole blocks of block_k, every output partition of a TP-split or merged
//    linear whole blocks of block_n (a merged, unsplit one may end in a partial block); the
//    experts' width per rank whole blocks of block_n, and of block_k with TP.
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

// One linear of a decoder layer as one TP rank creates it (vllm/model_executor/layers/linear.py):
// the output partitions a merged layer fuses (QKVParallelLinear: q, k, v; MergedColumnParallelLinear:
// gate, up), its input per rank, and which side TP splits. Replicated linears (MLA's q_a / kv_a, the
// router) do not depend on TP and are left out.
struct rank_linear {
    std::string_view name;
    std::array<std::uint64_t, 3> outputs{};
    std::uint32_t output_count = 1;
    std::uint64_t input = 0;
    bool split_input = false;   // RowParallelLinear with TP > 1
    bool split_output = false;  // ColumnParallelLinear and its merged forms with TP > 1
};

struct rank_linears {
    std::array<rank_linear, 8> items{};
    std::uint32_t count = 0;
    constexpr void add(const rank_linear& l) noexcept {
        if (count < items.size()) items[count++] = l;
    }
};

namespace detail {
[[nodiscard]] constexpr bool has_dense_layers(const model_config& c) noexcept {
    return !c.is_moe() || c.first_k_dense_replace != 0 || !c.mlp_only_layers.empty() || c.decoder_sparse_step > 1 ||
           c.interleave_moe_layer_step > 1;
}
} // namespace detail

// The TP-sharded linears of the model's decoder layers on one rank (the model files' attention and
// MLP classes: llama.py LlamaAttention / LlamaMLP and their kin, deepseek_v2.py DeepseekV2MLAAttention).
// Sizes assume the divisions check_tensor_parallel requires.
[[nodiscard]] constexpr rank_linears tensor_parallel_linears(const model_config& c, std::uint32_t tp) noexcept {
    rank_linears out{};
    const bool split = tp > 1;
    const std::uint64_t h = c.hidden_size;
    const std::uint64_t heads = c.num_attention_heads / tp;
    if (c.is_mla()) {
        const std::uint64_t qk = std::uint64_t{c.qk_nope_head_dim} + c.qk_rope_head_dim;
        out.add({c.q_lora_rank != 0 ? "q_b_proj" : "q_proj", {heads * qk}, 1, c.q_lora_rank != 0 ? c.q_lora_rank : h, false, split});
        out.add({"kv_b_proj", {heads * (c.qk_nope_head_dim + c.v_head_dim)}, 1, c.kv_lora_rank, false, split});
        out.add({"o_proj", {h}, 1, heads * c.v_head_dim, split, false});
    } else {
        const std::uint64_t hd = c.attention_head_dim();
        const std::uint64_t kv = kv_heads_per_rank(c.kv_heads(), tp);
        out.add({"qkv_proj", {heads * hd, kv * hd, kv * hd}, 3, h, false, split});
        out.add({"o_proj", {h}, 1, heads * hd, split, false});
    }
    if (detail::has_dense_layers(c)) {
        const std::uint64_t w = c.intermediate_size / tp;
        out.add({"gate_up_proj", {w, w}, 2, h, false, split});
        out.add({"down_proj", {h}, 1, w, split, false});
    }
    std::uint64_t shared = 0;
    if (c.n_shared_experts != 0) shared = std::uint64_t{c.n_shared_experts} * (c.moe_intermediate_size != 0 ? c.moe_intermediate_size : c.intermediate_size);
    if (c.shared_expert_intermediate_size != 0) shared = c.shared_expert_intermediate_size;
    if (c.is_moe() && shared != 0) {
        out.add({"shared_experts.gate_up_proj", {shared / tp, shared / tp}, 2, h, false, split});
        out.add({"shared_experts.down_proj", {h}, 1, shared / tp, split, false});
    }
    return out;
}

// validate_fp8_block_shape for every TP-sharded linear, Fp8MoEMethod's check for the experts.
[[nodiscard]] constexpr result<void> check_fp8_blocks(const model_config& c, std::uint32_t tp, bool expert_parallel) {
    const std::uint64_t block_n = c.quantization.weight_block_size[0];
    const std::uint64_t block_k = c.quantization.weight_block_size[1];
    if (block_n == 0 || block_k == 0) return {};
    auto refuse = [&](std::string_view name, std::string_view side, std::uint64_t size, std::uint64_t block) {
        return error{errc::invalid_argument, "tensor parallel "}.with_number(tp).with(" gives ").with(name).with(side).with_number(size)
            .with(" per rank, not a multiple of the FP8 weight block ").with_number(block);
    };
    const auto linears = tensor_parallel_linears(c, tp);
    for (std::uint32_t i = 0; i < linears.count; ++i) {
        const auto& l = linears.items[i];
        if (l.split_input && l.input % block_k != 0) return refuse(l.name, " an input of ", l.input, block_k);
        // a merged, unsplit linear may end in a partial block
        const std::uint32_t checked = l.split_output ? l.output_count : l.output_count - 1;
        for (std::uint32_t o = 0; o < checked; ++o) {
            if (l.outputs[o] % block_n != 0) return refuse(l.name, " an output of ", l.outputs[o], block_n);
        }
    }
    if (c.is_moe()) {
        const std::uint64_t width = c.moe_intermediate_size != 0 ? c.moe_intermediate_size : c.intermediate_size;
        const std::uint64_t rank = expert_parallel ? width : width / tp;
        if (rank % block_n != 0 || (tp > 1 && rank % block_k != 0)) {
            return refuse("the experts", " a width of ", rank, rank % block_n != 0 ? block_n : block_k);
        }
    }
    return {};
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
    if (detail::has_dense_layers(c) && c.intermediate_size % tp != 0) {
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
    if (q.method == quant_method::fp8) return check_fp8_blocks(c, tp, expert_parallel);
    return {};
}

} // namespace vramfit::vllm
