// vramfit/engines/transformers/modules.hpp — the module tree `cls(config)` builds on the meta
// device, as Hugging Face transformers (5.24.0) builds it for AutoModelForCausalLM.
//
// Placement (device_map.hpp) walks this tree exactly as accelerate's code walks the nn.Module:
// `named_parameters(recurse=False)`, then `named_children()` in `__init__` registration order,
// then `named_buffers(recurse=False)`. So every module keeps its direct parameters, its buffers
// (non-persistent ones too: compute_module_sizes counts them) and its children in that order.
// Zero-size children (Dropout, ReLU, AvgPool2d) are kept: when their parent is split they are
// keys of the device map.
//
// Mirrors, per architecture, `models/<type>/modeling_<type>.py` (the __init__ of each class,
// `_no_split_modules`, `_tied_weights_keys`) and, for quantization,
// `integrations/bitsandbytes.py: replace_with_bnb_linear`,
// `integrations/mxfp4.py: replace_with_mxfp4_linear` and, for checkpoints pre-quantized with
// FP8, GPTQ or AWQ, `integrations/finegrained_fp8.py: replace_with_fp8_linear`, optimum's
// `GPTQQuantizer.convert_model` and `integrations/awq.py: replace_with_awq_linear` with the
// gptqmodel modules they build (detail::preprocess_prequantized).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vramfit/core/error.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::transformers {

// What `from_pretrained` is asked to do to the weights at load time.
enum class quantization : std::uint8_t {
    none,
    bnb_8bit,            // BitsAndBytesConfig(load_in_8bit=True): nn.Linear -> Linear8bitLt
    bnb_4bit,            // BitsAndBytesConfig(load_in_4bit=True): nn.Linear -> Linear4bit
    mxfp4,               // a checkpoint's MXFP4 quantization_config with the kernels available:
                         // experts stay packed (uint8 blocks)
    mxfp4_dequantized,   // the same checkpoint without kernels: the quantizer sets dequantize=True
    // Pre-quantized checkpoints; `none` on such a checkpoint loads it as its quantization_config
    // says on a CUDA machine (build_module_tree resolves it to one of these).
    fp8,                 // fine-grained FP8 (quant_method "fp8") on a GPU with compute capability >= 8.9:
                         // nn.Linear -> FP8Linear, fused experts -> FP8Experts
    fp8_dequantized,     // the same checkpoint on a GPU below 8.9, without a GPU, or with dequantize=True:
                         // validate_environment sets dequantize and nothing is replaced (the model dtype)
    gptq,                // quant_method "gptq": decoder-layer nn.Linear -> gptqmodel's MarlinLinear
    awq,                 // quant_method "awq" (GEMM, zero point): nn.Linear -> gptqmodel's AwqMarlinLinear
};

struct load_options {
    dtype torch_dtype = dtype::bf16;  // the dtype= of from_pretrained (after update_dtype)
    quantization quant = quantization::none;
    // bitsandbytes: llm_int8_enable_fp32_cpu_offload (only decides whether cpu/disk is refused).
    bool fp32_cpu_offload = false;
};

[[nodiscard]] constexpr bool is_bitsandbytes(quantization q) noexcept {
    return q == quantization::bnb_8bit || q == quantization::bnb_4bit;
}

// A parameter or a buffer of one module.
struct tensor_spec {
    std::string name;  // local name ("weight", "inv_freq")
    std::vector<std::uint64_t> shape;
    dtype type = dtype::bf16;
    // Bits per element as compute_module_sizes counts them: element_size() · 8, or what the
    // quantizer's param_element_size says (bitsandbytes: 8 or 4 for quantized Linear weights).
    std::uint32_t counted_bits = 16;
    bool persistent = true;  // buffers: register_buffer(..., persistent=False) is false

    [[nodiscard]] constexpr std::uint64_t numel() const noexcept {
        std::uint64_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
    [[nodiscard]] constexpr std::uint64_t counted_bytes() const noexcept { return numel() * counted_bits / 8; }
};

struct module_node {
    std::string name;        // dotted name from the root ("" for the root)
    std::string local_name;  // the attribute name in its parent ("layers", "0")
    std::string class_name;  // type(module).__name__
    std::vector<tensor_spec> params;   // named_parameters(recurse=False), registration order
    std::vector<tensor_spec> buffers;  // named_buffers(recurse=False), registration order
    std::vector<std::size_t> children; // indices into module_tree::nodes, named_children() order
    std::size_t parent = 0;
};

// all_tied_weights_keys: target (not counted, placed with its source) -> source.
struct tied_weight {
    std::string target;
    std::string source;
};

struct module_tree {
    std::vector<module_node> nodes;  // nodes[0] is the root
    std::vector<tied_weight> tied;
    // model._get_no_split_modules(device_map): the _no_split_modules of every PreTrainedModel in
    // the tree (modeling_utils.py), in their first-seen order.
    std::vector<std::string> no_split;
    load_options load{};

    [[nodiscard]] constexpr const module_node& root() const { return nodes[0]; }

    [[nodiscard]] constexpr bool is_no_split(std::string_view class_name) const {
        for (const auto& c : no_split) if (c == class_name) return true;
        return false;
    }
    // The decoder layer's class: every builder registers it first (a vision tower's no-split
    // classes, as Gemma 3's SiglipEncoderLayer, come after it).
    [[nodiscard]] constexpr std::string_view decoder_layer_class() const {
        return no_split.empty() ? std::string_view{} : std::string_view{no_split.front()};
    }
    [[nodiscard]] constexpr bool is_decoder_layer(const module_node& node) const {
        return !no_split.empty() && node.class_name == no_split.front();
    }

    // The module with this dotted name (the walk `model.get_submodule(name)` does).
    [[nodiscard]] constexpr const module_node* find_module(std::string_view name) const {
        std::size_t at = 0;
        while (!name.empty()) {
            auto dot = name.find('.');
            auto part = name.substr(0, dot);
            const module_node* next = nullptr;
            for (auto c : nodes[at].children)
                if (nodes[c].local_name == part) { next = &nodes[c]; at = c; break; }
            if (next == nullptr) return nullptr;
            name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
        }
        return &nodes[at];
    }
};

namespace detail {

[[nodiscard]] constexpr std::uint32_t plain_bits(dtype type) noexcept {
    switch (type) {
        case dtype::f32: case dtype::i32: return 32;
        case dtype::f16: case dtype::bf16: case dtype::i16: return 16;
        case dtype::f64: case dtype::i64: return 64;
        case dtype::i8: case dtype::u8: case dtype::f8_e4m3: case dtype::f8_e5m2: case dtype::boolean: return 8;
        default: return 0;
    }
}

[[nodiscard]] constexpr std::string to_decimal(std::uint64_t v) {
    std::string out;
    do { out.insert(out.begin(), static_cast<char>('0' + v % 10)); v /= 10; } while (v != 0);
    return out;
}

// Builds a tree in registration order.
class tree_builder {
public:
    constexpr explicit tree_builder(const load_options& load) : load_(load) {
        tree_.load = load;
        module_node root{};
        tree_.nodes.push_back(std::move(root));
    }

    constexpr std::size_t module(std::size_t parent, std::string_view local, std::string_view class_name) {
        // Strings are built with append, never assigned: GCC 12's constexpr std::string
        // move-assignment of a short string reads the wrong union member.
        tree_.nodes.emplace_back();
        auto index = tree_.nodes.size() - 1;
        auto& node = tree_.nodes[index];
        node.local_name.append(local);
        if (!tree_.nodes[parent].name.empty()) {
            node.name.append(tree_.nodes[parent].name);
            node.name.push_back('.');
        }
        node.name.append(local);
        node.class_name.append(class_name);
        node.parent = parent;
        tree_.nodes[parent].children.push_back(index);
        return index;
    }
    constexpr void set_class(std::size_t node, std::string_view class_name) {
        tree_.nodes[node].class_name.clear();
        tree_.nodes[node].class_name.append(class_name);
    }
    constexpr void param(std::size_t node, std::string_view name, std::vector<std::uint64_t> shape, dtype type,
                         std::uint32_t counted_bits = 0) {
        tree_.nodes[node].params.push_back(
            tensor_spec{std::string(name), std::move(shape), type, counted_bits != 0 ? counted_bits : plain_bits(type), true});
    }
    constexpr void buffer(std::size_t node, std::string_view name, std::vector<std::uint64_t> shape, dtype type,
                          bool persistent) {
        tree_.nodes[node].buffers.push_back(
            tensor_spec{std::string(name), std::move(shape), type, plain_bits(type), persistent});
    }
    // The model's dtype.
    [[nodiscard]] constexpr dtype dt() const noexcept { return load_.torch_dtype; }

