// vramfit/formats/hf/config.hpp — a Hugging Face config.json as the config class transformers
// builds from it resolves it: model_config's fields (model/config.hpp).
//
// Mirrors transformers 5.24.0: `PreTrainedConfig` (configuration_utils.py) and the config class of
// each model_type (models/<type>/configuration_<type>.py): their `attribute_map` renames (GPT-2's
// n_embd, Mixtral's num_local_experts, DeepSeek's n_routed_experts), their defaults for keys the
// file leaves out (tie_word_embeddings, num_key_value_heads, head_dim, sliding_window), and how
// each derives `layer_types` — the layers the cache treats as sliding (cache_utils.py:
// get_layer_types_and_kwargs, which falls back to "every layer slides" when a window is set and
// no layer_types exist). A multimodal config's `text_config` describes the decoder.
#pragma once

#include <cstdint>
#include <string_view>

#include "vramfit/core/error.hpp"
#include "vramfit/formats/json/reader.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::hf {

// The layers a config class marks sliding when config.json has a window but no layer_types
// (configuration_*.py: layer_types built in __init__; cache_utils.py reads them): every layer,
// every other layer (Gemma 2, gpt-oss), all but every pattern-th (Gemma 3), or by
// max_window_layers (Qwen).
[[nodiscard]] constexpr layer_set default_sliding_layers(std::string_view type, std::uint32_t layers, std::uint32_t pattern = 6,
                                                         std::uint32_t max_window_layers = 28) noexcept {
    layer_set sliding;
    for (std::uint32_t i = 0; i < layers && i < layer_set::max_layers; ++i) {
        bool slides = true;  // get_layer_types_and_kwargs: a window and no layer_types: every layer
        if (type == "gemma2" || type == "gpt_oss") slides = (i + 1) % 2 != 0;
        else if (type == "gemma3" || type == "gemma3_text") slides = pattern != 0 && (i + 1) % pattern != 0;
        else if (type == "qwen2" || type == "qwen3") slides = i >= max_window_layers;
        else if (type == "qwen2_moe") slides = (i + 1) % 2 != 0 && i < max_window_layers;
        if (slides) sliding.insert(i);
    }
    return sliding;
}

namespace detail {

// Reads one config object's members into `c`, reporting errors as "FILE: KEY at byte N: ...".
class config_reader {
public:
    constexpr config_reader(const json::document& doc, std::string_view file) : doc_(doc), file_(file) {}

    [[nodiscard]] constexpr error fail(std::string_view key, const error& e) const {
        error out{errc::bad_value, file_, e.byte_offset()};
        out.with(": ").with(key);
        if (e.has_offset()) out.with(" at byte ").with_number(e.byte_offset());
        return out.with(": ").with(e.message());
    }

