// The architectures added for the catalog's common models (llama4, gptneox, glm4, command-r):
// their hyper-parameter rules, tensor layouts, KV caches and compute graphs, checked at compile
// time and against the real load logs of tests/data/validation_logs.csv (rows R10, R11, R26-R32;
// see tests/data/README.md, section "validation rows for the added architectures").
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include "../llama_cpp_cuda/validation_rows.hpp"
#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/compute_buffer.hpp"
#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/kv_cache.hpp"

#include "validation_arch_checks.hpp"
#include "vramfit/engines/llama_cpp/cuda/offload.hpp"
#include "vramfit/engines/llama_cpp/weights.hpp"

using namespace vramfit;
using namespace vramfit::llama_cpp;

namespace {

using namespace validation_arch_checks;  // the checks static_validation_archs.cpp evaluates at compile time

// ---- hyper-parameter rules (src/models/<arch>.cpp, load_arch_hparams) ----------------------
// (static_validation_archs.cpp static_asserts each of these at compile time)





// ---- tensor layouts (load_arch_tensors) --------------------------------------------------------

// glm4: attn_norm, q, k, v, o, post_attention_norm, ffn_norm, down, up (gate|up), post_ffw_norm

// ---- KV caches -------------------------------------------------------------------------------





// ---- helpers for the validation rows --------------------------------------------------------

// The engine prints "%.2f" of the exact MiB value (round-half-even on exact binary halves).
bool printed_equal(bytes estimate, double printed) {
    return std::abs(static_cast<double>(estimate.count()) / 1048576.0 - printed) <= 0.00501;
}

double first_buffer(const test::csv_row& row, const std::string& column, const std::string& device) {
    const auto buffers = test::buffer_list(row.at(column));
    const auto it = buffers.find(device);
    const std::string what = column + " has no " + device;
    REQUIRE_MESSAGE(it != buffers.end(), what);
    return it->second.front();
}

// "tensor types f32 258, q4_0 129, q6_K 1 (output); ..." in a row's notes -> {type: count}.
std::map<std::string, int> printed_type_counts(const test::csv_row& row) {
    std::map<std::string, int> counts;
    // the file has CRLF line ends, and the reader keeps the '\r' on the last column's name
    auto it = row.find("notes");
    if (it == row.end()) it = row.find("notes\r");
    if (it == row.end()) return counts;
    const std::string& notes = it->second;
    const auto start = notes.find("tensor types ");
    if (start == std::string::npos) return counts;
    const std::string list = notes.substr(start + 13, notes.find(';', start) - start - 13);
    std::stringstream items(list);
    for (std::string item; std::getline(items, item, ',');) {
        std::stringstream fields(item);
        std::string type;
        int count = 0;
        fields >> type >> count;
        counts[type] = count;
    }
    return counts;
}

std::map<std::string, int> type_counts(const model_description& model) {
    std::map<std::string, int> counts;
    for (const auto& t : model.tensors) ++counts[std::string{type_name(t.type)}];
    return counts;
}

// The context the row's log printed (n_ctx is the value the engine used: its own padding of the
// time, not the target's GGML_PAD(n_ctx, 256), so the cells are taken as printed).
resolved_context printed_context(const test::csv_row& row) { return test::context_of(row, true); }

} // namespace

TEST_CASE("compile-time architecture checks hold at run time") {
    CHECK(scout_hparams());
    CHECK(maverick_hparams());
    CHECK(llama4_without_chunks());
    CHECK(pythia_hparams());
    CHECK(command_r_hparams());
    CHECK(glm4_hparams());
    CHECK(scout_kv());
    CHECK(glm4_kv_r10());
    CHECK(tensor_count(catalog::llama_4_scout::entry) == 4 + 48 * 13);
    CHECK(tensor_count(catalog::pythia_2_8b::entry) == 388);
    CHECK(command_r_plus_qk_norm());
}

TEST_CASE("llama4 without experts is refused, as load_arch_tensors throws") {
    auto md = *llama_cpp::detail::converter_metadata(catalog::llama_4_scout::entry);
    md.expert_count = 0;
    md.expert_used_count = 0;
    const auto hp = derive_hyperparameters(md);
    REQUIRE_FALSE(hp.ok());
    CHECK(hp.err().message().find("llama4.expert_count") != std::string_view::npos);
}

