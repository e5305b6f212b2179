// Validation against every run of the CPU oracle (tests/data/cpu_oracle.csv, see
// tests/data/README.md): the model buffers, the KV caches (K, V, SWA) and the output buffer must
// equal what llama.cpp printed to its 0.01 MiB resolution; the compute buffer (another part of the
// engine model) must be within 2 % or 1 MiB, checked in its own test case so a compute miss does
// not hide the rest. Each row goes through two paths:
//   (a) catalog: llama_cpp::describe("<model_key>:<ftype>");
//   (b) GGUF: the catalog description written as a shape-only sparse GGUF with the project's
//       writer and read back with load_model_description.
// The accuracy summary is printed with MESSAGE (run with -s to see it) and kept in BENCHMARKS.md.
//
// File order. The oracle's files for the big MoE models (qwen3-30b-a3b, mixtral-8x7b,
// gpt-oss-20b, deepseek-v2-lite) were written by its generator in convert_hf_to_gguf.py's tensor
// order, not re-written by llama-quantize (tests/data/README.md), and with
// mmap + repack the CPU_Mapped range depends on the order. For those models both paths lay the
// catalog's tensors out in the converter's order first (converter_order below), as the real files
// are; the catalog's default (the quantizer's order) is what a published GGUF has.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <string>
#include <string_view>

#include "oracle_rows.hpp"
#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/memory.hpp"

#if __has_include("vramfit/engines/llama_cpp/from_gguf.hpp") && __has_include("vramfit/formats/gguf/writer.hpp")
#include "vramfit/engines/llama_cpp/export.hpp"
#include "vramfit/engines/llama_cpp/from_gguf.hpp"
#include "vramfit/formats/gguf/writer.hpp"
#include <unistd.h>
#include "oracle_checks.hpp"
#define VRAMFIT_ORACLE_GGUF_PATH 1
#else
#define VRAMFIT_ORACLE_GGUF_PATH 0
#endif

using namespace vramfit;
using namespace vramfit::llama_cpp;

namespace {

constexpr double mib = 1048576.0;
// llama.cpp prints "%.2f MiB": an exact estimate is within half a hundredth of the printed value.
constexpr double printed_tolerance = 0.0051;

bool written_in_converter_order(std::string_view key) {
    return key == "qwen3-30b-a3b" || key == "mixtral-8x7b" || key == "gpt-oss-20b" || key == "deepseek-v2-lite";
}

// The oracle generator's order (gen_gguf.py tensors_for, which follows convert_hf_to_gguf.py):
// token_embd, output_norm, output, rope_freqs, then each block with its tensors in this order.
int converter_rank(std::string_view name) {
    constexpr std::array<std::string_view, 4> top = {"token_embd.weight", "output_norm.weight", "output.weight",
                                                     "rope_freqs.weight"};
    for (std::size_t i = 0; i < top.size(); ++i) if (name == top[i]) return static_cast<int>(i);
    constexpr std::array<std::string_view, 33> block = {
        "attn_norm.weight", "attn_kv_a_norm.weight", "attn_q.weight", "attn_kv_a_mqa.weight", "attn_k_b.weight",
        "attn_v_b.weight", "attn_qkv.weight", "attn_k.weight", "attn_v.weight", "attn_q.bias", "attn_k.bias",
        "attn_v.bias", "attn_output.weight", "attn_output.bias", "attn_sinks.weight", "attn_q_norm.weight",
        "attn_k_norm.weight", "post_attention_norm.weight", "ffn_norm.weight", "ffn_gate_inp.weight",
        "ffn_gate_exps.weight", "ffn_down_exps.weight", "ffn_up_exps.weight", "ffn_gate_inp.bias",
        "ffn_gate_exps.bias", "ffn_down_exps.bias", "ffn_up_exps.bias", "ffn_gate.weight", "ffn_down.weight",
        "ffn_up.weight", "ffn_gate_shexp.weight", "ffn_down_shexp.weight", "ffn_up_shexp.weight"};
    if (name.substr(0, 4) == "blk.") {
        const auto dot = name.find('.', 4);
        const auto rest = name.substr(dot + 1);
        for (std::size_t i = 0; i < block.size(); ++i) if (rest == block[i]) return static_cast<int>(i);
        if (rest == "post_ffw_norm.weight") return static_cast<int>(block.size());
    }
    return 1000;  // unknown names keep their relative order at the end of their group
}

void converter_order(model_description& model) {
    std::stable_sort(model.tensors.begin(), model.tensors.end(), [](const tensor_info& a, const tensor_info& b) {
        if (a.layer != b.layer) return a.layer < b.layer;  // -1 (outside blocks) first
        return converter_rank(a.name.view()) < converter_rank(b.name.view());
    });
    assign_offsets(model);
}

result<model_description> catalog_model(const test::oracle_row& row) {
    auto model = llama_cpp::describe(row["model_key"] + ":" + row["ftype"]);
    if (model && written_in_converter_order(row["model_key"])) converter_order(*model);
    return model;
}

#if VRAMFIT_ORACLE_GGUF_PATH
// The catalog entry's description as a shape-only GGUF — the metadata keys
// convert_hf_to_gguf.py writes for it, every tensor's name, shape and type in the description's
// order — via the library's exporter (what `vramfit export` writes), without the vocabulary.
gguf::writer gguf_writer_for(const model_description& model, const catalog::model_entry& entry) {
    return make_gguf_writer(*llama_cpp::detail::converter_metadata(entry), model, {.with_vocabulary = false});
}

// One directory per process: two builds' tests may run at the same time.
std::filesystem::path scratch_dir() {
    // removed with everything in it when the test program exits
    struct owned_dir {
        std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("vramfit-oracle-test-" + std::to_string(::getpid()));
        ~owned_dir() {
            std::error_code ignored;
            std::filesystem::remove_all(path, ignored);
        }
    };
    static const owned_dir dir;
    std::filesystem::create_directories(dir.path);
    return dir.path;
}

result<model_description> through_gguf(const model_description& model, std::string_view key, const std::string& file_name) {
    const auto* entry = catalog::find(key);
    if (entry == nullptr) return error{errc::unknown_name, "no catalog entry"};
    const auto w = gguf_writer_for(model, *entry);
    const auto path = scratch_dir() / file_name;
    auto written = w.write_sparse(path);
    if (!written) return written.err();
    auto back = load_model_description(path);
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    return back;
}
#endif

struct comparison {
    test::accuracy_table* table;
    const std::string* model;
    const std::string* path;

