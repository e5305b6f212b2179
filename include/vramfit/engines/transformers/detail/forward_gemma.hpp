// vramfit/engines/transformers/detail/forward_gemma.hpp — the forward of Gemma2ForCausalLM and Gemma3ForCausalLM / Gemma3ForConditionalGeneration's text model (modeling_gemma2.py, modeling_gemma3.py),
// replayed as activations.hpp describes, every local decoder layer in turn: sliding and full
// layers (config layer_types) hold different caches, build different scores and get different
// masks, so the peak can sit in any of them.
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

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/kv_cache.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

namespace gemma {

// Gemma2RMSNorm.forward / Gemma3RMSNorm.forward on `rows` rows of `width`: upcast, pow, mean,
// + eps, rsqrt, the float32 product; the weight upcast and `1.0 + weight`; their product, type_as.
constexpr std::uint64_t rms_norm(tracker& t, const shape& s, std::uint64_t rows, std::uint64_t width) noexcept {
    const std::uint64_t n = rows * width;
    const std::uint64_t up = s.e == 4 ? 0 : t.alloc(n * 4);  // .float() is a no-op on float32
    const std::uint64_t pw = t.alloc(n * 4);
    const std::uint64_t mean = t.alloc(rows * 4);
    t.free(pw);
    const std::uint64_t add = t.alloc(rows * 4);
    t.free(mean);
    const std::uint64_t rs = t.alloc(rows * 4);
    t.free(add);
    const std::uint64_t normed = t.alloc(n * 4);
    t.free(rs);
    t.free(up);
    const std::uint64_t wf = s.e == 4 ? 0 : t.alloc(width * 4);  // weight.float()
    const std::uint64_t w1 = t.alloc(width * 4);                // 1.0 + it
    t.free(wf);
    const std::uint64_t prod = t.alloc(n * 4);
    t.free(w1);
    t.free(normed);
    const std::uint64_t out = s.e == 4 ? prod : t.alloc(n * s.e);  // type_as(x)
    if (s.e != 4) t.free(prod);
    return out;
}

// Gemma2RotaryEmbedding.forward / Gemma3RotaryEmbedding.forward over `positions` position ids:
// float positions, the frequencies, their cat, cos and sin scaled by attention_scaling, cast to
// the model dtype; cos/sin stay live.
struct cos_sin { std::uint64_t cos = 0, sin = 0; };
constexpr cos_sin rotary_embedding(tracker& t, const shape& s, std::uint64_t positions) noexcept {
    const std::uint64_t n = positions * s.head_dim;
    const std::uint64_t pf = t.alloc(positions * 4);
    const std::uint64_t freqs = t.alloc(n / 2 * 4);
    t.free(pf);
    const std::uint64_t emb = t.alloc(n * 4);
    const std::uint64_t c = t.alloc(n * 4);
    const std::uint64_t cs = t.alloc(n * 4);
    t.free(c);
    const std::uint64_t si = t.alloc(n * 4);
    const std::uint64_t ss = t.alloc(n * 4);
    t.free(si);
    if (s.e == 4) { t.free(freqs); t.free(emb); return {cs, ss}; }  // .to(float32) keeps the scaled ones
    const cos_sin out{t.alloc(n * s.e), t.alloc(n * s.e)};
    t.free(freqs); t.free(emb); t.free(cs); t.free(ss);
    return out;
}

// A [batch, 1, q, kv] mask through sdpa_mask (masking_utils.py): the bool 2-D attention mask when
// one is given (it adds padding_mask_function), the index aranges, the and_masks chain
// (sliding_window_causal_mask_function adds the window overlay); eager_mask then turns it into the
// model dtype with torch.where, sdpa gets the bool one (batch 1 and expanded without padding).
// Returns the mask (live).
constexpr std::uint64_t mask(tracker& t, const shape& s, std::uint64_t kv, bool sliding, bool padding,
                             bool to_float) noexcept {
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
    if (!to_float) { t.free(am); return m; }
    const std::uint64_t zero = t.alloc(s.e), minv = t.alloc(s.e);
    const std::uint64_t out = t.alloc(b * q * kv * s.e);
    t.free(minv); t.free(zero); t.free(m); t.free(am);
    return out;
}

// _ignore_causal_mask_sdpa dropping an sdpa mask: with a 2-D mask given, the bool copy and
// fast_all's sum and comparison (masking_utils.py).
constexpr void skipped_mask(tracker& t, const shape& s, bool padding) noexcept {
    if (!padding) return;
    const std::uint64_t am = t.alloc(s.batch * s.kv_len());
    const std::uint64_t sum = t.alloc(8), eq = t.alloc(1);
    t.free(sum); t.free(eq); t.free(am);
}

struct flags {
    bool qk_norm = false;   // Gemma 3: q_norm / k_norm
    bool softcap = false;   // Gemma 2: attn_logit_softcapping, final_logit_softcapping
};

// One decoder layer's view of the cache and the mask: the tokens of storage its cache holds
// before and after the update, whether the sliding layer moves its window scalar now, and (sdpa)
// whether a mask reaches the kernel and its key length.
struct layer_cache {
    bool sliding = false;
    std::uint64_t old_tok = 0, new_tok = 0;
    bool first_update = false;
    bool mask = false;
    std::uint64_t mask_kv = 0;
};

// The attention core over the update's full states (`c.new_tok` keys). Returns the output
// `[batch, q, heads*head_dim]` (live) and eager's attention weights, held by the decoder layer's
// `_` to its end.
constexpr attn_out attention(tracker& t, const shape& s, const flags& f, const layer_cache& c) noexcept {
    const std::uint64_t rep = s.heads / s.kv_heads;
    const std::uint64_t qb = s.batch * s.heads * s.q * s.head_dim * s.e;
    const std::uint64_t full = s.batch * s.heads * c.new_tok * s.head_dim * s.e;
    // repeat_kv's reshape stays a view over one key/value head (a stride-0 head dimension); over
    // several it copies
    const bool kv_view = s.kv_heads == 1;
    if (s.eager) {
        // eager_attention_forward: repeat_kv, the matmul, * scaling, Gemma 2's softcap, + mask,
        // float32 softmax, back to the dtype. torch.matmul folds [batch, heads] into one batch
        // dimension and copies an operand that does not fold as a view: the query (laid out
        // [batch, q, heads, dim] by the projection) with several rows and sequences, the keys
        // and values of one head with several sequences
        const bool fold_copy_kv = rep > 1 && kv_view && s.batch > 1;
        const std::uint64_t rk = rep > 1 && !kv_view ? t.alloc(full) : 0;
        const std::uint64_t rv = rep > 1 && !kv_view ? t.alloc(full) : 0;
        const std::uint64_t qc = s.batch > 1 && s.q > 1 ? t.alloc(qb) : 0;
        const std::uint64_t kc = fold_copy_kv ? t.alloc(full) : 0;
        const std::uint64_t scores = s.batch * s.heads * s.q * c.new_tok;
        const std::uint64_t mm = t.alloc(scores * s.e);
        t.free(kc);
        t.free(qc);
        std::uint64_t w = t.alloc(scores * s.e);
        t.free(mm);
        if (f.softcap) {
            const std::uint64_t dv = t.alloc(scores * s.e);
            t.free(w);
            const std::uint64_t th = t.alloc(scores * s.e);
            t.free(dv);
            w = t.alloc(scores * s.e);
            t.free(th);
        }
        const std::uint64_t masked = t.alloc(scores * s.e);  // eager masks are never skipped
        t.free(w);
        const std::uint64_t up = s.e == 4 ? 0 : t.alloc(scores * 4);
        const std::uint64_t sm = t.alloc(scores * 4);
        t.free(up);
        const std::uint64_t probs = s.e == 4 ? sm : t.alloc(scores * s.e);
        if (s.e != 4) t.free(sm);
        t.free(masked);
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
    // integrations/sdpa_attention.py sdpa_attention_forward
    if (!c.mask) {
        // enable_gqa, flash (sdp_utils.cpp): output in the transposed layout, float32 logsumexp
        // and the philox seed/offset, dropped at once
        const std::uint64_t out = t.alloc(qb);
        const std::uint64_t lse = t.alloc(s.batch * s.heads * s.q * 4);
        const std::uint64_t seed = t.alloc(16), offset = t.alloc(8);
        t.free(offset); t.free(seed); t.free(lse);
        return {out, 0};
    }
    // a mask: one query row packs the heads (pack_gqa), more repeat the keys and values; the
    // memory-efficient kernel takes the bool mask as logical_not/where in the model dtype, padded
    // to 8 keys (attention.cpp convert_boolean_attn_mask, preprocess_mask)
    const bool packed = s.q == 1 && rep > 1;
    const std::uint64_t rk = !packed && rep > 1 && !kv_view ? t.alloc(full) : 0;
    const std::uint64_t rv = !packed && rep > 1 && !kv_view ? t.alloc(full) : 0;
    const std::uint64_t n = s.batch * s.q * c.mask_kv;
    const std::uint64_t inv = t.alloc(n);
    const std::uint64_t a = t.alloc(s.e), b = t.alloc(s.e);
    std::uint64_t bias = t.alloc(n * s.e);
    t.free(a); t.free(inv); t.free(b);
    if (c.mask_kv % 8 != 0) {
        const std::uint64_t padded = t.alloc(s.batch * s.q * (c.mask_kv + 8 - c.mask_kv % 8) * s.e);
        t.free(bias);
        bias = padded;
    }
    std::uint64_t out = t.alloc(qb);
    const std::uint64_t seed = t.alloc(8), offset = t.alloc(8);  // the logsumexp is empty
    t.free(bias); t.free(seed); t.free(offset);
    if (packed) { const std::uint64_t o = t.alloc(qb); t.free(out); out = o; }  // reshape undoing pack_gqa
    t.free(rk);
    t.free(rv);
    return {out, 0};
}

// One decoder layer (Gemma2DecoderLayer.forward / Gemma3DecoderLayer.forward), its input live
// (held by the caller). Returns the layer's output (live).
constexpr std::uint64_t layer(tracker& t, const shape& s, const flags& f, const layer_cache& c) noexcept {
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    const std::uint64_t normed = gemma::rms_norm(t, s, rows, s.hidden);  // input_layernorm
    // Gemma2Attention.forward / Gemma3Attention.forward: the three projections, Gemma 3's head
    // norms, the rotary embedding
    const std::uint64_t qb = rows * s.heads * s.head_dim * s.e;
    const std::uint64_t kb = rows * s.kv_heads * s.head_dim * s.e;
    std::uint64_t q = t.alloc(qb), k = t.alloc(kb);
    const std::uint64_t v = t.alloc(kb);
    if (f.qk_norm) {
        const std::uint64_t qn = gemma::rms_norm(t, s, rows * s.heads, s.head_dim);
        t.free(q); q = qn;
        const std::uint64_t kn = gemma::rms_norm(t, s, rows * s.kv_heads, s.head_dim);
        t.free(k); k = kn;
    }
    const std::uint64_t qr = rotary(t, qb);
    const std::uint64_t kr = rotary(t, kb);
    t.free(q);
    t.free(k);
    const std::uint64_t old_b = s.kv_tensor(c.old_tok), new_b = s.kv_tensor(c.new_tok);
    if (c.sliding) {
        // DynamicSlidingWindowLayer.update: lazy_initialization moves the window scalar; both
        // cats, then self.keys / self.values rebound (the old tensors go)
        if (c.first_update) t.alloc(8);
        t.alloc_kv(new_b);
        t.alloc_kv(new_b);
        t.free_kv(old_b);
        t.free_kv(old_b);
    } else {
        t.alloc_kv(new_b);  // DynamicLayer.update: keys, then values
        t.free_kv(old_b);
        t.alloc_kv(new_b);
        t.free_kv(old_b);
    }
    t.free(kr);
    t.free(v);
    const auto a = gemma::attention(t, s, f, c);
    const std::uint64_t o = t.alloc(hb);  // o_proj
    t.free(a.out);
    t.free(qr);
    t.free(normed);
    const std::uint64_t pa = gemma::rms_norm(t, s, rows, s.hidden);  // post_attention_layernorm
    t.free(o);
    const std::uint64_t h = t.alloc(hb);  // residual + it
    t.free(pa);
    const std::uint64_t pf = gemma::rms_norm(t, s, rows, s.hidden);  // pre_feedforward_layernorm
    // Gemma2MLP.forward / Gemma3MLP.forward: down_proj(act_fn(gate_proj(x)) * up_proj(x)), the
    // activation gelu_pytorch_tanh one kernel
    const std::uint64_t ib = rows * s.inter * s.e;
    const std::uint64_t gate = t.alloc(ib);
    const std::uint64_t act = t.alloc(ib);
    t.free(gate);
    const std::uint64_t up = t.alloc(ib);
    const std::uint64_t prod = t.alloc(ib);
    t.free(act);
    t.free(up);
    const std::uint64_t down = t.alloc(hb);
    t.free(prod);
    t.free(pf);
    const std::uint64_t pff = gemma::rms_norm(t, s, rows, s.hidden);  // post_feedforward_layernorm
    t.free(down);
    const std::uint64_t res = t.alloc(hb);  // residual + it
    t.free(pff);
    t.free(h);
    t.free(a.weights);  // `hidden_states, _ = self.self_attn(...)`: `_` holds them to the end
    return res;
}

}  // namespace gemma

// One forward of Gemma2ForCausalLM / Gemma3ForCausalLM / Gemma3ForConditionalGeneration (its
// language model; the vision tower does not run without pixel_values) as one device sees it,
// every local layer replayed in order. `resident`: bytes already live there besides the weights
// and the cache.
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
    tracker t{round512};
    t.alloc(resident);
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    const std::uint64_t window = c.sliding_window;