TEST_CASE("R26-R28: pythia 2.8B on one V100, model buffers per device and KV from the catalog, to 0.01 MiB") {
    // llama-cli -ngl 99 -c 0 (2048 cells, no flash attention). The F16, Q8_0 and Q4_0 files are
    // the catalog's converter output re-typed by the quantizer rules (R26: f32 258 + f16 130).
    const std::pair<const char*, const char*> rows[] = {{"R26", "pythia-2.8b:F16"}, {"R27", "pythia-2.8b:Q8_0"},
                                                        {"R28", "pythia-2.8b:Q4_0"}};
    for (const auto& entry : rows) {
        const std::string id = entry.first;
        const char* const name = entry.second;
        CAPTURE(id);
        const auto row = test::validation_row(id);
        REQUIRE(row.has_value());
        CHECK(row->at("arch") == "gptneox");
        const auto model = llama_cpp::describe(name);
        REQUIRE(model.ok());
        offload_params params{};
        params.n_gpu_layers = 99;
        const auto est = offload_buffers(*model, printed_context(*row), params);
        REQUIRE(est.ok());
        CHECK(printed_equal(est->devices[0].model, first_buffer(*row, "model_buffers_mib", "CUDA0")));
        CHECK(printed_equal(est->mapped_total(), first_buffer(*row, "model_buffers_mib", "CPU_Mapped")));
        CHECK(printed_equal(est->devices[0].kv, first_buffer(*row, "kv_buffers_mib", "CUDA0")));
        char gib[16];
        std::snprintf(gib, sizeof gib, "%.2f", model->weight_bytes().gib());
        CHECK(std::string{gib} == row->at("file_size_gib"));
        // the per-type tensor counts print_info listed (notes)
        const auto printed = printed_type_counts(*row);
        REQUIRE(printed.size() >= 2);
        CHECK(type_counts(*model) == printed);
    }
}

TEST_CASE("R29: pythia 2.8B Q4_K_M was quantized by build 4343, whose attn_qkv rule the target no longer has") {
    // Build 4343 typed every attn_qkv.weight of a Q4_K_M file q5_K (its ATTENTION_QKV branch; the
    // log's counts: q4_K 81, q5_K 32, q6_K 17). At the target, llama-quant.cpp's
    // category_is_attn_v takes fused QKV into the attn_v rules (q6_K on use_more_bits layers,
    // q4_K elsewhere), so the catalog's Q4_K_M differs from that file by exactly the 32 QKV
    // matrices: 16 of them 1 bit/weight heavier (q6_K), 16 lighter (q4_K).
    const auto row = test::validation_row("R29");
    REQUIRE(row.has_value());
    const auto model = llama_cpp::describe("pythia-2.8b:Q4_K_M");
    REQUIRE(model.ok());
    int q4 = 0, q5 = 0, q6 = 0;
    bytes qkv{};
    for (const auto& t : model->tensors) {
        q4 += t.type == ggml_type::q4_K ? 1 : 0;
        q5 += t.type == ggml_type::q5_K ? 1 : 0;
        q6 += t.type == ggml_type::q6_K ? 1 : 0;
        if (t.name.view().find("attn_qkv.weight") != std::string_view::npos) qkv += t.size();
    }
    auto printed = printed_type_counts(*row);  // q4_K 81, q5_K 32, q6_K 17
    CHECK(q4 == printed["q4_K"] + 16);
    CHECK(q5 == printed["q5_K"] - 32);
    CHECK(q6 == printed["q6_K"] + 16);
    // Re-typing the 32 QKV matrices as build 4343 did gives the printed CUDA0 buffer exactly.
    const bytes qkv_q5 = row_size(ggml_type::q5_K, 2560) * (3 * 2560) * 32;
    offload_params params{};
    params.n_gpu_layers = 99;
    const auto est = offload_buffers(*model, printed_context(*row), params);
    REQUIRE(est.ok());
    CHECK(printed_equal(est->devices[0].model - qkv + qkv_q5, first_buffer(*row, "model_buffers_mib", "CUDA0")));
    CHECK(printed_equal(est->mapped_total(), first_buffer(*row, "model_buffers_mib", "CPU_Mapped")));
}

TEST_CASE("R30: pythia 1.4B Q4_0 on the CPU: repacked and mapped buffers, KV; compute buffer") {
    const auto row = test::validation_row("R30");
    REQUIRE(row.has_value());
    const auto model = llama_cpp::describe("pythia-1.4b:Q4_0");
    REQUIRE(model.ok());
    // CI node ggml-2-x86-cpu (AVX-512): q4_0 matrices repacked (CPU_AARCH64 then, CPU_REPACK
    // now), the whole file still mapped over its first-to-last non-repacked tensor.
    const auto buffers = model_buffer_bytes(*model, true, repack_mode::avx512);
    REQUIRE(buffers.ok());
    CHECK(printed_equal(buffers->repack, first_buffer(*row, "model_buffers_mib", "CPU_AARCH64")));
    CHECK(printed_equal(buffers->mapped_total(), first_buffer(*row, "model_buffers_mib", "CPU_Mapped")));
    CHECK(test::printed_mib(model->weight_bytes().count()) == 786.31);  // "file size = 786.31 MiB"
    const resolved_context ctx = printed_context(*row);
    CHECK(printed_equal(kv_cache_bytes(*model, ctx).buffers(), first_buffer(*row, "kv_buffers_mib", "CPU")));
    // Compute: the log printed n_ubatch·(n_vocab + n_embd)·4 bytes (logits plus one hidden
    // state). The rebuilt graph of the target keeps one more [n_embd, n_ubatch] F32 tensor live
    // at the lm_head: result_norm (t_embd) is a graph output there, so the allocator may not
    // reuse it. The estimate is the printed figure plus that tensor (to the printed 0.01 MiB).
    const double printed = first_buffer(*row, "compute_buffers_mib", "CPU");
    CHECK(test::printed_mib(128ULL * (50304 + 2048) * 4) == printed);
    const auto compute = try_compute_buffer_bytes(*model, ctx);
    REQUIRE(compute.ok());
    CHECK(printed_equal(*compute - bytes{128ULL * 2048 * 4}, printed));
}

