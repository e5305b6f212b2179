// vramfit/engines/transformers/kv_cache.hpp — the key/value cache transformers keeps while
// generate() runs: what each decoder layer caches per token, and how many tokens it holds.
//
// Mirrors transformers 5.24.0 `cache_utils.py`:
//  * DynamicCache (generate()'s default) builds one layer per decoder layer from the config
//    (`get_layer_types_and_kwargs`): "full_attention" → DynamicLayer, which concatenates every
//    token; "sliding_attention" / "chunked_attention" → DynamicSlidingWindowLayer, which keeps the
//    last `sliding_window - 1` tokens once the window is full (its `update`).
//  * StaticCache (`cache_implementation="static"`) allocates `[batch, heads, max_cache_len, dim]`
//    up front (StaticLayer); sliding layers `min(sliding_window, max_cache_len)`
//    (StaticSlidingWindowLayer). generate() sizes it to `max_length - 1` = prompt + new tokens
//    − 1 (generation/utils.py: `generate`, "7. Prepare the cache").
// What a layer caches is the modelling code's: keys and values of `[batch, kv_heads, len,
// head_dim]` (`self.k_proj(...).view(...)` before `cache.update`), except multi-head latent
// attention (DeepSeek-V2/V3: modeling_deepseek_v2.py `DeepseekV2Attention.forward`), which caches
// the compressed latent — the normalised kv_lora_rank part and the rotary key, one "head" each —
// and expands it after the update.
#pragma once

#include <cstdint>

#include "vramfit/core/bytes.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::transformers {

enum class cache_implementation : std::uint8_t { dynamic, static_cache };

// One decoder layer's cache entry per token: keys of key_heads × key_dim and values of
// value_heads × value_dim elements; a sliding layer's window (0: full attention).
struct kv_layer_shape {
    std::uint32_t key_heads = 0;
    std::uint32_t key_dim = 0;
    std::uint32_t value_heads = 0;
    std::uint32_t value_dim = 0;
    std::uint32_t sliding_window = 0;

    [[nodiscard]] constexpr std::uint64_t elements_per_token() const noexcept {
        return std::uint64_t{key_heads} * key_dim + std::uint64_t{value_heads} * value_dim;
    }
};

[[nodiscard]] constexpr kv_layer_shape kv_layer(const model_config& config, std::uint32_t layer) noexcept {
    kv_layer_shape shape{};
    if (config.is_mla()) {
        shape = {1, config.kv_lora_rank, 1, config.qk_rope_head_dim, 0};
    } else {
        const std::uint32_t heads = config.kv_heads();
        const std::uint32_t dim = config.attention_head_dim();
        shape = {heads, dim, heads, dim, 0};
    }
    if (config.sliding_window != 0 && config.sliding_layers.contains(layer)) shape.sliding_window = config.sliding_window;
    return shape;
}

// Tokens of storage a layer holds after it has seen `tokens_seen` tokens, the last
// `last_update` of them in one update (0: one token).
[[nodiscard]] constexpr std::uint64_t cached_tokens(const kv_layer_shape& layer, std::uint64_t tokens_seen,
                                                    cache_implementation cache, std::uint64_t max_cache_len,
                                                    std::uint64_t last_update = 1) noexcept {
    if (cache == cache_implementation::static_cache) {
        return layer.sliding_window != 0 && layer.sliding_window < max_cache_len ? layer.sliding_window : max_cache_len;
    }
    if (layer.sliding_window == 0) return tokens_seen;
    const std::uint64_t update = last_update == 0 ? 1 : (last_update < tokens_seen ? last_update : tokens_seen);
    const std::uint64_t before = tokens_seen - update;
    const std::uint64_t kept = before < layer.sliding_window - 1 ? before : layer.sliding_window - 1;
    return kept + update;
}

struct kv_cache_request {
    dtype cache_type = dtype::bf16;  // the keys' and values' dtype: the model's load dtype
    std::uint32_t batch = 1;
    std::uint64_t tokens_seen = 0;   // after generate(): prompt + new tokens − 1 (the last token is never fed back)
    cache_implementation cache = cache_implementation::dynamic;
    std::uint64_t max_cache_len = 0; // static cache only
    std::uint64_t last_update = 1;   // tokens of the update that brought it to tokens_seen (the prompt after the prefill)
};

// Bytes of one layer's cache.
[[nodiscard]] constexpr bytes kv_layer_bytes(const model_config& config, std::uint32_t layer, const kv_cache_request& request) noexcept {
    const auto shape = kv_layer(config, layer);
    const auto tokens = cached_tokens(shape, request.tokens_seen, request.cache, request.max_cache_len, request.last_update);
    return row_size(request.cache_type, static_cast<std::int64_t>(shape.elements_per_token())) * (tokens * request.batch);
}

// Bytes of the whole cache: every decoder layer's.
[[nodiscard]] constexpr bytes kv_cache_bytes(const model_config& config, const kv_cache_request& request) noexcept {
    bytes total{};
    for (std::uint32_t layer = 0; layer < config.num_hidden_layers; ++layer) total += kv_layer_bytes(config, layer, request);
    return total;
}

// generate()'s cache after `prompt` tokens and `new_tokens` generated ones: the last generated
// token is returned, never fed back; a static cache is sized prompt + new_tokens − 1.
[[nodiscard]] constexpr kv_cache_request generate_cache(dtype cache_type, std::uint32_t batch, std::uint64_t prompt,
                                                        std::uint64_t new_tokens,
                                                        cache_implementation cache = cache_implementation::dynamic) noexcept {
    const std::uint64_t seen = prompt + (new_tokens != 0 ? new_tokens - 1 : 0);
    return {cache_type, batch, seen, cache, seen, new_tokens > 1 ? 1 : prompt};
}

} // namespace vramfit::transformers
