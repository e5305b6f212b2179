// The vLLM engine's rules one by one: which TP × PP layouts vLLM accepts, what each GPU of a layout
// holds, the page of each layer type, the defaults of each release and vLLM's number formatting.
#include <doctest/doctest.h>

#include <string>

#include "vramfit/catalog/gpus.hpp"
#include "vramfit/catalog/models.hpp"
#include "vramfit/engines/vllm/estimate.hpp"
#include "vramfit/formats/hf/config.hpp"

using namespace vramfit;

namespace {

model_config catalog_config(std::string_view key) {
    const auto* entry = catalog::find(key);
    REQUIRE(entry != nullptr);
    return hf::with_class_rules(entry->config);
}

device gpu(std::string_view id) { return catalog::to_device(*catalog::find_gpu(id)); }

vllm::engine_args args(std::string_view release, std::uint32_t tp = 1, std::uint32_t pp = 1) {
    vllm::engine_args a{};
    a.version = vllm::parse_release(release).value();
    a.tensor_parallel_size = tp;
    a.pipeline_parallel_size = pp;
    return a;
}

std::string refusal(const model_config& c, const device& g, const vllm::engine_args& a) {
    auto e = vllm::estimate_startup(c, g, a);
    REQUIRE_FALSE(e.ok());
    return e.err().describe();
}

} // namespace

TEST_CASE("vllm layouts: tensor parallel must fit the heads, the widths and the vocabulary") {
    const auto h100 = gpu("h100-sxm");
    CHECK(refusal(catalog_config("qwen3-32b"), h100, args("0.27", 3)) == "tensor parallel 3 does not divide 64 attention heads");
    // 24 heads divide by 6, 8 KV heads and 6 ranks do not divide either way
    CHECK(refusal(catalog_config("llama-3.2-3b"), h100, args("0.27", 6)) == "tensor parallel 6 and 8 KV heads: neither divides the other");
    model_config odd = catalog_config("llama-3.1-8b");
    odd.intermediate_size = 14335;
    CHECK(refusal(odd, h100, args("0.27", 2)) == "tensor parallel 2 does not divide the MLP width 14335");
    // Qwen3-30B-A3B's experts are 768 wide: TP 32 would be 24, fine; 128 experts over 3 ranks are not
    auto moe = catalog_config("qwen3-30b-a3b");
    auto ep = args("0.27", 4);
    ep.enable_expert_parallel = true;
    CHECK(vllm::estimate_startup(moe, h100, ep).ok());
    CHECK(vllm::check_tensor_parallel(moe, 3, true).err().message() == "tensor parallel 3 does not divide 32 attention heads");
    model_config v = catalog_config("llama-3.1-8b");
    v.vocab_size = 32001;  // padded to 32064 = 64 × 501: not a multiple of 128
    v.num_attention_heads = 128;
    v.num_key_value_heads = 128;
    v.head_dim = 32;
    CHECK(vllm::check_tensor_parallel(v, 128, false).err().message() == "tensor parallel 128 does not divide the padded vocabulary 32064");
    // GPTQ groups: a row-parallel input per rank must be whole groups
    model_config g = catalog_config("llama-3.1-8b");
    g.quantization = {.method = quant_method::gptq, .method_name = "gptq", .bits = 4, .group_size = 128};
    CHECK(vllm::check_tensor_parallel(g, 8, false).ok());  // 14336 / 8 = 1792 = 14 groups
    g.intermediate_size = 14336 + 512;                     // 14848 / 8 = 1856: not whole groups of 128
    CHECK(vllm::check_tensor_parallel(g, 8, false).err().message() ==
          "tensor parallel 8 leaves a row-parallel input of 1856 per rank, not a multiple of the gptq group size 128");
}

