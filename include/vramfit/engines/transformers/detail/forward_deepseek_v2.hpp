// vramfit/engines/transformers/detail/forward_deepseek_v2.hpp — the forward of DeepseekV2ForCausalLM
// (modeling_deepseek_v2.py), replayed as activations.hpp describes: multi-head latent attention,
// the dense first layers and the mixture-of-experts layers after them. modeling_deepseek_v3.py is
// not the same code (real-valued rotary cos/sin, a sigmoid router with a correction bias), so
// only deepseek_v2 runs this replay.
//
// What differs from the Llama replay:
//  * DeepseekV2Attention.forward: the query through q_a_proj / q_a_layernorm / q_b_proj (q_proj
//    without q_lora_rank), kept to the end of the forward (q_nope is a view of it);
//    kv_a_proj_with_mqa's output (kept: kv_nope is a view of it); kv_a_layernorm on the latent;
//    apply_rotary_emb on the qk_rope_head_dim part in complex64 (float32 copies of q_pe and k_pe,
//    their products, the results back in the model dtype); the cache takes the normed latent and
//    the rotated key, one head each (kv_cache.hpp kv_layer); the query cat; expand_kv runs
//    kv_b_proj over every cached token and builds the keys in a new tensor, the values staying a
//    view of kv_b_proj's output.
//  * the rotary embedding is one complex64 freqs_cis `[batch, q, qk_rope_head_dim / 2]`
//    (DeepseekV2RotaryEmbedding.forward: polar, then `* attention_scaling`).
//  * sdpa: the query/key head_dim (qk_nope + qk_rope) differs from the value's, so the backend
//    chooser (sdp_utils.cpp can_use_flash_attention: equal head dims) takes the memory-efficient
//    kernel, which returns no logsumexp without grad; flash only where the dims agree.
//  * eager: torch.matmul of the probabilities with the value view copies it when batch > 1 and
//    more than one token is cached (its batch and head dims do not merge into one stride); the
//    `transpose(1, 2).contiguous()` copy only when q > 1.
//  * DeepseekV2Moe.forward from first_k_dense_replace on: the router (DeepseekV2TopkRouter, in
//    float32), the experts (replay_experts.hpp, float32 routing weights), the shared experts on
//    the same input.
// The decoder layers are of two kinds; a later layer of one kind holds at least what an earlier
// one held, so the local peak is the larger of the last local dense layer's and the last local
// MoE layer's.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/detail/replay_attention.hpp"
#include "vramfit/engines/transformers/detail/replay_cache.hpp"
#include "vramfit/engines/transformers/detail/replay_experts.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

// The dimensions modeling_deepseek_v2.py reads beyond the Llama ones.
struct deepseek_v2_dims {
    std::uint64_t q_lora = 0, kv_lora = 0, nope = 0, rope = 0, v = 0;
    std::uint64_t experts = 0, top_k = 0, moe_inter = 0, shared_inter = 0;
    std::uint32_t dense_layers = 0;  // first_k_dense_replace
    bool group_limited = false;      // topk_method "group_limited_greedy"

    [[nodiscard]] constexpr std::uint64_t qk() const noexcept { return nope + rope; }
    // DeepseekV2DecoderLayer.__init__: DeepseekV2Moe from first_k_dense_replace on
    [[nodiscard]] constexpr bool moe(std::uint32_t layer) const noexcept { return experts != 0 && layer >= dense_layers; }
    // One layer's cache of `len` tokens: the latent and the rotary key, one head each.
    [[nodiscard]] constexpr std::uint64_t latent(const shape& s, std::uint64_t len) const noexcept {
        return s.batch * len * kv_lora * s.e;
    }
    [[nodiscard]] constexpr std::uint64_t rope_key(const shape& s, std::uint64_t len) const noexcept {
        return s.batch * len * rope * s.e;
    }
    [[nodiscard]] constexpr std::uint64_t cache(const shape& s, std::uint64_t len) const noexcept {
        return latent(s, len) + rope_key(s, len);
    }

    [[nodiscard]] static constexpr deepseek_v2_dims of(const model_config& c) noexcept {
        deepseek_v2_dims m{};
        m.q_lora = c.q_lora_rank;
        m.kv_lora = c.kv_lora_rank;
        m.nope = c.qk_nope_head_dim;
        m.rope = c.qk_rope_head_dim;
        m.v = c.v_head_dim;
        m.experts = c.num_experts;
        m.top_k = c.num_experts_per_tok;
        m.moe_inter = c.moe_intermediate_size;
        m.shared_inter = std::uint64_t{c.moe_intermediate_size} * c.n_shared_experts;
        m.dense_layers = c.first_k_dense_replace;
        m.group_limited = c.topk_method.view() == "group_limited_greedy";
        return m;
    }
};

