#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "vramfit/engines/llama_cpp/quantize.hpp"

using namespace vramfit;

namespace {

// ---------------------------------------------------------------- small constexpr models

struct toy_spec {
    architecture arch = architecture::llama;
    std::uint32_t n_layer = 8;
    std::uint32_t n_head = 32;
    std::uint32_t n_head_kv = 8;
    std::uint32_t n_expert = 0;
    bool tied = false;
    bool fused_qkv = false;     // phi3: attn_qkv instead of attn_q/k/v
    bool mla = false;           // deepseek2: attn_kv_a_mqa, attn_k_b, attn_v_b
    std::int64_t n_embd = 256;
    std::int64_t n_ff = 512;
    std::int64_t n_vocab = 1000;
};

constexpr tensor_info make_tensor(std::string_view name, std::int64_t ne0, std::int64_t ne1 = 1, std::int64_t ne2 = 1,
                                  std::int32_t layer = -1) {
    tensor_info t;
    t.name = name;
    t.ne = {ne0, ne1, ne2, 1};
    t.n_dims = ne2 > 1 ? 3 : ne1 > 1 ? 2 : 1;
    // convert_hf_to_gguf's rule: 1-D, norms, biases and routers stay f32, the rest f16.
    const bool f32 = t.n_dims == 1 || name.ends_with("_norm.weight") || !name.ends_with(".weight") ||
                     name.find("ffn_gate_inp") != std::string_view::npos;
    t.type = f32 ? ggml_type::f32 : ggml_type::f16;
    t.layer = layer;
    return t;
}

constexpr model_description make_toy(const toy_spec& s) {
    model_description m;
    m.name = "toy";
    m.hparams.arch = s.arch;
    m.hparams.n_layer = s.n_layer;
    m.hparams.n_embd = static_cast<std::uint32_t>(s.n_embd);
    m.hparams.n_vocab = static_cast<std::uint32_t>(s.n_vocab);
    m.hparams.n_expert = s.n_expert;
    m.hparams.n_expert_used = s.n_expert == 0 ? 0 : 2;
    m.hparams.tied_embeddings = s.tied;
    for (std::uint32_t il = 0; il < s.n_layer; ++il) {
        m.hparams.layers.push_back(layer_params{s.n_head, s.n_head_kv, static_cast<std::uint32_t>(s.n_ff), false, false});
    }
    const std::int64_t e = s.n_embd;
    m.tensors.push_back(make_tensor("token_embd.weight", e, s.n_vocab));
    m.tensors.push_back(make_tensor("output_norm.weight", e));
    if (!s.tied) m.tensors.push_back(make_tensor("output.weight", e, s.n_vocab));
    for (std::uint32_t il = 0; il < s.n_layer; ++il) {
        const auto layer = static_cast<std::int32_t>(il);
        auto named = [il](std::string_view suffix) {
            tensor_name n{"blk."};
            n.append_number(il);
            n.append(".");
            n.append(suffix);
            return n;
        };
        auto add = [&](std::string_view suffix, std::int64_t ne0, std::int64_t ne1 = 1, std::int64_t ne2 = 1) {
            m.tensors.push_back(make_tensor(named(suffix).view(), ne0, ne1, ne2, layer));
        };
        add("attn_norm.weight", e);
        if (s.fused_qkv) {
            add("attn_qkv.weight", e, 3 * e);
        } else if (s.mla) {
            add("attn_q.weight", e, 16 * 192);
            add("attn_kv_a_mqa.weight", e, 512 + 64);
            add("attn_kv_a_norm.weight", 512);
            add("attn_k_b.weight", 128, 512, 16);
            add("attn_v_b.weight", 512, 128, 16);
        } else {
            add("attn_q.weight", e, e);
            add("attn_k.weight", e, e / 4);
            add("attn_v.weight", e, e / 4);
        }
        add("attn_output.weight", e, e);
        add("ffn_norm.weight", e);
        if (s.n_expert > 0) {
            add("ffn_gate_inp.weight", e, s.n_expert);
            add("ffn_gate_exps.weight", e, s.n_ff, s.n_expert);
            add("ffn_down_exps.weight", s.n_ff, e, s.n_expert);
            add("ffn_up_exps.weight", e, s.n_ff, s.n_expert);
        } else {
            add("ffn_gate.weight", e, s.n_ff);
            add("ffn_down.weight", s.n_ff, e);
            add("ffn_up.weight", e, s.n_ff);
        }
    }
    return m;
}

constexpr ggml_type type_after(const toy_spec& spec, llama_ftype ftype, std::string_view tensor,
                               const quantize_options& options = {}) {
    auto m = make_toy(spec);
    auto done = quantize(m, ftype, options);
    if (!done) return ggml_type::i64;  // a sentinel no rule produces
    for (const auto& t : m.tensors) {
        if (t.name == tensor) return t.type;
    }
    return ggml_type::i8;  // another sentinel: tensor missing
}

constexpr errc error_of(const toy_spec& spec, llama_ftype ftype, const quantize_options& options = {}) {
    auto m = make_toy(spec);
    auto done = quantize(m, ftype, options);
    return done ? errc::none : done.err().code();
}

constexpr toy_spec llama_like{};
constexpr toy_spec tied_like{.tied = true};
constexpr toy_spec phi3_like{.arch = architecture::phi3, .n_head = 32, .n_head_kv = 32, .fused_qkv = true};
constexpr toy_spec deepseek2_like{.arch = architecture::deepseek2, .n_layer = 4, .n_head = 16, .n_head_kv = 1,
                                  .n_expert = 64, .mla = true};
constexpr toy_spec mixtral_like{.n_layer = 4, .n_expert = 8};
constexpr toy_spec moe_like{.arch = architecture::qwen3moe, .n_layer = 8, .n_expert = 16};

using F = llama_ftype;
using T = ggml_type;

// Names, ids and base types.
static_assert(static_cast<std::uint32_t>(F::mostly_q4_K_M) == 15 && static_cast<std::uint32_t>(F::mostly_bf16) == 32);
static_assert(static_cast<std::uint32_t>(F::mostly_mxfp4_moe) == 38 && static_cast<std::uint32_t>(F::mostly_q8_0) == 7);
static_assert(ftype_name(F::mostly_q4_K_M) == "Q4_K_M" && ftype_name(F::mostly_mxfp4_moe) == "MXFP4_MOE");
static_assert(ftype_from_name("q4_k_m") == F::mostly_q4_K_M && ftype_from_name("Q4_K") == F::mostly_q4_K_M);
static_assert(ftype_from_name("bf16") == F::mostly_bf16 && !ftype_from_name("Q4_2").has_value());
static_assert(ftype_default_type(F::mostly_q4_K_M) == T::q4_K && ftype_default_type(F::mostly_iq2_m) == T::iq2_s);
static_assert(ftype_default_type(F::mostly_mxfp4_moe) == T::mxfp4 && ftype_default_type(F::mostly_iq3_xs) == T::iq3_s);
static_assert(quant::Q4_K_M::value == F::mostly_q4_K_M && quant::Q4_K_M::name == ftype_name(quant::Q4_K_M::value));

// Q4_K_M on 8 layers: use_more_bits picks layers 0, 3, 6 and 7 for q6_K (attn_v, ffn_down).
static_assert(type_after(llama_like, F::mostly_q4_K_M, "blk.0.attn_v.weight") == T::q6_K);
static_assert(type_after(llama_like, F::mostly_q4_K_M, "blk.1.attn_v.weight") == T::q4_K);
static_assert(type_after(llama_like, F::mostly_q4_K_M, "blk.3.attn_v.weight") == T::q6_K);
static_assert(type_after(llama_like, F::mostly_q4_K_M, "blk.7.ffn_down.weight") == T::q6_K);
static_assert(type_after(llama_like, F::mostly_q4_K_M, "blk.2.ffn_down.weight") == T::q4_K);
static_assert(type_after(llama_like, F::mostly_q4_K_M, "output.weight") == T::q6_K);
static_assert(type_after(llama_like, F::mostly_q4_K_M, "token_embd.weight") == T::q4_K);
static_assert(type_after(llama_like, F::mostly_q4_K_M, "blk.0.attn_norm.weight") == T::f32);
// Tied embeddings: token_embd is also the output matrix and takes its rule.
static_assert(type_after(tied_like, F::mostly_q4_K_M, "token_embd.weight") == T::q6_K);
// Phi-3's fused attn_qkv counts as attn_v.
static_assert(type_after(phi3_like, F::mostly_q4_K_M, "blk.0.attn_qkv.weight") == T::q6_K);
static_assert(type_after(phi3_like, F::mostly_q4_K_M, "blk.1.attn_qkv.weight") == T::q4_K);
// DeepSeek-V2 MLA: attn_k_b rows of 128 cannot hold q4_K blocks (256) -> q5_0.
static_assert(type_after(deepseek2_like, F::mostly_q4_K_M, "blk.1.attn_k_b.weight") == T::q5_0);
static_assert(type_after(deepseek2_like, F::mostly_q4_K_M, "blk.1.attn_v_b.weight") == T::q4_K);
static_assert(type_after(deepseek2_like, F::mostly_q4_K_M, "blk.1.ffn_gate_inp.weight") == T::f32);
// 8 experts (Mixtral): attn_v and attn_k to q8_0, attn_output to q5_K.
static_assert(type_after(mixtral_like, F::mostly_q4_K_M, "blk.2.attn_k.weight") == T::q8_0);
static_assert(type_after(mixtral_like, F::mostly_q4_K_M, "blk.2.attn_v.weight") == T::q8_0);
static_assert(type_after(mixtral_like, F::mostly_q4_K_M, "blk.2.attn_output.weight") == T::q5_K);
// MXFP4_MOE: stacked experts mxfp4, the rest q8_0.
static_assert(type_after(moe_like, F::mostly_mxfp4_moe, "blk.0.ffn_up_exps.weight") == T::mxfp4);
static_assert(type_after(moe_like, F::mostly_mxfp4_moe, "blk.0.attn_q.weight") == T::q8_0);
static_assert(type_after(moe_like, F::mostly_mxfp4_moe, "output.weight") == T::q8_0);
// F16 / BF16: every quantizable tensor takes the base type, norms stay f32.
static_assert(type_after(llama_like, F::mostly_bf16, "blk.0.ffn_up.weight") == T::bf16);
static_assert(type_after(llama_like, F::mostly_bf16, "blk.0.ffn_norm.weight") == T::f32);
// Options: --pure, --output-tensor-type, --leave-output-tensor.
static_assert(type_after(llama_like, F::mostly_q4_K_M, "blk.0.attn_v.weight", {.pure = true}) == T::q4_K);
static_assert(type_after(llama_like, F::mostly_q4_K_M, "output.weight", {.output_tensor_type = T::q8_0}) == T::q8_0);
static_assert(type_after(llama_like, F::mostly_q4_K_M, "output.weight", {.quantize_output_tensor = false}) == T::f16);
// IQ4_XS: the first eighth of ffn_down gets q5_K without an imatrix, keeps iq4_xs with one.
static_assert(type_after(llama_like, F::mostly_iq4_xs, "blk.0.ffn_down.weight") == T::q5_K);
static_assert(type_after(llama_like, F::mostly_iq4_xs, "blk.0.ffn_down.weight", {.has_imatrix = true}) == T::iq4_xs);
// Errors: unknown ftype, very low-bit types without an imatrix.
static_assert(error_of(llama_like, static_cast<F>(5)) == errc::invalid_argument);
static_assert(error_of(llama_like, F::mostly_iq2_xxs) == errc::invalid_argument);
static_assert(error_of(llama_like, F::mostly_iq2_xxs, {.has_imatrix = true}) == errc::none);
static_assert(error_of(llama_like, F::mostly_q4_0) == errc::none);

// Which tensors are quantized at all, and the role each name plays.
constexpr std::array<std::int64_t, 4> matrix{256, 256, 1, 1};
constexpr std::array<std::int64_t, 4> vector_1d{256, 1, 1, 1};
static_assert(detail::tensor_allows_quantization("blk.0.ffn_up.weight", matrix, {}));
static_assert(!detail::tensor_allows_quantization("blk.0.ffn_up.weight", vector_1d, {}), "1-D never");
static_assert(!detail::tensor_allows_quantization("blk.0.attn_k_norm.weight", matrix, {}));
static_assert(!detail::tensor_allows_quantization("blk.0.ffn_gate_inp.weight", matrix, {}));
static_assert(!detail::tensor_allows_quantization("blk.0.ssm_conv1d.weight", matrix, {}));
static_assert(!detail::tensor_allows_quantization("blk.0.ffn_down_exps.bias", matrix, {}), "not a weight");
static_assert(!detail::tensor_allows_quantization("output.weight", matrix, {.quantize_output_tensor = false}));
static_assert(detail::tensor_allows_quantization("abcde", matrix, {}), "the engine's size()-6 wrap-around");
static_assert(detail::quant_category_of("per_layer_token_embd.weight") == detail::quant_category::token_embd);
static_assert(detail::quant_category_of("blk.3.ffn_down_shexp.weight") == detail::quant_category::ffn_down);
static_assert(detail::quant_category_of("blk.3.attn_kv_b.weight") == detail::quant_category::attention_kv_b);
static_assert(detail::quant_category_of("blk.3.attn_k_b.weight") == detail::quant_category::other);
static_assert(detail::scan_block_index("blk.17.attn_q.weight") == 17 && !detail::scan_block_index("output.weight"));

TEST_CASE("the constexpr vectors hold at run time") {
    auto run = [](const toy_spec& s, llama_ftype f, std::string_view n, const quantize_options& o = {}) {
        return type_after(s, f, n, o);
    };
    CHECK(run(llama_like, F::mostly_q4_K_M, "blk.0.attn_v.weight") == T::q6_K);
    CHECK(run(llama_like, F::mostly_q4_K_M, "blk.1.attn_v.weight") == T::q4_K);
    CHECK(run(llama_like, F::mostly_q4_K_M, "blk.3.attn_v.weight") == T::q6_K);
    CHECK(run(llama_like, F::mostly_q4_K_M, "blk.7.ffn_down.weight") == T::q6_K);
    CHECK(run(llama_like, F::mostly_q4_K_M, "blk.2.ffn_down.weight") == T::q4_K);
    CHECK(run(llama_like, F::mostly_q4_K_M, "output.weight") == T::q6_K);
    CHECK(run(llama_like, F::mostly_q4_K_M, "token_embd.weight") == T::q4_K);
    CHECK(run(tied_like, F::mostly_q4_K_M, "token_embd.weight") == T::q6_K);
    CHECK(run(phi3_like, F::mostly_q4_K_M, "blk.0.attn_qkv.weight") == T::q6_K);
    CHECK(run(phi3_like, F::mostly_q4_K_M, "blk.1.attn_qkv.weight") == T::q4_K);
    CHECK(run(deepseek2_like, F::mostly_q4_K_M, "blk.1.attn_k_b.weight") == T::q5_0);
    CHECK(run(deepseek2_like, F::mostly_q4_K_M, "blk.1.attn_v_b.weight") == T::q4_K);
    CHECK(run(mixtral_like, F::mostly_q4_K_M, "blk.2.attn_k.weight") == T::q8_0);
    CHECK(run(mixtral_like, F::mostly_q4_K_M, "blk.2.attn_output.weight") == T::q5_K);
    CHECK(run(moe_like, F::mostly_mxfp4_moe, "blk.0.ffn_up_exps.weight") == T::mxfp4);
    CHECK(run(moe_like, F::mostly_mxfp4_moe, "blk.0.attn_q.weight") == T::q8_0);
    CHECK(run(llama_like, F::mostly_bf16, "blk.0.ffn_up.weight") == T::bf16);
    CHECK(run(llama_like, F::mostly_q4_K_M, "blk.0.attn_v.weight", {.pure = true}) == T::q4_K);
    CHECK(run(llama_like, F::mostly_iq4_xs, "blk.0.ffn_down.weight") == T::q5_K);
    CHECK(run(llama_like, F::mostly_iq4_xs, "blk.0.ffn_down.weight", {.has_imatrix = true}) == T::iq4_xs);
    const quantize_options defaults{};
    CHECK(detail::tensor_allows_quantization("blk.0.ffn_up.weight", matrix, defaults));
    CHECK_FALSE(detail::tensor_allows_quantization("blk.0.ffn_gate_inp.weight", matrix, defaults));
    CHECK_FALSE(detail::tensor_allows_quantization("blk.0.ffn_up.weight", vector_1d, defaults));
    CHECK(detail::quant_category_of("blk.3.ffn_down_shexp.weight") == detail::quant_category::ffn_down);
    CHECK(detail::scan_block_index("blk.17.attn_q.weight") == 17);
    CHECK(ftype_from_name("q4_k_m") == F::mostly_q4_K_M);
    CHECK(ftype_name(F::mostly_q8_0) == "Q8_0");
}

TEST_CASE("every named ftype round-trips, and the tags agree with the names") {
    for (std::uint32_t id = 0; id < 64; ++id) {
        const auto ftype = static_cast<F>(id);
        if (!is_known_ftype(ftype)) {
            CHECK(ftype_name(ftype) == "unknown");
            continue;
        }
        CHECK(ftype_from_name(ftype_name(ftype)) == ftype);
    }
    CHECK(quant::MXFP4_MOE::name == ftype_name(quant::MXFP4_MOE::value));
    CHECK(quant::IQ4_XS::name == ftype_name(quant::IQ4_XS::value));
    CHECK(quant::Q5_K_S::name == ftype_name(quant::Q5_K_S::value));
}

TEST_CASE("bad input gives a clear error and leaves the model alone") {
    SUBCASE("an ftype the engine does not know") {
        auto m = make_toy(llama_like);
        auto done = quantize(m, static_cast<F>(1000));
        REQUIRE_FALSE(done.ok());
        CHECK(done.err().message() == "quantize: invalid output file type 1000");
    }
    SUBCASE("IQ2_XXS needs an importance matrix") {
        auto m = make_toy(llama_like);
        const auto before = m.tensors.front().type;
        auto done = quantize(m, F::mostly_iq2_xxs);
        REQUIRE_FALSE(done.ok());
        CHECK(done.err().message().find("importance matrix") != std::string_view::npos);
        CHECK(m.tensors.front().type == before);
    }
    SUBCASE("a row length with no fallback type") {
        auto m = make_toy(llama_like);
        m.tensors.push_back(make_tensor("blk.0.odd.weight", 100, 64, 1, 0));
        auto done = quantize(m, F::mostly_q8_0);
        REQUIRE_FALSE(done.ok());
        CHECK(done.err().message().find("'blk.0.odd.weight'") != std::string_view::npos);
        CHECK(done.err().message().find("no fallback") != std::string_view::npos);
    }
    SUBCASE("an expert tensor outside the model's layers") {
        auto m = make_toy(moe_like);
        m.tensors.push_back(make_tensor("blk.99.ffn_down_exps.weight", 512, 256, 16, 99));
        auto done = quantize(m, F::mostly_q4_K_M);
        REQUIRE_FALSE(done.ok());
        CHECK(done.err().message().find("blk.99.ffn_down_exps.weight") != std::string_view::npos);
    }
    SUBCASE("types that are not live ggml types") {
        auto m = make_toy(tied_like);
        auto removed = quantize(m, F::mostly_q4_K_M, {.output_tensor_type = static_cast<T>(4)});
        REQUIRE_FALSE(removed.ok());
        CHECK(removed.err().code() == errc::invalid_argument);
        m.tensors.front().type = static_cast<T>(99);
        auto unknown = quantize(m, F::mostly_q4_K_M);
        REQUIRE_FALSE(unknown.ok());
        CHECK(unknown.err().code() == errc::unknown_type);
        CHECK(unknown.err().message().find("token_embd.weight") != std::string_view::npos);
    }
    SUBCASE("an empty model, and a MoE model without layers") {
        model_description empty;
        CHECK(quantize(empty, F::mostly_q4_K_M).ok());
        auto m = make_toy(moe_like);
        m.hparams.n_layer = 0;
        m.hparams.layers.clear();
        auto done = quantize(m, F::mostly_q4_K_M);
        REQUIRE_FALSE(done.ok());
        CHECK(done.err().message().find("block count 0") != std::string_view::npos);
    }
    SUBCASE("duplicate names") {
        auto m = make_toy(llama_like);
        m.tensors.push_back(m.tensors.back());
        auto done = quantize(m, F::mostly_q4_K_M);
        REQUIRE_FALSE(done.ok());
        CHECK(done.err().message().find("duplicated") != std::string_view::npos);
    }
    SUBCASE("requantizing needs allow_requantize") {
        auto m = make_toy(moe_like);
        for (auto& t : m.tensors) {
            if (t.name.view().find("_exps") != std::string_view::npos) t.type = T::mxfp4;
        }
        auto copy = m;
        auto refused = quantize(m, F::mostly_q4_K_M);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.err().message().find("allow_requantize") != std::string_view::npos);
        CHECK(quantize(copy, F::mostly_q4_K_M, {.allow_requantize = true}).ok());
        auto same = make_toy(moe_like);
        for (auto& t : same.tensors) {
            if (t.name.view().find("_exps") != std::string_view::npos) t.type = T::mxfp4;
        }
        CHECK(quantize(same, F::mostly_mxfp4_moe).ok());  // already mxfp4: nothing to convert
    }
}

