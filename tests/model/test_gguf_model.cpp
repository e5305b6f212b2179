// describe_gguf on headers written the way convert_hf_to_gguf.py writes them (keys named
// `<arch>.block_count`, `<arch>.attention.head_count_kv`, ...; tensors from the catalog layout),
// at compile time where the model is small and at run time for every catalog architecture.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/formats/gguf/reader.hpp"
#include "vramfit/engines/llama_cpp/from_gguf.hpp"
#include "vramfit/engines/llama_cpp/export.hpp"
#include "vramfit/formats/gguf/writer.hpp"
#include "vramfit/engines/llama_cpp/convert.hpp"

#include "converter_files.hpp"

using namespace vramfit;

namespace {

using namespace converter_files;  // converter_file, describe_writer, same_hparams, llama_1b_round_trips

constexpr std::uint32_t count_swa(const hyperparameters& hp) {
    std::uint32_t n = 0;
    for (const auto& layer : hp.layers) n += layer.swa ? 1 : 0;
    return n;
}

// A tiny llama (two layers, per-layer kv heads) for compile-time checks.
constexpr gguf::writer tiny_llama() {
    gguf::writer w;
    w.set("general.architecture", "llama");
    w.set("llama.context_length", std::uint32_t{4096});
    w.set("llama.embedding_length", std::uint32_t{256});
    w.set("llama.block_count", std::uint32_t{2});
    w.set("llama.feed_forward_length", std::uint32_t{512});
    w.set("llama.attention.head_count", std::uint32_t{4});
    w.set_array("llama.attention.head_count_kv", {std::uint32_t{4}, std::uint32_t{2}});
    w.set_array("tokenizer.ggml.tokens", {std::string_view{"a"}, std::string_view{"b"}, std::string_view{"c"}});
    w.add_tensor("token_embd.weight", {256, 3}, ggml_type::f16);
    w.add_tensor("output_norm.weight", {256}, ggml_type::f32);
    return w;
}

// Constant evaluation cannot keep heap memory, so each compile-time check is a function.
constexpr bool tiny_llama_describes() {
    const auto tiny = describe_writer(tiny_llama());
    return tiny.ok() && tiny->hparams.n_vocab == 3                            // the token list length
           && tiny->hparams.n_embd_head_k == 64 && tiny->hparams.n_rot == 64   // n_embd / n_head
           && tiny->hparams.layers[0].n_head_kv == 4 && tiny->hparams.layers[1].n_head_kv == 2  // per layer
           && tiny->hparams.tied_embeddings                                    // no output.weight
           && tiny->tensors.size() == 2 && tiny->files.size() == 1;
}
static_assert(tiny_llama_describes());

constexpr errc error_with_architecture(std::string_view name) {
    auto w = tiny_llama();
    w.set("general.architecture", name);
    const auto m = describe_writer(w);
    return m.ok() ? errc::none : m.err().code();
}
static_assert(error_with_architecture("bert") == errc::unsupported_architecture);
static_assert(error_with_architecture("jamba") == errc::unsupported_architecture);
static_assert(error_with_architecture("llama") == errc::none);

constexpr bool missing_block_count_is_named() {
    auto w = tiny_llama();
    w.remove("llama.block_count");
    const auto m = describe_writer(w);
    return !m.ok() && m.err().code() == errc::missing_key && m.err().message().find("llama.block_count") != std::string_view::npos;
}
static_assert(missing_block_count_is_named());

// llama_1b_round_trips: static_gguf_model.cpp static_asserts it at compile time.

} // namespace

TEST_CASE("compile-time vectors hold at run time") {
    CHECK(tiny_llama_describes());
    CHECK(error_with_architecture("bert") == errc::unsupported_architecture);
    CHECK(error_with_architecture("jamba") == errc::unsupported_architecture);
    CHECK(error_with_architecture("llama") == errc::none);
    CHECK(missing_block_count_is_named());
    CHECK(llama_1b_round_trips());
}

TEST_CASE("every catalog architecture: a converter-written header describes like the catalog entry") {
    for (const auto& entry : catalog::models) {
        CAPTURE(std::string{entry.key});
        if (!llama_cpp::architecture_of(entry.config)) continue;  // OPT, GPT-2: refused (test_catalog.cpp)
        const auto from_file = describe_writer(converter_file(entry));
        REQUIRE_MESSAGE(from_file.ok(), from_file.err().describe());
        const auto from_catalog = llama_cpp::describe_f16(entry);
        REQUIRE(from_catalog.ok());
        CHECK(same_hparams(from_file->hparams, from_catalog->hparams));
        CHECK(from_file->tensors.size() == from_catalog->tensors.size());
        CHECK(from_file->weight_bytes() == from_catalog->weight_bytes());
        CHECK(from_file->parameter_count() == from_catalog->parameter_count());
        CHECK(from_file->name == entry.display_name);
    }
}

