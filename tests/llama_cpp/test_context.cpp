// Context resolution, KV caches, recurrent state and output buffer against the CPU oracle's
// figures (tests/data/cpu_oracle.csv): each vector below is a
// measured row, stated once as a static_assert and once as a run-time CHECK.
#include <doctest/doctest.h>

#include "hand_built.hpp"
#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/kv_cache.hpp"
#include "vramfit/engines/llama_cpp/output_buffer.hpp"
#include "vramfit/engines/llama_cpp/recurrent_state.hpp"

using namespace vramfit;
using namespace vramfit::llama_cpp;
using vramfit::test::deepseek_v2_lite;
using vramfit::test::gemma_3_12b;
using vramfit::test::gpt_oss_20b;
using vramfit::test::llama_3_1_8b;

namespace {

constexpr resolved_context resolve(const model_description& m, const context_params& p) { return *resolve_context(m, p); }

constexpr bytes kv_total(const model_description& m, const context_params& p) {
    return kv_cache_bytes(m, resolve(m, p)).full.total();
}
constexpr bytes swa_total(const model_description& m, const context_params& p) {
    return kv_cache_bytes(m, resolve(m, p)).swa.total();
}

// --- padding and clamping (llama_context constructor) ----------------------------------------
// llama-3.1-8b.Q4_K_M.c1000: n_ctx 1024, n_batch clamped to the unpadded 1000
static_assert(resolve(llama_3_1_8b(), {.n_ctx = 1000}).n_ctx == 1024);
static_assert(resolve(llama_3_1_8b(), {.n_ctx = 1000}).n_batch == 1000);
// .c512.b2048.ub2048: batch and micro-batch clamped to 512
static_assert(resolve(llama_3_1_8b(), {.n_ctx = 512, .n_ubatch = 2048}).n_batch == 512);
static_assert(resolve(llama_3_1_8b(), {.n_ctx = 512, .n_ubatch = 2048}).n_ubatch == 512);
// .c5000.s3: 3 streams of 1792 cells, n_ctx rounded to 5376
static_assert(resolve(llama_3_1_8b(), {.n_ctx = 5000, .n_seq = 3}).n_ctx == 5376);
static_assert(resolve(llama_3_1_8b(), {.n_ctx = 5000, .n_seq = 3}).kv_cells == 1792);
static_assert(resolve(llama_3_1_8b(), {.n_ctx = 5000, .n_seq = 3}).n_stream == 3);
// .c32768.s4u: one unified stream of 32768 cells
static_assert(resolve(llama_3_1_8b(), {.n_ctx = 32768, .n_seq = 4, .kv_unified = true}).kv_cells == 32768);
static_assert(resolve(llama_3_1_8b(), {.n_ctx = 32768, .n_seq = 4, .kv_unified = true}).n_stream == 1);
// -c 0 takes the training context
static_assert(resolve(llama_3_1_8b(), {.n_ctx = 0}).n_ctx == 131072);
static_assert(resolve(llama_3_1_8b(), {}).flash_attn, "-fa auto resolves to on for the CPU backend");

// --- KV cache sizes (llama_kv_cache) -----------------------------------------------------------
static_assert(kv_total(llama_3_1_8b(), {.n_ctx = 4096}) == 512_MiB);
static_assert(kv_total(llama_3_1_8b(), {.n_ctx = 32768}) == 4096_MiB);
static_assert(kv_total(llama_3_1_8b(), {.n_ctx = 4096, .type_k = ggml_type::q8_0, .type_v = ggml_type::q8_0}) == 272_MiB);
static_assert(kv_total(llama_3_1_8b(), {.n_ctx = 4096, .type_k = ggml_type::q4_0, .type_v = ggml_type::q4_0}) == 144_MiB);
static_assert(kv_total(llama_3_1_8b(), {.n_ctx = 4096, .flash_attn = flash_attention::off, .type_k = ggml_type::q8_0}) == 392_MiB);
static_assert(kv_total(llama_3_1_8b(), {.n_ctx = 5000, .n_seq = 3}) == 672_MiB);
static_assert(kv_cache_bytes(llama_3_1_8b(), resolve(llama_3_1_8b(), {.n_ctx = 4096})).full.k == 256_MiB);
// MLA: K holds the 576-wide latent, V is not allocated (deepseek-v2-lite, 4096 cells)
static_assert(kv_cache_bytes(deepseek_v2_lite(), resolve(deepseek_v2_lite(), {.n_ctx = 4096})).full.k == bytes{121 * 1048576ULL + 524288});
static_assert(kv_cache_bytes(deepseek_v2_lite(), resolve(deepseek_v2_lite(), {.n_ctx = 4096})).full.v == 0_B);

// --- iSWA (llama_kv_cache_iswa) -----------------------------------------------------------------
static_assert(resolve(gemma_3_12b(), {.n_ctx = 4096}).kv_swa_cells == 1536);
static_assert(kv_total(gemma_3_12b(), {.n_ctx = 4096}) == 256_MiB);
static_assert(swa_total(gemma_3_12b(), {.n_ctx = 4096}) == 480_MiB);
static_assert(kv_total(gemma_3_12b(), {.n_ctx = 32768}) == 2048_MiB);
static_assert(swa_total(gemma_3_12b(), {.n_ctx = 4096, .n_ubatch = 2048}) == 960_MiB);
static_assert(swa_total(gemma_3_12b(), {.n_ctx = 32768, .n_seq = 4}) == 1920_MiB);
static_assert(swa_total(gemma_3_12b(), {.n_ctx = 32768, .n_seq = 4, .kv_unified = true}) == 1440_MiB);
static_assert(swa_total(gemma_3_12b(), {.n_ctx = 4096, .swa_full = true}) == 1280_MiB);
static_assert(resolve(gpt_oss_20b(), {.n_ctx = 4096}).kv_swa_cells == 768);
static_assert(swa_total(gpt_oss_20b(), {.n_ctx = 4096}) == 18_MiB);
static_assert(resolve(gpt_oss_20b(), {.n_ctx = 4096, .n_seq = 4, .kv_unified = true}).kv_swa_cells == 1024);

// --- output buffer (output_reserve) -------------------------------------------------------------
static_assert(output_buffer_bytes(llama_3_1_8b(), resolve(llama_3_1_8b(), {})) == bytes{128256ULL * 4});
static_assert(output_buffer_bytes(llama_3_1_8b(), resolve(llama_3_1_8b(), {.n_seq = 4})) == bytes{128256ULL * 4 * 4});

// --- recurrent state (llama_memory_recurrent), Mamba-2 2.7B shapes ------------------------------
constexpr model_description mamba2_2_7b() {
    auto m = test::hand_built({.arch = architecture::mamba2, .n_layer = 64, .n_embd = 2560, .n_vocab = 50288}, "mamba2");
    m.hparams.ssm_d_conv = 4;
    m.hparams.ssm_d_inner = 5120;
    m.hparams.ssm_d_state = 128;
    m.hparams.ssm_n_group = 1;
    for (auto& l : m.hparams.layers) l.recurrent = true;
    return m;
}
// r: 3 * (5120 + 2*128) floats, s: 128 * 5120 floats, per layer and sequence
static_assert(recurrent_state_bytes(mamba2_2_7b(), resolve(mamba2_2_7b(), {})).r == bytes{64ULL * 3 * 5376 * 4});
static_assert(recurrent_state_bytes(mamba2_2_7b(), resolve(mamba2_2_7b(), {.n_seq = 2})).s == bytes{64ULL * 2 * 128 * 5120 * 4});
static_assert(kv_cache_bytes(mamba2_2_7b(), resolve(mamba2_2_7b(), {})).total() == 0_B);

} // namespace

