// vramfit/engines/llama_cpp/from_catalog.hpp — a catalog model as llama.cpp would load it: the
// GGUF metadata convert_hf_to_gguf.py writes for its config.json, the hyper-parameters the engine
// derives from them, the converter's tensor list, and llama-quantize's re-typing for an ftype.
//
//   auto model = vramfit::llama_cpp::describe("llama-3.1-8b:Q4_K_M");   // or a bare key: default ftype
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

#include "vramfit/catalog/models.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/llama_cpp/architecture.hpp"
#include "vramfit/engines/llama_cpp/convert.hpp"
#include "vramfit/engines/llama_cpp/hparams.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/engines/llama_cpp/quantize.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::llama_cpp {

using catalog::model_entry;

namespace detail {

// The architecture convert_hf_to_gguf.py converts a config.json to: the model class registered
// for architectures[0] (ModelBase.register), whose model_arch is the LLM_ARCH written as
// general.architecture.
struct converter_class {
    std::string_view hf_class;
    architecture arch;
};
inline constexpr converter_class converter_classes[] = {
    {"LlamaForCausalLM", architecture::llama},       {"MistralForCausalLM", architecture::llama},
    {"MixtralForCausalLM", architecture::llama},     {"Qwen2ForCausalLM", architecture::qwen2},
    {"Qwen3ForCausalLM", architecture::qwen3},       {"Qwen3MoeForCausalLM", architecture::qwen3moe},
    {"Qwen2MoeForCausalLM", architecture::qwen2moe}, {"Gemma2ForCausalLM", architecture::gemma2},
    {"Gemma3ForCausalLM", architecture::gemma3},     {"Gemma3ForConditionalGeneration", architecture::gemma3},
    {"Phi3ForCausalLM", architecture::phi3},         {"GptOssForCausalLM", architecture::gpt_oss},
    {"DeepseekV2ForCausalLM", architecture::deepseek2}, {"DeepseekV3ForCausalLM", architecture::deepseek2},
    {"Mamba2ForCausalLM", architecture::mamba2},     {"Lfm2ForCausalLM", architecture::lfm2},
    {"Llama4ForCausalLM", architecture::llama4},     {"Llama4ForConditionalGeneration", architecture::llama4},
    {"CohereForCausalLM", architecture::command_r},  {"Cohere2ForCausalLM", architecture::cohere2},
    {"Glm4ForCausalLM", architecture::glm4},         {"GPTNeoXForCausalLM", architecture::gptneox},
    {"Starcoder2ForCausalLM", architecture::starcoder2}, {"PhiForCausalLM", architecture::phi2},
    {"GemmaForCausalLM", architecture::gemma},
};
// Classes the converter registers whose LLM_ARCH vramfit does not describe (no enum value).
inline constexpr std::string_view converter_classes_not_modelled[][2] = {
    {"GPT2LMHeadModel", "gpt2"}, {"FalconForCausalLM", "falcon"}, {"BloomForCausalLM", "bloom"},
    {"MPTForCausalLM", "mpt"},   {"GPTBigCodeForCausalLM", "starcoder"},
};

} // namespace detail

// The llama.cpp architecture of a config.json, or an error saying why llama.cpp cannot take it.
[[nodiscard]] constexpr result<architecture> architecture_of(const model_config& config) {
    const std::string_view hf_class = config.architecture.view();
    for (const auto& c : detail::converter_classes) {
        if (c.hf_class != hf_class) continue;
        if (!is_supported(c.arch)) {
            error failure{errc::unsupported_architecture, "llama.cpp converts "};
            failure.with(hf_class).with(" to '").with(architecture_name(c.arch)).with("', which vramfit does not model yet; ");
            return append_supported_list(failure);
        }
        return c.arch;
    }
    for (const auto& c : detail::converter_classes_not_modelled) {
        if (c[0] != hf_class) continue;
        error failure{errc::unsupported_architecture, "llama.cpp converts "};
        failure.with(hf_class).with(" to '").with(c[1]).with("', which vramfit does not model yet; ");
        return append_supported_list(failure);
    }
    error failure{errc::unsupported_architecture, "llama.cpp cannot load '"};
    failure.with(hf_class.empty() ? std::string_view{"a model without architectures"} : hf_class)
        .with("': convert_hf_to_gguf.py registers no converter for it (another engine may run it)");
    return failure;
}

// The llama.cpp ftype a published checkpoint is already in: MXFP4_MOE for an MXFP4
// quantization_config (gpt-oss); empty when its weights are plain 16/32-bit.
[[nodiscard]] constexpr std::string_view native_ftype(const model_entry& entry) noexcept {
    return entry.config.quantization.method == quant_method::mxfp4 ? std::string_view{"MXFP4_MOE"} : std::string_view{};
}

