// CUDA placement: per-device model and KV buffers (cuda/offload.hpp) against hand-worked layer splits
// and against the complete mainline CUDA rows of tests/data/validation_logs.csv.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "../llama_cpp/hand_built.hpp"
#include "validation_rows.hpp"
#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/cuda/offload.hpp"

using namespace vramfit;
using namespace vramfit::llama_cpp;

namespace {

// Pythia 2.8B (gptneox) as the llama.cpp CI converts it: every tensor has a bias; the 2-D weights
// take the file type, token_embd / output as the quantizer types them (llama-quant.cpp
// llama_tensor_get_type: output.weight q6_K for every k-quant and Q4_0; Q4_K_M gives attn_qkv
// q5_K and ffn_down q6_K on use_more_bits layers, q4_K elsewhere). The type counts printed in
// the CI logs (R26-R29 notes) agree: f32 258, and f16 130 / q8_0 130 / q4_0 129 + q6_K 1 /
// q4_K 81 + q5_K 32 + q6_K 17.
enum class pythia_file : std::uint8_t { f16, q8_0, q4_0, q4_k_m };

constexpr bool use_more_bits(int il, int n_layer) { return il < n_layer / 8 || il >= 7 * n_layer / 8 || (il - n_layer / 8) % 3 == 2; }

constexpr model_description pythia_2_8b(pythia_file file) {
    auto m = test::hand_built({.arch = architecture::gptneox, .n_layer = 32, .n_embd = 2560, .n_head = 32, .n_head_kv = 32,
                               .head_dim = 80, .n_vocab = 50304, .n_ctx_train = 2048},
                              "pythia-2.8b");
    const auto matrix = [&](bool is_output_or_embd, bool more_bits, bool qkv) {
        switch (file) {
            case pythia_file::f16: return ggml_type::f16;
            case pythia_file::q8_0: return ggml_type::q8_0;
            case pythia_file::q4_0: return is_output_or_embd && more_bits ? ggml_type::q6_K : ggml_type::q4_0;
            case pythia_file::q4_k_m:
                if (is_output_or_embd) return more_bits ? ggml_type::q6_K : ggml_type::q4_K;
                if (qkv) return ggml_type::q5_K;
                return more_bits ? ggml_type::q6_K : ggml_type::q4_K;
        }
        return ggml_type::f32;
    };
    constexpr std::int64_t e = 2560, ff = 10240, vocab = 50304;
    // file order: token_embd, then the blocks, then the output tensors (names only matter here)
    test::add_tensor(m, "token_embd.weight", {e, vocab, 1, 1}, matrix(true, false, false));
    const char* const names[32] = {"blk.0.", "blk.1.", "blk.2.", "blk.3.", "blk.4.", "blk.5.", "blk.6.", "blk.7.",
                                   "blk.8.", "blk.9.", "blk.10.", "blk.11.", "blk.12.", "blk.13.", "blk.14.", "blk.15.",
                                   "blk.16.", "blk.17.", "blk.18.", "blk.19.", "blk.20.", "blk.21.", "blk.22.", "blk.23.",
                                   "blk.24.", "blk.25.", "blk.26.", "blk.27.", "blk.28.", "blk.29.", "blk.30.", "blk.31."};
    for (int il = 0; il < 32; ++il) {
        const auto name = [&](std::string_view suffix) {
            vramfit::tensor_name n{names[il]};
            n.append(suffix);
            return n;
        };
        const bool more = use_more_bits(il, 32);
        const auto add = [&](std::string_view suffix, std::array<std::int64_t, 4> ne, ggml_type t, std::uint32_t dims) {
            tensor_info info{};
            info.name = name(suffix);
            info.ne = ne;
            info.n_dims = dims;
            info.type = t;
            m.tensors.push_back(info);
        };
        add("attn_norm.weight", {e, 1, 1, 1}, ggml_type::f32, 1);
        add("attn_norm.bias", {e, 1, 1, 1}, ggml_type::f32, 1);
        add("attn_qkv.weight", {e, 3 * e, 1, 1}, matrix(false, false, true), 2);
        add("attn_qkv.bias", {3 * e, 1, 1, 1}, ggml_type::f32, 1);
        add("attn_output.weight", {e, e, 1, 1}, matrix(false, false, false), 2);
        add("attn_output.bias", {e, 1, 1, 1}, ggml_type::f32, 1);
        add("ffn_norm.weight", {e, 1, 1, 1}, ggml_type::f32, 1);
        add("ffn_norm.bias", {e, 1, 1, 1}, ggml_type::f32, 1);
        add("ffn_up.weight", {e, ff, 1, 1}, matrix(false, false, false), 2);
        add("ffn_up.bias", {ff, 1, 1, 1}, ggml_type::f32, 1);
        add("ffn_down.weight", {ff, e, 1, 1}, matrix(false, more, false), 2);
        add("ffn_down.bias", {e, 1, 1, 1}, ggml_type::f32, 1);
    }
    test::add_tensor(m, "output_norm.weight", {e, 1, 1, 1}, ggml_type::f32, 1);
    test::add_tensor(m, "output_norm.bias", {e, 1, 1, 1}, ggml_type::f32, 1);
    test::add_tensor(m, "output.weight", {e, vocab, 1, 1}, matrix(true, true, false));
    assign_offsets(m);
    return m;
}

// llama-cli -ngl 99 -c 0 on one V100 (R26-R29): n_ctx = n_ctx_train = 2048, no flash attention.
constexpr resolved_context pythia_context() {
    resolved_context ctx{};
    ctx.n_ctx = ctx.n_ctx_seq = ctx.kv_cells = 2048;
    ctx.n_batch = 2048;
    ctx.n_ubatch = 512;
    ctx.flash_attn = false;
    return ctx;
}

constexpr offload_estimate pythia_on_one_gpu(pythia_file file) {
    offload_params params{};
    params.n_gpu_layers = 99;
    return *offload_buffers(pythia_2_8b(file), pythia_context(), params);
}

constexpr std::uint64_t mib_x100(bytes b) { return (b.count() * 100 + 524288) / 1048576; }

// Engine log R26 (F16): CUDA0 model 5049.71, CPU_Mapped 245.62 (token_embd), KV CUDA0 640.00.
static_assert(mib_x100(pythia_on_one_gpu(pythia_file::f16).devices[0].model) == 504971);
static_assert(pythia_on_one_gpu(pythia_file::f16).mapped_total() == bytes{50304ULL * 2560 * 2});  // printed 245.62 (245.625 exactly)
static_assert(pythia_on_one_gpu(pythia_file::f16).devices[0].kv == 640_MiB);
// R28 (Q4_0): CUDA0 1454.83, CPU_Mapped 69.08.
static_assert(mib_x100(pythia_on_one_gpu(pythia_file::q4_0).devices[0].model) == 145483);
static_assert(mib_x100(pythia_on_one_gpu(pythia_file::q4_0).mapped_total()) == 6908);

bool printed_equal(bytes estimate, double printed) {
    return std::abs(static_cast<double>(estimate.count()) / 1048576.0 - printed) <= 0.00501;
}

} // namespace

