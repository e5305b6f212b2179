// vramfit/engines/transformers/detail/forward_gemma.hpp — the forward of Gemma2ForCausalLM and
// Gemma3ForCausalLM / Gemma3ForConditionalGeneration's text model (modeling_gemma2.py,
// modeling_gemma3.py), replayed as activations.hpp describes, every local decoder layer in turn
// (replay_layers.hpp).
//
// What differs from the Llama replay:
//  * Gemma2TextScaledWordEmbedding / Gemma3TextScaledWordEmbedding multiply the lookup by the
//    `embed_scale` buffer (sqrt(hidden_size)): the lookup goes, the product stays;
//  * Gemma2RMSNorm / Gemma3RMSNorm stay in float32 to the end: `x.float()` normalised, times
//    `1.0 + weight.float()` (both a [hidden] float32 copy), then type_as;
//  * each layer norms four times (input, post-attention, pre- and post-feedforward) and adds the
//    residual after the post norms; the MLP is gate/up/down with one gelu (tanh approximation)
//    kernel;
//  * Gemma 3 norms the query and key heads (q_norm, k_norm) before the rotary embedding and keeps
//    one cos/sin pair per layer type (Gemma3RotaryEmbedding: local and global bases);
//  * the cache: full layers use DynamicLayer.update, sliding ones DynamicSlidingWindowLayer.update
//    (both cats, then the old tensors go; the cat's whole storage stays referenced by the window
//    view; the int64 window scalar moves to the device on the first update) (cache_utils.py);
//  * eager_attention_forward scales by query_pre_attn_scalar, and Gemma 2 softcaps the scores
//    (divide, tanh, multiply) before the mask; Gemma2ForCausalLM softcaps the logits alike
//    (final_logit_softcapping);
//  * both masks are built (create_causal_mask, create_sliding_window_causal_mask); for sdpa the
//    sliding one reaches the kernel once its key length reaches the window
//    (masking_utils.py _ignore_causal_mask_sdpa), which then runs the memory-efficient kernel on
//    repeated keys and values with the mask converted to the model dtype.
// Gemma2PreTrainedModel has _supports_sdpa = False: without a named implementation from_pretrained
// picks eager, so Gemma 2 is replayed eager whatever was asked.
// The logit softcapping values are not in model_config: Gemma 2 configs set both (50 and 30, the
// config class's defaults too), Gemma 3 configs neither.
#pragma once

#include <cstdint>
#include <string_view>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/detail/replay_attention.hpp"
#include "vramfit/engines/transformers/detail/replay_cache.hpp"
#include "vramfit/engines/transformers/detail/replay_layers.hpp"
#include "vramfit/engines/transformers/detail/replay_mask.hpp"
#include "vramfit/engines/transformers/detail/replay_rotary.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

