// vramfit/catalog/models.hpp — built-in models: published config.json facts, nothing derived.
//
// Each entry copies the numbers of one Hugging Face config.json (URL in `source`). Everything
// else — the GGUF keys the converter would write, the engine's hyper-parameter rules, the tensor
// list, quantization and layout — is computed by each engine from these facts
// (engines/llama_cpp/from_catalog.hpp: the same code that reads real GGUF files), so no formula
// hides in an entry and the catalog parses no quantization name.
//
//   const auto& entry = vramfit::catalog::model<"llama-3.1-8b">::entry;   // a typo does not compile
//   auto model = vramfit::llama_cpp::describe("llama-3.1-8b:Q4_K_M");     // llama.cpp's view of it
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "vramfit/core/detail/ascii.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/fixed_string.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"  // the architecture enum (LLM_ARCH names)

namespace vramfit::catalog {

struct model_entry {
    std::string_view key{};           // "llama-3.1-8b"
    std::string_view display_name{};  // "Llama-3.1-8B"
    architecture arch = architecture::llama;

    // config.json: num_hidden_layers, hidden_size, num_attention_heads, num_key_value_heads,
    // head_dim, intermediate_size, vocab_size, max_position_embeddings.
    std::uint32_t n_layer = 0;
    std::uint32_t n_embd = 0;
    std::uint32_t n_head = 0;
    std::uint32_t n_head_kv = 0;
    std::uint32_t head_dim = 0;
    std::uint32_t n_ff = 0;
    std::uint32_t n_vocab = 0;
    std::uint32_t n_ctx_train = 0;

    // Mixture of experts: num_local_experts / num_experts, num_experts_per_tok,
    // moe_intermediate_size (0: the experts use n_ff, as Mixtral), n_shared_experts,
    // first_k_dense_replace.
    std::uint32_t n_expert = 0;
    std::uint32_t n_expert_used = 0;
    std::uint32_t n_ff_exp = 0;
    std::uint32_t n_expert_shared = 0;
    std::uint32_t n_layer_dense_lead = 0;

    // sliding_window and the layer period of the window pattern (0: the architecture's default).
    std::uint32_t n_swa = 0;
    std::uint32_t swa_period = 0;

    // Multi-head latent attention: q_lora_rank (0 = none), kv_lora_rank, qk_nope_head_dim,
    // qk_rope_head_dim, v_head_dim.
    std::uint32_t q_lora_rank = 0;
    std::uint32_t kv_lora_rank = 0;
    std::uint32_t qk_nope_head_dim = 0;
    std::uint32_t qk_rope_head_dim = 0;
    std::uint32_t v_head_dim = 0;

    // Mamba-2: d_conv, d_inner (expand·d_model), d_state, heads (d_inner / headdim), ngroups.
    std::uint32_t ssm_d_conv = 0;
    std::uint32_t ssm_d_inner = 0;
    std::uint32_t ssm_d_state = 0;
    std::uint32_t ssm_n_head = 0;
    std::uint32_t ssm_n_group = 0;

    // LFM2: conv_L_cache, and full_attn_idxs as a bit mask (bit il set: layer il is attention,
    // the others are short-convolution layers; 0: every layer is attention).
    std::uint32_t conv_l_cache = 0;
    std::uint64_t attention_layer_mask = 0;

    bool tied_embeddings = false;  // tie_word_embeddings: no output.weight
    bool rope_freqs = false;       // rope_scaling.rope_type "llama3": the converter writes rope_freqs.weight
    bool attn_qkv_bias = false;    // attention_bias on a llama-family model
    bool expert_probs_bias = false;  // topk_method "noaux_tc": the router's e_score_correction_bias

    // The rotary width when it is not the head size: rotary_pct·head (GPT-NeoX) or
    // partial_rotary_factor·head_dim (GLM-4); the converter writes it as rope.dimension_count.
    std::uint32_t rope_dim = 0;
    std::uint32_t moe_layer_step = 0;   // Llama 4: interleave_moe_layer_step
    float logit_scale = 0.0f;           // Command-R: logit_scale
    bool parallel_residual = false;     // GPT-NeoX: use_parallel_residual

