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

namespace vramfit::llama_cpp {

using catalog::model_entry;

namespace detail {

using vramfit::detail::contains_ignoring_case;
using vramfit::detail::equal_ignoring_case;

// The GGUF keys convert_hf_to_gguf.py writes for this config (its set_gguf_parameters):
// head sizes as key_length / value_length, MLA as MQA over the latent (head_count_kv 1,
// key_length kv_lora + rope, value_length kv_lora, *_mla the decompressed per-head sizes).
[[nodiscard]] constexpr model_metadata converter_metadata(const model_entry& e) {
    model_metadata md;
    md.arch = e.arch;
    md.n_ctx_train = e.n_ctx_train;
    md.n_embd = e.n_embd;
    md.n_layer = e.n_layer;
    md.n_vocab = e.n_vocab;
    if (e.n_ff != 0) md.feed_forward_length = {e.n_ff};
    if (e.n_head != 0) {
        md.head_count = {e.n_head};
        md.head_count_kv = {e.n_head_kv};
    }
    if (e.head_dim != 0) {
        md.key_length = e.head_dim;
        md.value_length = e.head_dim;
        md.rope_dimension_count = e.head_dim;
    }
    md.expert_count = e.n_expert;
    md.expert_used_count = e.n_expert_used;
    if (e.n_ff_exp != 0) md.expert_feed_forward_length = e.n_ff_exp;
    if (e.n_expert_shared != 0) md.expert_shared_count = e.n_expert_shared;
    if (e.n_layer_dense_lead != 0) md.leading_dense_block_count = e.n_layer_dense_lead;
    if (e.n_swa != 0) md.sliding_window = e.n_swa;
    if (e.swa_period != 0) md.sliding_window_pattern = {e.swa_period};
    if (e.kv_lora_rank != 0) {
        md.kv_lora_rank = e.kv_lora_rank;
        if (e.q_lora_rank != 0) md.q_lora_rank = e.q_lora_rank;
        md.head_count_kv = {1};
        md.key_length = e.kv_lora_rank + e.qk_rope_head_dim;
        md.value_length = e.kv_lora_rank;
        md.key_length_mla = e.qk_nope_head_dim + e.qk_rope_head_dim;
        md.value_length_mla = e.v_head_dim;
        md.rope_dimension_count = e.qk_rope_head_dim;
    }
    if (e.ssm_d_inner != 0) {
        md.ssm_conv_kernel = e.ssm_d_conv;
        md.ssm_inner_size = e.ssm_d_inner;
        md.ssm_state_size = e.ssm_d_state;
        md.ssm_time_step_rank = e.ssm_n_head;
        md.ssm_group_count = e.ssm_n_group;
    }
    if (e.attention_layer_mask != 0) {  // per-layer KV heads: 0 marks a short-conv layer
        md.head_count_kv.assign(e.n_layer, 0);
        for (std::uint32_t il = 0; il < e.n_layer && il < 64; ++il) {
            if ((e.attention_layer_mask >> il) & 1U) md.head_count_kv[il] = e.n_head_kv;
        }
    }
    if (e.conv_l_cache != 0) md.shortconv_l_cache = e.conv_l_cache;
    if (e.rope_dim != 0) md.rope_dimension_count = e.rope_dim;
    if (e.moe_layer_step != 0) md.interleave_moe_layer_step = e.moe_layer_step;
    if (e.logit_scale != 0.0f) md.logit_scale = e.logit_scale;
    if (e.arch == architecture::gptneox) md.use_parallel_residual = e.parallel_residual;
    md.has_output_tensor = !e.tied_embeddings;
    // q/k/v biases: optional (attention_bias), always written for qwen2 and gpt-oss (tensor_layout)
    md.has_attn_qkv_bias = e.attn_qkv_bias || e.arch == architecture::qwen2 || e.arch == architecture::gpt_oss;
    return md;
}

} // namespace detail

[[nodiscard]] constexpr result<hyperparameters> hyperparameters_of(const model_entry& entry) {
    return derive_hyperparameters(detail::converter_metadata(entry));
}

namespace detail {
[[nodiscard]] constexpr result<model_description> converted(const model_entry& entry, bool keep_native) {
    auto hparams = hyperparameters_of(entry);
    if (!hparams) return hparams.err();
    layout_options options;
    options.rope_freqs = entry.rope_freqs;
    options.attn_qkv_bias = entry.attn_qkv_bias;
    options.expert_probs_bias = entry.expert_probs_bias;
    options.mxfp4_experts = keep_native && entry.native_ftype == "MXFP4_MOE";
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
    if (!entry.native_ftype.empty() && ftype_from_name(entry.native_ftype) == ftype) return describe_converted(entry);
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
