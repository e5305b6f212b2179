// vramfit/engines/llama_cpp/convert.hpp — the tensors a converted GGUF holds, for models that have no file.
//
// A catalog model is described by the tensor list that convert_hf_to_gguf.py would write for it
// (names, shapes, n_dims, and the converter's F16/F32 typing), in the order llama-quantize writes
// its output. llama-quantize's rules (engines/llama_cpp/quantize.hpp) then re-types the list per ftype.
//
// Shapes mirror the engine's create_tensor calls per architecture (llama.cpp
// `llama_model::load_tensors`, per-architecture `load_arch_tensors` in src/models/<arch>.cpp at
// the target commit), in ggml order: ne[0] is the contiguous (input) dimension.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "vramfit/engines/llama_cpp/architecture.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"

namespace vramfit {

// Tensors whose presence the hyper-parameters do not decide.
struct layout_options {
    bool rope_freqs = false;        // rope_freqs.weight {n_rot/2}: llama-3 style rope scaling (not in the hparams)
    bool attn_qkv_bias = false;     // optional q/k/v biases (llama-family fine-tunes); qwen2 and gpt-oss always have them
    bool attn_output_bias = false;  // optional attn_output.bias (llama); gpt-oss always has it
    // gpt-oss's checkpoint stores the expert matrices in MXFP4; convert_hf_to_gguf.py repacks
    // those blocks as GGML MXFP4 instead of widening them (GptOssModel), so a converted file has
    // MXFP4 ffn_{gate,up,down}_exps.weight and 16-bit/F32 elsewhere.
    bool mxfp4_experts = false;
    // deepseek2 routers with a score-correction bias (DeepSeek-V3 "noaux_tc"): exp_probs_b.bias {n_expert}.
    bool expert_probs_bias = false;
};

namespace detail {

[[nodiscard]] constexpr bool ends_with(std::string_view text, std::string_view tail) noexcept {
    return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

// N of "blk.N.…", -1 outside any block — the loader's weight_name_comparer reads the layer the
// same way (sscanf "blk.%d.", llama.cpp src/llama-model-loader.h).
[[nodiscard]] constexpr std::int32_t block_index(std::string_view name) noexcept {
    constexpr std::string_view prefix = "blk.";
    if (name.substr(0, prefix.size()) != prefix) return -1;
    std::int64_t value = 0;
    std::size_t i = prefix.size();
    const std::size_t digits_start = i;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9' && value <= 0x7fffffff) {
        value = value * 10 + (name[i] - '0');
        ++i;
    }
    if (i == digits_start || i >= name.size() || name[i] != '.' || value > 0x7fffffff) return -1;
    return static_cast<std::int32_t>(value);
}

// convert_hf_to_gguf.py (ModelBase.prepare_tensors) for an F16 conversion: 1-D tensors and
// `*_norm.weight` are F32; so are the "always float32" tensor kinds (FFN_GATE_INP, SSM_CONV1D, ...)
// and everything not named `.weight` (biases, ssm_a, ssm_d); the rest is F16. Of the always-F32
// kinds, the architectures here have FFN_GATE_INP, SSM_CONV1D and SHORTCONV_CONV.
[[nodiscard]] constexpr ggml_type converter_type(std::string_view name, std::uint32_t n_dims) noexcept {
    const bool f32 = n_dims <= 1 || ends_with(name, "_norm.weight") || !ends_with(name, ".weight") ||
                     name.find(".ffn_gate_inp.") != std::string_view::npos ||
                     name.find(".ssm_conv1d.") != std::string_view::npos ||
                     name.find(".shortconv.conv.") != std::string_view::npos;
    return f32 ? ggml_type::f32 : ggml_type::f16;
}

class layout_builder {
public:
    // A tensor outside any block.
    constexpr void global(std::string_view name, std::initializer_list<std::int64_t> shape) { add(name, -1, shape); }

    // blk.<il>.<suffix>
    constexpr void block(std::uint32_t il, std::string_view suffix, std::initializer_list<std::int64_t> shape) {
        tensor_name name{"blk."};
        name.append_number(il);
        name.append(".");
        name.append(suffix);
        add(name.view(), static_cast<std::int32_t>(il), shape);
    }