TEST_CASE("layer placement follows load_tensors' cumulative split") {
    // 4 layers + output over 2 devices, equal split: points 0/5..4/5 against splits {0.5, 1}.
    const std::vector<float> halves{0.5f, 1.0f};
    CHECK(llama_cpp::detail::layer_device_of(0, 4, 99, halves) == 0);
    CHECK(llama_cpp::detail::layer_device_of(2, 4, 99, halves) == 0);  // 2/5 < 0.5
    CHECK(llama_cpp::detail::layer_device_of(3, 4, 99, halves) == 1);  // 3/5
    CHECK(llama_cpp::detail::layer_device_of(4, 4, 99, halves) == 1);  // the output layer
    // -ngl 4 of 4 layers: i_gpu_start = 1, so layer 0 stays on the CPU and the output is offloaded
    CHECK(llama_cpp::detail::layer_device_of(0, 4, 4, halves) == -1);
    CHECK(llama_cpp::detail::layer_device_of(4, 4, 4, halves) == 1);
    // -ngl 0: all on the CPU
    CHECK(llama_cpp::detail::layer_device_of(4, 4, 0, halves) == -1);
}

TEST_CASE("tied output is duplicated on the output layer's GPU; -sm none uses the main GPU only") {
    auto m = test::hand_built({.n_layer = 2, .n_embd = 512, .n_head = 4, .n_head_kv = 4, .head_dim = 128, .n_vocab = 1000});
    test::add_tensor(m, "token_embd.weight", {512, 1000, 1, 1}, ggml_type::q8_0);  // 544000
    test::add_tensor(m, "blk.0.attn_q.weight", {512, 512, 1, 1}, ggml_type::f16);  // 524288
    test::add_tensor(m, "blk.1.attn_q.weight", {512, 512, 1, 1}, ggml_type::f16);
    assign_offsets(m);
    resolved_context ctx{};
    ctx.kv_cells = 256;
    offload_params params{};
    params.n_devices = 2;
    params.mode = split_mode::none;
    params.main_gpu = 1;
    const auto est = offload_buffers(m, ctx, params);
    REQUIRE(est.ok());
    CHECK(est->devices[0].model == 0_B);
    CHECK(est->devices[1].model == bytes{2 * 524288 + 544000});
    CHECK(est->mapped_total() == bytes{544000});
    // 2 layers x (K + V) x 256 cells x 512 x f16, on CUDA1
    CHECK(est->devices[1].kv == bytes{2 * 2 * 256 * 512 * 2});
    CHECK(est->devices[1].kv_layers == 2);

    // quantized ne[0] not a multiple of 512: one padded row more (ggml-cuda get_alloc_size)
    tensor_info odd{};
    odd.name = "blk.0.ffn_down.weight";
    odd.ne = {2880, 10, 1, 1};
    odd.type = ggml_type::q8_0;
    CHECK(llama_cpp::detail::cuda_tensor_alloc(odd) == pad_to(bytes{2880 / 32 * 34 * 10 + (512 - 2880 % 512) / 32 * 34}, 128));
}

