// vramfit/engines/transformers/detail/forward_phi3.hpp — the forward of Phi3ForCausalLM (modeling_phi3.py),
// replayed as activations.hpp describes. What differs from the Llama replay:
//  * Phi3Attention.forward: one fused qkv_proj; q, k, v are slices (views) of it, so `qkv` lives
//    until the attention returns, and the values go to the cache as views of it;
//    apply_rotary_pos_emb rotates the first `rotary_dim` channels and cats the rest back: a new
//    contiguous [batch, heads, q, head_dim] tensor for each of q and k.
//  * Phi3MLP.forward: gate_up_proj, chunk (views), `up_states * activation_fn(gate)`, down_proj.
//  * With a sliding_window the model builds create_sliding_window_causal_mask and DynamicCache
//    keeps DynamicSlidingWindowLayer (cache_utils.py): its update cats before it crops, returns the
//    full states and keeps a view of the last `sliding_window - 1` tokens, so the storage is the
//    whole cat; each layer also moves a 0-d int64 `_sliding_window_tensor` to the device
//    (lazy_initialization). sdpa_mask cannot skip the mask once kv_length reaches the window
//    (masking_utils.py _ignore_causal_mask_sdpa), and with a mask PyTorch runs the
//    memory-efficient kernel instead of flash (sdp_utils.cpp select_sdp_backend).
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/kv_cache.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

// Phi3RotaryEmbedding.compute_default_rope_parameters: `int(head_dim * partial_rotary_factor)`.
[[nodiscard]] constexpr std::uint64_t phi3_rotary_dim(const model_config& c) noexcept {
    const std::uint64_t hd = c.attention_head_dim();
    if (c.partial_rotary_factor > 0.0 && c.partial_rotary_factor < 1.0)
        return static_cast<std::uint64_t>(static_cast<double>(hd) * c.partial_rotary_factor);
    return hd;
}

// Tokens of storage a layer's keys hold after this forward's update (the cat), and before it
// (the previous forward's cat: the prompt's right after the prefill, one token later on).
[[nodiscard]] constexpr std::uint64_t phi3_tokens_after(const model_config& c, std::uint32_t l, const shape& s) noexcept {
    return cached_tokens(kv_layer(c, l), s.past + s.q, cache_implementation::dynamic, 0, s.q);
}
[[nodiscard]] constexpr std::uint64_t phi3_tokens_before(const model_config& c, std::uint32_t l, const shape& s) noexcept {
    if (s.past == 0) return 0;
    const std::uint64_t last = s.decode && s.past == s.prompt ? s.prompt : 1;
    return cached_tokens(kv_layer(c, l), s.past, cache_implementation::dynamic, 0, last);
}
[[nodiscard]] constexpr bool phi3_sliding(const model_config& c, std::uint32_t l) noexcept {
    return kv_layer(c, l).sliding_window != 0;
}