TEST_CASE("the output is in the quantizer's order and laid out as one file") {
    auto m = make_toy(toy_spec{.n_layer = 12});
    std::reverse(m.tensors.begin(), m.tensors.end());
    REQUIRE(quantize(m, F::mostly_q8_0).ok());
    CHECK(m.tensors[0].name.view() == "output.weight");
    CHECK(m.tensors[1].name.view() == "output_norm.weight");
    CHECK(m.tensors[2].name.view() == "token_embd.weight");
    CHECK(m.tensors[3].name.view() == "blk.0.attn_k.weight");
    // blk.2 comes before blk.10 (by layer number, not by text).
    std::size_t at_2 = 0, at_10 = 0;
    for (std::size_t i = 0; i < m.tensors.size(); ++i) {
        if (m.tensors[i].name.view() == "blk.2.attn_k.weight") at_2 = i;
        if (m.tensors[i].name.view() == "blk.10.attn_k.weight") at_10 = i;
    }
    CHECK(at_2 < at_10);
    REQUIRE(m.files.size() == 1);
    for (std::size_t i = 1; i < m.tensors.size(); ++i) {
        CHECK(m.tensors[i].offset == pad_to(bytes{m.tensors[i - 1].offset + m.tensors[i - 1].size().count()}, 32).count());
    }
}