TEST_CASE("vllm layouts: get_pp_indices and VLLM_PP_LAYER_PARTITION") {
    auto p = vllm::partition_layers(80, 3).value();
    CHECK(p.layers[0] == 27);  // 26 each, the remainder of 2 to the stages before the last
    CHECK(p.layers[1] == 27);
    CHECK(p.layers[2] == 26);
    CHECK(p.first_layer(2) == 54);
    p = vllm::partition_layers(80, 4, "20,20,21,19").value();
    CHECK(p.layers[2] == 21);
    CHECK(p.first_layer(3) == 61);
    CHECK(vllm::partition_layers(80, 4, "20,20,20").err().message() ==
          "VLLM_PP_LAYER_PARTITION '20,20,20' has 3 entries for pipeline parallel 4");
    CHECK(vllm::partition_layers(80, 2, "40,41").err().message() == "VLLM_PP_LAYER_PARTITION '40,41' sums to 81 layers, the model has 80");
    CHECK(vllm::partition_layers(80, 2, "40,x").err().message() == "VLLM_PP_LAYER_PARTITION '40,x': 'x' is not a positive layer count");
    CHECK(vllm::partition_layers(4, 8).err().message() == "pipeline parallel 8 exceeds the model's 4 decoder layers");
}

TEST_CASE("vllm layouts: what each GPU of a TP x PP layout holds") {
    const auto c = catalog_config("llama-3.3-70b");
    const auto h100 = gpu("h100-sxm");
    auto e = vllm::estimate_startup(c, h100, args("0.27", 2, 2)).value();
    REQUIRE(e.stages.size() == 2);
    const auto& first = e.stages[0].weights;
    const auto& last = e.stages[1].weights;
    CHECK(first.layers == 40);
    CHECK(last.first_layer == 40);
    // the embedding on the first stage, the lm_head and the final norm on the last, each vocab / TP
    CHECK(first.embedding == bytes{128256ULL / 2 * 8192 * 2});
    CHECK(first.lm_head == bytes{});
    CHECK(last.embedding == bytes{});
    CHECK(last.lm_head == bytes{128256ULL / 2 * 8192 * 2});
    // one layer per rank: q 64/2 heads, k and v 8/2, o, gate_up and down / 2
    const std::uint64_t layer = (8192ULL * (32 + 2 * 4) * 128 + 32ULL * 128 * 8192 + 3ULL * 8192 * 28672 / 2) * 2;
    CHECK(first.attention + first.mlp == bytes{40 * layer});
    // the worker with the fewest blocks decides; every worker gets that count
    CHECK(e.num_gpu_blocks == std::min(e.stages[0].blocks, e.stages[1].blocks));
    CHECK(e.stages[0].kv.bytes_per_block == bytes{40ULL * 2 * 4 * 128 * 2 * 16});

    // more ranks than KV heads: one head per rank, replicated (TP 16 of 8 KV heads)
    auto wide = vllm::estimate_startup(c, h100, args("0.27", 16)).value();
    CHECK(wide.stages[0].kv.bytes_per_block == bytes{80ULL * 2 * 1 * 128 * 2 * 16});
    auto eight = vllm::estimate_startup(c, h100, args("0.27", 8)).value();
    CHECK(eight.stages[0].kv.bytes_per_block == wide.stages[0].kv.bytes_per_block);
}

TEST_CASE("vllm KV pages: MLA's latent is not split by TP; fp8 halves the page; sliding layers get their own groups") {
    const auto h100 = gpu("h100-sxm");
    auto a = args("0.27", 2);
    auto mla = vllm::estimate_startup(catalog_config("deepseek-v2-lite"), h100, a).value();
    // one 512 + 64 latent per token and layer, FlashMLA's 64-token blocks on Hopper
    CHECK(mla.block_size == 64);
    CHECK(mla.stages[0].kv.bytes_per_block == bytes{27ULL * 576 * 2 * 64});
    a.cache_dtype = vllm::kv_cache_dtype::fp8_e4m3;
    auto fp8 = vllm::estimate_startup(catalog_config("deepseek-v2-lite"), h100, a).value();
    CHECK(fp8.stages[0].kv.bytes_per_block == bytes{27ULL * 576 * 64});

    // Gemma 2: 21 sliding + 21 full layers, two groups of 21 of the same page
    auto g2 = vllm::plan_kv_cache(catalog_config("gemma-2-9b"), h100, {}, 0, 42, true).value();
    CHECK(g2.group_count == 2);
    CHECK(g2.group_size == 21);
    // a request of 32768 tokens: cdiv(32768, 16) full blocks + cdiv(4095 + 2048, 16) + 1 sliding blocks
    CHECK(vllm::blocks_per_request(g2, 32768) == 2048 + 385);
    // V1 0.8 has no hybrid manager: every layer full, one group
    vllm::kv_settings old{};
    old.version = {0, 8, 5};
    auto g2_old = vllm::plan_kv_cache(catalog_config("gemma-2-9b"), h100, old, 0, 42, true).value();
    CHECK(g2_old.group_count == 1);
    CHECK(vllm::blocks_per_request(g2_old, 32768) == 2048);
}

