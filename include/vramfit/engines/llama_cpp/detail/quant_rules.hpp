// vramfit/engines/llama_cpp/detail/quant_rules.hpp — llama-quantize's per-tensor type choice, rule by rule.
//
// Mirrors src/llama-quant.cpp of llama.cpp (read at 007dbbf, a few weeks after the target
// 1425386f; the only differences found concern types and architectures the target does not
// have — GGML_TYPE_Q2_0 / LLAMA_FTYPE_MOSTLY_Q2_0 and BailingMoE3 — and are left out here):
//   tensor_get_category          -> quant_category_of
//   tensor_allows_quantization   -> tensor_allows_quantization
//   llama_tensor_get_type_impl   -> mixed_tensor_type
//   tensor_type_fallback         -> fallback_tensor_type
//   llama_tensor_get_type        -> target_tensor_type
//   tensor_requires_imatrix      -> tensor_requires_imatrix
// Names are matched with the same substring tests the engine uses, on string_views.
#pragma once

#include <array>
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "vramfit/engines/llama_cpp/detail/quant_ftype.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/model/dtype.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"

namespace vramfit {

// The knobs of llama_model_quantize_params that change types (the llama-quantize flag in
// brackets). The defaults are llama_model_quantize_default_params() with no imatrix.
struct quantize_options {
    bool has_imatrix = false;             // [--imatrix]: changes a few rules, and lets the very low-bit types through
    bool quantize_output_tensor = true;   // cleared by [--leave-output-tensor]
    bool pure = false;                    // [--pure]: no mixing, every tensor gets the ftype's base type
    bool allow_requantize = false;        // [--allow-requantize]: re-quantizing already quantized tensors
    std::optional<ggml_type> output_tensor_type = std::nullopt;    // [--output-tensor-type]
    std::optional<ggml_type> token_embedding_type = std::nullopt;  // [--token-embedding-type]
};

namespace detail {

// enum class tensor_category (llama-quant.cpp): broad roles, not per-architecture names.
enum class quant_category : std::uint8_t {
    token_embd, attention_q, attention_v, attention_k, attention_qkv, attention_kv_b,
    attention_output, ffn_up, ffn_gate, ffn_down, output, other,
};

// name.find(part) != npos, as a plain loop: several times cheaper than the library's find in
// constant evaluation, and this runs ~30 times per tensor.
[[nodiscard]] constexpr bool name_has(std::string_view name, std::string_view part) noexcept {
    if (part.empty()) return true;
    if (part.size() > name.size()) return false;
    const std::size_t last = name.size() - part.size();
    for (std::size_t i = 0; i <= last; ++i) {
        if (name[i] != part[0]) continue;
        std::size_t j = 1;
        while (j < part.size() && name[i + j] == part[j]) ++j;
        if (j == part.size()) return true;
    }
    return false;
}

// tensor_name_match_token_embd / tensor_name_match_output_weight
[[nodiscard]] constexpr bool is_token_embd_name(std::string_view name) noexcept {
    return name == "token_embd.weight" || name == "per_layer_token_embd.weight";
}
[[nodiscard]] constexpr bool is_output_weight_name(std::string_view name) noexcept { return name == "output.weight"; }

// tensor_get_category: first match wins, in the engine's order. "ffn_up" etc. are plain
// substrings, so expert (ffn_down_exps) and shared-expert (ffn_down_shexp) tensors count too.
[[nodiscard]] constexpr quant_category quant_category_of(std::string_view name) noexcept {
    if (is_output_weight_name(name)) return quant_category::output;
    if (is_token_embd_name(name)) return quant_category::token_embd;
    if (name_has(name, "attn_qkv.weight")) return quant_category::attention_qkv;
    if (name_has(name, "attn_kv_b.weight")) return quant_category::attention_kv_b;
    if (name_has(name, "attn_v.weight")) return quant_category::attention_v;
    if (name_has(name, "attn_k.weight")) return quant_category::attention_k;
    if (name_has(name, "attn_q.weight")) return quant_category::attention_q;
    if (name_has(name, "attn_output.weight")) return quant_category::attention_output;
    if (name_has(name, "ffn_up")) return quant_category::ffn_up;
    if (name_has(name, "ffn_gate")) return quant_category::ffn_gate;
    if (name_has(name, "ffn_down")) return quant_category::ffn_down;
    return quant_category::other;
}

// category_is_attn_v: fused QKV (phi3) and MLA's kv_b count as "attn_v" for the mixing —
// they are counted in n_attention_wv and take the attn_v rules (which also makes the
// engine's later ATTENTION_QKV branch unreachable).
[[nodiscard]] constexpr bool is_attn_v_like(quant_category category) noexcept {
    return category == quant_category::attention_v || category == quant_category::attention_qkv ||
           category == quant_category::attention_kv_b;
}

// sscanf(name, "blk.%d.", &layer) == 1, as the engine's weight_name_comparer and layer_info
// use it: "blk." then an optionally signed decimal (leading white space skipped); what
// follows the digits is not checked.
[[nodiscard]] constexpr std::optional<int> scan_block_index(std::string_view name) noexcept {
    if (name.substr(0, 4) != "blk.") return std::nullopt;
    std::size_t i = 4;
    while (i < name.size() && (name[i] == ' ' || (name[i] >= '\t' && name[i] <= '\r'))) ++i;
    bool negative = false;
    if (i < name.size() && (name[i] == '+' || name[i] == '-')) negative = name[i++] == '-';
    if (i >= name.size() || name[i] < '0' || name[i] > '9') return std::nullopt;
    long long value = 0;
    for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) {
        value = value * 10 + (name[i] - '0');
        if (value > INT_MAX) value = INT_MAX;  // sscanf overflow is undefined; saturate instead
    }
    return static_cast<int>(negative ? -value : value);
}

// ggml_n_dims: 1 + the index of the last dimension larger than 1.
[[nodiscard]] constexpr int ggml_n_dims(const std::array<std::int64_t, 4>& ne) noexcept {
    for (int i = 3; i >= 1; --i) {
        if (ne[static_cast<std::size_t>(i)] > 1) return i + 1;
    }
    return 1;
}

// tensor_allows_quantization: only 2-D and 3-D "...weight" tensors, minus a list of small or
// precision-critical ones (norms, MoE routers, conv1d of SSMs, RWKV mixing vectors,
// positional embeddings, multimodal projector parts, ...).
[[nodiscard]] constexpr bool tensor_allows_quantization(std::string_view name, const std::array<std::int64_t, 4>& ne,
                                                        const quantize_options& options) noexcept {
    if (ggml_n_dims(ne) < 2) return false;
    // The engine's "ends with 'weight'" test, including its unsigned wrap-around: a 5-character
    // name gives npos == size() - 6 and passes.
    bool quantize = name.rfind("weight") == name.size() - 6;
    quantize = quantize && !name_has(name, "_norm.weight");
    quantize = quantize && (options.quantize_output_tensor || name != "output.weight");
    constexpr std::string_view excluded[] = {
        "ffn_gate_inp.weight",       // expert router
        "ffn_gate_tid2eid.weight",   // token-id -> expert table (an architecture newer than the target)
        "altup", "laurel",           // gemma3n, tiny
        "per_layer_model_proj",
        "ssm_conv1d", "shortconv.conv.weight",
        "indexer.k_proj.weight", "indexer.q_proj.weight",
        "attn_rel_b.weight",         // T5 relative position bias
        ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger",
        "a.rvq.codebook", "mm.a.code_embd",
    };
    // RWKV's small 2-D mixing weights; all share the "time_mix_" stem, so test it first.
    constexpr std::string_view excluded_time_mix[] = {
        "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
        "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
        "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
        "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
    };
    if (!quantize) return false;  // the remaining tests only clear it
    for (std::string_view part : excluded) {
        if (name_has(name, part)) return false;
    }
    if (name_has(name, "time_mix_")) {
        for (std::string_view part : excluded_time_mix) {
            if (name_has(name, part)) return false;
        }
    }
    // LLM_TN(arch)(LLM_TENSOR_POS_EMBD / LLM_TENSOR_TOKEN_TYPES, "weight")
    quantize = quantize && name != "position_embd.weight";
    quantize = quantize && name != "token_types.weight";
    return quantize;
}

// tensor_requires_imatrix: the very low-bit types are refused without an importance matrix
// (token_embd and output excepted), and q2_K inside a Q2_K_S file.
[[nodiscard]] constexpr bool tensor_requires_imatrix(std::string_view name, ggml_type type, llama_ftype ftype) noexcept {
    if (is_token_embd_name(name) || is_output_weight_name(name)) return false;
    switch (type) {
        case ggml_type::iq3_xxs: case ggml_type::iq2_xxs: case ggml_type::iq2_xs:
        case ggml_type::iq2_s: case ggml_type::iq1_m: case ggml_type::iq1_s:
            return true;
        case ggml_type::q2_K:
            return ftype == llama_ftype::mostly_q2_K_S;
        default:
            return false;
    }
}

// What the mixing rules read from the model (qs.model in the engine).
struct quant_model_facts {
    architecture arch = architecture::llama;
    std::uint32_t n_expert = 0;  // hparams.n_expert
    std::uint32_t n_gqa = 0;     // hparams.n_gqa(0) = n_head(0) / n_head_kv(0), 0 without KV heads
    int n_layer = 0;             // hparams.n_layer (n_ffn_down = n_ffn_gate = n_ffn_up)
    bool is_70b = false;         // model.type == LLM_TYPE_70B
};

// The engine's model type is set by each architecture's load_arch_hparams; only LLM_TYPE_70B
// matters to quantization. src/models/llama.cpp: 80 layers without 8 experts, GQA -> 70B
// (MHA -> 65B); src/models/qwen2.cpp: 80 layers -> 70B.
[[nodiscard]] constexpr quant_model_facts quant_facts_of(const hyperparameters& hp) noexcept {
    quant_model_facts facts;
    facts.arch = hp.arch;
    facts.n_expert = hp.n_expert;
    facts.n_layer = static_cast<int>(hp.n_layer > static_cast<std::uint32_t>(INT_MAX) ? INT_MAX : hp.n_layer);
    std::uint32_t n_head = 0;
    std::uint32_t n_head_kv = 0;
    if (!hp.layers.empty()) {
        n_head = hp.layers.front().n_head;
        n_head_kv = hp.layers.front().n_head_kv;
    }
    facts.n_gqa = n_head_kv == 0 ? 0 : n_head / n_head_kv;
    if (hp.arch == architecture::llama) {
        facts.is_70b = hp.n_expert != 8 && hp.n_layer == 80 && n_head != n_head_kv;
    } else if (hp.arch == architecture::qwen2) {
        facts.is_70b = hp.n_layer == 80;
    }
    return facts;
}

// quantize_state_impl: counters over the tensors in the order the quantizer visits them.
struct quant_state {
    int n_attention_wv = 0;
    int n_ffn_down = 0;
    int n_ffn_gate = 0;
    int n_ffn_up = 0;
    int i_attention_wv = 0;
    int i_ffn_down = 0;
    int i_ffn_gate = 0;
    int i_ffn_up = 0;
    int n_fallback = 0;
    bool has_imatrix = false;
    bool has_tied_embeddings = true;  // until an output.weight is seen
};

[[nodiscard]] constexpr bool ftype_is(llama_ftype ftype, std::initializer_list<llama_ftype> any) noexcept {
    for (llama_ftype candidate : any) {
        if (candidate == ftype) return true;
    }
    return false;
}

// use_more_bits: the first and last eighth of the layers and every third one in between.
[[nodiscard]] constexpr bool use_more_bits(int i_layer, int n_layers) noexcept {
    return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

// Why a tensor cannot be typed (the engine throws). Kept small and turned into an `error`
// only once, by `quantize`: a `result<T>` per tensor (a value beside an error) is costly in
// constant evaluation.
enum class quant_issue_kind : std::uint8_t { none, layer_unreadable, layer_out_of_range, no_fallback };
struct quant_issue {
    quant_issue_kind kind = quant_issue_kind::none;
    ggml_type type = ggml_type::f32;  // no_fallback: the type whose block does not fit
};

// layer_info: with experts the layer comes from the name ("blk.N."), because the tensors of
// one layer are not consecutive; otherwise the running counter is the layer.
struct layer_position {
    int i_layer = 0;
    int n_layer = 0;
};
[[nodiscard]] constexpr layer_position layer_info(const quant_model_facts& model, int counter, int n_layer,
                                                  std::string_view name, quant_issue& issue) noexcept {
    layer_position position{counter, n_layer};
    if (model.n_expert > 1) {
        auto parsed = scan_block_index(name);
        if (!parsed) {
            issue.kind = quant_issue_kind::layer_unreadable;
        } else if (*parsed < 0 || *parsed >= n_layer) {
            issue.kind = quant_issue_kind::layer_out_of_range;
        } else {
            position.i_layer = *parsed;
        }
    }
    return position;
}

// llama_tensor_get_type_impl: the mixture of an ftype — more bits where quantization hurts
// most (output, attn_v, ffn_down of the first/last layers), fewer where it is cheap.
// LLM_ARCH_FALCON's special cases are omitted: vramfit does not model that architecture.
[[nodiscard]] constexpr ggml_type mixed_tensor_type(quant_state& qs, const quant_model_facts& model,
                                                    ggml_type new_type, std::string_view name,
                                                    const std::array<std::int64_t, 4>& ne, llama_ftype ftype,
                                                    quant_category category, const quantize_options& options,
                                                    quant_issue& issue) noexcept {
    using F = llama_ftype;
    using T = ggml_type;
    const bool iq2_or_iq1 = ftype_is(ftype, {F::mostly_iq2_xxs, F::mostly_iq2_xs, F::mostly_iq1_s,
                                             F::mostly_iq2_s, F::mostly_iq2_m, F::mostly_iq1_m});

    // The output matrix, and token_embd when it doubles as the output (tied embeddings).
    if (category == quant_category::output || (qs.has_tied_embeddings && category == quant_category::token_embd)) {
        if (options.output_tensor_type) {
            new_type = *options.output_tensor_type;
        } else {
            const std::int64_t nx = ne[0];
            const std::int64_t qk_k = block_size(new_type);
            if (ftype == F::mostly_mxfp4_moe) {
                new_type = T::q8_0;
            } else if (nx % qk_k != 0) {
                new_type = T::q8_0;
            } else if (ftype_is(ftype, {F::mostly_iq2_xxs, F::mostly_iq2_xs, F::mostly_iq3_xxs, F::mostly_iq1_s,
                                        F::mostly_iq2_s, F::mostly_iq2_m, F::mostly_iq1_m})) {
                new_type = T::q5_K;
            } else if (new_type != T::q8_0) {
                new_type = T::q6_K;
            }
        }
    } else if (ftype == F::mostly_mxfp4_moe) {
        // Stacked expert tensors (3-D) -> mxfp4, everything else -> q8_0.
        new_type = ne[2] > 1 ? T::mxfp4 : T::q8_0;
    } else if (category == quant_category::token_embd) {
        if (options.token_embedding_type) {
            new_type = *options.token_embedding_type;
        } else if (ftype_is(ftype, {F::mostly_iq2_xxs, F::mostly_iq2_xs, F::mostly_iq1_s, F::mostly_iq1_m})) {
            new_type = T::q2_K;
        } else if (ftype_is(ftype, {F::mostly_iq2_s, F::mostly_iq2_m, F::mostly_iq3_xxs})) {
            new_type = T::iq3_s;
        } else if (ftype_is(ftype, {F::mostly_tq1_0, F::mostly_tq2_0})) {
            new_type = T::q4_K;
        }
    } else if (iq2_or_iq1) {
        const bool iq2_s_or_m = ftype_is(ftype, {F::mostly_iq2_s, F::mostly_iq2_m});
        if (is_attn_v_like(category)) {
            if (model.n_gqa >= 4 || model.n_expert >= 4) new_type = T::q4_K;
            else new_type = iq2_s_or_m ? T::iq3_s : T::q2_K;
            ++qs.i_attention_wv;
        } else if (model.n_expert == 8 && category == quant_category::attention_k) {
            new_type = T::q4_K;
        } else if (category == quant_category::ffn_down) {
            // The running counter, not the name's layer, even for MoE models.
            if (qs.i_ffn_down < qs.n_ffn_down / 8) new_type = iq2_s_or_m ? T::iq3_s : T::q2_K;
            ++qs.i_ffn_down;
        } else if (category == quant_category::attention_output) {
            if (model.n_expert == 8) {
                new_type = T::q5_K;
            } else if (ftype_is(ftype, {F::mostly_iq1_s, F::mostly_iq1_m})) {
                new_type = T::iq2_xxs;
            } else if (iq2_s_or_m) {
                new_type = T::iq3_s;
            }
        }
    } else if (is_attn_v_like(category)) {
        if (ftype == F::mostly_q2_K) {
            new_type = model.n_gqa >= 4 ? T::q4_K : T::q3_K;
        } else if (ftype == F::mostly_q2_K_S && model.n_gqa >= 4) {
            new_type = T::q4_K;
        } else if (ftype == F::mostly_iq3_xxs) {
            new_type = model.n_gqa >= 4 ? T::q4_K : !qs.has_imatrix ? T::iq3_s : T::iq3_xxs;
        } else if (ftype_is(ftype, {F::mostly_iq3_xs, F::mostly_iq3_s}) && model.n_gqa >= 4) {
            new_type = T::q4_K;
        } else if (ftype == F::mostly_iq3_m) {
            new_type = T::q4_K;
        } else if (ftype == F::mostly_q3_K_M) {
            new_type = qs.i_attention_wv < 2 ? T::q5_K : T::q4_K;
        } else if (ftype == F::mostly_q3_K_L) {
            new_type = T::q5_K;
        } else if (ftype_is(ftype, {F::mostly_iq4_nl, F::mostly_iq4_xs}) && model.n_gqa >= 4) {
            new_type = T::q5_K;
        } else if (ftype_is(ftype, {F::mostly_q4_K_M, F::mostly_q5_K_M}) &&
                   use_more_bits(qs.i_attention_wv, qs.n_attention_wv)) {
            new_type = T::q6_K;
        } else if (ftype == F::mostly_q4_K_S && qs.i_attention_wv < 4) {
            new_type = T::q5_K;
        }
        // 70B: attn_v is 8x smaller than attn_q (8 heads share it), so more bits are cheap.
        if (model.is_70b && (new_type == T::q3_K || new_type == T::q4_K)) new_type = T::q5_K;
        if (model.n_expert == 8) new_type = T::q8_0;  // Mixtral-style 8-expert models
        ++qs.i_attention_wv;
    } else if (category == quant_category::attention_k) {
        if (model.n_expert == 8) {
            new_type = T::q8_0;
        } else if (ftype == F::mostly_iq3_xs) {
            new_type = T::iq3_xxs;
        } else if (ftype == F::mostly_iq3_xxs) {
            new_type = T::iq2_s;
        }
    } else if (category == quant_category::attention_q) {
        if (ftype == F::mostly_iq3_xs) {
            new_type = T::iq3_xxs;
        } else if (ftype == F::mostly_iq3_xxs) {
            new_type = T::iq2_s;
        }
    } else if (category == quant_category::ffn_down) {
        const auto position = layer_info(model, qs.i_ffn_down, qs.n_ffn_down, name, issue);
        const int i_layer = position.i_layer;
        const int n_layer = position.n_layer;
        if (ftype == F::mostly_q2_K) {
            new_type = T::q3_K;
        } else if (ftype == F::mostly_q2_K_S) {
            if (i_layer < n_layer / 8) new_type = T::q4_K;
        } else if (ftype == F::mostly_iq3_xxs && !qs.has_imatrix) {
            new_type = i_layer < n_layer / 8 ? T::q4_K : T::q3_K;
        } else if (ftype == F::mostly_q3_K_M) {
            // The engine's q3_K branch needs LLM_ARCH_FALCON; every other architecture gets q4_K.
            new_type = i_layer < n_layer / 16 ? T::q5_K : T::q4_K;
        } else if (ftype == F::mostly_iq3_m &&
                   (i_layer < n_layer / 8 || (model.n_expert == 8 && use_more_bits(i_layer, n_layer)))) {
            new_type = T::q4_K;
        } else if (ftype == F::mostly_q3_K_L) {
            new_type = T::q5_K;
        } else if (ftype == F::mostly_q4_K_M) {
            if (use_more_bits(i_layer, n_layer)) new_type = T::q6_K;
        } else if (i_layer < n_layer / 8 && ftype_is(ftype, {F::mostly_iq4_nl, F::mostly_iq4_xs}) && !qs.has_imatrix) {
            new_type = T::q5_K;
        } else if (ftype == F::mostly_q5_K_M && use_more_bits(i_layer, n_layer)) {
            new_type = T::q6_K;
        } else if (ftype == F::mostly_q4_K_S && i_layer < n_layer / 8) {
            new_type = T::q5_K;
        } else if (ftype_is(ftype, {F::mostly_q4_0, F::mostly_q5_0}) && qs.has_imatrix && i_layer < n_layer / 8) {
            new_type = ftype == F::mostly_q4_0 ? T::q4_1 : T::q5_1;
        }
        ++qs.i_ffn_down;
    } else if (category == quant_category::attention_output) {
        if (model.n_expert == 8) {
            if (ftype_is(ftype, {F::mostly_q2_K, F::mostly_iq3_xs, F::mostly_iq3_xxs, F::mostly_q3_K_S,
                                 F::mostly_q3_K_M, F::mostly_iq4_nl, F::mostly_q4_K_S, F::mostly_q4_K_M,
                                 F::mostly_iq3_s, F::mostly_iq3_m, F::mostly_iq4_xs})) {
                new_type = T::q5_K;
            }
        } else if (ftype == F::mostly_q2_K) {
            new_type = T::q3_K;
        } else if (ftype == F::mostly_iq3_xxs) {
            new_type = T::iq3_s;
        } else if (ftype == F::mostly_q3_K_M) {
            new_type = T::q4_K;
        } else if (ftype == F::mostly_q3_K_L) {
            new_type = T::q5_K;
        } else if (ftype == F::mostly_iq3_m) {
            new_type = T::q4_K;
        }
    }
    // (The engine's ATTENTION_QKV branch would follow here; is_attn_v_like above already takes
    // every attn_qkv tensor, so it never runs.)
    else if (category == quant_category::ffn_gate) {
        const auto position = layer_info(model, qs.i_ffn_gate, qs.n_ffn_gate, name, issue);
        if (ftype == F::mostly_iq3_xs && position.i_layer >= position.n_layer / 8 &&
            position.i_layer < 7 * position.n_layer / 8) {
            new_type = T::iq3_xxs;
        }
        ++qs.i_ffn_gate;
    } else if (category == quant_category::ffn_up) {
        const auto position = layer_info(model, qs.i_ffn_up, qs.n_ffn_up, name, issue);
        if (ftype == F::mostly_iq3_xs && position.i_layer >= position.n_layer / 8 &&
            position.i_layer < 7 * position.n_layer / 8) {
            new_type = T::iq3_xxs;
        }
        ++qs.i_ffn_up;
    }
    return new_type;
}

// tensor_type_fallback: a row length that is not a multiple of the chosen type's block size
// falls back to a 32-block type of similar size, then to f16.
[[nodiscard]] constexpr ggml_type fallback_tensor_type(quant_state& qs, std::int64_t ncols, ggml_type target,
                                                       quant_issue& issue) noexcept {
    using T = ggml_type;
    if (ncols % block_size(target) == 0) return target;
    ++qs.n_fallback;
    T fallback = target;
    switch (target) {
        case T::iq1_s: case T::iq1_m: case T::iq2_xxs: case T::iq2_xs: case T::iq2_s:
        case T::iq3_xxs: case T::iq3_s: case T::iq4_xs:
            fallback = T::iq4_nl; break;
        case T::q2_K: case T::q3_K: case T::tq1_0: case T::tq2_0:
            fallback = T::q4_0; break;
        case T::q4_K: fallback = T::q5_0; break;
        case T::q5_K: fallback = T::q5_1; break;
        case T::q6_K: fallback = T::q8_0; break;
        default:
            issue.kind = quant_issue_kind::no_fallback;
            issue.type = target;
            return target;
    }
    if (ncols % block_size(fallback) != 0) fallback = T::f16;
    return fallback;
}

// llama_tensor_get_type: the type one tensor is written with. `allowed` is
// tensor_allows_quantization of the tensor (the caller needs it too; computed once).
[[nodiscard]] constexpr ggml_type target_tensor_type(quant_state& qs, const quant_model_facts& model,
                                                     const tensor_info& tensor, bool allowed, quant_category category,
                                                     llama_ftype ftype, ggml_type default_type,
                                                     const quantize_options& options, quant_issue& issue) noexcept {
    if (!allowed) return tensor.type;
    if (options.token_embedding_type && category == quant_category::token_embd) return *options.token_embedding_type;
    if (options.output_tensor_type && category == quant_category::output) return *options.output_tensor_type;

    ggml_type new_type = default_type;
    if (is_quantized(default_type)) {
        if (!options.pure) {
            new_type = mixed_tensor_type(qs, model, new_type, tensor.name.view(), tensor.ne, ftype, category, options, issue);
            if (issue.kind != quant_issue_kind::none) return new_type;
        }
        new_type = fallback_tensor_type(qs, tensor.ne[0], new_type, issue);
    }
    return new_type;
}

} // namespace detail
} // namespace vramfit
