// Model buffers (CPU_Mapped / CPU / CPU_REPACK) and the estimate's buffer list, on small
// hand-built tensor lists whose expected sizes can be worked out by hand.
#include <doctest/doctest.h>

#include "hand_built.hpp"
#include "vramfit/engines/llama_cpp/memory.hpp"

using namespace vramfit;
using namespace vramfit::llama_cpp;

namespace {

constexpr std::int64_t embd = 256, vocab = 1000, rows_kv = 64, n_ff = 512, n_expert = 4;

// A quantizer-ordered file: outside-block tensors by name, then block 0 by name.
constexpr model_description tiny_moe(bool tied = false) {
    auto m = test::hand_built({.n_layer = 1, .n_embd = 256, .n_head = 4, .n_head_kv = 1, .head_dim = 64, .n_vocab = 1000},
                              "tiny");
    if (!tied) test::add_tensor(m, "output.weight", {embd, vocab, 1, 1}, ggml_type::q6_K);           // 210000
    test::add_tensor(m, "output_norm.weight", {embd, 1, 1, 1}, ggml_type::f32, 1);                   // 1024
    test::add_tensor(m, "token_embd.weight", {embd, vocab, 1, 1}, ggml_type::q4_K);                  // 144000
    test::add_tensor(m, "blk.0.attn_k.weight", {embd, rows_kv, 1, 1}, ggml_type::q4_K);              // 9216
    test::add_tensor(m, "blk.0.attn_norm.weight", {embd, 1, 1, 1}, ggml_type::f32, 1);               // 1024
    test::add_tensor(m, "blk.0.attn_q.bias", {embd, 1, 1, 1}, ggml_type::f32, 1);                    // 1024
    test::add_tensor(m, "blk.0.ffn_down_exps.weight", {n_ff, embd, n_expert, 1}, ggml_type::q4_K, 3); // 294912
    test::add_tensor(m, "blk.0.ffn_gate_exps.weight", {embd, n_ff, n_expert, 1}, ggml_type::q2_K, 3); // 172032
    test::add_tensor(m, "blk.0.ffn_gate_inp.weight", {embd, n_expert, 1, 1}, ggml_type::f32);        // 4096
    test::add_tensor(m, "blk.0.ffn_up_exps.weight", {embd, n_ff, n_expert, 1}, ggml_type::q8_0, 3);   // 557056
    assign_offsets(m);
    return m;
}

constexpr std::uint64_t output_q6 = 210000, norm = 1024, embd_q4 = 144000, attn_k = 9216, down_exps = 294912,
                        gate_exps = 172032, gate_inp = 4096, up_exps = 557056;
constexpr std::uint64_t pad32(std::uint64_t n) { return (n + 31) / 32 * 32; }
constexpr std::uint64_t all_tensors = pad32(output_q6) + norm + embd_q4 + attn_k + norm + norm + down_exps + gate_exps
                                    + gate_inp + up_exps;

constexpr model_buffers buffers(const model_description& m, bool mmap, repack_mode mode) {
    return *model_buffer_bytes(m, mmap, mode);
}

// AVX2: attn_k (2-D q4_K, 64 rows) and ffn_down_exps (3-D q4_K) are repacked; token_embd is read
// with GET_ROWS and stays; q2_K needs AVX-512; q8_0 has no x86 layout.
static_assert(buffers(tiny_moe(), true, repack_mode::avx2).repack == bytes{attn_k + down_exps});
static_assert(buffers(tiny_moe(), true, repack_mode::avx512).repack == bytes{attn_k + down_exps + gate_exps});
static_assert(buffers(tiny_moe(), true, repack_mode::off).repack == 0_B);
// mmap: the range from output.weight to the end of ffn_up_exps — the whole file here, because the
// first and last tensors stay on the CPU
static_assert(buffers(tiny_moe(), true, repack_mode::avx2).mapped_total() == bytes{all_tensors});
// no mmap: only the tensors that are not repacked, each padded to 32 bytes
static_assert(buffers(tiny_moe(), false, repack_mode::avx2).cpu == bytes{all_tensors - attn_k - down_exps});
// tied output: token_embd is loaded a second time for the output matmul, repacked
static_assert(buffers(tiny_moe(true), true, repack_mode::avx2).repack == bytes{attn_k + down_exps + embd_q4});
// Arm with i8mm: q4_K, q6_K (output) and q8_0 repack; q2_K does not
static_assert(buffers(tiny_moe(), true, repack_mode::neon_i8mm).repack
              == bytes{attn_k + down_exps + up_exps + pad32(output_q6)});

// the estimate lists every buffer; its total is their sum
static_assert(estimate(tiny_moe(), {.n_ctx = 512, .repack = repack_mode::avx2})->model_buffer("CPU_REPACK")
              == bytes{attn_k + down_exps});
static_assert(estimate(tiny_moe(), {.n_ctx = 512, .repack = repack_mode::avx2})->kv_bytes()
              == bytes{512ULL * 64 * 2 * 2});
static_assert(estimate(tiny_moe(), {.n_ctx = 512, .repack = repack_mode::avx2})->output_bytes() == bytes{1000 * 4});

} // namespace

