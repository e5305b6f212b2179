// vramfit/engines/transformers/detail/forward_gpt_neox.hpp — the forward of GPTNeoXForCausalLM
// (modeling_gpt_neox.py), replayed as activations.hpp describes.
//
// Where GPT-NeoX differs from the Llama replay:
//  * nn.LayerNorm (weight and bias) for the input, post-attention and final norms;
//  * one fused query_key_value projection `[tokens, 3 * hidden]`: GPTNeoXAttention.forward views
//    it per head and chunks it, so q, k and v are views that keep the whole projection alive until
//    the attention returns (the value goes to the cache from that view);
//  * partial rotary (rotary_pct): apply_rotary_pos_emb rotates the first int(head_dim * rotary_pct)
//    channels and cats the rest back, a new full q and k (also when nothing is passed through);
//    cos/sin span the rotary channels only;
//  * the query is the cat's contiguous `[batch, heads, q, head_dim]`, so the attention output's
//    `transpose(1, 2).contiguous()` copies (sdpa_attention.py, eager_attention_forward) unless a
//    transposed dimension has size 1 (a decode step);
//  * parallel residual (use_parallel_residual): attention and MLP both read the layer input and
//    `mlp_output + attn_output + hidden_states` sums them; otherwise the MLP reads
//    `attn_output + hidden_states`;
//  * dense_h_to_4h → GELU (hidden_act "gelu": one nn.functional.gelu) → dense_4h_to_h;
//  * the dropouts are the identity in eval (nn.Dropout returns its input), so emb_dropout's output
//    is inputs_embeds itself; no grouped heads.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/detail/replay_attention.hpp"
#include "vramfit/engines/transformers/detail/replay_cache.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

// What of the config the GPT-NeoX replay reads besides the shape.
struct gpt_neox_dims {
    std::uint64_t rot = 0;  // rotary channels per head: int(head_dim * rotary_pct)
    bool parallel = true;   // use_parallel_residual
};

[[nodiscard]] constexpr gpt_neox_dims gpt_neox_dims_of(const model_config& c, const shape& s) noexcept {
    // GPTNeoXConfig.convert_rope_params_to_dict: a missing rotary_pct is 0.25 (the config reader
    // leaves 0); GPTNeoXAttention: rotary_ndims = int(head_size * partial_rotary_factor)
    const double pct = c.partial_rotary_factor > 0.0 ? c.partial_rotary_factor : 0.25;
    gpt_neox_dims o{};
    o.rot = static_cast<std::uint64_t>(static_cast<double>(s.head_dim) * pct);
    if (o.rot > s.head_dim) o.rot = s.head_dim;
    o.parallel = c.use_parallel_residual;
    return o;
}

// The attention from the cached keys/values and the rotated query (eager_attention_forward or
// sdpa_attention_forward), returning the output `[batch, q, heads, head_dim]` (live) and the
// weights GPTNeoXLayer keeps (`attn_output, _ = self.attention(...)`, eager only).
constexpr attn_out gpt_neox_attention(tracker& t, const shape& s, std::uint64_t mask) noexcept {
    const std::uint64_t q_bytes = s.batch * s.heads * s.q * s.head_dim * s.e;
    // `transpose(1, 2).contiguous()` of a `[batch, heads, q, head_dim]` contiguous tensor
    const bool copies = s.q > 1 && s.heads > 1;
    if (!s.eager) {
        // the kernel's output takes the query's layout (flash: empty_like of the transposed query)
        const std::uint64_t out = sdpa_flash(t, s);
        if (!copies) return {out, 0};
        const std::uint64_t c = t.alloc(q_bytes);
        t.free(out);
        return {c, 0};
    }
    // `matmul(query, key^T) * scaling`, `+ mask`, softmax(dtype=float32) (a cast first), back to
    // the query dtype, `matmul(weights, value)`
    const std::uint64_t scores = s.batch * s.heads * s.q * s.kv_len();
    const std::uint64_t w = scale_and_mask(t, s, scores, t.alloc(scores * s.e), mask != 0);
    const std::uint64_t probs = softmax_f32(t, s, scores, w);
    const std::uint64_t av = t.alloc(q_bytes);
    if (!copies) return {av, probs};
    const std::uint64_t out = t.alloc(q_bytes);
    t.free(av);
    return {out, probs};
}

