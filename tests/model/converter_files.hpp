// The converter-written GGUF headers both test_gguf_model.cpp (run time) and static_gguf_model.cpp
// (compile time) check: the keys convert_hf_to_gguf.py writes for a catalog entry, read back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vramfit/engines/llama_cpp/convert.hpp"
#include "vramfit/engines/llama_cpp/export.hpp"
#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/from_gguf.hpp"
#include "vramfit/formats/gguf/reader.hpp"
#include "vramfit/formats/gguf/writer.hpp"

namespace converter_files {

using namespace vramfit;

// The keys the converter writes for a catalog entry (written independently of
// llama_cpp::detail::converter_metadata, following gen_gguf.py / convert_hf_to_gguf.py).
constexpr gguf::writer converter_file(const catalog::model_entry& entry, bool with_tensors = true) {
    const model_config& e = entry.config;
    const architecture arch = *llama_cpp::architecture_of(e);
    gguf::writer w;
    const std::string_view a = architecture_name(arch);
    auto key = [a](std::string_view suffix) {
        fixed_string<96> k{a};
        k.append(".");
        k.append(suffix);
        return k;
    };
    // The converter's own values: Mamba2Model pads the vocabulary and writes 2^20 positions,
    // CommandR2Model takes model_max_length, LFM2Model adjusts block_ff_dim (2/3, multiple of
    // 256), Llama4Model writes intermediate_size_mlp for the dense FFN.
    const std::uint32_t vocab = arch == architecture::mamba2 ? (e.vocab_size + 15) / 16 * 16 : e.vocab_size;
    const std::uint32_t context = arch == architecture::mamba2     ? 1U << 20
                                  : arch == architecture::command_r ? e.model_max_length
                                                                     : e.max_position_embeddings;
    const std::uint32_t ff = arch == architecture::lfm2     ? (2 * e.intermediate_size / 3 + 255) / 256 * 256
                             : arch == architecture::llama4 ? e.intermediate_size_mlp
                                                            : e.intermediate_size;
    const std::uint32_t ff_exp = arch == architecture::gpt_oss || arch == architecture::llama4 ? e.intermediate_size : e.moe_intermediate_size;
    const auto rope_dim = static_cast<std::uint32_t>(e.partial_rotary_factor * e.attention_head_dim());
    w.set("general.architecture", a);
    w.set("general.name", entry.display_name);
    w.set("general.alignment", std::uint32_t{32});
    w.set(key("vocab_size").view(), vocab);
    w.set(key("context_length").view(), context);
    w.set(key("embedding_length").view(), e.hidden_size);
    w.set(key("block_count").view(), e.num_hidden_layers);
    if (arch != architecture::mamba2) {
        w.set(key("feed_forward_length").view(), ff);
        w.set(key("attention.head_count").view(), e.num_attention_heads);
    }
    if (arch == architecture::deepseek2) {
        w.set(key("attention.head_count_kv").view(), std::uint32_t{1});
        w.set(key("attention.key_length").view(), e.kv_lora_rank + e.qk_rope_head_dim);
        w.set(key("attention.value_length").view(), e.kv_lora_rank);
        w.set(key("attention.key_length_mla").view(), e.qk_nope_head_dim + e.qk_rope_head_dim);
        w.set(key("attention.value_length_mla").view(), e.v_head_dim);
        w.set(key("attention.kv_lora_rank").view(), e.kv_lora_rank);
        if (e.q_lora_rank != 0) w.set(key("attention.q_lora_rank").view(), e.q_lora_rank);
        w.set(key("rope.dimension_count").view(), e.qk_rope_head_dim);
        w.set(key("leading_dense_block_count").view(), e.first_k_dense_replace);
        w.set(key("expert_shared_count").view(), e.n_shared_experts);
    } else if (arch == architecture::mamba2) {
        w.set(key("ssm.conv_kernel").view(), e.ssm_conv_kernel);
        w.set(key("ssm.inner_size").view(), e.ssm_inner_size);
        w.set(key("ssm.state_size").view(), e.ssm_state_size);
        w.set(key("ssm.time_step_rank").view(), e.ssm_num_heads);
        w.set(key("ssm.group_count").view(), e.ssm_n_groups);
    } else if (arch == architecture::lfm2) {
        // LFM2Model: head_count_kv per layer, 0 for the short-conv layers; conv_L_cache.
        std::vector<std::uint32_t> kv(e.num_hidden_layers, 0);
        for (std::uint32_t il = 0; il < e.num_hidden_layers; ++il) kv[il] = e.full_attention_layers.contains(il) ? e.kv_heads() : 0;
        w.set_array(key("attention.head_count_kv").view(), kv);
        w.set(key("shortconv.l_cache").view(), e.conv_l_cache);
        w.set(key("attention.key_length").view(), e.head_dim);
        w.set(key("attention.value_length").view(), e.head_dim);
        w.set(key("rope.dimension_count").view(), e.head_dim);
    } else if (arch == architecture::gptneox) {
        // GPTNeoXModel: head_count only (head size n_embd / n_head), rotary_pct x head size as the
        // rope width, use_parallel_residual.
        w.set(key("rope.dimension_count").view(), rope_dim);
        w.set(key("use_parallel_residual").view(), e.use_parallel_residual);
    } else if (arch == architecture::command_r) {
        // CommandR2Model: no head_dim in the config, so no key/value lengths; logit_scale (f32).
        w.set(key("attention.head_count_kv").view(), e.kv_heads());
        w.set(key("logit_scale").view(), static_cast<float>(e.logit_scale));
    } else {
        w.set(key("attention.head_count_kv").view(), e.kv_heads());
        if (e.head_dim != 0) {  // written when config.json has head_dim
            w.set(key("attention.key_length").view(), e.head_dim);
            w.set(key("attention.value_length").view(), e.head_dim);
        }
        // LlamaModel: head_dim or n_embd / n_head; Glm4Model: head_dim x partial_rotary_factor
        w.set(key("rope.dimension_count").view(), arch == architecture::glm4 ? rope_dim : e.attention_head_dim());
    }
    // Llama4Model: interleave_moe_layer_step (intermediate_size_mlp went out as feed_forward_length)
    if (arch == architecture::llama4) w.set(key("interleave_moe_layer_step").view(), e.interleave_moe_layer_step);
    if (e.num_experts != 0) {
        w.set(key("expert_count").view(), e.num_experts);
        w.set(key("expert_used_count").view(), e.num_experts_per_tok);
    }
    if (ff_exp != 0) w.set(key("expert_feed_forward_length").view(), ff_exp);
    if (e.sliding_window != 0) w.set(key("attention.sliding_window").view(), e.sliding_window);
    if (arch == architecture::gemma3) w.set(key("attention.sliding_window_pattern").view(), e.sliding_window_pattern);
    if (with_tensors) {
        const auto model = llama_cpp::describe_f16(entry);
        for (const auto& t : model->tensors) {
            w.add_tensor(t.name.view(), std::vector<std::int64_t>(t.ne.begin(), t.ne.begin() + t.n_dims), t.type);
        }
    }
    return w;
}

constexpr result<model_description> describe_bytes(const std::vector<unsigned char>& bytes) {
    auto header = gguf::parse(bytes);
    if (!header) return header.err();
    return describe_gguf(*header);
}

constexpr result<model_description> describe_writer(const gguf::writer& w) { return describe_bytes(w.header_bytes()); }

constexpr bool same_hparams(const hyperparameters& a, const hyperparameters& b) {
    if (a.arch != b.arch || a.n_layer != b.n_layer || a.n_embd != b.n_embd || a.n_vocab != b.n_vocab ||
        a.n_ctx_train != b.n_ctx_train || a.n_embd_head_k != b.n_embd_head_k || a.n_embd_head_v != b.n_embd_head_v ||
        a.n_rot != b.n_rot || a.n_expert != b.n_expert || a.n_expert_used != b.n_expert_used ||
        a.n_expert_shared != b.n_expert_shared || a.n_ff_exp != b.n_ff_exp || a.n_ff_shexp != b.n_ff_shexp ||
        a.n_layer_dense_lead != b.n_layer_dense_lead || a.swa_type != b.swa_type || a.n_swa != b.n_swa ||
        a.n_lora_q != b.n_lora_q || a.n_lora_kv != b.n_lora_kv || a.n_embd_head_k_mla != b.n_embd_head_k_mla ||
        a.n_embd_head_v_mla != b.n_embd_head_v_mla || a.ssm_d_conv != b.ssm_d_conv || a.ssm_d_inner != b.ssm_d_inner ||
        a.ssm_d_state != b.ssm_d_state || a.ssm_n_group != b.ssm_n_group || a.ssm_dt_rank != b.ssm_dt_rank ||
        a.ssm_n_head != b.ssm_n_head || a.tied_embeddings != b.tied_embeddings || a.layers.size() != b.layers.size() ||
        a.n_moe_layer_step != b.n_moe_layer_step || a.n_no_rope_layer_step != b.n_no_rope_layer_step ||
        a.use_kq_norm != b.use_kq_norm || a.use_par_res != b.use_par_res || a.f_logit_scale != b.f_logit_scale ||
        a.attn_qkv_bias != b.attn_qkv_bias) {
        return false;
    }
    for (std::size_t il = 0; il < a.layers.size(); ++il) {
        const auto& x = a.layers[il];
        const auto& y = b.layers[il];
        if (x.n_head != y.n_head || x.n_head_kv != y.n_head_kv || x.n_ff != y.n_ff || x.swa != y.swa || x.recurrent != y.recurrent) {
            return false;
        }
    }
    return true;
}

// A converter-written Llama-3.2-1B header gives the catalog's hyper-parameters and tensors.
constexpr bool llama_1b_round_trips() {
    const auto& entry = catalog::llama_3_2_1b::entry;
    const auto from_file = describe_writer(converter_file(entry));
    const auto from_catalog = llama_cpp::describe_f16(entry);
    if (!from_file || !from_catalog || !same_hparams(from_file->hparams, from_catalog->hparams)) return false;
    if (from_file->tensors.size() != from_catalog->tensors.size()) return false;
    for (std::size_t i = 0; i < from_file->tensors.size(); ++i) {
        const auto& a = from_file->tensors[i];
        const auto& b = from_catalog->tensors[i];
        if (a.name != b.name || a.ne != b.ne || a.type != b.type || a.offset != b.offset || a.layer != b.layer) return false;
    }
    return true;
}

} // namespace converter_files
