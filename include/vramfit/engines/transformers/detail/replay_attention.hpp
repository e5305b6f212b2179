// vramfit/engines/transformers/detail/replay_attention.hpp — the attention kernels the forward
// replays share: eager_attention_forward's scores and float32 softmax, the Llama attention core,
// and the sdpa kernels PyTorch picks (integrations/sdpa_attention.py sdpa_attention_forward;
// sdp_utils.cpp select_sdp_backend: flash first on sm80+, the memory-efficient kernel where
// flash cannot run, e.g. with a mask).
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"

namespace vramfit::transformers::detail::act {

// An attention's output `[batch, q, heads*head_dim]` (live) and the bytes the decoder layer keeps
// until it returns (eager's attention weights, `hidden_states, _ = self.self_attn(...)`).
struct attn_out { std::uint64_t out = 0; std::uint64_t weights = 0; };

// eager_attention_forward from the scores `matmul(query, key^T)` (`n` elements, live, `mm` bytes):
// `* scaling`, then `+ attention_mask` when one is given. Returns the masked scores (live).
constexpr std::uint64_t scale_and_mask(tracker& t, const shape& s, std::uint64_t n, std::uint64_t mm,
                                       bool masked) noexcept {
    const std::uint64_t scaled = t.alloc(n * s.e);
    t.free(mm);
    if (!masked) return scaled;
    const std::uint64_t w = t.alloc(n * s.e);
    t.free(scaled);
    return w;
}

// `softmax(w, dim=-1, dtype=torch.float32).to(query.dtype)` over `n` scores (`w`, live, dropped
// once the probabilities exist). aten softmax casts the input to float32 first, except a float16
// input on CUDA, which its kernel reads as it is (_softmax with half_to_float). Returns the
// probabilities (live).
constexpr std::uint64_t softmax_f32(tracker& t, const shape& s, std::uint64_t n, std::uint64_t w) noexcept {
    const bool half_to_float = s.type == dtype::f16;
    const std::uint64_t up = s.e == 4 || half_to_float ? 0 : t.alloc(n * 4);
    const std::uint64_t sm = t.alloc(n * 4);
    t.free(up);
    const std::uint64_t probs = s.e == 4 ? sm : t.alloc(n * s.e);
    if (s.e != 4) t.free(sm);
    t.free(w);
    return probs;
}

// sdpa's flash kernel without a mask (grouped heads with enable_gqa): the output in the query's
// layout, a float32 logsumexp and the philox seed/offset, dropped at once. Returns the output.
constexpr std::uint64_t sdpa_flash(tracker& t, const shape& s) noexcept {
    const std::uint64_t out = t.alloc(s.batch * s.heads * s.q * s.head_dim * s.e);
    const std::uint64_t lse = t.alloc(s.batch * s.heads * s.q * 4);
    const std::uint64_t seed = t.alloc(16), offset = t.alloc(8);
    t.free(offset);
    t.free(seed);
    t.free(lse);
    return out;
}

// sdpa's memory-efficient kernel over `kv` keys, with the bool mask when `mask` (flash takes no
// mask): a mask stops enable_gqa, so grouped keys and values are repeated (repeat_kv; a view over
// a single key/value head, `kv_view`), except for one query row, which pack_gqa folds into the
// heads; the kernel takes the mask as where(logical_not(mask), -inf, 0) in the model dtype,
// padded to a multiple of 8 keys (attention.cpp convert_boolean_attn_mask, preprocess_mask); its
// output is allocated [batch, q, heads, dim] (no logsumexp is asked for) with the seed/offset
// scalars; pack_gqa's folded output does not reshape back as a view. Returns the output.
constexpr std::uint64_t sdpa_memory_efficient(tracker& t, const shape& s, std::uint64_t kv, bool mask) noexcept {
    const std::uint64_t rep = s.heads / s.kv_heads;
    const bool kv_view = s.kv_heads == 1;
    const std::uint64_t q_bytes = s.batch * s.heads * s.q * s.head_dim * s.e;
    const bool packed = mask && s.q == 1 && rep > 1;
    const bool repeat = mask && !packed && rep > 1 && !kv_view;
    const std::uint64_t full = s.batch * s.heads * kv * s.head_dim * s.e;
    const std::uint64_t rk = repeat ? t.alloc(full) : 0;
    const std::uint64_t rv = repeat ? t.alloc(full) : 0;
    std::uint64_t bias = 0;
    if (mask) {
        const std::uint64_t n = s.batch * s.q * kv;
        const std::uint64_t inv = t.alloc(n);
        const std::uint64_t a = t.alloc(s.e), b = t.alloc(s.e);
        bias = t.alloc(n * s.e);
        t.free(a);
        t.free(inv);
        t.free(b);
        if (kv % 8 != 0) {
            const std::uint64_t padded = t.alloc(s.batch * s.q * (kv + 8 - kv % 8) * s.e);
            t.free(bias);
            bias = padded;
        }
    }
    std::uint64_t out = t.alloc(q_bytes);
    const std::uint64_t seed = t.alloc(8), offset = t.alloc(8);
    t.free(bias);
    t.free(seed);
    t.free(offset);
    if (packed) {
        const std::uint64_t o = t.alloc(q_bytes);
        t.free(out);
        out = o;
    }
    t.free(rv);
    t.free(rk);
    return out;
}

// Whether sdpa's flash kernel runs without a mask: a half dtype and head_dim ≤ 256 (sdp_utils.cpp
// check_dtypes, check_head_dim_size_flash).
[[nodiscard]] constexpr bool sdpa_flash_runs(const shape& s) noexcept { return s.e != 4 && s.head_dim <= 256; }

// sdpa without a mask: flash where it runs, else the memory-efficient kernel. Returns the output.
constexpr std::uint64_t sdpa_unmasked(tracker& t, const shape& s) noexcept {
    return sdpa_flash_runs(s) ? sdpa_flash(t, s) : sdpa_memory_efficient(t, s, s.kv_len(), false);
}

// The Llama attention core from the cached keys/values (the cache holds kv_len tokens) and the
// rotated query: sdpa gets no mask without padding; eager_attention_forward repeats
// grouped keys and values (repeat_kv), takes the scores, the mask, the softmax, the product with
// the values and `transpose(1, 2).contiguous()`.
constexpr attn_out attention_core(tracker& t, const shape& s, std::uint64_t mask) noexcept {
    const std::uint64_t rep = s.heads / s.kv_heads;
    const std::uint64_t q_bytes = s.batch * s.heads * s.q * s.head_dim * s.e;
    if (!s.eager) return {sdpa_unmasked(t, s), 0};
    const std::uint64_t full = s.batch * s.heads * s.kv_len() * s.head_dim * s.e;
    const std::uint64_t rk = rep > 1 ? t.alloc(full) : 0;
    const std::uint64_t rv = rep > 1 ? t.alloc(full) : 0;
    const std::uint64_t scores = s.batch * s.heads * s.q * s.kv_len();
    const std::uint64_t mm = t.alloc(scores * s.e);
    const std::uint64_t w = scale_and_mask(t, s, scores, mm, mask != 0);
    const std::uint64_t probs = softmax_f32(t, s, scores, w);
    const std::uint64_t av = t.alloc(q_bytes);
    const std::uint64_t out = t.alloc(q_bytes);  // transpose(1, 2).contiguous()
    t.free(av);
    t.free(rv);
    t.free(rk);
    return {out, probs};
}

}  // namespace vramfit::transformers::detail::act
