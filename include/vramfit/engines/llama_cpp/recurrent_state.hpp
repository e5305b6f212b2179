// vramfit/engines/llama_cpp/recurrent_state.hpp — the recurrent state of Mamba-style layers.
//
// Mirrors the llama_memory_recurrent constructor (src/llama-memory-recurrent.cpp) as
// llama_model::create_memory (src/llama-model.cpp) builds it at llama.cpp 1425386f: for every
// recurrent layer one r tensor [n_embd_r, mem_size] and one s tensor [n_embd_s, mem_size], both
// F32 (create_memory passes GGML_TYPE_F32 for both, whatever -ctk/-ctv say), with
// mem_size = max(1, n_seq_max) cells — one state per sequence, independent of n_ctx. Both tensors
// share one buffer allocated with ggml_backend_alloc_ctx_tensors_from_buft.
//
// Widths (llama_hparams::n_embd_r / n_embd_s, src/llama-hparams.cpp):
//   n_embd_r = (ssm_d_conv - 1) * (ssm_d_inner + 2 * ssm_n_group * ssm_d_state)   (conv state)
//            = n_embd * (shortconv_l_cache - 1)                                    (lfm2)
//   n_embd_s = ssm_d_state * ssm_d_inner                                           (ssm state)
// For lfm2 the description carries shortconv.l_cache in ssm_d_conv (engines/llama_cpp/model.hpp keeps
// the conv kernel width of every family in that one field).
#pragma once

#include <cstdint>

#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/kv_cache.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::llama_cpp {

// What "llama_memory_recurrent: size = ... (cells, layers, seqs), R (f32): ..., S (f32): ..."
// and its "RS buffer size" line report.
struct recurrent_state_size {
    std::uint32_t cells = 0;   // mem_size = max(1, n_seq)
    std::uint32_t layers = 0;
    bytes r{};                 // conv states, all layers and cells
    bytes s{};                 // ssm states
    bytes buffer{};            // the allocated buffer (tensors padded to the buffer alignment)

    [[nodiscard]] constexpr bytes total() const noexcept { return r + s; }
};

// llama_hparams::n_embd_r()
[[nodiscard]] constexpr std::uint64_t recurrent_conv_width(const hyperparameters& hp) noexcept {
    if (hp.arch == architecture::lfm2) {
        return hp.ssm_d_conv > 0 ? static_cast<std::uint64_t>(hp.n_embd) * (hp.ssm_d_conv - 1) : 0;
    }
    const std::uint64_t kernel = hp.ssm_d_conv > 0 ? hp.ssm_d_conv - 1 : 0;
    return kernel * (static_cast<std::uint64_t>(hp.ssm_d_inner) + 2ULL * hp.ssm_n_group * hp.ssm_d_state);
}

// llama_hparams::n_embd_s()
[[nodiscard]] constexpr std::uint64_t recurrent_state_width(const hyperparameters& hp) noexcept {
    return static_cast<std::uint64_t>(hp.ssm_d_state) * hp.ssm_d_inner;
}

// The recurrent state for a resolved context; zero for models without recurrent layers.
[[nodiscard]] constexpr recurrent_state_size recurrent_state_bytes(const hyperparameters& hp,
                                                                   const resolved_context& ctx) noexcept {
    recurrent_state_size state{};
    const bool recurrent_only = detail::is_recurrent_architecture(hp.arch);
    if (!recurrent_only && !detail::is_hybrid_architecture(hp.arch)) return state;
    if (hp.layers.size() != hp.n_layer) return state;

    state.cells = ctx.n_seq == 0 ? 1 : ctx.n_seq;
    const bytes r_layer = row_size(ggml_type::f32, static_cast<std::int64_t>(recurrent_conv_width(hp))) * state.cells;
    const bytes s_layer = row_size(ggml_type::f32, static_cast<std::int64_t>(recurrent_state_width(hp))) * state.cells;
    for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
        // pure recurrent models keep every layer (no filter); hybrids keep is_recurrent(il)
        if (!recurrent_only && !hp.layers[il].recurrent) continue;
        ++state.layers;
        state.r += r_layer;
        state.s += s_layer;
        state.buffer += pad_to(r_layer, cpu_buffer_alignment) + pad_to(s_layer, cpu_buffer_alignment);
    }
    if (state.layers == 0) return recurrent_state_size{};
    return state;
}

[[nodiscard]] constexpr recurrent_state_size recurrent_state_bytes(const model_description& model,
                                                                   const resolved_context& ctx) noexcept {
    return recurrent_state_bytes(model.hparams, ctx);
}

} // namespace vramfit::llama_cpp
