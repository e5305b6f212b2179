// vramfit/engines/transformers/detail/replay_cache.hpp — the DynamicCache as the forward replays
// see it (cache_utils.py): one layer's update, the storage each layer holds around a forward, and
// the caches a forward finds on a device before it runs.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/detail/replay_mask.hpp"
#include "vramfit/engines/transformers/kv_cache.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

// One layer's cache.update with its keys and values of `old_*` bytes before and `new_*` after.
// DynamicLayer.update cats the keys with what is cached (an empty tensor on the first update)
// and rebinds them, then the values. DynamicSlidingWindowLayer.update moves its 0-d int64 window
// tensor to the device on the first update (lazy_initialization), makes both cats, then rebinds
// keys and values to views of the last `sliding_window - 1` tokens: the old tensors go, the cats'
// whole storage stays.
constexpr void cache_update(tracker& t, bool sliding, bool first_update, std::uint64_t old_k, std::uint64_t new_k,
                            std::uint64_t old_v, std::uint64_t new_v) noexcept {
    if (sliding) {
        if (first_update) t.alloc(8);
        t.alloc_kv(new_k);
        t.alloc_kv(new_v);
        t.free_kv(old_k);
        t.free_kv(old_v);
    } else {
        t.alloc_kv(new_k);
        t.free_kv(old_k);
        t.alloc_kv(new_v);
        t.free_kv(old_v);
    }
}

// A full layer's update in this forward: keys and values of s.past tokens grown to s.kv_len().
constexpr void dynamic_update(tracker& t, const shape& s) noexcept {
    cache_update(t, false, false, s.kv_tensor(s.past), s.kv_tensor(s.kv_len()), s.kv_tensor(s.past),
                 s.kv_tensor(s.kv_len()));
}

// Tokens of storage layer `l`'s keys hold after this forward's update (the cat) and before it (the
// previous forward's cat: the prompt's right after the prefill, one token later on) (kv_cache.hpp
// cached_tokens).
[[nodiscard]] constexpr std::uint64_t storage_after(const model_config& c, std::uint32_t l, const shape& s) noexcept {
    return cached_tokens(kv_layer(c, l), s.past + s.q, cache_implementation::dynamic, 0, s.q);
}
[[nodiscard]] constexpr std::uint64_t storage_before(const model_config& c, std::uint32_t l, const shape& s) noexcept {
    if (s.past == 0) return 0;
    return cached_tokens(kv_layer(c, l), s.past, cache_implementation::dynamic, 0, s.past == s.prompt ? s.prompt : 1);
}
[[nodiscard]] constexpr bool sliding_layer(const model_config& c, std::uint32_t l) noexcept {
    return kv_layer(c, l).sliding_window != 0;
}

// One decoder layer's view of the cache and of its mask in this forward: its storage before and
// after the update (the keys the attention sees: the update returns the whole cat), whether a
// sliding layer moves its window tensor now, and whether a mask reaches the attention (eager
// always; sdpa as _ignore_causal_mask_sdpa decides) with its key length.
struct layer_cache {
    bool sliding = false;
    std::uint64_t old_tok = 0, new_tok = 0;
    bool first_update = false;
    bool mask = false;
    std::uint64_t mask_kv = 0;
};

[[nodiscard]] constexpr layer_cache layer_cache_of(const model_config& c, std::uint32_t l, const shape& s) noexcept {
    layer_cache lc{};
    lc.sliding = sliding_layer(c, l);
    lc.old_tok = storage_before(c, l, s);
    lc.new_tok = storage_after(c, l, s);
    lc.first_update = s.past == 0;
    const std::uint64_t window = lc.sliding ? c.sliding_window : 0;
    lc.mask_kv = lc.sliding ? sliding_mask_kv(s, window) : full_mask_kv(s);
    lc.mask = s.eager || sdpa_keeps_mask(s, lc.mask_kv, window);
    return lc;
}

// The caches every local layer holds as this forward starts; a decode step finds each sliding
// layer's window tensor on its device already.
constexpr void local_caches(tracker& t, const model_config& c, const shape& s, const device_share& d) noexcept {
    for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l) {
        if (!d.layers.contains(l)) continue;
        const auto lc = layer_cache_of(c, l, s);
        t.alloc_kv(2 * s.kv_tensor(lc.old_tok));
        if (lc.sliding && !lc.first_update) t.alloc(8);
    }
}

// The replayed layer's update from the storage `c` says.
constexpr void layer_update(tracker& t, const shape& s, const layer_cache& c) noexcept {
    const std::uint64_t old_b = s.kv_tensor(c.old_tok), new_b = s.kv_tensor(c.new_tok);
    cache_update(t, c.sliding, c.first_update, old_b, new_b, old_b, new_b);
}

}  // namespace vramfit::transformers::detail::act
