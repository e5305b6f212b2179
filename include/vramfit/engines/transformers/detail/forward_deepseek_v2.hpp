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
//    float32), the experts, the shared experts on the same input. The experts run transformers'
//    default experts implementation, "grouped_mm" (integrations/moe.py
//    grouped_mm_experts_forward), and "batched_mm" in generate()'s decode steps
//    (generation/utils.py `_optimize_model_for_decode`, on any non-CPU device); neither
//    depends on how the tokens are routed.
// The decoder layers are of two kinds; a later layer of one kind holds at least what an earlier
// one held, so the local peak is the larger of the last local dense layer's and the last local
// MoE layer's.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
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

// DeepseekV2MLP.forward `down_proj(act_fn(gate_proj(x)) * up_proj(x))` on `rows` rows; returns
// the down projection (live).
constexpr std::uint64_t deepseek_v2_mlp(tracker& t, const shape& s, std::uint64_t rows, std::uint64_t inter) noexcept {
    const std::uint64_t ib = rows * inter * s.e;
    const std::uint64_t gate = t.alloc(ib);
    const std::uint64_t act = t.alloc(ib);
    t.free(gate);
    const std::uint64_t up = t.alloc(ib);
    const std::uint64_t prod = t.alloc(ib);
    t.free(up);
    t.free(act);
    const std::uint64_t down = t.alloc(rows * s.hidden * s.e);
    t.free(prod);
    return down;
}

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

    const std::uint64_t i = m.moe_inter;
    std::uint64_t experts = 0;
    if (!s.decode) {
        // grouped_mm_experts_forward: tokens sorted by expert, both projections grouped
        const std::uint64_t sorted = t.alloc(sel * 8), perm = t.alloc(sel * 8);
        const std::uint64_t src = t.alloc(sel * 8);      // perm // num_top_k
        const std::uint64_t gathered = t.alloc(sel * h * e);
        t.free(src);
        const std::uint64_t w_g = t.alloc(sel * 4);      // sample_weights[perm]
        const std::uint64_t ids32 = t.alloc(sel * 4);    // histc input, int32 on CUDA
        const std::uint64_t hist = t.alloc(m.experts * 4), offsets = t.alloc(m.experts * 4);
        const std::uint64_t gate_up = t.alloc(sel * 2 * i * e);
        const std::uint64_t act = t.alloc(sel * i * e);  // _default_apply_gate: act_fn(gate) * up
        const std::uint64_t gated = t.alloc(sel * i * e);
        t.free(act);
        t.free(gate_up);
        const std::uint64_t down = t.alloc(sel * h * e);  // `proj_out`: held to the end
        t.free(gated);
        const std::uint64_t weighted = t.alloc(sel * h * 4);  // times the float32 routing weights
        const std::uint64_t inv = t.alloc(sel * 8);
        t.free(t.alloc(sel * 8));  // arange for inv_perm
        const std::uint64_t restored = t.alloc(sel * h * 4);  // weighted_out[inv_perm]
        t.free(weighted);
        const std::uint64_t sum = t.alloc(n * h * 4);
        experts = e == 4 ? sum : t.alloc(n * h * e);
        t.free(sorted); t.free(perm); t.free(gathered); t.free(w_g); t.free(ids32);
        t.free(hist); t.free(offsets); t.free(down); t.free(restored); t.free(inv);
        if (e != 4) t.free(sum);
    } else {
        // batched_mm_experts_forward: each token-expert pair with its expert's weights gathered
        const std::uint64_t rep = t.alloc(sel * h * e);  // repeat_interleave
        const std::uint64_t w_up = t.alloc(sel * 2 * i * h * e);  // gate_up_proj[expert_ids]
        const std::uint64_t gate_up = t.alloc(sel * 2 * i * e);
        const std::uint64_t act = t.alloc(sel * i * e);
        const std::uint64_t gated = t.alloc(sel * i * e);
        t.free(act);
        t.free(gate_up);
        const std::uint64_t w_down = t.alloc(sel * h * i * e);  // down_proj[expert_ids]
        t.free(w_up);
        const std::uint64_t down = t.alloc(sel * h * e);
        t.free(gated);
        const std::uint64_t weighted = t.alloc(sel * h * 4);
        const std::uint64_t sum = t.alloc(n * h * 4);
        experts = e == 4 ? sum : t.alloc(n * h * e);
        t.free(rep); t.free(w_down); t.free(down); t.free(weighted);
        if (e != 4) t.free(sum);
    }
    const std::uint64_t shared = deepseek_v2_mlp(t, s, n, m.shared_inter);  // shared_experts(residuals)
    const std::uint64_t out = t.alloc(n * h * e);
    t.free(shared);
    t.free(experts);
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
    // DynamicLayer.update: cat with what is cached; the layer's names then hold the cache
    t.alloc_kv(m.latent(s, s.kv_len()));
    t.free_kv(m.latent(s, s.past));
    t.alloc_kv(m.rope_key(s, s.kv_len()));
    t.free_kv(m.rope_key(s, s.past));
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
        const std::uint64_t mm = t.alloc(scores * e);
        const std::uint64_t scaled = t.alloc(scores * e);
        t.free(mm);
        std::uint64_t w = scaled;
        if (mask != 0) { w = t.alloc(scores * e); t.free(scaled); }
        const std::uint64_t up = e == 4 ? 0 : t.alloc(scores * 4);
        const std::uint64_t sm = t.alloc(scores * 4);
        t.free(up);
        probs = e == 4 ? sm : t.alloc(scores * e);
        if (e != 4) t.free(sm);
        t.free(w);
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
    const std::uint64_t mlp = moe ? deepseek_v2_moe(t, s, m) : deepseek_v2_mlp(t, s, rows, s.inter);
    t.free(normed2);
    const std::uint64_t out = t.alloc(rows * s.hidden * e);  // residual + mlp
    t.free(mlp);
    t.free(h);
    t.free(probs);  // `hidden_states, _ = self.self_attn(...)`: `_` holds them to the end
    (void)out;  // stays: the model's loop variable
}