TEST_CASE("context resolution pads and clamps like llama_context") {
    const auto m = llama_3_1_8b();
    auto c = resolve_context(m, {.n_ctx = 5000, .n_seq = 3});
    REQUIRE(c);
    CHECK(c->n_ctx == 5376);
    CHECK(c->n_ctx_seq == 1792);
    CHECK(c->n_stream == 3);
    c = resolve_context(m, {.n_ctx = 1000});
    REQUIRE(c);
    CHECK(c->n_ctx == 1024);
    CHECK(c->n_batch == 1000);
    CHECK(c->n_ubatch == 512);
    c = resolve_context(m, {.n_ctx = 512, .n_ubatch = 2048});
    REQUIRE(c);
    CHECK(c->n_ubatch == 512);
}

TEST_CASE("bad settings are named errors") {
    const auto m = llama_3_1_8b();
    auto c = resolve_context(m, {.flash_attn = flash_attention::off, .type_v = ggml_type::q8_0});
    REQUIRE_FALSE(c);
    CHECK(c.err().code() == errc::invalid_argument);
    CHECK(c.err().message().find("flash attention") != std::string_view::npos);

    c = resolve_context(m, {.n_seq = 257});
    REQUIRE_FALSE(c);
    CHECK(c.err().message().find("n_seq") != std::string_view::npos);

    c = resolve_context(m, {.n_batch = 0});
    REQUIRE_FALSE(c);

    c = resolve_context(m, {.type_k = ggml_type::q4_K});
    REQUIRE_FALSE(c);
    CHECK(c.err().message().find("q4_K") != std::string_view::npos);

    c = resolve_context(m, {.n_ctx = 4294967295U});
    REQUIRE_FALSE(c);
    CHECK(c.err().code() == errc::limit_exceeded);

    auto no_train = m;
    no_train.hparams.n_ctx_train = 0;
    c = resolve_context(no_train, {.n_ctx = 0});
    REQUIRE_FALSE(c);

    auto broken = m;
    broken.hparams.layers.pop_back();
    c = resolve_context(broken, {});
    REQUIRE_FALSE(c);
    CHECK(c.err().message().find("n_layer") != std::string_view::npos);

    auto huge = test::hand_built({.n_layer = 1, .n_embd = 64, .n_head = 1, .n_head_kv = 65536, .head_dim = 65536,
                                  .n_vocab = 10});
    c = resolve_context(huge, {.n_ctx = 1U << 30});
    REQUIRE_FALSE(c);
    CHECK(c.err().code() == errc::limit_exceeded);
    auto wide = test::hand_built({.n_layer = 1, .n_embd = 64, .n_head = 1, .n_head_kv = 8192, .head_dim = 4096,
                                  .n_vocab = 10});
    c = resolve_context(wide, {.n_ctx = 1U << 31});
    REQUIRE_FALSE(c);
    CHECK(c.err().message().find("2^56") != std::string_view::npos);
    CHECK(resolve_context(wide, {.n_ctx = 4096}).ok());

    // an 80-wide K row is not a whole number of 32-element q8_0 blocks
    auto odd = test::hand_built({.n_layer = 2, .n_embd = 80, .n_head = 1, .n_head_kv = 1, .head_dim = 80, .n_vocab = 10});
    c = resolve_context(odd, {.type_k = ggml_type::q8_0});
    REQUIRE_FALSE(c);
    CHECK(c.err().message().find("block size") != std::string_view::npos);
}