    // the masks' key lengths (DynamicLayer / DynamicSlidingWindowLayer get_mask_sizes) and which
    // sdpa masks survive _ignore_causal_mask_sdpa: one query row or a first forward drops the
    // full mask (no padding), a sliding one goes only while its keys stay below the window
    const std::uint64_t full_kv = s.kv_len();
    const std::uint64_t slide_kv = window != 0 ? std::min(s.past, window - 1) + s.q : full_kv;
    const bool full_mask = s.eager || (s.q != 1 && s.past != 0);
    const bool slide_mask = s.eager || slide_kv >= window || (s.q != 1 && s.past != 0);
    // generate()'s decode steps leave out the all-ones 2-D mask; a forward's goes into the masks
    const bool padding = !s.decode;

    auto cache_of = [&](std::uint32_t l) {
        const auto shape = kv_layer(c, l);
        gemma::layer_cache lc{};
        lc.sliding = shape.sliding_window != 0;
        lc.old_tok = cached_tokens(shape, s.past, cache_implementation::dynamic, 0, s.past == s.prompt ? s.prompt : 1);
        lc.new_tok = cached_tokens(shape, s.past + s.q, cache_implementation::dynamic, 0, s.q);
        lc.first_update = s.past == 0;
        lc.mask = lc.sliding ? slide_mask : full_mask;
        lc.mask_kv = lc.sliding ? slide_kv : full_kv;
        return lc;
    };