// The mask Phi3Model.forward builds over `kv` keys (create_sliding_window_causal_mask with a
// window, create_causal_mask without), creation temporaries included; `padding`: the caller's
// 2-D attention_mask reaches it (a plain forward; generate() drops an all-ones mask,
// generation/utils.py). Returns the mask left live: sdpa_mask's bool `[batch or 1, 1, q, kv]`,
// eager_mask's `[batch, 1, q, kv]` in the model dtype, or 0 when sdpa may rely on is_causal.
constexpr std::uint64_t phi3_mask(tracker& t, const shape& s, std::uint64_t kv, std::uint64_t window,
                                  bool padding) noexcept {
    const bool sliding = window != 0;
    // _preprocess_mask_arguments: `attention_mask.to(dtype=torch.bool)`
    const std::uint64_t mask2d = padding ? t.alloc(s.batch * (s.past + s.q)) : 0;
    // _ignore_causal_mask_sdpa: no skip once kv_length reaches the local attention size
    if (!s.eager && !(sliding && kv >= window)) { t.free(mask2d); return 0; }
    const std::uint64_t qk = s.q * kv;
    // sdpa_mask: batch, head, q and kv aranges (the last two plus their offsets)
    const std::uint64_t ab = t.alloc(s.batch * 8), ah = t.alloc(8);
    std::uint64_t a = t.alloc(s.q * 8);
    const std::uint64_t aq = t.alloc(s.q * 8);
    t.free(a);
    a = t.alloc(kv * 8);
    const std::uint64_t akv = t.alloc(kv * 8);
    t.free(a);
    // and_masks starts from `new_ones(())` and `&`s each function's result in turn
    const std::uint64_t outer = padding ? t.alloc(1) : 0;
    std::uint64_t r = 0;
    if (sliding) {  // sliding_window_causal_mask_function: overlay `kv > q - window`, then causal
        const std::uint64_t inner = t.alloc(1);
        const std::uint64_t sub = t.alloc(s.q * 8);
        const std::uint64_t gt = t.alloc(qk);
        t.free(sub);
        const std::uint64_t a1 = t.alloc(qk);
        t.free(gt);
        t.free(inner);
        const std::uint64_t le = t.alloc(qk);
        r = t.alloc(qk);
        t.free(le);
        t.free(a1);
    } else {
        r = t.alloc(qk);  // causal_mask_function `kv <= q`
    }
    if (padding) {  // and padding_mask_function: `padding_mask[batch, kv]`
        const std::uint64_t a3 = t.alloc(qk);
        t.free(r);
        t.free(outer);
        const std::uint64_t idx = t.alloc(s.batch * kv);
        r = t.alloc(s.batch * qk);
        t.free(idx);
        t.free(a3);
    }
    t.free(akv);
    t.free(aq);
    t.free(ah);
    t.free(ab);
    if (s.eager) {  // eager_mask: `torch.where(mask, zeros((), dtype), min_dtype)` over the expanded mask
        const std::uint64_t z = t.alloc(s.e), mn = t.alloc(s.e);
        const std::uint64_t m = t.alloc(s.batch * qk * s.e);
        t.free(mn);
        t.free(z);
        t.free(r);
        r = m;
    }
    t.free(mask2d);
    return r;
}

// Phi3RotaryEmbedding.forward on the embedding's device: float32 freqs, cat, cos/sin scaled by
// attention_scaling, cast to the model dtype. Leaves cos and sin live; returns one's size.
constexpr std::uint64_t phi3_rotary_emb(tracker& t, const shape& s, std::uint64_t rot_dim) noexcept {
    const std::uint64_t p = (s.decode ? s.batch : 1) * s.q;  // position_ids' rows
    const std::uint64_t pf = t.alloc(p * 4);                 // position_ids[..., None].float()
    const std::uint64_t freqs = t.alloc(p * rot_dim / 2 * 4);
    t.free(pf);
    const std::uint64_t emb = t.alloc(p * rot_dim * 4);
    std::uint64_t c = t.alloc(p * rot_dim * 4);
    const std::uint64_t cs = t.alloc(p * rot_dim * 4);  // * attention_scaling
    t.free(c);
    c = t.alloc(p * rot_dim * 4);
    const std::uint64_t sn = t.alloc(p * rot_dim * 4);
    t.free(c);
    const std::uint64_t out = p * rot_dim * s.e;
    if (s.e != 4) { t.alloc(out); t.alloc(out); }  // .to(dtype=x.dtype); a no-op on float32
    t.free(freqs);
    t.free(emb);
    if (s.e != 4) { t.free(cs); t.free(sn); }
    return out;
}

// apply_rotary_pos_emb for one of q/k of `full` bytes, the first `rot` of each head rotated:
// `cat([(x_rot * cos) + (rotate_half(x_rot) * sin), x_pass])`.
constexpr std::uint64_t phi3_rotary(tracker& t, std::uint64_t rot, std::uint64_t full) noexcept {
    const std::uint64_t r = rotary(t, rot);
    const std::uint64_t out = t.alloc(full);
    t.free(r);
    return out;
}