// One forward of DeepseekV2ForCausalLM as one device sees it, up to and including local layer
// `replayed` (the n-th local layer), and, when it is the last local layer, the head.
constexpr tracker deepseek_v2_forward(const shape& s, const deepseek_v2_dims& m, bool round512, std::uint64_t resident,
                                      const device_share& d, std::uint32_t replayed, std::uint64_t n) noexcept {
    tracker t{round512};
    t.alloc(resident);
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    // the cache of every local layer before this one's update, as this layer finds it
    if (d.count != 0) t.alloc_kv(m.cache(s, s.past) * d.count);
    const std::uint64_t embeds = d.embedding ? t.alloc(hb) : 0;
    // position ids: arange + past_seen_tokens when not given (a forward); generate() passes its own
    std::uint64_t pos = 0;
    if (d.embedding && !s.decode) {
        const std::uint64_t ar = t.alloc(s.q * 8);
        pos = t.alloc(s.q * 8);
        t.free(ar);
    }
    // create_causal_mask: None for sdpa without padding; eager adds a float [batch, 1, q, kv] mask
    const bool here = d.embedding || d.count != 0;
    const std::uint64_t mask = s.eager && here ? t.alloc(s.batch * s.q * s.kv_len() * s.e) : 0;
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
    const bool last = replayed == d.last_layer();
    if (d.count != 0) {
        // the local layers before this one have updated their cache; this one runs with its
        // input beside inputs_embeds (or, on a later device, beside nothing but the moved copy)
        t.alloc_kv((m.cache(s, s.kv_len()) - m.cache(s, s.past)) * (n - 1));
        const std::uint64_t x = d.embedding && n == 1 ? 0 : t.alloc(hb);
        deepseek_v2_layer(t, s, m, m.moe(replayed), mask);
        t.free(x);  // the loop variable moves to this layer's output
    }
    if (d.head && last) {
        const std::uint64_t out = d.count != 0 ? hb : t.alloc(hb);  // moved here when the layers are elsewhere
        const std::uint64_t normed = rms_norm(t, s, rows, s.hidden);  // DeepseekV2Model.norm
        t.free(out);
        t.free(pos);
        t.free(embeds);
        t.free(cis);
        t.free(mask);
        // DeepseekV2ForCausalLM: lm_head on the last logits_rows positions
        const std::uint64_t logits = t.alloc(s.batch * s.logits_rows * s.vocab * s.e);
        (void)normed; (void)logits;
    }
    return t;
}

struct deepseek_v2_rules {
    static constexpr bool modelled = true;
    [[nodiscard]] static constexpr tracker forward(const model_config& c, const shape& s, bool round512,
                                                   std::uint64_t resident, const device_share& d) noexcept {
        const auto m = deepseek_v2_dims::of(c);
        // the last local layer, and the last local one of the other kind with its place among them
        const std::uint32_t last = d.last_layer();
        std::uint32_t other = 0;
        std::uint64_t n_last = 0, n_other = 0;
        for (std::uint32_t l = 0; l <= last && d.count != 0; ++l) {
            if (!d.layers.contains(l)) continue;
            ++n_last;
            if (m.moe(l) != m.moe(last)) { other = l; n_other = n_last; }
        }
        tracker t = deepseek_v2_forward(s, m, round512, resident, d, last, n_last);
        if (n_other != 0) {
            const tracker o = deepseek_v2_forward(s, m, round512, resident, d, other, n_other);
            if (o.peak > t.peak) { t.peak = o.peak; t.kv_at_peak = o.kv_at_peak; }
        }
        return t;
    }
};

}  // namespace vramfit::transformers::detail::act