    std::string_view default_ftype = "Q4_K_M";  // a bare key means this quantization
    // The format the published checkpoint's weights are already in ("MXFP4_MOE" for gpt-oss:
    // MXFP4 experts). Asking for it gives the converter's output, as the official GGUF release
    // is made, rather than llama-quantize's re-typing of an F16 conversion.
    std::string_view native_ftype = "";
    std::string_view source{};                    // the config.json read
};

inline constexpr std::array<model_entry, 48> models{{
    // https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json
    {.key = "llama-3.1-8b", .display_name = "Llama-3.1-8B", .arch = architecture::llama, .n_layer = 32, .n_embd = 4096,
     .n_head = 32, .n_head_kv = 8, .head_dim = 128, .n_ff = 14336, .n_vocab = 128256, .n_ctx_train = 131072,
     .rope_freqs = true, .source = "https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json"},
    // https://huggingface.co/meta-llama/Llama-3.2-1B/blob/main/config.json
    {.key = "llama-3.2-1b", .display_name = "Llama-3.2-1B", .arch = architecture::llama, .n_layer = 16, .n_embd = 2048,
     .n_head = 32, .n_head_kv = 8, .head_dim = 64, .n_ff = 8192, .n_vocab = 128256, .n_ctx_train = 131072,
     .tied_embeddings = true, .rope_freqs = true, .source = "https://huggingface.co/meta-llama/Llama-3.2-1B/blob/main/config.json"},
    // https://huggingface.co/mistralai/Mistral-7B-v0.3/blob/main/config.json
    {.key = "mistral-7b-v0.3", .display_name = "Mistral-7B-v0.3", .arch = architecture::llama, .n_layer = 32, .n_embd = 4096,
     .n_head = 32, .n_head_kv = 8, .head_dim = 128, .n_ff = 14336, .n_vocab = 32768, .n_ctx_train = 32768,
     .source = "https://huggingface.co/mistralai/Mistral-7B-v0.3/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/config.json
    {.key = "qwen2.5-7b", .display_name = "Qwen2.5-7B-Instruct", .arch = architecture::qwen2, .n_layer = 28, .n_embd = 3584,
     .n_head = 28, .n_head_kv = 4, .head_dim = 128, .n_ff = 18944, .n_vocab = 152064, .n_ctx_train = 32768,
     .source = "https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/config.json"},
    // https://huggingface.co/google/gemma-3-12b-it/blob/main/config.json (text_config)
    {.key = "gemma-3-12b", .display_name = "Gemma-3-12B-it", .arch = architecture::gemma3, .n_layer = 48, .n_embd = 3840,
     .n_head = 16, .n_head_kv = 8, .head_dim = 256, .n_ff = 15360, .n_vocab = 262208, .n_ctx_train = 131072,
     .n_swa = 1024, .swa_period = 6, .tied_embeddings = true,
     .source = "https://huggingface.co/google/gemma-3-12b-it/blob/main/config.json"},
    // https://huggingface.co/google/gemma-2-9b/blob/main/config.json
    {.key = "gemma-2-9b", .display_name = "Gemma-2-9B", .arch = architecture::gemma2, .n_layer = 42, .n_embd = 3584,
     .n_head = 16, .n_head_kv = 8, .head_dim = 256, .n_ff = 14336, .n_vocab = 256000, .n_ctx_train = 8192,
     .n_swa = 4096, .tied_embeddings = true, .source = "https://huggingface.co/google/gemma-2-9b/blob/main/config.json"},
    // https://huggingface.co/microsoft/Phi-3-mini-4k-instruct/blob/main/config.json
    {.key = "phi-3-mini-4k", .display_name = "Phi-3-mini-4k-instruct", .arch = architecture::phi3, .n_layer = 32,
     .n_embd = 3072, .n_head = 32, .n_head_kv = 32, .head_dim = 96, .n_ff = 8192, .n_vocab = 32064, .n_ctx_train = 4096,
     .n_swa = 2047, .source = "https://huggingface.co/microsoft/Phi-3-mini-4k-instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-30B-A3B/blob/main/config.json
    {.key = "qwen3-30b-a3b", .display_name = "Qwen3-30B-A3B", .arch = architecture::qwen3moe, .n_layer = 48, .n_embd = 2048,
     .n_head = 32, .n_head_kv = 4, .head_dim = 128, .n_ff = 6144, .n_vocab = 151936, .n_ctx_train = 40960,
     .n_expert = 128, .n_expert_used = 8, .n_ff_exp = 768,
     .source = "https://huggingface.co/Qwen/Qwen3-30B-A3B/blob/main/config.json"},
    // https://huggingface.co/mistralai/Mixtral-8x7B-v0.1/blob/main/config.json
    {.key = "mixtral-8x7b", .display_name = "Mixtral-8x7B-v0.1", .arch = architecture::llama, .n_layer = 32, .n_embd = 4096,
     .n_head = 32, .n_head_kv = 8, .head_dim = 128, .n_ff = 14336, .n_vocab = 32000, .n_ctx_train = 32768,
     .n_expert = 8, .n_expert_used = 2, .source = "https://huggingface.co/mistralai/Mixtral-8x7B-v0.1/blob/main/config.json"},
    // https://huggingface.co/openai/gpt-oss-20b/blob/main/config.json (released as MXFP4 experts)
    {.key = "gpt-oss-20b", .display_name = "gpt-oss-20b", .arch = architecture::gpt_oss, .n_layer = 24, .n_embd = 2880,
     .n_head = 64, .n_head_kv = 8, .head_dim = 64, .n_ff = 2880, .n_vocab = 201088, .n_ctx_train = 131072,
     .n_expert = 32, .n_expert_used = 4, .n_ff_exp = 2880, .n_swa = 128, .default_ftype = "MXFP4_MOE",
     .native_ftype = "MXFP4_MOE", .source = "https://huggingface.co/openai/gpt-oss-20b/blob/main/config.json"},
    // https://huggingface.co/deepseek-ai/DeepSeek-V2-Lite/blob/main/config.json
    {.key = "deepseek-v2-lite", .display_name = "DeepSeek-V2-Lite", .arch = architecture::deepseek2, .n_layer = 27,
     .n_embd = 2048, .n_head = 16, .n_head_kv = 16, .n_ff = 10944, .n_vocab = 102400, .n_ctx_train = 163840,
     .n_expert = 64, .n_expert_used = 6, .n_ff_exp = 1408, .n_expert_shared = 2, .n_layer_dense_lead = 1,
     .kv_lora_rank = 512, .qk_nope_head_dim = 128, .qk_rope_head_dim = 64, .v_head_dim = 128,
     .source = "https://huggingface.co/deepseek-ai/DeepSeek-V2-Lite/blob/main/config.json"},

    // More models people run (same rules; not in the CPU oracle).
    // https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct/blob/main/config.json
    {.key = "llama-3.3-70b", .display_name = "Llama-3.3-70B-Instruct", .arch = architecture::llama, .n_layer = 80,
     .n_embd = 8192, .n_head = 64, .n_head_kv = 8, .head_dim = 128, .n_ff = 28672, .n_vocab = 128256, .n_ctx_train = 131072,
     .rope_freqs = true, .source = "https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-72B-Instruct/blob/main/config.json
    {.key = "qwen2.5-72b", .display_name = "Qwen2.5-72B-Instruct", .arch = architecture::qwen2, .n_layer = 80, .n_embd = 8192,
     .n_head = 64, .n_head_kv = 8, .head_dim = 128, .n_ff = 29568, .n_vocab = 152064, .n_ctx_train = 32768,
     .source = "https://huggingface.co/Qwen/Qwen2.5-72B-Instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-8B/blob/main/config.json
    {.key = "qwen3-8b", .display_name = "Qwen3-8B", .arch = architecture::qwen3, .n_layer = 36, .n_embd = 4096,
     .n_head = 32, .n_head_kv = 8, .head_dim = 128, .n_ff = 12288, .n_vocab = 151936, .n_ctx_train = 40960,
     .source = "https://huggingface.co/Qwen/Qwen3-8B/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-32B/blob/main/config.json
    {.key = "qwen3-32b", .display_name = "Qwen3-32B", .arch = architecture::qwen3, .n_layer = 64, .n_embd = 5120,
     .n_head = 64, .n_head_kv = 8, .head_dim = 128, .n_ff = 25600, .n_vocab = 151936, .n_ctx_train = 40960,
     .source = "https://huggingface.co/Qwen/Qwen3-32B/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-235B-A22B/blob/main/config.json
    {.key = "qwen3-235b-a22b", .display_name = "Qwen3-235B-A22B", .arch = architecture::qwen3moe, .n_layer = 94,
     .n_embd = 4096, .n_head = 64, .n_head_kv = 4, .head_dim = 128, .n_ff = 12288, .n_vocab = 151936, .n_ctx_train = 40960,
     .n_expert = 128, .n_expert_used = 8, .n_ff_exp = 1536,
     .source = "https://huggingface.co/Qwen/Qwen3-235B-A22B/blob/main/config.json"},
    // https://huggingface.co/meta-llama/Llama-3.2-3B/blob/main/config.json
    {.key = "llama-3.2-3b", .display_name = "Llama-3.2-3B", .arch = architecture::llama, .n_layer = 28, .n_embd = 3072,
     .n_head = 24, .n_head_kv = 8, .head_dim = 128, .n_ff = 8192, .n_vocab = 128256, .n_ctx_train = 131072,
     .tied_embeddings = true, .rope_freqs = true, .source = "https://huggingface.co/meta-llama/Llama-3.2-3B/blob/main/config.json"},
    // https://huggingface.co/mistralai/Mistral-Nemo-Instruct-2407/blob/main/config.json (head_dim 128 != 5120/32)
    {.key = "mistral-nemo-12b", .display_name = "Mistral-Nemo-Instruct-2407", .arch = architecture::llama, .n_layer = 40,
     .n_embd = 5120, .n_head = 32, .n_head_kv = 8, .head_dim = 128, .n_ff = 14336, .n_vocab = 131072, .n_ctx_train = 1024000,
     .source = "https://huggingface.co/mistralai/Mistral-Nemo-Instruct-2407/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-14B-Instruct/blob/main/config.json
    {.key = "qwen2.5-14b", .display_name = "Qwen2.5-14B-Instruct", .arch = architecture::qwen2, .n_layer = 48, .n_embd = 5120,
     .n_head = 40, .n_head_kv = 8, .head_dim = 128, .n_ff = 13824, .n_vocab = 152064, .n_ctx_train = 32768,
     .source = "https://huggingface.co/Qwen/Qwen2.5-14B-Instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-32B-Instruct/blob/main/config.json
    {.key = "qwen2.5-32b", .display_name = "Qwen2.5-32B-Instruct", .arch = architecture::qwen2, .n_layer = 64, .n_embd = 5120,
     .n_head = 40, .n_head_kv = 8, .head_dim = 128, .n_ff = 27648, .n_vocab = 152064, .n_ctx_train = 32768,
     .source = "https://huggingface.co/Qwen/Qwen2.5-32B-Instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-4B/blob/main/config.json (tie_word_embeddings)
    {.key = "qwen3-4b", .display_name = "Qwen3-4B", .arch = architecture::qwen3, .n_layer = 36, .n_embd = 2560,
     .n_head = 32, .n_head_kv = 8, .head_dim = 128, .n_ff = 9728, .n_vocab = 151936, .n_ctx_train = 40960,
     .tied_embeddings = true, .source = "https://huggingface.co/Qwen/Qwen3-4B/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-14B/blob/main/config.json
    {.key = "qwen3-14b", .display_name = "Qwen3-14B", .arch = architecture::qwen3, .n_layer = 40, .n_embd = 5120,
     .n_head = 40, .n_head_kv = 8, .head_dim = 128, .n_ff = 17408, .n_vocab = 151936, .n_ctx_train = 40960,
     .source = "https://huggingface.co/Qwen/Qwen3-14B/blob/main/config.json"},
    // https://huggingface.co/google/gemma-2-27b/blob/main/config.json
    {.key = "gemma-2-27b", .display_name = "Gemma-2-27B", .arch = architecture::gemma2, .n_layer = 46, .n_embd = 4608,
     .n_head = 32, .n_head_kv = 16, .head_dim = 128, .n_ff = 36864, .n_vocab = 256000, .n_ctx_train = 8192,
     .n_swa = 4096, .tied_embeddings = true, .source = "https://huggingface.co/google/gemma-2-27b/blob/main/config.json"},
    // https://huggingface.co/microsoft/phi-4/blob/main/config.json (phi3 architecture, no sliding window)
    {.key = "phi-4", .display_name = "phi-4", .arch = architecture::phi3, .n_layer = 40, .n_embd = 5120, .n_head = 40,
     .n_head_kv = 10, .head_dim = 128, .n_ff = 17920, .n_vocab = 100352, .n_ctx_train = 16384,
     .source = "https://huggingface.co/microsoft/phi-4/blob/main/config.json"},
    // https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json: MLA with q LoRA, 3 dense
    // lead layers, 256 routed + 1 shared experts (8 used), noaux_tc router bias. The converter skips
    // the multi-token-prediction layer (model.layers.61), so the file has 61 blocks.
    {.key = "deepseek-v3", .display_name = "DeepSeek-V3", .arch = architecture::deepseek2, .n_layer = 61, .n_embd = 7168,
     .n_head = 128, .n_head_kv = 128, .n_ff = 18432, .n_vocab = 129280, .n_ctx_train = 163840, .n_expert = 256,
     .n_expert_used = 8, .n_ff_exp = 2048, .n_expert_shared = 1, .n_layer_dense_lead = 3, .q_lora_rank = 1536,
     .kv_lora_rank = 512, .qk_nope_head_dim = 128, .qk_rope_head_dim = 64, .v_head_dim = 128, .expert_probs_bias = true,
     .source = "https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json"},
    // https://huggingface.co/deepseek-ai/DeepSeek-R1/blob/main/config.json (the DeepSeek-V3 architecture)
    {.key = "deepseek-r1", .display_name = "DeepSeek-R1", .arch = architecture::deepseek2, .n_layer = 61, .n_embd = 7168,
     .n_head = 128, .n_head_kv = 128, .n_ff = 18432, .n_vocab = 129280, .n_ctx_train = 163840, .n_expert = 256,
     .n_expert_used = 8, .n_ff_exp = 2048, .n_expert_shared = 1, .n_layer_dense_lead = 3, .q_lora_rank = 1536,
     .kv_lora_rank = 512, .qk_nope_head_dim = 128, .qk_rope_head_dim = 64, .v_head_dim = 128, .expert_probs_bias = true,
     .source = "https://huggingface.co/deepseek-ai/DeepSeek-R1/blob/main/config.json"},
    // https://huggingface.co/google/gemma-3-27b-it/blob/main/config.json (text_config)
    {.key = "gemma-3-27b", .display_name = "Gemma-3-27B-it", .arch = architecture::gemma3, .n_layer = 62, .n_embd = 5376,
     .n_head = 32, .n_head_kv = 16, .head_dim = 128, .n_ff = 21504, .n_vocab = 262208, .n_ctx_train = 131072,
     .n_swa = 1024, .swa_period = 6, .tied_embeddings = true,
     .source = "https://huggingface.co/google/gemma-3-27b-it/blob/main/config.json"},
    // https://huggingface.co/openai/gpt-oss-120b/blob/main/config.json
    {.key = "gpt-oss-120b", .display_name = "gpt-oss-120b", .arch = architecture::gpt_oss, .n_layer = 36, .n_embd = 2880,
     .n_head = 64, .n_head_kv = 8, .head_dim = 64, .n_ff = 2880, .n_vocab = 201088, .n_ctx_train = 131072,
     .n_expert = 128, .n_expert_used = 4, .n_ff_exp = 2880, .n_swa = 128, .default_ftype = "MXFP4_MOE",
     .native_ftype = "MXFP4_MOE", .source = "https://huggingface.co/openai/gpt-oss-120b/blob/main/config.json"},
    // https://huggingface.co/state-spaces/mamba2-2.7b/blob/main/config.json: d_model 2560, n_layer 64,
    // vocab 50277 padded to a multiple of 16 (pad_vocab_size_multiple) = 50288, d_state 128,
    // expand 2, headdim 64, ngroups 1, d_conv 4, tied embeddings. The converter writes 2^20 as the
    // context length (Mamba2Model.set_gguf_parameters: no trained limit).
    {.key = "mamba2-2.7b", .display_name = "Mamba2-2.7B", .arch = architecture::mamba2, .n_layer = 64, .n_embd = 2560,
     .n_vocab = 50288, .n_ctx_train = 1048576, .ssm_d_conv = 4, .ssm_d_inner = 5120, .ssm_d_state = 128, .ssm_n_head = 80,
     .ssm_n_group = 1, .tied_embeddings = true,
     .source = "https://huggingface.co/state-spaces/mamba2-2.7b/blob/main/config.json"},
    // https://huggingface.co/LiquidAI/LFM2-1.2B/blob/main/config.json: hidden 2048, 16 layers, 32/8
    // heads, full_attn_idxs [2, 5, 8, 10, 12, 14], conv_L_cache 3, vocab 65536, 128000 positions,
    // tie_embedding. block_ff_dim 12288 with block_auto_adjust_ff_dim: the converter writes
    // 256·ceil(int(2·12288/3)·1.0 / 256) = 8192 (LFM2Model.set_gguf_parameters).
    {.key = "lfm2-1.2b", .display_name = "LFM2-1.2B", .arch = architecture::lfm2, .n_layer = 16, .n_embd = 2048,
     .n_head = 32, .n_head_kv = 8, .head_dim = 64, .n_ff = 8192, .n_vocab = 65536, .n_ctx_train = 128000,
     .conv_l_cache = 3,
     .attention_layer_mask = (1u << 2) | (1u << 5) | (1u << 8) | (1u << 10) | (1u << 12) | (1u << 14),
     .tied_embeddings = true, .source = "https://huggingface.co/LiquidAI/LFM2-1.2B/blob/main/config.json"},

    // Llama 3.1 at the other sizes (same architecture and rope scaling as 8B).
    // https://huggingface.co/meta-llama/Llama-3.1-70B/blob/main/config.json
    {.key = "llama-3.1-70b", .display_name = "Llama-3.1-70B", .arch = architecture::llama, .n_layer = 80, .n_embd = 8192,
     .n_head = 64, .n_head_kv = 8, .head_dim = 128, .n_ff = 28672, .n_vocab = 128256, .n_ctx_train = 131072,
     .rope_freqs = true, .source = "https://huggingface.co/meta-llama/Llama-3.1-70B/blob/main/config.json"},
    // https://huggingface.co/meta-llama/Llama-3.1-405B/blob/main/config.json
    {.key = "llama-3.1-405b", .display_name = "Llama-3.1-405B", .arch = architecture::llama, .n_layer = 126,
     .n_embd = 16384, .n_head = 128, .n_head_kv = 8, .head_dim = 128, .n_ff = 53248, .n_vocab = 128256,
     .n_ctx_train = 131072, .rope_freqs = true,
     .source = "https://huggingface.co/meta-llama/Llama-3.1-405B/blob/main/config.json"},
    // https://huggingface.co/meta-llama/Llama-4-Scout-17B-16E/blob/main/config.json (text_config):
    // 48 layers, hidden 5120, 40/8 heads of 128, intermediate_size 8192 (experts) and
    // intermediate_size_mlp 16384 (dense; the converter writes it as feed_forward_length),
    // 16 experts, 1 used, interleave_moe_layer_step 1 (every layer MoE), vocab 202048,
    // max_position_embeddings 10485760, rope_scaling "llama3" (rope_freqs), use_qk_norm.
    {.key = "llama-4-scout", .display_name = "Llama-4-Scout-17B-16E", .arch = architecture::llama4, .n_layer = 48,
     .n_embd = 5120, .n_head = 40, .n_head_kv = 8, .head_dim = 128, .n_ff = 16384, .n_vocab = 202048,
     .n_ctx_train = 10485760, .n_expert = 16, .n_expert_used = 1, .n_ff_exp = 8192, .rope_freqs = true,
     .moe_layer_step = 1, .source = "https://huggingface.co/meta-llama/Llama-4-Scout-17B-16E/blob/main/config.json"},
    // https://huggingface.co/meta-llama/Llama-4-Maverick-17B-128E/blob/main/config.json (text_config):
    // as Scout but 128 experts on every second layer (interleave_moe_layer_step 2), 1048576
    // positions, no rope scaling, no qk norm.
    {.key = "llama-4-maverick", .display_name = "Llama-4-Maverick-17B-128E", .arch = architecture::llama4,
     .n_layer = 48, .n_embd = 5120, .n_head = 40, .n_head_kv = 8, .head_dim = 128, .n_ff = 16384, .n_vocab = 202048,
     .n_ctx_train = 1048576, .n_expert = 128, .n_expert_used = 1, .n_ff_exp = 8192, .moe_layer_step = 2,
     .source = "https://huggingface.co/meta-llama/Llama-4-Maverick-17B-128E/blob/main/config.json"},
    // Small Qwen3 and Qwen2.5 models (tie_word_embeddings).
    // https://huggingface.co/Qwen/Qwen3-0.6B/blob/main/config.json
    {.key = "qwen3-0.6b", .display_name = "Qwen3-0.6B", .arch = architecture::qwen3, .n_layer = 28, .n_embd = 1024,
     .n_head = 16, .n_head_kv = 8, .head_dim = 128, .n_ff = 3072, .n_vocab = 151936, .n_ctx_train = 40960,
     .tied_embeddings = true, .source = "https://huggingface.co/Qwen/Qwen3-0.6B/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-1.7B/blob/main/config.json
    {.key = "qwen3-1.7b", .display_name = "Qwen3-1.7B", .arch = architecture::qwen3, .n_layer = 28, .n_embd = 2048,
     .n_head = 16, .n_head_kv = 8, .head_dim = 128, .n_ff = 6144, .n_vocab = 151936, .n_ctx_train = 40960,
     .tied_embeddings = true, .source = "https://huggingface.co/Qwen/Qwen3-1.7B/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct/blob/main/config.json
    {.key = "qwen2.5-0.5b", .display_name = "Qwen2.5-0.5B-Instruct", .arch = architecture::qwen2, .n_layer = 24,
     .n_embd = 896, .n_head = 14, .n_head_kv = 2, .head_dim = 64, .n_ff = 4864, .n_vocab = 151936, .n_ctx_train = 32768,
     .tied_embeddings = true, .source = "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/config.json
    {.key = "qwen2.5-1.5b", .display_name = "Qwen2.5-1.5B-Instruct", .arch = architecture::qwen2, .n_layer = 28,
     .n_embd = 1536, .n_head = 12, .n_head_kv = 2, .head_dim = 128, .n_ff = 8960, .n_vocab = 151936, .n_ctx_train = 32768,
     .tied_embeddings = true, .source = "https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-3B-Instruct/blob/main/config.json
    {.key = "qwen2.5-3b", .display_name = "Qwen2.5-3B-Instruct", .arch = architecture::qwen2, .n_layer = 36,
     .n_embd = 2048, .n_head = 16, .n_head_kv = 2, .head_dim = 128, .n_ff = 11008, .n_vocab = 151936, .n_ctx_train = 32768,
     .tied_embeddings = true, .source = "https://huggingface.co/Qwen/Qwen2.5-3B-Instruct/blob/main/config.json"},
    // Small Gemma 3 models. https://huggingface.co/google/gemma-3-1b-it/blob/main/config.json (text
    // only: sliding_window 512, 32768 positions, vocab 262144)
    {.key = "gemma-3-1b", .display_name = "Gemma-3-1B-it", .arch = architecture::gemma3, .n_layer = 26, .n_embd = 1152,
     .n_head = 4, .n_head_kv = 1, .head_dim = 256, .n_ff = 6912, .n_vocab = 262144, .n_ctx_train = 32768,
     .n_swa = 512, .swa_period = 6, .tied_embeddings = true,
     .source = "https://huggingface.co/google/gemma-3-1b-it/blob/main/config.json"},
    // https://huggingface.co/google/gemma-3-4b-it/blob/main/config.json (text_config)
    {.key = "gemma-3-4b", .display_name = "Gemma-3-4B-it", .arch = architecture::gemma3, .n_layer = 34, .n_embd = 2560,
     .n_head = 8, .n_head_kv = 4, .head_dim = 256, .n_ff = 10240, .n_vocab = 262208, .n_ctx_train = 131072,
     .n_swa = 1024, .swa_period = 6, .tied_embeddings = true,
     .source = "https://huggingface.co/google/gemma-3-4b-it/blob/main/config.json"},
    // https://huggingface.co/mistralai/Mistral-Small-24B-Base-2501/blob/main/config.json (MistralForCausalLM: llama)
    {.key = "mistral-small-24b", .display_name = "Mistral-Small-24B-Base-2501", .arch = architecture::llama,
     .n_layer = 40, .n_embd = 5120, .n_head = 32, .n_head_kv = 8, .head_dim = 128, .n_ff = 32768, .n_vocab = 131072,
     .n_ctx_train = 32768, .source = "https://huggingface.co/mistralai/Mistral-Small-24B-Base-2501/blob/main/config.json"},
    // https://huggingface.co/CohereForAI/c4ai-command-r-v01/blob/main/config.json: 40 layers, hidden
    // 8192, 64 heads (no GQA), intermediate 22528, vocab 256000, logit_scale 0.0625, tied
    // embeddings, no qk norm. max_position_embeddings is 8192 but the converter writes
    // model_max_length, 131072, as the context length (CommandR2Model.__init__).
    {.key = "command-r-v01", .display_name = "c4ai-command-r-v01", .arch = architecture::command_r, .n_layer = 40,
     .n_embd = 8192, .n_head = 64, .n_head_kv = 64, .head_dim = 128, .n_ff = 22528, .n_vocab = 256000,
     .n_ctx_train = 131072, .tied_embeddings = true, .logit_scale = 0.0625f,
     .source = "https://huggingface.co/CohereForAI/c4ai-command-r-v01/blob/main/config.json"},
    // https://huggingface.co/CohereForAI/c4ai-command-r-plus/blob/main/config.json: 64 layers (so the
    // loader creates the per-head q/k LayerNorms, use_qk_norm), hidden 12288, 96/8 heads,
    // intermediate 33792, vocab 256000, logit_scale 0.8333333, tied; context from model_max_length.
    {.key = "command-r-plus", .display_name = "c4ai-command-r-plus", .arch = architecture::command_r, .n_layer = 64,
     .n_embd = 12288, .n_head = 96, .n_head_kv = 8, .head_dim = 128, .n_ff = 33792, .n_vocab = 256000,
     .n_ctx_train = 131072, .tied_embeddings = true, .logit_scale = 0.8333333f,
     .source = "https://huggingface.co/CohereForAI/c4ai-command-r-plus/blob/main/config.json"},
    // GLM-4-0414 (Glm4ForCausalLM): fused gate_up_proj, partial_rotary_factor 0.5, no q/k/v biases
    // (attention_bias false: the real GLM-Z1-32B-0414 IQ4_XS load logs R10/R11 print model buffers
    // summing to the tensor bytes without them, 16775.23 MiB).
    // https://huggingface.co/THUDM/GLM-4-9B-0414/blob/main/config.json
    {.key = "glm-4-9b", .display_name = "GLM-4-9B-0414", .arch = architecture::glm4, .n_layer = 40, .n_embd = 4096,
     .n_head = 32, .n_head_kv = 2, .head_dim = 128, .n_ff = 13696, .n_vocab = 151552, .n_ctx_train = 32768,
     .rope_dim = 64, .source = "https://huggingface.co/THUDM/GLM-4-9B-0414/blob/main/config.json"},
    // https://huggingface.co/THUDM/GLM-4-32B-0414/blob/main/config.json (GLM-Z1-32B-0414 has the same shapes)
    {.key = "glm-4-32b", .display_name = "GLM-4-32B-0414", .arch = architecture::glm4, .n_layer = 61, .n_embd = 6144,
     .n_head = 48, .n_head_kv = 2, .head_dim = 128, .n_ff = 23040, .n_vocab = 151552, .n_ctx_train = 32768,
     .rope_dim = 64, .source = "https://huggingface.co/THUDM/GLM-4-32B-0414/blob/main/config.json"},
    // Pythia (GPTNeoXForCausalLM): no head_dim key (n_embd / n_head), rotary_pct 0.25, parallel
    // residual, untied embed_out, vocab 50304, 2048 positions.
    // https://huggingface.co/EleutherAI/pythia-1.4b/blob/main/config.json
    {.key = "pythia-1.4b", .display_name = "pythia-1.4b", .arch = architecture::gptneox, .n_layer = 24, .n_embd = 2048,
     .n_head = 16, .n_head_kv = 16, .n_ff = 8192, .n_vocab = 50304, .n_ctx_train = 2048, .rope_dim = 32,
     .parallel_residual = true, .source = "https://huggingface.co/EleutherAI/pythia-1.4b/blob/main/config.json"},
    // https://huggingface.co/EleutherAI/pythia-2.8b/blob/main/config.json
    {.key = "pythia-2.8b", .display_name = "pythia-2.8b", .arch = architecture::gptneox, .n_layer = 32, .n_embd = 2560,
     .n_head = 32, .n_head_kv = 32, .n_ff = 10240, .n_vocab = 50304, .n_ctx_train = 2048, .rope_dim = 20,
     .parallel_residual = true, .source = "https://huggingface.co/EleutherAI/pythia-2.8b/blob/main/config.json"},
}};

// Case-insensitive lookup by key; nullptr when unknown.
[[nodiscard]] constexpr const model_entry* find(std::string_view key) noexcept {
    for (const auto& entry : models) {
        if (vramfit::detail::equal_ignoring_case(entry.key, key)) return &entry;
    }
    return nullptr;
}

namespace detail {

using vramfit::detail::contains_ignoring_case;
using vramfit::detail::equal_ignoring_case;

[[nodiscard]] constexpr error unknown_model(std::string_view key) {
    error failure{errc::unknown_name, "unknown catalog model '"};
    failure.with(key).with("'; ");
    // Close matches: keys containing the query, or sharing its family (text before the first '-').
    const std::string_view family = key.substr(0, key.find('-'));
    bool any = false;
    for (const auto& entry : models) {
        const std::string_view entry_family = entry.key.substr(0, entry.key.find('-'));
        if (contains_ignoring_case(entry.key, key) || (!family.empty() && equal_ignoring_case(entry_family, family))) {
            failure.with(any ? ", " : "did you mean: ").with(entry.key);
            any = true;
        }
    }
    if (!any) {
        // The whole key list does not fit an error message; its families do.
        failure.with("catalog families: ");
        for (std::size_t i = 0; i < models.size(); ++i) {
            const std::string_view fam = models[i].key.substr(0, models[i].key.find('-'));
            bool seen = false;
            for (std::size_t j = 0; j < i && !seen; ++j) seen = models[j].key.substr(0, models[j].key.find('-')) == fam;
            if (!seen) failure.with(i == 0 ? "" : ", ").with(fam);
        }
        failure.with(" (catalog::models has every key)");
    }
    return failure;
}

} // namespace detail

// The entry for `key` (case-insensitive), or an error that suggests close keys.
[[nodiscard]] constexpr result<const model_entry*> lookup(std::string_view key) {
    if (const model_entry* entry = find(key)) return entry;
    return detail::unknown_model(key);
}

// Tags: a model named in a type, for static_assert and compile-time plans. An unknown key stops
// the build at this static_assert, with the key in the template argument of the message.
namespace detail {
[[nodiscard]] constexpr std::size_t index_of(std::string_view key) {
    for (std::size_t i = 0; i < models.size(); ++i) {
        if (models[i].key == key) return i;
    }
    return models.size();
}
} // namespace detail

template <string_literal Key>
struct model {
    static constexpr std::size_t index = detail::index_of(Key.view());
    static_assert(index < models.size(), "catalog::model<KEY>: no catalog model has this key (catalog::models lists them)");
    static constexpr const model_entry& entry = models[index < models.size() ? index : 0];
};

// The same tags by C++ name: catalog::llama_3_1_8b is catalog::model<"llama-3.1-8b">.
using llama_3_1_8b = model<"llama-3.1-8b">;
using llama_3_2_1b = model<"llama-3.2-1b">;
using mistral_7b_v0_3 = model<"mistral-7b-v0.3">;
using qwen2_5_7b = model<"qwen2.5-7b">;
using gemma_3_12b = model<"gemma-3-12b">;
using gemma_2_9b = model<"gemma-2-9b">;
using phi_3_mini_4k = model<"phi-3-mini-4k">;
using qwen3_30b_a3b = model<"qwen3-30b-a3b">;
using mixtral_8x7b = model<"mixtral-8x7b">;
using gpt_oss_20b = model<"gpt-oss-20b">;
using deepseek_v2_lite = model<"deepseek-v2-lite">;
using llama_3_3_70b = model<"llama-3.3-70b">;
using qwen2_5_72b = model<"qwen2.5-72b">;
using qwen3_8b = model<"qwen3-8b">;
using qwen3_32b = model<"qwen3-32b">;
using qwen3_235b_a22b = model<"qwen3-235b-a22b">;
using llama_3_2_3b = model<"llama-3.2-3b">;
using mistral_nemo_12b = model<"mistral-nemo-12b">;
using qwen2_5_14b = model<"qwen2.5-14b">;
using qwen2_5_32b = model<"qwen2.5-32b">;
using qwen3_4b = model<"qwen3-4b">;
using qwen3_14b = model<"qwen3-14b">;
using gemma_2_27b = model<"gemma-2-27b">;
using phi_4 = model<"phi-4">;
using deepseek_v3 = model<"deepseek-v3">;
using deepseek_r1 = model<"deepseek-r1">;
using gemma_3_27b = model<"gemma-3-27b">;
using gpt_oss_120b = model<"gpt-oss-120b">;
using mamba2_2_7b = model<"mamba2-2.7b">;
using lfm2_1_2b = model<"lfm2-1.2b">;
using llama_3_1_70b = model<"llama-3.1-70b">;
using llama_3_1_405b = model<"llama-3.1-405b">;
using llama_4_scout = model<"llama-4-scout">;
using llama_4_maverick = model<"llama-4-maverick">;
using qwen3_0_6b = model<"qwen3-0.6b">;
using qwen3_1_7b = model<"qwen3-1.7b">;
using qwen2_5_0_5b = model<"qwen2.5-0.5b">;
using qwen2_5_1_5b = model<"qwen2.5-1.5b">;
using qwen2_5_3b = model<"qwen2.5-3b">;
using gemma_3_1b = model<"gemma-3-1b">;
using gemma_3_4b = model<"gemma-3-4b">;
using mistral_small_24b = model<"mistral-small-24b">;
using command_r_v01 = model<"command-r-v01">;
using command_r_plus = model<"command-r-plus">;
using glm_4_9b = model<"glm-4-9b">;
using glm_4_32b = model<"glm-4-32b">;
using pythia_1_4b = model<"pythia-1.4b">;
using pythia_2_8b = model<"pythia-2.8b">;

} // namespace vramfit::catalog
