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
//    `[batch, heads, q, kv]` scores, `* scaling`, `+ mask`, softmax's float32 input copy (none
//    from float16, which the kernel reads as it is) and output, the result back in the model
//    dtype, which the decoder layer keeps to its end
//    (`hidden_states, _ = self.self_attn(...)`); the 4-D float mask create_causal_mask builds;
//  * sdpa (integrations/sdpa_attention.py): grouped heads go to the kernel with enable_gqa (no
//    repeat) when there is no mask and head_dim ≤ 256; no mask without padding; the kernel
//    PyTorch picks (sdp_utils.cpp select_sdp_backend, flash first on sm80+, the memory-efficient
//    one on float32) writes its output and, flash, a float32 logsumexp `[batch, heads, q]`;
//  * the logits: `lm_head` on the last `logits_to_keep` positions in the model dtype; during a
//    decode step generate() (generation/utils.py `_sample`) still holds the previous step's
//    `next_token_logits`, a float32 `[batch, vocab]` copy, its int64 sequences (input_ids,
//    attention_mask and position_ids, one token longer than the cache), the special-token
//    tensors, next_tokens, unfinished_sequences and the step's cloned input slices
//    (decode_state below).
// With `round512`, every tensor is counted as the CUDA caching allocator books it: rounded up
// to 512 bytes (c10/cuda/CUDACachingAllocator.cpp round_size, kMinBlockSize).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "vramfit/core/bytes.hpp"
#include "vramfit/engines/transformers/detail/forward_deepseek_v2.hpp"
#include "vramfit/engines/transformers/detail/forward_gemma.hpp"
#include "vramfit/engines/transformers/detail/forward_gpt2.hpp"
#include "vramfit/engines/transformers/detail/forward_gpt_neox.hpp"
#include "vramfit/engines/transformers/detail/forward_gpt_oss.hpp"
#include "vramfit/engines/transformers/detail/forward_llama.hpp"
#include "vramfit/engines/transformers/detail/forward_moe.hpp"
#include "vramfit/engines/transformers/detail/forward_opt.hpp"
#include "vramfit/engines/transformers/detail/forward_phi3.hpp"
#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/kv_cache.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::transformers {

enum class attn_implementation : std::uint8_t { sdpa, eager };

// The module code a config's model_type runs; each has its replay in detail/forward_<family>.hpp.
enum class family : std::uint8_t {
    unknown,
    llama,    // llama, mistral, qwen2, deepseek (llama-type), and qwen3 (q_norm/k_norm on heads)
    opt,      // modeling_opt.py
    gpt2,     // modeling_gpt2.py
    phi3,     // modeling_phi3.py
    gpt_oss,  // modeling_gpt_oss.py
    deepseek_v2,  // modeling_deepseek_v2.py (multi-head latent attention, MoE)
    gemma,    // modeling_gemma2.py, modeling_gemma3.py (text model)
    moe,      // modeling_mixtral.py, modeling_qwen2_moe.py, modeling_qwen3_moe.py
    gpt_neox, // modeling_gpt_neox.py
};

