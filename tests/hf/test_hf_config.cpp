// formats/json/reader.hpp and formats/hf/config.hpp: the published config.json files in
// tests/data/hf read as transformers' config classes resolve them, and malformed text rejected
// with the byte it breaks at.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "vramfit/formats/hf/config.hpp"

using namespace vramfit;

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

model_config config_of(const std::string& dir) {
    const auto text = read_text(std::string(VRAMFIT_TEST_DATA) + "/hf/configs/" + dir + "/config.json");
    auto c = hf::parse_config(text, dir);
    REQUIRE_MESSAGE(c.ok(), c.err().describe());
    return *c;
}

std::uint32_t sliding_count(const model_config& c) {
    std::uint32_t n = 0;
    for (std::uint32_t l = 0; l < layer_set::max_layers; ++l) n += c.sliding_layers.contains(l) ? 1 : 0;
    return n;
}

} // namespace

TEST_CASE("config.json: the placement oracle's models") {
    const auto llama = config_of("meta-llama--Llama-3.3-70B-Instruct");
    CHECK(llama.model_type == std::string_view{"llama"});
    CHECK(llama.num_hidden_layers == 80);
    CHECK(llama.hidden_size == 8192);
    CHECK(llama.kv_heads() == 8);
    CHECK(llama.intermediate_size == 28672);
    CHECK(llama.vocab_size == 128256);
    CHECK(llama.rope_scaling.rope_type == std::string_view{"llama3"});
    CHECK(llama.rope_scaling.factor == 8.0);
    CHECK(llama.torch_dtype == dtype::bf16);
    CHECK_FALSE(llama.tie_word_embeddings);

    const auto opt = config_of("facebook--opt-30b");
    CHECK(opt.num_hidden_layers == 48);
    CHECK(opt.hidden_size == 7168);
    CHECK(opt.intermediate_size == 28672);  // ffn_dim
    CHECK(opt.word_embed_proj_dim == 7168);
    CHECK(opt.tie_word_embeddings);         // OPTConfig's default
    CHECK(opt.torch_dtype == dtype::f16);

    const auto gpt2 = config_of("gpt2");
    CHECK(gpt2.num_hidden_layers == 12);    // n_layer
    CHECK(gpt2.hidden_size == 768);         // n_embd
    CHECK(gpt2.max_position_embeddings == 1024);
    CHECK(gpt2.intermediate_size == 3072);  // n_inner null: 4·n_embd
    CHECK(gpt2.tie_word_embeddings);

    const auto deepseek = config_of("deepseek-ai--DeepSeek-V2.5");
    CHECK(deepseek.is_mla());
    CHECK(deepseek.kv_lora_rank == 512);
    CHECK(deepseek.q_lora_rank == 1536);
    CHECK(deepseek.num_experts == 160);     // n_routed_experts
    CHECK(deepseek.n_shared_experts == 2);
    CHECK(deepseek.first_k_dense_replace == 1);

    const auto gpt_oss = config_of("openai--gpt-oss-20b");
    CHECK(gpt_oss.num_experts == 32);       // num_local_experts
    CHECK(gpt_oss.sliding_window == 128);
    CHECK(sliding_count(gpt_oss) == 12);    // layer_types: every other layer
    CHECK(gpt_oss.sliding_layers.contains(0));
    CHECK_FALSE(gpt_oss.sliding_layers.contains(1));
    CHECK(gpt_oss.quantization.method == quant_method::mxfp4);

    const auto gemma = config_of("google--gemma-3-12b-it");
    CHECK(gemma.multimodal);
    CHECK(gemma.model_type == std::string_view{"gemma3"});  // the whole model's: from_pretrained builds the vision tower too
    CHECK(gemma.vision.num_hidden_layers == 27);
    CHECK(gemma.vision.patch_size == 14);
    CHECK(gemma.architecture == std::string_view{"Gemma3ForConditionalGeneration"});
    CHECK(gemma.num_hidden_layers == 48);
    CHECK(gemma.vocab_size == 262208);      // Gemma3TextConfig's default: the text_config omits it
    CHECK(gemma.sliding_window == 1024);
    CHECK(sliding_count(gemma) == 40);      // five of every six layers
    CHECK(gemma.tie_word_embeddings);

    const auto qwen = config_of("Qwen--Qwen2.5-7B-Instruct");
    CHECK(qwen.sliding_window == 0);        // use_sliding_window false: no window
    CHECK(sliding_count(qwen) == 0);
    const auto mistral = config_of("mistralai--Mistral-7B-Instruct-v0.3");
    CHECK(mistral.sliding_window == 0);     // "sliding_window": null
}