TEST_CASE("export round trip: every catalog entry at its default ftype, written by gguf_export, reads back the same") {
    // make_gguf_writer (the `vramfit export` path) with the catalog's converter metadata: the
    // header describes the same hyper-parameters, tensors (name, shape, type, order, offset) and
    // passes the engine's shape check.
    for (const auto& entry : catalog::models) {
        CAPTURE(std::string{entry.key});
        if (!llama_cpp::architecture_of(entry.config)) continue;  // OPT, GPT-2: refused (test_catalog.cpp)
        const auto model = llama_cpp::describe(entry.key);
        REQUIRE_MESSAGE(model.ok(), model.err().describe());
        const auto w = make_gguf_writer(*llama_cpp::detail::converter_metadata(entry), *model, {.with_vocabulary = false});
        const auto back = describe_writer(w);
        REQUIRE_MESSAGE(back.ok(), back.err().describe());
        CHECK(same_hparams(back->hparams, model->hparams));
        REQUIRE(back->tensors.size() == model->tensors.size());
        bool same = true;
        for (std::size_t i = 0; i < model->tensors.size(); ++i) {
            const auto& a = back->tensors[i];
            const auto& b = model->tensors[i];
            same = same && a.name == b.name && a.ne == b.ne && a.type == b.type && a.offset == b.offset;
        }
        CHECK(same);
        const auto shapes = check_tensor_shapes(*back);
        const std::string shape_error = shapes.ok() ? std::string{} : std::string{shapes.err().describe()};
        CHECK_MESSAGE(shapes.ok(), shape_error);
    }
}

TEST_CASE("SWA layers per layer, as the engine derives them") {
    SUBCASE("gemma3: period 6 = 5 SWA + 1 global: 40 SWA + 8 global") {
        const auto m = describe_writer(converter_file(catalog::gemma_3_12b::entry, false));
        REQUIRE(m.ok());
        const auto& hp = m->hparams;
        CHECK(hp.swa_type == swa_kind::standard);
        CHECK(hp.n_swa == 1024);
        CHECK(count_swa(hp) == 40);
        for (std::uint32_t il = 0; il < hp.n_layer; ++il) CHECK(hp.layers[il].swa == (il % 6 != 5));
    }
    SUBCASE("gemma3 without a window key: no SWA at all") {
        auto w = converter_file(catalog::gemma_3_12b::entry, false);
        w.remove("gemma3.attention.sliding_window");
        const auto m = describe_writer(w);
        REQUIRE(m.ok());
        CHECK(m->hparams.swa_type == swa_kind::none);
        CHECK(count_swa(m->hparams) == 0);
    }
    SUBCASE("gpt-oss: alternating, layer 0 windowed: 12 + 12") {
        const auto m = describe_writer(converter_file(catalog::gpt_oss_20b::entry, false));
        REQUIRE(m.ok());
        CHECK(m->hparams.n_swa == 128);
        CHECK(count_swa(m->hparams) == 12);
        CHECK(m->hparams.layers[0].swa);
        CHECK_FALSE(m->hparams.layers[1].swa);
        CHECK(m->hparams.n_ff_exp == 2880);
        CHECK(m->hparams.layers[0].n_ff == 0);
    }
    SUBCASE("gemma2: alternating 21 + 21, window 4096") {
        const auto m = describe_writer(converter_file(catalog::gemma_2_9b::entry, false));
        REQUIRE(m.ok());
        CHECK(m->hparams.n_swa == 4096);
        CHECK(count_swa(m->hparams) == 21);
        CHECK(m->hparams.tied_embeddings);
    }
    SUBCASE("gemma2 without a window key: the engine's default 4096") {
        auto w = converter_file(catalog::gemma_2_9b::entry, false);
        w.remove("gemma2.attention.sliding_window");
        const auto m = describe_writer(w);
        REQUIRE(m.ok());
        CHECK(m->hparams.n_swa == 4096);
        CHECK(count_swa(m->hparams) == 21);
    }
    SUBCASE("phi3: sliding_window 2047 in the file, ignored by the engine") {
        const auto m = describe_writer(converter_file(catalog::phi_3_mini_4k::entry, false));
        REQUIRE(m.ok());
        CHECK(m->hparams.swa_type == swa_kind::none);
        CHECK(m->hparams.n_swa == 0);
        CHECK(count_swa(m->hparams) == 0);
        CHECK(m->hparams.layers[0].n_head_kv == 32);
    }
    SUBCASE("a per-layer pattern array is taken layer by layer") {
        auto w = converter_file(catalog::gemma_3_12b::entry, false);
        std::vector<std::uint8_t> flags(48, 0);
        flags[3] = 1;
        flags[7] = 1;
        w.set_array("gemma3.attention.sliding_window_pattern", std::vector<std::uint32_t>(flags.begin(), flags.end()));
        const auto m = describe_writer(w);
        REQUIRE(m.ok());
        CHECK(count_swa(m->hparams) == 2);
        CHECK(m->hparams.layers[3].swa);
    }
}