TEST_CASE("KV caches match the oracle at run time") {
    const auto llama = llama_3_1_8b();
    CHECK(kv_total(llama, {.n_ctx = 4096}) == 512_MiB);
    CHECK(kv_total(llama, {.n_ctx = 32768}) == 4096_MiB);
    CHECK(kv_total(llama, {.n_ctx = 4096, .type_k = ggml_type::q8_0, .type_v = ggml_type::q8_0}) == 272_MiB);
    CHECK(kv_total(llama, {.n_ctx = 4096, .type_k = ggml_type::q4_0, .type_v = ggml_type::q4_0}) == 144_MiB);
    CHECK(kv_total(llama, {.n_ctx = 4096, .flash_attn = flash_attention::off, .type_k = ggml_type::q8_0}) == 392_MiB);
    CHECK(kv_total(llama, {.n_ctx = 32768, .n_seq = 4}) == 4096_MiB);  // n_seq only splits the cells

    const auto ds = deepseek_v2_lite();
    const auto ds_kv = kv_cache_bytes(ds, resolve(ds, {.n_ctx = 4096}));
    CHECK(ds_kv.full.k.mib() == doctest::Approx(121.5));
    CHECK(ds_kv.full.v == 0_B);
    CHECK(ds_kv.full.layers == 27);

    const auto gemma = gemma_3_12b();
    const auto g = kv_cache_bytes(gemma, resolve(gemma, {.n_ctx = 4096}));
    CHECK(g.full.layers == 8);
    CHECK(g.swa.layers == 40);
    CHECK(g.full.total() == 256_MiB);
    CHECK(g.swa.total() == 480_MiB);
    CHECK(g.buffers() == 736_MiB);
    CHECK(swa_total(gemma, {.n_ctx = 32768, .n_seq = 4}) == 1920_MiB);
    CHECK(swa_total(gemma, {.n_ctx = 32768, .n_seq = 4, .kv_unified = true}) == 1440_MiB);

    const auto oss = gpt_oss_20b();
    CHECK(swa_total(oss, {.n_ctx = 4096}) == 18_MiB);
    CHECK(resolve(oss, {.n_ctx = 4096, .n_seq = 4, .kv_unified = true}).kv_swa_cells == 1024);
}

