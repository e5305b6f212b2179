// The model_config of each oracle model, filled from its config.json (tests/data/hf/configs/),
// field by field. The one place that turns a config.json into a model_config for these tests; a
// config.json reader replaces it.
#pragma once

#include <optional>
#include <string_view>

#include "vramfit/model/config.hpp"

namespace oracle {

inline std::optional<vramfit::model_config> config_for(std::string_view model_id) {
    using vramfit::model_config;
    model_config c{};
    auto llama = [&](const char* type, unsigned layers, unsigned hidden, unsigned heads, unsigned kv, unsigned head_dim,
                     unsigned inter, unsigned vocab, bool tied) {
        c.model_type = type;
        c.num_hidden_layers = layers;
        c.hidden_size = hidden;
        c.num_attention_heads = heads;
        c.num_key_value_heads = kv;
        c.head_dim = head_dim;
        c.intermediate_size = inter;
        c.vocab_size = vocab;
        c.tie_word_embeddings = tied;
    };
    if (model_id == "meta-llama/Llama-3.1-8B-Instruct") llama("llama", 32, 4096, 32, 8, 0, 14336, 128256, false);
    else if (model_id == "meta-llama/Llama-3.3-70B-Instruct") llama("llama", 80, 8192, 64, 8, 128, 28672, 128256, false);
    else if (model_id == "deepseek-ai/deepseek-llm-7b-chat") llama("llama", 30, 4096, 32, 32, 0, 11008, 102400, false);
    else if (model_id == "mistralai/Mistral-7B-Instruct-v0.3") llama("mistral", 32, 4096, 32, 8, 0, 14336, 32768, false);
    else if (model_id == "Qwen/Qwen2.5-72B-Instruct") llama("qwen2", 80, 8192, 64, 8, 0, 29568, 152064, false);
    else if (model_id == "Qwen/Qwen2.5-7B-Instruct") llama("qwen2", 28, 3584, 28, 4, 0, 18944, 152064, false);
    else if (model_id == "Qwen/Qwen3-32B") llama("qwen3", 64, 5120, 64, 8, 128, 25600, 151936, false);
    else if (model_id == "facebook/opt-30b") {
        llama("opt", 48, 7168, 56, 0, 0, 28672, 50272, true);  // OPTConfig: tie_word_embeddings defaults to true
        c.max_position_embeddings = 2048;
        c.word_embed_proj_dim = 7168;
    } else if (model_id == "gpt2") {
        llama("gpt2", 12, 768, 12, 0, 0, 0, 50257, true);  // n_inner null: 4 · n_embd
        c.max_position_embeddings = 1024;                  // n_positions
    } else if (model_id == "deepseek-ai/DeepSeek-V2.5") {
        llama("deepseek_v2", 60, 5120, 128, 128, 0, 12288, 102400, false);
        c.num_experts = 160;
        c.num_experts_per_tok = 6;
        c.moe_intermediate_size = 1536;
        c.n_shared_experts = 2;
        c.first_k_dense_replace = 1;
        c.moe_layer_freq = 1;
        c.q_lora_rank = 1536;
        c.kv_lora_rank = 512;
        c.qk_nope_head_dim = 128;
        c.qk_rope_head_dim = 64;
        c.v_head_dim = 128;
    } else if (model_id == "openai/gpt-oss-20b") {
        llama("gpt_oss", 24, 2880, 64, 8, 64, 2880, 201088, false);
        c.attention_bias = true;
        c.num_experts = 32;  // num_local_experts
        c.num_experts_per_tok = 4;
    } else if (model_id == "google/gemma-3-12b-it" || model_id == "google/gemma-3-12b-it#multimodal") {
        // text_config lists only what differs from Gemma3TextConfig: head_dim 256, vocab 262208
        // and tied embeddings are the class defaults.
        llama("gemma3", 48, 3840, 16, 8, 256, 15360, 262208, true);
        c.sliding_window = 1024;
        if (model_id.ends_with("#multimodal")) {
            c.multimodal = true;
            c.vision.hidden_size = 1152;
            c.vision.intermediate_size = 4304;
            c.vision.num_hidden_layers = 27;
            c.vision.num_attention_heads = 16;
            c.vision.image_size = 896;
            c.vision.patch_size = 14;
        }
    } else {
        return std::nullopt;
    }
    return c;
}

} // namespace oracle