TEST_CASE("per-layer head arrays (get_key_or_arr)") {
    auto w = converter_file(catalog::llama_3_2_1b::entry, false);
    std::vector<std::uint32_t> kv(16, 8);
    kv[5] = 0;  // a layer without attention heads in the cache
    kv[6] = 2;
    w.set_array("llama.attention.head_count_kv", kv);
    std::vector<std::uint32_t> ff(16, 8192);
    ff[0] = 4096;
    w.set_array("llama.feed_forward_length", ff);
    auto m = describe_writer(w);
    REQUIRE(m.ok());
    CHECK(m->hparams.layers[5].n_head_kv == 0);
    CHECK(m->hparams.layers[6].n_head_kv == 2);
    CHECK(m->hparams.n_embd_k_gqa(6) == 128);
    CHECK(m->hparams.layers[0].n_ff == 4096);
    CHECK(m->hparams.layers[1].n_ff == 8192);

    SUBCASE("an array of the wrong length names the key") {
        w.set_array("llama.attention.head_count_kv", std::vector<std::uint32_t>(15, 8));
        const auto bad = describe_writer(w);
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.err().code() == errc::bad_value);
        CHECK(bad.err().message().find("llama.attention.head_count_kv") != std::string_view::npos);
    }
    SUBCASE("head_count_kv defaults to head_count") {
        w.remove("llama.attention.head_count_kv");
        const auto mha = describe_writer(w);
        REQUIRE(mha.ok());
        CHECK(mha->hparams.layers[3].n_head_kv == 32);
    }
    SUBCASE("a key of the wrong type is an error naming it") {
        w.set("llama.block_count", std::string_view{"sixteen"});
        const auto bad = describe_writer(w);
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.err().message().find("llama.block_count") != std::string_view::npos);
    }
}

TEST_CASE("deepseek2 MLA: the cache width is kv_lora + rope, V is kv_lora; *_mla are per-head sizes") {
    const auto m = describe_writer(converter_file(catalog::deepseek_v2_lite::entry, false));
    REQUIRE(m.ok());
    const auto& hp = m->hparams;
    CHECK(hp.n_embd_head_k == 576);
    CHECK(hp.n_embd_head_v == 512);
    CHECK(hp.n_embd_head_k_mla == 192);
    CHECK(hp.n_embd_head_v_mla == 128);
    CHECK(hp.n_rot == 64);
    CHECK(hp.n_lora_kv == 512);
    CHECK(hp.n_lora_q == 0);
    CHECK(hp.layers[0].n_head_kv == 1);
    CHECK(hp.n_embd_k_gqa(0) == 576);
    CHECK(hp.n_layer_dense_lead == 1);
    CHECK(hp.layers[0].n_ff == 10944);
    CHECK(hp.layers[1].n_ff == 0);
    CHECK(hp.n_ff_exp == 1408);
    CHECK(hp.n_expert_shared == 2);
    CHECK(hp.n_ff_shexp == 2816);
    CHECK(hp.n_expert == 64);
    CHECK(hp.n_expert_used == 6);
}

TEST_CASE("mamba2: recurrent layers and state sizes") {
    const auto m = describe_writer(converter_file(catalog::mamba2_2_7b::entry, false));
    REQUIRE(m.ok());
    const auto& hp = m->hparams;
    CHECK(hp.ssm_d_conv == 4);
    CHECK(hp.ssm_d_inner == 5120);
    CHECK(hp.ssm_d_state == 128);
    CHECK(hp.ssm_n_group == 1);
    CHECK(hp.ssm_n_head == 80);
    CHECK(hp.layers[10].recurrent);
    CHECK(hp.layers[10].n_head_kv == 0);
    CHECK(hp.tied_embeddings);
}