TEST_CASE("bad offload parameters are errors") {
    const auto m = test::llama_3_1_8b();
    resolved_context ctx{};
    ctx.kv_cells = 256;
    offload_params params{};
    params.n_devices = 2;
    params.main_gpu = 2;
    CHECK_FALSE(offload_buffers(m, ctx, params).ok());
    params.main_gpu = 0;
    params.overrides.push_back({"ffn", 5});
    CHECK_FALSE(offload_buffers(m, ctx, params).ok());
    params.overrides.clear();
    params.n_devices = 0;
    CHECK_FALSE(offload_buffers(m, ctx, params).ok());
}

TEST_CASE("validation rows R26-R29: pythia 2.8B on one V100, model and KV buffers to 0.01 MiB") {
    const std::pair<const char*, pythia_file> rows[] = {
        {"R26", pythia_file::f16}, {"R27", pythia_file::q8_0}, {"R28", pythia_file::q4_0}, {"R29", pythia_file::q4_k_m}};
    for (const auto& entry : rows) {
        const char* id = entry.first;
        const pythia_file file = entry.second;
        CAPTURE(id);
        const auto row = test::validation_row(id);
        REQUIRE(row.has_value());
        const auto model = test::buffer_list(row->at("model_buffers_mib"));
        const auto kv = test::buffer_list(row->at("kv_buffers_mib"));
        const auto est = pythia_on_one_gpu(file);
        CHECK(printed_equal(est.devices[0].model, model.at("CUDA0").at(0)));
        CHECK(printed_equal(est.mapped_total(), model.at("CPU_Mapped").at(0)));
        CHECK(printed_equal(est.devices[0].kv, kv.at("CUDA0").at(0)));
        CHECK(est.cpu_kv == 0_B);
        CHECK(est.devices[0].layers == 32);
        CHECK(est.devices[0].output_layer);
    }
}