    [[nodiscard]] constexpr bool ok() const noexcept { return failure_.code() == errc::none; }
    [[nodiscard]] constexpr const error& failure() const noexcept { return failure_; }
    [[nodiscard]] constexpr std::vector<tensor_info>& tensors() noexcept { return tensors_; }

private:
    constexpr void add(std::string_view name, std::int32_t layer, std::initializer_list<std::int64_t> shape) {
        if (!ok()) return;
        tensor_info t;
        t.name = name;
        t.layer = layer;
        t.n_dims = static_cast<std::uint32_t>(shape.size());
        std::size_t d = 0;
        // Elements stay below 2^60 so byte counts cannot overflow (absurd hyper-parameters are errors).
        constexpr std::int64_t element_limit = std::int64_t{1} << 60;
        std::int64_t elements = 1;
        for (const auto extent : shape) {
            if (extent <= 0 || extent > element_limit / elements) {
                failure_ = error{errc::limit_exceeded, "tensor '"};
                failure_.with(name).with("': impossible shape from the hyper-parameters (dimension ")
                        .with_number(d).with(" = ").with_number(static_cast<unsigned long long>(extent < 0 ? 0 : extent)).with(")");
                return;
            }
            elements *= extent;
            t.ne[d++] = extent;
        }
        t.type = converter_type(name, t.n_dims);
        tensors_.push_back(t);
    }