TEST_CASE("vllm releases: defaults and accounting that moved") {
    CHECK(vllm::default_gpu_memory_utilization({0, 15, 0}) == 0.9);
    CHECK(vllm::default_gpu_memory_utilization({0, 20, 0}) == 0.92);
    CHECK(vllm::family_of({0, 10, 1}, vllm::engine_kind::v1) == vllm::release_family::v1_0_9_to_0_20);
    CHECK(vllm::family_of({0, 27, 1}, vllm::engine_kind::v1) == vllm::release_family::v1_0_22_plus);
    CHECK(vllm::default_engine({0, 7, 3}) == vllm::engine_kind::v0);
    auto r = vllm::parse_release("0.29.1rc1.dev17+gd2d649e67.d20260913").value();
    CHECK(r == vllm::release{0, 29, 1});
    CHECK(vllm::parse_release("v0.10.1.1").value() == vllm::release{0, 10, 1});
    CHECK(vllm::parse_release("0.4.3").err().message() == "vLLM 0.4.3 is older than 0.5, whose start-up accounting vramfit does not model");
    CHECK(vllm::parse_release("latest").err().message() == "expects a vLLM release such as 0.10 or 0.27.1, got 'latest'");
    // ceil(total × util) from 0.15
    CHECK(vllm::requested_memory(bytes{1000}, 0.4567, {0, 15, 0}, vllm::engine_kind::v1) == bytes{457});
    CHECK(vllm::requested_memory(bytes{1000}, 0.4567, {0, 12, 0}, vllm::engine_kind::v1) == bytes{456});

    // the batch defaults by device (0.10 on): H100 8192 / 1024, A100 (by name) 2048 / 256, B200 16384
    const auto llama = catalog_config("llama-3.1-8b");
    auto a = args("0.27");
    a.max_model_len = 8192;
    CHECK(vllm::resolve(a, llama, gpu("h100-sxm")).value().max_num_batched_tokens == 8192);
    CHECK(vllm::resolve(a, llama, gpu("h100-sxm")).value().max_num_seqs == 1024);
    CHECK(vllm::resolve(a, llama, gpu("a100-80gb")).value().max_num_batched_tokens == 2048);
    CHECK(vllm::resolve(a, llama, gpu("b200")).value().max_num_batched_tokens == 16384);
    // bfloat16 becomes float16 before compute capability 8.0
    CHECK(vllm::resolve(a, llama, gpu("t4")).value().model_dtype == dtype::f16);
    // the CUDA-graph estimate is subtracted from 0.20, not with --enforce-eager
    auto e = vllm::estimate_startup(llama, gpu("h100-sxm"), a).value();
    CHECK(e.deciding().memory.cudagraph_estimate > bytes{});
    a.enforce_eager = true;
    CHECK(vllm::estimate_startup(llama, gpu("h100-sxm"), a).value().deciding().memory.cudagraph_estimate == bytes{});
    a.version = {0, 15, 0};
    a.enforce_eager = false;
    CHECK(vllm::estimate_startup(llama, gpu("h100-sxm"), a).value().deciding().memory.cudagraph_estimate == bytes{});
    // the derived max_model_len: llama3 rope states its length; yarn stretches the original
    CHECK(vllm::derived_max_model_len(llama) == 131072);
    CHECK(vllm::derived_max_model_len(catalog_config("gpt-oss-20b")) == 131072);
    a.max_model_len = 200000;
    CHECK(vllm::resolve(a, llama, gpu("h100-sxm")).err().message() ==
          "User-specified max_model_len (200000) is greater than the derived max_model_len (131072) of the model config");
}

