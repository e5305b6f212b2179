// vramfit/engines/llama_cpp/quantize.hpp — re-type a model's tensors as `llama-quantize` would.
//
// Given a model whose tensors carry the converter's types (F16/BF16 weights, F32 norms and
// biases), `quantize(model, ftype)` gives every tensor the type llama.cpp's quantizer writes
// for that file type, and puts the tensors in the order it writes them. It mirrors
// llama_model_quantize_impl (src/llama-quant.cpp, llama.cpp 1425386f) without an importance
// matrix unless `quantize_options::has_imatrix` says one is given; the per-tensor rules are in
// detail/quant_rules.hpp. Everything is constexpr.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vramfit/engines/llama_cpp/detail/quant_ftype.hpp"
#include "vramfit/engines/llama_cpp/detail/quant_rules.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/model/dtype.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"

namespace vramfit {

namespace detail {

// The loader's weights_map order (llama_model_loader::weight_name_comparer), which is the
// order llama-quantize visits the tensors and writes them: tensors outside any block first
// (layer -1), then block by block, by name (byte order) within each.
[[nodiscard]] constexpr std::vector<std::size_t> quantizer_order(const std::vector<tensor_info>& tensors) {
    struct key {
        int layer;
        std::size_t index;
    };
    std::vector<key> keys;
    keys.reserve(tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        keys.push_back({scan_block_index(tensors[i].name.view()).value_or(-1), i});
    }
    std::sort(keys.begin(), keys.end(), [&tensors](const key& a, const key& b) {
        if (a.layer != b.layer) return a.layer < b.layer;
        return tensors[a.index].name.view() < tensors[b.index].name.view();
    });
    std::vector<std::size_t> order;
    order.reserve(keys.size());
    for (const auto& k : keys) order.push_back(k.index);
    return order;
}

// A type id the engine knows and has not removed (ggml_type_from_id without building a
// result, which is costly per tensor in constant evaluation).
[[nodiscard]] constexpr bool is_live_type(ggml_type type) noexcept {
    const auto id = static_cast<std::uint32_t>(type);
    return id < ggml_type_count && !ggml_traits_table[id].removed;
}

// "quantize: tensor '<name><what>", built one step at a time: a single chained expression
// trips a GCC 12 -Wstringop-overflow false positive once inlined.
[[nodiscard]] constexpr error tensor_error(errc code, std::string_view name, std::string_view what) {
    error failure{code, "quantize: tensor '"};
    failure.with(name);
    failure.with(what);
    return failure;
}

// The engine's exceptions for one tensor, as an error naming it.
[[nodiscard]] constexpr error describe_issue(const quant_issue& issue, const tensor_info& tensor,
                                             const quant_model_facts& facts) {
    error failure = tensor_error(errc::bad_value, tensor.name.view(), "'");
    switch (issue.kind) {
        case quant_issue_kind::layer_unreadable:
            failure.with(" belongs to a MoE model but its name has no \"blk.N.\" layer");
            break;
        case quant_issue_kind::layer_out_of_range:
            failure.with(" names a layer outside the model's block count ");
            failure.with_number(static_cast<unsigned long long>(facts.n_layer));
            break;
        case quant_issue_kind::no_fallback:
            failure = tensor_error(errc::invalid_argument, tensor.name.view(), "' has rows of ");
            failure.with_number(static_cast<unsigned long long>(tensor.ne[0]));
            failure.with(" elements, not a multiple of the ");
            failure.with(type_name(issue.type));
            failure.with(" block, and llama-quantize has no fallback type for it");
            break;
        case quant_issue_kind::none:
            break;
    }
    return failure;
}

} // namespace detail

// Re-types every tensor of `model` for `ftype`, reorders the tensors into the quantizer's
// output order and lays them out as one file (llama-quantize writes a single file unless
// --keep-split): file_index 0, offsets from the file's alignment, one `files` entry whose
// data_offset and file_size are unknown (0). Hyper-parameters and shapes are untouched.
// Errors, like the engine's: an unknown ftype; duplicate tensor names; a MoE tensor whose
// layer cannot be read from its name; a row length with no fallback type; a very low-bit
// type without an importance matrix; re-quantizing without `allow_requantize`.
// On error the model is left unchanged.
[[nodiscard]] constexpr result<bool> quantize(model_description& model, llama_ftype ftype,
                                              const quantize_options& options = {}) {
    if (!is_known_ftype(ftype)) {
        return error{errc::invalid_argument, "quantize: invalid output file type "}.with_number(static_cast<std::uint32_t>(ftype));
    }
    const ggml_type default_type = ftype_default_type(ftype);

    for (const auto* option : {&options.output_tensor_type, &options.token_embedding_type}) {
        if (option->has_value() && !detail::is_live_type(**option)) {
            error failure{errc::invalid_argument, "quantize: the output/token-embedding type override is not a live ggml type, id "};
            failure.with_number(static_cast<std::uint32_t>(**option));
            return failure;
        }
    }
    for (const auto& tensor : model.tensors) {
        if (!detail::is_live_type(tensor.type)) {
            error failure = detail::tensor_error(errc::unknown_type, tensor.name.view(), "' has a ggml type id that is not a live type: ");
            failure.with_number(static_cast<std::uint32_t>(tensor.type));
            return failure;
        }
        for (std::int64_t extent : tensor.ne) {
            if (extent < 0) {
                return detail::tensor_error(errc::bad_value, tensor.name.view(), "' has a negative dimension");
            }
        }
    }

    const std::vector<std::size_t> order = detail::quantizer_order(model.tensors);
    for (std::size_t k = 1; k < order.size(); ++k) {
        if (model.tensors[order[k - 1]].name == model.tensors[order[k]].name) {
            return detail::tensor_error(errc::bad_value, model.tensors[order[k]].name.view(), "' is duplicated");
        }
    }

    // init_quantize_state_counters: categories of all tensors, the attn_v count, tied embeddings.
    detail::quant_state state;
    state.has_imatrix = options.has_imatrix;
    std::vector<detail::quant_category> categories;
    categories.reserve(model.tensors.size());
    for (const auto& tensor : model.tensors) {
        const auto category = detail::quant_category_of(tensor.name.view());
        categories.push_back(category);
        if (detail::is_attn_v_like(category)) ++state.n_attention_wv;
        if (category == detail::quant_category::output) state.has_tied_embeddings = false;
    }
    const detail::quant_model_facts facts = detail::quant_facts_of(model.hparams);
    state.n_ffn_down = state.n_ffn_gate = state.n_ffn_up = facts.n_layer;

    // First the types, in the quantizer's order (the counters depend on it); the model is
    // changed only once every tensor has one.
    std::vector<ggml_type> new_types(model.tensors.size(), ggml_type::f32);
    for (std::size_t index : order) {
        const tensor_info& tensor = model.tensors[index];
        const std::string_view name = tensor.name.view();
        const bool allowed = detail::tensor_allows_quantization(name, tensor.ne, options);
        detail::quant_issue issue;
        const ggml_type new_type = detail::target_tensor_type(state, facts, tensor, allowed, categories[index], ftype,
                                                              default_type, options, issue);
        if (issue.kind != detail::quant_issue_kind::none) return detail::describe_issue(issue, tensor, facts);
        if (allowed && !options.has_imatrix && detail::tensor_requires_imatrix(name, new_type, ftype)) {
            error failure = detail::tensor_error(errc::invalid_argument, name, "' would be ");
            failure.with(type_name(new_type));
            failure.with(", which needs an importance matrix (set quantize_options::has_imatrix)");
            return failure;
        }
        // The real run converts only f32, f16, bf16 and (with --allow-requantize) quantized data.
        if (new_type != tensor.type && tensor.type != ggml_type::f32) {
            if (is_quantized(tensor.type) && !options.allow_requantize) {
                error failure = detail::tensor_error(errc::invalid_argument, name, "' is already ");
                failure.with(type_name(tensor.type));
                failure.with("; requantizing it needs quantize_options::allow_requantize");
                return failure;
            }
            if (!is_quantized(tensor.type) && tensor.type != ggml_type::f16 && tensor.type != ggml_type::bf16) {
                error failure = detail::tensor_error(errc::invalid_argument, name, "' cannot be converted from ");
                failure.with(type_name(tensor.type));
                return failure;
            }
        }
        new_types[index] = new_type;
    }

    for (std::size_t i = 0; i < model.tensors.size(); ++i) {
        model.tensors[i].type = new_types[i];
        model.tensors[i].file_index = 0;
    }
    // Reorder only when needed: copying tensors is the costly part of constant evaluation.
    bool in_order = true;
    for (std::size_t k = 0; k < order.size() && in_order; ++k) in_order = order[k] == k;
    if (!in_order) {
        std::vector<tensor_info> reordered;
        reordered.reserve(order.size());
        for (std::size_t index : order) reordered.push_back(std::move(model.tensors[index]));
        model.tensors = std::move(reordered);
    }

    source_file output_file;
    if (!model.files.empty()) output_file.alignment = model.files.front().alignment;
    model.files.assign(1, output_file);
    assign_offsets(model);
    return true;
}

// One tag type per ftype, for code that names the quantization in a type:
//   quantize(model, quant::Q4_K_M{})  or  quant::Q4_K_M::value
namespace quant {
#define VRAMFIT_QUANT_TAG(tag, id) \
    struct tag { static constexpr llama_ftype value = llama_ftype::id; static constexpr std::string_view name = #tag; };
VRAMFIT_QUANT_TAG(F32, all_f32)
VRAMFIT_QUANT_TAG(F16, mostly_f16)
VRAMFIT_QUANT_TAG(BF16, mostly_bf16)
VRAMFIT_QUANT_TAG(Q8_0, mostly_q8_0)
VRAMFIT_QUANT_TAG(Q6_K, mostly_q6_K)
VRAMFIT_QUANT_TAG(Q5_K_M, mostly_q5_K_M)
VRAMFIT_QUANT_TAG(Q5_K_S, mostly_q5_K_S)
VRAMFIT_QUANT_TAG(Q5_0, mostly_q5_0)
VRAMFIT_QUANT_TAG(Q5_1, mostly_q5_1)
VRAMFIT_QUANT_TAG(Q4_K_M, mostly_q4_K_M)
VRAMFIT_QUANT_TAG(Q4_K_S, mostly_q4_K_S)
VRAMFIT_QUANT_TAG(Q4_0, mostly_q4_0)
VRAMFIT_QUANT_TAG(Q4_1, mostly_q4_1)
VRAMFIT_QUANT_TAG(Q3_K_L, mostly_q3_K_L)
VRAMFIT_QUANT_TAG(Q3_K_M, mostly_q3_K_M)
VRAMFIT_QUANT_TAG(Q3_K_S, mostly_q3_K_S)
VRAMFIT_QUANT_TAG(Q2_K, mostly_q2_K)
VRAMFIT_QUANT_TAG(Q2_K_S, mostly_q2_K_S)
VRAMFIT_QUANT_TAG(IQ4_XS, mostly_iq4_xs)
VRAMFIT_QUANT_TAG(IQ4_NL, mostly_iq4_nl)
VRAMFIT_QUANT_TAG(IQ3_M, mostly_iq3_m)
VRAMFIT_QUANT_TAG(IQ3_S, mostly_iq3_s)
VRAMFIT_QUANT_TAG(IQ3_XS, mostly_iq3_xs)
VRAMFIT_QUANT_TAG(IQ3_XXS, mostly_iq3_xxs)
VRAMFIT_QUANT_TAG(IQ2_M, mostly_iq2_m)
VRAMFIT_QUANT_TAG(IQ2_S, mostly_iq2_s)
VRAMFIT_QUANT_TAG(IQ2_XS, mostly_iq2_xs)
VRAMFIT_QUANT_TAG(IQ2_XXS, mostly_iq2_xxs)
VRAMFIT_QUANT_TAG(IQ1_M, mostly_iq1_m)
VRAMFIT_QUANT_TAG(IQ1_S, mostly_iq1_s)
VRAMFIT_QUANT_TAG(TQ1_0, mostly_tq1_0)
VRAMFIT_QUANT_TAG(TQ2_0, mostly_tq2_0)
VRAMFIT_QUANT_TAG(MXFP4_MOE, mostly_mxfp4_moe)
VRAMFIT_QUANT_TAG(NVFP4, mostly_nvfp4)
VRAMFIT_QUANT_TAG(Q1_0, mostly_q1_0)
#undef VRAMFIT_QUANT_TAG
} // namespace quant

// A tag names its ftype: quantize(model, quant::Q4_K_M{}).
template <class Tag>
    requires requires { { Tag::value } -> std::convertible_to<llama_ftype>; }
[[nodiscard]] constexpr result<bool> quantize(model_description& model, Tag, const quantize_options& options = {}) {
    return quantize(model, Tag::value, options);
}

} // namespace vramfit