[[nodiscard]] constexpr family family_of(const model_config& config) noexcept {
    const std::string_view t = config.model_type.view();
    if (t == "llama" || t == "mistral" || t == "qwen2" || t == "qwen3") return family::llama;
    if (t == "opt") return family::opt;
    if (t == "gpt2") return family::gpt2;
    if (t == "phi3") return family::phi3;
    if (t == "gpt_oss") return family::gpt_oss;
    if (t == "deepseek_v2") return family::deepseek_v2;
    if (t == "gemma2" || t == "gemma3" || t == "gemma3_text") return family::gemma;
    if (t == "mixtral" || t == "qwen2_moe" || t == "qwen3_moe") return family::moe;
    if (t == "gpt_neox") return family::gpt_neox;
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

[[nodiscard]] constexpr shape shape_of(const model_config& c, const activation_request& r) noexcept {
    shape s{};
    s.type = r.type;
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

[[nodiscard]] constexpr activation_peak to_peak(const tracker& t, std::uint64_t less) noexcept {
    return {bytes{t.peak - less}, bytes{t.kv_at_peak}, true};
}

// Calls fn with the rules of family f (an empty struct per family); unknown families get
// unmodelled_rules.
struct unmodelled_rules {
    static constexpr bool modelled = false;
    [[nodiscard]] static constexpr tracker forward(const model_config&, const shape&, bool round512, std::uint64_t,
                                                   const device_share&) noexcept {
        return tracker{round512};
    }
};

template <class Fn>
constexpr decltype(auto) with_rules(family f, Fn&& fn) {
    switch (f) {
        case family::llama: return fn(llama_rules{});
        case family::opt: return fn(opt_rules{});
        case family::gpt2: return fn(gpt2_rules{});
        case family::phi3: return fn(phi3_rules{});
        case family::gpt_oss: return fn(gpt_oss_rules{});
        case family::deepseek_v2: return fn(deepseek_v2_rules{});
        case family::gemma: return fn(gemma_rules{});
        case family::moe: return fn(moe_rules{});
        case family::gpt_neox: return fn(gpt_neox_rules{});
        case family::unknown: break;
    }
    return fn(unmodelled_rules{});
}

// generate()'s int64 input_ids and attention_mask, with the embedding, during the prefill.
[[nodiscard]] constexpr std::uint64_t prefill_inputs(const shape& s) noexcept { return 2 * s.batch * s.prompt * 8; }

// generate()'s special-token tensors (generation/utils.py _prepare_special_tokens): bos, eos and
// pad each become an int64 tensor on the inputs' device when the generation config sets them, eos
// one element per id; a missing pad falls back to `eos_token_tensor[0]`, a view. The generation
// config is the model config's (GenerationConfig.from_model_config: config.json's ids, or the
// config class's defaults), and model_config does not carry the ids, so the count is the one the
// config classes and the published configs of each model_type give: bos and eos (LlamaConfig,
// MistralConfig, MixtralConfig, DeepseekV2Config, GPT2Config, GPTNeoXConfig defaults; Qwen2,
// Qwen3 and the Qwen MoE classes default to none, their published configs set both; gpt-oss's
// set eos and pad); OPTConfig, Phi3Config and Gemma2Config also default pad_token_id; Gemma 3's
// published configs list two eos ids (Gemma3TextConfig's defaults have one). A config with more
// eos ids (Llama 3.1's three) holds 8 bytes more an id.
[[nodiscard]] constexpr std::uint64_t special_token_tensors(const model_config& c) noexcept {
    const std::string_view t = c.model_type.view();
    if (t == "gemma3" || t == "gemma3_text") return 4;
    if (t == "opt" || t == "phi3" || t == "gemma2") return 3;
    return 2;
}

// What generate() (generation/utils.py `_sample`) holds on the embedding's device during a decode
// step with `cached` tokens in the cache before it: the caller's input_ids and attention_mask, the
// prefill's position_ids, the sequences grown by cat (one token longer than the cache), the
// previous step's float32 next_token_logits, the `special` special-token elements, next_tokens,
// unfinished_sequences, and the step's input_ids and position_ids slices
// (prepare_inputs_for_generation clones them).
[[nodiscard]] constexpr std::uint64_t decode_state(const shape& s, std::uint64_t cached, std::uint64_t special) noexcept {
    const std::uint64_t b = s.batch;
    return 2 * b * s.prompt * 8 + b * s.prompt * 8 + 2 * b * (cached + 1) * 8 + b * s.vocab * 4 + special * 8 +
           4 * b * 8;
}

// A family whose modelling code holds other inputs than generate()'s defaults above names them
// with static prefill_inputs(config, shape) / decode_state(config, shape, cached).
template <class Rules>
[[nodiscard]] constexpr std::uint64_t prefill_inputs_of(const model_config& c, const shape& s) noexcept {
    if constexpr (requires { Rules::prefill_inputs(c, s); }) return Rules::prefill_inputs(c, s);
    else return prefill_inputs(s);
}
template <class Rules>
[[nodiscard]] constexpr std::uint64_t decode_state_of(const model_config& c, const shape& s, std::uint64_t cached) noexcept {
    if constexpr (requires { Rules::decode_state(c, s, cached); }) return Rules::decode_state(c, s, cached);
    else return decode_state(s, cached, special_token_tensors(c));
}

// The cache the local layers hold once `tokens_seen` tokens went through, the last `last_update`
// of them in one update.
[[nodiscard]] constexpr std::uint64_t local_cache_bytes(const model_config& c, const device_share& d, dtype type,
                                                        std::uint64_t batch, std::uint64_t tokens_seen,
                                                        std::uint64_t last_update) noexcept {
    const kv_cache_request r{type, static_cast<std::uint32_t>(batch), tokens_seen, cache_implementation::dynamic, 0,
                             last_update};
    std::uint64_t sum = 0;
    for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l)
        if (d.layers.contains(l)) sum += kv_layer_bytes(c, l, r).count();
    return sum;
}

// Calls fn with the rules of the config's family where it is modelled; an unmodelled one gets
// empty figures.
template <class Fn>
[[nodiscard]] constexpr activation_peak with_modelled_rules(const model_config& c, Fn&& fn) {
    return with_rules(family_of(c), [&](auto rules) -> activation_peak {
        if constexpr (!decltype(rules)::modelled) return {};
        else return fn(rules);
    });
}

// The prefill forward as one device sees it: its peak, the inputs (with the embedding) and the
// cache present at the peak included.
[[nodiscard]] constexpr activation_peak prefill_on(const model_config& c, const activation_request& r,
                                                   const device_share& d, std::uint64_t logits_rows) {
    return with_modelled_rules(c, [&](auto rules) {
        auto s = shape_of(c, r);
        s.q = r.prompt;
        s.logits_rows = logits_rows;
        return to_peak(rules.forward(c, s, r.round512, d.embedding ? prefill_inputs_of<decltype(rules)>(c, s) : 0, d), 0);
    });
}

// The decode step with `cached` tokens before it as one device sees it: its peak less the cache
// of the local layers after the step.
[[nodiscard]] constexpr activation_peak decode_on(const model_config& c, const activation_request& r,
                                                  const device_share& d, std::uint64_t cached) {
    return with_modelled_rules(c, [&](auto rules) -> activation_peak {
        auto s = shape_of(c, r);
        s.q = 1;
        s.past = cached;
        s.logits_rows = 1;
        s.decode = true;
        const auto t = rules.forward(c, s, r.round512, d.embedding ? decode_state_of<decltype(rules)>(c, s, cached) : 0, d);
        const std::uint64_t after = local_cache_bytes(c, d, r.type, s.batch, cached + 1, 1);
        return {bytes{t.peak - std::min(t.peak, after)}, bytes{t.kv_at_peak}, true};
    });
}

}  // namespace detail::act

