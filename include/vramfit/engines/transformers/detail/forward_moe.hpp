// vramfit/engines/transformers/detail/forward_moe.hpp — the forward of the sparse Llama-style decoders: MixtralForCausalLM, Qwen2MoeForCausalLM, Qwen3MoeForCausalLM (modeling_mixtral.py, modeling_qwen2_moe.py, modeling_qwen3_moe.py),
// replayed as activations.hpp describes.
//
// The attention is the Llama one (forward_llama.hpp; Qwen3MoeAttention with q_norm/k_norm on the
// heads, Qwen2MoeAttention with biased q/k/v, one addmm each). What differs:
//  * the MLP of a sparse layer is <P>SparseMoeBlock.forward: the router (<P>TopKRouter.forward:
//    router_logits in the model dtype, kept by the block as `_`; softmax in float32 from a float32
//    copy; topk values and int64 indices; renormalised in place (Mixtral always, Qwen with
//    norm_topk_prob); Qwen casts the weights back to the model dtype, Mixtral keeps them in
//    float32), then the experts (<P>Experts through integrations/moe.py): a forward runs the
//    default experts implementation, grouped_mm_experts_forward; generate()'s decode steps run
//    batched_mm_experts_forward (generation/utils.py `_optimize_model_for_decode`, on any non-CPU
//    device), which gathers each (token, expert) pair's gate_up_proj and down_proj. The routing
//    weights' dtype sets the weighted output's (float32 with Mixtral's float32 weights, then cast
//    back; the model dtype with Qwen's, where the final `.to` is a no-op).
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

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/modules.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

namespace moe {

// What the three modelling files differ in.
struct dims {
    std::uint64_t experts = 0, top_k = 0, inter = 0;  // num_experts / num_local_experts, num_experts_per_tok, moe_intermediate_size
    std::uint64_t shared_inter = 0;   // Qwen2-MoE shared_expert_intermediate_size
    std::uint64_t score_e = 4;        // bytes of one routing weight
    bool renorm = false;              // the top-k weights renormalised
    bool shared = false;              // Qwen2MoeSparseMoeBlock's shared_expert and shared_expert_gate
    bool sliding_mask = false;        // Qwen2MoeModel's second mask

