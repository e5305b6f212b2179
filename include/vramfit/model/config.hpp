// vramfit/model/config.hpp — what a Hugging Face config.json says about a model, under its own
// field names, independent of any engine.
//
// A catalog entry is one of these written by hand (catalog/models.hpp); formats/hf/config.hpp
// reads one from a config.json. Engines derive everything else from it: llama.cpp the GGUF keys
// its converter would write (engines/llama_cpp/from_catalog.hpp), transformers the module tree
// `from_config` builds. Fields are the facts as written; where a config class renames a field
// (GPT-2's n_embd, OPT's ffn_dim) the canonical name holds it, as the class's `attribute_map`
// does. A zero means "not set" unless the comment says otherwise.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "vramfit/core/fixed_string.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit {

// Identifiers in config.json (model_type, class names, dtype and method names) are short;
// a reader rejects longer ones rather than truncating them.
using config_name = fixed_string<48>;

// A set of layer indices (layer_types, full_attn_idxs, mlp_only_layers): up to 256 layers,
// enough for every published decoder (Llama-3.1-405B has 126).
struct layer_set {
    static constexpr std::uint32_t max_layers = 256;
    std::array<std::uint64_t, max_layers / 64> words{};

    constexpr void insert(std::uint32_t layer) noexcept {
        if (layer < max_layers) words[layer / 64] |= std::uint64_t{1} << (layer % 64);
    }
    [[nodiscard]] constexpr bool contains(std::uint32_t layer) const noexcept {
        return layer < max_layers && ((words[layer / 64] >> (layer % 64)) & 1u) != 0;
    }
    [[nodiscard]] constexpr bool empty() const noexcept {
        for (auto word : words) if (word != 0) return false;
        return true;
    }
    friend constexpr bool operator==(const layer_set&, const layer_set&) = default;

    // layer_set::of({2, 5, 8}): a list as written in config.json (full_attn_idxs).
    [[nodiscard]] static constexpr layer_set of(std::initializer_list<std::uint32_t> layers) noexcept {
        layer_set set;
        for (auto layer : layers) set.insert(layer);
        return set;
    }
};

// rope_scaling (or rope_parameters in newer configs).
struct rope_scaling_config {
    config_name rope_type{};  // "llama3", "yarn", "linear", "dynamic", "longrope", "default"; empty: none
    double factor = 0.0;
    std::uint32_t original_max_position_embeddings = 0;
    double low_freq_factor = 0.0;
    double high_freq_factor = 0.0;
};

enum class quant_method : std::uint8_t { none, bitsandbytes, gptq, awq, fp8, mxfp4, compressed_tensors, other };

// quantization_config of a pre-quantized checkpoint, or the one a user asks for at load time.
struct quantization_config {
    quant_method method = quant_method::none;
    config_name method_name{};       // quant_method as written
    std::uint32_t bits = 0;          // GPTQ/AWQ "bits"; bitsandbytes 8 or 4
    std::uint32_t group_size = 0;    // GPTQ/AWQ group_size; 0: per channel
    bool load_in_8bit = false;       // bitsandbytes
    bool load_in_4bit = false;
    config_name bnb_4bit_quant_type{};  // "fp4" (default) or "nf4"
    bool bnb_4bit_use_double_quant = false;
    bool llm_int8_enable_fp32_cpu_offload = false;
    std::array<std::uint32_t, 2> weight_block_size{};  // FP8 block-wise scales ([128, 128]); {0, 0}: per tensor
    bool dequantize = false;          // MXFP4, FP8: load the quantized weights in the model's dtype
    // GPTQ / AWQ (GPTQConfig, AwqConfig: sym True, desc_act False, zero_point True by default).
    bool sym = true;
    bool desc_act = false;
    bool zero_point = true;
    config_name format{};             // AWQ "version" / "format" ("gemm"), GPTQ "format" / "checkpoint_format"
    // GPTQ: block_name_to_quantize or modules_in_block_to_quantize given (not the whole decoder block).
    bool gptq_block_selection = false;
    // FP8 (FineGrainedFP8Config): "dynamic" (default) or "static"; scale_fmt "float" or "ue8m0";
    // expert_dtype "fp8" or "fp4"; modules_to_convert (FP8 embeddings) given.
    config_name activation_scheme{};
    config_name scale_fmt{};
    config_name expert_dtype{};
    bool fp8_modules_to_convert = false;
    // modules_to_not_convert (FP8 also reads "ignored_layers"): absent or null, a list of up to
    // max_not_convert patterns, or a list this struct cannot hold (too many or too long entries).
    static constexpr std::size_t max_not_convert = 8;
    bool modules_to_not_convert_given = false;
    bool modules_to_not_convert_overflow = false;
    std::uint32_t modules_to_not_convert_count = 0;
    std::array<config_name, max_not_convert> modules_to_not_convert{};
};

struct model_config {
    config_name model_type{};    // "llama", "qwen3_moe"; for a multimodal config, the text model's
    config_name architecture{};  // architectures[0]: "LlamaForCausalLM"
    std::optional<dtype> torch_dtype{};  // torch_dtype / dtype; absent in some configs