TEST_CASE("deepseek2 full size (DeepSeek-V3/R1): q LoRA is required and read") {
    const auto m = describe_writer(converter_file(catalog::deepseek_v3::entry, false));
    REQUIRE(m.ok());
    CHECK(m->hparams.n_lora_q == 1536);
    CHECK(m->hparams.n_layer_dense_lead == 3);
    CHECK(m->hparams.n_ff_shexp == 2048);
    auto w = converter_file(catalog::deepseek_v3::entry, false);
    w.remove("deepseek2.attention.q_lora_rank");
    const auto missing = describe_writer(w);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.err().message().find("deepseek2.attention.q_lora_rank") != std::string_view::npos);
}

TEST_CASE("deepseek2 without the *_mla keys (older files): plain attention, not MLA") {
    auto w = converter_file(catalog::deepseek_v2_lite::entry, false);
    w.remove("deepseek2.attention.key_length_mla");
    w.remove("deepseek2.attention.value_length_mla");
    const auto m = describe_writer(w);
    REQUIRE(m.ok());
    CHECK(m->hparams.n_embd_head_k_mla == 0);
    CHECK(m->hparams.n_embd_head_v_mla == 0);
}

TEST_CASE("lfm2 (hybrid): layers without KV heads are short-conv (recurrent) layers") {
    const auto m = describe_writer(converter_file(catalog::lfm2_1_2b::entry, false));
    REQUIRE(m.ok());
    const auto& hp = m->hparams;
    std::uint32_t recurrent = 0;
    for (const auto& layer : hp.layers) recurrent += layer.recurrent ? 1 : 0;
    CHECK(recurrent == 10);
    CHECK_FALSE(hp.layers[2].recurrent);
    CHECK(hp.layers[2].n_head_kv == 8);
    CHECK(hp.layers[0].recurrent);
    CHECK(hp.layers[0].n_ff == 8192);
    CHECK(hp.ssm_d_conv == 3);
    CHECK(hp.swa_type == swa_kind::none);
    CHECK(hp.tied_embeddings);
    SUBCASE("a window applies to the attention layers only") {
        auto windowed = converter_file(catalog::lfm2_1_2b::entry, false);
        windowed.set("lfm2.attention.sliding_window", std::uint32_t{512});
        const auto s = describe_writer(windowed);
        REQUIRE(s.ok());
        CHECK(count_swa(s->hparams) == 6);
        CHECK(s->hparams.layers[2].swa);
        CHECK_FALSE(s->hparams.layers[0].swa);
    }
}

TEST_CASE("Mixtral: llama with experts uses feed_forward_length as the expert width") {
    const auto m = describe_writer(converter_file(catalog::mixtral_8x7b::entry, false));
    REQUIRE(m.ok());
    CHECK(m->hparams.n_expert == 8);
    CHECK(m->hparams.n_expert_used == 2);
    CHECK(m->hparams.n_ff_exp == 14336);
    CHECK(m->hparams.layers[0].n_ff == 0);
}