    // norm_topk_prob is the config classes' default: false for Qwen2MoeConfig, true for
    // Qwen3MoeConfig; MixtralTopKRouter always renormalises.
    [[nodiscard]] static constexpr dims of(const model_config& c, const shape& s) noexcept {
        const std::string_view t = c.model_type.view();
        dims m{};
        m.experts = c.num_experts;
        m.top_k = c.num_experts_per_tok;
        m.inter = c.moe_intermediate_size != 0 ? c.moe_intermediate_size : c.intermediate_size;
        const bool mixtral = t == "mixtral";
        m.score_e = mixtral ? 4 : s.e;  // Qwen: `router_top_value.to(router_logits.dtype)`
        m.renorm = t != "qwen2_moe";
        m.shared = t == "qwen2_moe" && c.shared_expert_intermediate_size != 0;
        m.shared_inter = c.shared_expert_intermediate_size;
        m.sliding_mask = t == "qwen2_moe";
        return m;
    }
    // bytes of one element of `proj_out * sample_weights` (type promotion)
    [[nodiscard]] constexpr std::uint64_t weighted_e(const shape& s) const noexcept { return score_e > s.e ? score_e : s.e; }
};

// <P>MLP.forward `down_proj(act_fn(gate_proj(x)) * up_proj(x))` on `rows` rows; returns the down
// projection (live).
constexpr std::uint64_t mlp(tracker& t, const shape& s, std::uint64_t rows, std::uint64_t inter) noexcept {
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

// <P>TopKRouter.forward on `n` tokens: what the block keeps of it.
struct routing { std::uint64_t logits = 0, scores = 0, index = 0; };

constexpr routing route(tracker& t, const shape& s, const dims& m, std::uint64_t n) noexcept {
    const std::uint64_t e = s.e, E = m.experts, k = m.top_k;
    routing r{};
    r.logits = t.alloc(n * E * e);                      // F.linear
    const std::uint64_t up = e == 4 ? 0 : t.alloc(n * E * 4);  // `.float()` / softmax(dtype=float) casts first
    const std::uint64_t probs = t.alloc(n * E * 4);
    t.free(up);
    const std::uint64_t top_v = t.alloc(n * k * 4);
    r.index = t.alloc(n * k * 8);
    if (m.renorm) t.free(t.alloc(n * 4));  // `/= sum(-1, keepdim=True)`, in place
    if (m.score_e != 4) {
        r.scores = t.alloc(n * k * m.score_e);
        t.free(top_v);
    } else {
        r.scores = top_v;
    }
    t.free(probs);  // the router returns
    return r;
}

// integrations/moe.py grouped_mm_experts_forward on `n` tokens (no biases): sort the pairs by
// expert, gather their tokens and weights, histc/cumsum offsets (int32 on CUDA), the grouped
// gate_up and down projections, the weighting, the inverse permutation, the sum over top_k.
constexpr std::uint64_t grouped_mm(tracker& t, const shape& s, const dims& m, std::uint64_t n) noexcept {
    const std::uint64_t S = n * m.top_k, H = s.hidden, I = m.inter, e = s.e, we = m.weighted_e(s);
    const std::uint64_t sorted = t.alloc(S * 8), perm = t.alloc(S * 8);  // torch.sort
    const std::uint64_t src = t.alloc(S * 8);                           // perm // num_top_k
    const std::uint64_t gathered = t.alloc(S * H * e);
    t.free(src);
    const std::uint64_t w_g = t.alloc(S * m.score_e);  // sample_weights[perm]
    const std::uint64_t ids32 = t.alloc(S * 4);        // histc input
    const std::uint64_t hist = t.alloc(m.experts * 4), offsets = t.alloc(m.experts * 4);
    const std::uint64_t gate_up = t.alloc(S * 2 * I * e);
    const std::uint64_t act = t.alloc(S * I * e);  // _default_apply_gate: act_fn(gate) * up
    const std::uint64_t gated = t.alloc(S * I * e);
    t.free(act);
    t.free(gate_up);
    const std::uint64_t down = t.alloc(S * H * e);  // `proj_out`: held to the end
    t.free(gated);
    const std::uint64_t weighted = t.alloc(S * H * we);
    const std::uint64_t inv = t.alloc(S * 8);
    t.free(t.alloc(S * 8));  // arange for inv_perm
    const std::uint64_t restored = t.alloc(S * H * we);  // weighted_out[inv_perm]
    t.free(weighted);
    const std::uint64_t sum = t.alloc(n * H * we);
    const std::uint64_t out = we == e ? sum : t.alloc(n * H * e);  // `.to(hidden_states.dtype)`
    t.free(sorted); t.free(perm); t.free(gathered); t.free(w_g); t.free(ids32);
    t.free(hist); t.free(offsets); t.free(down); t.free(restored); t.free(inv);
    if (we != e) t.free(sum);
    return out;
}

// integrations/moe.py batched_mm_experts_forward (no biases): every token repeated top_k times,
// each pair's gate_up_proj and down_proj rows gathered, bmm.
constexpr std::uint64_t batched_mm(tracker& t, const shape& s, const dims& m, std::uint64_t n) noexcept {
    const std::uint64_t S = n * m.top_k, H = s.hidden, I = m.inter, e = s.e, we = m.weighted_e(s);
    const std::uint64_t rep = t.alloc(S * H * e);          // repeat_interleave
    const std::uint64_t w_up = t.alloc(S * 2 * I * H * e);  // gate_up_proj[expert_ids]
    const std::uint64_t gate_up = t.alloc(S * 2 * I * e);
    const std::uint64_t act = t.alloc(S * I * e);
    const std::uint64_t gated = t.alloc(S * I * e);
    t.free(act);
    t.free(gate_up);
    const std::uint64_t w_down = t.alloc(S * H * I * e);  // down_proj[expert_ids]
    t.free(w_up);
    const std::uint64_t down = t.alloc(S * H * e);
    t.free(gated);
    const std::uint64_t weighted = t.alloc(S * H * we);
    const std::uint64_t sum = t.alloc(n * H * we);
    const std::uint64_t out = we == e ? sum : t.alloc(n * H * e);
    t.free(rep); t.free(w_down); t.free(down); t.free(weighted);
    if (we != e) t.free(sum);
    return out;
}

// <P>SparseMoeBlock.forward on the normed input (live, held by the caller); returns its output.
constexpr std::uint64_t sparse_block(tracker& t, const shape& s, const dims& m) noexcept {
    const std::uint64_t n = s.tokens(), hb = n * s.hidden * s.e;
    const std::uint64_t shared = m.shared ? mlp(t, s, n, m.shared_inter) : 0;  // shared_expert, first
    const routing r = route(t, s, m, n);
    const std::uint64_t experts = s.decode ? batched_mm(t, s, m, n) : grouped_mm(t, s, m, n);
    std::uint64_t out = experts;
    if (m.shared) {
        const std::uint64_t g = t.alloc(n * s.e);  // shared_expert_gate
        const std::uint64_t sg = t.alloc(n * s.e);  // sigmoid
        t.free(g);
        const std::uint64_t gated = t.alloc(hb);  // `* shared_expert_output`, rebinding the name
        t.free(sg);
        t.free(shared);
        out = t.alloc(hb);  // expert_output + shared_expert_output
        t.free(experts);
        t.free(gated);
    }
    t.free(r.logits);  // `_`, and the routing tensors, go when the block returns
    t.free(r.scores);
    t.free(r.index);
    return out;
}

// A decoder layer (<P>DecoderLayer.forward), its input `x` live (held by the caller); the
// attention as llama_layer replays it.
constexpr void layer(tracker& t, const shape& s, const dims& m, bool sparse, std::uint64_t mask) noexcept {
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    const std::uint64_t normed = rms_norm(t, s, rows, s.hidden);
    // <P>Attention.forward
    const std::uint64_t qb = rows * s.heads * s.head_dim * s.e;
    const std::uint64_t kb = rows * s.kv_heads * s.head_dim * s.e;
    std::uint64_t q = t.alloc(qb);
    if (s.qk_norm) { const std::uint64_t n = rms_norm(t, s, rows * s.heads, s.head_dim); t.free(q); q = n; }
    std::uint64_t k = t.alloc(kb);
    if (s.qk_norm) { const std::uint64_t n = rms_norm(t, s, rows * s.kv_heads, s.head_dim); t.free(k); k = n; }
    const std::uint64_t v = t.alloc(kb);
    const std::uint64_t qr = rotary(t, qb);
    const std::uint64_t kr = rotary(t, kb);
    t.free(q);
    t.free(k);
    // DynamicLayer.update: cat with what is cached (an empty tensor on the first update)
    t.alloc_kv(s.kv_tensor(s.kv_len()));
    t.free_kv(s.kv_tensor(s.past));
    t.alloc_kv(s.kv_tensor(s.kv_len()));
    t.free_kv(s.kv_tensor(s.past));
    t.free(kr);
    t.free(v);
    const auto a = attention_core(t, s, mask);
    t.free(qr);
    const std::uint64_t o = t.alloc(hb);  // o_proj
    t.free(a.out);
    t.free(normed);
    const std::uint64_t h = t.alloc(hb);  // residual + attention
    t.free(o);
    const std::uint64_t normed2 = rms_norm(t, s, rows, s.hidden);
    const std::uint64_t mlp_out = sparse ? sparse_block(t, s, m) : mlp(t, s, rows, s.inter);
    t.free(normed2);
    const std::uint64_t out = t.alloc(hb);  // residual + mlp
    t.free(mlp_out);
    t.free(h);
    t.free(a.weights);  // `hidden_states, _ = self.self_attn(...)`: `_` holds them to the end
    (void)out;  // stays: the model's loop variable
}

// One forward as one device sees it, up to and including the n-th local layer (sparse or dense),
// and the head when that layer is the last local one (`last`).
constexpr tracker forward(const shape& s, const dims& m, bool round512, std::uint64_t resident, const device_share& d,
                          bool sparse, std::uint64_t n, bool last) noexcept {
    tracker t{round512};
    t.alloc(resident);
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    // the cache of every local layer before this one's update, as this layer finds it
    if (d.count != 0) t.alloc_kv(2 * s.kv_tensor(s.past) * d.count);
    const std::uint64_t embeds = d.embedding ? t.alloc(hb) : 0;
    // position ids: arange + past_seen_tokens when not given (a forward); generate() passes its own
    const std::uint64_t pos = d.embedding && !s.decode ? t.alloc(s.q * 8) : 0;
    // create_causal_mask: None for sdpa without padding; eager adds a float [batch, 1, q, kv] mask
    const bool here = d.embedding || d.count != 0;
    const std::uint64_t mask = s.eager && here ? t.alloc(s.batch * s.q * s.kv_len() * s.e) : 0;
    // Qwen2MoeModel.forward: the sliding-window mask beside it. Under sdpa it is bool, and without
    // a 2-D mask its batch dimension is an expand of one row: generate() drops an all-ones
    // attention_mask (generation/utils.py), a plain forward keeps it (padding_mask_function);
    // eager's torch.where writes every row.
    const std::uint64_t slide_rows = s.eager || !s.decode ? s.batch : 1;
    const std::uint64_t slide =
        m.sliding_mask && d.embedding ? t.alloc(slide_rows * s.q * s.kv_len() * (s.eager ? s.e : 1)) : 0;
    // rotary cos/sin over position_ids' batch (1 for a forward's arange, `batch` in generate())
    const std::uint64_t rot = here ? (s.decode ? s.batch : 1) * s.q * s.head_dim * s.e : 0;
    const std::uint64_t cs = t.alloc(rot), sn = t.alloc(rot);
    if (d.count != 0) {
        // the local layers before this one have updated their cache; this one runs with its input
        // beside inputs_embeds (or, on a later device, beside nothing but the moved copy)
        t.alloc_kv(2 * (s.kv_tensor(s.kv_len()) - s.kv_tensor(s.past)) * (n - 1));
        const std::uint64_t x = d.embedding && n == 1 ? 0 : t.alloc(hb);
        layer(t, s, m, sparse, mask);
        t.free(x);  // the loop variable moves to this layer's output
    }
    if (d.head && last) {
        const std::uint64_t out = d.count != 0 ? hb : t.alloc(hb);  // moved here when the layers are elsewhere
        const std::uint64_t normed = rms_norm(t, s, rows, s.hidden);  // <P>Model.norm
        t.free(out);
        t.free(cs);
        t.free(sn);
        t.free(mask);
        t.free(slide);
        t.free(pos);
        t.free(embeds);
        // <P>ForCausalLM: lm_head on the last logits_rows positions
        const std::uint64_t logits = t.alloc(s.batch * s.logits_rows * s.vocab * s.e);
        (void)normed; (void)logits;
    }
    return t;
}

}  // namespace moe

struct moe_rules {
    static constexpr bool modelled = true;
    [[nodiscard]] static constexpr tracker forward(const model_config& c, const shape& shape_in, bool round512,
                                                   std::uint64_t resident, const device_share& d) noexcept {
        shape s = shape_in;
        s.qk_norm = c.model_type.view() == "qwen3_moe";  // Qwen3MoeAttention: q_norm, k_norm
        const auto m = moe::dims::of(c, s);
        // the last local layer, and the last local one of the other kind with its place among them
        const std::uint32_t last = d.last_layer();
        const bool last_sparse = sparse_layer(c, last);
        std::uint64_t n_last = 0, n_other = 0;
        for (std::uint32_t l = 0; l <= last && d.count != 0; ++l) {
            if (!d.layers.contains(l)) continue;
            ++n_last;
            if (sparse_layer(c, l) != last_sparse) n_other = n_last;
        }
        tracker t = moe::forward(s, m, round512, resident, d, last_sparse, n_last, true);
        if (n_other != 0) {
            const tracker o = moe::forward(s, m, round512, resident, d, !last_sparse, n_other, false);
            if (o.peak > t.peak) { t.peak = o.peak; t.kv_at_peak = o.kv_at_peak; }
        }
        return t;
    }
    // generate()'s state during a decode step (generation/utils.py `_sample`): activations.hpp's
    // (the caller's input_ids and attention_mask, the prefill's position_ids, the sequences grown by
    // cat, the float32 next_token_logits) and the small tensors beside it: the eos and pad token tensors (_prepare_special_tokens; pad
    // falls back to eos), next_tokens, unfinished_sequences, and the step's input_ids and
    // position_ids slices (prepare_inputs_for_generation clones them).
    [[nodiscard]] static constexpr std::uint64_t decode_state(const model_config&, const shape& s,
                                                              std::uint64_t cached) noexcept {
        const std::uint64_t b = s.batch;
        return 2 * b * s.prompt * 8 + b * s.prompt * 8 + 2 * b * (cached + 1) * 8 + b * s.vocab * 4 + 2 * 8 +
               4 * b * 8;
    }
};

}  // namespace vramfit::transformers::detail::act