TEST_CASE("R10/R11: GLM-Z1-32B IQ4_XS (imatrix) model buffers, KV and compute") {
    // ubergarm's IQ4_XS was made with an importance matrix (no q5_K bump of the first ffn_down
    // layers); q/k/v carry no biases (the buffers sum to the tensor bytes without them).
    auto model = llama_cpp::describe_f16(catalog::glm_4_32b::entry);
    REQUIRE(model.ok());
    quantize_options options;
    options.has_imatrix = true;
    REQUIRE(quantize(*model, llama_ftype::mostly_iq4_xs, options).ok());
    const auto r10 = test::validation_row("R10");
    const auto r11 = test::validation_row("R11");
    REQUIRE((r10.has_value() && r11.has_value()));
    char gib[16];
    std::snprintf(gib, sizeof gib, "%.2f", model->weight_bytes().gib());
    CHECK(std::string{gib} == r10->at("file_size_gib"));
    char params[16];
    std::snprintf(params, sizeof params, "%.2f B", static_cast<double>(model->parameter_count()) * 1e-9);
    CHECK(std::string{params} == r10->at("model_params"));

    // R10: CPU only with --no-mmap: one CPU buffer of every tensor (IQ4_XS has no repack layout).
    const auto cpu = model_buffer_bytes(*model, false, repack_mode::avx2);
    REQUIRE(cpu.ok());
    CHECK(printed_equal(cpu->total(), first_buffer(*r10, "model_buffers_mib", "CPU")));
    // R11: -ngl 99 on one RTX 3090 Ti: token_embd mapped on the host, the rest on CUDA0; KV 1952.
    offload_params params_gpu{};
    params_gpu.n_gpu_layers = 99;
    const auto est = offload_buffers(*model, printed_context(*r11), params_gpu);
    REQUIRE(est.ok());
    CHECK(printed_equal(est->devices[0].model, first_buffer(*r11, "model_buffers_mib", "CUDA0")));
    CHECK(printed_equal(est->mapped_total(), first_buffer(*r11, "model_buffers_mib", "CPU_Mapped")));
    CHECK(printed_equal(est->devices[0].kv, first_buffer(*r11, "kv_buffers_mib", "CUDA0")));

    // R10 compute: printed 308.00 = 512·(151552 + 6144)·4 (logits plus one hidden state, build
    // 5192); the target's graph keeps t_embd as an output too (see R30): one more 512 x 6144 F32.
    const resolved_context ctx10 = printed_context(*r10);
    CHECK(printed_equal(kv_cache_bytes(*model, ctx10).buffers(), first_buffer(*r10, "kv_buffers_mib", "CPU")));
    const double printed = first_buffer(*r10, "compute_buffers_mib", "CPU");
    CHECK(test::printed_mib(512ULL * (151552 + 6144) * 4) == printed);
    const auto compute = try_compute_buffer_bytes(*model, ctx10);
    REQUIRE(compute.ok());
    CHECK(printed_equal(*compute - bytes{512ULL * 6144 * 4}, printed));
}