    // nn.Linear(in, out, bias). Under bitsandbytes every nn.Linear not in modules_to_not_convert
    // (get_keys_to_not_convert: the output embedding) becomes Linear8bitLt / Linear4bit whose
    // weight counts 1 or 0.5 byte per element (quantizer_bnb_*.py: param_element_size); the
    // bias stays in the model dtype.
    constexpr std::size_t linear(std::size_t parent, std::string_view local, std::uint64_t in, std::uint64_t out,
                                 bool bias, bool quantizable = true) {
        const bool bnb = quantizable && is_bitsandbytes(load_.quant);
        const char* cls = !bnb ? "Linear" : load_.quant == quantization::bnb_8bit ? "Linear8bitLt" : "Linear4bit";
        auto m = module(parent, local, cls);
        std::uint32_t bits = !bnb ? 0 : load_.quant == quantization::bnb_8bit ? 8 : 4;
        param(m, "weight", {out, in}, bnb && bits == 8 ? dtype::i8 : bnb ? dtype::u8 : dt(), bits);
        if (bias) param(m, "bias", {out}, dt());
        return m;
    }
    constexpr std::size_t embedding(std::size_t parent, std::string_view local, std::uint64_t rows, std::uint64_t dim,
                                    std::string_view class_name = "Embedding") {
        auto m = module(parent, local, class_name);
        param(m, "weight", {rows, dim}, dt());
        return m;
    }
    constexpr std::size_t rms_norm(std::size_t parent, std::string_view local, std::uint64_t dim,
                                   std::string_view class_name) {
        auto m = module(parent, local, class_name);
        param(m, "weight", {dim}, dt());
        return m;
    }
    constexpr std::size_t layer_norm(std::size_t parent, std::string_view local, std::uint64_t dim, bool bias = true) {
        auto m = module(parent, local, "LayerNorm");
        param(m, "weight", {dim}, dt());
        if (bias) param(m, "bias", {dim}, dt());
        return m;
    }
    // A rotary embedding module: `inv_freq` and `original_inv_freq`, float32, non-persistent
    // (modeling_rope_utils.py / each <Model>RotaryEmbedding.__init__), dim/2 elements each; one
    // pair per layer type when the model keeps one per attention type (Gemma 3).
    constexpr std::size_t rotary(std::size_t parent, std::string_view class_name, std::uint64_t rotary_dim,
                                 std::vector<std::string_view> prefixes = {""}) {
        auto m = module(parent, "rotary_emb", class_name);
        for (auto p : prefixes) {
            buffer(m, std::string(p) + "inv_freq", {rotary_dim / 2}, dtype::f32, false);
            buffer(m, std::string(p) + "original_inv_freq", {rotary_dim / 2}, dtype::f32, false);
        }
        return m;
    }

    constexpr void tie(std::string_view target, std::string_view source) {
        tree_.tied.push_back(tied_weight{std::string(target), std::string(source)});
    }
    constexpr void no_split(std::string_view class_name) {
        for (const auto& c : tree_.no_split) if (c == class_name) return;
        tree_.no_split.emplace_back(class_name);
    }

