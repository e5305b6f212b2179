// vramfit/engines/llama_cpp/from_gguf.hpp — a GGUF header turned into a model_description.
//
// Reads the `<arch>.*` keys the way llama.cpp's loader does (llama_model::load_hparams,
// src/llama-model.cpp; llama_model_loader::get_key / get_key_or_arr / get_arr_n,
// src/llama-model-loader.cpp) into a model_metadata, then applies the engine's per-architecture
// rules (engines/llama_cpp/hparams.hpp). The tensor list and file layout come from the file itself.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "vramfit/engines/llama_cpp/architecture.hpp"
#include "vramfit/core/fixed_string.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/formats/gguf/reader.hpp"
#include "vramfit/formats/gguf/file.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/engines/llama_cpp/hparams.hpp"
#include "vramfit/engines/llama_cpp/convert.hpp"

namespace vramfit {

namespace detail {

using key_name = fixed_string<128>;

[[nodiscard]] constexpr key_name arch_key(architecture arch, std::string_view suffix) {
    key_name key{architecture_name(arch)};
    key.append(".");
    key.append(suffix);
    return key;
}

[[nodiscard]] constexpr error wrong_type(std::string_view key, std::string_view expected) {
    error failure{errc::bad_value, "key '"};
    failure.with(key).with("' must be ").with(expected);
    return failure;
}

// get_key for an unsigned 32-bit field: absent → nullopt; present with another type or a value
// that does not fit → error (the engine's loader throws on a type mismatch too).
[[nodiscard]] constexpr result<std::optional<std::uint32_t>> read_u32(const gguf::header& h, std::string_view key) {
    const auto type = h.type_of(key);
    if (!type) return std::optional<std::uint32_t>{};
    const auto value = h.get_uint(key);
    if (!value || *value > 0xffffffffULL) return wrong_type(key, "an unsigned 32-bit integer");
    return std::optional<std::uint32_t>{static_cast<std::uint32_t>(*value)};
}

// get_key_or_arr: a scalar, or an array of integers/bools (empty vector when absent).
[[nodiscard]] constexpr result<std::vector<std::uint32_t>> read_u32_or_array(const gguf::header& h, std::string_view key) {
    const auto type = h.type_of(key);
    if (!type) return std::vector<std::uint32_t>{};
    if (*type != gguf::value_type::array) {
        auto scalar = read_u32(h, key);
        if (!scalar) return scalar.err();
        return std::vector<std::uint32_t>{**scalar};
    }
    const auto size = h.array_size(key);
    if (!size || *size == 0 || *size > max_layers) {
        error failure{errc::bad_value, "key '"};
        failure.with(key).with("': array length must be 1..").with_number(max_layers);
        return failure;
    }
    const auto values = h.get_int_array(key);
    if (!values) return wrong_type(key, "an array of integers");
    std::vector<std::uint32_t> out;
    out.reserve(values->size());
    for (const auto v : *values) {
        if (v < 0 || v > 0xffffffffLL) return wrong_type(key, "an array of unsigned 32-bit integers");
        out.push_back(static_cast<std::uint32_t>(v));
    }
    return out;
}

// Fills one optional field from `<arch>.<suffix>`; false (with `failure` set) on a bad value.
struct metadata_reader {
    const gguf::header& h;
    architecture arch;
    error failure{};