// sdpa_attention_forward (integrations/sdpa_attention.py) with the kernel PyTorch picks over
// `kv` keys; `mask`: a mask goes in (no flash). Returns the `[batch, q, heads, head_dim]` output.
constexpr std::uint64_t phi3_sdpa(tracker& t, const shape& s, std::uint64_t kv, bool mask) noexcept {
    const std::uint64_t rep = s.heads / s.kv_heads;
    const std::uint64_t q_bytes = s.batch * s.heads * s.q * s.head_dim * s.e;
    const bool flash = !mask && s.e != 4 && s.head_dim <= 256;  // check_for_attn_mask, check_dtypes
    if (flash) {
        // grouped heads with enable_gqa; out in the query's layout (contiguous [b, h, q, d] after
        // the rotary cat), a float32 logsumexp and the philox seed/offset, dropped at once
        const std::uint64_t out = t.alloc(q_bytes);
        const std::uint64_t lse = t.alloc(s.batch * s.heads * s.q * 4);
        const std::uint64_t seed = t.alloc(16), off = t.alloc(8);
        t.free(off);
        t.free(seed);
        t.free(lse);
        if (s.q == 1) return out;  // transpose(1, 2) of a one-token output is already contiguous
        const std::uint64_t c = t.alloc(q_bytes);  // transpose(1, 2).contiguous()
        t.free(out);
        return c;
    }
    // memory-efficient: a mask stops enable_gqa; repeat_kv copies the keys and values (one query
    // token: pack_gqa folds the query instead)
    const std::uint64_t full = s.batch * s.heads * kv * s.head_dim * s.e;
    const std::uint64_t rk = mask && rep > 1 && s.q > 1 ? t.alloc(full) : 0;
    const std::uint64_t rv = mask && rep > 1 && s.q > 1 ? t.alloc(full) : 0;
    std::uint64_t m = 0;
    if (mask) {
        // attention.cpp convert_boolean_attn_mask: where(logical_not(mask), -inf, 0) broadcast to
        // [batch, 1, q, kv]; preprocess_mask pads the last dim to a multiple of 8
        const std::uint64_t n = s.batch * s.q * kv;
        const std::uint64_t ln = t.alloc(n);
        const std::uint64_t s1 = t.alloc(s.e), s2 = t.alloc(s.e);
        m = t.alloc(n * s.e);
        t.free(s1);
        t.free(ln);
        t.free(s2);
        if (kv % 8 != 0) {
            const std::uint64_t p = t.alloc(s.batch * s.q * (kv + 8 - kv % 8) * s.e);
            t.free(m);
            m = p;
        }
    }
    // output allocated [b, q, h, d] and transposed (its transpose back is contiguous); no
    // logsumexp is asked for; the seed/offset scalars
    std::uint64_t out = t.alloc(q_bytes);
    const std::uint64_t seed = t.alloc(8), off = t.alloc(8);
    t.free(m);
    t.free(seed);
    t.free(off);
    if (mask && rep > 1 && s.q == 1) {  // pack_gqa's folded output does not reshape as a view
        const std::uint64_t c = t.alloc(q_bytes);
        t.free(out);
        out = c;
    }
    t.free(rv);
    t.free(rk);
    return out;
}

// The cache of one layer: `tokens` of keys (or values).
[[nodiscard]] constexpr std::uint64_t phi3_kv_tensor(const shape& s, std::uint64_t tokens) noexcept {
    return s.batch * s.kv_heads * tokens * s.head_dim * s.e;
}

