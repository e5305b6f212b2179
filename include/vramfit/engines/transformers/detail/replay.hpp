// vramfit/engines/transformers/detail/replay.hpp — the vocabulary the forward replays share: a
// running sum of live tensor bytes and its maximum, the dimensions of one forward, what of it one
// device runs, and the pieces several modelling files run alike (RMSNorm, LayerNorm, the rotary
// products, the position ids, the gated MLP). The other shared pieces stand by concept beside it:
// replay_attention.hpp, replay_cache.hpp, replay_mask.hpp, replay_rotary.hpp,
// replay_experts.hpp, replay_layers.hpp.
// The rule each replay follows is activations.hpp's: the tensors the modelling code allocates
// and frees, in program order.
#pragma once

#include <cstdint>
#include <initializer_list>

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
    // A forward's tracker: `resident` bytes already live (inputs, generate()'s state).
    [[nodiscard]] static constexpr tracker starting(bool round512, std::uint64_t resident) noexcept {
        tracker t{round512};
        t.alloc(resident);
        return t;
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

// RMSNorm on `rows` rows of `width`. Every modelling file upcasts to float32 and takes pow, mean,
// `+ eps` and rsqrt; they differ in where the weight meets the float32 product:
//  * LlamaRMSNorm.forward (and its copies): `weight * hidden_states.to(input_dtype)`, the weight
//    after the downcast;
//  * GptOssRMSNorm.forward: `(weight * hidden_states).to(input_dtype)`, the float32 weight
//    (_keep_in_fp32_modules) before it;
//    both hold `variance` to the end;
//  * Gemma2RMSNorm / Gemma3RMSNorm.forward: `_norm(x.float()) * (1.0 + weight.float())`, then
//    type_as; the mean is a temporary of _norm, and the weight gets a float32 copy and the `1.0 +`.
// Leaves the output live and returns its size.
enum class rms_kind : std::uint8_t { llama, f32_weight, one_plus_weight };

constexpr std::uint64_t rms_norm(tracker& t, const shape& s, std::uint64_t rows, std::uint64_t width,
                                 rms_kind kind = rms_kind::llama) noexcept {
    const std::uint64_t n = rows * width;
    const std::uint64_t up = s.e == 4 ? 0 : t.alloc(n * 4);  // the float32 upcast is a no-op on float32
    const std::uint64_t pw = t.alloc(n * 4);
    const std::uint64_t mean = t.alloc(rows * 4);
    t.free(pw);
    const std::uint64_t add = t.alloc(rows * 4);
    if (kind == rms_kind::one_plus_weight) t.free(mean);
    const std::uint64_t rs = t.alloc(rows * 4);
    t.free(add);
    const std::uint64_t scaled = t.alloc(n * 4);
    t.free(rs);
    t.free(up);
    std::uint64_t out = 0;
    if (kind == rms_kind::llama) {
        const std::uint64_t down = s.e == 4 ? 0 : t.alloc(n * s.e);
        out = t.alloc(n * s.e);
        t.free(down);
    } else {
        std::uint64_t w1 = 0;
        if (kind == rms_kind::one_plus_weight) {
            const std::uint64_t wf = s.e == 4 ? 0 : t.alloc(width * 4);  // weight.float()
            w1 = t.alloc(width * 4);                                    // 1.0 + it
            t.free(wf);
        }
        const std::uint64_t prod = t.alloc(n * 4);
        t.free(w1);
        if (kind == rms_kind::one_plus_weight) t.free(scaled);
        out = s.e == 4 ? prod : t.alloc(n * s.e);  // the downcast / type_as
        if (s.e != 4) t.free(prod);
    }
    if (kind != rms_kind::one_plus_weight) {
        t.free(scaled);
        t.free(mean);
    }
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

// The position ids a forward makes when the caller passes none (LlamaModel.forward and the
// models written like it: `torch.arange(q) + past_seen_tokens`, the arange a temporary), on the
// embedding's device; generate() passes its own, so a decode step makes none. Returns them (live).
constexpr std::uint64_t position_ids(tracker& t, const shape& s, bool embedding) noexcept {
    if (!embedding || s.decode) return 0;
    const std::uint64_t ar = t.alloc(s.q * 8);
    const std::uint64_t pos = t.alloc(s.q * 8);
    t.free(ar);
    return pos;
}

// The gated MLP `down_proj(act_fn(gate_proj(x)) * up_proj(x))` on `rows` rows of width `inter`
// (LlamaMLP.forward and its copies: MixtralMLP / Qwen2MoeMLP / Qwen3MoeMLP, the dense layers and
// shared experts; DeepseekV2MLP; Gemma2MLP / Gemma3MLP, whose gelu_pytorch_tanh is one kernel
// too): the expression holds the activation and the up projection until their product is made.
// Returns the down projection (live).
constexpr std::uint64_t gated_mlp(tracker& t, const shape& s, std::uint64_t rows, std::uint64_t inter) noexcept {
    const std::uint64_t ib = rows * inter * s.e;
    const std::uint64_t gate = t.alloc(ib);
    const std::uint64_t act = t.alloc(ib);
    t.free(gate);
    const std::uint64_t up = t.alloc(ib);
    const std::uint64_t prod = t.alloc(ib);
    t.free(up);
    t.free(act);
    const std::uint64_t down = t.alloc(rows * s.hidden * s.e);
    t.free(prod);
    return down;
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

// The caches a replayed layer, the n-th local one, finds on its device: every local layer's of
// `before` bytes as the forward starts, and once the embedding's work is done, the n - 1 local
// layers before it grown to `after` bytes.
constexpr void local_caches_before(tracker& t, const device_share& d, std::uint64_t before) noexcept {
    if (d.count != 0) t.alloc_kv(before * d.count);
}
constexpr void earlier_layers_grown(tracker& t, std::uint64_t n, std::uint64_t before, std::uint64_t after) noexcept {
    t.alloc_kv((after - before) * (n - 1));
}

// create_causal_mask where only eager's survives: none for sdpa without padding (a first forward,
// one query row), eager's float [batch, 1, q, kv] one on the embedding's device and, copied, on a
// device running layers (`here`). Returns it (live).
constexpr std::uint64_t eager_causal_mask(tracker& t, const shape& s, bool here) noexcept {
    return s.eager && here ? t.alloc(s.batch * s.q * s.kv_len() * s.e) : 0;
}

// The head's device after the last local layer: the last layer's output (`layers_here`; moved
// here when the layers ran elsewhere), the model's final norm (`norm()`, which leaves its output
// live) in its place, the model's own tensors (`locals`) dropped as its forward returns, then
// lm_head on the last logits_rows positions.
template <class Norm>
constexpr void norm_and_head(tracker& t, const shape& s, bool layers_here, Norm&& norm,
                             std::initializer_list<std::uint64_t> locals) {
    const std::uint64_t last = s.tokens() * s.hidden * s.e;
    if (!layers_here) t.alloc(last);
    const std::uint64_t normed = norm();
    t.free(last);
    for (const std::uint64_t b : locals) t.free(b);
    const std::uint64_t logits = t.alloc(s.batch * s.logits_rows * s.vocab * s.e);
    (void)normed;
    (void)logits;
}

// A device whose layers are of two kinds (dense and mixture-of-experts): a later layer of one kind
// holds at least what an earlier one of that kind held, so the device's peak is the larger of the
// last local layer's and the last local layer's of the other kind. `kind(l)` tells a layer's
// kind; `replay(l, n)` replays the forward up to local layer l, the n-th local one.
template <class Kind, class Replay>
constexpr tracker peak_of_two_kinds(const device_share& d, Kind&& kind, Replay&& replay) {
    const std::uint32_t last = d.last_layer();
    std::uint32_t other = 0;
    std::uint64_t n_last = 0, n_other = 0;
    for (std::uint32_t l = 0; l <= last && d.count != 0; ++l) {
        if (!d.layers.contains(l)) continue;
        ++n_last;
        if (kind(l) != kind(last)) { other = l; n_other = n_last; }
    }
    tracker t = replay(last, n_last);
    if (n_other != 0) {
        const tracker o = replay(other, n_other);
        if (o.peak > t.peak) { t.peak = o.peak; t.kv_at_peak = o.kv_at_peak; }
    }
    return t;
}

// A family's rules for activations.hpp's dispatch: its forward as one device sees it, from the
// config, the shape, the rounding, the bytes already resident (inputs, generate()'s state) and the
// device's share.
using forward_fn = tracker (*)(const model_config&, const shape&, bool, std::uint64_t, const device_share&) noexcept;

template <forward_fn Forward>
struct replayed {
    static constexpr bool modelled = true;
    [[nodiscard]] static constexpr tracker forward(const model_config& c, const shape& s, bool round512,
                                                   std::uint64_t resident, const device_share& d) noexcept {
        return Forward(c, s, round512, resident, d);
    }
};

}  // namespace vramfit::transformers::detail::act
