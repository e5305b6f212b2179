// The built-in catalog's entries are their config.json files: for every entry whose published
// config.json is in tests/data/hf, the file read by formats/hf gives the same facts, the same
// module tree (every module's size) and the same KV cache as the entry. A catalog estimate is
// then the estimate of the downloaded checkpoint.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "vramfit/catalog/models.hpp"
#include "vramfit/engines/transformers/kv_cache.hpp"
#include "vramfit/engines/transformers/module_sizes.hpp"
#include "vramfit/engines/transformers/modules.hpp"
#include "vramfit/formats/hf/config.hpp"

using namespace vramfit;

namespace {

model_config read_config(const std::string& relative) {
    std::ifstream in(std::string(VRAMFIT_TEST_DATA) + "/hf/" + relative + "/config.json", std::ios::binary);
    REQUIRE_MESSAGE(in.good(), relative);
    std::stringstream text;
    text << in.rdbuf();
    auto c = hf::parse_config(text.str(), relative);
    REQUIRE_MESSAGE(c.ok(), c.err().describe());
    return *c;
}

struct pair {
    std::string_view key;
    std::string relative;  // under tests/data/hf
};

} // namespace

TEST_CASE("catalog entries hold what their config.json says") {
    // The catalog's Llama 3.1 8B and Mistral 7B v0.3 are the base models; the oracle read the
    // Instruct releases (their tuned_hf_id), whose config.json differ in nothing but token ids.
    const pair pairs[] = {
        {"llama-3.1-8b", "configs/meta-llama--Llama-3.1-8B-Instruct"},
        {"llama-3.3-70b", "configs/meta-llama--Llama-3.3-70B-Instruct"},
        {"mistral-7b-v0.3", "configs/mistralai--Mistral-7B-Instruct-v0.3"},
        {"qwen2.5-7b", "configs/Qwen--Qwen2.5-7B-Instruct"},
        {"qwen2.5-72b", "configs/Qwen--Qwen2.5-72B-Instruct"},
        {"qwen3-32b", "configs/Qwen--Qwen3-32B"},
        {"gemma-3-12b", "configs/google--gemma-3-12b-it"},
        {"gpt-oss-20b", "configs/openai--gpt-oss-20b"},
        {"opt-30b", "configs/facebook--opt-30b"},
        {"opt-6.7b", "memory_configs/facebook--opt-6.7b"},
        {"gpt2", "configs/gpt2"},
        {"deepseek-llm-7b-chat", "configs/deepseek-ai--deepseek-llm-7b-chat"},
        {"deepseek-v2.5", "configs/deepseek-ai--DeepSeek-V2.5"},
        {"phi-3-mini-4k", "memory_configs/microsoft--Phi-3-mini-4k-instruct"},
        {"pythia-1.4b", "configs/EleutherAI--pythia-1.4b"},
    };
    for (const auto& p : pairs) {
        CAPTURE(std::string{p.key});
        const catalog::model_entry* entry = catalog::find(p.key);
        REQUIRE(entry != nullptr);
        const model_config file = read_config(p.relative);
        const model_config mine = hf::with_class_rules(entry->config);
        CHECK(mine.model_type == file.model_type);
        CHECK(mine.architecture == file.architecture);
        CHECK(mine.torch_dtype == file.torch_dtype);
        CHECK(mine.num_hidden_layers == file.num_hidden_layers);
        CHECK(mine.hidden_size == file.hidden_size);
        CHECK(mine.num_attention_heads == file.num_attention_heads);
        CHECK(mine.kv_heads() == file.kv_heads());
        CHECK(mine.attention_head_dim() == file.attention_head_dim());
        CHECK(mine.intermediate_size == file.intermediate_size);
        CHECK(mine.vocab_size == file.vocab_size);
        CHECK(mine.max_position_embeddings == file.max_position_embeddings);
        CHECK(mine.tie_word_embeddings == file.tie_word_embeddings);
        CHECK(mine.attention_bias == file.attention_bias);
        CHECK(mine.mlp_bias == file.mlp_bias);
        CHECK(mine.partial_rotary_factor == file.partial_rotary_factor);
        CHECK(mine.rope_scaling.rope_type == file.rope_scaling.rope_type);
        CHECK(mine.rope_scaling.factor == file.rope_scaling.factor);
        CHECK(mine.word_embed_proj_dim == file.word_embed_proj_dim);
        CHECK(mine.sliding_window == file.sliding_window);
        CHECK(mine.sliding_layers == file.sliding_layers);
        CHECK(mine.num_experts == file.num_experts);
        CHECK(mine.num_experts_per_tok == file.num_experts_per_tok);
        CHECK(mine.moe_intermediate_size == file.moe_intermediate_size);
        CHECK(mine.n_shared_experts == file.n_shared_experts);
        CHECK(mine.first_k_dense_replace == file.first_k_dense_replace);
        CHECK(mine.topk_method == file.topk_method);
        CHECK(mine.q_lora_rank == file.q_lora_rank);
        CHECK(mine.kv_lora_rank == file.kv_lora_rank);
        CHECK(mine.qk_nope_head_dim == file.qk_nope_head_dim);
        CHECK(mine.qk_rope_head_dim == file.qk_rope_head_dim);
        CHECK(mine.v_head_dim == file.v_head_dim);
        CHECK(mine.multimodal == file.multimodal);
        CHECK(mine.vision.hidden_size == file.vision.hidden_size);
        CHECK(mine.vision.intermediate_size == file.vision.intermediate_size);
        CHECK(mine.vision.num_hidden_layers == file.vision.num_hidden_layers);
        CHECK(mine.vision.image_size == file.vision.image_size);
        CHECK(mine.vision.patch_size == file.vision.patch_size);
        CHECK(mine.quantization.method == file.quantization.method);

        // What the engine builds from each: the same module tree, byte for byte, and the same cache.
        if (!transformers::has_module_tree(file)) continue;
        for (const dtype type : {dtype::bf16, dtype::f32}) {
            transformers::load_options load{};
            load.torch_dtype = type;
            if (file.quantization.method == quant_method::mxfp4) load.quant = transformers::quantization::mxfp4;
            const auto from_file = transformers::build_module_tree(file, load);
            const auto from_entry = transformers::build_module_tree(mine, load);
            REQUIRE_MESSAGE(from_file.ok(), from_file.err().describe());
            REQUIRE_MESSAGE(from_entry.ok(), from_entry.err().describe());
            REQUIRE(from_file->nodes.size() == from_entry->nodes.size());
            const auto a = transformers::compute_module_sizes(*from_file);
            const auto b = transformers::compute_module_sizes(*from_entry);
            CHECK(a.total == b.total);
            bool same_names = true;
            for (std::size_t n = 0; n < from_file->nodes.size(); ++n) same_names = same_names && from_file->nodes[n].name == from_entry->nodes[n].name;
            CHECK(same_names);
            const auto cache = transformers::generate_cache(type, 2, 3000, 200);
            CHECK(transformers::kv_cache_bytes(file, cache) == transformers::kv_cache_bytes(mine, cache));
        }
    }
}

TEST_CASE("catalog entries llama.cpp cannot take still have a transformers module tree") {
    for (const auto* key : {"opt-6.7b", "opt-13b", "opt-30b", "opt-66b", "gpt2"}) {
        CAPTURE(key);
        const auto* entry = catalog::find(key);
        REQUIRE(entry != nullptr);
        CHECK(transformers::has_module_tree(entry->config));
        CHECK(transformers::build_module_tree(entry->config, {}).ok());
    }
    // DeepSeek-V3's published weights are FP8 (quantization_config): loaded with its own quantizer,
    // not sized as BF16.
    const auto v3 = transformers::build_module_tree(catalog::deepseek_v3::entry.config, {});
    REQUIRE(v3.ok());
    CHECK(v3->load.quant == transformers::quantization::fp8);
}