namespace gemma {

struct flags {
    bool qk_norm = false;   // Gemma 3: q_norm / k_norm
    bool softcap = false;   // Gemma 2: attn_logit_softcapping, final_logit_softcapping
};

// The attention core over the update's full states (`c.new_tok` keys). Returns the output
// `[batch, q, heads*head_dim]` (live) and eager's attention weights, held by the decoder layer's
// `_` to its end.
constexpr attn_out attention(tracker& t, const shape& s, const flags& f, const layer_cache& c) noexcept {
    const std::uint64_t rep = s.heads / s.kv_heads;
    const std::uint64_t qb = s.batch * s.heads * s.q * s.head_dim * s.e;
    if (!s.eager) {
        // integrations/sdpa_attention.py sdpa_attention_forward: the memory-efficient kernel with
        // a mask (the sliding mask once its keys reach the window)
        if (!c.mask) return {sdpa_unmasked(t, s), 0};
        return {sdpa_memory_efficient(t, s, c.mask_kv, true), 0};
    }
    // eager_attention_forward: repeat_kv, the matmul, * scaling, Gemma 2's softcap, + mask, float32
    // softmax, back to the dtype. repeat_kv's reshape stays a view over one key/value head (a
    // stride-0 head dimension); over several it copies. torch.matmul folds [batch, heads] into one
    // batch dimension and copies an operand that does not fold as a view: the query (laid out
    // [batch, q, heads, dim] by the projection) with several rows and sequences, the keys and
    // values of one head with several sequences
    const std::uint64_t full = s.batch * s.heads * c.new_tok * s.head_dim * s.e;
    const bool kv_view = s.kv_heads == 1;
    const bool fold_copy_kv = rep > 1 && kv_view && s.batch > 1;
    const std::uint64_t rk = rep > 1 && !kv_view ? t.alloc(full) : 0;
    const std::uint64_t rv = rep > 1 && !kv_view ? t.alloc(full) : 0;
    const std::uint64_t qc = s.batch > 1 && s.q > 1 ? t.alloc(qb) : 0;
    const std::uint64_t kc = fold_copy_kv ? t.alloc(full) : 0;
    const std::uint64_t scores = s.batch * s.heads * s.q * c.new_tok;
    const std::uint64_t mm = t.alloc(scores * s.e);
    t.free(kc);
    t.free(qc);
    std::uint64_t w = scale_and_mask(t, s, scores, mm, false);
    if (f.softcap) w = softcap(t, scores * s.e, w);
    const std::uint64_t masked = t.alloc(scores * s.e);  // eager masks are never skipped
    t.free(w);
    const std::uint64_t probs = softmax_f32(t, s, scores, masked);
    const std::uint64_t vc = fold_copy_kv ? t.alloc(full) : 0;
    const std::uint64_t av = t.alloc(qb);
    t.free(vc);
    // transpose(1, 2).contiguous() copies unless one query row makes it contiguous already
    const std::uint64_t out = s.q > 1 ? t.alloc(qb) : av;
    if (s.q > 1) t.free(av);
    t.free(rk);
    t.free(rv);
    return {out, probs};
}

// One decoder layer (Gemma2DecoderLayer.forward / Gemma3DecoderLayer.forward), its input live
// (held by the caller). Returns the layer's output (live).
constexpr std::uint64_t layer(tracker& t, const shape& s, const flags& f, const layer_cache& c) noexcept {
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    constexpr rms_kind norm = rms_kind::one_plus_weight;
    const std::uint64_t normed = rms_norm(t, s, rows, s.hidden, norm);  // input_layernorm
    // Gemma2Attention.forward / Gemma3Attention.forward: the three projections, Gemma 3's head
    // norms, the rotary embedding
    const std::uint64_t qb = rows * s.heads * s.head_dim * s.e;
    const std::uint64_t kb = rows * s.kv_heads * s.head_dim * s.e;
    std::uint64_t q = t.alloc(qb), k = t.alloc(kb);
    const std::uint64_t v = t.alloc(kb);
    if (f.qk_norm) {
        const std::uint64_t qn = rms_norm(t, s, rows * s.heads, s.head_dim, norm);
        t.free(q); q = qn;
        const std::uint64_t kn = rms_norm(t, s, rows * s.kv_heads, s.head_dim, norm);
        t.free(k); k = kn;
    }
    const std::uint64_t qr = rotary(t, qb);
    const std::uint64_t kr = rotary(t, kb);
    t.free(q);
    t.free(k);
    layer_update(t, s, c);
    t.free(kr);
    t.free(v);
    const auto a = gemma::attention(t, s, f, c);
    const std::uint64_t o = t.alloc(hb);  // o_proj
    t.free(a.out);
    t.free(qr);
    t.free(normed);
    const std::uint64_t pa = rms_norm(t, s, rows, s.hidden, norm);  // post_attention_layernorm
    t.free(o);
    const std::uint64_t h = t.alloc(hb);  // residual + it
    t.free(pa);
    const std::uint64_t pf = rms_norm(t, s, rows, s.hidden, norm);  // pre_feedforward_layernorm
    const std::uint64_t down = gated_mlp(t, s, rows, s.inter);     // Gemma2MLP / Gemma3MLP
    t.free(pf);
    const std::uint64_t pff = rms_norm(t, s, rows, s.hidden, norm);  // post_feedforward_layernorm
    t.free(down);
    const std::uint64_t res = t.alloc(hb);  // residual + it
    t.free(pff);
    t.free(h);
    t.free(a.weights);  // `hidden_states, _ = self.self_attn(...)`: `_` holds them to the end
    return res;
}

}  // namespace gemma