namespace {


// Every buffer of `devices` (CUDA<i>) and the named host buffers, against the row's printed sizes.
void check_row(const char* id, const char* catalog_key, bool use_mmap, const offload_params& params,
               bool check_mapped_total) {
    CAPTURE(id);
    const auto row = test::validation_row(id);
    REQUIRE(row.has_value());
    const auto model = llama_cpp::describe(catalog_key);
    REQUIRE(model.ok());
    const auto est = offload_buffers(*model, test::context_of(*row, use_mmap), params);
    REQUIRE(est.ok());
    const auto model_buffers = test::buffer_list(row->at("model_buffers_mib"));
    const auto kv_buffers = test::buffer_list(row->at("kv_buffers_mib"));
    for (const auto& device : est->devices) {
        const std::string name{device.name};
        CAPTURE(name);
        if (model_buffers.count(name) != 0) CHECK(printed_equal(device.model, model_buffers.at(name).at(0)));
        else CHECK(device.model == 0_B);
        if (kv_buffers.count(name) != 0) CHECK(printed_equal(device.kv, kv_buffers.at(name).at(0)));
        else CHECK(device.kv == 0_B);
    }
    if (model_buffers.count("CPU") != 0) CHECK(printed_equal(est->cpu, model_buffers.at("CPU").at(0)));
    if (model_buffers.count("CUDA_Host") != 0) CHECK(printed_equal(est->cuda_host, model_buffers.at("CUDA_Host").at(0)));
    if (kv_buffers.count("CPU") != 0) CHECK(printed_equal(est->cpu_kv, kv_buffers.at("CPU").at(0)));
    if (check_mapped_total && model_buffers.count("CPU_Mapped") != 0) {
        double printed = 0;
        for (double part : model_buffers.at("CPU_Mapped")) printed += part;
        // a sum of printed parts: each part is rounded to 0.01 MiB
        CHECK(std::abs(static_cast<double>(est->mapped_total().count()) / 1048576.0 - printed) <=
              0.00501 * static_cast<double>(model_buffers.at("CPU_Mapped").size()));
    }
}

} // namespace

// The Qwen3 rows are files llama-quantize made from the published checkpoints, which the catalog
// describes (tests/data/catalog_validation.csv); the -ot patterns are the rows' command lines
// (regex, device; -1 = CPU).
TEST_CASE("validation rows R01/R02: Qwen3-235B Q8_0, FFN of late blocks overridden to CPU, no mmap") {
    // The rows print "CPU" and "CUDA_Host" model buffers, which is what the loader makes without
    // mmap (with mmap both would be CPU_Mapped).
    offload_params r01{};
    r01.n_gpu_layers = 99;
    // the row's command line: -ot blk\.1[3-9]\.ffn.*=CPU -ot blk\.[2-8][0-9]\.ffn.*=CPU -ot blk\.9[0-3]\.ffn.*=CPU
    r01.overrides.push_back({"blk\\.1[3-9]\\.ffn.*", -1});
    r01.overrides.push_back({"blk\\.[2-8][0-9]\\.ffn.*", -1});
    r01.overrides.push_back({"blk\\.9[0-3]\\.ffn.*", -1});
    check_row("R01", "qwen3-235b-a22b:Q8_0", false, r01, false);
    offload_params r02{};
    r02.n_gpu_layers = 99;
    r02.overrides.push_back({"blk\\.1[4-9]\\.ffn.*", -1});  // -ot blk\.1[4-9]\.ffn.*=CPU
    r02.overrides.push_back({"blk\\.[2-9][0-9]\\.ffn.*", -1});  // -ot blk\.[2-9][0-9]\.ffn.*=CPU
    check_row("R02", "qwen3-235b-a22b:Q8_0", false, r02, false);
}

TEST_CASE("validation rows R03/R04/R05: Qwen3-235B Q6_K on one and two RTX 3090, and with -ngl 0") {
    offload_params r03{};
    r03.n_gpu_layers = 99;
    // the row's note abbreviates the command line ("blk\.(0..4)\.ffn.*=CUDA0", "(5..93) ffn=CPU"):
    // the same overrides as regexes
    r03.overrides.push_back({"blk\\.[0-4]\\.ffn.*", 0});
    r03.overrides.push_back({"blk\\.([5-9]|[1-8][0-9]|9[0-3])\\.ffn.*", -1});
    // CPU_Mapped is one range per split file; the catalog model is one file, so only R05's total
    // (every tensor on the CPU: the whole data of all four parts) is comparable.
    check_row("R03", "qwen3-235b-a22b:Q6_K", true, r03, false);

    // No -ts: the engine splits by free memory; two idle RTX 3090 are an equal split, and the KV
    // (48 and 46 layers x 17 MiB) shows exactly that.
    offload_params r04{};
    r04.n_devices = 2;
    r04.n_gpu_layers = 99;
    r04.overrides.push_back({"blk\\.[0-6]\\.ffn", 0});  // note: blk.(0-6).ffn=CUDA0
    r04.overrides.push_back({"blk\\.([7-9]|1[0-3])\\.ffn", 1});  // blk.(7-13).ffn=CUDA1
    r04.overrides.push_back({"blk\\.(1[4-9]|[2-8][0-9]|9[0-3])\\.ffn", -1});  // blk.(14-93).ffn=CPU
    check_row("R04", "qwen3-235b-a22b:Q6_K", true, r04, false);

    offload_params r05{};
    r05.n_devices = 2;
    r05.n_gpu_layers = 0;
    check_row("R05", "qwen3-235b-a22b:Q6_K", true, r05, true);
}

