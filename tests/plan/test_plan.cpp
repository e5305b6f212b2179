// The planner (plan/plan.hpp) on real cases. Each expected decision follows from the memory model
// (cuda/offload.hpp / cuda/fit.hpp), and the comment next to it gives the numbers that decide it.
#include <doctest/doctest.h>

#include <string>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/plan.hpp"

using namespace vramfit;
using namespace vramfit::literals;
using vramfit::catalog::gpu;

// ---- compile time -----------------------------------------------------------------------------
// The seed case: gemma3:12b Q4_K_M at 4096 tokens on a Tesla K80 board (two 11441 MiB dies).
// One die holds all 48 layers, the output layer, 736 MiB of KV and the 527 MiB compute buffer
// (8219.50 MiB in all): one GPU, no split — where Ollama split it over both dies.
// (One constant evaluation of the plan, kept as the few fields the checks read: each evaluation
// costs the compiler about a minute.)
struct k80_decision {
    std::uint32_t gpus_used;
    plan_tier tier;
    std::uint32_t n_gpu_layers;
};
// Evaluated and static_asserted in static_plan.cpp, its own translation unit: editing this file
// does not evaluate the plan again.
extern const k80_decision k80_plan;

namespace {

plan_request on(std::initializer_list<catalog::gpu_spec> gpus) {
    plan_request r{};
    for (const auto& g : gpus) r.gpus.push_back(g);
    return r;
}

result<plan_result> plan_catalog(std::string_view name, const plan_request& r) {
    auto model = llama_cpp::describe(name);
    REQUIRE(model.ok());
    const auto colon = name.find(':');
    return plan(*model, colon == std::string_view::npos ? std::string_view{"default"} : name.substr(colon + 1), r);
}

int distance(std::uint32_t a, std::uint32_t b) { return a > b ? static_cast<int>(a - b) : static_cast<int>(b - a); }

bytes gpu_kv(const plan_result& p) {
    bytes sum{};
    for (const auto& d : p.devices) if (d.name != "CPU") sum += d.kv;
    return sum;
}

} // namespace

TEST_CASE("gemma3:12b Q4_K_M on 2x Tesla K80: one die, no split (the seed case)") {
    const auto p = plan_catalog("gemma-3-12b:Q4_K_M", on({gpu<"tesla-k80">::spec, gpu<"tesla-k80">::spec}));
    REQUIRE(p.ok());
    CHECK(p->gpus_used == 1);
    CHECK(p->tier == plan_tier::gpu);
    CHECK(p->engine.n_gpu_layers == 49);  // 48 layers + output: -ngl 49
    REQUIRE(p->devices.size() == 2);  // CUDA0 and the CPU row
    CHECK(p->devices[0].gpu == "tesla-k80");
    CHECK(p->devices[0].layers == 48);
    CHECK(p->devices[0].output_layer);
    CHECK(p->devices[0].total() < 11441_MiB);
    CHECK(p->devices[0].total() > 8000_MiB);
    // the same plan as the compile-time one
    CHECK(k80_plan.n_gpu_layers == p->engine.n_gpu_layers);
    // the two-die alternative is listed, and costs more GPU memory (a second compute buffer)
    bool two = false;
    for (const auto& a : p->alternatives) {
        if (a.gpus_used == 2 && a.tier == plan_tier::gpu) { two = true; CHECK(a.gpu_bytes > p->alternatives.front().gpu_bytes); }
    }
    CHECK(two);
}

TEST_CASE("gpt-oss-20b on H200s: one GPU, not spread (Ollama issue 11986)") {
    // 12.8 GiB of weights on a 143771 MiB device: one is plenty; the planner must not spread.
    for (int n = 1; n <= 4; ++n) {
        plan_request r{};
        for (int i = 0; i < n; ++i) r.gpus.push_back(gpu<"h200">::spec);
        const auto p = plan_catalog("gpt-oss-20b", r);
        REQUIRE(p.ok());
        CHECK(p->gpus_used == 1);
        CHECK(p->tier == plan_tier::gpu);
        CHECK(p->engine.n_gpu_layers == 25);
    }
    // with objective speed too: the layers of one token run one device after the other, so a
    // second H200 adds a transfer and no bandwidth
    plan_request r = on({gpu<"h200">::spec, gpu<"h200">::spec});
    r.objective = plan_objective::speed;
    const auto p = plan_catalog("gpt-oss-20b", r);
    REQUIRE(p.ok());
    CHECK(p->gpus_used == 1);
}

