// vramfit/engines/llama_cpp/model.hpp — a model as llama.cpp loads it.
//
// One description, whatever the source (GGUF header, catalog entry): the hyper-parameters the
// engine's allocation depends on, per layer where the engine keeps per-layer arrays
// (llama.cpp: src/llama-hparams.h, LLAMA_MAX_LAYERS arrays n_head_arr, n_head_kv_arr,
// n_ff_arr, swa_layers, recurrent_layer_arr), and the tensor list with ggml types in file
// order. Nothing downstream knows where the description came from.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/fixed_string.hpp"
#include "vramfit/model/tensor.hpp"

namespace vramfit {

// Architectures whose allocation rules vramfit models (the `general.architecture` string is
// `architecture_name`). Order is stable; append only.
enum class architecture : std::uint8_t {
    llama, qwen2, qwen3, qwen3moe, gemma2, gemma3, phi3, deepseek2, gpt_oss,
    mamba2, granitehybrid, lfm2, jamba,
    mistral3, qwen2moe, glm4, command_r, cohere2, gemma, phi2, starcoder2, gptneox, llama4, deepseek, glm4moe,
};

// LLAMA_MAX_LAYERS (src/llama-hparams.h).
inline constexpr std::uint32_t max_layers = 512;

// llama_swa_type (src/llama-hparams.h).
enum class swa_kind : std::uint8_t { none, standard, chunked, symmetric };

// Per-layer parameters (the engine's per-layer arrays, one entry per block).
struct layer_params {
    std::uint32_t n_head = 0;
    std::uint32_t n_head_kv = 0;  // 0 for layers without attention (recurrent layers of a hybrid)
    std::uint32_t n_ff = 0;       // dense FFN width; 0 for MoE-only layers
    bool swa = false;             // hparams.is_swa(il)
    bool recurrent = false;       // hparams.is_recurrent(il)
};

struct hyperparameters {
    architecture arch = architecture::llama;
    std::uint32_t n_layer = 0;
    std::uint32_t n_embd = 0;
    std::uint32_t n_vocab = 0;
    std::uint32_t n_ctx_train = 0;
    std::uint32_t n_embd_head_k = 0;  // per-head K width (for MLA: the engine's cache width, kv_lora + rope)
    std::uint32_t n_embd_head_v = 0;
    std::uint32_t n_rot = 0;

    // Mixture of experts.
    std::uint32_t n_expert = 0;
    std::uint32_t n_expert_used = 0;
    std::uint32_t n_expert_shared = 0;
    std::uint32_t n_ff_exp = 0;
    std::uint32_t n_ff_shexp = 0;
    std::uint32_t n_layer_dense_lead = 0;

    // Sliding-window attention.
    swa_kind swa_type = swa_kind::none;
    std::uint32_t n_swa = 0;

    // Multi-head latent attention (deepseek2): ranks and the full per-head sizes.
    std::uint32_t n_lora_q = 0;
    std::uint32_t n_lora_kv = 0;
    std::uint32_t n_embd_head_k_mla = 0;
    std::uint32_t n_embd_head_v_mla = 0;

    // Recurrent state (mamba2 / hybrids: ssm.*, lfm2: shortconv.*).
    std::uint32_t ssm_d_conv = 0;
    std::uint32_t ssm_d_inner = 0;
    std::uint32_t ssm_d_state = 0;
    std::uint32_t ssm_n_group = 0;
    std::uint32_t ssm_dt_rank = 0;
    std::uint32_t ssm_n_head = 0;  // mamba2 heads (ssm.time_step_rank)

    bool tied_embeddings = false;  // no output.weight: the logits reuse token_embd
    // The file has the optional q/k/v biases (create_tensor(..., TENSOR_NOT_REQUIRED)); the glm4
    // graph adds them only when present (src/models/glm4.cpp: if (model.layers[il].bq) ...).
    bool attn_qkv_bias = false;

    // llama4 (src/models/llama4.cpp, load_arch_hparams): every n_moe_layer_step-th layer is MoE
    // ((il + 1) % step == 0; those layers have n_ff 0 here), every n_no_rope_layer_step-th layer
    // skips RoPE (llama_hparams default 4; n_layer when the file disables chunked attention), and
    // use_kq_norm (L2-normed q/k on RoPE layers) is off for the 128-expert model (LLM_TYPE_17B_128E).
    std::uint32_t n_moe_layer_step = 0;
    std::uint32_t n_no_rope_layer_step = 0;
    bool use_kq_norm = false;

    // gptneox: hparams.use_par_res (<arch>.use_parallel_residual): attention and FFN read the same
    // input and are summed (Pythia), else they run one after the other.
    bool use_par_res = false;

    // command-r: hparams.f_logit_scale (<arch>.logit_scale); non-zero scales the logits (one node).
    float f_logit_scale = 0.0f;

    std::vector<layer_params> layers;  // n_layer entries

    // llama_hparams::is_mla(): both MLA head sizes are set (the cache then holds the latent only).
    [[nodiscard]] constexpr bool is_mla() const noexcept { return n_embd_head_k_mla != 0 && n_embd_head_v_mla != 0; }

    // llama_hparams::n_embd_k_gqa / n_embd_v_gqa
    [[nodiscard]] constexpr std::uint32_t n_embd_k_gqa(std::uint32_t il) const { return n_embd_head_k * layers[il].n_head_kv; }
    [[nodiscard]] constexpr std::uint32_t n_embd_v_gqa(std::uint32_t il) const { return n_embd_head_v * layers[il].n_head_kv; }
};

struct model_description {
    fixed_string<128> name;       // general.name or the catalog key
    hyperparameters hparams;
    std::vector<tensor_info> tensors;     // in file order (split files concatenated in split order)
    std::vector<source_file> files;       // one per split file; one entry for a catalog model

    [[nodiscard]] constexpr bytes weight_bytes() const {
        bytes total{};
        for (const auto& t : tensors) total += t.size();
        return total;
    }
    [[nodiscard]] constexpr std::uint64_t parameter_count() const {
        std::uint64_t total = 0;
        for (const auto& t : tensors) total += static_cast<std::uint64_t>(t.n_elements());
        return total;
    }
};

// Lay tensors out in list order the way a GGUF writer does (gguf.cpp, gguf_add_tensor):
// each tensor's data starts at the previous end padded to the file's alignment. Used for
// catalog models, which have no file to read offsets from.
constexpr void assign_offsets(model_description& model) {
    const std::uint64_t alignment = model.files.empty() ? 32 : model.files.front().alignment;
    std::uint64_t offset = 0;
    for (auto& t : model.tensors) {
        t.offset = offset;
        offset = pad_to(bytes{offset + t.size().count()}, alignment).count();
    }
}

} // namespace vramfit
