// -sm row (cuda/offload.hpp): which weights the CUDA split buffer type takes, how get_row_split
// spreads their rows over the devices, the "CUDA<i>_Split" buffer sizes, and validation row R19.
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

// 3 layers + output over 2 devices with an equal split: points 0, 1/4, 2/4, 3/4 against {0.5, 1}
// put layers 0-1 on CUDA0, layer 2 and the output on CUDA1.
constexpr model_description three_layers() {
    auto m = test::hand_built({.n_layer = 3, .n_embd = 4096, .n_head = 32, .n_head_kv = 8, .head_dim = 128, .n_vocab = 1000});
    test::add_tensor(m, "token_embd.weight", {4096, 1000, 1, 1}, ggml_type::q8_0);
    for (const char* blk : {"blk.0.", "blk.1.", "blk.2."}) {
        const auto name = [&](std::string_view suffix) {
            vramfit::tensor_name n{blk};
            n.append(suffix);
            return n;
        };
        test::add_tensor(m, name("attn_norm.weight").view(), {4096, 1, 1, 1}, ggml_type::f32, 1);
        test::add_tensor(m, name("attn_q.weight").view(), {4096, 4096, 1, 1}, ggml_type::q8_0);
        test::add_tensor(m, name("attn_q.bias").view(), {4096, 1, 1, 1}, ggml_type::f32, 1);
        test::add_tensor(m, name("ffn_gate_inp.weight").view(), {4096, 128, 1, 1}, ggml_type::f32);
        test::add_tensor(m, name("ffn_up_exps.weight").view(), {4096, 512, 8, 1}, ggml_type::q8_0, 3);
    }
    test::add_tensor(m, "output_norm.weight", {4096, 1, 1, 1}, ggml_type::f32, 1);
    test::add_tensor(m, "output.weight", {4096, 1000, 1, 1}, ggml_type::q8_0);
    return m;
}

constexpr std::uint64_t q8_row(std::uint64_t n) { return n / 32 * 34; }

constexpr offload_params row_params(std::uint32_t n_devices) {
    offload_params p{};
    p.n_devices = n_devices;
    p.mode = split_mode::row;
    return p;
}

constexpr bool three_layers_split_as_worked_out() {
    const auto m = three_layers();
    resolved_context ctx{};
    ctx.kv_cells = 256;
    const auto est = offload_buffers(m, ctx, row_params(2));
    if (!est) return false;
    const auto& d0 = est->devices[0];
    const auto& d1 = est->devices[1];
    // attn_q: 4096 rows, halves of 2048 (multiples of 128) on each device, in every layer.
    const std::uint64_t q_half = 2048 * q8_row(4096);
    // output: 1000 rows; 500 rounds down to 384, so CUDA0 gets rows 0-383 and CUDA1 384-999.
    const std::uint64_t out0 = 384 * q8_row(4096), out1 = 616 * q8_row(4096);
    // ffn_gate_inp (128 rows): on CUDA0 the layer's device would get rows [0, 0) -> plain CUDA0;
    // on CUDA1 it gets all 128 rows -> split, all on CUDA1.
    const std::uint64_t gate_inp = 128 * 4096 * 4;
    const std::uint64_t exps = 512 * 8 * q8_row(4096);     // 3-D (MUL_MAT_ID): never split
    const std::uint64_t norm = 4096 * 4;                   // 1-D: never split
    if (d0.split != bytes{3 * q_half + out0}) return false;
    if (d1.split != bytes{3 * q_half + out1 + gate_inp}) return false;
    // the Split buffer lines: per layer device, the whole tensors, each padded to 128 bytes
    if (d0.split_buffer != bytes{2 * 2 * q_half}) return false;
    if (d1.split_buffer != bytes{2 * q_half + gate_inp + (out0 + out1)}) return false;
    // the plain CUDA<i> buffers: norms, biases, experts, and CUDA0's two ffn_gate_inp
    if (d0.cuda_buffer() != bytes{2 * (norm + norm + gate_inp + exps)}) return false;
    if (d1.cuda_buffer() != bytes{norm + norm + exps + norm}) return false;
    if (d0.model != d0.cuda_buffer() + d0.split || est->device_total(1) != d1.model + d1.kv) return false;
    return est->split_total() == d0.split + d1.split;
}
static_assert(three_layers_split_as_worked_out());