// ---------------------------------------------------------------- the engine's own choices

// The models of tests/data/quant_tensor_types.csv. Hyper-parameters the rules read (n_layer,
// n_head / n_head_kv of layer 0, n_expert, architecture) from the model table of the oracle
// README (published config.json values).
struct oracle_model {
    std::string_view key;
    architecture arch;
    std::uint32_t n_layer, n_head, n_head_kv, n_expert;
};
constexpr oracle_model oracle_models[] = {
    {"llama-3.1-8b", architecture::llama, 32, 32, 8, 0},
    {"llama-3.2-1b", architecture::llama, 16, 32, 8, 0},
    {"qwen2.5-7b", architecture::qwen2, 28, 28, 4, 0},
    {"gemma-3-12b", architecture::gemma3, 48, 16, 8, 0},
    {"qwen3-30b-a3b", architecture::qwen3moe, 48, 32, 4, 128},
    {"mixtral-8x7b", architecture::llama, 32, 32, 8, 8},
    {"gpt-oss-20b", architecture::gpt_oss, 24, 64, 8, 32},
};

struct oracle_row {
    std::string tensor;
    std::array<std::int64_t, 4> ne{1, 1, 1, 1};
    std::string type_in;
    std::string type_out;
};

std::vector<std::string> split(const std::string& line, char sep) {
    std::vector<std::string> parts;
    std::stringstream stream(line);
    std::string part;
    while (std::getline(stream, part, sep)) parts.push_back(part);
    return parts;
}