TEST_CASE("missing required keys are errors naming the key") {
    struct removal {
        const catalog::model_entry* entry;
        std::string_view key;
    };
    const removal cases[] = {
        {&catalog::llama_3_1_8b::entry, "llama.context_length"},
        {&catalog::llama_3_1_8b::entry, "llama.embedding_length"},
        {&catalog::llama_3_1_8b::entry, "llama.attention.head_count"},
        {&catalog::gpt_oss_20b::entry, "gpt-oss.attention.sliding_window"},
        {&catalog::gpt_oss_20b::entry, "gpt-oss.expert_feed_forward_length"},
        {&catalog::qwen3_30b_a3b::entry, "qwen3moe.expert_feed_forward_length"},
        {&catalog::deepseek_v2_lite::entry, "deepseek2.attention.kv_lora_rank"},
        {&catalog::deepseek_v2_lite::entry, "deepseek2.expert_shared_count"},
        {&catalog::mamba2_2_7b::entry, "mamba2.ssm.state_size"},
        {&catalog::mamba2_2_7b::entry, "mamba2.ssm.group_count"},
        {&catalog::lfm2_1_2b::entry, "lfm2.shortconv.l_cache"},
        {&catalog::llama_4_scout::entry, "llama4.interleave_moe_layer_step"},
        {&catalog::llama_4_scout::entry, "llama4.expert_feed_forward_length"},
        {&catalog::pythia_1_4b::entry, "gptneox.use_parallel_residual"},
        {&catalog::command_r_v01::entry, "command-r.logit_scale"},
    };
    for (const auto& c : cases) {
        CAPTURE(std::string{c.key});
        auto w = converter_file(*c.entry, false);
        REQUIRE(w.has(c.key));
        w.remove(c.key);
        const auto m = describe_writer(w);
        REQUIRE_FALSE(m.ok());
        CHECK(m.err().code() == errc::missing_key);
        CHECK(m.err().message().find(c.key) != std::string_view::npos);
    }
    SUBCASE("no vocabulary at all") {
        auto w = converter_file(catalog::llama_3_1_8b::entry, false);
        w.remove("llama.vocab_size");
        const auto m = describe_writer(w);
        REQUIRE_FALSE(m.ok());
        CHECK(m.err().code() == errc::missing_key);
    }
    SUBCASE("no general.architecture") {
        auto w = converter_file(catalog::llama_3_1_8b::entry, false);
        w.remove("general.architecture");
        const auto m = describe_writer(w);
        REQUIRE_FALSE(m.ok());
        CHECK(m.err().message().find("general.architecture") != std::string_view::npos);
    }
}

TEST_CASE("an unsupported architecture is an error listing the supported ones") {
    for (const std::string_view name : {std::string_view{"bert"}, std::string_view{"jamba"}, std::string_view{""}}) {
        auto w = converter_file(catalog::llama_3_1_8b::entry, false);
        w.set("general.architecture", name);
        const auto m = describe_writer(w);
        REQUIRE_FALSE(m.ok());
        CHECK(m.err().code() == errc::unsupported_architecture);
        const auto text = m.err().message();
        CHECK(text.find("supported: llama, qwen2, qwen3, qwen3moe, gemma2, gemma3, phi3, deepseek2, gpt-oss, mamba2, lfm2") !=
              std::string_view::npos);
    }
}

TEST_CASE("impossible values are errors, not crashes") {
    SUBCASE("block_count above LLAMA_MAX_LAYERS") {
        auto w = converter_file(catalog::llama_3_2_1b::entry, false);
        w.set("llama.block_count", std::uint32_t{100000});
        const auto m = describe_writer(w);
        REQUIRE_FALSE(m.ok());
        CHECK(m.err().message().find("llama.block_count") != std::string_view::npos);
    }
    SUBCASE("more experts used than exist") {
        auto w = converter_file(catalog::mixtral_8x7b::entry, false);
        w.set("llama.expert_used_count", std::uint32_t{9});
        CHECK_FALSE(describe_writer(w).ok());
    }
    SUBCASE("a value that does not fit 32 bits") {
        auto w = converter_file(catalog::llama_3_2_1b::entry, false);
        w.set("llama.embedding_length", std::uint64_t{1} << 40);
        CHECK_FALSE(describe_writer(w).ok());
    }
    SUBCASE("head widths that would wrap 32 bits") {
        auto w = converter_file(catalog::llama_3_2_1b::entry, false);
        w.set("llama.attention.key_length", std::uint32_t{1} << 30);
        w.set("llama.rope.dimension_count", std::uint32_t{1} << 30);
        const auto m = describe_writer(w);
        REQUIRE_FALSE(m.ok());
        CHECK(m.err().message().find("llama.attention.head_count") != std::string_view::npos);
    }
    SUBCASE("absurd sizes in a layout are errors, not allocations") {
        auto w = converter_file(catalog::llama_3_2_1b::entry, false);
        w.set("llama.vocab_size", std::uint32_t{0xffffffff});
        w.set("llama.embedding_length", std::uint32_t{0xffffffff});
        w.set("llama.attention.key_length", std::uint32_t{64});
        const auto m = describe_writer(w);
        REQUIRE(m.ok());  // the metadata alone is consistent
        const auto layout = tensor_layout(m->hparams);
        REQUIRE_FALSE(layout.ok());
        CHECK(layout.err().code() == errc::limit_exceeded);
        CHECK(layout.err().message().find("token_embd.weight") != std::string_view::npos);
    }
    SUBCASE("llama with rope dims different from the head size") {
        auto w = converter_file(catalog::llama_3_2_1b::entry, false);
        w.set("llama.rope.dimension_count", std::uint32_t{32});
        const auto m = describe_writer(w);
        REQUIRE_FALSE(m.ok());
        CHECK(m.err().message().find("llama.rope.dimension_count") != std::string_view::npos);
    }
}