TEST_CASE("Qwen3-235B-A22B Q4_K_M on one RTX 3090 + 192 GB RAM: experts on the CPU, attention and KV on the GPU") {
    // 132 GiB of weights, 24576 MiB of GPU: the dense part (attention, norms, routers, output)
    // plus KV fits; the experts of most blocks go to the CPU (--n-cpu-moe), every layer keeps
    // its attention and KV on the GPU (-ngl 95).
    plan_request r = on({gpu<"rtx-3090">::spec});
    r.host_ram = 192_GiB;
    const auto p = plan_catalog("qwen3-235b-a22b:Q4_K_M", r);
    REQUIRE(p.ok());
    CHECK(p->gpus_used == 1);
    CHECK(p->tier == plan_tier::host);
    CHECK(p->engine.n_gpu_layers == 95);
    CHECK(p->engine.n_cpu_moe > 0);
    CHECK(p->engine.n_cpu_moe < 94);
    REQUIRE(p->devices.size() == 2);
    CHECK(p->devices[0].layers == 94);
    CHECK(p->devices[0].output_layer);
    CHECK(p->devices[1].name == "CPU");
    CHECK(p->devices[1].kv == 0_B);       // no KV on the host
    CHECK(p->devices[1].model > 100_GiB); // the experts
    CHECK(p->devices[1].total() <= 192_GiB);
    CHECK(p->devices[0].total() <= 24576_MiB);
    // one block fewer of experts on the CPU would not fit the GPU: N is the least that fits
    fit_params fp{};
    fp.context = p->engine.context;
    fp.offload.n_gpu_layers = 95;
    llama_cpp::add_n_cpu_moe(fp.offload, p->engine.n_cpu_moe - 1);
    const std::array<catalog::gpu_spec, 1> one{gpu<"rtx-3090">::spec};
    const auto tighter = check_fit(*llama_cpp::describe("qwen3-235b-a22b:Q4_K_M"), one, fp);
    REQUIRE(tighter.ok());
    CHECK_FALSE(tighter->fits());
}

TEST_CASE("llama-3.3-70b Q4_K_M, 32k tokens, 2x RTX 3090: a split of about half each, KV q8_0 to make it fit") {
    // 39.6 GiB of weights; KV f16 at 32768 tokens is 10 GiB: 49.6 GiB > 2 x 24 GiB. With a q8_0
    // cache (5.3 GiB) everything fits on the two cards.
    plan_request r = on({gpu<"rtx-3090">::spec, gpu<"rtx-3090">::spec});
    r.host_ram = 64_GiB;
    r.n_ctx = 32768;
    const auto p = plan_catalog("llama-3.3-70b:Q4_K_M", r);
    REQUIRE(p.ok());
    CHECK(p->gpus_used == 2);
    CHECK(p->tier == plan_tier::gpu);
    CHECK(p->engine.type_k == ggml_type::q8_0);
    REQUIRE(p->layers_per_gpu.size() == 2);
    CHECK(p->layers_per_gpu[0] + p->layers_per_gpu[1] == 81);
    CHECK(p->layers_per_gpu[0] >= 38);
    CHECK(p->layers_per_gpu[1] >= 38);
    CHECK(p->devices[1].output_layer);  // the last device of the split
    CHECK(gpu_kv(*p) > 5_GiB);
    // fixing KV to f16 forces layers to the CPU instead
    r.engine.type_k = ggml_type::f16;
    r.engine.type_v = ggml_type::f16;
    const auto f16 = plan_catalog("llama-3.3-70b:Q4_K_M", r);
    REQUIRE(f16.ok());
    CHECK(f16->tier == plan_tier::host);
    CHECK(f16->engine.n_gpu_layers < 81);
    CHECK(f16->speed.decode_tokens_per_s < p->speed.decode_tokens_per_s);
}