TEST_CASE("mapped range runs from the first to the last CPU tensor in file order") {
    auto m = tiny_moe();
    // move the repacked expert tensor to the end of the file: the mapped range now stops before it
    auto moved = m.tensors[6];
    m.tensors.erase(m.tensors.begin() + 6);
    m.tensors.push_back(moved);
    assign_offsets(m);
    const auto b = buffers(m, true, repack_mode::avx2);
    REQUIRE(b.mapped.size() == 1);
    CHECK(b.mapped[0].size == bytes{all_tensors - down_exps});
    CHECK(b.repack == bytes{attn_k + down_exps});
    CHECK(b.repacked_tensors == 2);
    // with repacking off, everything is mapped and nothing is copied
    CHECK(buffers(m, true, repack_mode::off).mapped_total() == bytes{all_tensors});
    CHECK(buffers(m, false, repack_mode::off).cpu == bytes{all_tensors});
}

TEST_CASE("split files get one mapped range each") {
    auto m = tiny_moe();
    m.files.push_back(source_file{});
    for (std::size_t i = 6; i < m.tensors.size(); ++i) m.tensors[i].file_index = 1;
    // second file starts its own offsets at 0
    std::uint64_t offset = 0;
    for (std::size_t i = 6; i < m.tensors.size(); ++i) {
        m.tensors[i].offset = offset;
        offset = pad32(offset + m.tensors[i].size().count());
    }
    const auto b = buffers(m, true, repack_mode::avx2);
    REQUIRE(b.mapped.size() == 2);
    CHECK(b.mapped[0].file_index == 0);
    CHECK(b.mapped[1].file_index == 1);
    // file 1 holds down_exps (repacked), gate_exps, gate_inp, up_exps: its range starts at gate_exps
    CHECK(b.mapped[1].size == bytes{gate_exps + gate_inp + up_exps});

    auto bad = m;
    bad.tensors.back().file_index = 7;
    const auto r = model_buffer_bytes(bad, true, repack_mode::avx2);
    REQUIRE_FALSE(r);
    CHECK(r.err().code() == errc::out_of_bounds);
}

TEST_CASE("repack rules per ISA follow ggml_repack_get_optimal_repack_type") {
    const cpu_features avx2 = repack_features(repack_mode::avx2);
    const cpu_features avx512 = repack_features(repack_mode::avx512);
    const cpu_features dotprod = repack_features(repack_mode::neon_dotprod);
    tensor_info t{};
    t.name = "blk.3.ffn_up.weight";
    t.ne = {4096, 14336, 1, 1};
    for (auto type : {ggml_type::q4_0, ggml_type::q4_K, ggml_type::iq4_nl, ggml_type::mxfp4}) {
        t.type = type;
        CHECK(is_repacked(t, avx2));
    }
    for (auto type : {ggml_type::q8_0, ggml_type::q6_K, ggml_type::q5_K, ggml_type::q3_K, ggml_type::iq4_xs, ggml_type::f16}) {
        t.type = type;
        CHECK_FALSE(is_repacked(t, avx512));
    }
    t.type = ggml_type::q2_K;
    CHECK_FALSE(is_repacked(t, avx2));
    CHECK(is_repacked(t, avx512));
    t.type = ggml_type::q4_0;
    t.ne = {4096, 12, 1, 1};  // 12 rows: no 8-row interleave on x86, a 4-row one on Arm
    CHECK_FALSE(is_repacked(t, avx2));
    CHECK(is_repacked(t, dotprod));
    t.ne = {4096, 4096, 1, 1};
    t.name = "token_embd.weight";  // GET_ROWS
    CHECK_FALSE(is_repacked(t, avx2));
    t.name = "blk.0.attn_q.bias";  // ADD
    CHECK_FALSE(is_repacked(t, avx2));
    t.name = "blk.0.attn_k_b.weight";  // a 3-D MUL_MAT weight is not supported
    t.ne = {128, 512, 16, 1};
    CHECK_FALSE(is_repacked(t, avx2));
    CHECK(repack_features(repack_mode::off) == cpu_features{});
}

TEST_CASE("estimate lists the engine's buffers in order") {
    const auto m = tiny_moe();
    const auto e = estimate(m, {.n_ctx = 512, .use_mmap = false, .repack = repack_mode::avx2});
    REQUIRE(e);
    REQUIRE(e->buffers.size() >= 4);
    CHECK(e->buffers[0].buffer_type == "CPU");
    CHECK(e->buffers[0].kind == buffer_kind::model);
    CHECK(e->buffers[1].buffer_type == "CPU_REPACK");
    CHECK(e->buffers[2].kind == buffer_kind::output);
    CHECK(e->buffers[3].kind == buffer_kind::kv);
    CHECK(e->model_bytes() == bytes{all_tensors});  // no mmap + repack: the file's tensors, once
    CHECK(e->kv.full.k == bytes{512ULL * 64 * 2});
    CHECK(e->context_bytes() == e->kv_bytes());
    bytes sum{};
    for (const auto& b : e->buffers) sum += b.size;
    CHECK(e->total() == sum);
    CHECK(to_string(buffer_kind::kv_swa) == "kv_swa");

    const auto bad = estimate(m, {.n_seq = 1000});
    REQUIRE_FALSE(bad);
    CHECK(bad.err().code() == errc::invalid_argument);
}

TEST_CASE("host repack features are detected at run time") {
    const auto host = host_cpu_features();
    const auto as_host = repack_features(repack_mode::host);
    CHECK(host == as_host);
#if defined(__x86_64__)
    CHECK_FALSE(host.neon);
    CHECK(host.avx2 == static_cast<bool>(__builtin_cpu_supports("avx2")));
    CHECK(host.avx512 == static_cast<bool>(__builtin_cpu_supports("avx512f")));
#endif
}
