// vramfit/engines/llama_cpp/hparams.hpp — the engine's hyper-parameter rules, from metadata values.
//
// `model_metadata` holds what a converted GGUF's `<arch>.*` keys say (as convert_hf_to_gguf.py
// writes them); `derive_hyperparameters` applies llama.cpp's loading rules to it
// (`llama_model::load_hparams` in src/llama-model.cpp and the per-architecture
// `load_arch_hparams` in src/models/<arch>.cpp, plus `llama_hparams::set_swa_pattern` in
// src/llama-hparams.cpp). Both a GGUF header (engines/llama_cpp/from_gguf.hpp) and a catalog entry
// (catalog/models.hpp) go through it, so the engine's rules live in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "vramfit/engines/llama_cpp/architecture.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"

namespace vramfit {

// LLAMA_MAX_EXPERTS (src/llama-hparams.h at the target commit).
inline constexpr std::uint32_t max_experts = 512;

struct model_metadata {
    architecture arch = architecture::llama;
    std::uint32_t n_ctx_train = 0;  // <arch>.context_length
    std::uint32_t n_embd = 0;       // <arch>.embedding_length
    std::uint32_t n_layer = 0;      // <arch>.block_count
    std::uint32_t n_vocab = 0;      // tokenizer.ggml.tokens length (or <arch>.vocab_size)

    // Keys read with get_key_or_arr: empty = absent, one value = scalar, n_layer values = per layer.
    std::vector<std::uint32_t> head_count;     // <arch>.attention.head_count
    std::vector<std::uint32_t> head_count_kv;  // <arch>.attention.head_count_kv
    std::vector<std::uint32_t> feed_forward_length;

    std::optional<std::uint32_t> key_length;    // <arch>.attention.key_length
    std::optional<std::uint32_t> value_length;  // <arch>.attention.value_length
    std::optional<std::uint32_t> rope_dimension_count;

    std::uint32_t expert_count = 0;
    std::uint32_t expert_used_count = 0;
    std::optional<std::uint32_t> expert_feed_forward_length;
    std::optional<std::uint32_t> expert_shared_count;
    std::optional<std::uint32_t> expert_shared_feed_forward_length;
    std::optional<std::uint32_t> leading_dense_block_count;

    std::optional<std::uint32_t> sliding_window;         // <arch>.attention.sliding_window
    std::vector<std::uint32_t> sliding_window_pattern;   // scalar period, or one flag per layer

    // deepseek2 MLA
    std::optional<std::uint32_t> q_lora_rank;
    std::optional<std::uint32_t> kv_lora_rank;
    std::optional<std::uint32_t> key_length_mla;
    std::optional<std::uint32_t> value_length_mla;

    // <arch>.ssm.* (mamba2)
    std::optional<std::uint32_t> ssm_conv_kernel;
    std::optional<std::uint32_t> ssm_inner_size;
    std::optional<std::uint32_t> ssm_state_size;
    std::optional<std::uint32_t> ssm_time_step_rank;
    std::optional<std::uint32_t> ssm_group_count;

    std::optional<std::uint32_t> shortconv_l_cache;  // <arch>.shortconv.l_cache (lfm2)

    std::optional<std::uint32_t> interleave_moe_layer_step;  // <arch>.interleave_moe_layer_step (llama4)
    std::optional<bool> use_parallel_residual;               // <arch>.use_parallel_residual (gptneox)
    std::optional<float> logit_scale;                        // <arch>.logit_scale (command-r)