TEST_CASE("llama4:16x17b (llama-4-scout Q4_K_M, ~65 GB) on 2x RTX A6000: a layer split of about half each") {
    // 60 GiB of weights do not fit one 49140 MiB A6000; two hold them with room, filled to the
    // same share: 24 and 24 + output layers, each card about half the model.
    const auto p = plan_catalog("llama-4-scout:Q4_K_M", on({gpu<"rtx-a6000">::spec, gpu<"rtx-a6000">::spec}));
    REQUIRE(p.ok());
    CHECK(p->gpus_used == 2);
    CHECK(p->tier == plan_tier::gpu);
    REQUIRE(p->layers_per_gpu.size() == 2);
    CHECK(p->layers_per_gpu[0] + p->layers_per_gpu[1] == 49);
    CHECK(distance(p->devices[0].layers, 24) <= 1);
    CHECK(distance(p->devices[1].layers, 24) <= 1);
    const bytes both = p->devices[0].model + p->devices[1].model;
    CHECK(p->devices[0].model * 10 > both * 4);  // each more than 40 % of the weights
    CHECK(p->devices[1].model * 10 > both * 4);
    CHECK(both > 55_GiB);
}

TEST_CASE("--max-ctx: Qwen3-30B-A3B Q4_K_M on one RTX 4090 reaches its training context") {
    // 17.3 GiB of weights + 3.75 GiB of KV at 40960 tokens + compute < 24564 MiB.
    plan_request r = on({gpu<"rtx-4090">::spec});
    r.host_ram = 32_GiB;
    r.max_ctx = true;
    const auto p = plan_catalog("qwen3-30b-a3b:Q4_K_M", r);
    REQUIRE(p.ok());
    CHECK(p->n_ctx == 40960);
    CHECK(p->tier == plan_tier::gpu);
    // gemma-3-27b Q4_K_M on a 24 GiB card cannot reach 131072 with f16 KV; the largest context
    // that keeps everything on the GPU is found, and one 256-token step more does not fit
    plan_request g = on({gpu<"rtx-4090">::spec});
    g.max_ctx = true;
    g.engine.type_k = ggml_type::f16;
    g.engine.type_v = ggml_type::f16;
    const auto q = plan_catalog("gemma-3-27b:Q4_K_M", g);
    REQUIRE(q.ok());
    CHECK(q->tier == plan_tier::gpu);
    CHECK(q->n_ctx < 131072);
    CHECK(q->n_ctx % 256 == 0);
    // left to choose, the planner takes a q8_0 cache, which reaches further than f16 on the GPU
    plan_request a = on({gpu<"rtx-4090">::spec});
    a.max_ctx = true;
    const auto auto_kv = plan_catalog("gemma-3-27b:Q4_K_M", a);
    REQUIRE(auto_kv.ok());
    CHECK(auto_kv->engine.type_k == ggml_type::q8_0);
    CHECK(auto_kv->tier == plan_tier::gpu);
    CHECK(auto_kv->n_ctx > q->n_ctx);
    g.max_ctx = false;
    g.n_ctx = q->n_ctx + 256;
    const auto more = plan_catalog("gemma-3-27b:Q4_K_M", g);
    REQUIRE(more.ok());
    CHECK(more->tier != plan_tier::gpu);
}

TEST_CASE("--quant any: qwen2.5-72b on 2x A100 40GB picks the largest quantization that runs on the GPUs") {
    // F16 (145 GiB) needs the CPU; Q8_0 (72 GiB of weights + 1.3 GiB KV + compute) fits 2 x 40 GiB.
    plan_request r = on({gpu<"a100-40gb">::spec, gpu<"a100-40gb">::spec});
    r.host_ram = 120_GiB;
    r.objective = plan_objective::speed;
    const auto candidates = catalog_candidates(*catalog::find("qwen2.5-72b"));
    REQUIRE(candidates.ok());
    CHECK(candidates->size() == plan_quant_ladder.size());
    const auto p = plan(*candidates, r);
    REQUIRE(p.ok());
    CHECK(p->quant == "Q8_0");
    CHECK(p->gpus_used == 2);
    CHECK(p->tier == plan_tier::gpu);
    // every smaller quantization is listed with its speed, faster than the choice
    int faster = 0;
    for (const auto& a : p->alternatives) if (!a.chosen && a.quant != "F16" && a.speed.decode_tokens_per_s > p->speed.decode_tokens_per_s) ++faster;
    CHECK(faster >= 10);
}

