// vramfit/engines/llama_cpp/output_buffer.hpp — the host buffer that receives the logits.
//
// Mirrors llama_context::output_reserve (src/llama-context.cpp) as the llama_context constructor
// calls it, output_reserve(n_seq_max), at llama.cpp 1425386f:
//   n_outputs_max = max(n_outputs, n_seq_max) = max(1, n_seq)
//   size          = n_vocab * n_outputs_max * sizeof(float)       (logits; embeddings off)
// allocated in the CPU buffer type (a host buffer of the output device when there is a GPU; the
// same size). No backend samplers are configured by llama-cli/llama-server by default, so their
// extra logits/probs/token rows are not reserved. The buffer grows later only when a batch asks
// for more logits than that.
#pragma once

#include <cstdint>

#include "vramfit/engines/llama_cpp/context_params.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::llama_cpp {

[[nodiscard]] constexpr bytes output_buffer_bytes(const hyperparameters& hp, const resolved_context& ctx) noexcept {
    const std::uint64_t n_outputs_max = ctx.n_seq == 0 ? 1 : ctx.n_seq;
    return bytes{static_cast<std::uint64_t>(hp.n_vocab) * n_outputs_max * sizeof(float)};
}

[[nodiscard]] constexpr bytes output_buffer_bytes(const model_description& model, const resolved_context& ctx) noexcept {
    return output_buffer_bytes(model.hparams, ctx);
}

} // namespace vramfit::llama_cpp
