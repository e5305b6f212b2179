// vramfit/engines/transformers/detail/forward_gpt_oss.hpp — the forward of GptOssForCausalLM (modeling_gpt_oss.py),
// replayed as activations.hpp describes, every local decoder layer in turn: the layers alternate
// full and sliding attention (config layer_types), so the cache each one finds and the scores it
// builds differ, and the peak can sit in any of them.
//
// What differs from the Llama replay:
//  * GptOssRMSNorm keeps the float32 product `hidden_states * rsqrt(...)` and multiplies the
//    (float32) weight before the downcast;
//  * cos/sin cover half the head (GptOssRotaryEmbedding.forward: no cat of the frequencies);
//    _apply_rotary_emb builds both halves from two products each and cats them;
//  * the cache: a full layer's DynamicLayer.update cats keys, then values; a sliding layer's
//    DynamicSlidingWindowLayer.update cats both before dropping the old tensors, keeps a view of
//    the last `sliding_window - 1` tokens (the cat's whole storage stays referenced) and moves its
//    int64 window scalar to the layer's device on its first update (cache_utils.py);
//  * eager_attention_forward concatenates the sinks to the scores, subtracts the row maximum and
//    takes a softmax in the model dtype;
//  * GptOssModel.forward builds both masks (create_causal_mask, create_sliding_window_causal_mask)
//    and each layer takes the one of its type;
//  * the MoE block (GptOssMLP: GptOssTopKRouter, then GptOssExperts through
//    integrations/moe.py): a forward runs the default experts implementation, grouped_mm; inside
//    generate() the decode steps run batched_mm (generation/utils.py
//    `_optimize_model_for_decode` swaps grouped_mm for batched_mm off the CPU), which gathers
//    every selected expert's weights per token.
#pragma once

#include <algorithm>
#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/kv_cache.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