TEST_CASE("tensor shapes are checked against the engine's layout, naming the tensor") {
    for (const auto& entry : catalog::models) {
        CAPTURE(std::string{entry.key});
        if (!llama_cpp::architecture_of(entry.config)) continue;  // OPT, GPT-2: refused (test_catalog.cpp)
        const auto m = describe_writer(converter_file(entry));
        REQUIRE(m.ok());
        const auto checked = check_tensor_shapes(*m);
        CHECK_MESSAGE(checked.ok(), checked.err().describe());
    }
    SUBCASE("a wrong shape") {
        auto w = converter_file(catalog::llama_3_2_1b::entry, false);
        const auto layout = llama_cpp::describe_f16(catalog::llama_3_2_1b::entry);
        for (const auto& t : layout->tensors) {
            std::vector<std::int64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
            if (t.name == std::string_view{"blk.7.attn_k.weight"}) ne[1] = 256;
            w.add_tensor(t.name.view(), ne, t.type);
        }
        const auto m = describe_writer(w);
        REQUIRE(m.ok());
        const auto checked = check_tensor_shapes(*m);
        REQUIRE_FALSE(checked.ok());
        CHECK(checked.err().message() == "tensor 'blk.7.attn_k.weight' has wrong shape; expected [2048, 512, 1, 1], got [2048, 256, 1, 1]");
    }
    SUBCASE("a missing tensor") {
        auto w = converter_file(catalog::qwen2_5_7b::entry, false);
        const auto layout = llama_cpp::describe_f16(catalog::qwen2_5_7b::entry);
        for (const auto& t : layout->tensors) {
            if (t.name == std::string_view{"blk.3.attn_v.bias"}) continue;
            w.add_tensor(t.name.view(), std::vector<std::int64_t>(t.ne.begin(), t.ne.begin() + t.n_dims), t.type);
        }
        const auto m = describe_writer(w);
        REQUIRE(m.ok());
        const auto checked = check_tensor_shapes(*m);
        REQUIRE_FALSE(checked.ok());
        CHECK(checked.err().message().find("missing tensor 'blk.3.attn_v.bias'") != std::string_view::npos);
    }
}

TEST_CASE("load_model_description reads a sparse file from disk") {
    const auto dir = std::filesystem::temp_directory_path() / "vramfit_test_model";
    std::filesystem::create_directories(dir);
    const auto path = dir / "qwen2.5-7b-f16.gguf";
    const auto w = converter_file(catalog::qwen2_5_7b::entry);
    REQUIRE(w.write_sparse(path).ok());
    const auto m = load_model_description(path);
    REQUIRE_MESSAGE(m.ok(), m.err().describe());
    CHECK(m->hparams.arch == architecture::qwen2);
    CHECK(m->tensors.size() == 339);
    CHECK(m->files.size() == 1);
    CHECK(m->files[0].file_size == std::filesystem::file_size(path));
    CHECK(m->parameter_count() == 7615616512ULL);
    std::filesystem::remove_all(dir);

    const auto missing = load_model_description(dir / "does-not-exist.gguf");
    CHECK_FALSE(missing.ok());
}

TEST_CASE("load_model_description reads a split model from any part") {
    const auto dir = std::filesystem::temp_directory_path() / "vramfit_test_model_split";
    std::filesystem::create_directories(dir);
    const auto w = converter_file(catalog::gemma_3_12b::entry);
    const auto paths = w.write_sparse_split(dir / "gemma-3-12b", 3);
    REQUIRE(paths.ok());
    REQUIRE(paths->size() == 3);
    const auto m = load_model_description((*paths)[1]);
    REQUIRE_MESSAGE(m.ok(), m.err().describe());
    CHECK(m->files.size() == 3);
    CHECK(m->tensors.size() == 626);
    CHECK(m->hparams.arch == architecture::gemma3);
    CHECK(m->parameter_count() == 11766034176ULL);
    CHECK(m->tensors.back().file_index == 2);
    std::uint32_t swa = 0;
    for (const auto& layer : m->hparams.layers) swa += layer.swa ? 1 : 0;
    CHECK(swa == 40);
    CHECK(check_tensor_shapes(*m).ok());
    std::filesystem::remove_all(dir);
}
