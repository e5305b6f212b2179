// vramfit/engines/transformers/detail/replay.hpp — the vocabulary the forward replays share: a
// running sum of live tensor bytes and its maximum, the dimensions of one forward, and the pieces
// several modelling files run alike (RMSNorm, rotary embedding, the attention core).
// The rule each replay follows is activations.hpp's: the tensors the modelling code allocates
// and frees, in program order.
#pragma once

#include <cstdint>

#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::transformers::detail::act {

// The running sum of live tensors and its maximum.
struct tracker {
    bool round512 = false;
    std::uint64_t live = 0;
    std::uint64_t peak = 0;
    std::uint64_t kv = 0;          // live cache bytes
    std::uint64_t kv_at_peak = 0;

    [[nodiscard]] constexpr std::uint64_t booked(std::uint64_t n) const noexcept {
        if (!round512 || n == 0) return n;
        return (n + 511) / 512 * 512;
    }
    constexpr void note() noexcept {
        if (live > peak) { peak = live; kv_at_peak = kv; }
    }
    constexpr std::uint64_t alloc(std::uint64_t n) noexcept { live += booked(n); note(); return n; }
    constexpr void free(std::uint64_t n) noexcept { live -= booked(n); }
    constexpr std::uint64_t alloc_kv(std::uint64_t n) noexcept { kv += n; return alloc(n); }
    constexpr void free_kv(std::uint64_t n) noexcept { kv -= n; free(n); }
};

struct shape {
    dtype type = dtype::bf16;     // the model's load dtype
    std::uint64_t e = 2;          // bytes per element of it
    std::uint64_t batch = 1;
    std::uint64_t q = 1;          // tokens in this forward
    std::uint64_t past = 0;       // tokens in the cache before it
    std::uint64_t hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, inter = 0, vocab = 0, layers = 0;
    bool qk_norm = false;
    bool eager = false;
    std::uint64_t logits_rows = 1;  // positions whose logits are computed
    bool decode = false;          // inside generate(): its state is resident
    std::uint64_t prompt = 0;

    [[nodiscard]] constexpr std::uint64_t kv_len() const noexcept { return past + q; }
    [[nodiscard]] constexpr std::uint64_t tokens() const noexcept { return batch * q; }
    // One of a layer's keys (or values) with `len` tokens.
    [[nodiscard]] constexpr std::uint64_t kv_tensor(std::uint64_t len) const noexcept {
        return batch * kv_heads * len * head_dim * e;
    }
};

// LlamaRMSNorm.forward on `rows` rows of `width`: upcast, pow, mean, rsqrt, scale, downcast,
// weight; leaves its output live and returns its size.
constexpr std::uint64_t rms_norm(tracker& t, const shape& s, std::uint64_t rows, std::uint64_t width) noexcept {
    const std::uint64_t n = rows * width;
    const std::uint64_t up = s.e == 4 ? 0 : t.alloc(n * 4);  // .to(float32) is a no-op on float32
    const std::uint64_t pw = t.alloc(n * 4);
    const std::uint64_t mean = t.alloc(rows * 4);
    t.free(pw);
    const std::uint64_t add = t.alloc(rows * 4);
    const std::uint64_t rs = t.alloc(rows * 4);
    t.free(add);
    const std::uint64_t scaled = t.alloc(n * 4);
    t.free(rs);
    t.free(mean);
    t.free(up);
    const std::uint64_t down = s.e == 4 ? 0 : t.alloc(n * s.e);
    const std::uint64_t out = t.alloc(n * s.e);
    t.free(down);
    t.free(scaled);
    return out;
}

// nn.LayerNorm.forward (native_layer_norm): the output in the model dtype and float32 mean and
// rstd per row, dropped at once; leaves the output live and returns its size.
constexpr std::uint64_t layer_norm(tracker& t, const shape& s, std::uint64_t rows, std::uint64_t width) noexcept {
    const std::uint64_t out = t.alloc(rows * width * s.e);
    const std::uint64_t mean = t.alloc(rows * 4);
    const std::uint64_t rstd = t.alloc(rows * 4);
    t.free(rstd);
    t.free(mean);
    return out;
}