    constexpr bool optional_u32(std::string_view suffix, std::optional<std::uint32_t>& field) {
        auto value = read_u32(h, arch_key(arch, suffix).view());
        if (!value) { failure = value.err(); return false; }
        field = *value;
        return true;
    }
    constexpr bool u32_or_zero(std::string_view suffix, std::uint32_t& field) {
        std::optional<std::uint32_t> value;
        if (!optional_u32(suffix, value)) return false;
        field = value.value_or(0);
        return true;
    }
    constexpr bool optional_bool(std::string_view suffix, std::optional<bool>& field) {
        const auto key = arch_key(arch, suffix);
        if (!h.type_of(key.view())) return true;
        const auto value = h.get_bool(key.view());
        if (!value) { failure = wrong_type(key.view(), "a bool"); return false; }
        field = *value;
        return true;
    }
    // get_key for a float field: the engine's loader accepts only float32 (GGUFMeta type check).
    constexpr bool optional_float(std::string_view suffix, std::optional<float>& field) {
        const auto key = arch_key(arch, suffix);
        const auto type = h.type_of(key.view());
        if (!type) return true;
        if (*type != gguf::value_type::float32) { failure = wrong_type(key.view(), "a float32"); return false; }
        field = static_cast<float>(*h.get_float(key.view()));
        return true;
    }
    constexpr bool per_layer(std::string_view suffix, std::vector<std::uint32_t>& field) {
        auto value = read_u32_or_array(h, arch_key(arch, suffix).view());
        if (!value) { failure = value.err(); return false; }
        field = std::move(*value);
        return true;
    }
};

} // namespace detail

// The metadata of a GGUF header as the engine reads it (no rules applied yet).
constexpr result<model_metadata> read_model_metadata(const gguf::header& metadata, const std::vector<tensor_info>& tensors) {
    const auto arch_name = metadata.get_string(gguf::keys::general_architecture);
    if (!arch_name) {
        if (metadata.has(gguf::keys::general_architecture)) return detail::wrong_type(gguf::keys::general_architecture, "a string");
        return error{errc::missing_key, "required key 'general.architecture' is missing"};
    }
    auto arch = supported_architecture(*arch_name);
    if (!arch) return arch.err();

    model_metadata md;
    md.arch = *arch;
    detail::metadata_reader r{metadata, *arch};
    const bool read_all =
        r.u32_or_zero("context_length", md.n_ctx_train) && r.u32_or_zero("embedding_length", md.n_embd) &&
        r.u32_or_zero("block_count", md.n_layer) && r.per_layer("attention.head_count", md.head_count) &&
        r.per_layer("attention.head_count_kv", md.head_count_kv) && r.per_layer("feed_forward_length", md.feed_forward_length) &&
        r.optional_u32("attention.key_length", md.key_length) && r.optional_u32("attention.value_length", md.value_length) &&
        r.optional_u32("rope.dimension_count", md.rope_dimension_count) && r.u32_or_zero("expert_count", md.expert_count) &&
        r.u32_or_zero("expert_used_count", md.expert_used_count) &&
        r.optional_u32("expert_feed_forward_length", md.expert_feed_forward_length) &&
        r.optional_u32("expert_shared_count", md.expert_shared_count) &&
        r.optional_u32("expert_shared_feed_forward_length", md.expert_shared_feed_forward_length) &&
        r.optional_u32("leading_dense_block_count", md.leading_dense_block_count) &&
        r.optional_u32("attention.sliding_window", md.sliding_window) &&
        r.per_layer("attention.sliding_window_pattern", md.sliding_window_pattern) &&
        r.optional_u32("attention.q_lora_rank", md.q_lora_rank) && r.optional_u32("attention.kv_lora_rank", md.kv_lora_rank) &&
        r.optional_u32("attention.key_length_mla", md.key_length_mla) &&
        r.optional_u32("attention.value_length_mla", md.value_length_mla) &&
        r.optional_u32("ssm.conv_kernel", md.ssm_conv_kernel) && r.optional_u32("ssm.inner_size", md.ssm_inner_size) &&
        r.optional_u32("ssm.state_size", md.ssm_state_size) && r.optional_u32("ssm.time_step_rank", md.ssm_time_step_rank) &&
        r.optional_u32("ssm.group_count", md.ssm_group_count) &&
        r.optional_u32("shortconv.l_cache", md.shortconv_l_cache) &&
        r.optional_u32("interleave_moe_layer_step", md.interleave_moe_layer_step) &&
        r.optional_bool("use_parallel_residual", md.use_parallel_residual) &&
        r.optional_float("logit_scale", md.logit_scale);
    if (!read_all) return r.failure;

    // The vocabulary the tensors are created with: the tokenizer's token list (llama_vocab), else
    // <arch>.vocab_size (get_key(LLM_KV_VOCAB_SIZE) || get_arr_n(LLM_KV_TOKENIZER_LIST)), else
    // the embedding matrix itself.
    if (const auto tokens = metadata.array_size("tokenizer.ggml.tokens"); tokens && *tokens > 0 && *tokens <= 0xffffffffULL) {
        md.n_vocab = static_cast<std::uint32_t>(*tokens);
    } else {
        std::optional<std::uint32_t> vocab_size;
        if (!r.optional_u32("vocab_size", vocab_size)) return r.failure;
        if (vocab_size) md.n_vocab = *vocab_size;
    }
    md.has_output_tensor = false;
    for (const auto& t : tensors) {
        if (md.n_vocab == 0 && t.name == std::string_view{"token_embd.weight"} && t.ne[1] > 0 && t.ne[1] <= 0xffffffffLL) {
            md.n_vocab = static_cast<std::uint32_t>(t.ne[1]);
        }
        if (t.name == std::string_view{"output.weight"}) md.has_output_tensor = true;
        if (t.name == std::string_view{"blk.0.attn_q.bias"}) md.has_attn_qkv_bias = true;
    }
    return md;
}

// GGUF metadata + its tensors (file order, split files concatenated) + the files → a description.
constexpr result<model_description> describe_gguf(const gguf::header& metadata, std::vector<tensor_info> tensors,
                                                  std::vector<source_file> files) {
    auto md = read_model_metadata(metadata, tensors);
    if (!md) return md.err();
    auto hparams = derive_hyperparameters(*md);
    if (!hparams) return hparams.err();
    model_description model;
    if (const auto name = metadata.get_string(gguf::keys::general_name)) model.name = *name;
    model.hparams = std::move(*hparams);
    model.tensors = std::move(tensors);
    model.files = std::move(files);
    return model;
}

// One header that is the whole model (no split files): its own tensors and data layout.
constexpr result<model_description> describe_gguf(const gguf::header& metadata) {
    source_file file;
    file.data_offset = metadata.data_offset();
    file.file_size = metadata.expected_file_size().count();
    file.alignment = metadata.alignment();
    return describe_gguf(metadata, metadata.tensors(), std::vector<source_file>{file});
}

namespace detail {
[[nodiscard]] constexpr bool has_tensor(const std::vector<const tensor_info*>& sorted, std::string_view name) {
    const auto it = std::lower_bound(sorted.begin(), sorted.end(), name,
                                     [](const tensor_info* t, std::string_view n) { return t->name.view() < n; });
    return it != sorted.end() && (*it)->name.view() == name;
}
} // namespace detail

// The shape check the engine's loader does when it creates each tensor
// (llama_model_loader::check_tensor_dims, "tensor '...' has wrong shape"; a required tensor that
// is absent is "missing tensor"): every tensor the architecture's layout needs for these
// hyper-parameters must be in the file with exactly that shape. Optional tensors are recognised
// from the file (rope_freqs, q/k/v and output biases, the router bias). Extra tensors the layout
// does not model (e.g. phi3's long-rope factors) are left alone, and so are deepseek2 files in the
// legacy non-MLA form (an unsplit attn_kv_b). Tensor types are not checked: any type may hold a
// weight. Not called by describe_gguf: use it to reject a file whose metadata and tensors disagree.
constexpr result<bool> check_tensor_shapes(const model_description& model) {
    const auto& hp = model.hparams;
    if (hp.arch == architecture::deepseek2 && hp.n_embd_head_k_mla == 0) return true;
    std::vector<const tensor_info*> sorted;
    sorted.reserve(model.tensors.size());
    for (const auto& t : model.tensors) sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(), [](const tensor_info* a, const tensor_info* b) { return a->name.view() < b->name.view(); });