namespace detail {

// The GGUF keys convert_hf_to_gguf.py writes for this config (its set_gguf_parameters):
// head sizes as key_length / value_length, MLA as MQA over the latent (head_count_kv 1,
// key_length kv_lora + rope, value_length kv_lora, *_mla the decompressed per-head sizes).
[[nodiscard]] constexpr result<model_metadata> converter_metadata(const model_config& c) {
    auto arch = architecture_of(c);
    if (!arch) return arch.err();
    model_metadata md;
    md.arch = *arch;
    md.n_ctx_train = c.max_position_embeddings;
    // CommandR2Model.__init__: model_max_length before max_position_embeddings.
    if (md.arch == architecture::command_r && c.model_max_length != 0) md.n_ctx_train = c.model_max_length;
    // Mamba2Model.set_gguf_parameters: no trained limit, 2^20 written as the context length.
    if (md.arch == architecture::mamba2) md.n_ctx_train = 1U << 20;
    md.n_embd = c.hidden_size;
    md.n_layer = c.num_hidden_layers;
    md.n_vocab = c.vocab_size;
    // Mamba2Model.set_vocab: the vocabulary rounded up to pad_vocab_size_multiple.
    if (c.pad_vocab_size_multiple != 0) {
        md.n_vocab = (c.vocab_size + c.pad_vocab_size_multiple - 1) / c.pad_vocab_size_multiple * c.pad_vocab_size_multiple;
    }
    std::uint32_t feed_forward = c.intermediate_size;
    if (md.arch == architecture::llama4) feed_forward = c.intermediate_size_mlp;  // Llama4Model: intermediate_size_mlp
    if (c.block_auto_adjust_ff_dim) {  // LFM2Model.set_gguf_parameters
        auto ff = static_cast<std::uint32_t>(2 * static_cast<std::uint64_t>(feed_forward) / 3);
        if (c.block_ffn_dim_multiplier != 0.0) ff = static_cast<std::uint32_t>(c.block_ffn_dim_multiplier * ff);
        if (c.block_multiple_of != 0) ff = c.block_multiple_of * ((ff + c.block_multiple_of - 1) / c.block_multiple_of);
        feed_forward = ff;
    }
    if (feed_forward != 0) md.feed_forward_length = {feed_forward};
    if (c.num_attention_heads != 0) {
        md.head_count = {c.num_attention_heads};
        md.head_count_kv = {c.kv_heads()};
    }
    if (c.head_dim != 0) {
        md.key_length = c.head_dim;
        md.value_length = c.head_dim;
        md.rope_dimension_count = c.head_dim;
    }
    md.expert_count = c.num_experts;
    md.expert_used_count = c.num_experts_per_tok;
    std::uint32_t expert_feed_forward = c.moe_intermediate_size;
    // GptOssModel and Llama4Model write intermediate_size as the experts' width.
    if (md.arch == architecture::gpt_oss || md.arch == architecture::llama4) expert_feed_forward = c.intermediate_size;
    if (expert_feed_forward != 0) md.expert_feed_forward_length = expert_feed_forward;
    if (c.n_shared_experts != 0) md.expert_shared_count = c.n_shared_experts;
    if (c.first_k_dense_replace != 0) md.leading_dense_block_count = c.first_k_dense_replace;
    if (c.sliding_window != 0) md.sliding_window = c.sliding_window;
    if (c.sliding_window_pattern != 0) md.sliding_window_pattern = {c.sliding_window_pattern};
    if (c.kv_lora_rank != 0) {
        md.kv_lora_rank = c.kv_lora_rank;
        if (c.q_lora_rank != 0) md.q_lora_rank = c.q_lora_rank;
        md.head_count_kv = {1};
        md.key_length = c.kv_lora_rank + c.qk_rope_head_dim;
        md.value_length = c.kv_lora_rank;
        md.key_length_mla = c.qk_nope_head_dim + c.qk_rope_head_dim;
        md.value_length_mla = c.v_head_dim;
        md.rope_dimension_count = c.qk_rope_head_dim;
    }
    if (c.ssm_inner_size != 0) {
        md.ssm_conv_kernel = c.ssm_conv_kernel;
        md.ssm_inner_size = c.ssm_inner_size;
        md.ssm_state_size = c.ssm_state_size;
        md.ssm_time_step_rank = c.ssm_num_heads;
        md.ssm_group_count = c.ssm_n_groups;
    }
    if (!c.full_attention_layers.empty()) {  // per-layer KV heads: 0 marks a short-conv layer
        md.head_count_kv.assign(c.num_hidden_layers, 0);
        for (std::uint32_t il = 0; il < c.num_hidden_layers; ++il) {
            if (c.full_attention_layers.contains(il)) md.head_count_kv[il] = c.kv_heads();
        }
    }
    if (c.conv_l_cache != 0) md.shortconv_l_cache = c.conv_l_cache;
    // GPTNeoXModel: int(rotary_pct · head size); Glm4Model: int(partial_rotary_factor · head_dim).
    if (c.partial_rotary_factor != 0.0) {
        md.rope_dimension_count = static_cast<std::uint32_t>(c.partial_rotary_factor * c.attention_head_dim());
    }
    if (c.interleave_moe_layer_step != 0) md.interleave_moe_layer_step = c.interleave_moe_layer_step;
    if (c.logit_scale != 0.0) md.logit_scale = static_cast<float>(c.logit_scale);
    if (md.arch == architecture::gptneox) md.use_parallel_residual = c.use_parallel_residual;
    md.has_output_tensor = !c.tie_word_embeddings;
    // q/k/v biases: optional (attention_bias), always written for qwen2 and gpt-oss (tensor_layout)
    md.has_attn_qkv_bias = c.attention_bias || md.arch == architecture::qwen2 || md.arch == architecture::gpt_oss;
    return md;
}

[[nodiscard]] constexpr result<model_metadata> converter_metadata(const model_entry& entry) {
    return converter_metadata(entry.config);
}

} // namespace detail

