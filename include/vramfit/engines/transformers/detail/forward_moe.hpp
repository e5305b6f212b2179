// vramfit/engines/transformers/detail/forward_moe.hpp — the forward of the sparse Llama-style
// decoders: MixtralForCausalLM, Qwen2MoeForCausalLM, Qwen3MoeForCausalLM (modeling_mixtral.py,
// modeling_qwen2_moe.py, modeling_qwen3_moe.py), replayed as activations.hpp describes.
//
// The model, its layers and their attention are the Llama ones (forward_llama.hpp llama_stack;
// Qwen3MoeAttention with q_norm/k_norm on the heads, Qwen2MoeAttention with biased q/k/v, one
// addmm each). What differs:
//  * the MLP of a sparse layer is <P>SparseMoeBlock.forward: the router (<P>TopKRouter.forward:
//    router_logits in the model dtype, kept by the block as `_`; softmax in float32 from a float32
//    copy; topk values and int64 indices; renormalised in place (Mixtral always, Qwen with
//    norm_topk_prob); Qwen casts the weights back to the model dtype, Mixtral keeps them in
//    float32), then the experts (<P>Experts through integrations/moe.py, replay_experts.hpp). The
//    routing weights' dtype sets the weighted output's (float32 with Mixtral's float32 weights,
//    then cast back; the model dtype with Qwen's, where the final `.to` is a no-op).
//  * Qwen2MoeSparseMoeBlock.forward runs shared_expert first, then the router and the experts,
//    then `sigmoid(shared_expert_gate(x)) * shared_expert_output` and the sum.
//  * dense layers (Qwen-MoE: mlp_only_layers, decoder_sparse_step; modules.hpp sparse_layer) run
//    <P>MLP with intermediate_size.
//  * Qwen2MoeModel.forward builds both create_causal_mask and create_sliding_window_causal_mask
//    and keeps them in causal_mask_mapping to the end; without use_sliding_window the config's
//    window is 0, so the sliding mask is never skipped (masking_utils.py _ignore_causal_mask_sdpa):
//    a bool [batch, 1, q, kv] tensor under sdpa (one row expanded inside generate(), which drops
//    an all-ones attention_mask), a float one under eager. Every layer is "full_attention" then,
//    so no layer takes it and it stays on the embedding's device.
// Not replayed: sliding-window attention (Mixtral's sliding_window, null in the 8x7B configs;
// Qwen's use_sliding_window), whose masks and DynamicSlidingWindowLayer caches differ.
// A sparse and a dense layer hold different tensors; a later layer of one kind holds at least
// what an earlier one held, so the local peak is the larger of the last local sparse layer's and
// the last local dense layer's.
#pragma once

#include <cstdint>
#include <string_view>

#include "vramfit/engines/transformers/detail/forward_llama.hpp"
#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/detail/replay_experts.hpp"
#include "vramfit/engines/transformers/modules.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

namespace moe {

// What the three modelling files differ in.
struct dims {
    experts_dims experts{};          // num_experts / num_local_experts, num_experts_per_tok, moe_intermediate_size
    std::uint64_t shared_inter = 0;  // Qwen2-MoE shared_expert_intermediate_size
    bool renorm = false;             // the top-k weights renormalised
    bool shared = false;             // Qwen2MoeSparseMoeBlock's shared_expert and shared_expert_gate
    bool sliding_mask = false;       // Qwen2MoeModel's second mask