// The replayed Phi3DecoderLayer.forward, its input live (held by the caller). `before`/`kv`: the
// layer's cache tokens around its update; the update returns the full states, so the attention
// sees `kv` keys. `mask`: the 4-D mask's bytes (0: none).
constexpr void phi3_layer(tracker& t, const shape& s, std::uint64_t rot_dim, bool sliding, std::uint64_t before,
                          std::uint64_t kv, std::uint64_t mask) noexcept {
    const std::uint64_t rows = s.tokens();
    const std::uint64_t normed = rms_norm(t, s, rows, s.hidden);  // input_layernorm
    // Phi3Attention.forward: qkv_proj, q/k/v sliced as views
    const std::uint64_t qb = rows * s.heads * s.head_dim * s.e;
    const std::uint64_t kb = rows * s.kv_heads * s.head_dim * s.e;
    const std::uint64_t qkv = t.alloc(qb + 2 * kb);
    const std::uint64_t q = phi3_rotary(t, rows * s.heads * rot_dim * s.e, qb);
    const std::uint64_t k = phi3_rotary(t, rows * s.kv_heads * rot_dim * s.e, kb);
    // cache.update: DynamicSlidingWindowLayer moves its window tensor on the first update, cats
    // keys and values, then drops the old ones; DynamicLayer replaces each in turn
    if (sliding && s.past == 0) t.alloc(8);
    const std::uint64_t old_k = phi3_kv_tensor(s, before), new_k = phi3_kv_tensor(s, kv);
    t.alloc_kv(new_k);
    if (!sliding) t.free_kv(old_k);
    t.alloc_kv(new_k);
    if (sliding) t.free_kv(old_k);
    t.free_kv(old_k);
    t.free(k);  // key_states now names the cached keys; the values stay a view of qkv
    attn_out a{};
    if (s.eager) {
        shape sa = s;
        sa.past = kv - s.q;
        a = attention_core(t, sa, mask);  // eager_attention_forward
    } else {
        a.out = phi3_sdpa(t, s, kv, mask != 0);
    }
    const std::uint64_t o = t.alloc(rows * s.hidden * s.e);  // o_proj
    t.free(a.out);
    t.free(qkv);  // Phi3Attention.forward returns: qkv and the rotated query go
    t.free(q);
    t.free(normed);
    const std::uint64_t h = t.alloc(rows * s.hidden * s.e);  // residual + resid_attn_dropout (identity in eval)
    t.free(o);
    const std::uint64_t normed2 = rms_norm(t, s, rows, s.hidden);  // post_attention_layernorm
    // Phi3MLP.forward
    const std::uint64_t ib = rows * s.inter * s.e;
    const std::uint64_t gate_up = t.alloc(2 * ib);
    const std::uint64_t act = t.alloc(ib);  // activation_fn(gate)
    const std::uint64_t up = t.alloc(ib);   // up_states * ...
    t.free(act);
    const std::uint64_t down = t.alloc(rows * s.hidden * s.e);
    t.free(up);
    t.free(gate_up);
    t.free(normed2);
    const std::uint64_t out = t.alloc(rows * s.hidden * s.e);  // residual + resid_mlp_dropout
    t.free(down);
    t.free(h);
    t.free(a.weights);  // `hidden_states, self_attn_weights = self.self_attn(...)` holds them to the end
    (void)out;  // stays: the model's loop variable
}

