// The compile-time twin of the vLLM tests: one validation row (V01 of tests/data/vllm: vLLM 0.10.1.1,
// Qwen2-7B-Instruct on one A100 80GB, gpu_memory_utilization 0.25, max_model_len 16384) checked by
// static_assert. The catalog's Qwen2.5-7B-Instruct has Qwen2-7B-Instruct's shapes (28 layers, 3584
// wide, 28 / 4 heads, vocabulary 152064, 32768 positions), so it stands in for the config file.
#include "vramfit/catalog/gpus.hpp"
#include "vramfit/catalog/models.hpp"
#include "vramfit/engines/vllm/estimate.hpp"
#include "vramfit/formats/hf/config.hpp"

namespace {

using namespace vramfit;

constexpr model_config qwen2_7b = hf::with_class_rules(catalog::model<"qwen2.5-7b">::entry.config);

constexpr vllm::engine_args v01_args() {
    vllm::engine_args a{};
    a.version = {0, 10, 1};
    a.gpu_memory_utilization = 0.25;
    a.max_model_len = 16384;
    return a;
}

constexpr vllm::kv_cache_plan v01_plan() {
    vllm::kv_settings s{};
    s.version = {0, 10, 1};
    return vllm::plan_kv_cache(qwen2_7b, catalog::gpu<"a100-80gb">::as_device(), s, 0, 28, true).value();
}

// 28 layers × 2 (K, V) × 4 KV heads × 128 × 2 bytes × 16 tokens.
static_assert(v01_plan().bytes_per_block == bytes{917504});
static_assert(v01_plan().group_count == 1);
// The 5,867 blocks the API server printed give the two capacity lines of the log.
static_assert(vllm::capacity(v01_plan(), 5867, 16384).tokens == 93872);
static_assert(vllm::tokens_line(93872) == "GPU KV cache size: 93,872 tokens");
static_assert(vllm::concurrency_line(vllm::capacity(v01_plan(), 5867, 16384).concurrency, 16384, vllm::engine_kind::v1) ==
              "Maximum concurrency for 16,384 tokens per request: 5.73x");
// 5.01 GiB printed: 5.005..5.015 GiB hold 5,857..5,868 blocks, the printed 5,867 among them.
static_assert(vllm::num_blocks(v01_plan(), bytes{5374077829ULL}) == 5857);
static_assert(vllm::num_blocks(v01_plan(), bytes{5384815247ULL}) == 5868);

// From the model, the GPU and the flags alone: the weights within 1 % of the printed 14.2488 GiB,
// the available KV memory within 3 % of the printed 5.01 GiB.
constexpr bool v01_predicted() {
    const auto e = vllm::estimate_startup(qwen2_7b, catalog::gpu<"a100-80gb">::as_device(), v01_args()).value();
    const double weights = e.deciding().weights.on_gpu().gib();
    const double available = e.deciding().memory.available_gib();
    return weights > 14.2488 * 0.99 && weights < 14.2488 * 1.01 && available > 5.01 * 0.97 && available < 5.01 * 1.03 &&
           e.verdict.fits && e.block_size == 16;
}
static_assert(v01_predicted());

// A layout vLLM refuses is a compile-time error value, with the rule in its text.
constexpr bool tp3_refused() {
    const auto r = vllm::check_tensor_parallel(catalog::model<"qwen3-32b">::entry.config, 3, false);
    return !r.ok() && r.err().message() == "tensor parallel 3 does not divide 64 attention heads";
}
static_assert(tp3_refused());

// get_pp_indices: 27 layers over 2 stages are [14, 13]; 61 over 4 are [15, 15, 16, 15].
static_assert(vllm::partition_layers(27, 2).value().layers[0] == 14);
static_assert(vllm::partition_layers(61, 4).value().layers[2] == 16);
static_assert(vllm::partition_layers(61, 4).value().layers[3] == 15);

} // namespace