    // The decoder.
    std::uint32_t num_hidden_layers = 0;
    std::uint32_t hidden_size = 0;
    std::uint32_t num_attention_heads = 0;
    std::uint32_t num_key_value_heads = 0;  // 0: as num_attention_heads
    std::uint32_t head_dim = 0;             // 0: hidden_size / num_attention_heads
    std::uint32_t intermediate_size = 0;    // OPT: ffn_dim; GPT-2: n_inner (0: 4·hidden_size)
    std::uint32_t intermediate_size_mlp = 0;  // Llama 4: the dense layers' width (intermediate_size: the experts')
    std::uint32_t vocab_size = 0;
    std::uint32_t pad_vocab_size_multiple = 0;  // mamba_ssm configs: the embedding rounds vocab_size up to this
    std::uint32_t max_position_embeddings = 0;  // 0: no limit (Mamba)
    std::uint32_t model_max_length = 0;         // Command-R: the usable context, above max_position_embeddings
    bool tie_word_embeddings = false;  // as the config class resolves it (its default when absent)
    bool attention_bias = false;
    bool mlp_bias = false;
    double rms_norm_eps = 0.0;
    double rope_theta = 0.0;
    double partial_rotary_factor = 0.0;  // GPT-NeoX rotary_pct, GLM/Phi partial_rotary_factor; 0: full
    rope_scaling_config rope_scaling{};
    bool use_parallel_residual = false;  // GPT-NeoX
    double logit_scale = 0.0;            // Command-R

    // OPT: word_embed_proj_dim (a projection when it differs from hidden_size),
    // do_layer_norm_before, enable_bias.
    std::uint32_t word_embed_proj_dim = 0;
    bool do_layer_norm_before = true;
    bool enable_bias = true;

    // Sliding-window attention: the window, and which layers use it (layer_types entries
    // "sliding_attention", or every sliding_window_pattern-th layer full as in Gemma 3).
    std::uint32_t sliding_window = 0;
    std::uint32_t sliding_window_pattern = 0;
    layer_set sliding_layers{};

    // Mixture of experts: num_local_experts (Mixtral, gpt-oss) / num_experts (Qwen) /
    // n_routed_experts (DeepSeek) all land in num_experts.
    std::uint32_t num_experts = 0;
    std::uint32_t num_experts_per_tok = 0;
    std::uint32_t moe_intermediate_size = 0;  // 0: the experts use intermediate_size
    std::uint32_t n_shared_experts = 0;
    std::uint32_t shared_expert_intermediate_size = 0;  // Qwen2-MoE
    std::uint32_t first_k_dense_replace = 0;            // DeepSeek: leading dense layers
    std::uint32_t moe_layer_freq = 0;                   // DeepSeek: every n-th layer is MoE
    std::uint32_t decoder_sparse_step = 0;              // Qwen-MoE
    std::uint32_t interleave_moe_layer_step = 0;        // Llama 4
    layer_set mlp_only_layers{};                        // Qwen-MoE: dense layers
    config_name topk_method{};                          // DeepSeek: "noaux_tc" adds e_score_correction_bias

    // Multi-head latent attention (DeepSeek-V2/V3).
    std::uint32_t q_lora_rank = 0;
    std::uint32_t kv_lora_rank = 0;
    std::uint32_t qk_nope_head_dim = 0;
    std::uint32_t qk_rope_head_dim = 0;
    std::uint32_t v_head_dim = 0;

    // State-space layers (Mamba-2): conv_kernel, expand·hidden_size, state_size,
    // num_heads, n_groups.
    std::uint32_t ssm_conv_kernel = 0;
    std::uint32_t ssm_inner_size = 0;
    std::uint32_t ssm_state_size = 0;
    std::uint32_t ssm_num_heads = 0;
    std::uint32_t ssm_n_groups = 0;

    // LFM2: conv_L_cache and full_attn_idxs (the attention layers; empty: all of them).
    std::uint32_t conv_l_cache = 0;
    layer_set full_attention_layers{};
    // LFM2: block_ff_dim is intermediate_size; with block_auto_adjust_ff_dim the MLP's width is
    // derived from it with block_ffn_dim_multiplier and block_multiple_of.
    bool block_auto_adjust_ff_dim = false;
    double block_ffn_dim_multiplier = 0.0;
    std::uint32_t block_multiple_of = 0;

    // A multimodal config whose text model is described above (text_config); the vision tower
    // is described by the engine that builds it, from vision_config's facts below.
    bool multimodal = false;
    // vision_config of a multimodal config (SigLIP in Gemma 3), under its field names; zeros
    // when there is none. Transformers builds the tower's modules from these.
    struct vision_tower_config {
        std::uint32_t hidden_size = 0;
        std::uint32_t intermediate_size = 0;
        std::uint32_t num_hidden_layers = 0;
        std::uint32_t num_attention_heads = 0;
        std::uint32_t image_size = 0;
        std::uint32_t patch_size = 0;
        std::uint32_t num_channels = 3;
    } vision{};

    quantization_config quantization{};

    [[nodiscard]] constexpr std::uint32_t kv_heads() const noexcept {
        return num_key_value_heads != 0 ? num_key_value_heads : num_attention_heads;
    }
    [[nodiscard]] constexpr std::uint32_t attention_head_dim() const noexcept {
        if (head_dim != 0) return head_dim;
        return num_attention_heads != 0 ? hidden_size / num_attention_heads : 0;
    }
    [[nodiscard]] constexpr bool is_moe() const noexcept { return num_experts != 0; }
    [[nodiscard]] constexpr bool is_mla() const noexcept { return kv_lora_rank != 0; }
};

} // namespace vramfit