TEST_CASE("config.json: a window without layer_types slides every layer (Phi-3)") {
    const auto text = read_text(std::string(VRAMFIT_TEST_DATA) + "/hf/memory_configs/microsoft--Phi-3-mini-4k-instruct/config.json");
    auto c = hf::parse_config(text);
    REQUIRE(c.ok());
    CHECK(c->sliding_window == 2047);
    CHECK(sliding_count(*c) == 32);
}

TEST_CASE("json: malformed text is rejected at the byte it breaks") {
    struct bad { std::string_view text; std::uint64_t offset; std::string_view says; };
    const bad cases[] = {
        {"", 0, "expected a value"},
        {"{", 1, "expected a key"},
        {"{\"a\" 1}", 5, "expected ':'"},
        {"{\"a\": 1,}", 8, "expected a key"},
        {"[1 2]", 3, "expected ',' or ']'"},
        {"\"abc", 4, "unterminated string"},
        {"\"a\\qb\"", 3, "unknown escape"},
        {"\"\\u12G4\"", 2, "four hexadecimal digits"},
        {"01", 1, "end of the document"},
        {"1.", 2, "digit after the decimal point"},
        {"1e", 2, "digit in the exponent"},
        {"-", 1, "expected a digit"},
        {"tru", 0, "expected true or false"},
        {"nul", 0, "expected null"},
        {"{} x", 3, "end of the document"},
        {std::string_view{"\"a\0b\"", 5}, 2, "control character"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        auto d = json::parse(c.text);
        REQUIRE_FALSE(d.ok());
        CHECK(d.err().byte_offset() == c.offset);
        CHECK(d.err().message().find(c.says) != std::string_view::npos);
    }
    const std::string deep(129, '[');
    auto d = json::parse(deep);
    REQUIRE_FALSE(d.ok());
    CHECK(d.err().message().find("128 levels") != std::string_view::npos);
    CHECK(json::parse(std::string(128, '[') + std::string(128, ']')).ok());
}

TEST_CASE("json: values as Python's json module reads them") {
    auto d = json::parse(R"({"k": 1, "s": "\u00e9\ud83d\ude00\n", "k": 2, "big": 18446744073709551616, "neg": -3, "x": 0.1, "e": 1E+2})");
    REQUIRE(d.ok());
    CHECK(*d->unsigned_integer(d->find(0, "k")) == 2);  // the last of a repeated key
    CHECK(d->string(d->find(0, "s"))->view() == "\xc3\xa9\xf0\x9f\x98\x80\n");
    CHECK_FALSE(d->unsigned_integer(d->find(0, "big")).ok());
    CHECK_FALSE(d->unsigned_integer(d->find(0, "neg")).ok());
    CHECK(*d->number(d->find(0, "neg")) == -3.0);
    CHECK(*d->number(d->find(0, "x")) == 0.1);
    CHECK(*d->number(d->find(0, "e")) == 100.0);
    CHECK(d->find(0, "missing") == json::no_node);
    auto lone = json::parse(R"("\ud83d")");
    REQUIRE(lone.ok());
    CHECK_FALSE(lone->string(0).ok());
}

TEST_CASE("config.json: errors name the file, the key and the byte") {
    auto wrong_type = hf::parse_config(R"({"model_type": "llama", "hidden_size": 4096, "num_attention_heads": true})", "m/config.json");
    REQUIRE_FALSE(wrong_type.ok());
    CHECK(wrong_type.err().message().starts_with("m/config.json: num_attention_heads at byte 68: expected a number, found a boolean"));
    auto not_json = hf::parse_config("{\"model_type\": \"llama\",", "m/config.json");
    REQUIRE_FALSE(not_json.ok());
    CHECK(not_json.err().message().starts_with("m/config.json: not valid JSON at byte 23"));
    auto long_name = hf::parse_config(R"({"model_type": "a_model_type_name_that_is_longer_than_forty_eight_chars"})");
    REQUIRE_FALSE(long_name.ok());
    CHECK(long_name.err().message().find("longer than 48 characters") != std::string_view::npos);
    auto missing = hf::parse_config(R"({"model_type": "llama"})");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.err().code() == errc::missing_key);
    auto dtype = hf::parse_config(R"({"model_type": "llama", "torch_dtype": "float8"})");
    REQUIRE_FALSE(dtype.ok());
    CHECK(dtype.err().message().find("unknown dtype 'float8'") != std::string_view::npos);
}
