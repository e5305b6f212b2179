// vramfit/engines/transformers/activations.hpp — the memory transformers' forward passes take on
// a GPU above the weights: the prefill forward generate() runs (use_cache=True,
// logits_to_keep=1), one decode step (one new token, the DynamicCache growing by one), and a
// plain forward that returns every position's logits.
//
// The rule: replay the tensors the modelling code allocates and frees, in program order, and
// keep the running sum's maximum. PyTorch frees a tensor when its last reference goes, so a
// tensor lives while a Python name or an enclosing expression still holds it: e.g.
// LlamaMLP.forward `down_proj(act_fn(gate_proj(x)) * up_proj(x))` holds the SiLU output, the up
// projection and their product at once (modeling_llama.py). Decoder layers repeat, and every
// later layer holds more cache and one more residual-stream tensor (the caller's loop variable
// besides `inputs_embeds`), so the last layer carries the peak; it is replayed with the cache
// of all the layers before it already present.
//
// Tensors on the device that the replay counts:
//  * the inputs (input_ids and attention_mask, int64) and the position ids
//    (LlamaModel.forward: `torch.arange(...) + past_seen_tokens`);
//  * `inputs_embeds`, referenced by LlamaModel.forward until it returns, the previous layer's
//    output, the layer's residual and its normed copies; RMSNorm's float32 upcast
//    (LlamaRMSNorm.forward);
//  * rotary cos/sin in the model dtype (LlamaRotaryEmbedding.forward); apply_rotary_pos_emb's
//    `q * cos + rotate_half(q) * sin` temporaries;
//  * the cache: DynamicLayer.update `torch.cat([self.keys, key_states])` (cache_utils.py) holds
//    the old and the new tensor at once, also on the first update (cat with an empty tensor);
//  * eager attention (eager_attention_forward): repeat_kv copies for grouped heads, the
//    `[batch, heads, q, kv]` scores, `* scaling`, `+ mask`, softmax's float32 input copy and
//    output, the result back in the model dtype, which the decoder layer keeps to its end
//    (`hidden_states, _ = self.self_attn(...)`); the 4-D float mask create_causal_mask builds;
//  * sdpa (integrations/sdpa_attention.py): grouped heads go to the kernel with enable_gqa (no
//    repeat) when there is no mask and head_dim ≤ 256; no mask without padding; the kernel
//    PyTorch picks (sdp_utils.cpp select_sdp_backend, flash first on sm80+) writes its output and
//    a float32 logsumexp `[batch, heads, q]`;
//  * the logits: `lm_head` on the last `logits_to_keep` positions in the model dtype; during a
//    decode step generate() (generation/utils.py `_sample`) still holds the previous step's
//    `next_token_logits`, a float32 `[batch, vocab]` copy, and its int64 sequences
//    (input_ids, attention_mask and position_ids, one token longer than the cache).
// With `round512`, every tensor is counted as the CUDA caching allocator books it: rounded up
// to 512 bytes (c10/cuda/CUDACachingAllocator.cpp round_size, kMinBlockSize).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "vramfit/core/bytes.hpp"
#include "vramfit/engines/transformers/kv_cache.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::transformers {

enum class attn_implementation : std::uint8_t { sdpa, eager };

// The module code a config's model_type runs.
enum class family : std::uint8_t {
    unknown,
    llama,  // llama, mistral, qwen2, deepseek (llama-type), and qwen3 (q_norm/k_norm on heads)
};

[[nodiscard]] constexpr family family_of(const model_config& config) noexcept {
    const std::string_view t = config.model_type.view();
    if (t == "llama" || t == "mistral" || t == "qwen2" || t == "qwen3") return family::llama;
    return family::unknown;
}

struct activation_request {
    attn_implementation attn = attn_implementation::sdpa;
    dtype type = dtype::bf16;   // the model's load dtype (activations, cache, logits)
    std::uint32_t batch = 1;
    std::uint64_t prompt = 0;   // prompt tokens
    bool round512 = false;      // count each tensor as the CUDA caching allocator books it
};

struct activation_peak {
    bytes above_weights{};  // the forward's peak of live bytes, less the weights
    bytes kv_part{};        // the part of it that is KV cache
    bool modelled = false;  // false: the architecture is not modelled (figures are zero)
};