    bool has_output_tensor = true;  // output.weight present; without it the logits reuse token_embd
    bool has_attn_qkv_bias = false; // blk.0.attn_q.bias present (optional q/k/v biases, e.g. glm4)
};

namespace detail {

[[nodiscard]] constexpr error missing_key(architecture arch, std::string_view suffix) {
    error failure{errc::missing_key, "required key '"};
    failure.with(architecture_name(arch)).with(".").with(suffix).with("' is missing");
    return failure;
}

[[nodiscard]] constexpr error bad_key(architecture arch, std::string_view suffix, std::string_view what) {
    error failure{errc::bad_value, "key '"};
    failure.with(architecture_name(arch)).with(".").with(suffix).with("': ").with(what);
    return failure;
}

// llama_model_loader::get_key_or_arr: a scalar fills every layer, an array must have exactly
// n_layer entries, an absent key leaves `fallback`.
[[nodiscard]] constexpr result<std::vector<std::uint32_t>> per_layer(const model_metadata& md, std::string_view suffix,
                                                                     const std::vector<std::uint32_t>& values,
                                                                     const std::vector<std::uint32_t>& fallback) {
    if (values.empty()) return fallback;
    if (values.size() == 1) return std::vector<std::uint32_t>(md.n_layer, values.front());
    if (values.size() != md.n_layer) {
        error failure = bad_key(md.arch, suffix, "array has ");
        failure.with_number(values.size()).with(" entries, expected block_count = ").with_number(md.n_layer);
        return failure;
    }
    return values;
}

// llama_hparams::set_swa_pattern(n_pattern, dense_first = false): with period p, layers with
// il % p < p - 1 use the sliding window and every p-th layer is global; p = 0 makes all SWA.
constexpr void set_swa_pattern(hyperparameters& hp, std::uint32_t period) {
    for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
        hp.layers[il].swa = period == 0 || (il % period < period - 1);
    }
}

// The window layout of an iSWA architecture: the pattern key is either a period (scalar) or one
// flag per layer; absent means the architecture's default period.
[[nodiscard]] constexpr result<bool> apply_swa_pattern(const model_metadata& md, hyperparameters& hp, std::uint32_t default_period) {
    const auto& pattern = md.sliding_window_pattern;
    if (pattern.empty()) {
        set_swa_pattern(hp, default_period);
    } else if (pattern.size() == 1) {
        set_swa_pattern(hp, pattern.front());
    } else if (pattern.size() == hp.n_layer) {
        for (std::uint32_t il = 0; il < hp.n_layer; ++il) hp.layers[il].swa = pattern[il] != 0;
    } else {
        error failure = bad_key(md.arch, "attention.sliding_window_pattern", "array has ");
        failure.with_number(pattern.size()).with(" entries, expected 1 or block_count = ").with_number(hp.n_layer);
        return failure;
    }
    return true;
}

} // namespace detail