using oracle_key = std::pair<std::string, std::string>;  // (model_key, ftype)

struct oracle_data {
    std::map<oracle_key, std::vector<oracle_row>> groups;
    std::vector<oracle_key> order;  // groups in file order
};

const oracle_data& load_oracle() {
    static const oracle_data data = [] {
        oracle_data loaded;
        std::ifstream in(VRAMFIT_TEST_DATA "/quant_tensor_types.csv");
        REQUIRE(in.good());
        std::string line;
        std::getline(in, line);
        REQUIRE(line == "model_key,ftype,tensor,ne,type_in,type_out");
        while (std::getline(in, line)) {
            const auto cells = split(line, ',');
            REQUIRE(cells.size() == 6);
            oracle_row row;
            row.tensor = cells[2];
            const auto dims = split(cells[3], 'x');
            REQUIRE(dims.size() == 4);
            for (std::size_t d = 0; d < 4; ++d) row.ne[d] = std::stoll(dims[d]);
            row.type_in = cells[4];
            row.type_out = cells[5];
            oracle_key key{cells[0], cells[1]};
            if (!loaded.groups.count(key)) loaded.order.push_back(key);
            loaded.groups[key].push_back(std::move(row));
        }
        return loaded;
    }();
    return data;
}

// A model with the oracle rows' tensors (input types) and the model table's hyper-parameters,
// its tensors fed in reverse so that quantize must restore the quantizer's order itself.
model_description oracle_model_description(const std::string& model_key, const std::vector<oracle_row>& rows) {
    const oracle_model* spec = nullptr;
    for (const auto& m : oracle_models) {
        if (m.key == model_key) spec = &m;
    }
    REQUIRE_MESSAGE(spec != nullptr, model_key);
    model_description model;
    model.name = std::string_view{model_key};
    model.hparams.arch = spec->arch;
    model.hparams.n_layer = spec->n_layer;
    model.hparams.n_expert = spec->n_expert;
    for (std::uint32_t il = 0; il < spec->n_layer; ++il) {
        model.hparams.layers.push_back(layer_params{spec->n_head, spec->n_head_kv, 0, false, false});
    }
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
        tensor_info t;
        t.name = std::string_view{it->tensor};
        t.ne = it->ne;
        t.n_dims = static_cast<std::uint32_t>(detail::ggml_n_dims(t.ne));
        const auto type_in = ggml_type_from_name(it->type_in);
        REQUIRE(type_in.has_value());
        t.type = *type_in;
        t.layer = detail::scan_block_index(it->tensor).value_or(-1);
        model.tensors.push_back(t);
    }
    return model;
}