[[nodiscard]] constexpr result<hyperparameters> hyperparameters_of(const model_entry& entry) {
    auto metadata = detail::converter_metadata(entry.config);
    if (!metadata) return metadata.err();
    return derive_hyperparameters(*metadata);
}

namespace detail {
[[nodiscard]] constexpr result<model_description> converted(const model_entry& entry, bool keep_native) {
    auto hparams = hyperparameters_of(entry);
    if (!hparams) return hparams.err();
    layout_options options;
    // LlamaModel.prepare_tensors: rope_freqs.weight for rope_type "llama3"; DeepseekV2Model: the
    // router's e_score_correction_bias with topk_method "noaux_tc".
    options.rope_freqs = entry.config.rope_scaling.rope_type.view() == "llama3";
    options.attn_qkv_bias = entry.config.attention_bias;
    options.expert_probs_bias = entry.config.topk_method.view() == "noaux_tc";
    options.mxfp4_experts = keep_native && native_ftype(entry) == "MXFP4_MOE";
    auto tensors = tensor_layout(*hparams, options);
    if (!tensors) return tensors.err();
    model_description model;
    model.name = entry.key;
    model.hparams = std::move(*hparams);
    model.tensors = std::move(*tensors);
    model.files.assign(1, source_file{});
    assign_offsets(model);
    return model;
}
} // namespace detail

// The F16 conversion of the model (converter typing, quantizer order, offsets laid out).
[[nodiscard]] constexpr result<model_description> describe_f16(const model_entry& entry) {
    return detail::converted(entry, false);
}

// The converter's output from the published checkpoint: describe_f16, except that weights the
// checkpoint already stores quantized keep that format (gpt-oss: MXFP4 experts). This is how the
// official gpt-oss GGUFs are made (16-bit elsewhere; they use BF16, the same size as F16 here).
[[nodiscard]] constexpr result<model_description> describe_converted(const model_entry& entry) {
    return detail::converted(entry, true);
}

// The model at `ftype`: its native format gives the converter's output (describe_converted);
// any other ftype is llama-quantize's re-typing of the F16 conversion.
[[nodiscard]] constexpr result<model_description> describe(const model_entry& entry, llama_ftype ftype) {
    if (!native_ftype(entry).empty() && ftype_from_name(native_ftype(entry)) == ftype) return describe_converted(entry);
    auto model = describe_f16(entry);
    if (!model) return model.err();
    if (ftype != llama_ftype::mostly_f16) {
        auto quantized = quantize(*model, ftype);
        if (!quantized) return quantized.err();
    }
    return model;
}

// "llama-3.1-8b:Q4_K_M", or a bare key for the model's default quantization.
[[nodiscard]] constexpr result<model_description> describe(std::string_view name_colon_ftype) {
    const auto colon = name_colon_ftype.find(':');
    const std::string_view key = name_colon_ftype.substr(0, colon);
    auto found = catalog::lookup(key);
    if (!found) return found.err();
    const catalog::model_entry* entry = *found;
    const std::string_view ftype_text = colon == std::string_view::npos ? entry->default_ftype : name_colon_ftype.substr(colon + 1);
    const auto ftype = ftype_from_name(ftype_text);
    if (!ftype) {
        error failure{errc::unknown_name, "unknown quantization '"};
        failure.with(ftype_text).with("' for '").with(entry->key).with("' (llama-quantize names, e.g. Q4_K_M, Q8_0, IQ4_XS, MXFP4_MOE)");
        return failure;
    }
    return describe(*entry, *ftype);
}

} // namespace vramfit::llama_cpp