namespace detail::act {

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
    std::uint64_t e = 2;          // bytes per element of the model dtype
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

// The last decoder layer of LlamaDecoderLayer.forward, its input `x` live (held by the caller).
constexpr void llama_layer(tracker& t, const shape& s, std::uint64_t mask) noexcept {
    const std::uint64_t rows = s.tokens();
    const std::uint64_t normed = rms_norm(t, s, rows, s.hidden);
    // LlamaAttention.forward
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
    // DynamicLayer.update: cat with what is cached (an empty tensor on the first update)
    const std::uint64_t old_len = s.past;
    const std::uint64_t new_k = t.alloc_kv(s.kv_tensor(s.kv_len()));
    t.free_kv(s.kv_tensor(old_len));
    const std::uint64_t new_v = t.alloc_kv(s.kv_tensor(s.kv_len()));
    t.free_kv(s.kv_tensor(old_len));
    (void)new_k; (void)new_v;
    t.free(kr);
    t.free(v);
    const auto a = attention_core(t, s, mask);
    t.free(qr);
    const std::uint64_t o = t.alloc(rows * s.hidden * s.e);  // o_proj
    t.free(a.out);
    t.free(normed);
    const std::uint64_t h = t.alloc(rows * s.hidden * s.e);  // residual + attention
    t.free(o);
    const std::uint64_t normed2 = rms_norm(t, s, rows, s.hidden);
    // LlamaMLP.forward
    const std::uint64_t ib = rows * s.inter * s.e;
    const std::uint64_t gate = t.alloc(ib);
    const std::uint64_t act = t.alloc(ib);
    t.free(gate);
    const std::uint64_t up = t.alloc(ib);
    const std::uint64_t prod = t.alloc(ib);
    t.free(up);
    t.free(act);
    const std::uint64_t down = t.alloc(rows * s.hidden * s.e);
    t.free(prod);
    t.free(normed2);
    const std::uint64_t out = t.alloc(rows * s.hidden * s.e);  // residual + mlp
    t.free(down);
    t.free(h);
    t.free(a.weights);  // `hidden_states, _ = self.self_attn(...)`: `_` holds them to the end
    (void)out;  // stays: the model's loop variable
}

[[nodiscard]] constexpr shape shape_of(const model_config& c, const activation_request& r) noexcept {
    shape s{};
    s.e = row_size(r.type, 1).count();
    s.batch = r.batch;
    s.hidden = c.hidden_size;
    s.heads = c.num_attention_heads;
    s.kv_heads = c.kv_heads();
    s.head_dim = c.attention_head_dim();
    s.inter = c.intermediate_size;
    s.vocab = c.vocab_size;
    s.layers = c.num_hidden_layers;
    s.qk_norm = c.model_type.view() == "qwen3";
    s.eager = r.attn == attn_implementation::eager;
    s.prompt = r.prompt;
    return s;
}

// What of one forward runs on one device: `layers` decoder layers (the last of them replayed),
// whether the embedding (and with it the inputs and the rotary/mask tensors LlamaModel.forward
// makes) and whether the final norm and lm_head sit there. A device without the embedding gets
// the hidden states and the cos/sin (and eager's mask) as copies: accelerate's
// AlignDevicesHook.pre_forward moves a module's arguments to its device (accelerate/hooks.py).
struct device_share {
    std::uint64_t layers = 0;
    bool embedding = true;
    bool head = true;
};

// One forward of the llama family from the model's inputs to the logits (LlamaForCausalLM) as
// one device sees it. `resident`: bytes already live there besides the weights and the cache
// (inputs, generate()'s state).
constexpr tracker llama_forward(const shape& s, bool round512, std::uint64_t resident,
                                device_share d) noexcept {
    tracker t{round512};
    t.alloc(resident);
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    // the cache of every local layer before the last, as the last layer finds it
    if (d.layers != 0) t.alloc_kv(2 * s.kv_tensor(s.past) * d.layers);
    const std::uint64_t embeds = d.embedding ? t.alloc(hb) : 0;
    // position ids: arange + past_seen_tokens when not given (a forward); generate() passes its own
    const std::uint64_t pos = d.embedding && !s.decode ? t.alloc(s.q * 8) : 0;
    // create_causal_mask: None for sdpa without padding; eager adds a float [batch, 1, q, kv] mask
    const bool here = d.embedding || d.layers != 0;
    const std::uint64_t mask = s.eager && here ? t.alloc(s.batch * s.q * s.kv_len() * s.e) : 0;
    // rotary cos/sin over position_ids' batch (1 for a forward's arange, `batch` in generate())
    const std::uint64_t rot = here ? (s.decode ? s.batch : 1) * s.q * s.head_dim * s.e : 0;
    const std::uint64_t cs = t.alloc(rot), sn = t.alloc(rot);
    if (d.layers != 0) {
        // the local layers but the last leave their cache; the last one runs with its input
        // beside inputs_embeds (or, on a later device, beside nothing but the moved copy)
        t.alloc_kv(2 * (s.kv_tensor(s.kv_len()) - s.kv_tensor(s.past)) * (d.layers - 1));
        const std::uint64_t x = d.embedding && d.layers == 1 ? 0 : t.alloc(hb);
        llama_layer(t, s, mask);
        t.free(x);  // the loop variable moves to the last layer's output
    }
    if (d.head) {
        const std::uint64_t last = d.layers != 0 ? hb : t.alloc(hb);  // moved here when the layers are elsewhere
        const std::uint64_t normed = rms_norm(t, s, rows, s.hidden);  // LlamaModel.norm
        t.free(last);
        t.free(cs);
        t.free(sn);
        t.free(mask);
        t.free(pos);
        t.free(embeds);
        // LlamaForCausalLM: lm_head on the last logits_rows positions
        const std::uint64_t logits = t.alloc(s.batch * s.logits_rows * s.vocab * s.e);
        (void)normed; (void)logits;
    }
    return t;
}

[[nodiscard]] constexpr activation_peak to_peak(const tracker& t, std::uint64_t less) noexcept {
    return {bytes{t.peak - less}, bytes{t.kv_at_peak}, true};
}

}  // namespace detail::act

