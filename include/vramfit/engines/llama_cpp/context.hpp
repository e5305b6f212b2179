// vramfit/engines/llama_cpp/context.hpp — from the flags a user passes to what llama.cpp uses.
//
// Mirrors the parameter handling of the llama_context constructor (src/llama-context.cpp) and the
// cache sizes chosen by llama_model::create_memory (src/llama-model.cpp) and the
// llama_kv_cache_iswa constructor (src/llama-kv-cache-iswa.cpp), at llama.cpp 1425386f:
//
//   n_ctx      = params.n_ctx, or the training context when 0
//   n_batch    = min(n_ctx, n_batch)          (causal attention; clamped *before* padding)
//   n_ubatch   = min(n_batch, n_ubatch or n_batch when 0)
//   n_ctx      = GGML_PAD(n_ctx, 256)
//   unified:     n_ctx_seq = n_ctx
//   otherwise:   n_ctx_seq = GGML_PAD(n_ctx / n_seq, 256), n_ctx = n_ctx_seq * n_seq
//   KV cells per stream      = n_ctx_seq (create_memory passes cparams.n_ctx_seq as kv_size)
//   SWA KV cells per stream  = GGML_PAD(min(n_ctx_seq, n_swa * (unified ? n_seq : 1) + n_ubatch), 256),
//                              or n_ctx_seq with --swa-full
#pragma once

#include <cstdint>
#include <limits>

#include "vramfit/engines/llama_cpp/context_params.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"