TEST_CASE("validation row R07: Qwen3-30B-A3B Q4_K_M, experts on CPU, RTX 4090 + RTX 5090") {
    // No -ts: split by free memory at load time, which the log does not print. The split 12:37
    // reproduces the 12/36 layer division the KV buffers show (384 / 1152 MiB at 32 MiB a layer);
    // it is the only input taken from the row's outputs, and everything else then follows.
    offload_params r07{};
    r07.n_devices = 2;
    r07.n_gpu_layers = 99;
    r07.tensor_split[0] = 12;
    r07.tensor_split[1] = 37;
    r07.overrides.push_back({".ffn_.*_exps.", -1});  // -ot ".ffn_.*_exps.=CPU"
    check_row("R07", "qwen3-30b-a3b:Q4_K_M", true, r07, true);
}

TEST_CASE("validation rows R11/R12: KV per device where the weights' exact types are unknown") {
    // R11, GLM-Z1-32B IQ4_XS on one RTX 3090 Ti: glm4 has no tensor layout in vramfit and the
    // IQ4_XS file's per-tensor types are not in the log, so only the KV is checked.
    auto glm = test::hand_built({.arch = architecture::glm4, .n_layer = 61, .n_embd = 6144, .n_head = 48, .n_head_kv = 2,
                                 .head_dim = 128, .n_vocab = 151552});
    const auto r11 = test::validation_row("R11");
    REQUIRE(r11.has_value());
    offload_params one_gpu{};
    one_gpu.n_gpu_layers = 99;
    const auto glm_est = offload_buffers(glm, test::context_of(*r11, true), one_gpu);
    REQUIRE(glm_est.ok());
    CHECK(printed_equal(glm_est->devices[0].kv, test::buffer_list(r11->at("kv_buffers_mib")).at("CUDA0").at(0)));

    // R12, DeepSeek-V3 (MLA) on four GPUs, build 5331: that build cached V (512 wide) beside the
    // 576-wide latent K; at 1425386f the MLA cache holds K only (kv_cache.hpp), so the per-device
    // buffers cannot match. The K total (61 layers x 576 x 16384 x f16 = 1098 MiB) does, and the
    // layer division 15/12/12/22 follows from a split the log does not print (free memory).
    auto ds = test::hand_built({.arch = architecture::deepseek2, .n_layer = 61, .n_embd = 7168, .n_head = 128, .n_head_kv = 1,
                                .head_dim = 576, .n_vocab = 129280});
    ds.hparams.n_embd_head_v = 512;
    ds.hparams.n_lora_kv = 512;
    ds.hparams.n_embd_head_k_mla = 192;
    ds.hparams.n_embd_head_v_mla = 128;
    const auto r12 = test::validation_row("R12");
    REQUIRE(r12.has_value());
    offload_params four{};
    four.n_devices = 4;
    four.n_gpu_layers = 99;
    four.tensor_split = {15, 12, 12, 23};  // 15/12/12 layers and 22 + the output layer
    const auto ds_est = offload_buffers(ds, test::context_of(*r12, false), four);
    REQUIRE(ds_est.ok());
    bytes k_total{};
    const std::uint32_t expected_layers[] = {15, 12, 12, 22};
    for (std::size_t i = 0; i < 4; ++i) {
        k_total += ds_est->devices[i].kv;
        CHECK(ds_est->devices[i].kv_layers == expected_layers[i]);
    }
    CHECK(printed_equal(k_total, std::stod(r12->at("kv_k_mib"))));
}
