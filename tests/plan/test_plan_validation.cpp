// The planner against the placements real llama.cpp runs recorded (tests/data/validation_logs.csv,
// rows named by id). Same model shape, GPUs, context and KV settings as the row; the comment says
// what the row did and why the plan agrees or differs (BENCHMARKS.md, "Planner vs recorded
// placements", has the table).
#include <doctest/doctest.h>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/plan.hpp"

using namespace vramfit;
using namespace vramfit::literals;
using vramfit::catalog::gpu;

namespace {

result<plan_result> plan_row(std::string_view name, const plan_request& r) {
    auto model = llama_cpp::describe(name);
    REQUIRE(model.ok());
    return plan(*model, name.substr(name.find(':') + 1), r);
}

int distance(std::uint32_t a, std::uint32_t b) { return a > b ? static_cast<int>(a - b) : static_cast<int>(b - a); }

} // namespace

TEST_CASE("R21: llama-3.1-8b Q5_K_S on 3090 x2 + A4000, -ts 40,0: everything on CUDA0") {
    // The row forced one GPU with -ts 40,0; the planner picks one GPU by itself, and its KV
    // buffer is the row's to the MiB (82.00).
    plan_request r{};
    r.gpus = {gpu<"rtx-3090">::spec, gpu<"rtx-3090">::spec, gpu<"rtx-a4000">::spec};
    r.n_ctx = 1024;
    r.engine.n_batch = 1024;
    r.engine.flash_attn = false;
    r.engine.type_k = ggml_type::iq4_nl;
    r.engine.type_v = ggml_type::f16;
    r.engine.use_mmap = false;
    const auto p = plan_row("llama-3.1-8b:Q5_K_S", r);
    REQUIRE(p.ok());
    CHECK(p->gpus_used == 1);
    CHECK(p->devices[0].name == "CUDA0");
    CHECK(p->devices[0].layers == 32);
    CHECK(p->devices[0].output_layer);
    CHECK(p->devices[0].kv == 82_MiB);
}

TEST_CASE("R20: Qwen3-30B-A3B Q4_K_M, 32k, 2x Tesla T4: a two-GPU layer split near the row's 25/23") {
    // 17.1 GiB of weights + 3 GiB of KV do not fit one 15360 MiB T4; the row's KV (1600/1472 MiB
    // at 64 MiB a layer) shows 25/23 layers; the planner's equal-fill split is within 2 layers.
    plan_request r{};
    r.gpus = {gpu<"t4">::spec, gpu<"t4">::spec};
    r.n_ctx = 32768;
    const auto p = plan_row("qwen3-30b-a3b:Q4_K_M", r);
    REQUIRE(p.ok());
    CHECK(p->gpus_used == 2);
    CHECK(p->tier == plan_tier::gpu);
    CHECK(distance(p->devices[0].layers, 25) <= 2);
    CHECK(p->devices[0].kv + p->devices[1].kv == 3072_MiB);  // the row's 1600 + 1472
}

TEST_CASE("R07: Qwen3-30B-A3B Q4_K_M on RTX 4090 + RTX 5090: the row kept every expert on the CPU; it fits the 5090") {
    plan_request r{};
    r.gpus = {gpu<"rtx-4090">::spec, gpu<"rtx-5090">::spec};
    r.n_ctx = 16384;
    r.engine.flash_attn = false;
    const auto p = plan_row("qwen3-30b-a3b:Q4_K_M", r);
    REQUIRE(p.ok());
    CHECK(p->gpus_used == 1);
    CHECK(p->devices[0].name == "CUDA1");  // the 5090: the larger device first
    CHECK(p->tier == plan_tier::gpu);
    CHECK(p->devices[0].kv == 1536_MiB);   // the row's 384 + 1152, all on one device
}

TEST_CASE("R44: Qwen3-30B-A3B F16 on one RTX 4090, llama.cpp --fit: the same number of expert blocks on the GPU") {
    // --fit printed -ngl 48 -ot blk.(14..47).ffn_*_exps=CPU: experts of 13 blocks (1..13) on the
    // GPU, with a 1024 MiB fit target on the 20132 MiB the device had free (total 24077 minus
    // 3945 unaccounted). The planner, given the same room, keeps the experts of 13 blocks too
    // (the last ones: --n-cpu-moe 35), within one block as the compute buffer model evolves.
    auto device = gpu<"rtx-4090">::spec;
    device.memory = 20132_MiB;
    plan_request r{};
    r.gpus = {device};
    r.reserve_per_device = 1024_MiB;
    r.n_ctx = 4096;
    const auto p = plan_row("qwen3-30b-a3b:F16", r);
    REQUIRE(p.ok());
    CHECK(p->tier == plan_tier::host);
    CHECK(p->engine.n_gpu_layers == 49);
    CHECK(distance(48 - p->engine.n_cpu_moe, 13) <= 1);
    CHECK(p->devices[0].kv == 384_MiB);  // the breakdown's context 384
}

TEST_CASE("R04: Qwen3-235B-A22B Q6_K, 16k, q8_0 KV, 2x RTX 3090: experts on the CPU, the rest on the GPUs") {
    // The row hand-placed the experts of blocks 0-13 on the GPUs (15.9 and 16.3 GiB used); the
    // planner fills the cards (no reserve asked) and so keeps more expert blocks on them.
    plan_request r{};
    r.gpus = {gpu<"rtx-3090">::spec, gpu<"rtx-3090">::spec};
    r.n_ctx = 16384;
    r.engine.type_k = ggml_type::q8_0;
    r.engine.type_v = ggml_type::q8_0;
    const auto p = plan_row("qwen3-235b-a22b:Q6_K", r);
    REQUIRE(p.ok());
    CHECK(p->gpus_used == 2);
    CHECK(p->tier == plan_tier::host);
    CHECK(p->engine.n_gpu_layers == 95);
    CHECK(94 - p->engine.n_cpu_moe >= 14);
    CHECK(p->devices[0].kv + p->devices[1].kv == 1598_MiB);  // the row's 816 + 782
}

TEST_CASE("R42: llama3 70B Q3_K_S on a 24 GiB card + an 8 GiB card: about 61/19, the small card near full") {
    // The row split 61/19 and then failed to allocate a compute buffer. The planner's split is
    // the same within a layer and charges each device its compute buffer: the 8 GiB card is left
    // with little margin, which is where a reserve (--reserve) belongs.
    auto small = gpu<"gtx-1080-ti">::spec;
    small.memory = 8192_MiB;  // a GTX 1070
    plan_request r{};
    r.gpus = {gpu<"rtx-3090">::spec, small};
    r.n_ctx = 2048;
    r.engine.flash_attn = false;
    const auto p = plan_row("llama-3.3-70b:Q3_K_S", r);
    REQUIRE(p.ok());
    CHECK(p->gpus_used == 2);
    CHECK(distance(p->devices[0].layers, 61) <= 1);
    CHECK(p->devices[1].margin() < 1024_MiB);
}
