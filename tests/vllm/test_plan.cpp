// The vLLM planner: which TP × PP layouts are valid for a model on a cluster (with the rule's words
// when not), what each gets from the start-up estimate, the choice, the decode bound and the
// commands that start the choice.
#include <doctest/doctest.h>

#include <string>

#include "vramfit/catalog/gpus.hpp"
#include "vramfit/catalog/models.hpp"
#include "vramfit/engines/vllm/emit.hpp"
#include "vramfit/engines/vllm/layout.hpp"
#include "vramfit/engines/vllm/plan.hpp"
#include "vramfit/formats/hf/config.hpp"

using namespace vramfit;

namespace {

model_config catalog_config(std::string_view key) {
    const auto* entry = catalog::find(key);
    REQUIRE(entry != nullptr);
    return hf::with_class_rules(entry->config);
}

device gpu(std::string_view id) { return catalog::to_device(*catalog::find_gpu(id)); }

std::string rule(const result<vllm::pipeline_partition>& r) {
    REQUIRE_FALSE(r.ok());
    return std::string{r.err().message()};
}

std::string rule(const result<void>& r) {
    REQUIRE_FALSE(r.ok());
    return std::string{r.err().message()};
}

vllm::plan_request request(std::string_view gpu_id, std::uint32_t per_node, std::uint32_t nodes = 1) {
    vllm::plan_request q{};
    q.gpu = gpu(gpu_id);
    q.cluster = {per_node, nodes};
    return q;
}

const vllm::layout_candidate& layout(const vllm::vllm_plan& p, std::uint32_t tp, std::uint32_t pp) {
    for (const auto& l : p.layouts) {
        if (l.tp == tp && l.pp == pp) return l;
    }
    FAIL("no layout " << tp << " x " << pp);
    return p.layouts.front();
}

// Compile-time twins: the rules are constant expressions.
constexpr bool tp3_invalid() {
    const auto r = vllm::check_layout(hf::with_class_rules(catalog::model<"qwen3-32b">::entry.config), {8, 1}, 3, 1);
    return !r.ok() && r.err().message() == "tensor parallel 3 does not divide 64 attention heads";
}
static_assert(tp3_invalid());
static_assert(vllm::check_placement({8, 2}, 8, 2).ok());
static_assert(!vllm::check_placement({8, 2}, 16, 1).ok());
static_assert(vllm::stage_node({8, 2}, 4, 1) == 0 && vllm::stage_node({8, 2}, 4, 2) == 1);
static_assert(vllm::nodes_used({8, 2}, 8, 2) == 2 && vllm::nodes_used({8, 2}, 4, 2) == 1);

} // namespace

TEST_CASE("vllm layout: each invalid TP x PP names its rule") {
    const auto qwen = catalog_config("qwen3-32b");
    CHECK(rule(vllm::check_layout(qwen, {8, 1}, 3, 1)) == "tensor parallel 3 does not divide 64 attention heads");
    CHECK(rule(vllm::check_placement({8, 2}, 16, 1)) ==
          "tensor parallel 16 exceeds the 8 GPUs of one node (tensor parallel stays within a node, pipeline stages span nodes)");
    CHECK(rule(vllm::check_placement({8, 2}, 8, 4)) == "TP 8 x PP 4 needs 32 GPUs, 2 nodes of 8 give 16");
    CHECK(rule(vllm::check_placement({8, 1}, 2, 5)) == "TP 2 x PP 5 needs 10 GPUs, 1 node of 8 give 8");
    // TP groups are consecutive ranks: a third stage of 3 GPUs would take GPUs 6, 7 and 8
    CHECK(rule(vllm::check_placement({8, 2}, 3, 3)) == "TP 3 x PP 3: stage 2 (GPUs 6-8) would span two nodes of 8 GPUs");
    CHECK(vllm::check_placement({8, 2}, 3, 2).ok());
    CHECK(rule(vllm::check_layout(catalog_config("llama-3.2-1b"), {8, 4}, 1, 20)) == "pipeline parallel 20 exceeds the model's 16 decoder layers");
    CHECK(rule(vllm::check_layout(qwen, {8, 1}, 2, 2, false, "30,30")) == "VLLM_PP_LAYER_PARTITION '30,30' sums to 60 layers, the model has 64");

    // more ranks than KV heads: valid, one KV head per rank (replicated)
    const auto llama = catalog_config("llama-3.3-70b");
    CHECK(vllm::check_layout(llama, {16, 1}, 16, 1).ok());
    CHECK(vllm::kv_heads_per_rank(llama.kv_heads(), 16) == 1);
    // 8 KV heads and 6 ranks: neither divides the other (24 heads of Llama-3.2-3B divide by 6)
    CHECK(rule(vllm::check_layout(catalog_config("llama-3.2-3b"), {8, 1}, 6, 1)) == "tensor parallel 6 and 8 KV heads: neither divides the other");
}