namespace vramfit::llama_cpp {

// LLAMA_MAX_SEQ (src/llama-cparams.h).
inline constexpr std::uint32_t max_sequences = 256;

// The context padding of the llama_context constructor (GGML_PAD(n_ctx, 256); see
// https://github.com/ggml-org/llama.cpp/pull/17046) and the SWA cache padding of
// llama_kv_cache_iswa ("the SWA cache is always padded to 256").
inline constexpr std::uint32_t context_padding = 256;

// Alignment of the CPU (and CPU_REPACK) buffer types: TENSOR_ALIGNMENT (ggml/src/ggml-impl.h),
// returned by their get_alignment; every tensor of a buffer is padded to it
// (ggml_backend_alloc_ctx_tensors_from_buft, ggml/src/ggml-alloc.c).
inline constexpr std::uint64_t cpu_buffer_alignment = 32;

namespace detail {

[[nodiscard]] constexpr std::uint64_t pad_cells(std::uint64_t n, std::uint64_t to = context_padding) noexcept {
    return (n + to - 1) / to * to;
}

// Recurrent-only architectures (llm_arch_is_recurrent, src/llama-arch.cpp): their memory is a
// llama_memory_recurrent, with no attention cache at all.
[[nodiscard]] constexpr bool is_recurrent_architecture(architecture arch) noexcept {
    return arch == architecture::mamba2;
}

// Hybrid architectures (llm_arch_is_hybrid): a llama_memory_hybrid, i.e. a KV cache for the
// attention layers plus a recurrent state for the recurrent layers.
[[nodiscard]] constexpr bool is_hybrid_architecture(architecture arch) noexcept {
    return arch == architecture::granitehybrid || arch == architecture::lfm2 || arch == architecture::jamba;
}

// Does any layer get a slot in an attention KV cache?
[[nodiscard]] constexpr bool has_attention_cache(const hyperparameters& hp) noexcept {
    if (is_recurrent_architecture(hp.arch)) return false;
    if (!is_hybrid_architecture(hp.arch)) return hp.n_layer > 0;
    for (const auto& layer : hp.layers) {
        if (!layer.recurrent) return true;
    }
    return false;
}

// create_memory builds an iSWA cache (two llama_kv_cache) when hparams.swa_type != NONE. A
// model whose SWA layers the engine ignores (phi3) has swa_type none in its description.
[[nodiscard]] constexpr bool has_swa_cache(const hyperparameters& hp) noexcept {
    if (hp.swa_type == swa_kind::none || !has_attention_cache(hp)) return false;
    for (const auto& layer : hp.layers) {
        if (layer.swa && !layer.recurrent) return true;
    }
    return false;
}

// The cache types llama.cpp's common argument parser accepts for -ctk / -ctv
// (kv_cache_types in common/arg.cpp).
[[nodiscard]] constexpr bool is_kv_cache_type(ggml_type type) noexcept {
    switch (type) {
        case ggml_type::f32: case ggml_type::f16: case ggml_type::bf16: case ggml_type::q8_0:
        case ggml_type::q4_0: case ggml_type::q4_1: case ggml_type::iq4_nl: case ggml_type::q5_0:
        case ggml_type::q5_1:
            return true;
        default:
            return false;
    }
}

} // namespace detail

// Resolve the requested settings into the values the engine allocates with. Errors name the
// offending setting: a context of 0 without a training context, more than LLAMA_MAX_SEQ
// sequences, a batch of 0, a cache type the engine rejects, quantized V without flash attention
// (rejected by the llama_context constructor), or a KV row that is not a whole number of blocks.
[[nodiscard]] constexpr result<resolved_context> resolve_context(const model_description& model,
                                                                 const context_params& params) {
    const auto& hp = model.hparams;
    resolved_context ctx{};

    if (hp.layers.size() != hp.n_layer) {
        return error{errc::invalid_argument, "model '"}.with(model.name.view())
            .with("': per-layer parameters for ").with_number(hp.layers.size())
            .with(" layers, but n_layer is ").with_number(hp.n_layer);
    }
    if (params.n_seq > max_sequences) {
        return error{errc::invalid_argument, "n_seq (-np) is "}.with_number(params.n_seq)
            .with("; llama.cpp allows at most ").with_number(max_sequences);
    }
    ctx.n_seq = params.n_seq == 0 ? 1 : params.n_seq;  // cparams.n_seq_max = max(1, n_seq_max)

    const std::uint64_t n_ctx_requested = params.n_ctx == 0 ? hp.n_ctx_train : params.n_ctx;
    if (n_ctx_requested == 0) {
        return error{errc::invalid_argument, "n_ctx (-c) is 0 and model '"}.with(model.name.view())
            .with("' has no training context length to default to");
    }
    if (params.n_batch == 0) {
        return error{errc::invalid_argument, "n_batch (-b) must be at least 1"};
    }

    // causal attention: the batch cannot exceed the (unpadded) context
    ctx.n_batch = static_cast<std::uint32_t>(n_ctx_requested < params.n_batch ? n_ctx_requested : params.n_batch);
    const std::uint32_t ubatch = params.n_ubatch == 0 ? params.n_batch : params.n_ubatch;
    ctx.n_ubatch = ubatch < ctx.n_batch ? ubatch : ctx.n_batch;

    std::uint64_t n_ctx = detail::pad_cells(n_ctx_requested);
    std::uint64_t n_ctx_seq = n_ctx;
    ctx.kv_unified = params.kv_unified;
    if (!params.kv_unified) {
        n_ctx_seq = detail::pad_cells(n_ctx / ctx.n_seq);
        n_ctx = n_ctx_seq * ctx.n_seq;
    }
    if (n_ctx > std::numeric_limits<std::uint32_t>::max()) {
        return error{errc::limit_exceeded, "n_ctx (-c) "}.with_number(n_ctx_requested)
            .with(" does not fit llama.cpp's 32-bit context size after padding");
    }
    ctx.n_ctx = static_cast<std::uint32_t>(n_ctx);
    ctx.n_ctx_seq = static_cast<std::uint32_t>(n_ctx_seq);
    ctx.n_stream = params.kv_unified ? 1 : ctx.n_seq;  // llama_kv_cache: n_stream(unified ? 1 : n_seq_max)

    // -fa auto: the llama_context resolves it by checking that the FLASH_ATTN_EXT op lands on
    // the device of its layer; on the CPU backend every layer and the op are on the CPU, so auto
    // resolves to on.
    ctx.flash_attn = params.flash_attn != flash_attention::off;

    for (const ggml_type type : {params.type_k, params.type_v}) {
        if (!detail::is_kv_cache_type(type)) {
            return error{errc::invalid_argument, "KV cache type '"}.with(type_name(type))
                .with("' is not one llama.cpp accepts (f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1)");
        }
    }
    if (!ctx.flash_attn && is_quantized(params.type_v)) {
        return error{errc::invalid_argument, "a quantized V cache (-ctv "}.with(type_name(params.type_v))
            .with(") requires flash attention; llama.cpp refuses it with -fa off");
    }
    ctx.type_k = params.type_k;
    ctx.type_v = params.type_v;
    ctx.swa_full = params.swa_full;
    ctx.use_mmap = params.use_mmap;
    ctx.repack = params.repack;

    if (detail::has_attention_cache(hp)) {
        // every cached row must be a whole number of quantization blocks (ggml_row_size asserts)
        for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
            if (detail::is_hybrid_architecture(hp.arch) && hp.layers[il].recurrent) continue;
            const std::uint64_t wide[2] = {std::uint64_t{hp.n_embd_head_k} * hp.layers[il].n_head_kv,
                                           std::uint64_t{hp.n_embd_head_v} * hp.layers[il].n_head_kv};
            if (wide[0] > std::numeric_limits<std::uint32_t>::max() || wide[1] > std::numeric_limits<std::uint32_t>::max()) {
                return error{errc::limit_exceeded, "layer "}.with_number(il)
                    .with(": KV row width (head size x KV heads) does not fit 32 bits");
            }
            const std::uint32_t widths[2] = {hp.n_embd_k_gqa(il), hp.n_embd_v_gqa(il)};
            const ggml_type types[2] = {ctx.type_k, ctx.type_v};
            for (int i = 0; i < 2; ++i) {
                // a cache tensor of more than 2^56 bytes only comes from absurd hyper-parameters;
                // refusing it keeps every later sum far from 64-bit overflow
                const std::uint64_t row = row_size(types[i], widths[i]).count();
                if (row != 0 && n_ctx > (std::uint64_t{1} << 56) / row) {
                    return error{errc::limit_exceeded, "layer "}.with_number(il)
                        .with(": the KV cache tensor would exceed 2^56 bytes");
                }
                if (widths[i] % block_size(types[i]) != 0) {
                    return error{errc::invalid_argument, "layer "}.with_number(il).with(": KV row of ")
                        .with_number(widths[i]).with(" elements is not a multiple of the ")
                        .with(type_name(types[i])).with(" block size ").with_number(block_size(types[i]));
                }
            }
        }
        ctx.kv_cells = ctx.n_ctx_seq;
        if (detail::has_swa_cache(hp)) {
            if (params.swa_full) {
                ctx.kv_swa_cells = ctx.n_ctx_seq;
            } else {
                const std::uint64_t window = static_cast<std::uint64_t>(hp.n_swa) * (params.kv_unified ? ctx.n_seq : 1)
                                           + ctx.n_ubatch;
                const std::uint64_t cells = window < ctx.n_ctx_seq ? window : ctx.n_ctx_seq;
                ctx.kv_swa_cells = static_cast<std::uint32_t>(detail::pad_cells(cells));
            }
        }
    }
    return ctx;
}

} // namespace vramfit::llama_cpp
