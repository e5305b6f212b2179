// vramfit/engines/transformers/detail/replay_mask.hpp — the 4-D masks create_causal_mask and
// create_sliding_window_causal_mask build (masking_utils.py), as the forward replays that build
// them in full count them: their key lengths, whether sdpa drops them, and the tensors sdpa_mask
// and eager_mask make.
#pragma once

#include <algorithm>
#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"

namespace vramfit::transformers::detail::act {

// The masks' key lengths (cache_utils.py get_mask_sizes): a full layer's every cached token and
// the new ones; a sliding layer's (DynamicSlidingWindowLayer) at most `window - 1` cached ones.
[[nodiscard]] constexpr std::uint64_t full_mask_kv(const shape& s) noexcept { return s.kv_len(); }
[[nodiscard]] constexpr std::uint64_t sliding_mask_kv(const shape& s, std::uint64_t window) noexcept {
    return window != 0 ? std::min(s.past, window - 1) + s.q : s.kv_len();
}

// Whether an sdpa mask over `kv` keys survives _ignore_causal_mask_sdpa without padding: not once
// a sliding mask's keys reach the window (`local_attention_size`), nor where neither one query
// row nor a first forward lets sdpa's is_causal stand in for it. Eager masks are never dropped.
[[nodiscard]] constexpr bool sdpa_keeps_mask(const shape& s, std::uint64_t kv, std::uint64_t window) noexcept {
    return (window != 0 && kv >= window) || (s.q != 1 && s.past != 0);
}

// A [batch, 1, q, kv] mask through sdpa_mask: the bool 2-D attention mask when one is given
// (`padding`: it adds padding_mask_function), the batch, head and index aranges (q and kv plus
// their offsets), the and_masks chain from `new_ones(())` (sliding_window_causal_mask_function
// adds the window overlay `kv > q - window` before the causal `kv <= q`), then
// `padding_mask[batch, kv]` over the batch; eager_mask turns it into the model dtype with
// `torch.where(mask, zeros((), dtype), min_dtype)` (`to_float`), sdpa takes the bool one (one
// row, expanded, without padding). Returns the mask (live).
constexpr std::uint64_t causal_mask(tracker& t, const shape& s, std::uint64_t kv, bool sliding, bool padding,
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
        t.free(gt);
        t.free(inner);
        const std::uint64_t le = t.alloc(q * kv);  // causal
        m = t.alloc(q * kv);
        t.free(le);
        t.free(a);
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
        t.free(idx);
        t.free(m);
        m = n;
    }
    t.free(ba);
    t.free(ha);
    t.free(qi);
    t.free(ki);
    if (!to_float) { t.free(am); return m; }
    const std::uint64_t zero = t.alloc(s.e), minv = t.alloc(s.e);
    const std::uint64_t out = t.alloc(b * q * kv * s.e);
    t.free(minv);
    t.free(zero);
    t.free(m);
    t.free(am);
    return out;
}

// _ignore_causal_mask_sdpa dropping an sdpa mask: with a 2-D mask given, the bool copy
// (_preprocess_mask_arguments) and fast_all's sum and comparison.
constexpr void skipped_mask(tracker& t, const shape& s, bool padding) noexcept {
    if (!padding) return;
    const std::uint64_t am = t.alloc(s.batch * s.kv_len());
    const std::uint64_t sum = t.alloc(8), eq = t.alloc(1);
    t.free(sum);
    t.free(eq);
    t.free(am);
}

}  // namespace vramfit::transformers::detail::act