// Metadata → the engine's hyper-parameters (per-layer heads, FFN widths, SWA and recurrent
// flags, MLA and SSM sizes). Missing required keys and impossible values are errors naming the key.
constexpr result<hyperparameters> derive_hyperparameters(const model_metadata& md) {
    const architecture arch = md.arch;
    if (!is_supported(arch)) {
        error failure{errc::unsupported_architecture, "architecture '"};
        failure.with(architecture_name(arch)).with("' is not supported; ");
        return append_supported_list(failure);
    }
    // Common part of llama_model::load_hparams: these three are required for every architecture.
    if (md.n_ctx_train == 0) return detail::missing_key(arch, "context_length");
    if (md.n_embd == 0) return detail::missing_key(arch, "embedding_length");
    if (md.n_layer == 0) return detail::missing_key(arch, "block_count");
    if (md.n_layer > max_layers) {
        error failure = detail::bad_key(arch, "block_count", "");
        failure.with_number(md.n_layer).with(" exceeds LLAMA_MAX_LAYERS = ").with_number(max_layers);
        return failure;
    }
    if (md.n_vocab == 0) {
        return error{errc::missing_key, "vocabulary size unknown: neither tokenizer.ggml.tokens nor a vocab_size key"};
    }
    if (md.expert_count > max_experts) return detail::bad_key(arch, "expert_count", "exceeds LLAMA_MAX_EXPERTS (512)");
    if (md.expert_used_count > md.expert_count || (md.expert_count > 0 && md.expert_used_count == 0)) {
        return detail::bad_key(arch, "expert_used_count", "must be 1..expert_count when there are experts, else 0");
    }

    hyperparameters hp;
    hp.arch = arch;
    hp.n_layer = md.n_layer;
    hp.n_embd = md.n_embd;
    hp.n_vocab = md.n_vocab;
    hp.n_ctx_train = md.n_ctx_train;
    hp.n_expert = md.expert_count;
    hp.n_expert_used = md.expert_used_count;
    hp.tied_embeddings = !md.has_output_tensor || arch == architecture::gemma2;  // gemma2 never loads output.weight
    hp.attn_qkv_bias = md.has_attn_qkv_bias;
    hp.layers.resize(md.n_layer);

    // n_ff, n_head: get_key_or_arr, absent = 0; n_head_kv defaults to n_head.
    const std::vector<std::uint32_t> zeros(md.n_layer, 0);
    auto n_ff = detail::per_layer(md, "feed_forward_length", md.feed_forward_length, zeros);
    if (!n_ff) return n_ff.err();
    auto n_head = detail::per_layer(md, "attention.head_count", md.head_count, zeros);
    if (!n_head) return n_head.err();
    auto n_head_kv = detail::per_layer(md, "attention.head_count_kv", md.head_count_kv, *n_head);
    if (!n_head_kv) return n_head_kv.err();
    const bool recurrent = arch == architecture::mamba2;  // llm_arch_is_recurrent (lfm2 is hybrid: per layer below)
    for (std::uint32_t il = 0; il < md.n_layer; ++il) {
        hp.layers[il].n_ff = (*n_ff)[il];
        hp.layers[il].n_head = (*n_head)[il];
        hp.layers[il].n_head_kv = (*n_head_kv)[il];
        hp.layers[il].recurrent = recurrent;
        if (hp.layers[il].n_head_kv > hp.layers[il].n_head && hp.layers[il].n_head > 0) {
            return detail::bad_key(arch, "attention.head_count_kv", "exceeds head_count");
        }
    }

    // Head sizes: n_embd / n_head(0) unless key_length / value_length say otherwise; n_rot
    // defaults to the K head size (load_hparams, "non-transformer models do not have attention heads").
    const std::uint32_t n_head0 = hp.layers[0].n_head;
    if (n_head0 > 0) {
        hp.n_embd_head_k = md.key_length.value_or(md.n_embd / n_head0);
        hp.n_embd_head_v = md.value_length.value_or(md.n_embd / n_head0);
        hp.n_rot = md.rope_dimension_count.value_or(hp.n_embd_head_k);
        if (hp.n_embd_head_k == 0 || hp.n_embd_head_v == 0) return detail::bad_key(arch, "attention.key_length", "head size is 0");
        // Widths like n_embd_k_gqa are 32-bit in the engine and here; reject what would wrap.
        constexpr std::uint64_t width_limit = 0xffffffffULL;
        const std::uint64_t widest_head = hp.n_embd_head_k > hp.n_embd_head_v ? hp.n_embd_head_k : hp.n_embd_head_v;
        for (const auto& layer : hp.layers) {
            if (widest_head * layer.n_head > width_limit) {
                return detail::bad_key(arch, "attention.head_count", "head size x heads does not fit 32 bits");
            }
        }
        if (arch == architecture::llama && hp.n_rot != hp.n_embd_head_k) {
            return detail::bad_key(arch, "rope.dimension_count", "must equal the head size for llama (invalid n_rot)");
        }
    } else if (!recurrent) {
        return detail::missing_key(arch, "attention.head_count");
    }

    switch (arch) {
        case architecture::llama:
            // Mixtral-style experts reuse feed_forward_length as the expert width (src/models/llama.cpp).
            if (hp.n_expert > 0) {
                hp.n_ff_exp = hp.layers[0].n_ff;
                for (auto& layer : hp.layers) layer.n_ff = 0;
            }
            break;
        case architecture::qwen2:
        case architecture::qwen3:
            break;
        case architecture::qwen3moe:
            if (!md.expert_feed_forward_length) return detail::missing_key(arch, "expert_feed_forward_length");
            hp.n_ff_exp = *md.expert_feed_forward_length;
            for (auto& layer : hp.layers) layer.n_ff = 0;  // every layer is MoE
            break;
        case architecture::gemma2: {  // default window 4096, alternating (period 2)
            hp.swa_type = swa_kind::standard;
            hp.n_swa = md.sliding_window.value_or(4096);
            auto applied = detail::apply_swa_pattern(md, hp, 2);
            if (!applied) return applied.err();
            break;
        }
        case architecture::gemma3:  // SWA only when the window key is present and non-zero; period 6
            if (md.sliding_window && *md.sliding_window > 0) {
                hp.swa_type = swa_kind::standard;
                hp.n_swa = *md.sliding_window;
                auto applied = detail::apply_swa_pattern(md, hp, 6);
                if (!applied) return applied.err();
            }
            break;
        case architecture::phi3:
            // The engine disables Phi-3 SWA even when sliding_window is set ("Phi SWA is currently
            // disabled"): n_swa = 0, swa_type none, no SWA layers.
            break;
        case architecture::deepseek2: {
            // Lite variants (27 or 26 layers, or 48 with a 128256 vocabulary) have no q LoRA.
            const bool is_lite = md.n_layer == 27 || md.n_layer == 26 || (md.n_layer == 48 && md.n_vocab == 128256);
            if (!is_lite) {
                if (!md.q_lora_rank) return detail::missing_key(arch, "attention.q_lora_rank");
                hp.n_lora_q = *md.q_lora_rank;
            }
            if (!md.kv_lora_rank) return detail::missing_key(arch, "attention.kv_lora_rank");
            if (!md.expert_feed_forward_length) return detail::missing_key(arch, "expert_feed_forward_length");
            if (!md.expert_shared_count) return detail::missing_key(arch, "expert_shared_count");
            hp.n_lora_kv = *md.kv_lora_rank;
            hp.n_ff_exp = *md.expert_feed_forward_length;
            hp.n_expert_shared = *md.expert_shared_count;
            if (std::uint64_t{hp.n_ff_exp} * hp.n_expert_shared > 0xffffffffULL) {
                return detail::bad_key(arch, "expert_shared_count", "x expert_feed_forward_length does not fit 32 bits");
            }
            hp.n_ff_shexp = hp.n_ff_exp * hp.n_expert_shared;  // shared experts are one FFN of n_ff_exp·n_shared
            hp.n_layer_dense_lead = md.leading_dense_block_count.value_or(0);
            if (hp.n_layer_dense_lead > hp.n_layer) return detail::bad_key(arch, "leading_dense_block_count", "exceeds block_count");
            // is_mla(): both *_mla lengths set (n_embd_head_*_mla_impl). The cache then holds
            // K = kv_lora + rope (key_length) and V = kv_lora (value_length); the *_mla sizes are
            // the decompressed per-head sizes. Older files without them are plain MHA (wkv_b) and
            // keep 0 here, as the engine's *_impl fields do, so is_mla() stays false downstream.
            const bool is_mla = md.key_length_mla.value_or(0) != 0 && md.value_length_mla.value_or(0) != 0;
            hp.n_embd_head_k_mla = is_mla ? *md.key_length_mla : 0;
            hp.n_embd_head_v_mla = is_mla ? *md.value_length_mla : 0;
            for (std::uint32_t il = hp.n_layer_dense_lead; il < hp.n_layer; ++il) hp.layers[il].n_ff = 0;
            break;
        }
        case architecture::gpt_oss: {  // src/models/openai-moe.cpp: window required, alternating
            if (!md.expert_feed_forward_length) return detail::missing_key(arch, "expert_feed_forward_length");
            if (!md.sliding_window) return detail::missing_key(arch, "attention.sliding_window");
            hp.n_ff_exp = *md.expert_feed_forward_length;
            hp.swa_type = swa_kind::standard;
            hp.n_swa = *md.sliding_window;
            auto applied = detail::apply_swa_pattern(md, hp, 2);
            if (!applied) return applied.err();
            for (auto& layer : hp.layers) layer.n_ff = 0;
            break;
        }
        case architecture::mamba2:  // src/models/mamba2.cpp: all five ssm keys are required
            if (!md.ssm_conv_kernel) return detail::missing_key(arch, "ssm.conv_kernel");
            if (!md.ssm_inner_size) return detail::missing_key(arch, "ssm.inner_size");
            if (!md.ssm_state_size) return detail::missing_key(arch, "ssm.state_size");
            if (!md.ssm_time_step_rank) return detail::missing_key(arch, "ssm.time_step_rank");
            if (!md.ssm_group_count) return detail::missing_key(arch, "ssm.group_count");
            hp.ssm_d_conv = *md.ssm_conv_kernel;
            hp.ssm_d_inner = *md.ssm_inner_size;
            hp.ssm_d_state = *md.ssm_state_size;
            hp.ssm_dt_rank = *md.ssm_time_step_rank;
            hp.ssm_n_group = *md.ssm_group_count;
            hp.ssm_n_head = hp.ssm_dt_rank;  // mamba2: one dt per head
            if (hp.ssm_n_group == 0 || hp.ssm_d_inner % hp.ssm_n_group != 0) {
                return detail::bad_key(arch, "ssm.group_count", "must be non-zero and divide ssm.inner_size");
            }
            break;
        case architecture::lfm2: {
            // src/models/lfm2.cpp: a layer without KV heads is a short-convolution (recurrent)
            // layer; every layer has a dense FFN (n_layer_dense_lead = n_layer); a window, when
            // given, applies to all attention layers. The conv state keeps l_cache - 1 columns
            // (llama_hparams::n_embd_r), carried here in ssm_d_conv.
            if (!md.shortconv_l_cache) return detail::missing_key(arch, "shortconv.l_cache");
            if (*md.shortconv_l_cache < 2) return detail::bad_key(arch, "shortconv.l_cache", "must be at least 2");
            hp.ssm_d_conv = *md.shortconv_l_cache;
            hp.n_layer_dense_lead = hp.n_layer;
            for (auto& layer : hp.layers) layer.recurrent = layer.n_head_kv == 0;
            if (md.sliding_window && *md.sliding_window > 0) {
                hp.swa_type = swa_kind::standard;
                hp.n_swa = *md.sliding_window;
                for (auto& layer : hp.layers) layer.swa = !layer.recurrent;
            }
            break;
        }
        case architecture::glm4:
            // src/models/glm4.cpp: nothing beyond the common keys (rope.dimension_count gives the
            // partial rotary width; the graph does not depend on it).
            break;
        case architecture::command_r:  // src/models/command-r.cpp: get_key(LLM_KV_LOGIT_SCALE), required
            if (!md.logit_scale) return detail::missing_key(arch, "logit_scale");
            hp.f_logit_scale = *md.logit_scale;
            hp.tied_embeddings = true;  // the loader always duplicates token_embd as the output
            break;
        case architecture::gptneox:  // src/models/gptneox.cpp: get_key(LLM_KV_USE_PARALLEL_RESIDUAL), required
            if (!md.use_parallel_residual) return detail::missing_key(arch, "use_parallel_residual");
            hp.use_par_res = *md.use_parallel_residual;
            break;
        case architecture::llama4: {
            // src/models/llama4.cpp, load_arch_hparams: the expert width and the MoE interleave
            // step are required; a sliding_window key of 0 disables chunked attention (every
            // layer but the last then uses RoPE); otherwise the attention is chunked with a fixed
            // chunk of 8192 (whatever the key says) in a 3-chunked / 1-full pattern (period 4,
            // or the sliding_window_pattern key).
            if (!md.expert_feed_forward_length) return detail::missing_key(arch, "expert_feed_forward_length");
            if (!md.interleave_moe_layer_step) return detail::missing_key(arch, "interleave_moe_layer_step");
            if (hp.n_expert == 0) return detail::bad_key(arch, "expert_count", "llama4 model cannot have zero experts");
            hp.n_ff_exp = *md.expert_feed_forward_length;
            hp.n_moe_layer_step = *md.interleave_moe_layer_step;
            hp.n_no_rope_layer_step = 4;  // llama_hparams::n_no_rope_layer_step default
            if (md.sliding_window && *md.sliding_window == 0) {
                hp.n_no_rope_layer_step = hp.n_layer;
            } else {
                hp.swa_type = swa_kind::chunked;
                hp.n_swa = 8192;
                auto applied = detail::apply_swa_pattern(md, hp, 4);
                if (!applied) return applied.err();
            }
            hp.use_kq_norm = hp.n_expert != 128;  // type != LLM_TYPE_17B_128E
            if (hp.n_moe_layer_step > 0) {
                for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
                    if ((il + 1) % hp.n_moe_layer_step == 0) hp.layers[il].n_ff = 0;  // an MoE layer
                }
            }
            if (hp.n_rot != hp.n_embd_head_k) {
                return detail::bad_key(arch, "rope.dimension_count", "must equal the head size for llama4 (GGML_ASSERT n_embd_head == n_rot)");
            }
            break;
        }
        default:
            break;
    }
    return hp;
}

} // namespace vramfit