ggml_type type_of(const model_description& model, std::string_view name) {
    for (const auto& t : model.tensors) {
        if (t.name.view() == name) return t.type;
    }
    FAIL("no tensor " << std::string(name));
    return ggml_type::f32;
}

} // namespace

TEST_CASE("every tensor of every model x ftype gets the type llama-quantize chose") {
    const auto& oracle = load_oracle();
    REQUIRE(oracle.order.size() == 56);  // 7 models x 8 ftypes

    std::map<std::string, std::pair<int, int>> per_ftype;  // ftype -> (matched, total)
    int all_matched = 0, all_total = 0;
    for (const auto& key : oracle.order) {
        const std::string& model_key = key.first;
        const std::string& ftype_text = key.second;
        const auto& rows = oracle.groups.at(key);
        const auto ftype = ftype_from_name(ftype_text);
        REQUIRE_MESSAGE(ftype.has_value(), ftype_text);
        auto model = oracle_model_description(model_key, rows);

        auto done = quantize(model, *ftype);
        REQUIRE_MESSAGE(done.ok(), model_key << " " << ftype_text << ": " << done.err().describe());
        REQUIRE(model.tensors.size() == rows.size());

        int matched = 0;
        std::string mismatches;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto& got = model.tensors[i];
            const bool same = got.name.view() == rows[i].tensor && type_name(got.type) == rows[i].type_out;
            if (same) {
                ++matched;
            } else if (mismatches.size() < 2000) {
                mismatches += "\n  " + rows[i].tensor + ": engine " + rows[i].type_out + ", vramfit " +
                              std::string(got.name.view()) + " " + std::string(type_name(got.type));
            }
        }
        INFO(model_key << " " << ftype_text << mismatches);
        CHECK(matched == static_cast<int>(rows.size()));
        per_ftype[ftype_text].first += matched;
        per_ftype[ftype_text].second += static_cast<int>(rows.size());
        all_matched += matched;
        all_total += static_cast<int>(rows.size());
    }
    std::string summary = "tensor types matched per ftype:";
    for (const auto& [name, counts] : per_ftype) {
        summary += "\n  " + name + ": " + std::to_string(counts.first) + " / " + std::to_string(counts.second);
    }
    summary += "\n  all: " + std::to_string(all_matched) + " / " + std::to_string(all_total);
    MESSAGE(summary);
    CHECK(all_matched == all_total);
}

