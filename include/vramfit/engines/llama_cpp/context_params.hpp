// vramfit/engines/llama_cpp/context_params.hpp — llama.cpp's context settings, as asked and as used.
//
// `context_params` holds what a user passes on the command line (llama.cpp's own flag names in
// the comments). `resolved_context` holds what the engine actually uses after padding and
// clamping (the values llama.cpp prints in its `llama_context:` lines); every memory formula
// takes the resolved values. The resolution itself lives in context.hpp.
#pragma once

#include <cstdint>

#include "vramfit/model/dtype.hpp"

namespace vramfit::llama_cpp {

enum class flash_attention : std::uint8_t { off, on, automatic };  // -fa off|on|auto

// CPU weight repacking (ggml-cpu "extra" buffer types, ggml/src/ggml-cpu/repack.cpp).
// `host` follows the ISA of the machine running vramfit; the named ISAs describe another machine.
enum class repack_mode : std::uint8_t { host, off, avx2, avx512, neon_dotprod, neon_i8mm, sve };

struct context_params {
    std::uint32_t n_ctx = 4096;        // -c, --ctx-size (0 = the model's training context)
    std::uint32_t n_batch = 2048;      // -b, --batch-size
    std::uint32_t n_ubatch = 512;      // -ub, --ubatch-size
    std::uint32_t n_seq = 1;           // -np, --parallel
    bool kv_unified = false;           // -kvu, --kv-unified
    flash_attention flash_attn = flash_attention::automatic;  // -fa
    ggml_type type_k = ggml_type::f16; // -ctk, --cache-type-k
    ggml_type type_v = ggml_type::f16; // -ctv, --cache-type-v
    bool swa_full = false;             // --swa-full
    bool use_mmap = true;              // --no-mmap / -lm none turn it off
    repack_mode repack = repack_mode::host;  // --repack on|off|ISA (-nr = off)
};

// What the engine uses (llama_context constructor, src/llama-context.cpp).
struct resolved_context {
    std::uint32_t n_ctx = 0;        // padded total context (cells of a unified cache)
    std::uint32_t n_ctx_seq = 0;    // cells per stream
    std::uint32_t n_batch = 0;
    std::uint32_t n_ubatch = 0;
    std::uint32_t n_seq = 1;
    std::uint32_t n_stream = 1;     // KV streams: 1 if unified, else n_seq
    bool kv_unified = false;
    bool flash_attn = false;        // after `auto` is decided
    ggml_type type_k = ggml_type::f16;
    ggml_type type_v = ggml_type::f16;
    bool swa_full = false;
    std::uint32_t kv_cells = 0;     // full-attention cache cells per stream
    std::uint32_t kv_swa_cells = 0; // SWA cache cells per stream (0 without SWA layers)
    bool use_mmap = true;
    repack_mode repack = repack_mode::host;
    // The graphs of the builds the validation logs come from (b4343..b5781), not of 1425386f:
    // the KQ mask is an F32 input cast to F16 for flash attention (now an F16 input), the KV
    // cache is written through ggml_cpy into views (no k_idxs / v_idxs inputs for
    // ggml_set_rows), build_inp_embd has no second (embeddings) input, a quantized cache gets no
    // Hadamard rotation inputs (attn_rot_k / attn_rot_v), attention expands q, k, v in that
    // order (llm_build_kv / build_attn), and GPT-NeoX copies Q, K and V out of the fused QKV
    // product (ggml_cont of each view, b4343's build_gptneox). Only the compute buffers change.
    bool legacy_graph = false;
};

} // namespace vramfit::llama_cpp
