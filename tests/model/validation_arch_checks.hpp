// The checks on the architectures added for the catalog's common models (llama4, gptneox, glm4,
// command-r) that test_validation_archs.cpp runs at run time and static_validation_archs.cpp
// evaluates at compile time: hyper-parameter rules, tensor layouts and KV caches.
#pragma once

#include <cstdint>
#include <string_view>

#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/kv_cache.hpp"

namespace validation_arch_checks {

using namespace vramfit;
using namespace vramfit::llama_cpp;

// ---- hyper-parameter rules (src/models/<arch>.cpp, load_arch_hparams) ----------------------

struct layer_counts {
    std::uint32_t swa = 0, moe = 0;
};
constexpr layer_counts count_layers(const catalog::model_entry& entry) {
    const auto hp = llama_cpp::hyperparameters_of(entry);
    layer_counts c{};
    if (!hp) return {9999, 9999};
    for (const auto& layer : hp->layers) {
        c.swa += layer.swa ? 1 : 0;
        c.moe += layer.n_ff == 0 ? 1 : 0;
    }
    return c;
}

// Llama 4 Scout: chunked attention (LLAMA_SWA_TYPE_CHUNKED, chunk 8192) on 3 of every 4 layers,
// every layer MoE (interleave step 1), L2 q/k norm on (16 experts is not LLM_TYPE_17B_128E).
constexpr bool scout_hparams() {
    const auto hp = llama_cpp::hyperparameters_of(catalog::llama_4_scout::entry);
    return hp && hp->swa_type == swa_kind::chunked && hp->n_swa == 8192 && hp->n_no_rope_layer_step == 4 &&
           hp->use_kq_norm && hp->n_ff_exp == 8192 && hp->layers[2].swa && !hp->layers[3].swa && hp->layers[3].n_ff == 0;
}
// Maverick: MoE on every second layer ((il + 1) % 2 == 0), dense FFN of 16384 elsewhere, no q/k norm.
constexpr bool maverick_hparams() {
    const auto hp = llama_cpp::hyperparameters_of(catalog::llama_4_maverick::entry);
    return hp && !hp->use_kq_norm && hp->layers[0].n_ff == 16384 && hp->layers[1].n_ff == 0 && hp->n_expert == 128;
}

// A llama4 file whose sliding_window key is 0 has no chunked attention, and only its last layer
// skips RoPE (n_no_rope_layer_step = n_layer).
constexpr bool llama4_without_chunks() {
    auto md = *llama_cpp::detail::converter_metadata(catalog::llama_4_scout::entry);
    md.sliding_window = 0;
    const auto hp = derive_hyperparameters(md);
    return hp && hp->swa_type == swa_kind::none && hp->n_no_rope_layer_step == 48 && !hp->layers[0].swa;
}

constexpr bool pythia_hparams() {
    const auto hp = llama_cpp::hyperparameters_of(catalog::pythia_2_8b::entry);
    return hp && hp->use_par_res && hp->n_embd_head_k == 80 && hp->n_rot == 20 && !hp->tied_embeddings;
}
constexpr bool command_r_hparams() {
    const auto hp = llama_cpp::hyperparameters_of(catalog::command_r_v01::entry);
    return hp && hp->tied_embeddings && hp->f_logit_scale == 0.0625f && hp->n_embd_head_k == 128;
}
constexpr bool glm4_hparams() {
    const auto hp = llama_cpp::hyperparameters_of(catalog::glm_4_32b::entry);
    return hp && hp->n_rot == 64 && hp->n_embd_head_k == 128 && !hp->attn_qkv_bias && hp->layers[0].n_head_kv == 2;
}

// ---- tensor layouts (load_arch_tensors) --------------------------------------------------------

constexpr std::size_t tensor_count(const catalog::model_entry& entry) {
    const auto m = llama_cpp::describe_f16(entry);
    return m ? m->tensors.size() : 0;
}
// token_embd, output_norm, output, rope_freqs + 48 x (attn_norm, q, k, v, o, ffn_norm, router,
// 3 expert stacks, 3 shared-expert matrices)
// Maverick: 24 dense layers (9 tensors) and 24 MoE layers (13); no rope_freqs (no rope scaling)
// gptneox: output_norm has a bias; 12 tensors a block (R26-R29 notes: f32 258 + 130 matrices)
// command-r: tied (no output.weight), no ffn_norm: attn_norm, q, k, v, o, gate, down, up
// Command R+ (64 layers): also attn_q_norm {128, 96} and attn_k_norm {128, 8}, F32 (converter: *_norm)
constexpr bool command_r_plus_qk_norm() {
    const auto m = llama_cpp::describe_f16(catalog::command_r_plus::entry);
    if (!m) return false;
    for (const auto& t : m->tensors) {
        if (t.name == std::string_view{"blk.5.attn_k_norm.weight"}) return t.ne[0] == 128 && t.ne[1] == 8 && t.type == ggml_type::f32;
    }
    return false;
}
// glm4: attn_norm, q, k, v, o, post_attention_norm, ffn_norm, down, up (gate|up), post_ffw_norm

// ---- KV caches -------------------------------------------------------------------------------

constexpr resolved_context context_for(const model_description& m, std::uint32_t n_ctx, std::uint32_t n_ubatch, bool fa,
                                       ggml_type k = ggml_type::f16, ggml_type v = ggml_type::f16) {
    context_params p{};
    p.n_ctx = n_ctx;
    p.n_batch = 2048;
    p.n_ubatch = n_ubatch;
    p.flash_attn = fa ? flash_attention::on : flash_attention::off;
    p.type_k = k;
    p.type_v = v;
    return *resolve_context(m, p);
}

// Scout at -c 32768 -ub 512: 12 full layers x 32768 cells; 36 chunked layers in the iSWA SWA
// cache of GGML_PAD(min(32768, 8192 + 512), 256) = 8704 cells (llama_kv_cache_iswa). K and V
// rows are 8 heads x 128 f16.
constexpr bool scout_kv() {
    const auto m = llama_cpp::describe(catalog::llama_4_scout::entry, llama_ftype::mostly_q4_K_M);
    if (!m) return false;
    const auto ctx = context_for(*m, 32768, 512, true);
    const auto kv = kv_cache_bytes(*m, ctx);
    constexpr std::uint64_t row = 8 * 128 * 2;
    return ctx.kv_swa_cells == 8704 && kv.full.layers == 12 && kv.swa.layers == 36 &&
           kv.full.total() == bytes{2 * 12 * 32768 * row} && kv.swa.total() == bytes{2 * 36 * 8704 * row};
}

constexpr std::uint64_t mib_x100(bytes b) { return (b.count() * 100 + 524288) / 1048576; }

// R10 (GLM-Z1-32B, CPU, -c 5120 -ctk q8_0 -ctv q8_0 -fa): K 81.02 + V 81.02 = 162.03 MiB printed.
constexpr bool glm4_kv_r10() {
    const auto m = llama_cpp::describe("glm-4-32b:IQ4_XS");
    if (!m) return false;
    const auto kv = kv_cache_bytes(*m, context_for(*m, 5120, 512, true, ggml_type::q8_0, ggml_type::q8_0));
    return mib_x100(kv.k()) == 8102 && mib_x100(kv.v()) == 8102 && mib_x100(kv.buffers()) == 16203;
}

} // namespace validation_arch_checks
