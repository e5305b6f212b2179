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
#include "vramfit/engines/transformers/detail/replay_attention.hpp"
#include "vramfit/engines/transformers/detail/replay_cache.hpp"
#include "vramfit/engines/transformers/detail/replay_mask.hpp"
#include "vramfit/engines/transformers/detail/replay_rotary.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

// Phi3RotaryEmbedding.compute_default_rope_parameters: `int(head_dim * partial_rotary_factor)`.
[[nodiscard]] constexpr std::uint64_t phi3_rotary_dim(const model_config& c) noexcept {
    const std::uint64_t hd = c.attention_head_dim();
    if (c.partial_rotary_factor > 0.0 && c.partial_rotary_factor < 1.0)
        return static_cast<std::uint64_t>(static_cast<double>(hd) * c.partial_rotary_factor);
    return hd;
}

// The mask Phi3Model.forward builds over `kv` keys (create_sliding_window_causal_mask with a
// window, create_causal_mask without; replay_mask.hpp); `padding`: the caller's 2-D
// attention_mask reaches it (a plain forward; generate() drops an all-ones mask,
// generation/utils.py). Returns the mask left live, or 0 when sdpa may rely on is_causal.
constexpr std::uint64_t phi3_mask(tracker& t, const shape& s, std::uint64_t kv, std::uint64_t window,
                                  bool padding) noexcept {
    const bool sliding = window != 0;
    if (s.eager || sdpa_keeps_mask(s, kv, window)) return causal_mask(t, s, kv, sliding, padding, s.eager);
    skipped_mask(t, s, padding);
    return 0;
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
// `kv` keys; `mask`: a mask goes in (the memory-efficient kernel). Flash's output takes the
// query's layout, the contiguous [b, h, q, d] of the rotary cat, so transpose(1, 2).contiguous()
// copies it unless it has one token. Returns the `[batch, q, heads, head_dim]` output.
constexpr std::uint64_t phi3_sdpa(tracker& t, const shape& s, std::uint64_t kv, bool mask) noexcept {
    if (mask || !sdpa_flash_runs(s)) return sdpa_memory_efficient(t, s, kv, mask);
    const std::uint64_t out = sdpa_flash(t, s);
    if (s.q == 1) return out;
    const std::uint64_t c = t.alloc(s.batch * s.heads * s.q * s.head_dim * s.e);
    t.free(out);
    return c;
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
    const std::uint64_t old_k = s.kv_tensor(before), new_k = s.kv_tensor(kv);
    cache_update(t, sliding, s.past == 0, old_k, new_k, old_k, new_k);
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
    auto t = tracker::starting(round512, resident);
    const std::uint64_t hb = s.tokens() * s.hidden * s.e;
    std::uint32_t first = d.last_layer();
    for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l)
        if (d.layers.contains(l)) { first = l; break; }
    const std::uint32_t layer = at_first ? first : d.last_layer();
    // the cache of every local layer as this forward finds it; in a decode step every sliding
    // layer's window tensor is already there
    std::uint64_t before_all = 0, grow = 0, shrink = 0, windows = 0;
    for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l) {
        if (!d.layers.contains(l)) continue;
        const std::uint64_t b = 2 * s.kv_tensor(storage_before(c, l, s));
        const std::uint64_t a = 2 * s.kv_tensor(storage_after(c, l, s));
        before_all += b;
        if (l != layer) { if (a >= b) grow += a - b; else shrink += b - a; }
        if (sliding_layer(c, l) && (s.past != 0 || l != layer)) ++windows;
    }
    if (d.count != 0) t.alloc_kv(before_all);
    if (s.past != 0) for (std::uint64_t i = 0; i < windows; ++i) t.alloc(8);
    const std::uint64_t embeds = d.embedding ? t.alloc(hb) : 0;
    const std::uint64_t pos = position_ids(t, s, d.embedding);
    // the mask over the keys the (sliding) layers see, sized by the first layer's cache
    const std::uint64_t kv = storage_after(c, layer, s);
    const std::uint64_t window = c.sliding_window;
    const bool here = d.embedding || d.count != 0;
    std::uint64_t mask = 0;
    if (d.embedding) {
        mask = phi3_mask(t, s, storage_after(c, 0, s), window, !s.decode);
    } else if (here && (s.eager || sdpa_keeps_mask(s, kv, window))) {
        mask = t.alloc(s.batch * s.q * kv * (s.eager ? s.e : 1));  // the hook's copy
    }
    const std::uint64_t rot_dim = phi3_rotary_dim(c);
    std::uint64_t cs = 0, sn = 0;
    if (d.embedding) {
        // Phi3RotaryEmbedding.forward over position_ids' rows
        const auto r = rotary_embedding(t, s, (s.decode ? s.batch : 1) * s.q, rot_dim, true);
        cs = r.cos;
        sn = r.sin;
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
        phi3_layer(t, s, rot_dim, sliding_layer(c, layer), storage_before(c, layer, s), kv, mask);
        t.free(x);  // the loop variable moves to the layer's output
    }
    if (d.head && !at_first)  // Phi3Model.norm, Phi3ForCausalLM's lm_head
        norm_and_head(t, s, d.count != 0, [&] { return rms_norm(t, s, s.tokens(), s.hidden); },
                      {pos, embeds, mask, cs, sn});
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
        if (d.layers.contains(l) && storage_after(c, l, s) < storage_before(c, l, s)) shrinks = true;
    if (!shrinks) return at_last;
    const tracker at_first = phi3_forward_at(c, s, round512, resident, d, true);
    return at_first.peak > at_last.peak ? at_first : at_last;
}

using phi3_rules = replayed<phi3_forward>;

}  // namespace vramfit::transformers::detail::act