    [[nodiscard]] constexpr module_tree take() && { return std::move(tree_); }

private:
    load_options load_;
    module_tree tree_{};
};

[[nodiscard]] constexpr std::uint64_t rotary_dim(const model_config& c) {
    auto hd = static_cast<std::uint64_t>(c.attention_head_dim());
    if (c.partial_rotary_factor > 0.0 && c.partial_rotary_factor < 1.0)
        return static_cast<std::uint64_t>(static_cast<double>(hd) * c.partial_rotary_factor);
    return hd;
}

// Llama-style decoders: llama, mistral, qwen2, qwen3 (modeling_llama.py and the files generated
// from it: <P>ForCausalLM{model: <P>Model{embed_tokens, layers, norm, rotary_emb}, lm_head}, each
// <P>DecoderLayer{self_attn, mlp, input_layernorm, post_attention_layernorm}).
struct llama_family {
    std::string_view prefix;  // "Llama", "Mistral", "Qwen2", "Qwen3"
    bool qkv_bias = false;    // Qwen2Attention: q/k/v always biased
    bool qk_norm = false;     // Qwen3Attention: q_norm, k_norm over head_dim
    // Sparse layers (mixtral, qwen2_moe, qwen3_moe): mlp is <P>SparseMoeBlock{gate (a
    // <P>TopKRouter holding weight (E, H), not an nn.Linear), experts (<P>Experts: fused 3-D
    // gate_up_proj (E, 2I, H), down_proj (E, H, I))}, Qwen2-MoE adding shared_expert and
    // shared_expert_gate (Linear(H, 1)). Not covered by the oracle.
    bool moe = false;
    bool shared_expert = false;
};

// Qwen-MoE: layer i is sparse unless listed in mlp_only_layers, every decoder_sparse_step-th
// ((i + 1) % step == 0); Mixtral: every layer.
[[nodiscard]] constexpr bool sparse_layer(const model_config& c, std::uint32_t i) {
    if (c.num_experts == 0 || c.mlp_only_layers.contains(i)) return false;
    return c.decoder_sparse_step <= 1 || (i + 1) % c.decoder_sparse_step == 0;
}

constexpr void llama_like(tree_builder& b, const model_config& c, const llama_family& fam) {
    const std::string p(fam.prefix);
    const std::uint64_t h = c.hidden_size, hd = c.attention_head_dim();
    const std::uint64_t q_out = c.num_attention_heads * hd, kv_out = c.kv_heads() * hd;
    const bool attn_bias = fam.qkv_bias || c.attention_bias;
    auto root = b.module(0, "model", p + "Model");
    b.set_class(0, p + "ForCausalLM");
    b.embedding(root, "embed_tokens", c.vocab_size, h);
    auto layers = b.module(root, "layers", "ModuleList");
    for (std::uint32_t i = 0; i < c.num_hidden_layers; ++i) {
        auto layer = b.module(layers, to_decimal(i), p + "DecoderLayer");
        auto attn = b.module(layer, "self_attn", p + "Attention");
        b.linear(attn, "q_proj", h, q_out, attn_bias);
        b.linear(attn, "k_proj", h, kv_out, attn_bias);
        b.linear(attn, "v_proj", h, kv_out, attn_bias);
        b.linear(attn, "o_proj", q_out, h, !fam.qkv_bias && c.attention_bias);
        if (fam.qk_norm) {
            b.rms_norm(attn, "q_norm", hd, p + "RMSNorm");
            b.rms_norm(attn, "k_norm", hd, p + "RMSNorm");
        }
        if (fam.moe && sparse_layer(c, i)) {
            const std::uint64_t e = c.num_experts;
            const std::uint64_t mi = c.moe_intermediate_size != 0 ? c.moe_intermediate_size : c.intermediate_size;
            auto mlp = b.module(layer, "mlp", p + "SparseMoeBlock");
            auto router = [&] {
                auto gate = b.module(mlp, "gate", p + "TopKRouter");
                b.param(gate, "weight", {e, h}, b.dt());
            };
            // Qwen3MoeSparseMoeBlock registers its experts before the router; Mixtral and
            // Qwen2-MoE the router first.
            const bool experts_first = fam.prefix == "Qwen3Moe";
            if (!experts_first) router();
            auto experts = b.module(mlp, "experts", p + "Experts");
            b.param(experts, "gate_up_proj", {e, 2 * mi, h}, b.dt());
            b.param(experts, "down_proj", {e, h, mi}, b.dt());
            if (experts_first) router();
            if (fam.shared_expert && c.shared_expert_intermediate_size != 0) {
                auto shared = b.module(mlp, "shared_expert", p + "MLP");
                b.linear(shared, "gate_proj", h, c.shared_expert_intermediate_size, false);
                b.linear(shared, "up_proj", h, c.shared_expert_intermediate_size, false);
                b.linear(shared, "down_proj", c.shared_expert_intermediate_size, h, false);
                b.linear(mlp, "shared_expert_gate", h, 1, false);
            }
        } else {
            auto mlp = b.module(layer, "mlp", p + "MLP");
            b.linear(mlp, "gate_proj", h, c.intermediate_size, c.mlp_bias);
            b.linear(mlp, "up_proj", h, c.intermediate_size, c.mlp_bias);
            b.linear(mlp, "down_proj", c.intermediate_size, h, c.mlp_bias);
        }
        b.rms_norm(layer, "input_layernorm", h, p + "RMSNorm");
        b.rms_norm(layer, "post_attention_layernorm", h, p + "RMSNorm");
    }
    b.rms_norm(root, "norm", h, p + "RMSNorm");
    b.rotary(root, p + "RotaryEmbedding", rotary_dim(c));
    b.linear(0, "lm_head", h, c.vocab_size, false, false);
    if (c.tie_word_embeddings) b.tie("lm_head.weight", "model.embed_tokens.weight");
    b.no_split(p + "DecoderLayer");
}

// modeling_gpt2.py: GPT2LMHeadModel{transformer: GPT2Model{wte, wpe, drop, h, ln_f}, lm_head};
// GPT2Block{ln_1, attn{c_attn, c_proj (Conv1D: weight (in, out)), attn_dropout, resid_dropout},
// ln_2, mlp{c_fc, c_proj, act, dropout}}. Conv1D is not an nn.Linear (bitsandbytes handles it
// apart; not modelled: no quantized GPT-2 here).
constexpr void gpt2(tree_builder& b, const model_config& c) {
    const std::uint64_t h = c.hidden_size, inner = c.intermediate_size != 0 ? c.intermediate_size : 4 * h;
    b.set_class(0, "GPT2LMHeadModel");
    auto tr = b.module(0, "transformer", "GPT2Model");
    b.embedding(tr, "wte", c.vocab_size, h);
    b.embedding(tr, "wpe", c.max_position_embeddings, h);
    b.module(tr, "drop", "Dropout");
    auto hs = b.module(tr, "h", "ModuleList");
    auto conv1d = [&](std::size_t parent, std::string_view local, std::uint64_t in, std::uint64_t out) {
        auto m = b.module(parent, local, "Conv1D");
        b.param(m, "weight", {in, out}, b.dt());
        b.param(m, "bias", {out}, b.dt());
    };
    for (std::uint32_t i = 0; i < c.num_hidden_layers; ++i) {
        auto blk = b.module(hs, to_decimal(i), "GPT2Block");
        b.layer_norm(blk, "ln_1", h);
        auto attn = b.module(blk, "attn", "GPT2Attention");
        conv1d(attn, "c_attn", h, 3 * h);
        conv1d(attn, "c_proj", h, h);
        b.module(attn, "attn_dropout", "Dropout");
        b.module(attn, "resid_dropout", "Dropout");
        b.layer_norm(blk, "ln_2", h);
        auto mlp = b.module(blk, "mlp", "GPT2MLP");
        conv1d(mlp, "c_fc", h, inner);
        conv1d(mlp, "c_proj", inner, h);
        b.module(mlp, "act", "NewGELUActivation");
        b.module(mlp, "dropout", "Dropout");
    }
    b.layer_norm(tr, "ln_f", h);
    b.linear(0, "lm_head", h, c.vocab_size, false, false);
    if (c.tie_word_embeddings) b.tie("lm_head.weight", "transformer.wte.weight");
    b.no_split("GPT2Block");
}

// modeling_opt.py: OPTForCausalLM{model: OPTModel{decoder: OPTDecoder{embed_tokens,
// embed_positions (OPTLearnedPositionalEmbedding, offset 2 rows), project_out, project_in (only
// when word_embed_proj_dim != hidden_size), final_layer_norm (do_layer_norm_before), layers}},
// lm_head}; OPTDecoderLayer{self_attn{k,v,q,out_proj}, activation_fn, self_attn_layer_norm, fc1,
// fc2, final_layer_norm}.
constexpr void opt(tree_builder& b, const model_config& c) {
    const std::uint64_t h = c.hidden_size;
    const std::uint64_t proj = c.word_embed_proj_dim != 0 ? c.word_embed_proj_dim : h;
    const bool bias = c.enable_bias;
    b.set_class(0, "OPTForCausalLM");
    auto model = b.module(0, "model", "OPTModel");
    auto dec = b.module(model, "decoder", "OPTDecoder");
    b.embedding(dec, "embed_tokens", c.vocab_size, proj);
    b.embedding(dec, "embed_positions", std::uint64_t{c.max_position_embeddings} + 2, h,
                "OPTLearnedPositionalEmbedding");
    if (proj != h) {
        b.linear(dec, "project_out", h, proj, false);
        b.linear(dec, "project_in", proj, h, false);
    }
    if (c.do_layer_norm_before) b.layer_norm(dec, "final_layer_norm", h);
    auto layers = b.module(dec, "layers", "ModuleList");
    for (std::uint32_t i = 0; i < c.num_hidden_layers; ++i) {
        auto layer = b.module(layers, to_decimal(i), "OPTDecoderLayer");
        auto attn = b.module(layer, "self_attn", "OPTAttention");
        b.linear(attn, "k_proj", h, h, bias);
        b.linear(attn, "v_proj", h, h, bias);
        b.linear(attn, "q_proj", h, h, bias);
        b.linear(attn, "out_proj", h, h, bias);
        b.module(layer, "activation_fn", "ReLU");
        b.layer_norm(layer, "self_attn_layer_norm", h);
        b.linear(layer, "fc1", h, c.intermediate_size, bias);
        b.linear(layer, "fc2", c.intermediate_size, h, bias);
        b.layer_norm(layer, "final_layer_norm", h);
    }
    b.linear(0, "lm_head", proj, c.vocab_size, false, false);
    if (c.tie_word_embeddings) b.tie("lm_head.weight", "model.decoder.embed_tokens.weight");
    b.no_split("OPTDecoderLayer");
}

// modeling_phi3.py: Phi3ForCausalLM{model: Phi3Model{embed_tokens, layers, norm, rotary_emb},
// lm_head}; Phi3DecoderLayer{self_attn{o_proj, qkv_proj (fused q, k, v)}, mlp{gate_up_proj
// (fused, 2I), down_proj, activation_fn}, input_layernorm, post_attention_layernorm,
// resid_attn_dropout, resid_mlp_dropout}. Phi3RotaryEmbedding keeps inv_freq over
// head_dim · partial_rotary_factor; longrope's long_inv_freq is a plain attribute set in forward
// (modeling_rope_utils.py longrope_frequency_update), not a buffer.
constexpr void phi3(tree_builder& b, const model_config& c) {
    const std::uint64_t h = c.hidden_size, hd = c.attention_head_dim();
    const std::uint64_t q_out = c.num_attention_heads * hd, kv_out = c.kv_heads() * hd;
    b.set_class(0, "Phi3ForCausalLM");
    auto model = b.module(0, "model", "Phi3Model");
    b.embedding(model, "embed_tokens", c.vocab_size, h);
    auto layers = b.module(model, "layers", "ModuleList");
    for (std::uint32_t i = 0; i < c.num_hidden_layers; ++i) {
        auto layer = b.module(layers, to_decimal(i), "Phi3DecoderLayer");
        auto attn = b.module(layer, "self_attn", "Phi3Attention");
        b.linear(attn, "o_proj", q_out, h, false);
        b.linear(attn, "qkv_proj", h, q_out + 2 * kv_out, false);
        auto mlp = b.module(layer, "mlp", "Phi3MLP");
        b.linear(mlp, "gate_up_proj", h, 2 * std::uint64_t{c.intermediate_size}, false);
        b.linear(mlp, "down_proj", c.intermediate_size, h, false);
        b.module(mlp, "activation_fn", "SiLUActivation");
        b.rms_norm(layer, "input_layernorm", h, "Phi3RMSNorm");
        b.rms_norm(layer, "post_attention_layernorm", h, "Phi3RMSNorm");
        b.module(layer, "resid_attn_dropout", "Dropout");
        b.module(layer, "resid_mlp_dropout", "Dropout");
    }
    b.rms_norm(model, "norm", h, "Phi3RMSNorm");
    b.rotary(model, "Phi3RotaryEmbedding", rotary_dim(c));
    b.linear(0, "lm_head", h, c.vocab_size, false, false);
    if (c.tie_word_embeddings) b.tie("lm_head.weight", "model.embed_tokens.weight");
    b.no_split("Phi3DecoderLayer");
}

// modeling_gemma3.py, text part: Gemma3TextModel{embed_tokens (Gemma3TextScaledWordEmbedding:
// weight + `embed_scale`, a non-persistent 0-d buffer in the model dtype), layers, norm,
// rotary_emb (one inv_freq pair per layer type: sliding and full attention)}. Gemma3DecoderLayer
// {self_attn{q,k,v,o, q_norm, k_norm}, mlp, input_layernorm, post_attention_layernorm,
// pre_feedforward_layernorm, post_feedforward_layernorm}.
constexpr std::size_t gemma3_text(tree_builder& b, std::size_t parent, std::string_view local,
                                  const model_config& c) {
    const std::uint64_t h = c.hidden_size, hd = c.attention_head_dim();
    const std::uint64_t q_out = c.num_attention_heads * hd, kv_out = c.kv_heads() * hd;
    auto model = b.module(parent, local, "Gemma3TextModel");
    auto emb = b.embedding(model, "embed_tokens", c.vocab_size, h, "Gemma3TextScaledWordEmbedding");
    b.buffer(emb, "embed_scale", {}, b.dt(), false);
    auto layers = b.module(model, "layers", "ModuleList");
    for (std::uint32_t i = 0; i < c.num_hidden_layers; ++i) {
        auto layer = b.module(layers, to_decimal(i), "Gemma3DecoderLayer");
        auto attn = b.module(layer, "self_attn", "Gemma3Attention");
        b.linear(attn, "q_proj", h, q_out, c.attention_bias);
        b.linear(attn, "k_proj", h, kv_out, c.attention_bias);
        b.linear(attn, "v_proj", h, kv_out, c.attention_bias);
        b.linear(attn, "o_proj", q_out, h, c.attention_bias);
        b.rms_norm(attn, "q_norm", hd, "Gemma3RMSNorm");
        b.rms_norm(attn, "k_norm", hd, "Gemma3RMSNorm");
        auto mlp = b.module(layer, "mlp", "Gemma3MLP");
        b.linear(mlp, "gate_proj", h, c.intermediate_size, false);
        b.linear(mlp, "up_proj", h, c.intermediate_size, false);
        b.linear(mlp, "down_proj", c.intermediate_size, h, false);
        b.rms_norm(layer, "input_layernorm", h, "Gemma3RMSNorm");
        b.rms_norm(layer, "post_attention_layernorm", h, "Gemma3RMSNorm");
        b.rms_norm(layer, "pre_feedforward_layernorm", h, "Gemma3RMSNorm");
        b.rms_norm(layer, "post_feedforward_layernorm", h, "Gemma3RMSNorm");
    }
    b.rms_norm(model, "norm", h, "Gemma3RMSNorm");
    b.rotary(model, "Gemma3RotaryEmbedding", rotary_dim(c), {"sliding_attention_", "full_attention_"});
    b.no_split("Gemma3DecoderLayer");
    return model;
}

constexpr void gemma3_causal(tree_builder& b, const model_config& c) {
    b.set_class(0, "Gemma3ForCausalLM");
    gemma3_text(b, 0, "model", c);
    b.linear(0, "lm_head", c.hidden_size, c.vocab_size, false, false);
    if (c.tie_word_embeddings) b.tie("lm_head.weight", "model.embed_tokens.weight");
}

// Gemma3ForConditionalGeneration{model: Gemma3Model{vision_tower (SiglipVisionModel:
// embeddings{patch_embedding Conv2d, position_embedding, position_ids int64 non-persistent},
// encoder{layers}, post_layernorm), multi_modal_projector{mm_input_projection_weight,
// mm_soft_emb_norm, avg_pool}, language_model}, lm_head} (modeling_gemma3.py, modeling_siglip.py).
constexpr void gemma3_multimodal(tree_builder& b, const model_config& c) {
    const auto& v = c.vision;
    const std::uint64_t vh = v.hidden_size;
    const std::uint64_t patches = v.patch_size != 0 ? (v.image_size / v.patch_size) * (v.image_size / v.patch_size) : 0;
    b.set_class(0, "Gemma3ForConditionalGeneration");
    auto model = b.module(0, "model", "Gemma3Model");
    auto tower = b.module(model, "vision_tower", "SiglipVisionModel");
    auto emb = b.module(tower, "embeddings", "SiglipVisionEmbeddings");
    auto patch = b.module(emb, "patch_embedding", "Conv2d");
    b.param(patch, "weight", {vh, v.num_channels, v.patch_size, v.patch_size}, b.dt());
    b.param(patch, "bias", {vh}, b.dt());
    b.embedding(emb, "position_embedding", patches, vh);
    b.buffer(emb, "position_ids", {1, patches}, dtype::i64, false);
    auto enc = b.module(tower, "encoder", "SiglipEncoder");
    auto layers = b.module(enc, "layers", "ModuleList");
    for (std::uint32_t i = 0; i < v.num_hidden_layers; ++i) {
        auto layer = b.module(layers, to_decimal(i), "SiglipEncoderLayer");
        b.layer_norm(layer, "layer_norm1", vh);
        auto attn = b.module(layer, "self_attn", "SiglipAttention");
        b.linear(attn, "k_proj", vh, vh, true);
        b.linear(attn, "v_proj", vh, vh, true);
        b.linear(attn, "q_proj", vh, vh, true);
        b.linear(attn, "out_proj", vh, vh, true);
        b.layer_norm(layer, "layer_norm2", vh);
        auto mlp = b.module(layer, "mlp", "SiglipMLP");
        b.module(mlp, "activation_fn", "PytorchGELUTanh");
        b.linear(mlp, "fc1", vh, v.intermediate_size, true);
        b.linear(mlp, "fc2", v.intermediate_size, vh, true);
    }
    b.layer_norm(tower, "post_layernorm", vh);
    auto proj = b.module(model, "multi_modal_projector", "Gemma3MultiModalProjector");
    b.param(proj, "mm_input_projection_weight", {vh, c.hidden_size}, b.dt());
    b.rms_norm(proj, "mm_soft_emb_norm", vh, "Gemma3RMSNorm");
    b.module(proj, "avg_pool", "AvgPool2d");
    gemma3_text(b, model, "language_model", c);
    b.linear(0, "lm_head", c.hidden_size, c.vocab_size, false, false);
    if (c.tie_word_embeddings) b.tie("lm_head.weight", "model.language_model.embed_tokens.weight");
    // SiglipVisionModel's _no_split_modules (modeling_siglip.py: SiglipPreTrainedModel).
    for (auto cls : {"SiglipTextEmbeddings", "SiglipEncoderLayer", "SiglipVisionEmbeddings",
                     "SiglipMultiheadAttentionPoolingHead"})
        b.no_split(cls);
}

// modeling_deepseek_v2.py: the Llama layout with multi-head latent attention
// {q_a_proj, q_a_layernorm, q_b_proj (or q_proj without q_lora_rank), kv_a_proj_with_mqa,
// kv_a_layernorm, kv_b_proj, o_proj}; layers from first_k_dense_replace on hold DeepseekV2Moe
// {experts (fused 3-D gate_up_proj (E, 2I, H) and down_proj (E, H, I): not nn.Linear, so
// bitsandbytes leaves them), gate (router weight (E, H) created in float32), shared_experts}.
// deepseek_v3 (modeling_deepseek_v3.py) is the same layout under DeepseekV3 names, its router
// adding `e_score_correction_bias` (E, float32) as a buffer; the multi-token-prediction layer is
// not built by the class. Only deepseek_v2 is covered by the oracle.
constexpr void deepseek_v2(tree_builder& b, const model_config& c, bool v3 = false) {
    const std::string p = v3 ? "DeepseekV3" : "DeepseekV2";
    const std::uint64_t h = c.hidden_size, nh = c.num_attention_heads;
    const std::uint64_t qk_head = std::uint64_t{c.qk_nope_head_dim} + c.qk_rope_head_dim;
    b.set_class(0, p + "ForCausalLM");
    auto model = b.module(0, "model", p + "Model");
    b.embedding(model, "embed_tokens", c.vocab_size, h);
    auto layers = b.module(model, "layers", "ModuleList");
    for (std::uint32_t i = 0; i < c.num_hidden_layers; ++i) {
        auto layer = b.module(layers, to_decimal(i), p + "DecoderLayer");
        auto attn = b.module(layer, "self_attn", p + "Attention");
        if (c.q_lora_rank == 0) {
            b.linear(attn, "q_proj", h, nh * qk_head, false);
        } else {
            b.linear(attn, "q_a_proj", h, c.q_lora_rank, c.attention_bias);
            b.rms_norm(attn, "q_a_layernorm", c.q_lora_rank, p + "RMSNorm");
            b.linear(attn, "q_b_proj", c.q_lora_rank, nh * qk_head, false);
        }
        b.linear(attn, "kv_a_proj_with_mqa", h, std::uint64_t{c.kv_lora_rank} + c.qk_rope_head_dim, c.attention_bias);
        b.rms_norm(attn, "kv_a_layernorm", c.kv_lora_rank, p + "RMSNorm");
        b.linear(attn, "kv_b_proj", c.kv_lora_rank, nh * (std::uint64_t{c.qk_nope_head_dim} + c.v_head_dim), false);
        b.linear(attn, "o_proj", nh * c.v_head_dim, h, c.attention_bias);
        const bool moe = c.num_experts != 0 && i >= c.first_k_dense_replace &&
                         (c.moe_layer_freq <= 1 || i % c.moe_layer_freq == 0);
        auto dense_mlp = [&](std::size_t parent, std::string_view local, std::uint64_t inter) {
            auto mlp = b.module(parent, local, p + "MLP");
            b.linear(mlp, "gate_proj", h, inter, false);
            b.linear(mlp, "up_proj", h, inter, false);
            b.linear(mlp, "down_proj", inter, h, false);
        };
        if (!moe) {
            dense_mlp(layer, "mlp", c.intermediate_size);
        } else {
            const std::uint64_t e = c.num_experts, mi = c.moe_intermediate_size;
            auto mlp = b.module(layer, "mlp", p + (v3 ? "MoE" : "Moe"));
            auto experts = b.module(mlp, "experts", p + "Experts");
            b.param(experts, "gate_up_proj", {e, 2 * mi, h}, b.dt());
            b.param(experts, "down_proj", {e, h, mi}, b.dt());
            auto gate = b.module(mlp, "gate", p + "TopkRouter");
            b.param(gate, "weight", {e, h}, dtype::f32);
            if (v3) b.buffer(gate, "e_score_correction_bias", {e}, dtype::f32, true);
            if (c.n_shared_experts != 0) dense_mlp(mlp, "shared_experts", mi * c.n_shared_experts);
        }
        b.rms_norm(layer, "input_layernorm", h, p + "RMSNorm");
        b.rms_norm(layer, "post_attention_layernorm", h, p + "RMSNorm");
    }
    b.rms_norm(model, "norm", h, p + "RMSNorm");
    b.rotary(model, p + "RotaryEmbedding", c.qk_rope_head_dim);
    b.linear(0, "lm_head", h, c.vocab_size, false, false);
    if (c.tie_word_embeddings) b.tie("lm_head.weight", "model.embed_tokens.weight");
    b.no_split(p + "DecoderLayer");
}

// modeling_gpt_oss.py: GptOssDecoderLayer{self_attn{q,k,v,o (biased), sinks (num_heads)},
// mlp{router (weight (E, H), bias (E)), experts (gate_up_proj (E, H, 2I) + bias, down_proj
// (E, I, H) + bias)}, input_layernorm, post_attention_layernorm}. MXFP4 with kernels
// (integrations/mxfp4.py): mlp becomes Mxfp4GptOssMLP whose Mxfp4GptOssExperts hold uint8
// `*_blocks` (E, out, in/32, 16) and float32 biases as parameters; the scales are not registered
// as parameters or buffers, so nothing counts them.
constexpr void gpt_oss(tree_builder& b, const model_config& c, quantization q) {
    const std::uint64_t h = c.hidden_size, hd = c.attention_head_dim(), e = c.num_experts;
    const std::uint64_t inter = c.intermediate_size;
    const std::uint64_t q_out = c.num_attention_heads * hd, kv_out = c.kv_heads() * hd;
    const bool packed = q == quantization::mxfp4;
    b.set_class(0, "GptOssForCausalLM");
    auto model = b.module(0, "model", "GptOssModel");
    b.embedding(model, "embed_tokens", c.vocab_size, h);
    auto layers = b.module(model, "layers", "ModuleList");
    for (std::uint32_t i = 0; i < c.num_hidden_layers; ++i) {
        auto layer = b.module(layers, to_decimal(i), "GptOssDecoderLayer");
        auto attn = b.module(layer, "self_attn", "GptOssAttention");
        b.linear(attn, "q_proj", h, q_out, c.attention_bias);
        b.linear(attn, "k_proj", h, kv_out, c.attention_bias);
        b.linear(attn, "v_proj", h, kv_out, c.attention_bias);
        b.linear(attn, "o_proj", q_out, h, c.attention_bias);
        b.param(attn, "sinks", {c.num_attention_heads}, b.dt());
        auto mlp = b.module(layer, "mlp", packed ? "Mxfp4GptOssMLP" : "GptOssMLP");
        auto router = b.module(mlp, "router", "GptOssTopKRouter");
        b.param(router, "weight", {e, h}, b.dt());
        b.param(router, "bias", {e}, b.dt());
        if (packed) {
            auto experts = b.module(mlp, "experts", "Mxfp4GptOssExperts");
            b.param(experts, "gate_up_proj_blocks", {e, 2 * inter, h / 32, 16}, dtype::u8);
            b.param(experts, "gate_up_proj_bias", {e, 2 * inter}, dtype::f32);
            b.param(experts, "down_proj_blocks", {e, h, inter / 32, 16}, dtype::u8);
            b.param(experts, "down_proj_bias", {e, h}, dtype::f32);
        } else {
            auto experts = b.module(mlp, "experts", "GptOssExperts");
            b.param(experts, "gate_up_proj", {e, h, 2 * inter}, b.dt());
            b.param(experts, "gate_up_proj_bias", {e, 2 * inter}, b.dt());
            b.param(experts, "down_proj", {e, inter, h}, b.dt());
            b.param(experts, "down_proj_bias", {e, h}, b.dt());
        }
        b.rms_norm(layer, "input_layernorm", h, "GptOssRMSNorm");
        b.rms_norm(layer, "post_attention_layernorm", h, "GptOssRMSNorm");
    }
    b.rms_norm(model, "norm", h, "GptOssRMSNorm");
    b.rotary(model, "GptOssRotaryEmbedding", rotary_dim(c));
    b.linear(0, "lm_head", h, c.vocab_size, false, false);
    if (c.tie_word_embeddings) b.tie("lm_head.weight", "model.embed_tokens.weight");
    b.no_split("GptOssDecoderLayer");
}

// modeling_gemma2.py: Gemma2ForCausalLM{model: Gemma2Model{embed_tokens
// (Gemma2TextScaledWordEmbedding: weight + `embed_scale`, a non-persistent 0-d buffer in the
// model dtype), layers, norm, rotary_emb (one inv_freq pair for every layer)}, lm_head};
// Gemma2DecoderLayer{self_attn{q,k,v,o}, mlp{gate, up, down, act_fn}, input_layernorm,
// post_attention_layernorm, pre_feedforward_layernorm, post_feedforward_layernorm}.
// Gemma2Attention's query_pre_attn_scalar, logit softcapping and sliding window are plain
// attributes, and Gemma2RMSNorm holds `weight` only.
constexpr void gemma2(tree_builder& b, const model_config& c) {
    const std::uint64_t h = c.hidden_size, hd = c.attention_head_dim();
    const std::uint64_t q_out = c.num_attention_heads * hd, kv_out = c.kv_heads() * hd;
    b.set_class(0, "Gemma2ForCausalLM");
    auto model = b.module(0, "model", "Gemma2Model");
    auto emb = b.embedding(model, "embed_tokens", c.vocab_size, h, "Gemma2TextScaledWordEmbedding");
    b.buffer(emb, "embed_scale", {}, b.dt(), false);
    auto layers = b.module(model, "layers", "ModuleList");
    for (std::uint32_t i = 0; i < c.num_hidden_layers; ++i) {
        auto layer = b.module(layers, to_decimal(i), "Gemma2DecoderLayer");
        auto attn = b.module(layer, "self_attn", "Gemma2Attention");
        b.linear(attn, "q_proj", h, q_out, c.attention_bias);
        b.linear(attn, "k_proj", h, kv_out, c.attention_bias);
        b.linear(attn, "v_proj", h, kv_out, c.attention_bias);
        b.linear(attn, "o_proj", q_out, h, c.attention_bias);
        auto mlp = b.module(layer, "mlp", "Gemma2MLP");
        b.linear(mlp, "gate_proj", h, c.intermediate_size, false);
        b.linear(mlp, "up_proj", h, c.intermediate_size, false);
        b.linear(mlp, "down_proj", c.intermediate_size, h, false);
        b.module(mlp, "act_fn", "GELUTanh");  // hidden_activation gelu_pytorch_tanh
        b.rms_norm(layer, "input_layernorm", h, "Gemma2RMSNorm");
        b.rms_norm(layer, "post_attention_layernorm", h, "Gemma2RMSNorm");
        b.rms_norm(layer, "pre_feedforward_layernorm", h, "Gemma2RMSNorm");
        b.rms_norm(layer, "post_feedforward_layernorm", h, "Gemma2RMSNorm");
    }
    b.rms_norm(model, "norm", h, "Gemma2RMSNorm");
    b.rotary(model, "Gemma2RotaryEmbedding", rotary_dim(c));
    b.linear(0, "lm_head", h, c.vocab_size, false, false);
    if (c.tie_word_embeddings) b.tie("lm_head.weight", "model.embed_tokens.weight");
    b.no_split("Gemma2DecoderLayer");
}

// modeling_gpt_neox.py: GPTNeoXForCausalLM{gpt_neox: GPTNeoXModel{embed_in, emb_dropout,
// layers, final_layer_norm, rotary_emb}, lm_head} (transformers 5 names the output embedding
// lm_head; a checkpoint's `embed_out` is renamed at load, conversion_mapping.py);
// GPTNeoXLayer{input_layernorm, post_attention_layernorm (LayerNorm: weight + bias),
// post_attention_dropout, post_mlp_dropout, attention{query_key_value (fused q, k, v: 3·H),
// dense}, mlp{dense_h_to_4h, dense_4h_to_h (always biased), act}}. The head size is
// hidden_size / num_attention_heads; GPTNeoXRotaryEmbedding keeps inv_freq over
// int(head size · rotary_pct).
constexpr void gpt_neox(tree_builder& b, const model_config& c) {
    const std::uint64_t h = c.hidden_size, inter = c.intermediate_size;
    const std::uint64_t head = c.num_attention_heads != 0 ? h / c.num_attention_heads : 0;
    // GPTNeoXConfig: attention_bias and rotary_pct default to True and 0.25. Published GPT-NeoX
    // files (Pythia, GPT-NeoX-20B) leave attention_bias out and the config reader then says
    // false, so the attention keeps its biases here; a missing rotary_pct is the class's 0.25.
    const bool attn_bias = true;
    const double pct = c.partial_rotary_factor > 0.0 ? c.partial_rotary_factor : 0.25;
    b.set_class(0, "GPTNeoXForCausalLM");
    auto model = b.module(0, "gpt_neox", "GPTNeoXModel");
    b.embedding(model, "embed_in", c.vocab_size, h);
    b.module(model, "emb_dropout", "Dropout");
    auto layers = b.module(model, "layers", "ModuleList");
    for (std::uint32_t i = 0; i < c.num_hidden_layers; ++i) {
        auto layer = b.module(layers, to_decimal(i), "GPTNeoXLayer");
        b.layer_norm(layer, "input_layernorm", h);
        b.layer_norm(layer, "post_attention_layernorm", h);
        b.module(layer, "post_attention_dropout", "Dropout");
        b.module(layer, "post_mlp_dropout", "Dropout");
        auto attn = b.module(layer, "attention", "GPTNeoXAttention");
        b.linear(attn, "query_key_value", h, 3 * h, attn_bias);
        b.linear(attn, "dense", h, h, attn_bias);
        auto mlp = b.module(layer, "mlp", "GPTNeoXMLP");
        b.linear(mlp, "dense_h_to_4h", h, inter, true);
        b.linear(mlp, "dense_4h_to_h", inter, h, true);
        b.module(mlp, "act", "GELUActivation");  // hidden_act gelu
    }
    b.layer_norm(model, "final_layer_norm", h);
    b.rotary(model, "GPTNeoXRotaryEmbedding", static_cast<std::uint64_t>(static_cast<double>(head) * pct));
    b.linear(0, "lm_head", h, c.vocab_size, false, false);
    if (c.tie_word_embeddings) b.tie("lm_head.weight", "gpt_neox.embed_in.weight");
    b.no_split("GPTNeoXLayer");
}

// ---- Pre-quantized checkpoints: the quantizer's preprocess_model on the built tree ----

// modules_to_not_convert as quantizers_utils.py: should_convert_module matches each pattern: a
// regular expression from the start of the name up to a module boundary (`layer.1` matches
// `layer.1.attn`, not `layer.11.attn`), or a plain suffix. Modelled: literal characters, `.`,
// backslash escapes and `*` after an atom; a pattern with other syntax is refused by the caller.
[[nodiscard]] constexpr bool simple_pattern(std::string_view p) noexcept {
    for (std::size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\') { if (++i == p.size()) return false; continue; }
        if (c == '*' && (i == 0 || p[i - 1] == '*')) return false;
        for (char meta : std::string_view{"()[]{}+?|^$"}) if (c == meta) return false;
    }
    return true;
}

[[nodiscard]] constexpr bool pattern_matches(std::string_view pattern, std::string_view name) {
    const std::size_t n = name.size();
    std::vector<bool> at(n + 1, false);  // positions the atoms read so far can end at
    at[0] = true;
    for (std::size_t i = 0; i < pattern.size();) {
        char c = pattern[i];
        bool any = c == '.', escaped = false;
        if (c == '\\') { c = pattern[i + 1]; any = false; escaped = true; }
        i += escaped ? 2 : 1;
        const bool star = i < pattern.size() && pattern[i] == '*';
        if (star) ++i;
        std::vector<bool> next(n + 1, false);
        for (std::size_t k = 0; k <= n; ++k) {
            if (!at[k]) continue;
            if (star) {
                next[k] = true;
                for (std::size_t j = k; j < n && (any || name[j] == c); ++j) next[j + 1] = true;
            } else if (k < n && (any || name[k] == c)) {
                next[k + 1] = true;
            }
        }
        at = std::move(next);
    }
    for (std::size_t e = 0; e <= n; ++e) {
        const bool boundary = (e > 0 && name[e - 1] == '.') || e == n || name[e] == '.';
        if (at[e] && boundary) return true;
    }
    return false;
}

[[nodiscard]] constexpr bool should_convert(std::string_view name, const std::vector<std::string>& skip) {
    for (const auto& key : skip)
        if (pattern_matches(key, name) || name.ends_with(key)) return false;
    return true;
}

// base.py: get_keys_to_not_convert: the tied weights (targets and sources), the module of the
// last parameter and the output embedding (lm_head), without ".weight".
[[nodiscard]] constexpr std::vector<std::string> default_not_convert(const module_tree& tree) {
    std::vector<std::string> keys;
    auto add = [&](std::string_view key) {
        if (key.ends_with(".weight")) key.remove_suffix(7);
        for (const auto& k : keys) if (k == key) return;
        keys.emplace_back(key);
    };
    for (const auto& t : tree.tied) { add(t.target); add(t.source); }
    // named_parameters() is pre-order: the last parameter's module is the last one met that holds one.
    std::string_view last;
    std::vector<std::size_t> stack{0};
    while (!stack.empty()) {
        const auto i = stack.back();
        stack.pop_back();
        if (!tree.nodes[i].params.empty()) last = tree.nodes[i].name;
        const auto& ch = tree.nodes[i].children;
        for (auto it = ch.rbegin(); it != ch.rend(); ++it) stack.push_back(*it);
    }
    if (!last.empty()) add(last);
    if (tree.find_module("lm_head") != nullptr) add("lm_head");
    return keys;
}

[[nodiscard]] constexpr std::uint64_t div_up(std::uint64_t a, std::uint64_t b) noexcept { return (a + b - 1) / b; }

[[nodiscard]] constexpr tensor_spec spec(std::string_view name, std::vector<std::uint64_t> shape, dtype type, bool persistent = true) {
    return tensor_spec{std::string(name), std::move(shape), type, plain_bits(type), persistent};
}

struct linear_shape {
    std::uint64_t in = 0, out = 0;
    bool bias = false;
};
[[nodiscard]] constexpr linear_shape shape_of(const module_node& node) {
    linear_shape s;
    for (const auto& p : node.params) {
        if (p.name == "weight" && p.shape.size() == 2) { s.out = p.shape[0]; s.in = p.shape[1]; }
        if (p.name == "bias") s.bias = true;
    }
    return s;
}

// integrations/finegrained_fp8.py: FP8Linear(in, out, block_size, activation_scheme, has_bias):
// nn.Linear's weight and bias slots are re-filled (weight float8_e4m3fn (out, in); bias in the
// model dtype), then weight_scale_inv: float32 (ceil(out / b0), ceil(in / b1)), or a 0-d scalar
// without blocks; activation_scale (0-d float32) for the "static" scheme only.
constexpr void to_fp8_linear(module_node& node, const quantization_config& q, dtype model_dtype) {
    const auto s = shape_of(node);
    const std::uint64_t b0 = q.weight_block_size[0], b1 = q.weight_block_size[1];
    node.class_name.clear();
    node.class_name.append("FP8Linear");
    node.params.clear();
    node.params.push_back(spec("weight", {s.out, s.in}, dtype::f8_e4m3));
    if (s.bias) node.params.push_back(spec("bias", {s.out}, model_dtype));
    if (b0 != 0 && b1 != 0) node.params.push_back(spec("weight_scale_inv", {div_up(s.out, b0), div_up(s.in, b1)}, dtype::f32));
    else node.params.push_back(spec("weight_scale_inv", {}, dtype::f32));
    if (q.activation_scheme.view() == "static") node.params.push_back(spec("activation_scale", {}, dtype::f32));
}

// finegrained_fp8.py: FP8Experts / _alloc_expert_proj for fused experts (E, 2I, H) and (E, H, I):
// float8_e4m3fn weights, float32 scales (E, max(ceil(2I / b0), 2), ceil(H / b1)) and
// (E, ceil(H / b0), ceil(I / b1)) — (E, 2, 1) and (E, 1, 1) without blocks — and, for "static",
// one float32 activation scale per expert and projection.
constexpr void to_fp8_experts(module_node& node, const quantization_config& q) {
    std::uint64_t e = 0, i2 = 0, h = 0;
    for (const auto& p : node.params)
        if (p.name == "gate_up_proj" && p.shape.size() == 3) { e = p.shape[0]; i2 = p.shape[1]; h = p.shape[2]; }
    const std::uint64_t inter = i2 / 2;
    const std::uint64_t b0 = q.weight_block_size[0], b1 = q.weight_block_size[1];
    const bool blocks = b0 != 0 && b1 != 0;
    auto out_blocks = [&](std::uint64_t n, std::uint64_t at_least) {
        const auto v = blocks ? div_up(n, b0) : std::uint64_t{1};
        return v < at_least ? at_least : v;
    };
    node.class_name.clear();
    node.class_name.append("FP8Experts");
    node.params.clear();
    node.params.push_back(spec("gate_up_proj", {e, 2 * inter, h}, dtype::f8_e4m3));
    node.params.push_back(spec("gate_up_proj_scale_inv", {e, out_blocks(2 * inter, 2), blocks ? div_up(h, b1) : 1}, dtype::f32));
    node.params.push_back(spec("down_proj", {e, h, inter}, dtype::f8_e4m3));
    node.params.push_back(spec("down_proj_scale_inv", {e, out_blocks(h, 1), blocks ? div_up(inter, b1) : 1}, dtype::f32));
    if (q.activation_scheme.view() == "static") {
        node.params.push_back(spec("gate_up_proj_activation_scale", {e}, dtype::f32));
        node.params.push_back(spec("down_proj_activation_scale", {e}, dtype::f32));
    }
}

// gptqmodel nn_modules/qlinear/marlin.py: MarlinLinear, the kernel gptqmodel's auto-selection
// (utils/importer.py: hf_select_quant_linear_v2) takes for GPTQ 4/8-bit symmetric weights on a
// CUDA GPU of compute capability >= 7.5 when no higher-priority kernel (Machete) is built:
// parameters qweight int32 (in / (32 / bits), out), g_idx int32 (in), scales float16
// (in / group, out), qzeros int32 (in / group, out / (32 / bits)); buffers workspace and
// g_idx_sort_indices (empty int32, non-persistent) and bias float16 (out). Optimum constructs it
// without a dtype, so scales and bias stay float16 whatever the model dtype.
constexpr void to_gptq_marlin(module_node& node, const quantization_config& q) {
    const auto s = shape_of(node);
    const std::uint64_t pack = 32 / q.bits, group = q.group_size != 0 ? q.group_size : s.in;
    node.class_name.clear();
    node.class_name.append("MarlinLinear");
    node.params.clear();
    node.params.push_back(spec("qweight", {s.in / pack, s.out}, dtype::i32));
    node.params.push_back(spec("g_idx", {s.in}, dtype::i32));
    node.params.push_back(spec("scales", {s.in / group, s.out}, dtype::f16));
    node.params.push_back(spec("qzeros", {s.in / group, s.out / pack}, dtype::i32));
    node.buffers.clear();
    node.buffers.push_back(spec("workspace", {0}, dtype::i32, false));
    node.buffers.push_back(spec("g_idx_sort_indices", {0}, dtype::i32, false));
    if (s.bias) node.buffers.push_back(spec("bias", {s.out}, dtype::f16));
}

// gptqmodel nn_modules/qlinear/marlin_awq.py: AwqMarlinLinear (auto-selected for AWQ GEMM with
// zero points on the same machines): parameters qweight int32 (in, out / 8), qzeros int32
// (in / group, out / 8), scales float16 (in / group, out); buffers bias float16 (out), then
// workspace, g_idx, g_idx_sort_indices (empty int32, non-persistent).
constexpr void to_awq_marlin(module_node& node, const quantization_config& q) {
    const auto s = shape_of(node);
    const std::uint64_t pack = 32 / q.bits, group = q.group_size != 0 ? q.group_size : s.in;
    node.class_name.clear();
    node.class_name.append("AwqMarlinLinear");
    node.params.clear();
    node.params.push_back(spec("qweight", {s.in, s.out / pack}, dtype::i32));
    node.params.push_back(spec("qzeros", {s.in / group, s.out / pack}, dtype::i32));
    node.params.push_back(spec("scales", {s.in / group, s.out}, dtype::f16));
    node.buffers.clear();
    if (s.bias) node.buffers.push_back(spec("bias", {s.out}, dtype::f16));
    node.buffers.push_back(spec("workspace", {0}, dtype::i32, false));
    node.buffers.push_back(spec("g_idx", {0}, dtype::i32, false));
    node.buffers.push_back(spec("g_idx_sort_indices", {0}, dtype::i32, false));
}

[[nodiscard]] constexpr bool inside_decoder_layer(const module_tree& tree, std::size_t i) {
    while (i != 0) {
        i = tree.nodes[i].parent;
        if (tree.is_decoder_layer(tree.nodes[i])) return true;
    }
    return false;
}

// The quantizer's preprocess_model for a pre-quantized checkpoint:
//  * fp8: quantizer_finegrained_fp8.py _process_model_before_weight_loading ->
//    finegrained_fp8.py replace_with_fp8_linear: every module named "*.experts" and every plain
//    nn.Linear that should_convert_module keeps (modules_to_not_convert if the config lists them,
//    else get_keys_to_not_convert: lm_head) is swapped in place; dequantize: nothing.
//  * gptq: quantizer_gptq.py -> optimum gptq/quantizer.py convert_model: the nn.Linear layers of
//    the decoder block (get_block_name_with_pattern: model.layers); _replace_by_quant_layers walks
//    dir(module) (sorted names), deleting and re-adding each, so the replaced children of a module
//    end up after the others, in name order.
//  * awq: quantizer_awq.py -> integrations/awq.py replace_with_awq_linear: every nn.Linear not in
//    get_keys_to_not_convert + modules_to_not_convert, swapped in place (set_submodule).
constexpr void preprocess_prequantized(module_tree& tree, const quantization_config& q, quantization quant,
                                       const std::vector<std::string>& skip) {
    const dtype model_dtype = tree.load.torch_dtype;
    std::vector<bool> replaced(tree.nodes.size(), false);
    for (std::size_t i = 1; i < tree.nodes.size(); ++i) {
        auto& node = tree.nodes[i];
        const bool linear = node.class_name == "Linear";
        if (quant == quantization::fp8) {
            const bool experts = node.name.ends_with(".experts");
            if ((!experts && !linear) || !should_convert(node.name, skip)) continue;
            if (experts) to_fp8_experts(node, q);
            else to_fp8_linear(node, q, model_dtype);
        } else if (quant == quantization::gptq) {
            if (!linear || !inside_decoder_layer(tree, i)) continue;
            to_gptq_marlin(node, q);
            replaced[i] = true;
        } else if (quant == quantization::awq) {
            if (!linear || !should_convert(node.name, skip)) continue;
            to_awq_marlin(node, q);
        }
    }
    if (quant != quantization::gptq) return;
    for (auto& node : tree.nodes) {
        std::vector<std::size_t> kept, moved;
        for (auto c : node.children) (replaced[c] ? moved : kept).push_back(c);
        if (moved.empty()) continue;
        for (std::size_t a = 1; a < moved.size(); ++a)  // insertion sort by attribute name
            for (std::size_t b = a; b > 0 && tree.nodes[moved[b]].local_name < tree.nodes[moved[b - 1]].local_name; --b)
                std::swap(moved[b], moved[b - 1]);
        for (auto c : moved) kept.push_back(c);
        node.children = std::move(kept);
    }
}

// Model types whose decoder has no fused 3-D experts (GPTQ / AWQ checkpoints of MoE models
// quantize each expert as its own Linear, which transformers 5 fuses: not modelled).
[[nodiscard]] constexpr bool dense_decoder(std::string_view type) noexcept {
    for (auto t : {"llama", "mistral", "qwen2", "qwen3", "opt", "phi3", "gemma2", "gemma3_text", "gpt_neox"})
        if (type == t) return true;
    return false;
}

// What from_pretrained does with a checkpoint's quantization_config and the quantization asked
// (quantizers/auto.py: get_hf_quantizer, merge_quantization_configs: a pre-quantized checkpoint
// keeps its own config and refuses one of another class), and the parts of each quantizer this
// tree does not model.
[[nodiscard]] constexpr result<quantization> checkpoint_quantization(const model_config& c, quantization asked) {
    const auto& q = c.quantization;
    const auto m = q.method;
    const bool prequant_asked = asked == quantization::fp8 || asked == quantization::fp8_dequantized ||
                                asked == quantization::gptq || asked == quantization::awq;
    if (m == quant_method::none || m == quant_method::mxfp4 || m == quant_method::bitsandbytes) {
        if (prequant_asked)
            return error{errc::invalid_argument, "FP8, GPTQ and AWQ loading is modelled for checkpoints pre-quantized with them; this config's quant_method is '"}
                .with(q.method_name.view()).with("'");
        return asked;
    }
    if (m != quant_method::fp8 && m != quant_method::gptq && m != quant_method::awq) {
        return error{errc::unsupported_architecture, "a checkpoint pre-quantized with quant_method '"}
            .with(q.method_name.view())
            .with("' is not modelled for transformers (bitsandbytes, MXFP4, FP8, GPTQ and AWQ are)");
    }
    const std::string_view type = c.model_type.view();
    const std::string_view method = m == quant_method::fp8 ? "fp8" : m == quant_method::gptq ? "gptq" : "awq";
    auto refuse = [&](std::string_view what) {
        return error{errc::unsupported_architecture, "a "}.with(method).with(" checkpoint with ").with(what)
            .with(" is not modelled for transformers");
    };
    const quantization own = m == quant_method::gptq ? quantization::gptq
                             : m == quant_method::awq ? quantization::awq
                             : q.dequantize           ? quantization::fp8_dequantized
                                                      : quantization::fp8;
    const bool same = asked == quantization::none || asked == own ||
                      (m == quant_method::fp8 && (asked == quantization::fp8 || asked == quantization::fp8_dequantized));
    if (!same)
        return error{errc::invalid_argument, "the checkpoint is pre-quantized with '"}.with(method)
            .with("': from_pretrained refuses another quantization_config for it (merge_quantization_configs)");
    if (q.modules_to_not_convert_overflow) return refuse("a modules_to_not_convert list longer than this reader keeps");
    for (std::uint32_t i = 0; i < q.modules_to_not_convert_count; ++i)
        if (!simple_pattern(q.modules_to_not_convert[i].view())) return refuse("a modules_to_not_convert pattern beyond '.' and '*'");
    if (m == quant_method::fp8) {
        if (type == "gpt_oss") return refuse("gpt_oss experts (FP8Experts takes no biases)");
        if (q.scale_fmt.view() == "ue8m0") return refuse("scale_fmt 'ue8m0'");
        if (q.expert_dtype.view() == "fp4") return refuse("expert_dtype 'fp4'");
        if (q.fp8_modules_to_convert) return refuse("modules_to_convert (FP8 embeddings)");
        const auto scheme = q.activation_scheme.view();
        if (!scheme.empty() && scheme != "dynamic" && scheme != "static") return refuse("this activation_scheme");
        if (asked == quantization::fp8_dequantized) return quantization::fp8_dequantized;
        return own;
    }
    if (!dense_decoder(type) || c.multimodal) return refuse(std::string("model_type '").append(type).append("'"));
    if (m == quant_method::gptq) {
        if ((q.bits != 4 && q.bits != 8) || !q.sym) return refuse("other than 4- or 8-bit symmetric weights (Marlin)");
        if (!q.format.empty() && q.format.view() != "gptq") return refuse("format other than 'gptq'");
        if (q.gptq_block_selection) return refuse("block_name_to_quantize or modules_in_block_to_quantize");
    } else {
        if (q.bits != 4 || !q.zero_point) return refuse("other than 4-bit weights with zero points");
        if (!q.format.empty() && q.format.view() != "gemm") return refuse("a format other than 'gemm'");
        if (type == "gpt_neox") return refuse("gpt_neox (replace_quantization_scales)");
    }
    return own;
}

} // namespace detail

// The tree of `cls(config)` for the class AutoModelForCausalLM resolves (auto_factory.py:
// _get_model_class), after the quantizer's preprocess_model. model_type "gemma3" with
// `multimodal` builds Gemma3ForConditionalGeneration; "gemma3_text" (or "gemma3" without a
// vision tower) Gemma3ForCausalLM.
inline constexpr std::string_view module_tree_types[] = {"llama", "mistral", "qwen2", "qwen3", "gpt2", "opt", "gemma3", "gemma3_text",
                                                         "deepseek_v2", "deepseek_v3", "mixtral", "qwen2_moe", "qwen3_moe", "gpt_oss", "phi3",
                                                         "gemma2", "gpt_neox"};

// Whether build_module_tree knows the classes of this config (its model_type and, for a
// pre-quantized checkpoint, its quantizer).
[[nodiscard]] constexpr bool has_module_tree(const model_config& c) {
    if (!detail::checkpoint_quantization(c, quantization::none)) return false;
    for (auto type : module_tree_types) {
        if (type == c.model_type.view()) return true;
    }
    return false;
}

[[nodiscard]] constexpr result<module_tree> build_module_tree(const model_config& c, const load_options& load) {
    const std::string_view type = c.model_type.view();
    if (c.num_hidden_layers == 0 || c.hidden_size == 0 || c.vocab_size == 0)
        return error{errc::bad_value, "model config lacks num_hidden_layers, hidden_size or vocab_size"};
    // A pre-quantized FP8 / GPTQ / AWQ checkpoint loads as its quantization_config says.
    auto quant = detail::checkpoint_quantization(c, load.quant);
    if (!quant) return quant.err();
    load_options effective = load;
    effective.quant = *quant;
    // quantizer_awq.py: update_dtype: bfloat16 becomes float16 on a CUDA machine.
    if (effective.quant == quantization::awq && effective.torch_dtype == dtype::bf16) effective.torch_dtype = dtype::f16;
    if ((load.quant == quantization::mxfp4 || load.quant == quantization::mxfp4_dequantized) && type != "gpt_oss")
        return error{errc::invalid_argument, "MXFP4 placement is modelled for gpt_oss only, not "}.with(type);
    const bool prequantized = effective.quant == quantization::fp8 || effective.quant == quantization::gptq ||
                              effective.quant == quantization::awq;
    detail::tree_builder b(prequantized ? load_options{effective.torch_dtype, quantization::none, false} : effective);
    if (type == "llama") detail::llama_like(b, c, {"Llama", false, false, false, false});
    else if (type == "mistral") detail::llama_like(b, c, {"Mistral", false, false, false, false});
    else if (type == "qwen2") detail::llama_like(b, c, {"Qwen2", true, false, false, false});
    else if (type == "qwen3") detail::llama_like(b, c, {"Qwen3", false, true, false, false});
    else if (type == "gpt2") detail::gpt2(b, c);
    else if (type == "opt") detail::opt(b, c);
    else if (type == "gemma3" && c.multimodal) detail::gemma3_multimodal(b, c);
    else if (type == "gemma3" || type == "gemma3_text") detail::gemma3_causal(b, c);
    else if (type == "deepseek_v2") detail::deepseek_v2(b, c);
    else if (type == "deepseek_v3") detail::deepseek_v2(b, c, true);
    else if (type == "mixtral") detail::llama_like(b, c, {"Mixtral", false, false, true, false});
    else if (type == "qwen2_moe") detail::llama_like(b, c, {"Qwen2Moe", true, false, true, true});
    else if (type == "qwen3_moe") detail::llama_like(b, c, {"Qwen3Moe", false, true, true, false});
    else if (type == "gpt_oss") detail::gpt_oss(b, c, load.quant);
    else if (type == "phi3") detail::phi3(b, c);
    else if (type == "gemma2") detail::gemma2(b, c);
    else if (type == "gpt_neox") detail::gpt_neox(b, c);
    else return error{errc::unsupported_architecture, "no transformers module tree for model_type '"}.with(type).with("'");
    auto tree = std::move(b).take();
    tree.load = effective;
    if (prequantized) {
        const auto& q = c.quantization;
        // FP8: the listed modules alone when the config lists them (get_modules_to_not_convert);
        // AWQ: the defaults and the listed ones (add_default_skips=True).
        std::vector<std::string> skip;
        if (effective.quant == quantization::awq || !q.modules_to_not_convert_given) skip = detail::default_not_convert(tree);
        for (std::uint32_t i = 0; i < q.modules_to_not_convert_count; ++i) skip.emplace_back(q.modules_to_not_convert[i].view());
        detail::preprocess_prequantized(tree, q, effective.quant, skip);
    }
    return tree;
}

} // namespace vramfit::transformers