bool printed_equal(bytes estimate, double printed) {
    return std::abs(static_cast<double>(estimate.count()) / 1048576.0 - printed) <= 0.00501;
}

} // namespace

TEST_CASE("-sm row: 2-D matmul weights of GPU layers go to the split buffer, rows over all devices") {
    CHECK(three_layers_split_as_worked_out());
    // -sm layer on the same model: no split buffer, the same layer division
    const auto m = three_layers();
    resolved_context ctx{};
    ctx.kv_cells = 256;
    auto layer = row_params(2);
    layer.mode = split_mode::layer;
    const auto by_layer = offload_buffers(m, ctx, layer);
    const auto by_row = offload_buffers(m, ctx, row_params(2));
    REQUIRE(by_layer.ok());
    REQUIRE(by_row.ok());
    CHECK(by_layer->split_total() == 0_B);
    CHECK(by_layer->layer_device == by_row->layer_device);
    CHECK(by_layer->devices[0].kv == by_row->devices[0].kv);
    CHECK(by_layer->devices[1].kv == by_row->devices[1].kv);
    // the same weights in all, less the 128-byte padding both add per tensor (whole-tensor sizes
    // here are multiples of 128)
    CHECK(by_layer->devices[0].model + by_layer->devices[1].model == by_row->devices[0].model + by_row->devices[1].model);
}

TEST_CASE("-sm row: rounding by compute capability, -ts shares, the padding row for every type") {
    // One layer: a 1000-row f16 matrix with ne0 = 2880 (2880 % 512 = 320 -> a padding row of 192
    // elements on each device, though f16 is not quantized).
    auto m = test::hand_built({.n_layer = 1, .n_embd = 2880, .n_head = 1, .n_head_kv = 1, .head_dim = 64, .n_vocab = 10});
    test::add_tensor(m, "blk.0.ffn_down.weight", {2880, 1000, 1, 1}, ggml_type::f16);
    resolved_context ctx{};
    auto p = row_params(2);  // layer 0 on CUDA0 in every case below
    p.tensor_split[0] = 3;
    p.tensor_split[1] = 1;
    const std::uint64_t row = 2880 * 2, pad = 192 * 2;
    // Pascal (6.1) on both: rounding 64. 1000 * 0.75 = 750 -> 704.
    p.compute_capability = {610, 610};
    auto est = offload_buffers(m, ctx, p);
    REQUIRE(est.ok());
    CHECK(est->devices[0].split == bytes{704 * row + pad});
    CHECK(est->devices[1].split == bytes{296 * row + pad});
    // Volta or newer on either device with a share: 128. 750 -> 640.
    p.compute_capability = {610, 700};
    est = offload_buffers(m, ctx, p);
    REQUIRE(est.ok());
    CHECK(est->devices[0].split == bytes{640 * row + pad});
    CHECK(est->devices[1].split == bytes{360 * row + pad});
    CHECK(est->devices[0].split_buffer == pad_to(bytes{1000 * row + 2 * pad}, 128));
    // A device with no share does not count for the rounding (64 here, not 128) — yet it still
    // gets the rows that rounding the others' end down leaves: 1000 * 1.0 -> 960, so the "empty"
    // last device holds rows 960-999, as get_row_split computes it.
    p.tensor_split = {1, 0};
    p.compute_capability = {610, 900};
    est = offload_buffers(m, ctx, p);
    REQUIRE(est.ok());
    CHECK(est->devices[0].split == bytes{960 * row + pad});
    CHECK(est->devices[1].split == bytes{40 * row + pad});
    // No -ts: ggml_cuda_info().default_tensor_split, by each device's total memory.
    p.tensor_split = {};
    p.compute_capability = {};
    p.device_memory = {24ULL << 30, 8ULL << 30};  // shares 3:1 -> rows 0-639 and 640-999
    est = offload_buffers(m, ctx, p);
    REQUIRE(est.ok());
    CHECK(est->devices[0].split == bytes{640 * row + pad});
    p.device_memory = {};  // unknown: equal -> 500 rounds to 384
    est = offload_buffers(m, ctx, p);
    REQUIRE(est.ok());
    CHECK(est->devices[0].split == bytes{384 * row + pad});
    CHECK(est->devices[1].split == bytes{616 * row + pad});
}