// One forward of Gemma2ForCausalLM / Gemma3ForCausalLM / Gemma3ForConditionalGeneration (its
// language model; the vision tower does not run without pixel_values) as one device sees it.
// `resident`: bytes already live there besides the weights and the cache.
constexpr tracker gemma_forward(const model_config& c, const shape& s_in, bool round512, std::uint64_t resident,
                                const device_share& d) noexcept {
    const std::string_view type = c.model_type.view();
    const bool gemma2 = type == "gemma2";
    // Gemma3ForConditionalGeneration: Gemma3Model.forward embeds and builds the masks, then its
    // language_model makes the position ids
    const bool multimodal = !gemma2 && c.multimodal;
    shape s = s_in;
    if (gemma2) s.eager = true;
    const gemma::flags f{!gemma2, gemma2};
    auto t = tracker::starting(round512, resident);
    const std::uint64_t hb = s.tokens() * s.hidden * s.e;
    const std::uint64_t window = c.sliding_window;
    local_caches(t, c, s, d);

    // on the embedding's device: inputs_embeds, position ids (generate() passes its own), both
    // masks (sdpa's as _ignore_causal_mask_sdpa keeps them; generate()'s decode steps leave out
    // the all-ones 2-D mask, a forward's goes into the masks), cos/sin over position_ids' batch
    // (Gemma 3: one pair per layer type in the config, `set(config.layer_types)`)
    bool any_sliding = false, any_full = false;
    for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l) {
        const bool sl = sliding_layer(c, l);
        any_sliding = any_sliding || sl;
        any_full = any_full || !sl;
    }
    const std::uint64_t positions = (s.decode ? s.batch : 1) * s.q;
    const bool padding = !s.decode;
    std::uint64_t embeds = 0, pos = 0, m_full = 0, m_slide = 0;
    cos_sin cs[2]{};
    auto one_mask = [&](bool sliding) -> std::uint64_t {
        const std::uint64_t w = sliding ? window : 0;
        const std::uint64_t kv = sliding ? sliding_mask_kv(s, w) : full_mask_kv(s);
        if (s.eager || sdpa_keeps_mask(s, kv, w)) return causal_mask(t, s, kv, sliding, padding, s.eager);
        skipped_mask(t, s, padding);
        return 0;
    };
    if (d.embedding) {
        const std::uint64_t lookup = t.alloc(hb);
        embeds = t.alloc(hb);  // * embed_scale
        t.free(lookup);
        if (!multimodal) pos = position_ids(t, s, true);
        m_full = one_mask(false);
        m_slide = window != 0 ? one_mask(true) : 0;
        if (multimodal) pos = position_ids(t, s, true);
        const int pairs = gemma2 ? 1 : (any_sliding ? 1 : 0) + (any_full ? 1 : 0);
        for (int i = 0; i < pairs; ++i) cs[i] = rotary_embedding(t, s, positions, s.head_dim, true);
    }
    const auto layers = every_local_layer(t, c, s, d, positions * s.head_dim * s.e,
                                          [&](const layer_cache& lc) { return gemma::layer(t, s, f, lc); });
    if (d.head) final_norm(t, s, layers, rms_kind::one_plus_weight);  // the model's norm
    // the text model returns (position ids, cos/sin), then the model (masks, inputs_embeds)
    t.free(pos);
    for (const auto& p : cs) { t.free(p.cos); t.free(p.sin); }
    t.free(m_full);
    t.free(m_slide);
    t.free(embeds);
    logits(t, s, d, f.softcap);  // Gemma2ForCausalLM divides, tanh, multiplies
    return t;
}

using gemma_rules = replayed<gemma_forward>;

}  // namespace vramfit::transformers::detail::act