    layout_options options;
    options.rope_freqs = detail::has_tensor(sorted, "rope_freqs.weight");
    options.attn_qkv_bias = detail::has_tensor(sorted, "blk.0.attn_q.bias");
    options.attn_output_bias = detail::has_tensor(sorted, "blk.0.attn_output.bias");
    tensor_name router_bias{"blk."};
    router_bias.append_number(hp.n_layer_dense_lead);
    router_bias.append(".exp_probs_b.bias");
    options.expert_probs_bias = detail::has_tensor(sorted, router_bias.view());
    auto expected = tensor_layout(hp, options);
    if (!expected) return expected.err();

    for (const auto& want : *expected) {
        const auto it = std::lower_bound(sorted.begin(), sorted.end(), want.name.view(),
                                         [](const tensor_info* t, std::string_view n) { return t->name.view() < n; });
        if (it == sorted.end() || (*it)->name.view() != want.name.view()) {
            error failure{errc::bad_value, "missing tensor '"};
            failure.with(want.name.view()).with("' (required by ").with(architecture_name(hp.arch)).with(" with these hyper-parameters)");
            return failure;
        }
        const auto& have = **it;
        if (have.ne != want.ne) {
            error failure{errc::bad_value, "tensor '"};
            failure.with(want.name.view()).with("' has wrong shape; expected [");
            for (std::size_t d = 0; d < 4; ++d) failure.with(d == 0 ? "" : ", ").with_number(static_cast<unsigned long long>(want.ne[d]));
            failure.with("], got [");
            for (std::size_t d = 0; d < 4; ++d) {
                const auto extent = have.ne[d];
                failure.with(d == 0 ? "" : ", ").with_number(static_cast<unsigned long long>(extent < 0 ? 0 : extent));
            }
            failure.with("]");
            return failure;
        }
    }
    return true;
}

// A GGUF file (any part of a split model) → its description: gguf::read_model + describe_gguf.
[[nodiscard]] inline result<model_description> load_model_description(const std::filesystem::path& gguf_path) {
    auto files = gguf::read_model(gguf_path);
    if (!files) return files.err();
    const gguf::header& metadata = files->metadata();
    return describe_gguf(metadata, std::move(files->tensors), std::move(files->sources));
}

} // namespace vramfit
