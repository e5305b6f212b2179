// vramfit/catalog/models.hpp — built-in models: published config.json facts, nothing derived.
//
// Each entry is one Hugging Face config.json (URL in `source`) as a `model_config`, under the
// file's own field names (model/config.hpp), with the Hub id users type. Everything else — the
// GGUF keys llama.cpp's converter would write, the engine's hyper-parameter rules, the tensor
// list and quantization (engines/llama_cpp/from_catalog.hpp), the module tree transformers builds
// (engines/transformers/modules.hpp) — is computed by each engine from these facts, by the same
// code that reads real files. No formula hides in an entry and the catalog includes no engine.
//
//   const auto& entry = vramfit::catalog::model<"llama-3.1-8b">::entry;   // a typo does not compile
//   auto model = vramfit::llama_cpp::describe("llama-3.1-8b:Q4_K_M");     // llama.cpp's view of it
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "vramfit/core/detail/ascii.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/fixed_string.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::catalog {

struct model_entry {
    std::string_view key{};           // "llama-3.1-8b"
    std::string_view display_name{};  // "Llama-3.1-8B"
    std::string_view hf_id{};         // "meta-llama/Llama-3.1-8B": the Hub repository of `source`
    // The instruction-tuned release whose config.json has the same facts (dtype included), found
    // by its id too: "meta-llama/Llama-3.1-8B-Instruct".
    std::string_view tuned_hf_id{};
    model_config config{};            // config.json (a multimodal model's text_config, with its vision_config)
    // The first floating dtype of the published safetensors (their first shard, names sorted),
    // given where config.json names no dtype: what from_pretrained's dtype="auto" then takes.
    std::optional<dtype> checkpoint_dtype{};
    // The llama.cpp quantization a bare key means ("llama-3.1-8b" is "llama-3.1-8b:Q4_K_M").
    std::string_view default_ftype = "Q4_K_M";
    std::string_view source{};        // the config.json read
};

namespace detail {
// Parts several entries share, copied from their config.json files.
// rope_scaling of Llama 3.1 / 3.3 and of Llama 3.2.
inline constexpr rope_scaling_config llama3_1_rope{.rope_type = "llama3", .factor = 8.0, .original_max_position_embeddings = 8192,
                                                    .low_freq_factor = 1.0, .high_freq_factor = 4.0};
inline constexpr rope_scaling_config llama3_2_rope{.rope_type = "llama3", .factor = 32.0, .original_max_position_embeddings = 8192,
                                                    .low_freq_factor = 1.0, .high_freq_factor = 4.0};
// vision_config of Gemma 3 4B, 12B and 27B (SigLIP, 896-pixel images in 14-pixel patches).
inline constexpr model_config::vision_tower_config gemma3_siglip{.hidden_size = 1152, .intermediate_size = 4304, .num_hidden_layers = 27,
                                                                  .num_attention_heads = 16, .image_size = 896, .patch_size = 14};
} // namespace detail