TEST_CASE("R31/R32: open-llama 3B v2 (llama) KV buffers; its k-quant weights came from a QK_K=64 build") {
    // n_embd 3200 is not a multiple of 256: the target's k-quants fall back (q4_K -> q5_0), while
    // the CI build 2649 typed these tensors q4_K (f32 53, q4_K 157, q6_K 27), which needs the
    // QK_K = 64 blocks of a LLAMA_QKK_64 build; so only the KV buffers are comparable.
    constexpr catalog::model_entry open_llama{
        .key = "open-llama-3b-v2", .display_name = "open-llama 3B v2",
        .config = {.model_type = "llama", .architecture = "LlamaForCausalLM", .num_hidden_layers = 26, .hidden_size = 3200,
                   .num_attention_heads = 32, .num_key_value_heads = 32, .head_dim = 100, .intermediate_size = 8640,
                   .vocab_size = 32000, .max_position_embeddings = 2048},
        .source = "print_info of R31"};
    const auto model = llama_cpp::describe(open_llama, llama_ftype::mostly_q4_K_M);
    REQUIRE(model.ok());
    for (const std::string id : {"R31", "R32"}) {
        CAPTURE(id);
        const auto row = test::validation_row(id);
        REQUIRE(row.has_value());
        // no flash attention in build 2649 (not printed): V transposed, f16
        test::csv_row r = *row;
        r["flash_attn"] = "0";
        const auto kv = kv_cache_bytes(*model, printed_context(r));
        CHECK(printed_equal(kv.k(), std::stod(row->at("kv_k_mib"))));
        CHECK(printed_equal(kv.v(), std::stod(row->at("kv_v_mib"))));
    }
    int fallback = 0;
    for (const auto& t : model->tensors) fallback += t.type == ggml_type::q5_0 || t.type == ggml_type::q8_0 ? 1 : 0;
    CHECK(fallback > 0);
}

TEST_CASE("every added architecture builds its compute graph; the logits bound the buffer from below") {
    for (const std::string name : {"llama-4-scout", "llama-4-maverick", "pythia-1.4b", "command-r-v01", "command-r-plus", "glm-4-9b"}) {
        CAPTURE(name);
        const auto model = llama_cpp::describe(name);
        REQUIRE(model.ok());
        for (const bool fa : {false, true}) {
            const auto ctx = context_for(*model, 4096, 512, fa);
            const auto compute = try_compute_buffer_bytes(*model, ctx);
            REQUIRE_MESSAGE(compute.ok(), compute.err().describe());
            CHECK(*compute >= bytes{512ULL * (model->hparams.n_vocab + model->hparams.n_embd) * 4});
            // The folded measurement (repeated layers left out) equals the full graph's.
            const auto pp = llama_cpp::detail::reserve_graph(model->hparams, ctx, llama_cpp::detail::prompt_ubatch(ctx), true);
            const auto full = llama_cpp::detail::reserve_graph(model->hparams, ctx, llama_cpp::detail::prompt_ubatch(ctx), false);
            CHECK(pp.size == full.size);
            CHECK(full.nodes > model->hparams.n_layer * 10);
        }
    }
}

TEST_CASE("llama4 Q4_K_M: expert and shared-expert ffn_down take the layer from the name (16 experts)") {
    // llama_tensor_get_type_impl: with more than one expert, layer_info reads "blk.N." from the
    // name, so ffn_down_exps and ffn_down_shexp of layer N both follow use_more_bits(N, n_layer);
    // attn_v follows the running attn_v counter (one per layer here).
    const auto model = llama_cpp::describe("llama-4-scout:Q4_K_M");
    REQUIRE(model.ok());
    const auto more_bits = [](int il) { return il < 6 || il >= 42 || (il - 6) % 3 == 2; };  // n_layer 48
    int checked = 0;
    for (const auto& t : model->tensors) {
        const std::string_view name = t.name.view();
        const bool down = name.find("ffn_down_exps") != std::string_view::npos || name.find("ffn_down_shexp") != std::string_view::npos;
        const bool attn_v = name.find("attn_v.weight") != std::string_view::npos;
        if (!down && !attn_v) continue;
        CAPTURE(std::string{name});
        CHECK(t.type == (more_bits(t.layer) ? ggml_type::q6_K : ggml_type::q4_K));
        ++checked;
    }
    CHECK(checked == 3 * 48);
}

TEST_CASE("gptneox: the sequential-residual variant builds the same nodes in another order") {
    // src/models/gptneox.cpp: use_par_res false adds the attention output before the FFN norm;
    // both branches expand the same ops (norm, mul, add, two biased products, gelu, two adds).
    const auto model = llama_cpp::describe("pythia-1.4b:Q4_0");
    REQUIRE(model.ok());
    const auto ctx = context_for(*model, 4096, 512, false);
    auto hp = model->hparams;
    REQUIRE(hp.use_par_res);
    llama_cpp::detail::llama_graph_builder parallel(hp, ctx, llama_cpp::detail::prompt_ubatch(ctx));
    REQUIRE(parallel.build());
    hp.use_par_res = false;
    llama_cpp::detail::llama_graph_builder sequential(hp, ctx, llama_cpp::detail::prompt_ubatch(ctx));
    REQUIRE(sequential.build());
    CHECK(parallel.node_count() == sequential.node_count());
    model_description seq_model = *model;
    seq_model.hparams = hp;
    const auto compute = try_compute_buffer_bytes(seq_model, ctx);
    REQUIRE(compute.ok());
    CHECK(*compute >= bytes{512ULL * (50304 + 2048) * 4});
}
