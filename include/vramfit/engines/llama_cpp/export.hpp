// vramfit/engines/llama_cpp/export.hpp — write a catalog model as a shape-only GGUF file.
//
// The file has the metadata keys convert_hf_to_gguf.py writes for the architecture and every
// tensor's name, shape and type, in the description's order; its data section is a hole (a
// sparse file), so a 70B model costs a few MB of disk. Uses: the GGUF path of vramfit's own
// validation, and a model file that the real engine can load to check an estimate against
// (llama.cpp's allocations depend on shapes and types only, never on weight values).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/from_gguf.hpp"
#include "vramfit/formats/gguf/writer.hpp"
#include "vramfit/engines/llama_cpp/hparams.hpp"

namespace vramfit {

struct gguf_export_options {
    // A minimal SentencePiece-style vocabulary of n_vocab tokens, so that the engine's tokenizer
    // loads the file. Without it the file still describes the model for vramfit (vocab_size).
    bool with_vocabulary = true;
};

namespace detail {

inline void put_if(gguf::writer& w, architecture arch, std::string_view suffix, const std::optional<std::uint32_t>& value) {
    if (value) w.set(arch_key(arch, suffix).view(), *value);
}

// get_key_or_arr (llama-model-loader.cpp) accepts a scalar or one value per layer.
inline void put_scalar_or_array(gguf::writer& w, architecture arch, std::string_view suffix,
                                const std::vector<std::uint32_t>& values) {
    if (values.size() == 1) w.set(arch_key(arch, suffix).view(), values.front());
    else if (!values.empty()) w.set_array(arch_key(arch, suffix).view(), values);
}

inline void put_vocabulary(gguf::writer& w, std::uint32_t n_vocab) {
    // Token strings are host-side metadata; they never enter a buffer the engine reports.
    std::vector<std::string> storage(n_vocab);
    std::vector<std::string_view> tokens(n_vocab);
    for (std::uint32_t i = 0; i < n_vocab; ++i) {
        storage[i] = i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>" : "<0x" + std::to_string(i) + ">";
        tokens[i] = storage[i];
    }
    std::vector<float> scores(n_vocab, 0.0f);
    std::vector<std::int32_t> types(n_vocab, 1);  // LLAMA_TOKEN_TYPE_NORMAL
    types[0] = 2;                                 // unknown
    if (n_vocab > 2) types[1] = types[2] = 3;     // control
    w.set("tokenizer.ggml.model", std::string_view{"llama"});
    w.set_array("tokenizer.ggml.tokens", tokens);
    w.set_array("tokenizer.ggml.scores", scores);
    w.set_array("tokenizer.ggml.token_type", types);
    w.set("tokenizer.ggml.bos_token_id", std::uint32_t{1});
    w.set("tokenizer.ggml.eos_token_id", std::uint32_t{2});
}

} // namespace detail

// A writer holding the converter's metadata for `md` and every tensor of `model`.
inline gguf::writer make_gguf_writer(const model_metadata& md, const model_description& model,
                                     const gguf_export_options& options = {}) {
    const architecture a = md.arch;
    gguf::writer w;
    w.set("general.architecture", architecture_name(a));
    w.set("general.name", model.name.view());
    w.set("general.alignment", model.files.empty() ? std::uint32_t{32} : model.files.front().alignment);
    w.set(detail::arch_key(a, "context_length").view(), md.n_ctx_train);
    w.set(detail::arch_key(a, "embedding_length").view(), md.n_embd);
    w.set(detail::arch_key(a, "block_count").view(), md.n_layer);
    w.set(detail::arch_key(a, "vocab_size").view(), md.n_vocab);
    detail::put_scalar_or_array(w, a, "attention.head_count", md.head_count);
    detail::put_scalar_or_array(w, a, "attention.head_count_kv", md.head_count_kv);
    detail::put_scalar_or_array(w, a, "feed_forward_length", md.feed_forward_length);
    detail::put_if(w, a, "attention.key_length", md.key_length);
    detail::put_if(w, a, "attention.value_length", md.value_length);
    detail::put_if(w, a, "rope.dimension_count", md.rope_dimension_count);
    if (md.expert_count != 0) {
        w.set(detail::arch_key(a, "expert_count").view(), md.expert_count);
        w.set(detail::arch_key(a, "expert_used_count").view(), md.expert_used_count);
    }
    detail::put_if(w, a, "expert_feed_forward_length", md.expert_feed_forward_length);
    detail::put_if(w, a, "expert_shared_count", md.expert_shared_count);
    detail::put_if(w, a, "expert_shared_feed_forward_length", md.expert_shared_feed_forward_length);
    detail::put_if(w, a, "leading_dense_block_count", md.leading_dense_block_count);
    detail::put_if(w, a, "attention.sliding_window", md.sliding_window);
    detail::put_scalar_or_array(w, a, "attention.sliding_window_pattern", md.sliding_window_pattern);
    detail::put_if(w, a, "attention.q_lora_rank", md.q_lora_rank);
    detail::put_if(w, a, "attention.kv_lora_rank", md.kv_lora_rank);
    detail::put_if(w, a, "attention.key_length_mla", md.key_length_mla);
    detail::put_if(w, a, "attention.value_length_mla", md.value_length_mla);
    detail::put_if(w, a, "ssm.conv_kernel", md.ssm_conv_kernel);
    detail::put_if(w, a, "ssm.inner_size", md.ssm_inner_size);
    detail::put_if(w, a, "ssm.state_size", md.ssm_state_size);
    detail::put_if(w, a, "ssm.time_step_rank", md.ssm_time_step_rank);
    detail::put_if(w, a, "ssm.group_count", md.ssm_group_count);
    detail::put_if(w, a, "shortconv.l_cache", md.shortconv_l_cache);
    detail::put_if(w, a, "interleave_moe_layer_step", md.interleave_moe_layer_step);
    if (md.use_parallel_residual) w.set(detail::arch_key(a, "use_parallel_residual").view(), *md.use_parallel_residual);
    if (md.logit_scale) w.set(detail::arch_key(a, "logit_scale").view(), *md.logit_scale);
    if (options.with_vocabulary) detail::put_vocabulary(w, md.n_vocab);
    for (const auto& t : model.tensors) {
        w.add_tensor(t.name.view(), std::span<const std::int64_t>(t.ne.data(), t.n_dims), t.type);
    }
    return w;
}

// Writes `model` — a description of the catalog entry `entry` (any quantization) — as a sparse,
// shape-only GGUF file at `path`. Returns the file's apparent size.
inline result<bytes> write_shape_only_gguf(const catalog::model_entry& entry, const model_description& model,
                                           const std::filesystem::path& path, const gguf_export_options& options = {}) {
    auto metadata = llama_cpp::detail::converter_metadata(entry);
    if (!metadata) return metadata.err();
    return make_gguf_writer(*metadata, model, options).write_sparse(path);
}

} // namespace vramfit
