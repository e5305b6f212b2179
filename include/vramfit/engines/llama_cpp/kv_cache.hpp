// vramfit/engines/llama_cpp/kv_cache.hpp — the attention KV cache(s) llama.cpp allocates.
//
// Mirrors the llama_kv_cache constructor (src/llama-kv-cache.cpp) at llama.cpp 1425386f: for
// every layer the cache keeps, one K tensor [n_embd_k_gqa(il), kv_size, n_stream] of type_k and
// one V tensor [n_embd_v_gqa, kv_size, n_stream] of type_v, allocated together in one buffer with
// ggml_backend_alloc_ctx_tensors_from_buft (ggml/src/ggml-alloc.c: each tensor padded to the
// buffer type's alignment). Models with interleaved sliding-window attention get two caches
// (llama_kv_cache_iswa): one over the full-attention layers, one over the SWA layers.
//
// Details that follow the source:
//  * MLA (hparams.is_mla(), deepseek2): only the compressed latent is cached in K
//    (n_embd_head_k = kv_lora_rank + rope dims, one KV head); the V tensor is not created.
//  * Without flash attention V is stored transposed (v_trans) and every layer's V row is padded to
//    the largest n_embd_v_gqa of the model ([TAG_V_CACHE_VARIABLE]).
//  * Hybrid models cache only their attention layers (llama_memory_hybrid's default filter
//    !is_recurrent(il)); recurrent-only models have no KV cache.
#pragma once

#include <cstdint>

#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::llama_cpp {

// One llama_kv_cache, as its "llama_kv_cache: size = ... (cells, layers, seqs), K (type): ...,
// V (type): ..." line and its "KV buffer size" line report it.
struct kv_cache_size {
    std::uint32_t cells = 0;    // per stream
    std::uint32_t streams = 0;
    std::uint32_t layers = 0;
    bytes k{};                  // sum of the K tensors' ggml_nbytes, all streams
    bytes v{};                  // likewise for V (0 for MLA)
    bytes buffer{};             // the allocated buffer: tensors padded to the buffer alignment

    [[nodiscard]] constexpr bytes total() const noexcept { return k + v; }
};

// The full-attention cache and, for iSWA models, the SWA cache.
struct kv_cache_breakdown {
    kv_cache_size full;
    kv_cache_size swa;  // all zero without SWA layers

    [[nodiscard]] constexpr bytes total() const noexcept { return full.total() + swa.total(); }
    [[nodiscard]] constexpr bytes buffers() const noexcept { return full.buffer + swa.buffer; }
    [[nodiscard]] constexpr bytes k() const noexcept { return full.k + swa.k; }
    [[nodiscard]] constexpr bytes v() const noexcept { return full.v + swa.v; }
};

namespace detail {

// llama_hparams::n_embd_v_gqa_max(): the widest V row over all layers.
[[nodiscard]] constexpr std::uint32_t n_embd_v_gqa_max(const hyperparameters& hp) noexcept {
    std::uint32_t widest = 0;
    for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
        const auto width = hp.n_embd_v_gqa(il);
        if (width > widest) widest = width;
    }
    return widest;
}

// Is layer `il` kept by the cache being built (full: want_swa false; SWA cache: true)?
[[nodiscard]] constexpr bool layer_in_cache(const hyperparameters& hp, std::uint32_t il, bool want_swa) noexcept {
    if (is_hybrid_architecture(hp.arch) && hp.layers[il].recurrent) return false;
    if (!has_swa_cache(hp)) return !want_swa;
    return hp.layers[il].swa == want_swa;
}

// One cached layer's K and V tensors (ggml_nbytes, all streams). The one KV formula: the KV
// buffer here, the per-device KV buffers (cuda/offload.hpp) and the planner's per-layer KV
// (plan_costs.hpp) all take their sizes from for_each_kv_layer.
struct kv_layer {
    std::uint32_t il = 0;
    bytes k{};
    bytes v{};  // 0 for MLA (no V tensor)

    // Both tensors in a buffer of the given alignment (ggml_backend_alloc_ctx_tensors_from_buft).
    [[nodiscard]] constexpr bytes buffer(std::uint64_t alignment) const noexcept {
        return pad_to(k, alignment) + pad_to(v, alignment);
    }
};

// Calls f(kv_layer) for every layer of one llama_kv_cache (full: want_swa false; SWA: true)
// with `cells` cells per stream, in layer order.
template <class F>
constexpr void for_each_kv_layer(const hyperparameters& hp, const resolved_context& ctx, bool want_swa, std::uint32_t cells, F&& f) {
    if (cells == 0) return;
    const bool mla = hp.is_mla();
    const bool v_trans = !ctx.flash_attn;
    const std::uint32_t v_width_max = n_embd_v_gqa_max(hp);
    const std::uint64_t rows = static_cast<std::uint64_t>(cells) * ctx.n_stream;
    for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
        if (!layer_in_cache(hp, il, want_swa)) continue;
        kv_layer layer{};
        layer.il = il;
        layer.k = row_size(ctx.type_k, hp.n_embd_k_gqa(il)) * rows;
        if (!mla) layer.v = row_size(ctx.type_v, v_trans ? v_width_max : hp.n_embd_v_gqa(il)) * rows;
        f(layer);
    }
}

// One llama_kv_cache over the layers selected by `want_swa`, with `cells` cells per stream.
[[nodiscard]] constexpr kv_cache_size one_kv_cache(const hyperparameters& hp, const resolved_context& ctx,
                                                   bool want_swa, std::uint32_t cells) noexcept {
    kv_cache_size cache{};
    cache.cells = cells;
    cache.streams = ctx.n_stream;
    for_each_kv_layer(hp, ctx, want_swa, cells, [&](const kv_layer& layer) {
        ++cache.layers;
        cache.k += layer.k;
        cache.v += layer.v;
        cache.buffer += layer.buffer(cpu_buffer_alignment);
    });
    if (cache.layers == 0) return kv_cache_size{};
    return cache;
}

} // namespace detail

// The KV cache(s) for a resolved context (see resolve_context). Usable on its own in constant
// expressions.
[[nodiscard]] constexpr kv_cache_breakdown kv_cache_bytes(const hyperparameters& hp, const resolved_context& ctx) noexcept {
    kv_cache_breakdown kv{};
    if (ctx.kv_cells == 0 || hp.layers.size() != hp.n_layer) return kv;
    kv.full = detail::one_kv_cache(hp, ctx, false, ctx.kv_cells);
    if (ctx.kv_swa_cells != 0) kv.swa = detail::one_kv_cache(hp, ctx, true, ctx.kv_swa_cells);
    return kv;
}

[[nodiscard]] constexpr kv_cache_breakdown kv_cache_bytes(const model_description& model, const resolved_context& ctx) noexcept {
    return kv_cache_bytes(model.hparams, ctx);
}

} // namespace vramfit::llama_cpp