    // `group` is the summary line the figure counts towards (model, KV, output).
    void exact(const std::string& group, const std::string& kind, double estimated_mib, double printed_mib) const {
        const double err = estimated_mib - printed_mib;
        if (estimated_mib != 0.0 || printed_mib != 0.0) table->add(*model + " (" + *path + ")", group, err);
        INFO(kind << ": estimated " << estimated_mib << " MiB, engine printed " << printed_mib << " MiB");
        CHECK(std::fabs(err) <= printed_tolerance);
    }
};

void check_row(const test::oracle_row& row, const model_description& model, const std::string& path,
               test::accuracy_table& table) {
    INFO("run " << row["run_id"] << " via " << path);
    const auto est = estimate(model, test::params_of(row));
    REQUIRE_MESSAGE(est.ok(), est.err().describe());
    const auto& ctx = est->context;
    CHECK(ctx.n_ctx == row.u32("n_ctx_actual"));
    CHECK(ctx.n_ctx_seq == row.u32("n_ctx_seq_actual"));
    CHECK(ctx.n_batch == row.u32("n_batch_actual"));
    CHECK(ctx.n_ubatch == row.u32("n_ubatch_actual"));

    const std::string& key = row["model_key"];
    const comparison cmp{&table, &key, &path};

    const auto printed_model = row.buffers("model_buffer_mib");
    for (const char* type : {"CPU_Mapped", "CPU", "CPU_REPACK"}) {
        const auto it = printed_model.find(type);
        const double printed = it == printed_model.end() ? 0.0 : it->second;
        cmp.exact("model buffers", std::string("model ") + type, est->model_buffer(type).count() / mib, printed);
    }

    cmp.exact("KV (K, V, SWA)", "kv", est->kv.full.total().count() / mib, row.number("kv_size_mib"));
    cmp.exact("KV (K, V, SWA)", "kv K", est->kv.full.k.count() / mib, row.number("kv_k_mib"));
    cmp.exact("KV (K, V, SWA)", "kv V", est->kv.full.v.count() / mib, row.number("kv_v_mib"));
    CHECK(est->kv.full.cells == row.u32("kv_cells"));
    CHECK(est->kv.full.layers == row.u32("kv_layers"));
    if (!row["kv_swa_size_mib"].empty()) {
        cmp.exact("KV (K, V, SWA)", "kv SWA", est->kv.swa.total().count() / mib, row.number("kv_swa_size_mib"));
        cmp.exact("KV (K, V, SWA)", "kv SWA K", est->kv.swa.k.count() / mib, row.number("kv_swa_k_mib"));
        cmp.exact("KV (K, V, SWA)", "kv SWA V", est->kv.swa.v.count() / mib, row.number("kv_swa_v_mib"));
        CHECK(est->kv.swa.cells == row.u32("kv_swa_cells"));
        CHECK(est->kv.swa.layers == row.u32("kv_swa_layers"));
    } else {
        CHECK(est->kv.swa.layers == 0);
    }
    cmp.exact("KV (K, V, SWA)", "kv buffers", est->kv_bytes().count() / mib, row.number("kv_buffer_mib"));
    cmp.exact("output", "output", est->output_bytes().count() / mib, row.number("output_buffer_mib"));
}

using namespace oracle_checks;  // the helpers both translation units share
// (their static_asserts are in static_oracle.cpp)

const std::vector<test::oracle_row>& oracle() {
    static const auto rows = test::read_oracle(std::string(VRAMFIT_TEST_DATA) + "/cpu_oracle.csv");
    return rows;
}

} // namespace