    // the cache the local layers hold before this forward; a decode step finds each sliding
    // layer's window scalar on its device already
    bool any_sliding = false, any_full = false;
    for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l) {
        const bool sl = kv_layer(c, l).sliding_window != 0;
        any_sliding = any_sliding || sl;
        any_full = any_full || !sl;
        if (!d.layers.contains(l)) continue;
        const auto lc = cache_of(l);
        t.alloc_kv(2 * s.kv_tensor(lc.old_tok));
        if (lc.sliding && !lc.first_update) t.alloc(8);
    }

    // on the embedding's device: inputs_embeds, position ids (generate() passes its own), both
    // masks, cos/sin over position_ids' batch (Gemma 3: one pair per layer type in the config,
    // `set(config.layer_types)`)
    const std::uint64_t positions = (s.decode ? s.batch : 1) * s.q;
    std::uint64_t embeds = 0, pos = 0, m_full = 0, m_slide = 0;
    gemma::cos_sin cs[2]{};
    auto positions_ids = [&] {
        if (s.decode) return;
        const std::uint64_t ar = t.alloc(s.q * 8);
        pos = t.alloc(s.q * 8);  // arange + past_seen_tokens
        t.free(ar);
    };
    auto one_mask = [&](std::uint64_t kv, bool sliding, bool kept) -> std::uint64_t {
        if (kept) return gemma::mask(t, s, kv, sliding, padding, s.eager);
        gemma::skipped_mask(t, s, padding);
        return 0;
    };
    if (d.embedding) {
        const std::uint64_t lookup = t.alloc(hb);
        embeds = t.alloc(hb);  // * embed_scale
        t.free(lookup);
        if (!multimodal) positions_ids();
        m_full = one_mask(full_kv, false, full_mask);
        m_slide = window != 0 ? one_mask(slide_kv, true, slide_mask) : 0;
        if (multimodal) positions_ids();
        const int pairs = gemma2 ? 1 : (any_sliding ? 1 : 0) + (any_full ? 1 : 0);
        for (int i = 0; i < pairs; ++i) cs[i] = gemma::rotary_embedding(t, s, positions);
    }

    // the decoder layers; a layer whose input comes from another device gets a copy of it, and on
    // a device without the embedding every layer gets copies of its mask, cos/sin and
    // position_ids (accelerate/hooks.py AlignDevicesHook.pre_forward), dropped when it returns
    std::uint64_t prev = 0;
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
            if (lc.mask) mask_copy = t.alloc(s.batch * s.q * lc.mask_kv * (s.eager ? s.e : 1));
            cos_copy = t.alloc(positions * s.head_dim * s.e);
            sin_copy = t.alloc(positions * s.head_dim * s.e);
            pos_copy = t.alloc(positions * 8);
        }
        const std::uint64_t out = gemma::layer(t, s, f, lc);
        t.free(x);
        t.free(mask_copy); t.free(cos_copy); t.free(sin_copy); t.free(pos_copy);
        if (prev_here) t.free(prev);  // the caller's hidden_states moves on (inputs_embeds stays referenced)
        prev = out;
        prev_here = true;
        // an output that leaves for another device (or for the final norm elsewhere) goes once the
        // next module returns
        const bool next_here = l < last_model_layer && d.layers.contains(l + 1);
        if (l == last_model_layer && d.head) { last_out = out; last_here = true; }
        else if (!next_here) { t.free(out); prev_here = false; }
    }

    if (d.head) {
        const std::uint64_t last = last_here ? last_out : t.alloc(hb);  // moved here when the last layer is elsewhere
        const std::uint64_t normed = gemma::rms_norm(t, s, rows, s.hidden);  // the model's norm
        t.free(last);
        (void)normed;
    }
    // the text model returns (position ids, cos/sin), then the model (masks, inputs_embeds)
    t.free(pos);
    for (const auto& p : cs) { t.free(p.cos); t.free(p.sin); }
    t.free(m_full);
    t.free(m_slide);
    t.free(embeds);
    const std::uint64_t logits = s.batch * s.logits_rows * s.vocab * s.e;
    if (d.head) {
        // lm_head on the last logits_rows positions; Gemma2ForCausalLM divides, tanh, multiplies
        std::uint64_t lg = t.alloc(logits);
        if (f.softcap) {
            const std::uint64_t dv = t.alloc(logits);
            t.free(lg);
            const std::uint64_t th = t.alloc(logits);
            t.free(dv);
            lg = t.alloc(logits);
            t.free(th);
        }
        (void)lg;
    } else if (d.embedding) {
        // with lm_head elsewhere, dispatch_model's top-level AlignDevicesHook(io_same_device=True)
        // copies the outputs back to the inputs' device (accelerate/big_modeling.py, hooks.py)
        t.alloc(logits);
    }
    return t;
}

struct gemma_rules {
    static constexpr bool modelled = true;
    [[nodiscard]] static constexpr tracker forward(const model_config& c, const shape& s, bool round512,
                                                   std::uint64_t resident, const device_share& d) noexcept {
        return gemma_forward(c, s, round512, resident, d);
    }
    // generate()'s state during a decode step (generation/utils.py `_sample`): activations.hpp's
    // and the small tensors beside it: the special token tensors (_prepare_special_tokens: bos,
    // eos and pad; the Gemma 3 configs list two eos ids), next_tokens, unfinished_sequences, and
    // the step's input_ids and position_ids slices (prepare_inputs_for_generation clones them).
    [[nodiscard]] static constexpr std::uint64_t decode_state(const model_config& c, const shape& s,
                                                              std::uint64_t cached) noexcept {
        const std::uint64_t b = s.batch;
        const std::uint64_t special = c.model_type.view() == "gemma2" ? 3 : 4;
        return 2 * b * s.prompt * 8 + b * s.prompt * 8 + 2 * b * (cached + 1) * 8 + b * s.vocab * 4 + special * 8 +
               4 * b * 8;
    }
};

}  // namespace vramfit::transformers::detail::act