// The last decoder layer (GPTNeoXLayer.forward), its input live (held by the caller); returns
// its output, left live.
constexpr std::uint64_t gpt_neox_layer(tracker& t, const shape& s, const gpt_neox_dims& o, std::uint64_t mask) noexcept {
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    const std::uint64_t full = rows * s.heads * s.head_dim * s.e;  // one of q/k/v
    // input_layernorm, held as the attention's argument until it returns
    const std::uint64_t normed = layer_norm(t, s, rows, s.hidden);
    // GPTNeoXAttention.forward: query_key_value, viewed and chunked (views)
    const std::uint64_t qkv = t.alloc(3 * full);
    // apply_rotary_pos_emb: rotate the leading channels, then cat the passed-through ones back
    const std::uint64_t rb = rows * s.heads * o.rot * s.e;
    std::uint64_t q = o.rot != 0 ? rotary(t, rb) : 0;
    std::uint64_t k = o.rot != 0 ? rotary(t, rb) : 0;
    const std::uint64_t q_embed = t.alloc(full);
    t.free(q);
    const std::uint64_t k_embed = t.alloc(full);
    t.free(k);
    q = q_embed;
    k = k_embed;
    // DynamicLayer.update; the rotated key goes when key_states names the cache's tensor
    dynamic_update(t, s);
    t.free(k);
    const attn_out a = gpt_neox_attention(t, s, mask);
    // reshape (a view; contiguous already), dense
    const std::uint64_t dense = t.alloc(hb);
    t.free(a.out);
    t.free(qkv);     // GPTNeoXAttention.forward returns: the projection and the rotated query go
    t.free(q);
    t.free(normed);  // the attention's argument
    // GPTNeoXMLP.forward on post_attention_layernorm's output: dense_h_to_4h, the activation,
    // dense_4h_to_h; returns the last (live)
    auto mlp = [&] {
        const std::uint64_t normed2 = layer_norm(t, s, rows, s.hidden);
        const std::uint64_t ib = rows * s.inter * s.e;
        const std::uint64_t fc1 = t.alloc(ib);
        const std::uint64_t act = t.alloc(ib);
        t.free(fc1);
        const std::uint64_t fc2 = t.alloc(hb);
        t.free(act);
        t.free(normed2);
        return fc2;
    };
    std::uint64_t out = 0;
    if (o.parallel) {
        // `mlp(post_attention_layernorm(hidden_states))`, then `mlp_output + attn_output + hidden_states`
        const std::uint64_t fc2 = mlp();
        const std::uint64_t sum = t.alloc(hb);
        out = t.alloc(hb);
        t.free(sum);
        t.free(fc2);
        t.free(dense);
    } else {
        // `attn_output = attn_output + hidden_states`, `mlp(post_attention_layernorm(attn_output))`,
        // `mlp_output + attn_output`
        const std::uint64_t res = t.alloc(hb);
        t.free(dense);
        const std::uint64_t fc2 = mlp();
        out = t.alloc(hb);
        t.free(fc2);
        t.free(res);
    }
    t.free(a.weights);  // `_` held to the end
    return out;
}

// One forward of GPTNeoXForCausalLM from the inputs to the logits as one device sees it.
// `resident`: bytes already live there besides the weights and the cache (inputs, generate()'s
// state).
constexpr tracker gpt_neox_forward(const model_config& c, const shape& s, bool round512, std::uint64_t resident,
                                   const device_share& d) noexcept {
    const gpt_neox_dims o = gpt_neox_dims_of(c, s);
    auto t = tracker::starting(round512, resident);
    const std::uint64_t hb = s.tokens() * s.hidden * s.e;
    const bool emb = d.embedding;
    const bool here = emb || d.count != 0;
    local_caches_before(t, d, 2 * s.kv_tensor(s.past));
    // GPTNeoXModel.forward: embed_in; emb_dropout returns it
    const std::uint64_t embeds = emb ? t.alloc(hb) : 0;
    const std::uint64_t pos = position_ids(t, s, emb);
    const std::uint64_t mask = eager_causal_mask(t, s, here);
    // GPTNeoXRotaryEmbedding.forward: cos/sin over the rotary channels and position_ids' batch
    // (1 for a forward's arange, `batch` in generate()), in the model dtype
    const std::uint64_t rot = here ? (s.decode ? s.batch : 1) * s.q * o.rot * s.e : 0;
    const std::uint64_t cs = t.alloc(rot), sn = t.alloc(rot);
    // a device without the embedding gets the layers' position_ids kwarg as a copy too
    // (accelerate AlignDevicesHook.pre_forward)
    const std::uint64_t pos_copy = !emb && d.count != 0 ? t.alloc((s.decode ? s.batch : 1) * s.q * 8) : 0;
    std::uint64_t cur = 0;
    if (d.count != 0) {
        // the last local layer runs with its input beside inputs_embeds (or, on a later device,
        // beside nothing but the moved copy)
        earlier_layers_grown(t, d.count, 2 * s.kv_tensor(s.past), 2 * s.kv_tensor(s.kv_len()));
        const std::uint64_t x = emb && d.count == 1 ? 0 : t.alloc(hb);
        cur = gpt_neox_layer(t, s, o, mask);
        t.free(x);  // the loop variable moves to the last layer's output
        if (!emb) { t.free(pos_copy); t.free(mask); t.free(cs); t.free(sn); }  // the hook's copies go with the call
    }
    // final_layer_norm, GPTNeoXModel.forward returns, GPTNeoXForCausalLM's lm_head
    if (d.head)
        norm_and_head(t, s, cur != 0, [&] { return layer_norm(t, s, s.tokens(), s.hidden); },
                      {emb ? cs : 0, emb ? sn : 0, emb ? mask : 0, pos, embeds});
    return t;
}

using gpt_neox_rules = replayed<gpt_neox_forward>;

}  // namespace vramfit::transformers::detail::act