TEST_CASE("the constant-expression checks hold at run time too") {
    CHECK(llama_3_1_8b_q4_k_m_matches_oracle());
    CHECK(gemma_3_12b_matches_oracle());
}

TEST_CASE("every CPU oracle run: model, KV and output buffers (catalog path)") {
    REQUIRE(oracle().size() == 210);
    test::accuracy_table table;
    for (const auto& row : oracle()) {
        const auto model = catalog_model(row);
        REQUIRE_MESSAGE(model.ok(), model.err().describe());
        check_row(row, *model, "catalog", table);
    }
    MESSAGE("Accuracy against the CPU oracle, catalog path:\n" << table.render());
}

#if VRAMFIT_ORACLE_GGUF_PATH
TEST_CASE("every CPU oracle run: model, KV and output buffers (GGUF path)") {
    test::accuracy_table table;
    std::map<std::string, model_description> loaded;  // one file per model and ftype
    for (const auto& row : oracle()) {
        const std::string name = row["model_key"] + "." + row["ftype"];
        if (!loaded.count(name)) {
            const auto model = catalog_model(row);
            REQUIRE_MESSAGE(model.ok(), model.err().describe());
            auto back = through_gguf(*model, row["model_key"], name + ".gguf");
            REQUIRE_MESSAGE(back.ok(), back.err().describe());
            loaded.emplace(name, std::move(*back));
        }
        check_row(row, loaded.at(name), "gguf", table);
    }
    MESSAGE("Accuracy against the CPU oracle, GGUF path:\n" << table.render());
}
#endif

#if VRAMFIT_ORACLE_GGUF_PATH
TEST_CASE("a split GGUF gets one CPU_Mapped range per file") {
    // llama-3.2-1b Q4_K_M (oracle: CPU_Mapped 753.81 + CPU_REPACK 445.50 MiB as one file),
    // written as three parts the way gguf-split does and read back from its first part.
    const auto* entry = catalog::find("llama-3.2-1b");
    REQUIRE(entry != nullptr);
    const auto model = llama_cpp::describe("llama-3.2-1b:Q4_K_M");
    REQUIRE(model.ok());
    const auto paths = gguf_writer_for(*model, *entry).write_sparse_split(scratch_dir() / "llama-3.2-1b-split", 3);
    REQUIRE_MESSAGE(paths.ok(), paths.err().describe());
    const auto split = load_model_description(paths->front());
    for (const auto& p : *paths) {
        std::error_code ignored;
        std::filesystem::remove(p, ignored);
    }
    REQUIRE_MESSAGE(split.ok(), split.err().describe());
    REQUIRE(split->files.size() == 3);

    // without repacking each part maps its own tensors: the ranges add up to the tensor bytes
    // plus the alignment padding between tensors of the same part
    const auto plain = estimate(*split, {.repack = repack_mode::off});
    REQUIRE(plain.ok());
    REQUIRE(plain->weights.mapped.size() == 3);
    std::uint64_t expected = 0;
    for (std::uint16_t f = 0; f < 3; ++f) {
        std::uint64_t end = 0;
        for (const auto& t : split->tensors) {
            if (t.file_index == f) end = t.offset + t.size().count();
        }
        expected += end;  // each part's first tensor starts at offset 0 of its data section
        CHECK(plain->weights.mapped[f].file_index == f);
    }
    CHECK(plain->model_buffer("CPU_Mapped") == bytes{expected});

    // repacking does not depend on the files: the same 445.50 MiB as the single file
    const auto repacked = estimate(*split, {.repack = repack_mode::avx512});
    REQUIRE(repacked.ok());
    CHECK(repacked->model_buffer("CPU_REPACK").mib() == doctest::Approx(445.50));
    CHECK(repacked->model_buffer("CPU_Mapped") <= plain->model_buffer("CPU_Mapped"));
}
#endif