inline constexpr std::array<model_entry, 55> models{{
    // https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json
    {.key = "llama-3.1-8b", .display_name = "Llama-3.1-8B", .hf_id = "meta-llama/Llama-3.1-8B",
     .tuned_hf_id = "meta-llama/Llama-3.1-8B-Instruct",
     .config = {.model_type = "llama", .architecture = "LlamaForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 32, .hidden_size = 4096, .num_attention_heads = 32, .num_key_value_heads = 8,
     .head_dim = 128, .intermediate_size = 14336, .vocab_size = 128256, .max_position_embeddings = 131072,
     .rope_scaling = detail::llama3_1_rope},
     .source = "https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json"},
    // https://huggingface.co/meta-llama/Llama-3.2-1B/blob/main/config.json
    {.key = "llama-3.2-1b", .display_name = "Llama-3.2-1B", .hf_id = "meta-llama/Llama-3.2-1B",
     .tuned_hf_id = "meta-llama/Llama-3.2-1B-Instruct",
     .config = {.model_type = "llama", .architecture = "LlamaForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 16, .hidden_size = 2048, .num_attention_heads = 32, .num_key_value_heads = 8,
     .head_dim = 64, .intermediate_size = 8192, .vocab_size = 128256, .max_position_embeddings = 131072,
     .tie_word_embeddings = true, .rope_scaling = detail::llama3_2_rope},
     .source = "https://huggingface.co/meta-llama/Llama-3.2-1B/blob/main/config.json"},
    // https://huggingface.co/mistralai/Mistral-7B-v0.3/blob/main/config.json
    {.key = "mistral-7b-v0.3", .display_name = "Mistral-7B-v0.3", .hf_id = "mistralai/Mistral-7B-v0.3",
     .tuned_hf_id = "mistralai/Mistral-7B-Instruct-v0.3",
     .config = {.model_type = "mistral", .architecture = "MistralForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 32, .hidden_size = 4096, .num_attention_heads = 32, .num_key_value_heads = 8,
     .head_dim = 128, .intermediate_size = 14336, .vocab_size = 32768, .max_position_embeddings = 32768},
     .source = "https://huggingface.co/mistralai/Mistral-7B-v0.3/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/config.json
    {.key = "qwen2.5-7b", .display_name = "Qwen2.5-7B-Instruct", .hf_id = "Qwen/Qwen2.5-7B-Instruct",
     .config = {.model_type = "qwen2", .architecture = "Qwen2ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 28, .hidden_size = 3584, .num_attention_heads = 28, .num_key_value_heads = 4,
     .head_dim = 128, .intermediate_size = 18944, .vocab_size = 152064, .max_position_embeddings = 32768},
     .source = "https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/config.json"},
    // https://huggingface.co/google/gemma-3-12b-it/blob/main/config.json (text_config)
    {.key = "gemma-3-12b", .display_name = "Gemma-3-12B-it", .hf_id = "google/gemma-3-12b-it",
     .config = {.model_type = "gemma3", .architecture = "Gemma3ForConditionalGeneration", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 48, .hidden_size = 3840, .num_attention_heads = 16, .num_key_value_heads = 8,
     .head_dim = 256, .intermediate_size = 15360, .vocab_size = 262208, .max_position_embeddings = 131072,
     .tie_word_embeddings = true, .rope_scaling = {.rope_type = "linear", .factor = 8.0}, .sliding_window = 1024,
     .sliding_window_pattern = 6, .multimodal = true, .vision = detail::gemma3_siglip},
     .source = "https://huggingface.co/google/gemma-3-12b-it/blob/main/config.json"},
    // https://huggingface.co/google/gemma-2-9b/blob/main/config.json
    {.key = "gemma-2-9b", .display_name = "Gemma-2-9B", .hf_id = "google/gemma-2-9b",
     .config = {.model_type = "gemma2", .architecture = "Gemma2ForCausalLM", .torch_dtype = dtype::f32,
     .num_hidden_layers = 42, .hidden_size = 3584, .num_attention_heads = 16, .num_key_value_heads = 8,
     .head_dim = 256, .intermediate_size = 14336, .vocab_size = 256000, .max_position_embeddings = 8192,
     .tie_word_embeddings = true, .sliding_window = 4096},
     .source = "https://huggingface.co/google/gemma-2-9b/blob/main/config.json"},
    // https://huggingface.co/microsoft/Phi-3-mini-4k-instruct/blob/main/config.json
    {.key = "phi-3-mini-4k", .display_name = "Phi-3-mini-4k-instruct", .hf_id = "microsoft/Phi-3-mini-4k-instruct",
     .config = {.model_type = "phi3", .architecture = "Phi3ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 32, .hidden_size = 3072, .num_attention_heads = 32, .num_key_value_heads = 32,
     .head_dim = 96, .intermediate_size = 8192, .vocab_size = 32064, .max_position_embeddings = 4096,
     .sliding_window = 2047},
     .source = "https://huggingface.co/microsoft/Phi-3-mini-4k-instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-30B-A3B/blob/main/config.json
    {.key = "qwen3-30b-a3b", .display_name = "Qwen3-30B-A3B", .hf_id = "Qwen/Qwen3-30B-A3B",
     .config = {.model_type = "qwen3_moe", .architecture = "Qwen3MoeForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 48, .hidden_size = 2048, .num_attention_heads = 32, .num_key_value_heads = 4,
     .head_dim = 128, .intermediate_size = 6144, .vocab_size = 151936, .max_position_embeddings = 40960,
     .num_experts = 128, .num_experts_per_tok = 8, .moe_intermediate_size = 768},
     .source = "https://huggingface.co/Qwen/Qwen3-30B-A3B/blob/main/config.json"},
    // https://huggingface.co/mistralai/Mixtral-8x7B-v0.1/blob/main/config.json
    {.key = "mixtral-8x7b", .display_name = "Mixtral-8x7B-v0.1", .hf_id = "mistralai/Mixtral-8x7B-v0.1",
     .tuned_hf_id = "mistralai/Mixtral-8x7B-Instruct-v0.1",
     .config = {.model_type = "mixtral", .architecture = "MixtralForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 32, .hidden_size = 4096, .num_attention_heads = 32, .num_key_value_heads = 8,
     .head_dim = 128, .intermediate_size = 14336, .vocab_size = 32000, .max_position_embeddings = 32768,
     .num_experts = 8, .num_experts_per_tok = 2},
     .source = "https://huggingface.co/mistralai/Mixtral-8x7B-v0.1/blob/main/config.json"},
    // https://huggingface.co/openai/gpt-oss-20b/blob/main/config.json (released as MXFP4 experts and
    // BF16 elsewhere; no torch_dtype)
    {.key = "gpt-oss-20b", .display_name = "gpt-oss-20b", .hf_id = "openai/gpt-oss-20b",
     .config = {.model_type = "gpt_oss", .architecture = "GptOssForCausalLM",
     .num_hidden_layers = 24, .hidden_size = 2880, .num_attention_heads = 64, .num_key_value_heads = 8,
     .head_dim = 64, .intermediate_size = 2880, .vocab_size = 201088, .max_position_embeddings = 131072,
     .attention_bias = true,
     .rope_scaling = {.rope_type = "yarn", .factor = 32.0, .original_max_position_embeddings = 4096},
     .sliding_window = 128, .num_experts = 32, .num_experts_per_tok = 4,
     .quantization = {.method = quant_method::mxfp4, .method_name = "mxfp4"}},
     .checkpoint_dtype = dtype::bf16, .default_ftype = "MXFP4_MOE",
     .source = "https://huggingface.co/openai/gpt-oss-20b/blob/main/config.json"},
    // https://huggingface.co/deepseek-ai/DeepSeek-V2-Lite/blob/main/config.json
    {.key = "deepseek-v2-lite", .display_name = "DeepSeek-V2-Lite", .hf_id = "deepseek-ai/DeepSeek-V2-Lite",
     .config = {.model_type = "deepseek_v2", .architecture = "DeepseekV2ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 27, .hidden_size = 2048, .num_attention_heads = 16, .num_key_value_heads = 16,
     .intermediate_size = 10944, .vocab_size = 102400, .max_position_embeddings = 163840, .num_experts = 64,
     .num_experts_per_tok = 6, .moe_intermediate_size = 1408, .n_shared_experts = 2, .first_k_dense_replace = 1,
     .kv_lora_rank = 512, .qk_nope_head_dim = 128, .qk_rope_head_dim = 64, .v_head_dim = 128},
     .source = "https://huggingface.co/deepseek-ai/DeepSeek-V2-Lite/blob/main/config.json"},

    // More models people run (same rules; not in the CPU oracle).
    // https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct/blob/main/config.json
    {.key = "llama-3.3-70b", .display_name = "Llama-3.3-70B-Instruct", .hf_id = "meta-llama/Llama-3.3-70B-Instruct",
     .config = {.model_type = "llama", .architecture = "LlamaForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 80, .hidden_size = 8192, .num_attention_heads = 64, .num_key_value_heads = 8,
     .head_dim = 128, .intermediate_size = 28672, .vocab_size = 128256, .max_position_embeddings = 131072,
     .rope_scaling = detail::llama3_1_rope},
     .source = "https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-72B-Instruct/blob/main/config.json
    {.key = "qwen2.5-72b", .display_name = "Qwen2.5-72B-Instruct", .hf_id = "Qwen/Qwen2.5-72B-Instruct",
     .config = {.model_type = "qwen2", .architecture = "Qwen2ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 80, .hidden_size = 8192, .num_attention_heads = 64, .num_key_value_heads = 8,
     .head_dim = 128, .intermediate_size = 29568, .vocab_size = 152064, .max_position_embeddings = 32768},
     .source = "https://huggingface.co/Qwen/Qwen2.5-72B-Instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-8B/blob/main/config.json
    {.key = "qwen3-8b", .display_name = "Qwen3-8B", .hf_id = "Qwen/Qwen3-8B", .config = {.model_type = "qwen3",
     .architecture = "Qwen3ForCausalLM", .torch_dtype = dtype::bf16, .num_hidden_layers = 36, .hidden_size = 4096,
     .num_attention_heads = 32, .num_key_value_heads = 8, .head_dim = 128, .intermediate_size = 12288,
     .vocab_size = 151936, .max_position_embeddings = 40960},
     .source = "https://huggingface.co/Qwen/Qwen3-8B/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-32B/blob/main/config.json
    {.key = "qwen3-32b", .display_name = "Qwen3-32B", .hf_id = "Qwen/Qwen3-32B", .config = {.model_type = "qwen3",
     .architecture = "Qwen3ForCausalLM", .torch_dtype = dtype::bf16, .num_hidden_layers = 64, .hidden_size = 5120,
     .num_attention_heads = 64, .num_key_value_heads = 8, .head_dim = 128, .intermediate_size = 25600,
     .vocab_size = 151936, .max_position_embeddings = 40960},
     .source = "https://huggingface.co/Qwen/Qwen3-32B/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-235B-A22B/blob/main/config.json
    {.key = "qwen3-235b-a22b", .display_name = "Qwen3-235B-A22B", .hf_id = "Qwen/Qwen3-235B-A22B",
     .config = {.model_type = "qwen3_moe", .architecture = "Qwen3MoeForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 94, .hidden_size = 4096, .num_attention_heads = 64, .num_key_value_heads = 4,
     .head_dim = 128, .intermediate_size = 12288, .vocab_size = 151936, .max_position_embeddings = 40960,
     .num_experts = 128, .num_experts_per_tok = 8, .moe_intermediate_size = 1536},
     .source = "https://huggingface.co/Qwen/Qwen3-235B-A22B/blob/main/config.json"},
    // https://huggingface.co/meta-llama/Llama-3.2-3B/blob/main/config.json
    {.key = "llama-3.2-3b", .display_name = "Llama-3.2-3B", .hf_id = "meta-llama/Llama-3.2-3B",
     .tuned_hf_id = "meta-llama/Llama-3.2-3B-Instruct",
     .config = {.model_type = "llama", .architecture = "LlamaForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 28, .hidden_size = 3072, .num_attention_heads = 24, .num_key_value_heads = 8,
     .head_dim = 128, .intermediate_size = 8192, .vocab_size = 128256, .max_position_embeddings = 131072,
     .tie_word_embeddings = true, .rope_scaling = detail::llama3_2_rope},
     .source = "https://huggingface.co/meta-llama/Llama-3.2-3B/blob/main/config.json"},
    // https://huggingface.co/mistralai/Mistral-Nemo-Instruct-2407/blob/main/config.json (head_dim 128 != 5120/32)
    {.key = "mistral-nemo-12b", .display_name = "Mistral-Nemo-Instruct-2407",
     .hf_id = "mistralai/Mistral-Nemo-Instruct-2407", .config = {.model_type = "mistral",
     .architecture = "MistralForCausalLM", .torch_dtype = dtype::bf16, .num_hidden_layers = 40, .hidden_size = 5120,
     .num_attention_heads = 32, .num_key_value_heads = 8, .head_dim = 128, .intermediate_size = 14336,
     .vocab_size = 131072, .max_position_embeddings = 1024000},
     .source = "https://huggingface.co/mistralai/Mistral-Nemo-Instruct-2407/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-14B-Instruct/blob/main/config.json
    {.key = "qwen2.5-14b", .display_name = "Qwen2.5-14B-Instruct", .hf_id = "Qwen/Qwen2.5-14B-Instruct",
     .config = {.model_type = "qwen2", .architecture = "Qwen2ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 48, .hidden_size = 5120, .num_attention_heads = 40, .num_key_value_heads = 8,
     .head_dim = 128, .intermediate_size = 13824, .vocab_size = 152064, .max_position_embeddings = 32768},
     .source = "https://huggingface.co/Qwen/Qwen2.5-14B-Instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-32B-Instruct/blob/main/config.json
    {.key = "qwen2.5-32b", .display_name = "Qwen2.5-32B-Instruct", .hf_id = "Qwen/Qwen2.5-32B-Instruct",
     .config = {.model_type = "qwen2", .architecture = "Qwen2ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 64, .hidden_size = 5120, .num_attention_heads = 40, .num_key_value_heads = 8,
     .head_dim = 128, .intermediate_size = 27648, .vocab_size = 152064, .max_position_embeddings = 32768},
     .source = "https://huggingface.co/Qwen/Qwen2.5-32B-Instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-4B/blob/main/config.json (tie_word_embeddings)
    {.key = "qwen3-4b", .display_name = "Qwen3-4B", .hf_id = "Qwen/Qwen3-4B", .config = {.model_type = "qwen3",
     .architecture = "Qwen3ForCausalLM", .torch_dtype = dtype::bf16, .num_hidden_layers = 36, .hidden_size = 2560,
     .num_attention_heads = 32, .num_key_value_heads = 8, .head_dim = 128, .intermediate_size = 9728,
     .vocab_size = 151936, .max_position_embeddings = 40960, .tie_word_embeddings = true},
     .source = "https://huggingface.co/Qwen/Qwen3-4B/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-14B/blob/main/config.json
    {.key = "qwen3-14b", .display_name = "Qwen3-14B", .hf_id = "Qwen/Qwen3-14B", .config = {.model_type = "qwen3",
     .architecture = "Qwen3ForCausalLM", .torch_dtype = dtype::bf16, .num_hidden_layers = 40, .hidden_size = 5120,
     .num_attention_heads = 40, .num_key_value_heads = 8, .head_dim = 128, .intermediate_size = 17408,
     .vocab_size = 151936, .max_position_embeddings = 40960},
     .source = "https://huggingface.co/Qwen/Qwen3-14B/blob/main/config.json"},
    // https://huggingface.co/google/gemma-2-27b/blob/main/config.json
    {.key = "gemma-2-27b", .display_name = "Gemma-2-27B", .hf_id = "google/gemma-2-27b",
     .config = {.model_type = "gemma2", .architecture = "Gemma2ForCausalLM", .torch_dtype = dtype::f32,
     .num_hidden_layers = 46, .hidden_size = 4608, .num_attention_heads = 32, .num_key_value_heads = 16,
     .head_dim = 128, .intermediate_size = 36864, .vocab_size = 256000, .max_position_embeddings = 8192,
     .tie_word_embeddings = true, .sliding_window = 4096},
     .source = "https://huggingface.co/google/gemma-2-27b/blob/main/config.json"},
    // https://huggingface.co/microsoft/phi-4/blob/main/config.json (phi3 architecture, no sliding window)
    {.key = "phi-4", .display_name = "phi-4", .hf_id = "microsoft/phi-4", .config = {.model_type = "phi3",
     .architecture = "Phi3ForCausalLM", .torch_dtype = dtype::bf16, .num_hidden_layers = 40, .hidden_size = 5120,
     .num_attention_heads = 40, .num_key_value_heads = 10, .head_dim = 128, .intermediate_size = 17920,
     .vocab_size = 100352, .max_position_embeddings = 16384},
     .source = "https://huggingface.co/microsoft/phi-4/blob/main/config.json"},
    // https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json: MLA with q LoRA, 3 dense
    // lead layers, 256 routed + 1 shared experts (8 used), noaux_tc router bias. The converter skips
    // the multi-token-prediction layer (model.layers.61), so the file has 61 blocks.
    {.key = "deepseek-v3", .display_name = "DeepSeek-V3", .hf_id = "deepseek-ai/DeepSeek-V3",
     .config = {.model_type = "deepseek_v3", .architecture = "DeepseekV3ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 61, .hidden_size = 7168, .num_attention_heads = 128, .num_key_value_heads = 128,
     .intermediate_size = 18432, .vocab_size = 129280, .max_position_embeddings = 163840, .num_experts = 256,
     .num_experts_per_tok = 8, .moe_intermediate_size = 2048, .n_shared_experts = 1, .first_k_dense_replace = 3,
     .topk_method = "noaux_tc", .q_lora_rank = 1536, .kv_lora_rank = 512, .qk_nope_head_dim = 128,
     .qk_rope_head_dim = 64, .v_head_dim = 128,
     .quantization = {.method = quant_method::fp8, .method_name = "fp8", .weight_block_size = {128, 128}}},
     .source = "https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json"},
    // https://huggingface.co/deepseek-ai/DeepSeek-R1/blob/main/config.json (the DeepSeek-V3 architecture)
    {.key = "deepseek-r1", .display_name = "DeepSeek-R1", .hf_id = "deepseek-ai/DeepSeek-R1",
     .config = {.model_type = "deepseek_v3", .architecture = "DeepseekV3ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 61, .hidden_size = 7168, .num_attention_heads = 128, .num_key_value_heads = 128,
     .intermediate_size = 18432, .vocab_size = 129280, .max_position_embeddings = 163840, .num_experts = 256,
     .num_experts_per_tok = 8, .moe_intermediate_size = 2048, .n_shared_experts = 1, .first_k_dense_replace = 3,
     .topk_method = "noaux_tc", .q_lora_rank = 1536, .kv_lora_rank = 512, .qk_nope_head_dim = 128,
     .qk_rope_head_dim = 64, .v_head_dim = 128,
     .quantization = {.method = quant_method::fp8, .method_name = "fp8", .weight_block_size = {128, 128}}},
     .source = "https://huggingface.co/deepseek-ai/DeepSeek-R1/blob/main/config.json"},
    // https://huggingface.co/google/gemma-3-27b-it/blob/main/config.json (text_config)
    {.key = "gemma-3-27b", .display_name = "Gemma-3-27B-it", .hf_id = "google/gemma-3-27b-it",
     .config = {.model_type = "gemma3", .architecture = "Gemma3ForConditionalGeneration", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 62, .hidden_size = 5376, .num_attention_heads = 32, .num_key_value_heads = 16,
     .head_dim = 128, .intermediate_size = 21504, .vocab_size = 262208, .max_position_embeddings = 131072,
     .tie_word_embeddings = true, .rope_scaling = {.rope_type = "linear", .factor = 8.0}, .sliding_window = 1024,
     .sliding_window_pattern = 6, .multimodal = true, .vision = detail::gemma3_siglip},
     .source = "https://huggingface.co/google/gemma-3-27b-it/blob/main/config.json"},
    // https://huggingface.co/openai/gpt-oss-120b/blob/main/config.json
    {.key = "gpt-oss-120b", .display_name = "gpt-oss-120b", .hf_id = "openai/gpt-oss-120b",
     .config = {.model_type = "gpt_oss", .architecture = "GptOssForCausalLM",
     .num_hidden_layers = 36, .hidden_size = 2880, .num_attention_heads = 64, .num_key_value_heads = 8,
     .head_dim = 64, .intermediate_size = 2880, .vocab_size = 201088, .max_position_embeddings = 131072,
     .attention_bias = true,
     .rope_scaling = {.rope_type = "yarn", .factor = 32.0, .original_max_position_embeddings = 4096},
     .sliding_window = 128, .num_experts = 128, .num_experts_per_tok = 4,
     .quantization = {.method = quant_method::mxfp4, .method_name = "mxfp4"}},
     .checkpoint_dtype = dtype::bf16, .default_ftype = "MXFP4_MOE",
     .source = "https://huggingface.co/openai/gpt-oss-120b/blob/main/config.json"},
    // https://huggingface.co/state-spaces/mamba2-2.7b/blob/main/config.json: d_model 2560, n_layer 64,
    // vocab 50277 with pad_vocab_size_multiple 16, d_state 128, expand 2 (d_inner 5120), headdim 64
    // (80 heads), ngroups 1, d_conv 4, tied embeddings, no position limit. A mamba_ssm config: no
    // `architectures`; llama.cpp's converter takes it as Mamba2ForCausalLM.
    {.key = "mamba2-2.7b", .display_name = "Mamba2-2.7B", .hf_id = "state-spaces/mamba2-2.7b",
     .config = {.model_type = "mamba2", .architecture = "Mamba2ForCausalLM", .num_hidden_layers = 64,
     .hidden_size = 2560, .vocab_size = 50277, .pad_vocab_size_multiple = 16, .tie_word_embeddings = true,
     .ssm_conv_kernel = 4, .ssm_inner_size = 5120, .ssm_state_size = 128, .ssm_num_heads = 80, .ssm_n_groups = 1},
     .source = "https://huggingface.co/state-spaces/mamba2-2.7b/blob/main/config.json"},
    // https://huggingface.co/LiquidAI/LFM2-1.2B/blob/main/config.json: hidden 2048, 16 layers, 32/8
    // heads, full_attn_idxs [2, 5, 8, 10, 12, 14], conv_L_cache 3, vocab 65536, 128000 positions,
    // tie_embedding; block_ff_dim 12288 with block_auto_adjust_ff_dim, block_ffn_dim_multiplier 1.0,
    // block_multiple_of 256 (the feed-forward width engines derive from them).
    {.key = "lfm2-1.2b", .display_name = "LFM2-1.2B", .hf_id = "LiquidAI/LFM2-1.2B", .config = {.model_type = "lfm2",
     .architecture = "Lfm2ForCausalLM", .torch_dtype = dtype::bf16, .num_hidden_layers = 16, .hidden_size = 2048,
     .num_attention_heads = 32, .num_key_value_heads = 8, .head_dim = 64, .intermediate_size = 12288,
     .vocab_size = 65536, .max_position_embeddings = 128000, .tie_word_embeddings = true, .conv_l_cache = 3,
     .full_attention_layers = layer_set::of({2, 5, 8, 10, 12, 14}), .block_auto_adjust_ff_dim = true,
     .block_ffn_dim_multiplier = 1.0, .block_multiple_of = 256},
     .source = "https://huggingface.co/LiquidAI/LFM2-1.2B/blob/main/config.json"},

    // Llama 3.1 at the other sizes (same architecture and rope scaling as 8B).
    // https://huggingface.co/meta-llama/Llama-3.1-70B/blob/main/config.json
    {.key = "llama-3.1-70b", .display_name = "Llama-3.1-70B", .hf_id = "meta-llama/Llama-3.1-70B",
     .tuned_hf_id = "meta-llama/Llama-3.1-70B-Instruct",
     .config = {.model_type = "llama", .architecture = "LlamaForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 80, .hidden_size = 8192, .num_attention_heads = 64, .num_key_value_heads = 8,
     .head_dim = 128, .intermediate_size = 28672, .vocab_size = 128256, .max_position_embeddings = 131072,
     .rope_scaling = detail::llama3_1_rope},
     .source = "https://huggingface.co/meta-llama/Llama-3.1-70B/blob/main/config.json"},
    // https://huggingface.co/meta-llama/Llama-3.1-405B/blob/main/config.json
    {.key = "llama-3.1-405b", .display_name = "Llama-3.1-405B", .hf_id = "meta-llama/Llama-3.1-405B",
     .tuned_hf_id = "meta-llama/Llama-3.1-405B-Instruct",
     .config = {.model_type = "llama", .architecture = "LlamaForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 126, .hidden_size = 16384, .num_attention_heads = 128, .num_key_value_heads = 8,
     .head_dim = 128, .intermediate_size = 53248, .vocab_size = 128256, .max_position_embeddings = 131072,
     .rope_scaling = detail::llama3_1_rope},
     .source = "https://huggingface.co/meta-llama/Llama-3.1-405B/blob/main/config.json"},
    // https://huggingface.co/meta-llama/Llama-4-Scout-17B-16E/blob/main/config.json (text_config):
    // 48 layers, hidden 5120, 40/8 heads of 128, intermediate_size 8192 (experts) and
    // intermediate_size_mlp 16384 (dense; the converter writes it as feed_forward_length),
    // 16 experts, 1 used, interleave_moe_layer_step 1 (every layer MoE), vocab 202048,
    // max_position_embeddings 10485760, rope_scaling "llama3", use_qk_norm.
    {.key = "llama-4-scout", .display_name = "Llama-4-Scout-17B-16E", .hf_id = "meta-llama/Llama-4-Scout-17B-16E",
     .config = {.model_type = "llama4", .architecture = "Llama4ForConditionalGeneration", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 48, .hidden_size = 5120, .num_attention_heads = 40, .num_key_value_heads = 8,
     .head_dim = 128, .intermediate_size = 8192, .intermediate_size_mlp = 16384, .vocab_size = 202048,
     .max_position_embeddings = 10485760, .rope_scaling = {.rope_type = "llama3"}, .num_experts = 16,
     .num_experts_per_tok = 1, .interleave_moe_layer_step = 1, .multimodal = true},
     .source = "https://huggingface.co/meta-llama/Llama-4-Scout-17B-16E/blob/main/config.json"},
    // https://huggingface.co/meta-llama/Llama-4-Maverick-17B-128E/blob/main/config.json (text_config):
    // as Scout but 128 experts on every second layer (interleave_moe_layer_step 2), 1048576
    // positions, no rope scaling, no qk norm.
    {.key = "llama-4-maverick", .display_name = "Llama-4-Maverick-17B-128E",
     .hf_id = "meta-llama/Llama-4-Maverick-17B-128E", .config = {.model_type = "llama4",
     .architecture = "Llama4ForConditionalGeneration", .torch_dtype = dtype::bf16, .num_hidden_layers = 48,
     .hidden_size = 5120, .num_attention_heads = 40, .num_key_value_heads = 8, .head_dim = 128,
     .intermediate_size = 8192, .intermediate_size_mlp = 16384, .vocab_size = 202048,
     .max_position_embeddings = 1048576, .num_experts = 128, .num_experts_per_tok = 1,
     .interleave_moe_layer_step = 2, .multimodal = true},
     .source = "https://huggingface.co/meta-llama/Llama-4-Maverick-17B-128E/blob/main/config.json"},
    // Small Qwen3 and Qwen2.5 models (tie_word_embeddings).
    // https://huggingface.co/Qwen/Qwen3-0.6B/blob/main/config.json
    {.key = "qwen3-0.6b", .display_name = "Qwen3-0.6B", .hf_id = "Qwen/Qwen3-0.6B", .config = {.model_type = "qwen3",
     .architecture = "Qwen3ForCausalLM", .torch_dtype = dtype::bf16, .num_hidden_layers = 28, .hidden_size = 1024,
     .num_attention_heads = 16, .num_key_value_heads = 8, .head_dim = 128, .intermediate_size = 3072,
     .vocab_size = 151936, .max_position_embeddings = 40960, .tie_word_embeddings = true},
     .source = "https://huggingface.co/Qwen/Qwen3-0.6B/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen3-1.7B/blob/main/config.json
    {.key = "qwen3-1.7b", .display_name = "Qwen3-1.7B", .hf_id = "Qwen/Qwen3-1.7B", .config = {.model_type = "qwen3",
     .architecture = "Qwen3ForCausalLM", .torch_dtype = dtype::bf16, .num_hidden_layers = 28, .hidden_size = 2048,
     .num_attention_heads = 16, .num_key_value_heads = 8, .head_dim = 128, .intermediate_size = 6144,
     .vocab_size = 151936, .max_position_embeddings = 40960, .tie_word_embeddings = true},
     .source = "https://huggingface.co/Qwen/Qwen3-1.7B/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct/blob/main/config.json
    {.key = "qwen2.5-0.5b", .display_name = "Qwen2.5-0.5B-Instruct", .hf_id = "Qwen/Qwen2.5-0.5B-Instruct",
     .config = {.model_type = "qwen2", .architecture = "Qwen2ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 24, .hidden_size = 896, .num_attention_heads = 14, .num_key_value_heads = 2,
     .head_dim = 64, .intermediate_size = 4864, .vocab_size = 151936, .max_position_embeddings = 32768,
     .tie_word_embeddings = true},
     .source = "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/config.json
    {.key = "qwen2.5-1.5b", .display_name = "Qwen2.5-1.5B-Instruct", .hf_id = "Qwen/Qwen2.5-1.5B-Instruct",
     .config = {.model_type = "qwen2", .architecture = "Qwen2ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 28, .hidden_size = 1536, .num_attention_heads = 12, .num_key_value_heads = 2,
     .head_dim = 128, .intermediate_size = 8960, .vocab_size = 151936, .max_position_embeddings = 32768,
     .tie_word_embeddings = true},
     .source = "https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/config.json"},
    // https://huggingface.co/Qwen/Qwen2.5-3B-Instruct/blob/main/config.json
    {.key = "qwen2.5-3b", .display_name = "Qwen2.5-3B-Instruct", .hf_id = "Qwen/Qwen2.5-3B-Instruct",
     .config = {.model_type = "qwen2", .architecture = "Qwen2ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 36, .hidden_size = 2048, .num_attention_heads = 16, .num_key_value_heads = 2,
     .head_dim = 128, .intermediate_size = 11008, .vocab_size = 151936, .max_position_embeddings = 32768,
     .tie_word_embeddings = true}, .source = "https://huggingface.co/Qwen/Qwen2.5-3B-Instruct/blob/main/config.json"},
    // Small Gemma 3 models. https://huggingface.co/google/gemma-3-1b-it/blob/main/config.json (text
    // only: sliding_window 512, 32768 positions, vocab 262144)
    {.key = "gemma-3-1b", .display_name = "Gemma-3-1B-it", .hf_id = "google/gemma-3-1b-it",
     .config = {.model_type = "gemma3_text", .architecture = "Gemma3ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 26, .hidden_size = 1152, .num_attention_heads = 4, .num_key_value_heads = 1,
     .head_dim = 256, .intermediate_size = 6912, .vocab_size = 262144, .max_position_embeddings = 32768,
     .tie_word_embeddings = true, .sliding_window = 512, .sliding_window_pattern = 6},
     .source = "https://huggingface.co/google/gemma-3-1b-it/blob/main/config.json"},
    // https://huggingface.co/google/gemma-3-4b-it/blob/main/config.json (text_config)
    {.key = "gemma-3-4b", .display_name = "Gemma-3-4B-it", .hf_id = "google/gemma-3-4b-it",
     .config = {.model_type = "gemma3", .architecture = "Gemma3ForConditionalGeneration", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 34, .hidden_size = 2560, .num_attention_heads = 8, .num_key_value_heads = 4,
     .head_dim = 256, .intermediate_size = 10240, .vocab_size = 262208, .max_position_embeddings = 131072,
     .tie_word_embeddings = true, .rope_scaling = {.rope_type = "linear", .factor = 8.0}, .sliding_window = 1024,
     .sliding_window_pattern = 6, .multimodal = true, .vision = detail::gemma3_siglip},
     .source = "https://huggingface.co/google/gemma-3-4b-it/blob/main/config.json"},
    // https://huggingface.co/mistralai/Mistral-Small-24B-Base-2501/blob/main/config.json (MistralForCausalLM: llama)
    {.key = "mistral-small-24b", .display_name = "Mistral-Small-24B-Base-2501",
     .hf_id = "mistralai/Mistral-Small-24B-Base-2501", .config = {.model_type = "mistral",
     .architecture = "MistralForCausalLM", .torch_dtype = dtype::bf16, .num_hidden_layers = 40, .hidden_size = 5120,
     .num_attention_heads = 32, .num_key_value_heads = 8, .head_dim = 128, .intermediate_size = 32768,
     .vocab_size = 131072, .max_position_embeddings = 32768},
     .source = "https://huggingface.co/mistralai/Mistral-Small-24B-Base-2501/blob/main/config.json"},
    // https://huggingface.co/CohereForAI/c4ai-command-r-v01/blob/main/config.json: 40 layers, hidden
    // 8192, 64 heads (no GQA), intermediate 22528, vocab 256000, logit_scale 0.0625, tied
    // embeddings, no qk norm, max_position_embeddings 8192 and model_max_length 131072.
    {.key = "command-r-v01", .display_name = "c4ai-command-r-v01", .hf_id = "CohereForAI/c4ai-command-r-v01",
     .config = {.model_type = "cohere", .architecture = "CohereForCausalLM", .torch_dtype = dtype::f16,
     .num_hidden_layers = 40, .hidden_size = 8192, .num_attention_heads = 64, .num_key_value_heads = 64,
     .head_dim = 128, .intermediate_size = 22528, .vocab_size = 256000, .max_position_embeddings = 8192,
     .model_max_length = 131072, .tie_word_embeddings = true, .logit_scale = 0.0625},
     .source = "https://huggingface.co/CohereForAI/c4ai-command-r-v01/blob/main/config.json"},
    // https://huggingface.co/CohereForAI/c4ai-command-r-plus/blob/main/config.json: 64 layers (so the
    // loader creates the per-head q/k LayerNorms, use_qk_norm), hidden 12288, 96/8 heads,
    // intermediate 33792, vocab 256000, logit_scale 0.8333333, tied; context from model_max_length.
    {.key = "command-r-plus", .display_name = "c4ai-command-r-plus", .hf_id = "CohereForAI/c4ai-command-r-plus",
     .config = {.model_type = "cohere", .architecture = "CohereForCausalLM", .torch_dtype = dtype::f16,
     .num_hidden_layers = 64, .hidden_size = 12288, .num_attention_heads = 96, .num_key_value_heads = 8,
     .head_dim = 128, .intermediate_size = 33792, .vocab_size = 256000, .max_position_embeddings = 8192,
     .model_max_length = 131072, .tie_word_embeddings = true, .logit_scale = 0.8333333},
     .source = "https://huggingface.co/CohereForAI/c4ai-command-r-plus/blob/main/config.json"},
    // GLM-4-0414 (Glm4ForCausalLM): fused gate_up_proj, partial_rotary_factor 0.5, no q/k/v biases
    // (attention_bias false: the real GLM-Z1-32B-0414 IQ4_XS load logs R10/R11 print model buffers
    // summing to the tensor bytes without them, 16775.23 MiB).
    // https://huggingface.co/THUDM/GLM-4-9B-0414/blob/main/config.json
    {.key = "glm-4-9b", .display_name = "GLM-4-9B-0414", .hf_id = "THUDM/GLM-4-9B-0414",
     .config = {.model_type = "glm4", .architecture = "Glm4ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 40, .hidden_size = 4096, .num_attention_heads = 32, .num_key_value_heads = 2,
     .head_dim = 128, .intermediate_size = 13696, .vocab_size = 151552, .max_position_embeddings = 32768,
     .partial_rotary_factor = 0.5}, .source = "https://huggingface.co/THUDM/GLM-4-9B-0414/blob/main/config.json"},
    // https://huggingface.co/THUDM/GLM-4-32B-0414/blob/main/config.json (GLM-Z1-32B-0414 has the same shapes)
    {.key = "glm-4-32b", .display_name = "GLM-4-32B-0414", .hf_id = "THUDM/GLM-4-32B-0414",
     .config = {.model_type = "glm4", .architecture = "Glm4ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 61, .hidden_size = 6144, .num_attention_heads = 48, .num_key_value_heads = 2,
     .head_dim = 128, .intermediate_size = 23040, .vocab_size = 151552, .max_position_embeddings = 32768,
     .partial_rotary_factor = 0.5}, .source = "https://huggingface.co/THUDM/GLM-4-32B-0414/blob/main/config.json"},
    // Pythia (GPTNeoXForCausalLM): no head_dim key (n_embd / n_head), rotary_pct 0.25, parallel
    // residual, untied embed_out, vocab 50304, 2048 positions.
    // https://huggingface.co/EleutherAI/pythia-1.4b/blob/main/config.json
    {.key = "pythia-1.4b", .display_name = "pythia-1.4b", .hf_id = "EleutherAI/pythia-1.4b",
     .config = {.model_type = "gpt_neox", .architecture = "GPTNeoXForCausalLM", .torch_dtype = dtype::f16,
     .num_hidden_layers = 24, .hidden_size = 2048, .num_attention_heads = 16, .num_key_value_heads = 16,
     .intermediate_size = 8192, .vocab_size = 50304, .max_position_embeddings = 2048, .partial_rotary_factor = 0.25,
     .use_parallel_residual = true}, .source = "https://huggingface.co/EleutherAI/pythia-1.4b/blob/main/config.json"},
    // https://huggingface.co/EleutherAI/pythia-2.8b/blob/main/config.json
    {.key = "pythia-2.8b", .display_name = "pythia-2.8b", .hf_id = "EleutherAI/pythia-2.8b",
     .config = {.model_type = "gpt_neox", .architecture = "GPTNeoXForCausalLM", .torch_dtype = dtype::f16,
     .num_hidden_layers = 32, .hidden_size = 2560, .num_attention_heads = 32, .num_key_value_heads = 32,
     .intermediate_size = 10240, .vocab_size = 50304, .max_position_embeddings = 2048, .partial_rotary_factor = 0.25,
     .use_parallel_residual = true}, .source = "https://huggingface.co/EleutherAI/pythia-2.8b/blob/main/config.json"},

    // Models the Hugging Face oracle measures (tests/data/hf). OPT and GPT-2 have no llama.cpp
    // conversion that vramfit models; the llama.cpp engine refuses them by name.
    // https://huggingface.co/facebook/opt-6.7b/blob/main/config.json
    {.key = "opt-6.7b", .display_name = "OPT-6.7B", .hf_id = "facebook/opt-6.7b",
     .config = {.model_type = "opt", .architecture = "OPTForCausalLM", .torch_dtype = dtype::f16,
     .num_hidden_layers = 32, .hidden_size = 4096, .num_attention_heads = 32, .intermediate_size = 16384,
     .vocab_size = 50272, .max_position_embeddings = 2048, .tie_word_embeddings = true, .word_embed_proj_dim = 4096},
     .source = "https://huggingface.co/facebook/opt-6.7b/blob/main/config.json"},
    // https://huggingface.co/facebook/opt-13b/blob/main/config.json
    {.key = "opt-13b", .display_name = "OPT-13B", .hf_id = "facebook/opt-13b",
     .config = {.model_type = "opt", .architecture = "OPTForCausalLM", .torch_dtype = dtype::f16,
     .num_hidden_layers = 40, .hidden_size = 5120, .num_attention_heads = 40, .intermediate_size = 20480,
     .vocab_size = 50272, .max_position_embeddings = 2048, .tie_word_embeddings = true, .word_embed_proj_dim = 5120},
     .source = "https://huggingface.co/facebook/opt-13b/blob/main/config.json"},
    // https://huggingface.co/facebook/opt-30b/blob/main/config.json
    {.key = "opt-30b", .display_name = "OPT-30B", .hf_id = "facebook/opt-30b",
     .config = {.model_type = "opt", .architecture = "OPTForCausalLM", .torch_dtype = dtype::f16,
     .num_hidden_layers = 48, .hidden_size = 7168, .num_attention_heads = 56, .intermediate_size = 28672,
     .vocab_size = 50272, .max_position_embeddings = 2048, .tie_word_embeddings = true, .word_embed_proj_dim = 7168},
     .source = "https://huggingface.co/facebook/opt-30b/blob/main/config.json"},
    // https://huggingface.co/facebook/opt-66b/blob/main/config.json
    {.key = "opt-66b", .display_name = "OPT-66B", .hf_id = "facebook/opt-66b",
     .config = {.model_type = "opt", .architecture = "OPTForCausalLM", .torch_dtype = dtype::f16,
     .num_hidden_layers = 64, .hidden_size = 9216, .num_attention_heads = 72, .intermediate_size = 36864,
     .vocab_size = 50272, .max_position_embeddings = 2048, .tie_word_embeddings = true, .word_embed_proj_dim = 9216},
     .source = "https://huggingface.co/facebook/opt-66b/blob/main/config.json"},
    // https://huggingface.co/openai-community/gpt2/blob/main/config.json: no torch_dtype (the
    // weights are F32), n_inner unset (4·n_embd), tied lm_head.
    {.key = "gpt2", .display_name = "GPT-2", .hf_id = "gpt2",
     .config = {.model_type = "gpt2", .architecture = "GPT2LMHeadModel", .num_hidden_layers = 12, .hidden_size = 768,
     .num_attention_heads = 12, .intermediate_size = 3072, .vocab_size = 50257, .max_position_embeddings = 1024,
     .tie_word_embeddings = true},
     .checkpoint_dtype = dtype::f32,
     .source = "https://huggingface.co/openai-community/gpt2/blob/main/config.json"},
    // https://huggingface.co/deepseek-ai/deepseek-llm-7b-chat/blob/main/config.json (LlamaForCausalLM, no GQA)
    {.key = "deepseek-llm-7b-chat", .display_name = "deepseek-llm-7b-chat", .hf_id = "deepseek-ai/deepseek-llm-7b-chat",
     .config = {.model_type = "llama", .architecture = "LlamaForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 30, .hidden_size = 4096, .num_attention_heads = 32, .num_key_value_heads = 32,
     .intermediate_size = 11008, .vocab_size = 102400, .max_position_embeddings = 4096},
     .source = "https://huggingface.co/deepseek-ai/deepseek-llm-7b-chat/blob/main/config.json"},
    // https://huggingface.co/deepseek-ai/DeepSeek-V2.5/blob/main/config.json: MLA with q LoRA, one
    // dense lead layer, 160 routed + 2 shared experts (6 used), group_limited_greedy router.
    {.key = "deepseek-v2.5", .display_name = "DeepSeek-V2.5", .hf_id = "deepseek-ai/DeepSeek-V2.5",
     .config = {.model_type = "deepseek_v2", .architecture = "DeepseekV2ForCausalLM", .torch_dtype = dtype::bf16,
     .num_hidden_layers = 60, .hidden_size = 5120, .num_attention_heads = 128, .num_key_value_heads = 128,
     .intermediate_size = 12288, .vocab_size = 102400, .max_position_embeddings = 163840,
     .rope_scaling = {.rope_type = "yarn", .factor = 40.0, .original_max_position_embeddings = 4096},
     .num_experts = 160, .num_experts_per_tok = 6, .moe_intermediate_size = 1536, .n_shared_experts = 2,
     .first_k_dense_replace = 1, .moe_layer_freq = 1, .topk_method = "group_limited_greedy", .q_lora_rank = 1536,
     .kv_lora_rank = 512, .qk_nope_head_dim = 128, .qk_rope_head_dim = 64, .v_head_dim = 128},
     .source = "https://huggingface.co/deepseek-ai/DeepSeek-V2.5/blob/main/config.json"},
}};

// Case-insensitive lookup by key or by Hub id ("meta-llama/Llama-3.1-8B"); nullptr when unknown.
[[nodiscard]] constexpr const model_entry* find(std::string_view key) noexcept {
    for (const auto& entry : models) {
        if (vramfit::detail::equal_ignoring_case(entry.key, key)) return &entry;
    }
    for (const auto& entry : models) {
        if (!entry.hf_id.empty() && vramfit::detail::equal_ignoring_case(entry.hf_id, key)) return &entry;
        if (!entry.tuned_hf_id.empty() && vramfit::detail::equal_ignoring_case(entry.tuned_hf_id, key)) return &entry;
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
using opt_6_7b = model<"opt-6.7b">;
using opt_13b = model<"opt-13b">;
using opt_30b = model<"opt-30b">;
using opt_66b = model<"opt-66b">;
using gpt2 = model<"gpt2">;
using deepseek_llm_7b_chat = model<"deepseek-llm-7b-chat">;
using deepseek_v2_5 = model<"deepseek-v2.5">;

} // namespace vramfit::catalog
