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

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/detail/replay_attention.hpp"
#include "vramfit/engines/transformers/detail/replay_cache.hpp"
#include "vramfit/engines/transformers/detail/replay_experts.hpp"
#include "vramfit/engines/transformers/detail/replay_layers.hpp"
#include "vramfit/engines/transformers/detail/replay_mask.hpp"
#include "vramfit/engines/transformers/detail/replay_rotary.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

namespace gpt_oss {

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

// One decoder layer (GptOssDecoderLayer.forward), its input and its mask live (held by the
// caller), its cache as `c` says (replay_cache.hpp). Returns the layer's output (live).
constexpr std::uint64_t layer(tracker& t, const shape& s, const experts_dims& m, const layer_cache& c) noexcept {
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    const std::uint64_t normed = rms_norm(t, s, rows, s.hidden, rms_kind::f32_weight);
    // GptOssAttention.forward
    const std::uint64_t qb = rows * s.heads * s.head_dim * s.e;
    const std::uint64_t kb = rows * s.kv_heads * s.head_dim * s.e;
    const std::uint64_t q = t.alloc(qb), k = t.alloc(kb), v = t.alloc(kb);
    const std::uint64_t qr = gpt_oss::rotary(t, qb);
    const std::uint64_t kr = gpt_oss::rotary(t, kb);
    t.free(q);
    t.free(k);
    layer_update(t, s, c);
    t.free(kr);
    t.free(v);
    // eager_attention_forward over the update's full states (new_tok keys)
    const std::uint64_t rep = s.heads / s.kv_heads;
    const std::uint64_t full = s.batch * s.heads * c.new_tok * s.head_dim * s.e;
    const std::uint64_t rk = rep > 1 ? t.alloc(full) : 0;  // repeat_kv
    const std::uint64_t rv = rep > 1 ? t.alloc(full) : 0;
    const std::uint64_t scores = s.batch * s.heads * s.q * c.new_tok;
    const std::uint64_t masked = scale_and_mask(t, s, scores, t.alloc(scores * s.e), true);  // eager_mask never skips
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
    const std::uint64_t normed2 = rms_norm(t, s, rows, s.hidden, rms_kind::f32_weight);
    // GptOssMLP.forward: GptOssTopKRouter (logits, top-k values and indices, softmax of the values)
    const std::uint64_t logits = t.alloc(rows * m.experts * s.e);
    const std::uint64_t top_v = t.alloc(rows * m.top_k * s.e);
    const std::uint64_t top_i = t.alloc(rows * m.top_k * 8);
    const std::uint64_t router_scores = t.alloc(rows * m.top_k * s.e);
    t.free(top_v);
    const std::uint64_t mlp = experts(t, s, m, rows);
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

// One forward of GptOssForCausalLM as one device sees it, every local layer replayed in order
// (replay_layers.hpp). `resident`: bytes already live there besides the weights and the cache.
// Attention is eager whatever was asked: GptOssPreTrainedModel has _supports_sdpa = False, so
// from_pretrained falls back to eager when no implementation is named (modeling_utils.py
// get_correct_attn_implementation).
constexpr tracker gpt_oss_forward(const model_config& c, const shape& s_in, bool round512, std::uint64_t resident,
                                  const device_share& d) noexcept {
    shape s = s_in;
    s.eager = true;
    auto t = tracker::starting(round512, resident);
    const std::uint64_t hb = s.tokens() * s.hidden * s.e;
    // GptOssExperts: biased projections, the router's scores in the model dtype
    const experts_dims ex{c.num_experts, c.num_experts_per_tok,
                          c.moe_intermediate_size != 0 ? c.moe_intermediate_size : c.intermediate_size, s.e, true,
                          experts_gate::gpt_oss_glu};
    local_caches(t, c, s, d);

    // GptOssModel.forward on the embedding's device: inputs_embeds, position ids, both masks
    // (generate()'s decode steps leave out the all-ones 2-D mask; a forward's goes into
    // padding_mask_function), cos/sin over position_ids' batch
    const std::uint64_t positions = (s.decode ? s.batch : 1) * s.q;
    std::uint64_t embeds = 0, pos = 0, mask_full = 0, mask_slide = 0;
    cos_sin cs{};
    if (d.embedding) {
        embeds = t.alloc(hb);
        pos = position_ids(t, s, true);
        mask_full = causal_mask(t, s, full_mask_kv(s), false, !s.decode, true);  // eager_mask
        mask_slide = causal_mask(t, s, sliding_mask_kv(s, c.sliding_window), true, !s.decode, true);
        cs = rotary_embedding(t, s, positions, s.head_dim, false);
    }
    const auto layers = every_local_layer(t, c, s, d, positions * (s.head_dim / 2) * s.e,
                                          [&](const layer_cache& lc) { return gpt_oss::layer(t, s, ex, lc); });
    if (d.head) final_norm(t, s, layers, rms_kind::f32_weight);  // GptOssModel.norm
    // GptOssModel.forward returns: what it made on the embedding's device goes
    t.free(pos);
    t.free(mask_full);
    t.free(mask_slide);
    t.free(embeds);
    t.free(cs.cos);
    t.free(cs.sin);
    logits(t, s, d, false);  // GptOssForCausalLM
    return t;
}

using gpt_oss_rules = replayed<gpt_oss_forward>;

}  // namespace vramfit::transformers::detail::act
