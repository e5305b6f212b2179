// vramfit/engines/transformers/detail/forward_llama.hpp — the forward of the Llama-style decoders
// (modeling_llama.py and the files generated from it: mistral, qwen2, qwen3), replayed as
// activations.hpp describes.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/detail/replay_attention.hpp"
#include "vramfit/engines/transformers/detail/replay_cache.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

// A decoder layer of LlamaDecoderLayer.forward (and the files written like it), its input `x`
// live (held by the caller): input_layernorm, LlamaAttention.forward (q/k/v, Qwen 3's q_norm and
// k_norm on the heads, the rotary products, the cache update, the attention core, o_proj), the
// residual, post_attention_layernorm, then `mlp(t, rows)` on the normed states, which returns the
// MLP's output (live), and the residual.
template <class Mlp>
constexpr void llama_layer(tracker& t, const shape& s, std::uint64_t mask, Mlp&& mlp) {
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    const std::uint64_t normed = rms_norm(t, s, rows, s.hidden);
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
    dynamic_update(t, s);
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
    const std::uint64_t mlp_out = mlp(t, rows);
    t.free(normed2);
    const std::uint64_t out = t.alloc(hb);  // residual + mlp
    t.free(mlp_out);
    t.free(h);
    t.free(a.weights);  // `hidden_states, _ = self.self_attn(...)`: `_` holds them to the end
    (void)out;  // stays: the model's loop variable
}

// One forward of the llama family from the model's inputs to the logits (LlamaForCausalLM) as
// one device sees it, up to and including its n-th local layer, and the head when that layer is
// the last local one (`last`). `resident`: bytes already live there besides the weights and the
// cache (inputs, generate()'s state). `more_masks(t)` builds the masks a model makes beside the
// causal one (returns their bytes, dropped as the model returns); `mlp` as llama_layer takes it.
template <class Masks, class Mlp>
constexpr tracker llama_stack(const shape& s, bool round512, std::uint64_t resident, const device_share& d,
                              std::uint64_t n, bool last, Masks&& more_masks, Mlp&& mlp) {
    auto t = tracker::starting(round512, resident);
    const std::uint64_t hb = s.tokens() * s.hidden * s.e;
    local_caches_before(t, d, 2 * s.kv_tensor(s.past));
    const std::uint64_t embeds = d.embedding ? t.alloc(hb) : 0;
    const std::uint64_t pos = position_ids(t, s, d.embedding);
    const bool here = d.embedding || d.count != 0;
    const std::uint64_t mask = eager_causal_mask(t, s, here);
    const std::uint64_t more = more_masks(t);
    // rotary cos/sin over position_ids' batch (1 for a forward's arange, `batch` in generate())
    const std::uint64_t rot = here ? (s.decode ? s.batch : 1) * s.q * s.head_dim * s.e : 0;
    const std::uint64_t cs = t.alloc(rot), sn = t.alloc(rot);
    if (d.count != 0) {
        // this layer runs with its input beside inputs_embeds (or, on a later device, beside
        // nothing but the moved copy)
        earlier_layers_grown(t, n, 2 * s.kv_tensor(s.past), 2 * s.kv_tensor(s.kv_len()));
        const std::uint64_t x = d.embedding && n == 1 ? 0 : t.alloc(hb);
        llama_layer(t, s, mask, mlp);
        t.free(x);  // the loop variable moves to this layer's output
    }
    if (d.head && last)  // <P>Model.norm, <P>ForCausalLM's lm_head
        norm_and_head(t, s, d.count != 0, [&] { return rms_norm(t, s, s.tokens(), s.hidden); },
                      {cs, sn, mask, more, pos, embeds});
    return t;
}

constexpr tracker llama_forward(const model_config&, const shape& s, bool round512, std::uint64_t resident,
                                const device_share& d) noexcept {
    return llama_stack(s, round512, resident, d, d.count, true, [](tracker&) -> std::uint64_t { return 0; },
                       [&](tracker& t, std::uint64_t rows) { return gated_mlp(t, s, rows, s.inter); });  // LlamaMLP
}

using llama_rules = replayed<llama_forward>;

}  // namespace vramfit::transformers::detail::act