TEST_CASE("V rows are padded to the widest layer without flash attention") {
    auto m = test::hand_built({.n_layer = 2, .n_embd = 256, .n_head = 4, .n_head_kv = 2, .head_dim = 64, .n_vocab = 10});
    m.hparams.layers[1].n_head_kv = 4;  // layer 1 has a 256-wide V row, layer 0 128
    const auto fa = kv_cache_bytes(m, resolve(m, {.n_ctx = 256}));
    const auto no_fa = kv_cache_bytes(m, resolve(m, {.n_ctx = 256, .flash_attn = flash_attention::off}));
    CHECK(fa.full.v == bytes{(128 + 256) * 2ULL * 256});
    CHECK(no_fa.full.v == bytes{(256 + 256) * 2ULL * 256});
    CHECK(fa.full.k == no_fa.full.k);
}

TEST_CASE("hybrid models cache attention layers and keep recurrent state per sequence") {
    auto m = test::hand_built({.arch = architecture::jamba, .n_layer = 8, .n_embd = 4096, .n_head = 32, .n_head_kv = 8,
                               .head_dim = 128, .n_vocab = 65536});
    m.hparams.ssm_d_conv = 4;
    m.hparams.ssm_d_inner = 8192;
    m.hparams.ssm_d_state = 16;
    for (std::uint32_t il = 0; il < 8; ++il) {
        m.hparams.layers[il].recurrent = il % 8 != 4;  // one attention layer in eight
        if (m.hparams.layers[il].recurrent) m.hparams.layers[il].n_head_kv = 0;
    }
    const auto ctx = resolve(m, {.n_ctx = 4096, .n_seq = 2});
    const auto kv = kv_cache_bytes(m, ctx);
    CHECK(kv.full.layers == 1);
    CHECK(kv.full.total() == bytes{4096ULL * 2 * 1024 * 2});
    const auto rs = recurrent_state_bytes(m, ctx);
    CHECK(rs.layers == 7);
    CHECK(rs.cells == 2);
    CHECK(rs.r == bytes{7ULL * 2 * 3 * 8192 * 4});   // Jamba (Mamba-1): no groups
    CHECK(rs.s == bytes{7ULL * 2 * 16 * 8192 * 4});
    CHECK(rs.buffer == rs.total());

    const auto mamba = mamba2_2_7b();
    const auto state = recurrent_state_bytes(mamba, resolve(mamba, {}));
    CHECK(state.layers == 64);
    CHECK(state.total() == bytes{64ULL * (3 * 5376 + 128 * 5120) * 4});
}

TEST_CASE("LFM2 short-convolution layers keep l_cache - 1 columns of n_embd per sequence") {
    // LFM2-1.2B shapes: 16 layers, 6 of them attention (8 KV heads of 64), l_cache 3
    auto m = test::hand_built({.arch = architecture::lfm2, .n_layer = 16, .n_embd = 2048, .n_head = 32, .n_head_kv = 8,
                               .head_dim = 64, .n_vocab = 65536});
    m.hparams.ssm_d_conv = 3;
    for (std::uint32_t il = 0; il < 16; ++il) {
        const bool attention = il == 2 || il == 5 || il == 8 || il == 10 || il == 12 || il == 14;
        m.hparams.layers[il].recurrent = !attention;
        if (!attention) m.hparams.layers[il].n_head_kv = 0;
    }
    const auto ctx = resolve(m, {.n_ctx = 4096, .n_seq = 3});
    const auto rs = recurrent_state_bytes(m, ctx);
    CHECK(rs.layers == 10);
    CHECK(rs.r == bytes{10ULL * 3 * 2048 * 2 * 4});
    CHECK(rs.s == 0_B);
    const auto kv = kv_cache_bytes(m, ctx);
    CHECK(kv.full.layers == 6);
    CHECK(kv.full.total() == bytes{6ULL * 3 * 1536 * 512 * 2 * 2});  // 3 streams of pad256(4096 / 3) cells
}

TEST_CASE("output buffer holds one row of logits per sequence") {
    const auto m = llama_3_1_8b();
    CHECK(output_buffer_bytes(m, resolve(m, {})).mib() == doctest::Approx(0.489).epsilon(0.001));
    CHECK(output_buffer_bytes(m, resolve(m, {.n_ctx = 5000, .n_seq = 3})) == bytes{128256ULL * 4 * 3});
}