    // An unsigned integer member, if present and not null.
    constexpr result<bool> count(std::uint32_t object, std::string_view key, std::uint32_t& out) const {
        const auto n = doc_.find(object, key);
        if (n == json::no_node || doc_.at(n).type == json::kind::null) return false;
        auto v = doc_.unsigned_integer(n);
        if (!v) return fail(key, v.err());
        if (*v > 0xffffffffu) return fail(key, error{errc::bad_value, "too large", doc_.at(n).begin});
        out = static_cast<std::uint32_t>(*v);
        return true;
    }
    constexpr result<bool> real(std::uint32_t object, std::string_view key, double& out) const {
        const auto n = doc_.find(object, key);
        if (n == json::no_node || doc_.at(n).type == json::kind::null) return false;
        auto v = doc_.number(n);
        if (!v) return fail(key, v.err());
        out = *v;
        return true;
    }
    constexpr result<bool> flag(std::uint32_t object, std::string_view key, bool& out) const {
        const auto n = doc_.find(object, key);
        if (n == json::no_node || doc_.at(n).type == json::kind::null) return false;
        auto v = doc_.boolean(n);
        if (!v) return fail(key, v.err());
        out = *v;
        return true;
    }
    constexpr result<bool> name(std::uint32_t object, std::string_view key, config_name& out) const {
        const auto n = doc_.find(object, key);
        if (n == json::no_node || doc_.at(n).type == json::kind::null) return false;
        auto v = doc_.string(n);
        if (!v) return fail(key, v.err());
        if (v->size() > config_name::capacity()) {
            return fail(key, error{errc::limit_exceeded, "longer than 48 characters", doc_.at(n).begin});
        }
        out = v->view();
        return true;
    }
    // Whether the member is present and not null.
    [[nodiscard]] constexpr bool has(std::uint32_t object, std::string_view key) const {
        const auto n = doc_.find(object, key);
        return n != json::no_node && doc_.at(n).type != json::kind::null;
    }
    [[nodiscard]] constexpr const json::document& doc() const noexcept { return doc_; }

private:
    const json::document& doc_;
    std::string_view file_;
};

[[nodiscard]] constexpr std::optional<dtype> torch_dtype_named(std::string_view name) noexcept {
    if (name == "float32" || name == "float") return dtype::f32;
    if (name == "float16" || name == "half") return dtype::f16;
    if (name == "bfloat16") return dtype::bf16;
    return std::nullopt;
}

// The config class's defaults for what the file does not say (configuration_<type>.py).
struct class_defaults {
    bool tie_word_embeddings = true;     // PreTrainedConfig's
    std::uint32_t num_key_value_heads = 0;
    std::uint32_t head_dim = 0;
    std::uint32_t sliding_window = 0;
    std::uint32_t vocab_size = 0;
    std::uint32_t max_position_embeddings = 0;
    bool attention_bias = false;
};

[[nodiscard]] constexpr class_defaults defaults_for(std::string_view t) noexcept {
    class_defaults d{};
    const bool untied = t == "llama" || t == "mistral" || t == "mixtral" || t == "qwen2" || t == "qwen2_moe" || t == "qwen3" ||
                        t == "qwen3_moe" || t == "phi3" || t == "gpt_neox" || t == "deepseek_v2" || t == "deepseek_v3" ||
                        t == "gpt_oss";
    if (untied) d.tie_word_embeddings = false;
    d.attention_bias = t == "gpt_oss";  // GptOssConfig: attention_bias = True
    if (t == "mistral" || t == "mixtral" || t == "gpt_oss") d.num_key_value_heads = 8;
    if (t == "qwen2" || t == "qwen3") d.num_key_value_heads = 32;
    if (t == "qwen2_moe") d.num_key_value_heads = 16;
    if (t == "qwen3_moe" || t == "gemma2" || t == "gemma3" || t == "gemma3_text") d.num_key_value_heads = 4;
    if (t == "deepseek_v3") d.num_key_value_heads = 128;
    if (t == "qwen3") d.head_dim = 128;
    if (t == "gemma2" || t == "gemma3" || t == "gemma3_text") d.head_dim = 256;
    if (t == "gpt_oss") d.head_dim = 64;
    if (t == "mistral" || t == "gemma2" || t == "gemma3" || t == "gemma3_text") d.sliding_window = 4096;
    if (t == "gpt_oss") d.sliding_window = 128;
    if (t == "gemma3" || t == "gemma3_text") d.vocab_size = 262208;  // Gemma3TextConfig; multimodal text_configs omit it
    if (t == "gemma3" || t == "gemma3_text") d.max_position_embeddings = 131072;  // Gemma3TextConfig's default too
    return d;
}

constexpr result<bool> read_decoder(const config_reader& r, std::uint32_t o, model_config& c) {
    const auto& doc = r.doc();
    auto step = [](const result<bool>& s) { return s.ok(); };
    const std::string_view type = c.model_type.view();
    const auto d = defaults_for(type);
    c.tie_word_embeddings = d.tie_word_embeddings;
    c.num_key_value_heads = d.num_key_value_heads;
    c.head_dim = d.head_dim;
    c.vocab_size = d.vocab_size;
    c.max_position_embeddings = d.max_position_embeddings;
    c.attention_bias = d.attention_bias;

    // The field and, where a class renames it (attribute_map), the name its file uses.
    struct count_key { std::string_view key; std::uint32_t* field; };
    const count_key counts[] = {
        {"num_hidden_layers", &c.num_hidden_layers}, {"n_layer", &c.num_hidden_layers},
        {"hidden_size", &c.hidden_size}, {"n_embd", &c.hidden_size},
        {"num_attention_heads", &c.num_attention_heads}, {"n_head", &c.num_attention_heads},
        {"num_key_value_heads", &c.num_key_value_heads}, {"head_dim", &c.head_dim},
        {"intermediate_size", &c.intermediate_size}, {"ffn_dim", &c.intermediate_size}, {"n_inner", &c.intermediate_size},
        {"block_ff_dim", &c.intermediate_size}, {"intermediate_size_mlp", &c.intermediate_size_mlp},
        {"vocab_size", &c.vocab_size}, {"pad_vocab_size_multiple", &c.pad_vocab_size_multiple},
        {"max_position_embeddings", &c.max_position_embeddings}, {"n_positions", &c.max_position_embeddings},
        {"model_max_length", &c.model_max_length}, {"block_multiple_of", &c.block_multiple_of},
        {"word_embed_proj_dim", &c.word_embed_proj_dim},
        {"num_local_experts", &c.num_experts}, {"num_experts", &c.num_experts}, {"n_routed_experts", &c.num_experts},
        {"num_experts_per_tok", &c.num_experts_per_tok}, {"moe_intermediate_size", &c.moe_intermediate_size},
        {"n_shared_experts", &c.n_shared_experts}, {"shared_expert_intermediate_size", &c.shared_expert_intermediate_size},
        {"first_k_dense_replace", &c.first_k_dense_replace}, {"moe_layer_freq", &c.moe_layer_freq},
        {"decoder_sparse_step", &c.decoder_sparse_step}, {"interleave_moe_layer_step", &c.interleave_moe_layer_step},
        {"q_lora_rank", &c.q_lora_rank}, {"kv_lora_rank", &c.kv_lora_rank}, {"qk_nope_head_dim", &c.qk_nope_head_dim},
        {"qk_rope_head_dim", &c.qk_rope_head_dim}, {"v_head_dim", &c.v_head_dim},
        {"conv_L_cache", &c.conv_l_cache},
    };
    for (const auto& k : counts) {
        auto s = r.count(o, k.key, *k.field);
        if (!step(s)) return s;
    }
    struct real_key { std::string_view key; double* field; };
    const real_key reals[] = {{"rms_norm_eps", &c.rms_norm_eps}, {"rope_theta", &c.rope_theta},
                              {"partial_rotary_factor", &c.partial_rotary_factor}, {"rotary_pct", &c.partial_rotary_factor},
                              {"logit_scale", &c.logit_scale}, {"block_ffn_dim_multiplier", &c.block_ffn_dim_multiplier}};
    for (const auto& k : reals) {
        auto s = r.real(o, k.key, *k.field);
        if (!step(s)) return s;
    }
    struct flag_key { std::string_view key; bool* field; };
    const flag_key flags[] = {{"tie_word_embeddings", &c.tie_word_embeddings}, {"attention_bias", &c.attention_bias},
                              {"mlp_bias", &c.mlp_bias}, {"use_parallel_residual", &c.use_parallel_residual},
                              {"do_layer_norm_before", &c.do_layer_norm_before}, {"enable_bias", &c.enable_bias},
                              {"block_auto_adjust_ff_dim", &c.block_auto_adjust_ff_dim}};
    for (const auto& k : flags) {
        auto s = r.flag(o, k.key, *k.field);
        if (!step(s)) return s;
    }
    if (auto s = r.name(o, "topk_method", c.topk_method); !s) return s;
    if (type == "gpt2" && c.intermediate_size == 0) c.intermediate_size = 4 * c.hidden_size;  // GPT2MLP: n_inner or 4·n_embd

    // rope_scaling (or rope_parameters)
    for (std::string_view key : {std::string_view{"rope_scaling"}, std::string_view{"rope_parameters"}}) {
        const auto rs = doc.find(o, key);
        if (rs == json::no_node || doc.at(rs).type != json::kind::object) continue;
        auto& s = c.rope_scaling;
        if (auto v = r.name(rs, "rope_type", s.rope_type); !v) return v;
        if (s.rope_type.empty()) { if (auto v = r.name(rs, "type", s.rope_type); !v) return v; }
        if (auto v = r.real(rs, "factor", s.factor); !v) return v;
        if (auto v = r.count(rs, "original_max_position_embeddings", s.original_max_position_embeddings); !v) return v;
        if (auto v = r.real(rs, "low_freq_factor", s.low_freq_factor); !v) return v;
        if (auto v = r.real(rs, "high_freq_factor", s.high_freq_factor); !v) return v;
        if (key == "rope_parameters" && c.rope_theta == 0.0) { if (auto v = r.real(rs, "rope_theta", c.rope_theta); !v) return v; }
    }

    // Sliding windows: the class's rule for which layers slide.
    std::uint32_t window = d.sliding_window;
    const bool window_given = doc.find(o, "sliding_window") != json::no_node;
    if (window_given) {
        window = 0;
        if (auto s = r.count(o, "sliding_window", window); !s) return s;
    }
    bool use_sliding_window = false;
    if (auto s = r.flag(o, "use_sliding_window", use_sliding_window); !s) return s;
    std::uint32_t max_window_layers = 28;
    if (auto s = r.count(o, "max_window_layers", max_window_layers); !s) return s;
    std::uint32_t pattern = 6;  // Gemma 3's sliding_window_pattern (a kwarg its class reads)
    if (auto s = r.count(o, "sliding_window_pattern", pattern); !s) return s;
    const bool qwen = type == "qwen2" || type == "qwen3" || type == "qwen3_moe" || type == "qwen2_moe";
    if (qwen && !use_sliding_window) window = 0;  // "sliding_window if use_sliding_window else None"
    c.sliding_window = window;
    const auto layer_types = doc.find(o, "layer_types");
    if (layer_types != json::no_node && doc.at(layer_types).type == json::kind::array) {
        std::uint32_t i = 0;
        for (auto e = doc.at(layer_types).first_child; e != json::no_node; e = doc.at(e).next_sibling, ++i) {
            auto s = doc.string(e);
            if (!s) return r.fail("layer_types", s.err());
            if (s->view() == "sliding_attention" || s->view() == "chunked_attention") c.sliding_layers.insert(i);
        }
    } else if (window != 0) {
        c.sliding_layers = default_sliding_layers(type, c.num_hidden_layers, pattern, max_window_layers);
    }
    c.sliding_window_pattern = type == "gemma3" || type == "gemma3_text" ? pattern : 0;

    // Index lists: Qwen-MoE's mlp_only_layers, LFM2's full_attn_idxs.
    struct list_key { std::string_view key; layer_set* field; };
    const list_key lists[] = {{"mlp_only_layers", &c.mlp_only_layers}, {"full_attn_idxs", &c.full_attention_layers}};
    for (const auto& k : lists) {
        const auto n = doc.find(o, k.key);
        if (n == json::no_node || doc.at(n).type != json::kind::array) continue;
        for (auto e = doc.at(n).first_child; e != json::no_node; e = doc.at(e).next_sibling) {
            auto v = doc.unsigned_integer(e);
            if (!v) return r.fail(k.key, v.err());
            k.field->insert(static_cast<std::uint32_t>(*v < layer_set::max_layers ? *v : layer_set::max_layers));
        }
    }
    return true;
}

constexpr result<bool> read_quantization(const config_reader& r, std::uint32_t q, quantization_config& out) {
    if (auto s = r.name(q, "quant_method", out.method_name); !s) return s;
    const auto m = out.method_name.view();
    out.method = m == "bitsandbytes" ? quant_method::bitsandbytes
                 : m == "gptq"        ? quant_method::gptq
                 : m == "awq"         ? quant_method::awq
                 : m == "fp8"         ? quant_method::fp8
                 : m == "mxfp4"       ? quant_method::mxfp4
                 : m == "compressed-tensors" ? quant_method::compressed_tensors
                 : m.empty()          ? quant_method::none
                                      : quant_method::other;
    if (auto s = r.count(q, "bits", out.bits); !s) return s;
    if (auto s = r.flag(q, "load_in_8bit", out.load_in_8bit); !s) return s;
    if (auto s = r.flag(q, "load_in_4bit", out.load_in_4bit); !s) return s;
    if (out.method == quant_method::bitsandbytes && out.bits == 0) out.bits = out.load_in_4bit ? 4 : out.load_in_8bit ? 8 : 0;
    if (auto s = r.name(q, "bnb_4bit_quant_type", out.bnb_4bit_quant_type); !s) return s;
    if (auto s = r.flag(q, "bnb_4bit_use_double_quant", out.bnb_4bit_use_double_quant); !s) return s;
    if (auto s = r.flag(q, "llm_int8_enable_fp32_cpu_offload", out.llm_int8_enable_fp32_cpu_offload); !s) return s;
    if (auto s = r.flag(q, "dequantize", out.dequantize); !s) return s;
    // group_size: -1 in GPTQ means per channel
    const auto& doc = r.doc();
    if (const auto g = doc.find(q, "group_size"); g != json::no_node && doc.at(g).type == json::kind::number) {
        if (doc.raw(g) != "-1") { if (auto s = r.count(q, "group_size", out.group_size); !s) return s; }
    }
    if (const auto b = doc.find(q, "weight_block_size"); b != json::no_node && doc.at(b).type == json::kind::array) {
        std::uint32_t i = 0;
        for (auto e = doc.at(b).first_child; e != json::no_node && i < 2; e = doc.at(e).next_sibling, ++i) {
            auto v = doc.unsigned_integer(e);
            if (!v) return r.fail("weight_block_size", v.err());
            out.weight_block_size[i] = static_cast<std::uint32_t>(*v);
        }
    } else if (out.method == quant_method::fp8 && b == json::no_node) {
        out.weight_block_size = {128, 128};  // FineGrainedFP8Config's default; null: per-tensor scales
    }
    // GPTQConfig / AwqConfig (quantization_config.py): sym, desc_act, zero_point; AWQ's legacy
    // "version" and GPTQ's legacy "checkpoint_format" name the format.
    if (out.method == quant_method::gptq || out.method == quant_method::awq) {
        if (auto s = r.flag(q, "sym", out.sym); !s) return s;
        if (auto s = r.flag(q, "desc_act", out.desc_act); !s) return s;
        if (auto s = r.flag(q, "zero_point", out.zero_point); !s) return s;
        if (auto s = r.name(q, "format", out.format); !s) return s;
        if (auto s = r.name(q, "version", out.format); !s) return s;
        if (auto s = r.name(q, "checkpoint_format", out.format); !s) return s;
        out.gptq_block_selection = r.has(q, "block_name_to_quantize") || r.has(q, "modules_in_block_to_quantize");
    }
    if (out.method == quant_method::fp8) {  // FineGrainedFP8Config
        if (auto s = r.name(q, "activation_scheme", out.activation_scheme); !s) return s;
        if (auto s = r.name(q, "scale_fmt", out.scale_fmt); !s) return s;
        if (auto s = r.name(q, "expert_dtype", out.expert_dtype); !s) return s;
        out.fp8_modules_to_convert = r.has(q, "modules_to_convert");
    }
    // modules_to_not_convert (FineGrainedFP8Config also takes "ignored_layers"): kept as written;
    // each quantizer matches them as should_convert_module does (quantizers_utils.py).
    auto skip = doc.find(q, "modules_to_not_convert");
    if ((skip == json::no_node || doc.at(skip).type == json::kind::null) && out.method == quant_method::fp8)
        skip = doc.find(q, "ignored_layers");
    if (skip != json::no_node && doc.at(skip).type != json::kind::null) {
        if (doc.at(skip).type != json::kind::array)
            return r.fail("modules_to_not_convert", error{errc::bad_value, "expected a list", doc.at(skip).begin});
        out.modules_to_not_convert_given = true;
        for (auto e = doc.at(skip).first_child; e != json::no_node; e = doc.at(e).next_sibling) {
            auto v = doc.string(e);
            if (!v) return r.fail("modules_to_not_convert", v.err());
            if (out.modules_to_not_convert_count == quantization_config::max_not_convert || v->size() > config_name::capacity()) {
                out.modules_to_not_convert_overflow = true;
                break;
            }
            out.modules_to_not_convert[out.modules_to_not_convert_count++] = v->view();
        }
    }
    return true;
}

} // namespace detail