TEST_CASE("vllm layout: block-wise FP8 weights need whole 128 x 128 blocks on every rank") {
    // DeepSeek-V3 (weight_block_size [128, 128]): TP 16 keeps whole blocks; at TP 32 the dense layers'
    // gate_up_proj is 18432 / 32 = 576 wide per rank (validate_fp8_block_shape's block_n)
    const auto v3 = catalog_config("deepseek-v3");
    CHECK(vllm::check_tensor_parallel(v3, 8, false).ok());
    CHECK(vllm::check_tensor_parallel(v3, 16, false).ok());
    CHECK(rule(vllm::check_tensor_parallel(v3, 32, false)) ==
          "tensor parallel 32 gives gate_up_proj an output of 576 per rank, not a multiple of the FP8 weight block 128");
    // an FP8 Qwen3-30B-A3B: the experts are 768 wide, 192 per rank at TP 4 (Fp8MoEMethod's check);
    // expert parallel keeps them whole
    auto moe = catalog_config("qwen3-30b-a3b");
    moe.quantization = {.method = quant_method::fp8, .method_name = "fp8", .weight_block_size = {128, 128}};
    CHECK(vllm::check_tensor_parallel(moe, 2, false).ok());
    CHECK(rule(vllm::check_tensor_parallel(moe, 4, false)) ==
          "tensor parallel 4 gives the experts a width of 192 per rank, not a multiple of the FP8 weight block 128");
    CHECK(vllm::check_tensor_parallel(moe, 4, true).ok());
    CHECK(vllm::check_tensor_parallel(moe, 8, true).ok());
    // row-parallel inputs are checked against block_k: o_proj of 64 heads x 128 over 32 ranks is 256
    auto dense = catalog_config("qwen3-32b");
    dense.quantization = moe.quantization;
    dense.intermediate_size = 25600;  // 25600 / 8 = 3200 = 25 x 128
    CHECK(vllm::check_tensor_parallel(dense, 8, false).ok());
    dense.intermediate_size = 25600 + 512;  // 26112 / 16 = 1632: not whole blocks
    CHECK(rule(vllm::check_tensor_parallel(dense, 16, false)) ==
          "tensor parallel 16 gives gate_up_proj an output of 1632 per rank, not a multiple of the FP8 weight block 128");
    // the estimate refuses what the layout check refuses (one rule, two callers)
    vllm::engine_args a{};
    a.tensor_parallel_size = 32;
    CHECK(vllm::estimate_startup(v3, gpu("h100-sxm"), a).err().message() == vllm::check_tensor_parallel(v3, 32, false).err().message());
}