TEST_CASE("disk: with too little RAM the weights page from the file, flagged") {
    plan_request r = on({gpu<"rtx-3090">::spec});
    r.host_ram = 64_GiB;
    const auto p = plan_catalog("qwen3-235b-a22b:Q4_K_M", r);
    REQUIRE(p.ok());
    CHECK(p->tier == plan_tier::disk);
    CHECK(p->disk_bytes > 40_GiB);
    CHECK(p->speed.disk_s > p->speed.gpu_s);  // the disk dominates the token time
    bool flagged = false;
    for (const auto& n : p->decisions) flagged = flagged || n.view().find("SLOW") != std::string_view::npos;
    CHECK(flagged);
}

TEST_CASE("RPC: two machines when one cannot hold the model") {
    // deepseek-v3 Q2_K (~227 GiB) on 2x A100 80GB per machine with 64 GiB RAM: one machine
    // cannot, three machines (480 GiB of GPU) can: llama.cpp RPC
    plan_request r = on({gpu<"a100-80gb">::spec, gpu<"a100-80gb">::spec});
    r.host_ram = 64_GiB;
    r.allow_disk = false;
    r.nodes = 4;
    const auto p = plan_catalog("deepseek-v3:Q2_K", r);
    REQUIRE(p.ok());
    CHECK(p->nodes_used >= 2);
    CHECK(p->tier == plan_tier::gpu);
    CHECK(p->speed.transfer_s > 0);
}

TEST_CASE("impossible requests end in a message that says what would make them possible") {
    plan_request r = on({gpu<"rtx-3090">::spec});
    r.host_ram = 16_GiB;
    r.allow_disk = false;
    const auto p = plan_catalog("qwen3-235b-a22b:Q4_K_M", r);
    REQUIRE_FALSE(p.ok());
    const std::string message{p.err().message()};
    CHECK(message.find("needs about") != std::string::npos);
    CHECK(message.find("of host RAM") != std::string::npos);  // the library states it; the CLI adds --ram

    plan_request c = on({gpu<"rtx-3090">::spec});
    c.n_ctx = 1u << 20;
    const auto beyond = plan_catalog("llama-3.1-8b:Q4_K_M", c);
    REQUIRE_FALSE(beyond.ok());
    CHECK(std::string{beyond.err().message()}.find("training context 131072") != std::string::npos);
}

TEST_CASE("no GPU: a CPU-only plan") {
    plan_request r{};
    r.host_ram = 32_GiB;
    const auto p = plan_catalog("llama-3.1-8b:Q4_K_M", r);
    REQUIRE(p.ok());
    CHECK(p->gpus_used == 0);
    CHECK(p->engine.n_gpu_layers == 0);
    CHECK(p->speed.decode_tokens_per_s > 0);
}

TEST_CASE("a result owns its text: the model it was planned from may be gone") {
    // plan(model, quant, request) with a temporary model and quant: the result's names, notes and
    // alternatives must not point into them (AddressSanitizer: heap-use-after-free otherwise).
    const auto p = plan(llama_cpp::describe("llama-3.1-8b:Q4_K_M").value(), std::string{"Q4_K_M"}, on({gpu<"rtx-3090">::spec}));
    REQUIRE(p.ok());
    CHECK(p->model == std::string_view{"llama-3.1-8b"});
    CHECK(std::string{p->quant.view()} == "Q4_K_M");
    REQUIRE_FALSE(p->alternatives.empty());
    CHECK(p->alternatives.front().quant == "Q4_K_M");
    CHECK(p->devices.front().gpu == "rtx-3090");
    std::size_t notes = 0;
    for (const auto& n : p->decisions) notes += n.size();
    CHECK(notes > 0);
}
