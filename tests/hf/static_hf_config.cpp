// formats/json and formats/hf at compile time: a config.json literal read in a constant expression.
#include "vramfit/formats/hf/config.hpp"

namespace {

using namespace vramfit;

constexpr std::string_view llama_like = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16",
  "num_hidden_layers": 32, "hidden_size": 4096, "num_attention_heads": 32, "num_key_value_heads": 8,
  "intermediate_size": 14336, "vocab_size": 128256, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
  "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"}
})";

constexpr bool reads_llama() {
    auto c = hf::parse_config(llama_like);
    return c.ok() && c->num_hidden_layers == 32 && c->kv_heads() == 8 && c->attention_head_dim() == 128 &&
           c->rms_norm_eps == 1e-05 && c->rope_theta == 500000.0 && c->rope_scaling.rope_type == std::string_view{"llama3"} &&
           c->torch_dtype == dtype::bf16 && !c->tie_word_embeddings && c->architecture == std::string_view{"LlamaForCausalLM"};
}
static_assert(reads_llama());

// GPT-2's names go through its attribute_map; its class ties the embeddings by default.
constexpr bool reads_gpt2() {
    auto c = hf::parse_config(R"({"model_type": "gpt2", "n_layer": 12, "n_embd": 768, "n_head": 12, "n_positions": 1024, "vocab_size": 50257})");
    return c.ok() && c->num_hidden_layers == 12 && c->hidden_size == 768 && c->intermediate_size == 3072 && c->tie_word_embeddings;
}
static_assert(reads_gpt2());

// An error names the file, the key and the byte.
constexpr bool names_the_key() {
    auto c = hf::parse_config(R"({"model_type": "llama", "num_hidden_layers": "32"})", "x/config.json");
    return !c.ok() && c.err().message().starts_with("x/config.json: num_hidden_layers at byte 45: expected a number");
}
static_assert(names_the_key());

} // namespace