    std::vector<tensor_info> tensors_;
    error failure_{};
};

} // namespace detail

// llama-quantize writes tensors in the loader's weights_map order (weight_name_comparer,
// src/llama-model-loader.h): by block number (tensors outside any block first), then by name
// (byte order). Published GGUFs mostly come out of llama-quantize, so catalog models use it.
constexpr void sort_in_quantizer_order(std::vector<tensor_info>& tensors) {
    std::sort(tensors.begin(), tensors.end(), [](const tensor_info& a, const tensor_info& b) {
        if (a.layer != b.layer) return a.layer < b.layer;
        return a.name.view() < b.name.view();
    });
}

namespace detail {

// Attention projections shared by the llama-like architectures (create_tensor_qkv + wo).
constexpr void attention_qkvo(layout_builder& b, const hyperparameters& hp, std::uint32_t il, bool bias, bool output_bias) {
    const std::int64_t E = hp.n_embd;
    const std::int64_t q = std::int64_t{hp.n_embd_head_k} * hp.layers[il].n_head;
    const std::int64_t k = hp.n_embd_k_gqa(il);
    const std::int64_t v = hp.n_embd_v_gqa(il);
    b.block(il, "attn_q.weight", {E, q});
    b.block(il, "attn_k.weight", {E, k});
    b.block(il, "attn_v.weight", {E, v});
    if (bias) {
        b.block(il, "attn_q.bias", {q});
        b.block(il, "attn_k.bias", {k});
        b.block(il, "attn_v.bias", {v});
    }
    b.block(il, "attn_output.weight", {std::int64_t{hp.n_embd_head_v} * hp.layers[il].n_head, E});
    if (output_bias) b.block(il, "attn_output.bias", {E});
}

constexpr void dense_ffn(layout_builder& b, const hyperparameters& hp, std::uint32_t il) {
    const std::int64_t E = hp.n_embd;
    const std::int64_t F = hp.layers[il].n_ff;
    b.block(il, "ffn_gate.weight", {E, F});
    b.block(il, "ffn_down.weight", {F, E});
    b.block(il, "ffn_up.weight", {E, F});
}

constexpr void expert_ffn(layout_builder& b, const hyperparameters& hp, std::uint32_t il) {
    const std::int64_t E = hp.n_embd;
    const std::int64_t F = hp.n_ff_exp;
    const std::int64_t X = hp.n_expert;
    b.block(il, "ffn_gate_inp.weight", {E, X});
    b.block(il, "ffn_gate_exps.weight", {E, F, X});
    b.block(il, "ffn_down_exps.weight", {F, E, X});
    b.block(il, "ffn_up_exps.weight", {E, F, X});
}

constexpr void embeddings(layout_builder& b, const hyperparameters& hp) {
    b.global("token_embd.weight", {hp.n_embd, hp.n_vocab});
    // lfm2's final norm is LLM_TENSOR_OUTPUT_NORM_LFM2, named "token_embd_norm" (llama-arch.cpp).
    b.global(hp.arch == architecture::lfm2 ? "token_embd_norm.weight" : "output_norm.weight", {hp.n_embd});
    if (hp.arch == architecture::gptneox) b.global("output_norm.bias", {hp.n_embd});  // LayerNorm with bias
    if (!hp.tied_embeddings) b.global("output.weight", {hp.n_embd, hp.n_vocab});
}

[[nodiscard]] constexpr error layout_error(const hyperparameters& hp, std::string_view what) {
    error failure{errc::bad_value, "tensor layout for '"};
    failure.with(architecture_name(hp.arch)).with("': ").with(what);
    return failure;
}

} // namespace detail

// The tensor list of a converted (F16) GGUF of this model, in llama-quantize's order, with
// data offsets left at 0 (assign_offsets lays them out).
constexpr result<std::vector<tensor_info>> tensor_layout(const hyperparameters& hp, const layout_options& options = {}) {
    if (!is_supported(hp.arch)) {
        error failure{errc::unsupported_architecture, "no tensor layout for architecture '"};
        failure.with(architecture_name(hp.arch)).with("'; ");
        return append_supported_list(failure);
    }
    if (hp.n_layer == 0 || hp.n_layer > max_layers || hp.layers.size() != hp.n_layer) {
        return detail::layout_error(hp, "n_layer must be 1..512 with one layer_params per layer");
    }
    if (hp.n_embd == 0 || hp.n_vocab == 0) return detail::layout_error(hp, "n_embd and n_vocab must be non-zero");

    detail::layout_builder b;
    detail::embeddings(b, hp);
    if (options.rope_freqs) b.global("rope_freqs.weight", {hp.n_rot / 2});

    const std::int64_t E = hp.n_embd;
    for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
        const auto& layer = hp.layers[il];
        switch (hp.arch) {
            case architecture::llama:  // src/models/llama.cpp (Mixtral: the same with experts)
                b.block(il, "attn_norm.weight", {E});
                detail::attention_qkvo(b, hp, il, options.attn_qkv_bias, options.attn_output_bias);
                b.block(il, "ffn_norm.weight", {E});
                if (hp.n_expert == 0) detail::dense_ffn(b, hp, il);
                else detail::expert_ffn(b, hp, il);
                break;
            case architecture::qwen2:  // q/k/v biases are required by the qwen2 loader
                b.block(il, "attn_norm.weight", {E});
                detail::attention_qkvo(b, hp, il, true, false);
                b.block(il, "ffn_norm.weight", {E});
                detail::dense_ffn(b, hp, il);
                break;
            case architecture::qwen3:
            case architecture::qwen3moe:  // per-head q/k RMS norms
                b.block(il, "attn_norm.weight", {E});
                detail::attention_qkvo(b, hp, il, options.attn_qkv_bias, false);
                b.block(il, "attn_q_norm.weight", {hp.n_embd_head_k});
                b.block(il, "attn_k_norm.weight", {hp.n_embd_head_k});
                b.block(il, "ffn_norm.weight", {E});
                if (hp.arch == architecture::qwen3) detail::dense_ffn(b, hp, il);
                else detail::expert_ffn(b, hp, il);
                break;
            case architecture::gemma2:
            case architecture::gemma3:  // post-attention and post-FFN norms; gemma3 adds q/k norms
                b.block(il, "attn_norm.weight", {E});
                detail::attention_qkvo(b, hp, il, false, false);
                if (hp.arch == architecture::gemma3) {
                    b.block(il, "attn_q_norm.weight", {hp.n_embd_head_k});
                    b.block(il, "attn_k_norm.weight", {hp.n_embd_head_k});
                }
                b.block(il, "post_attention_norm.weight", {E});
                b.block(il, "ffn_norm.weight", {E});
                detail::dense_ffn(b, hp, il);
                b.block(il, "post_ffw_norm.weight", {E});
                break;
            case architecture::phi3: {  // fused qkv {E, E + 2·n_embd_gqa} and fused gate+up {E, 2·n_ff}
                const std::int64_t q = std::int64_t{hp.n_embd_head_k} * layer.n_head;
                b.block(il, "attn_norm.weight", {E});
                b.block(il, "attn_qkv.weight", {E, q + hp.n_embd_k_gqa(il) + hp.n_embd_v_gqa(il)});
                b.block(il, "attn_output.weight", {q, E});
                b.block(il, "ffn_norm.weight", {E});
                b.block(il, "ffn_down.weight", {layer.n_ff, E});
                b.block(il, "ffn_up.weight", {E, 2 * std::int64_t{layer.n_ff}});
                break;
            }
            case architecture::deepseek2: {  // src/models/deepseek2.cpp, MLA with split k_b / v_b
                const std::int64_t H = layer.n_head;
                const std::int64_t rope = hp.n_rot;
                const std::int64_t k_mla = hp.n_embd_head_k_mla;
                const std::int64_t v_mla = hp.n_embd_head_v_mla;
                const std::int64_t kv_lora = hp.n_lora_kv;
                if (k_mla <= rope || v_mla == 0 || kv_lora == 0) {
                    return detail::layout_error(hp, "MLA needs key_length_mla > rope dims, value_length_mla and kv_lora_rank");
                }
                b.block(il, "attn_norm.weight", {E});
                if (hp.n_lora_q > 0) {
                    b.block(il, "attn_q_a_norm.weight", {hp.n_lora_q});
                    b.block(il, "attn_q_a.weight", {E, hp.n_lora_q});
                    b.block(il, "attn_q_b.weight", {hp.n_lora_q, H * k_mla});
                } else {
                    b.block(il, "attn_q.weight", {E, H * k_mla});
                }
                b.block(il, "attn_kv_a_norm.weight", {kv_lora});
                b.block(il, "attn_kv_a_mqa.weight", {E, kv_lora + rope});
                b.block(il, "attn_k_b.weight", {k_mla - rope, kv_lora, H});
                b.block(il, "attn_v_b.weight", {kv_lora, v_mla, H});
                b.block(il, "attn_output.weight", {H * v_mla, E});
                b.block(il, "ffn_norm.weight", {E});
                if (il < hp.n_layer_dense_lead) {
                    detail::dense_ffn(b, hp, il);
                } else {
                    detail::expert_ffn(b, hp, il);
                    if (options.expert_probs_bias) b.block(il, "exp_probs_b.bias", {hp.n_expert});
                    const std::int64_t S = hp.n_ff_shexp;
                    b.block(il, "ffn_gate_shexp.weight", {E, S});
                    b.block(il, "ffn_down_shexp.weight", {S, E});
                    b.block(il, "ffn_up_shexp.weight", {E, S});
                }
                break;
            }
            case architecture::gpt_oss: {  // src/models/openai-moe.cpp: biases everywhere, sinks, no ffn_norm
                const std::int64_t X = hp.n_expert;
                const std::int64_t F = hp.n_ff_exp;
                b.block(il, "attn_norm.weight", {E});
                b.block(il, "post_attention_norm.weight", {E});
                detail::attention_qkvo(b, hp, il, true, true);
                b.block(il, "attn_sinks.weight", {layer.n_head});
                detail::expert_ffn(b, hp, il);
                b.block(il, "ffn_gate_inp.bias", {X});
                b.block(il, "ffn_gate_exps.bias", {F, X});
                b.block(il, "ffn_down_exps.bias", {E, X});
                b.block(il, "ffn_up_exps.bias", {F, X});
                break;
            }
            case architecture::mamba2: {  // src/models/mamba2.cpp
                const std::int64_t d_inner = hp.ssm_d_inner;
                const std::int64_t n_group = hp.ssm_n_group;
                const std::int64_t heads = hp.ssm_dt_rank;
                if (n_group == 0 || d_inner % n_group != 0 || heads == 0 || hp.ssm_d_conv == 0 || hp.ssm_d_state == 0) {
                    return detail::layout_error(hp, "ssm sizes must be non-zero with d_inner a multiple of n_group");
                }
                const std::int64_t conv_dim = d_inner + 2 * n_group * hp.ssm_d_state;
                b.block(il, "attn_norm.weight", {E});
                b.block(il, "ssm_in.weight", {E, d_inner + conv_dim + heads});
                b.block(il, "ssm_conv1d.weight", {hp.ssm_d_conv, conv_dim});
                b.block(il, "ssm_conv1d.bias", {conv_dim});
                b.block(il, "ssm_dt.bias", {heads});
                b.block(il, "ssm_a", {1, heads});
                b.block(il, "ssm_d", {1, heads});
                b.block(il, "ssm_norm.weight", {d_inner / n_group, n_group});
                b.block(il, "ssm_out.weight", {d_inner, E});
                break;
            }
            case architecture::lfm2: {  // src/models/lfm2.cpp: attention or short-conv, then a dense FFN
                b.block(il, "ffn_norm.weight", {E});
                detail::dense_ffn(b, hp, il);
                b.block(il, "attn_norm.weight", {E});
                if (!layer.recurrent) {
                    b.block(il, "attn_q_norm.weight", {hp.n_embd_head_k});
                    b.block(il, "attn_k_norm.weight", {hp.n_embd_head_k});
                    detail::attention_qkvo(b, hp, il, false, false);
                } else {
                    b.block(il, "shortconv.conv.weight", {hp.ssm_d_conv, E});
                    b.block(il, "shortconv.in_proj.weight", {E, 3 * E});
                    b.block(il, "shortconv.out_proj.weight", {E, E});
                }
                break;
            }
            case architecture::glm4: {  // src/models/glm4.cpp: post-attention / post-FFN norms, fused gate|up
                b.block(il, "attn_norm.weight", {E});
                detail::attention_qkvo(b, hp, il, options.attn_qkv_bias, false);
                b.block(il, "post_attention_norm.weight", {E});
                b.block(il, "ffn_norm.weight", {E});
                b.block(il, "ffn_down.weight", {layer.n_ff, E});
                b.block(il, "ffn_up.weight", {E, 2 * std::int64_t{layer.n_ff}});
                b.block(il, "post_ffw_norm.weight", {E});
                break;
            }
            case architecture::command_r:  // src/models/command-r.cpp: one LayerNorm (no bias), parallel FFN
                if (hp.n_layer >= 64) {    // Command R+: per-head q/k LayerNorms {head, heads}
                    b.block(il, "attn_q_norm.weight", {hp.n_embd_head_k, layer.n_head});
                    b.block(il, "attn_k_norm.weight", {hp.n_embd_head_k, layer.n_head_kv});
                }
                b.block(il, "attn_norm.weight", {E});
                detail::attention_qkvo(b, hp, il, false, false);
                detail::dense_ffn(b, hp, il);
                break;
            case architecture::gptneox: {  // src/models/gptneox.cpp: LayerNorms and projections all biased, fused QKV
                const std::int64_t qkv = E + 2 * std::int64_t{hp.n_embd_k_gqa(il)};
                b.block(il, "attn_norm.weight", {E});
                b.block(il, "attn_norm.bias", {E});
                b.block(il, "attn_qkv.weight", {E, qkv});
                b.block(il, "attn_qkv.bias", {qkv});
                b.block(il, "attn_output.weight", {E, E});
                b.block(il, "attn_output.bias", {E});
                b.block(il, "ffn_norm.weight", {E});
                b.block(il, "ffn_norm.bias", {E});
                b.block(il, "ffn_down.weight", {layer.n_ff, E});
                b.block(il, "ffn_down.bias", {E});
                b.block(il, "ffn_up.weight", {E, layer.n_ff});
                b.block(il, "ffn_up.bias", {layer.n_ff});
                break;
            }
            case architecture::llama4: {  // src/models/llama4.cpp: MoE layers (step) with a shared expert
                b.block(il, "attn_norm.weight", {E});
                detail::attention_qkvo(b, hp, il, options.attn_qkv_bias, false);
                b.block(il, "ffn_norm.weight", {E});
                const bool moe = hp.n_moe_layer_step > 0 && (il + 1) % hp.n_moe_layer_step == 0;
                if (moe) {
                    detail::expert_ffn(b, hp, il);
                    const std::int64_t S = hp.n_ff_exp;  // n_ff_shexp = n_ff_exp
                    b.block(il, "ffn_gate_shexp.weight", {E, S});
                    b.block(il, "ffn_down_shexp.weight", {S, E});
                    b.block(il, "ffn_up_shexp.weight", {E, S});
                } else {
                    detail::dense_ffn(b, hp, il);
                }
                break;
            }
            default:
                return detail::layout_error(hp, "not modelled");
        }
        if (!b.ok()) return b.failure();
    }
    if (!b.ok()) return b.failure();
    auto tensors = std::move(b.tensors());
    if (options.mxfp4_experts) {
        for (auto& t : tensors) {
            const auto name = t.name.view();
            const bool expert_matrix = t.n_dims == 3 && detail::ends_with(name, "_exps.weight");
            if (expert_matrix && t.ne[0] % block_size(ggml_type::mxfp4) == 0) t.type = ggml_type::mxfp4;
        }
    }
    sort_in_quantizer_order(tensors);
    return tensors;
}

} // namespace vramfit