namespace gpt_oss {

// GptOssRMSNorm.forward on `rows` rows of `width`: upcast, pow, mean, + eps, rsqrt, the float32
// product (held by the name `hidden_states` to the end), weight * it, downcast.
constexpr std::uint64_t rms_norm(tracker& t, const shape& s, std::uint64_t rows, std::uint64_t width) noexcept {
    const std::uint64_t n = rows * width;
    const std::uint64_t up = s.e == 4 ? 0 : t.alloc(n * 4);  // .to(float32) is a no-op on float32
    const std::uint64_t pw = t.alloc(n * 4);
    const std::uint64_t var = t.alloc(rows * 4);
    t.free(pw);
    const std::uint64_t add = t.alloc(rows * 4);
    const std::uint64_t rs = t.alloc(rows * 4);
    t.free(add);
    const std::uint64_t scaled = t.alloc(n * 4);
    t.free(rs);
    t.free(up);
    const std::uint64_t weighted = t.alloc(n * 4);  // the weight is float32 (_keep_in_fp32_modules)
    const std::uint64_t out = s.e == 4 ? weighted : t.alloc(n * s.e);
    if (s.e != 4) t.free(weighted);
    t.free(scaled);
    t.free(var);
    return out;
}

// _apply_rotary_emb on one of q/k (`n` bytes): the halves' products, their difference and sum, the cat.
constexpr std::uint64_t rotary(tracker& t, std::uint64_t n) noexcept {
    const std::uint64_t a = t.alloc(n / 2), b = t.alloc(n / 2);
    const std::uint64_t first = t.alloc(n / 2);  // first_half * cos - second_half * sin
    t.free(b); t.free(a);
    const std::uint64_t c = t.alloc(n / 2), d = t.alloc(n / 2);
    const std::uint64_t second = t.alloc(n / 2);  // second_half * cos + first_half * sin
    t.free(d); t.free(c);
    const std::uint64_t out = t.alloc(n);
    t.free(first); t.free(second);
    return out;
}

// GptOssRotaryEmbedding.forward over `positions` position ids: float positions, the frequencies,
// cos and sin scaled by attention_scaling, cast to the model dtype; cos/sin stay live.
struct cos_sin { std::uint64_t cos = 0, sin = 0; };
constexpr cos_sin rotary_embedding(tracker& t, const shape& s, std::uint64_t positions) noexcept {
    const std::uint64_t n = positions * (s.head_dim / 2);
    const std::uint64_t pf = t.alloc(positions * 4);
    const std::uint64_t freqs = t.alloc(n * 4);
    t.free(pf);
    const std::uint64_t c = t.alloc(n * 4);
    const std::uint64_t cs = t.alloc(n * 4);
    t.free(c);
    const std::uint64_t si = t.alloc(n * 4);
    const std::uint64_t ss = t.alloc(n * 4);
    t.free(si);
    if (s.e == 4) { t.free(freqs); return {cs, ss}; }  // .to(float32) keeps the scaled ones
    const cos_sin out{t.alloc(n * s.e), t.alloc(n * s.e)};
    t.free(ss); t.free(cs); t.free(freqs);
    return out;
}

// eager_mask through sdpa_mask (masking_utils.py) for a [batch, 1, q, kv] mask: the bool 2-D
// attention mask when one is given (it adds padding_mask_function), the index aranges, the
// and_masks chain of the mask functions (sliding_window_causal_mask_function adds the window
// overlay), then torch.where into the model dtype. Returns the float mask (live).
constexpr std::uint64_t eager_mask(tracker& t, const shape& s, std::uint64_t kv, bool sliding, bool padding) noexcept {
    const std::uint64_t b = s.batch, q = s.q;
    const std::uint64_t am = padding ? t.alloc(b * s.kv_len()) : 0;  // attention_mask.to(bool)
    const std::uint64_t ba = t.alloc(b * 8), ha = t.alloc(8);
    const std::uint64_t qa = t.alloc(q * 8), qi = t.alloc(q * 8);  // arange + q_offset
    t.free(qa);
    const std::uint64_t ka = t.alloc(kv * 8), ki = t.alloc(kv * 8);  // arange + kv_offset
    t.free(ka);
    const std::uint64_t outer = padding ? t.alloc(1) : 0;  // and_masks: new_ones(())
    std::uint64_t m = 0;
    if (sliding) {
        const std::uint64_t inner = t.alloc(1);
        const std::uint64_t sub = t.alloc(q * 8);  // q_idx - sliding_window
        const std::uint64_t gt = t.alloc(q * kv);
        t.free(sub);
        const std::uint64_t a = t.alloc(q * kv);
        t.free(gt); t.free(inner);
        const std::uint64_t le = t.alloc(q * kv);  // causal
        m = t.alloc(q * kv);
        t.free(le); t.free(a);
        if (padding) { const std::uint64_t n = t.alloc(q * kv); t.free(m); m = n; }
    } else {
        const std::uint64_t le = t.alloc(q * kv);
        m = le;
        if (padding) { m = t.alloc(q * kv); t.free(le); }
    }
    t.free(outer);
    if (padding) {
        const std::uint64_t idx = t.alloc(b * kv);  // padding_mask[batch_idx, kv_idx]
        const std::uint64_t n = t.alloc(b * q * kv);
        t.free(idx); t.free(m); m = n;
    }
    t.free(ba); t.free(ha); t.free(qi); t.free(ki);
    const std::uint64_t zero = t.alloc(s.e), minv = t.alloc(s.e);
    const std::uint64_t out = t.alloc(b * q * kv * s.e);
    t.free(minv); t.free(zero); t.free(m); t.free(am);
    return out;
}

// The gate shared by both experts paths (GptOssExperts._apply_gate) on `n` bytes of gate (and of up).
constexpr std::uint64_t apply_gate(tracker& t, std::uint64_t n) noexcept {
    const std::uint64_t gate = t.alloc(n), up = t.alloc(n);  // the clamps
    const std::uint64_t ga = t.alloc(n);                     // gate * alpha
    const std::uint64_t sg = t.alloc(n);
    t.free(ga);
    const std::uint64_t glu = t.alloc(n);
    t.free(sg);
    const std::uint64_t up1 = t.alloc(n);
    const std::uint64_t out = t.alloc(n);  // (up + 1) * glu
    t.free(up1); t.free(gate); t.free(up); t.free(glu);
    return out;
}

struct moe_dims { std::uint64_t experts = 0, top_k = 0, inter = 0; };

// integrations/moe.py grouped_mm_experts_forward on `rows` tokens: sort by expert, gather the
// tokens, per-row biases, grouped matmuls over all experts, restore the order, sum over top_k.
constexpr std::uint64_t grouped_mm(tracker& t, const shape& s, const moe_dims& m, std::uint64_t rows) noexcept {
    const std::uint64_t S = rows * m.top_k, H = s.hidden, e = s.e;
    const std::uint64_t ids = t.alloc(S * 8), perm = t.alloc(S * 8);  // torch.sort
    const std::uint64_t tok = t.alloc(S * 8);                         // perm // num_top_k
    const std::uint64_t sel = t.alloc(S * H * e);
    t.free(tok);
    const std::uint64_t sw = t.alloc(S * e);
    const std::uint64_t hin = t.alloc(S * 4);  // expert ids as int32 for histc
    const std::uint64_t hist = t.alloc(m.experts * 4), offs = t.alloc(m.experts * 4);
    const std::uint64_t gb = t.alloc(S * 2 * m.inter * e);  // gate_up_proj_bias[expert_ids_g]
    const std::uint64_t gu = t.alloc(S * 2 * m.inter * e);  // bias added in place
    const std::uint64_t gated = apply_gate(t, S * m.inter * e);
    t.free(gu);
    const std::uint64_t db = t.alloc(S * H * e);
    t.free(gb);
    const std::uint64_t dn = t.alloc(S * H * e);
    t.free(gated);
    const std::uint64_t w = t.alloc(S * H * e);  // * sample_weights
    const std::uint64_t inv = t.alloc(S * 8);
    const std::uint64_t ar = t.alloc(S * 8);      // inv_perm[perm] = arange
    t.free(ar);
    const std::uint64_t w2 = t.alloc(S * H * e);  // weighted_out[inv_perm]
    t.free(w);
    const std::uint64_t out = t.alloc(rows * H * e);  // .sum(dim=1)
    t.free(ids); t.free(perm); t.free(sel); t.free(sw); t.free(hin); t.free(hist); t.free(offs);
    t.free(db); t.free(dn); t.free(w2); t.free(inv);
    return out;
}

// integrations/moe.py batched_mm_experts_forward: every token repeated top_k times and each
// (token, expert) pair's weights and biases gathered, then bmm.
constexpr std::uint64_t batched_mm(tracker& t, const shape& s, const moe_dims& m, std::uint64_t rows) noexcept {
    const std::uint64_t S = rows * m.top_k, H = s.hidden, I = m.inter, e = s.e;
    const std::uint64_t sel = t.alloc(S * H * e);        // repeat_interleave
    const std::uint64_t gw = t.alloc(S * H * 2 * I * e);  // gate_up_proj[expert_ids]
    const std::uint64_t gb = t.alloc(S * 2 * I * e);
    const std::uint64_t gu = t.alloc(S * 2 * I * e);      // bmm, bias added in place
    const std::uint64_t gated = apply_gate(t, S * I * e);
    t.free(gu);
    const std::uint64_t dw = t.alloc(S * I * H * e);      // down_proj[expert_ids]
    t.free(gw);
    const std::uint64_t db = t.alloc(S * H * e);
    t.free(gb);
    const std::uint64_t dn = t.alloc(S * H * e);
    t.free(gated);
    const std::uint64_t w = t.alloc(S * H * e);
    const std::uint64_t out = t.alloc(rows * H * e);
    t.free(sel); t.free(dw); t.free(db); t.free(dn); t.free(w);
    return out;
}

// One decoder layer (GptOssDecoderLayer.forward), its input and its mask live (held by the
// caller). `old_tok` and `new_tok`: the tokens of storage its cache holds before and after the
// update (the keys the attention sees: the update returns the whole cat); `first_update`: a
// sliding layer moves its window scalar to the device. Returns the layer's output (live).
struct layer_cache { bool sliding = false; std::uint64_t old_tok = 0, new_tok = 0; bool first_update = false; };

constexpr std::uint64_t layer(tracker& t, const shape& s, const moe_dims& m, const layer_cache& c) noexcept {
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    const std::uint64_t normed = gpt_oss::rms_norm(t, s, rows, s.hidden);
    // GptOssAttention.forward
    const std::uint64_t qb = rows * s.heads * s.head_dim * s.e;
    const std::uint64_t kb = rows * s.kv_heads * s.head_dim * s.e;
    const std::uint64_t q = t.alloc(qb), k = t.alloc(kb), v = t.alloc(kb);
    const std::uint64_t qr = gpt_oss::rotary(t, qb);
    const std::uint64_t kr = gpt_oss::rotary(t, kb);
    t.free(q);
    t.free(k);
    const std::uint64_t old_b = s.kv_tensor(c.old_tok), new_b = s.kv_tensor(c.new_tok);
    if (c.sliding) {
        // DynamicSlidingWindowLayer: lazy_initialization moves the window scalar; both cats, then
        // self.keys / self.values rebound (the old tensors go)
        if (c.first_update) t.alloc(8);
        t.alloc_kv(new_b);
        t.alloc_kv(new_b);
        t.free_kv(old_b);
        t.free_kv(old_b);
    } else {
        t.alloc_kv(new_b);
        t.free_kv(old_b);
        t.alloc_kv(new_b);
        t.free_kv(old_b);
    }
    t.free(kr);
    t.free(v);
    // eager_attention_forward over the update's full states (new_tok keys)
    const std::uint64_t rep = s.heads / s.kv_heads;
    const std::uint64_t full = s.batch * s.heads * c.new_tok * s.head_dim * s.e;
    const std::uint64_t rk = rep > 1 ? t.alloc(full) : 0;  // repeat_kv
    const std::uint64_t rv = rep > 1 ? t.alloc(full) : 0;
    const std::uint64_t scores = s.batch * s.heads * s.q * c.new_tok * s.e;
    const std::uint64_t mm = t.alloc(scores);
    const std::uint64_t scaled = t.alloc(scores);  // * scaling
    t.free(mm);
    const std::uint64_t masked = t.alloc(scores);  // + attention_mask (eager_mask never skips)
    t.free(scaled);
    const std::uint64_t comb = s.batch * s.heads * s.q * (c.new_tok + 1) * s.e;  // cat with the sinks
    const std::uint64_t cat = t.alloc(comb);
    const std::uint64_t mx = t.alloc(s.batch * s.heads * s.q * s.e);
    const std::uint64_t mi = t.alloc(s.batch * s.heads * s.q * 8);  // max's indices, dropped
    t.free(mi);
    const std::uint64_t centred = t.alloc(comb);  // - max (held by `combined_logits`)
    t.free(mx);
    t.free(cat);
    const std::uint64_t probs = t.alloc(comb);  // softmax in the model dtype; the sink column a view
    t.free(masked);
    const std::uint64_t av = t.alloc(qb);
    // transpose(1, 2).contiguous() copies unless one query row makes it contiguous already
    const std::uint64_t out = s.q > 1 ? t.alloc(qb) : av;
    if (s.q > 1) t.free(av);
    t.free(rk);
    t.free(rv);
    t.free(centred);
    const std::uint64_t o = t.alloc(hb);  // o_proj
    t.free(out);
    t.free(qr);
    t.free(normed);
    const std::uint64_t h = t.alloc(hb);  // residual + attention
    t.free(o);
    const std::uint64_t normed2 = gpt_oss::rms_norm(t, s, rows, s.hidden);
    // GptOssMLP.forward: GptOssTopKRouter (logits, top-k values and indices, softmax of the values)
    const std::uint64_t logits = t.alloc(rows * m.experts * s.e);
    const std::uint64_t top_v = t.alloc(rows * m.top_k * s.e);
    const std::uint64_t top_i = t.alloc(rows * m.top_k * 8);
    const std::uint64_t router_scores = t.alloc(rows * m.top_k * s.e);
    t.free(top_v);
    const std::uint64_t mlp = s.decode ? batched_mm(t, s, m, rows) : grouped_mm(t, s, m, rows);
    t.free(logits);
    t.free(top_i);
    t.free(normed2);
    t.free(probs);  // `_` rebound from the attention weights to the router scores
    const std::uint64_t res = t.alloc(hb);  // residual + mlp
    t.free(mlp);
    t.free(h);
    t.free(router_scores);
    return res;
}

}  // namespace gpt_oss