// One forward of Phi3ForCausalLM as one device sees it (see llama_forward for the placement
// rules), replayed at its last local layer, or with `at_first` at its first one, every other
// layer's cache not updated yet (the forward ends there: the head comes after the last layer).
constexpr tracker phi3_forward_at(const model_config& c, const shape& s, bool round512, std::uint64_t resident,
                                  const device_share& d, bool at_first) noexcept {
    tracker t{round512};
    t.alloc(resident);
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    std::uint32_t first = d.last_layer();
    for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l)
        if (d.layers.contains(l)) { first = l; break; }
    const std::uint32_t layer = at_first ? first : d.last_layer();
    // the cache of every local layer as this forward finds it; in a decode step every sliding
    // layer's window tensor is already there
    std::uint64_t before_all = 0, grow = 0, shrink = 0, windows = 0;
    for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l) {
        if (!d.layers.contains(l)) continue;
        const std::uint64_t b = 2 * phi3_kv_tensor(s, phi3_tokens_before(c, l, s));
        const std::uint64_t a = 2 * phi3_kv_tensor(s, phi3_tokens_after(c, l, s));
        before_all += b;
        if (l != layer) { if (a >= b) grow += a - b; else shrink += b - a; }
        if (phi3_sliding(c, l) && (s.past != 0 || l != layer)) ++windows;
    }
    if (d.count != 0) t.alloc_kv(before_all);
    if (s.past != 0) for (std::uint64_t i = 0; i < windows; ++i) t.alloc(8);
    const std::uint64_t embeds = d.embedding ? t.alloc(hb) : 0;
    // position ids: arange + past_seen_tokens when not given (a forward); generate() passes its own
    std::uint64_t pos = 0;
    if (d.embedding && !s.decode) {
        const std::uint64_t ar = t.alloc(s.q * 8);
        pos = t.alloc(s.q * 8);
        t.free(ar);
    }
    // the mask over the keys the (sliding) layers see, sized by the first layer's cache
    const std::uint64_t kv = phi3_tokens_after(c, layer, s);
    const std::uint64_t window = c.sliding_window;
    const bool here = d.embedding || d.count != 0;
    std::uint64_t mask = 0;
    if (d.embedding) {
        mask = phi3_mask(t, s, phi3_tokens_after(c, 0, s), window, !s.decode);
    } else if (here && (s.eager || (window != 0 && kv >= window))) {
        mask = t.alloc(s.batch * s.q * kv * (s.eager ? s.e : 1));  // the hook's copy
    }
    const std::uint64_t rot_dim = phi3_rotary_dim(c);
    std::uint64_t cs = 0, sn = 0;
    if (d.embedding) {
        cs = sn = phi3_rotary_emb(t, s, rot_dim);
    } else if (here) {
        const std::uint64_t rot = (s.decode ? s.batch : 1) * s.q * rot_dim * s.e;
        cs = t.alloc(rot);
        sn = t.alloc(rot);
    }
    if (d.count != 0) {
        // the local layers before the replayed one leave their cache (and, in the prefill, their
        // window tensors)
        if (!at_first) {
            t.alloc_kv(grow);
            t.free_kv(shrink);
            if (s.past == 0) for (std::uint64_t i = 0; i < windows; ++i) t.alloc(8);
        }
        const bool on_embeds = d.embedding && (at_first || d.count == 1);  // its input is inputs_embeds
        const std::uint64_t x = on_embeds ? 0 : t.alloc(hb);
        phi3_layer(t, s, rot_dim, phi3_sliding(c, layer), phi3_tokens_before(c, layer, s), kv, mask);
        t.free(x);  // the loop variable moves to the layer's output
    }
    if (d.head && !at_first) {
        const std::uint64_t out = d.count != 0 ? hb : t.alloc(hb);  // moved here when the layers are elsewhere
        const std::uint64_t normed = rms_norm(t, s, rows, s.hidden);  // Phi3Model.norm
        t.free(out);
        t.free(pos);
        t.free(embeds);
        t.free(mask);
        t.free(cs);
        t.free(sn);
        // Phi3ForCausalLM: lm_head on the last logits_rows positions
        const std::uint64_t logits = t.alloc(s.batch * s.logits_rows * s.vocab * s.e);
        (void)normed; (void)logits;
    }
    return t;
}

// The forward's peak: at its last local layer, where every other layer's cache has grown; but
// in the first decode step after a prompt that filled a sliding window each update shrinks the
// storage (the prompt's whole cat is dropped for `sliding_window - 1` tokens plus one), so the
// first local layer, the others still holding the prompt's, carries it.
constexpr tracker phi3_forward(const model_config& c, const shape& s, bool round512, std::uint64_t resident,
                               const device_share& d) noexcept {
    const tracker at_last = phi3_forward_at(c, s, round512, resident, d, false);
    bool shrinks = false;
    for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l)
        if (d.layers.contains(l) && phi3_tokens_after(c, l, s) < phi3_tokens_before(c, l, s)) shrinks = true;
    if (!shrinks) return at_last;
    const tracker at_first = phi3_forward_at(c, s, round512, resident, d, true);
    return at_first.peak > at_last.peak ? at_first : at_last;
}

struct phi3_rules {
    static constexpr bool modelled = true;
    [[nodiscard]] static constexpr tracker forward(const model_config& c, const shape& s, bool round512,
                                                   std::uint64_t resident, const device_share& d) noexcept {
        return phi3_forward(c, s, round512, resident, d);
    }
};

}  // namespace vramfit::transformers::detail::act