    // norm_topk_prob is the config classes' default: false for Qwen2MoeConfig, true for
    // Qwen3MoeConfig; MixtralTopKRouter always renormalises.
    [[nodiscard]] static constexpr dims of(const model_config& c, const shape& s) noexcept {
        const std::string_view t = c.model_type.view();
        dims m{};
        m.experts.experts = c.num_experts;
        m.experts.top_k = c.num_experts_per_tok;
        m.experts.inter = c.moe_intermediate_size != 0 ? c.moe_intermediate_size : c.intermediate_size;
        m.experts.score_e = t == "mixtral" ? 4 : s.e;  // Qwen: `router_top_value.to(router_logits.dtype)`
        m.renorm = t != "qwen2_moe";
        m.shared = t == "qwen2_moe" && c.shared_expert_intermediate_size != 0;
        m.shared_inter = c.shared_expert_intermediate_size;
        m.sliding_mask = t == "qwen2_moe";
        return m;
    }
};

// <P>TopKRouter.forward on `n` tokens: what the block keeps of it.
struct routing { std::uint64_t logits = 0, scores = 0, index = 0; };

constexpr routing route(tracker& t, const shape& s, const dims& m, std::uint64_t n) noexcept {
    const std::uint64_t e = s.e, E = m.experts.experts, k = m.experts.top_k;
    routing r{};
    r.logits = t.alloc(n * E * e);                      // F.linear
    const std::uint64_t up = e == 4 ? 0 : t.alloc(n * E * 4);  // `.float()` / softmax(dtype=float) casts first
    const std::uint64_t probs = t.alloc(n * E * 4);
    t.free(up);
    const std::uint64_t top_v = t.alloc(n * k * 4);
    r.index = t.alloc(n * k * 8);
    if (m.renorm) t.free(t.alloc(n * 4));  // `/= sum(-1, keepdim=True)`, in place
    if (m.experts.score_e != 4) {
        r.scores = t.alloc(n * k * m.experts.score_e);
        t.free(top_v);
    } else {
        r.scores = top_v;
    }
    t.free(probs);  // the router returns
    return r;
}

// <P>SparseMoeBlock.forward on the normed input (live, held by the caller); returns its output.
constexpr std::uint64_t sparse_block(tracker& t, const shape& s, const dims& m) noexcept {
    const std::uint64_t n = s.tokens(), hb = n * s.hidden * s.e;
    const std::uint64_t shared = m.shared ? gated_mlp(t, s, n, m.shared_inter) : 0;  // shared_expert, first
    const routing r = route(t, s, m, n);
    const std::uint64_t routed = experts(t, s, m.experts, n);
    std::uint64_t out = routed;
    if (m.shared) {
        const std::uint64_t g = t.alloc(n * s.e);  // shared_expert_gate
        const std::uint64_t sg = t.alloc(n * s.e);  // sigmoid
        t.free(g);
        const std::uint64_t gated = t.alloc(hb);  // `* shared_expert_output`, rebinding the name
        t.free(sg);
        t.free(shared);
        out = t.alloc(hb);  // expert_output + shared_expert_output
        t.free(routed);
        t.free(gated);
    }
    t.free(r.logits);  // `_`, and the routing tensors, go when the block returns
    t.free(r.scores);
    t.free(r.index);
    return out;
}

// One forward as one device sees it, up to and including the n-th local layer (sparse or dense:
// <P>MLP with intermediate_size), and the head when that layer is the last local one (`last`).
constexpr tracker forward(const shape& s, const dims& m, bool round512, std::uint64_t resident, const device_share& d,
                          bool sparse, std::uint64_t n, bool last) noexcept {
    // Qwen2MoeModel.forward: the sliding-window mask beside the causal one. Under sdpa it is bool,
    // and without a 2-D mask its batch dimension is an expand of one row: generate() drops an
    // all-ones attention_mask (generation/utils.py), a plain forward keeps it
    // (padding_mask_function); eager's torch.where writes every row.
    auto sliding = [&](tracker& t) -> std::uint64_t {
        if (!m.sliding_mask || !d.embedding) return 0;
        const std::uint64_t slide_rows = s.eager || !s.decode ? s.batch : 1;
        return t.alloc(slide_rows * s.q * s.kv_len() * (s.eager ? s.e : 1));
    };
    return llama_stack(s, round512, resident, d, n, last, sliding, [&](tracker& t, std::uint64_t rows) {
        return sparse ? sparse_block(t, s, m) : gated_mlp(t, s, rows, s.inter);
    });
}

}  // namespace moe

// The dense and the sparse layers: the larger peak of the two kinds'.
constexpr tracker moe_forward(const model_config& c, const shape& shape_in, bool round512, std::uint64_t resident,
                              const device_share& d) noexcept {
    shape s = shape_in;
    s.qk_norm = c.model_type.view() == "qwen3_moe";  // Qwen3MoeAttention: q_norm, k_norm
    const auto m = moe::dims::of(c, s);
    return peak_of_two_kinds(d, [&](std::uint32_t l) { return sparse_layer(c, l); }, [&](std::uint32_t l, std::uint64_t n) {
        return moe::forward(s, m, round512, resident, d, sparse_layer(c, l), n, l == d.last_layer());
    });
}

using moe_rules = replayed<moe_forward>;

}  // namespace vramfit::transformers::detail::act