// apply_rotary_pos_emb for one of q/k: `(x * cos) + (rotate_half(x) * sin)`.
constexpr std::uint64_t rotary(tracker& t, std::uint64_t n_bytes) noexcept {
    const std::uint64_t a = t.alloc(n_bytes);        // x * cos
    const std::uint64_t neg = t.alloc(n_bytes / 2);  // -x2
    const std::uint64_t rh = t.alloc(n_bytes);       // cat((-x2, x1))
    t.free(neg);
    const std::uint64_t b = t.alloc(n_bytes);        // * sin
    t.free(rh);
    const std::uint64_t out = t.alloc(n_bytes);      // +
    t.free(b);
    t.free(a);
    return out;
}

// The attention core from the cached keys/values (cache holds kv_len tokens) and the rotated
// query; returns the output `[batch, q, heads*head_dim]` (live) and the bytes the caller keeps
// until LlamaAttention.forward returns (eager's attn_weights).
struct attn_out { std::uint64_t out = 0; std::uint64_t weights = 0; };

constexpr attn_out attention_core(tracker& t, const shape& s, std::uint64_t mask) noexcept {
    const std::uint64_t rep = s.heads / s.kv_heads;
    const std::uint64_t q_bytes = s.batch * s.heads * s.q * s.head_dim * s.e;
    if (!s.eager) {
        // flash/efficient: output in the query's layout plus a float32 logsumexp, dropped at once
        const std::uint64_t out = t.alloc(q_bytes);
        const std::uint64_t lse = t.alloc(s.batch * s.heads * s.q * 4);
        t.free(lse);
        return {out, 0};
    }
    const std::uint64_t full = s.batch * s.heads * s.kv_len() * s.head_dim * s.e;
    const std::uint64_t rk = rep > 1 ? t.alloc(full) : 0;
    const std::uint64_t rv = rep > 1 ? t.alloc(full) : 0;
    const std::uint64_t scores = s.batch * s.heads * s.q * s.kv_len();
    const std::uint64_t mm = t.alloc(scores * s.e);
    const std::uint64_t scaled = t.alloc(scores * s.e);
    t.free(mm);
    std::uint64_t w = scaled;
    if (mask != 0) { w = t.alloc(scores * s.e); t.free(scaled); }
    const std::uint64_t up = s.e == 4 ? 0 : t.alloc(scores * 4);  // softmax(dtype=float32) casts first
    const std::uint64_t sm = t.alloc(scores * 4);
    t.free(up);
    const std::uint64_t probs = s.e == 4 ? sm : t.alloc(scores * s.e);
    if (s.e != 4) t.free(sm);
    t.free(w);
    const std::uint64_t av = t.alloc(q_bytes);
    const std::uint64_t out = t.alloc(q_bytes);  // transpose(1, 2).contiguous()
    t.free(av);
    t.free(rv);
    t.free(rk);
    return {out, probs};
}

// What of one forward runs on one device: the decoder layers that run there (the last of them
// replayed), whether the embedding (and with it the inputs and the rotary/mask tensors the
// model's forward makes) and whether the final norm and lm_head sit there. A device without the
// embedding gets the hidden states and the cos/sin (and eager's mask) as copies: accelerate's
// AlignDevicesHook.pre_forward moves a module's arguments to its device (accelerate/hooks.py).
struct device_share {
    layer_set layers{};       // the decoder layers that run here
    std::uint64_t count = 0;  // how many
    bool embedding = true;
    bool head = true;

    [[nodiscard]] static constexpr device_share whole_model(std::uint32_t layers) noexcept {
        device_share d{};
        for (std::uint32_t l = 0; l < layers; ++l) d.layers.insert(l);
        d.count = layers;
        return d;
    }
    // The last local layer (the one replayed).
    [[nodiscard]] constexpr std::uint32_t last_layer() const noexcept {
        for (std::uint32_t l = layer_set::max_layers; l-- > 0;) if (layers.contains(l)) return l;
        return 0;
    }
};

}  // namespace vramfit::transformers::detail::act