// Ftypes the oracle did not run, on the oracle's Llama-3.1-8B and gpt-oss tensors: the
// expectations are read off llama_tensor_get_type_impl, not measured.
TEST_CASE("ftypes outside the oracle follow the engine's rules on real shapes") {
    const auto& oracle = load_oracle();
    const auto& llama_rows = oracle.groups.at({"llama-3.1-8b", "Q8_0"});
    auto quantized = [&](llama_ftype ftype) {
        auto model = oracle_model_description("llama-3.1-8b", llama_rows);
        auto done = quantize(model, ftype);
        REQUIRE_MESSAGE(done.ok(), ftype_name(ftype) << ": " << done.err().describe());
        return model;
    };
    SUBCASE("Q4_K_S: the first 4 attn_v and the first eighth of ffn_down get q5_K") {
        const auto m = quantized(F::mostly_q4_K_S);
        CHECK(type_of(m, "blk.3.attn_v.weight") == T::q5_K);
        CHECK(type_of(m, "blk.4.attn_v.weight") == T::q4_K);
        CHECK(type_of(m, "blk.3.ffn_down.weight") == T::q5_K);
        CHECK(type_of(m, "blk.4.ffn_down.weight") == T::q4_K);
        CHECK(type_of(m, "output.weight") == T::q6_K);
        CHECK(type_of(m, "token_embd.weight") == T::q4_K);
    }
    SUBCASE("Q5_K_S: q5_K everywhere but the output") {
        const auto m = quantized(F::mostly_q5_K_S);
        CHECK(type_of(m, "blk.0.attn_v.weight") == T::q5_K);
        CHECK(type_of(m, "blk.31.ffn_down.weight") == T::q5_K);
        CHECK(type_of(m, "output.weight") == T::q6_K);
    }
    SUBCASE("Q3_K_L: attn_v, ffn_down and attn_output to q5_K") {
        const auto m = quantized(F::mostly_q3_K_L);
        CHECK(type_of(m, "blk.10.attn_v.weight") == T::q5_K);
        CHECK(type_of(m, "blk.10.ffn_down.weight") == T::q5_K);
        CHECK(type_of(m, "blk.10.attn_output.weight") == T::q5_K);
        CHECK(type_of(m, "blk.10.attn_q.weight") == T::q3_K);
        CHECK(type_of(m, "output.weight") == T::q6_K);
    }
    SUBCASE("IQ4_NL: like IQ4_XS with iq4_nl") {
        const auto m = quantized(F::mostly_iq4_nl);
        CHECK(type_of(m, "blk.10.attn_v.weight") == T::q5_K);  // n_gqa 4
        CHECK(type_of(m, "blk.3.ffn_down.weight") == T::q5_K);
        CHECK(type_of(m, "blk.4.ffn_down.weight") == T::iq4_nl);
        CHECK(type_of(m, "token_embd.weight") == T::iq4_nl);
        CHECK(type_of(m, "output.weight") == T::q6_K);
    }
    SUBCASE("F16 and BF16: every matrix to the base type, norms stay f32") {
        for (auto ftype : {F::mostly_f16, F::mostly_bf16}) {
            const auto m = quantized(ftype);
            const auto base = ftype_default_type(ftype);
            CHECK(type_of(m, "token_embd.weight") == base);
            CHECK(type_of(m, "output.weight") == base);
            CHECK(type_of(m, "blk.0.attn_v.weight") == base);
            CHECK(type_of(m, "blk.0.attn_norm.weight") == T::f32);
            CHECK(type_of(m, "rope_freqs.weight") == T::f32);
        }
    }
    SUBCASE("MXFP4_MOE on gpt-oss: experts mxfp4, every other matrix q8_0") {
        auto model = oracle_model_description("gpt-oss-20b", oracle.groups.at({"gpt-oss-20b", "Q8_0"}));
        REQUIRE(quantize(model, quant::MXFP4_MOE{}).ok());
        CHECK(type_of(model, "blk.0.ffn_down_exps.weight") == T::mxfp4);
        CHECK(type_of(model, "blk.23.ffn_gate_exps.weight") == T::mxfp4);
        CHECK(type_of(model, "blk.0.ffn_down_exps.bias") == T::f32);
        CHECK(type_of(model, "blk.0.ffn_gate_inp.weight") == T::f32);
        CHECK(type_of(model, "blk.0.attn_sinks.weight") == T::f32);
        CHECK(type_of(model, "blk.0.attn_q.weight") == T::q8_0);
        CHECK(type_of(model, "output.weight") == T::q8_0);
        CHECK(type_of(model, "token_embd.weight") == T::q8_0);
    }
    SUBCASE("the very low-bit ftypes need an importance matrix, and work with one") {
        for (auto ftype : {F::mostly_iq2_xxs, F::mostly_iq2_xs, F::mostly_iq2_s, F::mostly_iq1_s, F::mostly_q2_K_S,
                           F::mostly_iq3_xxs, F::mostly_iq3_xs}) {
            auto model = oracle_model_description("llama-3.1-8b", llama_rows);
            CHECK_FALSE(quantize(model, ftype).ok());
            CHECK(quantize(model, ftype, {.has_imatrix = true}).ok());
        }
        for (auto ftype : {F::mostly_iq3_s, F::mostly_iq3_m, F::mostly_q3_K_S, F::mostly_q4_1, F::mostly_q5_0}) {
            auto model = oracle_model_description("llama-3.1-8b", llama_rows);
            CHECK(quantize(model, ftype).ok());
        }
    }
}