// DeepseekV2Moe.forward on the normed input (live, held by the caller); returns its output.
constexpr std::uint64_t deepseek_v2_moe(tracker& t, const shape& s, const deepseek_v2_dims& m) noexcept {
    const std::uint64_t n = s.tokens(), h = s.hidden, e = s.e, k = m.top_k, sel = n * k;
    // DeepseekV2TopkRouter.forward: float32 logits and softmax; the group-limited path masks
    // the scores of all but topk_group groups (the [tokens, n_group] group scores and indices
    // in between are not counted: n_group is not read, and they are far below the experts)
    const std::uint64_t up = e == 4 ? 0 : t.alloc(n * h * 4);
    const std::uint64_t logits = t.alloc(n * m.experts * 4);  // `_` in DeepseekV2Moe.forward: kept
    t.free(up);
    const std::uint64_t scores = t.alloc(n * m.experts * 4);
    std::uint64_t masked = 0, score_mask = 0;
    if (m.group_limited) {
        score_mask = t.alloc(n * m.experts * 4);  // reshape of the expanded group mask copies
        const std::uint64_t as_bool = t.alloc(n * m.experts);
        const std::uint64_t inverted = t.alloc(n * m.experts);
        t.free(as_bool);
        masked = t.alloc(n * m.experts * 4);
        t.free(inverted);
        t.free(scores);  // `scores = scores.masked_fill(...)`
    }
    const std::uint64_t top_w = t.alloc(sel * 4);
    const std::uint64_t top_i = t.alloc(sel * 8);
    const std::uint64_t weights = t.alloc(sel * 4);  // `* routed_scaling_factor`
    t.free(top_w);
    if (m.group_limited) { t.free(masked); t.free(score_mask); } else { t.free(scores); }

    const std::uint64_t routed = experts(t, s, {m.experts, m.top_k, m.moe_inter, 4, false, experts_gate::act_mul}, n);
    const std::uint64_t shared = gated_mlp(t, s, n, m.shared_inter);  // shared_experts(residuals)
    const std::uint64_t out = t.alloc(n * h * e);
    t.free(shared);
    t.free(routed);
    t.free(logits);
    t.free(weights);
    t.free(top_i);
    return out;
}

// A decoder layer of DeepseekV2DecoderLayer.forward, its input live (held by the caller).
constexpr void deepseek_v2_layer(tracker& t, const shape& s, const deepseek_v2_dims& m, bool moe,
                                 std::uint64_t mask) noexcept {
    const std::uint64_t rows = s.tokens(), e = s.e, heads = s.heads;
    const std::uint64_t normed = rms_norm(t, s, rows, s.hidden);
    // DeepseekV2Attention.forward
    std::uint64_t q = 0;
    if (m.q_lora != 0) {
        const std::uint64_t qa = t.alloc(rows * m.q_lora * e);
        const std::uint64_t qn = rms_norm(t, s, rows, m.q_lora);
        t.free(qa);
        q = t.alloc(rows * heads * m.qk() * e);
        t.free(qn);
    } else {
        q = t.alloc(rows * heads * m.qk() * e);
    }
    const std::uint64_t compressed = t.alloc(rows * (m.kv_lora + m.rope) * e);
    const std::uint64_t k_nope = rms_norm(t, s, rows, m.kv_lora);
    // apply_rotary_emb: float32 copies, complex64 products, back to the model dtype (on a float32
    // model the copies are the inputs and the products the results)
    const std::uint64_t q_pe = rows * heads * m.rope, k_pe = rows * m.rope;  // elements
    std::uint64_t q_rot = 0, k_rot = 0;
    if (e == 4) {
        q_rot = t.alloc(q_pe * 4);
        k_rot = t.alloc(k_pe * 4);
    } else {
        const std::uint64_t qf = t.alloc(q_pe * 4), kf = t.alloc(k_pe * 4);
        const std::uint64_t qc = t.alloc(q_pe * 4);
        q_rot = t.alloc(q_pe * e);
        t.free(qc);
        const std::uint64_t kc = t.alloc(k_pe * 4);
        k_rot = t.alloc(k_pe * e);
        t.free(kc);
        t.free(qf);
        t.free(kf);
    }
    // DynamicLayer.update: the latent as keys, the rotary key as values; the layer's names then
    // hold the cache
    cache_update(t, false, false, m.latent(s, s.past), m.latent(s, s.kv_len()), m.rope_key(s, s.past),
                 m.rope_key(s, s.kv_len()));
    t.free(k_nope);
    t.free(k_rot);
    const std::uint64_t query = t.alloc(rows * heads * m.qk() * e);  // cat((q_nope, q_pe))
    // expand_kv over every cached token
    const std::uint64_t kv_rows = s.batch * s.kv_len();
    const std::uint64_t kv_b = t.alloc(kv_rows * heads * (m.nope + m.v) * e);
    const std::uint64_t keys = t.alloc(kv_rows * heads * m.qk() * e);  // new_empty, then two copy_
    const std::uint64_t out_bytes = rows * heads * m.v * e;
    std::uint64_t attn = 0, probs = 0;
    if (!s.eager) {
        // sdpa_attention_forward: no mask without padding
        attn = t.alloc(out_bytes);
        if (m.qk() == m.v && m.v <= 256) t.free(t.alloc(s.batch * heads * s.q * 4));  // flash's logsumexp
    } else {
        // eager_attention_forward (num_key_value_groups 1: no repeat_kv)
        const std::uint64_t scores = s.batch * heads * s.q * s.kv_len();
        const std::uint64_t w = scale_and_mask(t, s, scores, t.alloc(scores * e), mask != 0);
        probs = softmax_f32(t, s, scores, w);
        const std::uint64_t v_copy = s.batch > 1 && s.kv_len() > 1 ? t.alloc(kv_rows * heads * m.v * e) : 0;
        const std::uint64_t av = t.alloc(out_bytes);
        t.free(v_copy);
        attn = av;
        if (s.q > 1) { attn = t.alloc(out_bytes); t.free(av); }  // transpose(1, 2).contiguous()
    }
    const std::uint64_t o = t.alloc(rows * s.hidden * e);  // o_proj
    t.free(attn);
    t.free(q);
    t.free(q_rot);
    t.free(compressed);
    t.free(query);
    t.free(keys);
    t.free(kv_b);
    t.free(normed);
    const std::uint64_t h = t.alloc(rows * s.hidden * e);  // residual + attention
    t.free(o);
    const std::uint64_t normed2 = rms_norm(t, s, rows, s.hidden);
    const std::uint64_t mlp = moe ? deepseek_v2_moe(t, s, m) : gated_mlp(t, s, rows, s.inter);
    t.free(normed2);
    const std::uint64_t out = t.alloc(rows * s.hidden * e);  // residual + mlp
    t.free(mlp);
    t.free(h);
    t.free(probs);  // `hidden_states, _ = self.self_attn(...)`: `_` holds them to the end
    (void)out;  // stays: the model's loop variable
}

