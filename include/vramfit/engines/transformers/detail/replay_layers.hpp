// vramfit/engines/transformers/detail/replay_layers.hpp — a forward whose decoder layers differ by
// type (config layer_types: GptOssModel, Gemma2Model, Gemma3TextModel), replayed every local layer
// in turn, as one device sees it: sliding and full layers hold different caches, build different
// scores and get different masks, so the peak can sit in any of them.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/detail/replay_cache.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

// The last model layer's output where the head runs on its device (still live), else none.
struct layers_out { std::uint64_t last = 0; bool here = false; };

// The local decoder layers in order; `layer(lc)` replays one from its cache view (its input live)
// and returns its output (live). A layer whose input comes from another device gets a copy of it,
// and on a device without the embedding every layer gets copies of its mask, cos/sin
// (`cos_sin_copy` bytes each) and position_ids (accelerate/hooks.py AlignDevicesHook.pre_forward),
// dropped when it returns. The caller's hidden_states moves on to each output (inputs_embeds
// stays referenced by the model); an output that leaves for another device (or for the final
// norm elsewhere) goes once the next module returns.
template <class Layer>
constexpr layers_out every_local_layer(tracker& t, const model_config& c, const shape& s, const device_share& d,
                                       std::uint64_t cos_sin_copy, Layer&& layer) {
    const std::uint64_t hb = s.tokens() * s.hidden * s.e;
    const std::uint64_t positions = (s.decode ? s.batch : 1) * s.q;
    const std::uint32_t last_model_layer = c.num_hidden_layers - 1;
    layers_out r{};
    std::uint64_t prev = 0;
    bool prev_here = false;
    for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l) {
        if (!d.layers.contains(l)) { prev_here = false; continue; }
        const auto lc = layer_cache_of(c, l, s);
        const bool from_embeds = l == 0 && d.embedding;
        const std::uint64_t x = from_embeds || prev_here ? 0 : t.alloc(hb);
        std::uint64_t mask_copy = 0, cos_copy = 0, sin_copy = 0, pos_copy = 0;
        if (!d.embedding) {
            if (lc.mask) mask_copy = t.alloc(s.batch * s.q * lc.mask_kv * (s.eager ? s.e : 1));
            cos_copy = t.alloc(cos_sin_copy);
            sin_copy = t.alloc(cos_sin_copy);
            pos_copy = t.alloc(positions * 8);
        }
        const std::uint64_t out = layer(lc);
        t.free(x);
        t.free(mask_copy);
        t.free(cos_copy);
        t.free(sin_copy);
        t.free(pos_copy);
        if (prev_here) t.free(prev);
        prev = out;
        prev_here = true;
        const bool next_here = l < last_model_layer && d.layers.contains(l + 1);
        if (l == last_model_layer && d.head) {
            r = {out, true};
        } else if (!next_here) {
            t.free(out);
            prev_here = false;
        }
    }
    return r;
}

// `x / cap`, tanh, `* cap` over `n` bytes (Gemma 2's attn_logit_softcapping and
// final_logit_softcapping), `x` live and dropped; returns the result (live).
constexpr std::uint64_t softcap(tracker& t, std::uint64_t n, std::uint64_t x) noexcept {
    const std::uint64_t dv = t.alloc(n);
    t.free(x);
    const std::uint64_t th = t.alloc(n);
    t.free(dv);
    const std::uint64_t out = t.alloc(n);
    t.free(th);
    return out;
}

// The model's final norm on the head's device, on the last layer's output (moved here when the
// last layer ran elsewhere), which it replaces.
constexpr void final_norm(tracker& t, const shape& s, const layers_out& layers, rms_kind kind) noexcept {
    const std::uint64_t rows = s.tokens();
    const std::uint64_t last = layers.here ? layers.last : t.alloc(rows * s.hidden * s.e);
    const std::uint64_t normed = rms_norm(t, s, rows, s.hidden, kind);
    t.free(last);
    (void)normed;
}

// lm_head on the last logits_rows positions, once the model's forward has returned: on the head's
// device (softcapped where `capped`); with lm_head elsewhere, dispatch_model's top-level
// AlignDevicesHook(io_same_device=True) copies the outputs back to the inputs' device
// (accelerate/big_modeling.py, hooks.py post_forward).
constexpr void logits(tracker& t, const shape& s, const device_share& d, bool capped) noexcept {
    const std::uint64_t n = s.batch * s.logits_rows * s.vocab * s.e;
    if (d.head) {
        const std::uint64_t lg = t.alloc(n);
        if (capped) (void)softcap(t, n, lg);
    } else if (d.embedding) {
        t.alloc(n);
    }
}

}  // namespace vramfit::transformers::detail::act