namespace {

// The held-out models, shaped as the oracle's generator (gen_gguf.py) writes their F16 files:
// real tensor names and shapes, converter types. Their quantized types were not given to us;
// the expectations below are read off the engine's rules.
model_description heldout_model(std::string_view key) {
    struct dims {
        architecture arch;
        std::uint32_t n_layer, n_head, n_head_kv;
        std::int64_t n_embd, head_dim, n_ff, n_vocab;
        bool tied;
    };
    const dims d = key == "phi-3-mini-4k"      ? dims{architecture::phi3, 32, 32, 32, 3072, 96, 8192, 32064, false}
                   : key == "gemma-2-9b"       ? dims{architecture::gemma2, 42, 16, 8, 3584, 256, 14336, 256000, true}
                   : key == "mistral-7b-v0.3"  ? dims{architecture::llama, 32, 32, 8, 4096, 128, 14336, 32768, false}
                                               : dims{architecture::deepseek2, 27, 16, 1, 2048, 0, 10944, 102400, false};
    model_description m;
    m.name = key;
    m.hparams.arch = d.arch;
    m.hparams.n_layer = d.n_layer;
    if (d.arch == architecture::deepseek2) {
        m.hparams.n_expert = 64;
        m.hparams.n_expert_used = 6;
        m.hparams.n_layer_dense_lead = 1;
    }
    for (std::uint32_t il = 0; il < d.n_layer; ++il) {
        m.hparams.layers.push_back(layer_params{d.n_head, d.n_head_kv, static_cast<std::uint32_t>(d.n_ff), false, false});
    }
    const std::int64_t e = d.n_embd;
    m.tensors.push_back(make_tensor("token_embd.weight", e, d.n_vocab));
    m.tensors.push_back(make_tensor("output_norm.weight", e));
    if (!d.tied) m.tensors.push_back(make_tensor("output.weight", e, d.n_vocab));
    for (std::uint32_t il = 0; il < d.n_layer; ++il) {
        auto add = [&](std::string_view suffix, std::int64_t ne0, std::int64_t ne1 = 1, std::int64_t ne2 = 1) {
            const std::string name = "blk." + std::to_string(il) + "." + std::string(suffix);
            m.tensors.push_back(make_tensor(name, ne0, ne1, ne2, static_cast<std::int32_t>(il)));
        };
        add("attn_norm.weight", e);
        if (d.arch == architecture::deepseek2) {  // MLA: q 128+64 per head, kv_lora 512, v 128
            add("attn_kv_a_norm.weight", 512);
            add("attn_q.weight", e, 16 * 192);
            add("attn_kv_a_mqa.weight", e, 512 + 64);
            add("attn_k_b.weight", 128, 512, 16);
            add("attn_v_b.weight", 512, 128, 16);
            add("attn_output.weight", 16 * 128, e);
            add("ffn_norm.weight", e);
            if (il < 1) {
                add("ffn_gate.weight", e, d.n_ff);
                add("ffn_down.weight", d.n_ff, e);
                add("ffn_up.weight", e, d.n_ff);
            } else {
                add("ffn_gate_inp.weight", e, 64);
                add("ffn_gate_exps.weight", e, 1408, 64);
                add("ffn_down_exps.weight", 1408, e, 64);
                add("ffn_up_exps.weight", e, 1408, 64);
                add("ffn_gate_shexp.weight", e, 2 * 1408);
                add("ffn_down_shexp.weight", 2 * 1408, e);
                add("ffn_up_shexp.weight", e, 2 * 1408);
            }
            continue;
        }
        const std::int64_t q_dim = d.n_head * d.head_dim, kv_dim = d.n_head_kv * d.head_dim;
        if (d.arch == architecture::phi3) {
            add("attn_qkv.weight", e, q_dim + 2 * kv_dim);
        } else {
            add("attn_q.weight", e, q_dim);
            add("attn_k.weight", e, kv_dim);
            add("attn_v.weight", e, kv_dim);
        }
        add("attn_output.weight", q_dim, e);
        if (d.arch == architecture::gemma2) add("post_attention_norm.weight", e);
        add("ffn_norm.weight", e);
        if (d.arch == architecture::phi3) {
            add("ffn_down.weight", d.n_ff, e);
            add("ffn_up.weight", e, 2 * d.n_ff);  // fused gate_up
        } else {
            add("ffn_gate.weight", e, d.n_ff);
            add("ffn_down.weight", d.n_ff, e);
            add("ffn_up.weight", e, d.n_ff);
        }
        if (d.arch == architecture::gemma2) add("post_ffw_norm.weight", e);
    }
    return m;
}

model_description heldout_quantized(std::string_view key, llama_ftype ftype) {
    auto m = heldout_model(key);
    auto done = quantize(m, ftype);
    REQUIRE_MESSAGE(done.ok(), std::string(key) << " " << ftype_name(ftype) << ": " << done.err().describe());
    return m;
}

} // namespace