TEST_CASE("-sm row: overrides still win, and -sm none never splits") {
    const auto m = three_layers();
    resolved_context ctx{};
    auto p = row_params(2);
    p.overrides.push_back({"attn_q", 1});  // every attn_q to the plain CUDA1 buffer
    const auto est = offload_buffers(m, ctx, p);
    REQUIRE(est.ok());
    CHECK(est->devices[1].cuda_buffer() >= bytes{3 * 4096 * q8_row(4096)});
    CHECK(est->devices[0].split_buffer == 0_B);  // CUDA0's layers have no other splittable weight
    auto none = row_params(2);
    none.mode = split_mode::none;
    const auto single = offload_buffers(m, ctx, none);
    REQUIRE(single.ok());
    CHECK(single->split_total() == 0_B);
}

TEST_CASE("validation row R19: Qwen3-32B Q5_K_M, -sm row on two Tesla T4") {
    // R19 is ik_llama.cpp, which (like mainline before the buffer-type lists) kept every layer on
    // the main GPU and printed one "CUDA_Split" buffer; mainline at 1425386f divides the same split
    // tensors between CUDA0_Split and CUDA1_Split by layer. The totals are the same tensors with
    // the same get_alloc_size, so the sum of the Split buffers compares (see below), and the plain
    // CUDA buffers (the 1-D norms), the host buffer (token_embd, --no-mmap: "CPU") and the KV
    // total (ik put all of it on CUDA0, mainline divides it by layer) to 0.01 MiB.
    const auto row = test::validation_row("R19");
    REQUIRE(row.has_value());
    const auto model = llama_cpp::describe("qwen3-32b:Q5_K_M");
    REQUIRE(model.ok());
    resolved_context ctx{};
    ctx.n_ctx = ctx.n_ctx_seq = ctx.kv_cells = static_cast<std::uint32_t>(std::stoul(row->at("n_ctx")));
    ctx.n_ubatch = static_cast<std::uint32_t>(std::stoul(row->at("n_ubatch")));
    ctx.flash_attn = true;
    ctx.use_mmap = false;
    auto p = row_params(2);
    p.n_gpu_layers = 99;
    p.compute_capability = {750, 750};  // Tesla T4
    const auto est = offload_buffers(*model, ctx, p);
    REQUIRE(est.ok());
    const auto buffers = test::buffer_list(row->at("model_buffers_mib"));
    CHECK(printed_equal(est->devices[0].cuda_buffer() + est->devices[1].cuda_buffer(), buffers.at("CUDA0").at(0)));
    CHECK(printed_equal(est->cpu + est->cuda_host, buffers.at("CPU").at(0)));
    CHECK(printed_equal(est->devices[0].kv + est->devices[1].kv, test::buffer_list(row->at("kv_buffers_mib")).at("CUDA0").at(0)));
    // The split total: the catalog's Q5_K_M tensor types for Qwen3-32B weigh 12.2 MiB more than
    // this file (the log's "file size = 21.603 GiB" is the sum of its tensor bytes, and the
    // printed buffers add up to it), so the split buffer is compared through that difference:
    // ours minus the log's CUDA_Split must be ours minus the log's tensor bytes, to within the
    // 0.001 GiB the file size is printed to. The split itself then adds or loses nothing.
    const double ours_split = static_cast<double>(est->split_total().count()) / 1048576.0;
    const double ours_weights = static_cast<double>(model->weight_bytes().count()) / 1048576.0;
    const double log_weights = std::stod(row->at("file_size_gib")) * 1024.0;
    CHECK(std::abs((ours_split - buffers.at("CUDA_Split").at(0)) - (ours_weights - log_weights)) <= 0.52);
    CHECK(std::abs(ours_split - buffers.at("CUDA_Split").at(0)) < 13.0);  // the catalog's excess, no more
    // and every splittable byte is in it: the -sm layer weights less the plain (1-D) tensors
    auto layer = p;
    layer.mode = split_mode::layer;
    const auto by_layer = offload_buffers(*model, ctx, layer);
    REQUIRE(by_layer.ok());
    CHECK(est->split_total() == by_layer->devices[0].model + by_layer->devices[1].model - est->devices[0].cuda_buffer() -
                                    est->devices[1].cuda_buffer());
    // equal T4s: the split weights are shared evenly to within the row rounding
    const double d0 = static_cast<double>(est->devices[0].split.count());
    const double d1 = static_cast<double>(est->devices[1].split.count());
    CHECK(std::abs(d0 - d1) / (d0 + d1) < 0.01);
}