// One forward of GptOssForCausalLM as one device sees it, every local layer replayed in order.
// `resident`: bytes already live there besides the weights and the cache. Attention is eager
// whatever was asked: GptOssPreTrainedModel has _supports_sdpa = False, so from_pretrained falls
// back to eager when no implementation is named (modeling_utils.py get_correct_attn_implementation).
constexpr tracker gpt_oss_forward(const model_config& c, const shape& s, bool round512, std::uint64_t resident,
                                  const device_share& d) noexcept {
    tracker t{round512};
    t.alloc(resident);
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    const gpt_oss::moe_dims moe{c.num_experts, c.num_experts_per_tok,
                                c.moe_intermediate_size != 0 ? c.moe_intermediate_size : c.intermediate_size};
    const std::uint64_t window = c.sliding_window;

    // the storage each layer's cache holds before and after this forward's update (kv_cache.hpp:
    // the prefill's cat keeps all the prompt; a decode step's cat keeps the window)
    auto cache_of = [&](std::uint32_t l) {
        const auto shape = kv_layer(c, l);
        gpt_oss::layer_cache lc{};
        lc.sliding = shape.sliding_window != 0;
        lc.old_tok = cached_tokens(shape, s.past, cache_implementation::dynamic, 0,
                                   s.past == s.prompt ? s.prompt : 1);
        lc.new_tok = cached_tokens(shape, s.past + s.q, cache_implementation::dynamic, 0, s.q);
        lc.first_update = s.past == 0;
        return lc;
    };
    // the masks' key lengths (DynamicLayer / DynamicSlidingWindowLayer get_mask_sizes)
    const std::uint64_t full_kv = s.kv_len();
    const std::uint64_t slide_kv = window != 0 ? std::min(s.past, window - 1) + s.q : full_kv;

    // the cache the local layers hold before this forward; a decode step finds each sliding layer's
    // window scalar on its device already
    for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l) {
        if (!d.layers.contains(l)) continue;
        const auto lc = cache_of(l);
        t.alloc_kv(2 * s.kv_tensor(lc.old_tok));
        if (lc.sliding && !lc.first_update) t.alloc(8);
    }

    // GptOssModel.forward on the embedding's device: inputs_embeds, position ids (generate() passes
    // its own), both masks, cos/sin over position_ids' batch
    const std::uint64_t positions = (s.decode ? s.batch : 1) * s.q;
    std::uint64_t embeds = 0, pos = 0, mask_full = 0, mask_slide = 0;
    gpt_oss::cos_sin cs{};
    if (d.embedding) {
        embeds = t.alloc(hb);
        if (!s.decode) {
            const std::uint64_t ar = t.alloc(s.q * 8);
            pos = t.alloc(s.q * 8);
            t.free(ar);
        }
        // generate()'s decode steps leave out the all-ones 2-D mask; a forward's goes into padding_mask_function
        mask_full = gpt_oss::eager_mask(t, s, full_kv, false, !s.decode);
        mask_slide = gpt_oss::eager_mask(t, s, slide_kv, true, !s.decode);
        cs = gpt_oss::rotary_embedding(t, s, positions);
    }

    // the decoder layers; a layer whose input comes from another device gets a copy of it, and on a
    // device without the embedding every layer gets copies of its mask, cos/sin and position_ids
    // (accelerate/hooks.py AlignDevicesHook.pre_forward), dropped when it returns
    std::uint64_t prev = 0;  // the previous layer's output, when it ran here
    bool prev_here = false;
    const std::uint32_t last_model_layer = c.num_hidden_layers - 1;
    std::uint64_t last_out = 0;
    bool last_here = false;
    for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l) {
        if (!d.layers.contains(l)) { prev_here = false; continue; }
        const auto lc = cache_of(l);
        const bool from_embeds = l == 0 && d.embedding;
        const std::uint64_t x = from_embeds || prev_here ? 0 : t.alloc(hb);
        std::uint64_t mask_copy = 0, cos_copy = 0, sin_copy = 0, pos_copy = 0;
        if (!d.embedding) {
            mask_copy = t.alloc(s.batch * s.q * (lc.sliding ? slide_kv : full_kv) * s.e);
            cos_copy = t.alloc(positions * (s.head_dim / 2) * s.e);
            sin_copy = t.alloc(positions * (s.head_dim / 2) * s.e);
            pos_copy = t.alloc(positions * 8);
        }
        const std::uint64_t out = gpt_oss::layer(t, s, moe, lc);
        t.free(x);
        t.free(mask_copy); t.free(cos_copy); t.free(sin_copy); t.free(pos_copy);
        if (prev_here) t.free(prev);  // the caller's hidden_states moves on (inputs_embeds stays referenced)
        prev = out;
        prev_here = true;
        // an output that leaves for another device (or for the final norm elsewhere) goes once the next
        // module returns
        const bool next_here = l < last_model_layer && d.layers.contains(l + 1);
        if (l == last_model_layer && d.head) { last_out = out; last_here = true; }
        else if (!next_here) { t.free(out); prev_here = false; }
    }

    if (d.head) {
        const std::uint64_t last = last_here ? last_out : t.alloc(hb);  // moved here when the last layer is elsewhere
        const std::uint64_t normed = gpt_oss::rms_norm(t, s, rows, s.hidden);  // GptOssModel.norm
        t.free(last);
        (void)normed;
    }
    // GptOssModel.forward returns: what it made on the embedding's device goes
    t.free(pos);
    t.free(mask_full);
    t.free(mask_slide);
    t.free(embeds);
    t.free(cs.cos);
    t.free(cs.sin);
    const std::uint64_t logits = s.batch * s.logits_rows * s.vocab * s.e;
    if (d.head) t.alloc(logits);  // GptOssForCausalLM: lm_head on the last logits_rows positions
    // with lm_head elsewhere, dispatch_model's top-level AlignDevicesHook(io_same_device=True) copies
    // the outputs back to the inputs' device (accelerate/big_modeling.py, hooks.py post_forward)
    else if (d.embedding) t.alloc(logits);
    return t;
}

struct gpt_oss_rules {
    static constexpr bool modelled = true;
    [[nodiscard]] static constexpr tracker forward(const model_config& c, const shape& s, bool round512,
                                                   std::uint64_t resident, const device_share& d) noexcept {
        return gpt_oss_forward(c, s, round512, resident, d);
    }
    // generate()'s state during a decode step (generation/utils.py `_sample`): activations.hpp's
    // (the caller's input_ids and attention_mask, the prefill's position_ids, the sequences grown by
    // cat, the float32 next_token_logits) and the small tensors beside it: the eos and pad token
    // tensors (_prepare_special_tokens; gpt-oss configs set both), next_tokens,
    // unfinished_sequences, and the step's input_ids and position_ids slices
    // (prepare_inputs_for_generation clones them).
    [[nodiscard]] static constexpr std::uint64_t decode_state(const model_config&, const shape& s,
                                                              std::uint64_t cached) noexcept {
        const std::uint64_t b = s.batch;
        return 2 * b * s.prompt * 8 + b * s.prompt * 8 + 2 * b * (cached + 1) * 8 + b * s.vocab * 4 + 2 * 8 +
               4 * b * 8;
    }
};

}  // namespace vramfit::transformers::detail::act