TEST_CASE("vllm plan: Llama-3.3-70B on 2x A100 40GB with --max-ctx needs --cpu-offload-gb") {
    const auto c = catalog_config("llama-3.3-70b");
    auto q = request("a100-40gb", 2);
    q.max_ctx = true;
    auto p = vllm::plan_layouts(c, q).value();
    // 1 x 1, 1 x 2, 2 x 1: 131 GiB of bf16 weights never fit 2 x 36 GiB
    REQUIRE(p.layouts.size() == 3);
    CHECK(p.model_max_len == 131072);
    REQUIRE(p.any_fits);
    CHECK(p.offloaded);
    CHECK(layout(p, 1, 1).refusal == vllm::layout_refusal::no_kv_memory);
    CHECK(std::string{layout(p, 1, 1).why_not().view()} ==
          "no memory left for KV blocks: 131.45 GiB of weights + 1.52 GiB besides, 36.36 GiB allowed (gpu_memory_utilization 0.92)");
    const auto& best = *p.best();
    CHECK(best.tp == 2);
    CHECK(best.pp == 1);
    CHECK(best.max_model_len == 131072);  // with offload: the whole context
    CHECK(best.cpu_offload == bytes{51ULL << 30});
    CHECK(best.estimate->verdict.fits);
    // the fewest whole GiB: one less does not start with 131072 tokens
    vllm::engine_args a{};
    a.tensor_parallel_size = 2;
    a.cpu_offload = bytes{50ULL << 30};
    CHECK_FALSE(vllm::estimate_startup(c, q.gpu, a).value().verdict.fits);
    // TP is faster than PP for one sequence (each rank reads half, at once)
    CHECK(best.speed.tokens_per_s > layout(p, 1, 2).speed.tokens_per_s);
    CHECK(best.speed.offload_s > best.speed.read_s);  // 51 GiB over PCIe dominate
    CHECK(vllm::emit_commands(best, "meta-llama/Llama-3.3-70B-Instruct", q.args) ==
          "vllm serve meta-llama/Llama-3.3-70B-Instruct --tensor-parallel-size 2 --pipeline-parallel-size 1 --gpu-memory-utilization 0.92 "
          "--max-model-len 131072 --kv-cache-dtype auto --max-num-seqs 256 --cpu-offload-gb 51\n");

    // without offload nothing fits, every layout for want of memory
    q.offload_fallback = false;
    auto none = vllm::plan_layouts(c, q).value();
    CHECK_FALSE(none.any_fits);
    for (const auto& l : none.layouts) CHECK(l.refusal == vllm::layout_refusal::no_kv_memory);

    // on four of them it fits as it is; --max-ctx takes the longest context vLLM's estimate allows
    auto q4 = request("a100-40gb", 4);
    q4.max_ctx = true;
    auto four = vllm::plan_layouts(c, q4).value();
    REQUIRE(four.any_fits);
    CHECK_FALSE(four.offloaded);
    for (const auto& l : four.layouts) {
        if (!l.fits()) continue;
        CHECK(l.max_model_len <= four.best()->max_model_len);
        // vLLM's own estimate_max_model_len at the model's length, and a start at that length passes
        vllm::engine_args plain{};
        plain.tensor_parallel_size = l.tp;
        plain.pipeline_parallel_size = l.pp;
        const auto e = vllm::estimate_startup(c, q4.gpu, plain).value();
        CHECK(l.max_model_len == e.max_model_len_fit);
        CHECK(l.estimate->verdict.fits);
        CHECK(l.estimate->args.max_model_len == l.max_model_len);
    }
}

TEST_CASE("vllm plan: DeepSeek-V3 (FP8 blocks) on 2 nodes of 8 H100 needs both nodes") {
    const auto c = catalog_config("deepseek-v3");
    auto q = request("h100-sxm", 8, 2);
    auto p = vllm::plan_layouts(c, q).value();
    REQUIRE(p.any_fits);
    CHECK_FALSE(p.offloaded);
    // one node: its 8 GPUs hold 79 GiB of weights each, over the 72.88 GiB budget
    CHECK(layout(p, 8, 1).refusal == vllm::layout_refusal::no_kv_memory);
    CHECK(layout(p, 8, 1).nodes == 1);
    CHECK(std::string{layout(p, 3, 0).why_not().view()} == "tensor parallel 3 does not divide 128 attention heads");
    CHECK(layout(p, 2, 5).refusal == vllm::layout_refusal::too_long);
    const auto& best = *p.best();
    CHECK(best.tp == 8);
    CHECK(best.pp == 2);
    CHECK(best.nodes == 2);
    CHECK(best.max_model_len == 163840);
    // the estimate the plan shows is estimate_startup's for that layout
    vllm::engine_args a{};
    a.tensor_parallel_size = 8;
    a.pipeline_parallel_size = 2;
    const auto e = vllm::estimate_startup(c, q.gpu, a).value();
    CHECK(best.estimate->num_gpu_blocks == e.num_gpu_blocks);
    CHECK(best.estimate->capacity.tokens == e.capacity.tokens);
    CHECK(best.estimate->max_weights_per_gpu() == e.max_weights_per_gpu());
    // the stage boundary crosses the network; the bound adds it
    CHECK(vllm::stage_node(q.cluster, 8, 1) == 1);
    CHECK(best.speed.pipeline_s > 0);
    CHECK(best.speed.tokens_per_s > layout(p, 4, 4).speed.tokens_per_s);
    CHECK(vllm::emit_commands(best, "deepseek-ai/DeepSeek-V3", q.args) ==
          "# on the head node:\n"
          "ray start --head --port=6379\n"
          "# on the other node (HEAD_IP: the head node's address):\n"
          "ray start --address=HEAD_IP:6379\n"
          "# then, on the head node:\n"
          "vllm serve deepseek-ai/DeepSeek-V3 --tensor-parallel-size 8 --pipeline-parallel-size 2 --gpu-memory-utilization 0.92 "
          "--max-model-len 163840 --kv-cache-dtype auto --max-num-seqs 1024 --distributed-executor-backend ray\n");
    // a release before 0.20 defaults to 0.9; the command says so
    q.args.version = {0, 15, 0};
    auto older = vllm::plan_layouts(c, q).value();
    REQUIRE(older.any_fits);
    CHECK(vllm::serve_command(*older.best(), "deepseek-ai/DeepSeek-V3", q.args).find("--gpu-memory-utilization 0.9 ") != std::string::npos);
}

