// The test-side stand-in for a config.json reader: the top-level values the memory model reads,
// under the names the config classes give them. Kept in this one function so that the library's
// reader can replace it.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "vramfit/model/config.hpp"

namespace vramfit::test {

// The raw text of a top-level key's value ("" when absent): a scalar, or a bracketed array.
inline std::string_view top_level_value(std::string_view json, std::string_view key) {
    int depth = 0;
    for (std::size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (c == '"') {
            const std::size_t end = json.find('"', i + 1);
            if (end == std::string_view::npos) return {};
            const std::string_view name = json.substr(i + 1, end - i - 1);
            i = end;
            if (depth != 1) continue;
            std::size_t j = end + 1;
            while (j < json.size() && (json[j] == ' ' || json[j] == '\n' || json[j] == '\t' || json[j] == '\r')) ++j;
            if (j >= json.size() || json[j] != ':') continue;  // a string value, not a key
            ++j;
            while (j < json.size() && (json[j] == ' ' || json[j] == '\n' || json[j] == '\t' || json[j] == '\r')) ++j;
            std::size_t k = j;
            int d = 0;
            bool in_string = false;
            for (; k < json.size(); ++k) {
                const char v = json[k];
                if (in_string) { if (v == '"') in_string = false; continue; }
                if (v == '"') in_string = true;
                else if (v == '[' || v == '{') ++d;
                else if (v == ']' || v == '}') { if (d == 0) break; --d; if (d == 0) { ++k; break; } }
                else if (v == ',' && d == 0) break;
            }
            if (name == key) {
                std::string_view value = json.substr(j, k - j);
                while (!value.empty() && (value.back() == ' ' || value.back() == '\n' || value.back() == '\r')) value.remove_suffix(1);
                return value;
            }
            i = k - 1;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return {};
}

inline std::uint32_t top_level_uint(std::string_view json, std::string_view key, std::uint32_t fallback = 0) {
    const auto v = top_level_value(json, key);
    if (v.empty() || v == "null" || v.front() < '0' || v.front() > '9') return fallback;
    return static_cast<std::uint32_t>(std::stoul(std::string(v)));
}

inline bool top_level_bool(std::string_view json, std::string_view key, bool fallback) {
    const auto v = top_level_value(json, key);
    if (v == "true") return true;
    if (v == "false") return false;
    return fallback;
}

inline std::string top_level_string(std::string_view json, std::string_view key) {
    const auto v = top_level_value(json, key);
    if (v.size() < 2 || v.front() != '"') return {};
    return std::string(v.substr(1, v.size() - 2));
}

// model_config from config.json, with each config class's attribute_map and defaults the
// memory model needs (GPT2Config: n_embd, n_head, n_layer, n_positions, n_inner; OPTConfig:
// ffn_dim; tie_word_embeddings defaults).
inline model_config config_from_json(std::string_view json) {
    model_config c{};
    const std::string type = top_level_string(json, "model_type");
    c.model_type = config_name(type);
    const bool gpt2 = type == "gpt2";
    c.num_hidden_layers = top_level_uint(json, gpt2 ? "n_layer" : "num_hidden_layers");
    c.hidden_size = top_level_uint(json, gpt2 ? "n_embd" : "hidden_size");
    c.num_attention_heads = top_level_uint(json, gpt2 ? "n_head" : "num_attention_heads");
    c.num_key_value_heads = top_level_uint(json, "num_key_value_heads");
    c.head_dim = top_level_uint(json, "head_dim");
    c.intermediate_size = top_level_uint(json, gpt2 ? "n_inner" : type == "opt" ? "ffn_dim" : "intermediate_size");
    if (gpt2 && c.intermediate_size == 0) c.intermediate_size = 4 * c.hidden_size;
    c.vocab_size = top_level_uint(json, "vocab_size");
    c.max_position_embeddings = top_level_uint(json, gpt2 ? "n_positions" : "max_position_embeddings");
    c.tie_word_embeddings = top_level_bool(json, "tie_word_embeddings", gpt2 || type == "opt" || type == "gemma3_text");
    c.attention_bias = top_level_bool(json, "attention_bias", false);
    c.mlp_bias = top_level_bool(json, "mlp_bias", false);
    c.word_embed_proj_dim = top_level_uint(json, "word_embed_proj_dim");
    c.do_layer_norm_before = top_level_bool(json, "do_layer_norm_before", true);
    c.enable_bias = top_level_bool(json, "enable_bias", true);
    c.num_experts = top_level_uint(json, "num_local_experts", top_level_uint(json, "num_experts", top_level_uint(json, "n_routed_experts")));
    c.num_experts_per_tok = top_level_uint(json, "num_experts_per_tok");
    c.moe_intermediate_size = top_level_uint(json, "moe_intermediate_size");
    c.sliding_window = top_level_uint(json, "sliding_window");
    // layer_types: which layers slide
    const auto types = top_level_value(json, "layer_types");
    std::uint32_t layer = 0;
    for (std::size_t p = 0; (p = types.find('"', p)) != std::string_view::npos; ++layer) {
        const std::size_t e = types.find('"', p + 1);
        if (types.substr(p + 1, e - p - 1) == "sliding_attention") c.sliding_layers.insert(layer);
        p = e + 1;
    }
    if (top_level_value(json, "use_sliding_window") == "false") c.sliding_window = 0;
    // no layer_types: every layer slides when the config has a window (cache_utils.py
    // get_layer_types_and_kwargs infers them from sliding_window)
    if (types.empty() && c.sliding_window != 0)
        for (std::uint32_t l = 0; l < c.num_hidden_layers; ++l) c.sliding_layers.insert(l);
    return c;
}

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace vramfit::test