TEST_CASE("vllm start-up: max_model_len too long, the estimate, kv_cache_memory_bytes") {
    const auto llama = catalog_config("llama-3.1-8b");
    auto a = args("0.11.0");  // max_model_len 131072 from the config
    auto e = vllm::estimate_startup(llama, gpu("rtx-3090"), a).value();
    REQUIRE_FALSE(e.verdict.fits);
    const auto lines = vllm::lines_of(e);
    CHECK(lines.error.view().starts_with(
        "To serve at least one request with the models's max seq len (131072), (16.00 GiB KV cache is needed, which is larger than "
        "the available KV cache memory ("));
    CHECK(lines.error.view().find("Based on the available memory, the estimated maximum model length is ") != std::string_view::npos);
    CHECK(e.verdict.estimated_max_len == e.max_model_len_fit);
    CHECK(e.max_model_len_fit % 16 == 0);
    // the length it names fits: a second start with it passes the check
    a.max_model_len = static_cast<std::uint32_t>(e.max_model_len_fit);
    auto again = vllm::estimate_startup(llama, gpu("rtx-3090"), a).value();
    CHECK(again.verdict.fits);

    // --kv-cache-memory: that much KV per GPU, nothing subtracted
    a.kv_cache_memory_bytes = bytes{8ULL << 30};
    a.max_model_len = 32768;
    auto given = vllm::estimate_startup(llama, gpu("rtx-3090"), a).value();
    CHECK(given.deciding().memory.available == bytes{8ULL << 30});
    CHECK(given.num_gpu_blocks == (8ULL << 30) / (32ULL * 2 * 8 * 128 * 2 * 16));
    CHECK(given.capacity.tokens == given.num_gpu_blocks * 16);
    a.version = {0, 9, 2};
    CHECK(vllm::estimate_startup(llama, gpu("rtx-3090"), a).err().message() ==
          "--kv-cache-memory-bytes needs the V1 engine of vLLM 0.10.2 or later");

    // a budget the weights exceed: a negative figure and "No available memory for the cache blocks"
    auto big = args("0.27");
    big.max_model_len = 4096;
    auto none = vllm::estimate_startup(catalog_config("qwen3-32b"), gpu("rtx-4090"), big).value();
    CHECK(none.verdict.no_memory);
    const auto l = vllm::lines_of(none);
    CHECK(l.available.view().starts_with("Available KV cache memory: -"));
    CHECK(l.error == vllm::no_memory_error());
    CHECK(l.capacity.empty());
}

TEST_CASE("vllm numbers as Python prints them") {
    CHECK(vllm::format_fixed(5.725, 2) == "5.72");    // 5.725 is 5.72499… in binary
    CHECK(vllm::format_fixed(5.735, 2) == "5.74");    // 5.735 is 5.73500…03
    CHECK(vllm::format_fixed(0.125, 2) == "0.12");    // an exact tie: to even
    CHECK(vllm::format_fixed(0.375, 2) == "0.38");
    CHECK(vllm::format_fixed(14.24884, 4) == "14.2488");
    CHECK(vllm::format_fixed(-24.4249, 2) == "-24.42");
    CHECK(vllm::format_fixed(847.734375, 2) == "847.73");
    CHECK(vllm::format_python_round2(22.5) == "22.5");
    CHECK(vllm::format_python_round2(8.0) == "8.0");
    CHECK(vllm::format_python_round2(23.2500001) == "23.25");
    CHECK(vllm::format_python_round2(0.05) == "0.05");
    CHECK(vllm::format_thousands(1192160) == "1,192,160");
    CHECK(vllm::format_thousands(999) == "999");
    CHECK(vllm::format_thousands(1000) == "1,000");
    CHECK(vllm::capacity_lines(324704, 79.27, 4096, {0, 30, 0}, vllm::engine_kind::v1) ==
          "GPU KV cache size: 324,704 tokens, Maximum concurrency for 4,096 tokens per request: 79.27x");
    CHECK(vllm::loading_line(bytes{16094076928ULL}, {0, 11, 0}, vllm::engine_kind::v1) == "Model loading took 14.9888 GiB");
    CHECK(vllm::loading_line(bytes{16094076928ULL}, {0, 27, 1}, vllm::engine_kind::v1) == "Model loading took 14.99 GiB memory");
    CHECK(vllm::loading_line(bytes{16094076928ULL}, {0, 6, 4}, vllm::engine_kind::v0) == "Loading model weights took 14.9888 GB");
}