// Whether the forward of this config's architecture is replayed (the peaks below are zero
// and unmodelled otherwise).
[[nodiscard]] constexpr bool activations_modelled(const model_config& config) {
    return detail::act::with_rules(family_of(config), [](auto rules) { return decltype(rules)::modelled; });
}

// (a) The prefill forward generate() runs: the whole prompt, use_cache=True, logits_to_keep=1.
// The figure includes the inputs and the cache the prompt leaves (kv_part).
[[nodiscard]] constexpr activation_peak prefill_peak(const model_config& config, const activation_request& request) {
    return detail::act::prefill_on(config, request, detail::act::device_share::whole_model(config.num_hidden_layers), 1);
}

// (c) A plain forward that returns every position's logits (model(input_ids), use_cache=True).
[[nodiscard]] constexpr activation_peak full_logits_peak(const model_config& config, const activation_request& request) {
    return detail::act::prefill_on(config, request, detail::act::device_share::whole_model(config.num_hidden_layers),
                                   request.prompt);
}

// (b) One decode step of generate(): one new token per sequence with `cached` tokens in the
// DynamicCache before it. The figure is the step's peak less the weights and less the cache
// after the step (cached + 1 tokens), as generate()'s state during the step stands: the
// previous step's float32 logits, the prompt inputs, the int64 sequences and the small tensors
// beside them (decode_state).
[[nodiscard]] constexpr activation_peak decode_peak(const model_config& config, const activation_request& request,
                                                    std::uint64_t cached) {
    return detail::act::decode_on(config, request, detail::act::device_share::whole_model(config.num_hidden_layers), cached);
}

// (b') The largest decode step of a generate() that makes `new_tokens` tokens (its peak less the
// weights and less the cache after that step). The step peak grows with the cache, so it is the
// last step's, except where a sliding window is already full: the first step still finds the
// prompt's whole storage in the layers it has not reached yet (DynamicSlidingWindowLayer.update
// trims it only when a layer runs), so it can be the larger one.
[[nodiscard]] constexpr activation_peak largest_decode_peak(const model_config& config, const activation_request& request,
                                                            std::uint64_t new_tokens) {
    if (new_tokens < 2) return {bytes{}, bytes{}, activations_modelled(config)};
    const auto last = decode_peak(config, request, request.prompt + new_tokens - 2);
    if (new_tokens == 2) return last;
    const auto first = decode_peak(config, request, request.prompt);
    return first.above_weights > last.above_weights ? first : last;
}

}  // namespace vramfit::transformers
