// vramfit/engines/transformers/detail/forward_llama.hpp — the forward of the Llama-style decoders
// (modeling_llama.py and the files generated from it: mistral, qwen2, qwen3), replayed as
// activations.hpp describes.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

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

// One forward of the llama family from the model's inputs to the logits (LlamaForCausalLM) as
// one device sees it. `resident`: bytes already live there besides the weights and the cache
// (inputs, generate()'s state).
constexpr tracker llama_forward(const shape& s, bool round512, std::uint64_t resident,
                                const device_share& d) noexcept {
    tracker t{round512};
    t.alloc(resident);
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    // the cache of every local layer before the last, as the last layer finds it
    if (d.count != 0) t.alloc_kv(2 * s.kv_tensor(s.past) * d.count);
    const std::uint64_t embeds = d.embedding ? t.alloc(hb) : 0;
    // position ids: arange + past_seen_tokens when not given (a forward); generate() passes its own
    const std::uint64_t pos = d.embedding && !s.decode ? t.alloc(s.q * 8) : 0;
    // create_causal_mask: None for sdpa without padding; eager adds a float [batch, 1, q, kv] mask
    const bool here = d.embedding || d.count != 0;
    const std::uint64_t mask = s.eager && here ? t.alloc(s.batch * s.q * s.kv_len() * s.e) : 0;
    // rotary cos/sin over position_ids' batch (1 for a forward's arange, `batch` in generate())
    const std::uint64_t rot = here ? (s.decode ? s.batch : 1) * s.q * s.head_dim * s.e : 0;
    const std::uint64_t cs = t.alloc(rot), sn = t.alloc(rot);
    if (d.count != 0) {
        // the local layers but the last leave their cache; the last one runs with its input
        // beside inputs_embeds (or, on a later device, beside nothing but the moved copy)
        t.alloc_kv(2 * (s.kv_tensor(s.kv_len()) - s.kv_tensor(s.past)) * (d.count - 1));
        const std::uint64_t x = d.embedding && d.count == 1 ? 0 : t.alloc(hb);
        llama_layer(t, s, mask);
        t.free(x);  // the loop variable moves to the last layer's output
    }
    if (d.head) {
        const std::uint64_t last = d.count != 0 ? hb : t.alloc(hb);  // moved here when the layers are elsewhere
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

struct llama_rules {
    static constexpr bool modelled = true;
    [[nodiscard]] static constexpr tracker forward(const model_config&, const shape& s, bool round512,
                                                   std::uint64_t resident, const device_share& d) noexcept {
        return llama_forward(s, round512, resident, d);
    }
};

}  // namespace vramfit::transformers::detail::act