TEST_CASE("held-out architectures: phi3 fused qkv, gemma2 tied output, deepseek2 MLA and experts") {
    SUBCASE("phi-3-mini-4k: attn_qkv takes the attn_v rules") {
        const auto m = heldout_quantized("phi-3-mini-4k", F::mostly_q4_K_M);
        CHECK(type_of(m, "blk.0.attn_qkv.weight") == T::q6_K);
        CHECK(type_of(m, "blk.4.attn_qkv.weight") == T::q4_K);
        CHECK(type_of(m, "blk.6.attn_qkv.weight") == T::q6_K);
        CHECK(type_of(m, "blk.0.ffn_down.weight") == T::q6_K);
        CHECK(type_of(m, "blk.0.ffn_up.weight") == T::q4_K);
        CHECK(type_of(m, "output.weight") == T::q6_K);
        const auto q2 = heldout_quantized("phi-3-mini-4k", F::mostly_q2_K);
        CHECK(type_of(q2, "blk.9.attn_qkv.weight") == T::q3_K);  // MHA: n_gqa 1 < 4
        CHECK(type_of(q2, "blk.9.attn_output.weight") == T::q3_K);
    }
    SUBCASE("gemma-2-9b: tied token_embd is the output, 42-layer use_more_bits") {
        const auto m = heldout_quantized("gemma-2-9b", F::mostly_q4_K_M);
        CHECK(type_of(m, "token_embd.weight") == T::q6_K);
        CHECK(type_of(m, "blk.4.attn_v.weight") == T::q6_K);
        CHECK(type_of(m, "blk.5.attn_v.weight") == T::q4_K);
        CHECK(type_of(m, "blk.36.ffn_down.weight") == T::q6_K);
        CHECK(type_of(m, "blk.0.post_ffw_norm.weight") == T::f32);
        const auto iq4 = heldout_quantized("gemma-2-9b", F::mostly_iq4_xs);
        CHECK(type_of(iq4, "blk.10.attn_v.weight") == T::iq4_xs);  // n_gqa 2 < 4
        CHECK(type_of(iq4, "blk.4.ffn_down.weight") == T::q5_K);
    }
    SUBCASE("mistral-7b-v0.3: the Llama rules") {
        const auto m = heldout_quantized("mistral-7b-v0.3", F::mostly_q3_K_M);
        CHECK(type_of(m, "blk.0.attn_v.weight") == T::q5_K);
        CHECK(type_of(m, "blk.1.attn_v.weight") == T::q5_K);
        CHECK(type_of(m, "blk.2.attn_v.weight") == T::q4_K);
        CHECK(type_of(m, "blk.1.ffn_down.weight") == T::q5_K);
        CHECK(type_of(m, "blk.2.ffn_down.weight") == T::q4_K);
        CHECK(type_of(m, "blk.2.attn_output.weight") == T::q4_K);
    }
    SUBCASE("deepseek-v2-lite: MLA tensors and 1408-wide experts fall back") {
        const auto m = heldout_quantized("deepseek-v2-lite", F::mostly_q4_K_M);
        CHECK(type_of(m, "blk.1.attn_k_b.weight") == T::q5_0);      // 128 % 256 != 0
        CHECK(type_of(m, "blk.1.attn_v_b.weight") == T::q4_K);
        CHECK(type_of(m, "blk.1.attn_kv_a_mqa.weight") == T::q4_K);
        CHECK(type_of(m, "blk.1.attn_kv_a_norm.weight") == T::f32);
        CHECK(type_of(m, "blk.0.ffn_down.weight") == T::q8_0);       // q6_K, 10944 % 256 != 0
        CHECK(type_of(m, "blk.0.ffn_up.weight") == T::q4_K);
        CHECK(type_of(m, "blk.1.ffn_down_exps.weight") == T::q8_0);  // q6_K, 1408 % 256 != 0
        CHECK(type_of(m, "blk.4.ffn_down_exps.weight") == T::q5_0);  // q4_K, likewise
        CHECK(type_of(m, "blk.4.ffn_down_shexp.weight") == T::q4_K);
        CHECK(type_of(m, "blk.5.ffn_down_shexp.weight") == T::q6_K);
        CHECK(type_of(m, "blk.4.ffn_gate_exps.weight") == T::q4_K);
        CHECK(type_of(m, "blk.4.ffn_gate_inp.weight") == T::f32);
        const auto q8 = heldout_quantized("deepseek-v2-lite", F::mostly_q8_0);
        CHECK(type_of(q8, "blk.1.attn_k_b.weight") == T::q8_0);
        const auto mx = heldout_quantized("deepseek-v2-lite", F::mostly_mxfp4_moe);
        CHECK(type_of(mx, "blk.1.ffn_up_exps.weight") == T::mxfp4);
        CHECK(type_of(mx, "blk.1.attn_k_b.weight") == T::mxfp4);  // 3-D, so the engine's rule takes it too
        CHECK(type_of(mx, "blk.1.ffn_up_shexp.weight") == T::q8_0);
    }
    SUBCASE("every required ftype runs on every held-out shape") {
        for (auto key : {"phi-3-mini-4k", "gemma-2-9b", "mistral-7b-v0.3", "deepseek-v2-lite"}) {
            for (auto ftype : {F::mostly_f16, F::mostly_bf16, F::mostly_q8_0, F::mostly_q6_K, F::mostly_q5_K_M,
                               F::mostly_q5_K_S, F::mostly_q4_K_M, F::mostly_q4_K_S, F::mostly_q4_0, F::mostly_q3_K_M,
                               F::mostly_q3_K_L, F::mostly_q2_K, F::mostly_iq4_xs, F::mostly_iq4_nl,
                               F::mostly_mxfp4_moe}) {
                auto m = heldout_model(key);
                auto done = quantize(m, ftype);
                CHECK_MESSAGE(done.ok(), key << " " << ftype_name(ftype) << ": " << done.err().describe());
            }
        }
    }
}

TEST_CASE("the quantized totals are llama-quantize's quant size, the type counts its own") {
    const auto& oracle = load_oracle();
    std::ifstream in(VRAMFIT_TEST_DATA "/quant_tensor_types_summary.csv");
    REQUIRE(in.good());
    std::string line;
    std::getline(in, line);
    REQUIRE(line == "model_key,ftype,n_tensors,quant_size_mib,type_counts");
    int checked = 0;
    while (std::getline(in, line)) {
        const auto cells = split(line, ',');
        REQUIRE(cells.size() == 5);
        auto model = oracle_model_description(cells[0], oracle.groups.at({cells[0], cells[1]}));
        REQUIRE(quantize(model, *ftype_from_name(cells[1])).ok());
        // "quant size = %8.2f MiB": the sum of every tensor's ggml_nbytes, no padding.
        char mib[32];
        std::snprintf(mib, sizeof mib, "%.2f", model.weight_bytes().mib());
        std::map<std::string, int> counts;
        for (const auto& t : model.tensors) ++counts[std::string(type_name(t.type))];
        std::string count_text;
        for (const auto& [type, n] : counts) count_text += (count_text.empty() ? "" : ";") + type + ":" + std::to_string(n);
        INFO(cells[0] << " " << cells[1]);
        CHECK(std::to_string(model.tensors.size()) == cells[2]);
        CHECK(std::string(mib) == cells[3]);
        CHECK(count_text == cells[4]);
        ++checked;
    }
    CHECK(checked == 56);
}