// One forward of DeepseekV2ForCausalLM as one device sees it, up to and including local layer
// `replayed` (the n-th local layer), and, when it is the last local layer, the head.
constexpr tracker deepseek_v2_forward_to(const shape& s, const deepseek_v2_dims& m, bool round512,
                                         std::uint64_t resident, const device_share& d, std::uint32_t replayed,
                                         std::uint64_t n) noexcept {
    auto t = tracker::starting(round512, resident);
    const std::uint64_t hb = s.tokens() * s.hidden * s.e;
    local_caches_before(t, d, m.cache(s, s.past));
    const std::uint64_t embeds = d.embedding ? t.alloc(hb) : 0;
    const std::uint64_t pos = position_ids(t, s, d.embedding);
    const bool here = d.embedding || d.count != 0;
    const std::uint64_t mask = eager_causal_mask(t, s, here);
    // DeepseekV2RotaryEmbedding.forward over position_ids' batch (1 for a forward's arange,
    // `batch` in generate()): float positions times inv_freq, polar, `* attention_scaling`
    const std::uint64_t positions = here ? (s.decode ? s.batch : 1) * s.q : 0;
    const std::uint64_t freqs = positions * (m.rope / 2);  // elements
    std::uint64_t cis = 0;
    if (d.embedding) {
        const std::uint64_t pf = t.alloc(positions * 4);
        const std::uint64_t fr = t.alloc(freqs * 4);
        t.free(pf);
        const std::uint64_t ones = t.alloc(freqs * 4);
        const std::uint64_t polar = t.alloc(freqs * 8);
        t.free(ones);
        cis = t.alloc(freqs * 8);
        t.free(polar);
        t.free(fr);
    } else {
        cis = t.alloc(freqs * 8);  // the moved copy
    }
    if (d.count != 0) {
        // this layer runs with its input beside inputs_embeds (or, on a later device, beside
        // nothing but the moved copy)
        earlier_layers_grown(t, n, m.cache(s, s.past), m.cache(s, s.kv_len()));
        const std::uint64_t x = d.embedding && n == 1 ? 0 : t.alloc(hb);
        deepseek_v2_layer(t, s, m, m.moe(replayed), mask);
        t.free(x);  // the loop variable moves to this layer's output
    }
    if (d.head && replayed == d.last_layer())  // DeepseekV2Model.norm, DeepseekV2ForCausalLM's lm_head
        norm_and_head(t, s, d.count != 0, [&] { return rms_norm(t, s, s.tokens(), s.hidden); },
                      {pos, embeds, cis, mask});
    return t;
}

// The dense first layers and the MoE layers after them: the larger peak of the two kinds'.
constexpr tracker deepseek_v2_forward(const model_config& c, const shape& s, bool round512, std::uint64_t resident,
                                      const device_share& d) noexcept {
    const auto m = deepseek_v2_dims::of(c);
    return peak_of_two_kinds(d, [&](std::uint32_t l) { return m.moe(l); }, [&](std::uint32_t l, std::uint64_t n) {
        return deepseek_v2_forward_to(s, m, round512, resident, d, l, n);
    });
}

using deepseek_v2_rules = replayed<deepseek_v2_forward>;

}  // namespace vramfit::transformers::detail::act