// (a) The prefill forward generate() runs: the whole prompt, use_cache=True, logits_to_keep=1.
// The figure includes the inputs and the cache the prompt leaves (kv_part).
[[nodiscard]] constexpr activation_peak prefill_peak(const model_config& config, const activation_request& request) noexcept {
    namespace a = detail::act;
    if (family_of(config) != family::llama) return {};
    auto s = a::shape_of(config, request);
    s.q = request.prompt;
    s.logits_rows = 1;
    const std::uint64_t inputs = 2 * request.batch * request.prompt * 8;
    return a::to_peak(a::llama_forward(s, request.round512, inputs, {s.layers, true, true}), 0);
}

// (c) A plain forward that returns every position's logits (model(input_ids), use_cache=True).
[[nodiscard]] constexpr activation_peak full_logits_peak(const model_config& config, const activation_request& request) noexcept {
    namespace a = detail::act;
    if (family_of(config) != family::llama) return {};
    auto s = a::shape_of(config, request);
    s.q = request.prompt;
    s.logits_rows = request.prompt;
    const std::uint64_t inputs = 2 * request.batch * request.prompt * 8;
    return a::to_peak(a::llama_forward(s, request.round512, inputs, {s.layers, true, true}), 0);
}

// (b) One decode step of generate(): one new token per sequence with `cached` tokens in the
// DynamicCache before it. The figure is the step's peak less the weights and less the cache
// after the step (cached + 1 tokens), as generate()'s state during the step stands: the
// previous step's float32 logits, the prompt inputs and the int64 sequences.
[[nodiscard]] constexpr activation_peak decode_peak(const model_config& config, const activation_request& request,
                                                    std::uint64_t cached) noexcept {
    namespace a = detail::act;
    if (family_of(config) != family::llama) return {};
    auto s = a::shape_of(config, request);
    s.q = 1;
    s.past = cached;
    s.logits_rows = 1;
    s.decode = true;
    const std::uint64_t b = request.batch;
    const std::uint64_t resident = 2 * b * request.prompt * 8      // the caller's input_ids, attention_mask
                                   + b * request.prompt * 8         // the prefill's position_ids
                                   + 2 * b * (cached + 1) * 8       // input_ids, attention_mask grown by cat
                                   + b * s.vocab * 4;               // next_token_logits (float32)
    const auto t = a::llama_forward(s, request.round512, resident, {s.layers, true, true});
    const std::uint64_t cache_after = 2 * s.kv_tensor(cached + 1) * s.layers;
    return a::to_peak(t, cache_after);
}

}  // namespace vramfit::transformers