TEST_CASE("vllm plan: concurrency, the length asked, and the choice") {
    const auto c = catalog_config("qwen3-32b");
    auto q = request("h100-sxm", 4);
    q.args.max_model_len = 32768;
    q.concurrency = 8;
    auto p = vllm::plan_layouts(c, q).value();
    const auto& one = layout(p, 1, 1);
    CHECK(one.refusal == vllm::layout_refusal::too_few_requests);
    CHECK(std::string{one.why_not().view()} == "holds 1.21 requests of 32768 tokens at once, 8 asked");
    REQUIRE(p.any_fits);
    CHECK(p.best()->tp == 4);  // the fastest: every rank reads a quarter
    for (const auto& l : p.layouts) {
        if (l.fits() && &l != p.best()) CHECK(l.speed.tokens_per_s <= p.best()->speed.tokens_per_s);
    }

    // a length that does not fit one GPU: vLLM's error figures, the largest that does
    auto q1 = request("h100-sxm", 1);
    q1.args.max_model_len = 40960;
    q1.offload_fallback = false;
    auto single = vllm::plan_layouts(c, q1).value();
    CHECK_FALSE(single.any_fits);
    REQUIRE(single.layouts.size() == 1);
    const auto& l = single.layouts.front();
    CHECK(l.refusal == vllm::layout_refusal::too_long);
    CHECK(std::string{l.why_not().view()}.starts_with("max_model_len 40960 needs 10.00 GiB of KV, 9.68 GiB left; the largest is "));
    CHECK(l.largest_len == l.estimate->verdict.estimated_max_len);
    // with the fallback: 1 GiB of the weights in host memory is enough
    q1.offload_fallback = true;
    auto offloaded = vllm::plan_layouts(c, q1).value();
    REQUIRE(offloaded.any_fits);
    CHECK(offloaded.offloaded);
    CHECK(offloaded.best()->cpu_offload == bytes{1ULL << 30});
    CHECK(offloaded.best()->max_model_len == 40960);
    q1.offload_fallback = false;

    // --max-ctx with 4 requests at once: the longest length whose printed concurrency reaches 4
    q1.args.max_model_len = 0;
    q1.max_ctx = true;
    q1.concurrency = 4;
    auto four = vllm::plan_layouts(c, q1).value();
    REQUIRE(four.any_fits);
    const auto& best = *four.best();
    const auto& kv = best.estimate->deciding().kv;
    CHECK(vllm::capacity(kv, best.estimate->num_gpu_blocks, best.max_model_len).concurrency >= 4.0);
    CHECK(vllm::capacity(kv, best.estimate->num_gpu_blocks, best.max_model_len + 1).concurrency < 4.0);

    // bad wishes are errors, not refusals
    auto bad = request("h100-sxm", 1);
    bad.args.max_model_len = 1000000;
    CHECK(vllm::plan_layouts(c, bad).err().message() ==
          "User-specified max_model_len (1000000) is greater than the derived max_model_len (40960) of the model config");
    bad = request("h100-sxm", 1);
    bad.concurrency = 0;
    CHECK_FALSE(vllm::plan_layouts(c, bad).ok());
    CHECK(vllm::plan_layouts(catalog_config("opt-30b"), request("h100-sxm", 1)).err().code() == errc::unsupported_architecture);
}