// config.json's text → model_config. `file_name` names the file in errors.
[[nodiscard]] constexpr result<model_config> parse_config(std::string_view json_text, std::string_view file_name = "config.json") {
    auto doc = json::parse(json_text);
    if (!doc) {
        error e{errc::malformed, file_name, doc.err().byte_offset()};
        return e.with(": not valid JSON at byte ").with_number(doc.err().byte_offset()).with(": ").with(doc.err().message());
    }
    const detail::config_reader r{*doc, file_name};
    const auto root = json::document::root();
    if (doc->at(root).type != json::kind::object) return error{errc::bad_value, file_name}.with(": the top level is not an object");
    model_config c{};
    if (auto s = r.name(root, "model_type", c.model_type); !s) return s.err();
    if (const auto a = doc->find(root, "architectures"); a != json::no_node && doc->at(a).type == json::kind::array &&
                                                         doc->at(a).first_child != json::no_node) {
        auto first = doc->string(doc->at(a).first_child);
        if (!first) return r.fail("architectures", first.err());
        if (first->size() > config_name::capacity()) return r.fail("architectures", error{errc::limit_exceeded, "a class name longer than 48 characters"});
        c.architecture = first->view();
    }
    for (std::string_view key : {std::string_view{"torch_dtype"}, std::string_view{"dtype"}}) {
        config_name name{};
        if (auto s = r.name(root, key, name); !s) return s.err();
        if (!name.empty()) {
            c.torch_dtype = detail::torch_dtype_named(name.view());
            if (!c.torch_dtype) return error{errc::bad_value, file_name}.with(": ").with(key).with(": unknown dtype '").with(name.view()).with("'");
        }
    }
    std::uint32_t decoder = root;
    if (const auto t = doc->find(root, "text_config"); t != json::no_node && doc->at(t).type == json::kind::object) {
        decoder = t;  // model_type stays the whole model's ("gemma3"): from_pretrained builds all of it
        c.multimodal = true;
    }
    if (const auto v = doc->find(root, "vision_config"); v != json::no_node && doc->at(v).type == json::kind::object) {
        auto& vision = c.vision;
        struct vision_key { std::string_view key; std::uint32_t* field; };
        const vision_key keys[] = {{"hidden_size", &vision.hidden_size}, {"intermediate_size", &vision.intermediate_size},
                                   {"num_hidden_layers", &vision.num_hidden_layers}, {"num_attention_heads", &vision.num_attention_heads},
                                   {"image_size", &vision.image_size}, {"patch_size", &vision.patch_size},
                                   {"num_channels", &vision.num_channels}};
        for (const auto& k : keys) {
            if (auto s = r.count(v, k.key, *k.field); !s) return s.err();
        }
    }
    if (c.model_type.empty()) return error{errc::missing_key, file_name}.with(": no model_type");
    if (auto s = detail::read_decoder(r, decoder, c); !s) return s.err();
    if (const auto q = doc->find(root, "quantization_config"); q != json::no_node && doc->at(q).type == json::kind::object) {
        if (auto s = detail::read_quantization(r, q, c.quantization); !s) return s.err();
    }
    if (c.num_hidden_layers == 0 || c.hidden_size == 0 || c.num_attention_heads == 0) {
        return error{errc::missing_key, file_name}.with(": needs num_hidden_layers, hidden_size and num_attention_heads (or their ")
            .with(c.model_type.view()).with(" names)");
    }
    if (c.num_hidden_layers > layer_set::max_layers) {
        return error{errc::limit_exceeded, file_name}.with(": more than 256 decoder layers");
    }
    return c;
}

// A config written by hand (a catalog entry) as its config class would hold it: the sliding
// layers derived as for a config.json without layer_types.
[[nodiscard]] constexpr model_config with_class_rules(model_config c) noexcept {
    if (c.sliding_layers.empty() && c.sliding_window != 0) {
        c.sliding_layers = default_sliding_layers(c.model_type.view(), c.num_hidden_layers,
                                                  c.sliding_window_pattern != 0 ? c.sliding_window_pattern : 6);
    }
    return c;
}

} // namespace vramfit::hf