TEST_CASE("every CPU oracle run: compute buffer within 2 % or 1 MiB") {
    if (!estimates_compute_buffer) {
        MESSAGE("compute_buffer.hpp is not part of this build; compute checks skipped");
        return;
    }
    test::accuracy_table table;
    for (const auto& row : oracle()) {
        INFO("run " << row["run_id"]);
        const auto model = catalog_model(row);
        REQUIRE(model.ok());
        const auto est = estimate(*model, test::params_of(row));
        REQUIRE(est.ok());
        const double estimated = est->compute_bytes().count() / mib;
        const double printed = row.buffers("compute_buffer_mib")["CPU"];
        table.add(row["model_key"], "compute", estimated - printed);
        CHECK(std::fabs(estimated - printed) <= std::max(1.0, 0.02 * printed));
    }
    MESSAGE("Compute buffer against the CPU oracle:\n" << table.render());
}

// The held-back models have no measured rows here; these checks only apply the engine's rules as
// the oracle README states them (phi3 ignores its sliding window, MLA caches no V, gemma2
// alternates SWA and full layers) to the catalog's descriptions of them.
TEST_CASE("held-back architectures follow the engine's cache rules") {
    const auto phi3 = estimate(*llama_cpp::describe("phi-3-mini-4k:Q4_K_M"), {.n_ctx = 4096});
    REQUIRE(phi3.ok());
    CHECK(phi3->kv.swa.layers == 0);
    CHECK(phi3->kv.full.layers == 32);
    CHECK(phi3->kv.full.k == bytes{32ULL * 4096 * 3072 * 2});  // MHA: 32 KV heads of 96

    const auto ds = estimate(*llama_cpp::describe("deepseek-v2-lite:Q4_K_M"), {.n_ctx = 4096});
    REQUIRE(ds.ok());
    CHECK(ds->kv.full.k == bytes{27ULL * 4096 * 576 * 2});
    CHECK(ds->kv.full.v == 0_B);

    const auto gemma2 = estimate(*llama_cpp::describe("gemma-2-9b:Q4_K_M"), {.n_ctx = 8192});
    REQUIRE(gemma2.ok());
    CHECK(gemma2->kv.full.layers == 21);
    CHECK(gemma2->kv.swa.layers == 21);
    CHECK(gemma2->kv.swa.cells == 4608);  // pad256(min(8192, 4096 + 512))
    CHECK(gemma2->kv.full.k == bytes{21ULL * 8192 * 2048 * 2});

    const auto mistral = estimate(*llama_cpp::describe("mistral-7b-v0.3:Q4_K_M"), {.n_ctx = 4096});
    REQUIRE(mistral.ok());
    CHECK(mistral->kv.full.total() == bytes{512ULL << 20});
    CHECK(mistral->output_bytes() == bytes{32768ULL * 4});

    // Mamba-2: one conv and one SSM state per sequence and layer, no KV cache
    const auto mamba = estimate(*llama_cpp::describe("mamba2-2.7b"), {.n_ctx = 4096, .n_seq = 2});
    REQUIRE(mamba.ok());
    CHECK(mamba->kv.full.layers == 0);
    CHECK(mamba->recurrent.cells == 2);
    CHECK(mamba->recurrent.total() == bytes{64ULL * 2 * (3 * (5120 + 2 * 128) + 128 * 5120) * 4});
}
