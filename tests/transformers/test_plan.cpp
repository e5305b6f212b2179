// The transformers planner through the library's API: the seed scenario (facebook/opt-30b in
// float16 on an 8 GB GPU with 32 GiB of RAM and a disk), the same answer the CLI prints.
#include <doctest/doctest.h>

#include <string>

#include "vramfit/catalog/gpus.hpp"
#include "vramfit/catalog/models.hpp"
#include "vramfit/engines/transformers/estimate.hpp"
#include "vramfit/engines/transformers/plan.hpp"
#include "vramfit/formats/hf/config.hpp"

using namespace vramfit;
using namespace vramfit::transformers;

namespace {

model_config opt_30b() {
    const auto* entry = catalog::find("opt-30b");
    REQUIRE(entry != nullptr);
    return hf::with_class_rules(entry->config);
}

device gpu(std::string_view name) {
    const auto* g = catalog::find_gpu(name);
    REQUIRE(g != nullptr);
    return catalog::to_device(*g);
}

}  // namespace

TEST_CASE("plan_generate: opt-30b on an RTX 3070 with 32 GiB of RAM and a disk") {
    plan_request request{};
    request.asked_dtype = dtype::f16;
    request.resources = {{gpu("rtx-3070")}, bytes{32ULL << 30}, bytes{500ULL << 30}};
    const auto p = plan_generate(opt_30b(), request);
    REQUIRE(p.ok());
    REQUIRE(p->candidates.size() == 3);
    const auto* best = p->best();
    REQUIRE(best != nullptr);
    // bitsandbytes would have to offload to the CPU, which it refuses
    CHECK(best->quant == quantization::none);
    CHECK(p->candidates[1].refusal == plan_refusal::bnb_offload);
    CHECK(p->candidates[1].why_not().find("llm_int8_enable_fp32_cpu_offload") != std::string::npos);
    REQUIRE(best->max_memory.size() == 2);
    CHECK(best->max_memory[0].text == "6103MiB");
    CHECK(best->max_memory[1].text == "32768MiB");
    CHECK(best->gpu_layers == 3);
    CHECK(best->cpu_layers == 26);
    CHECK(best->disk_layers == 19);
    const auto* gpu0 = best->estimate.row(device_id::gpu(0));
    REQUIRE(gpu0 != nullptr);
    CHECK(!gpu0->over_capacity());
    CHECK(gpu0->staging > bytes{});  // offloaded layers are copied in for their forward

    // the same max_memory, estimated on its own, gives the same map
    const auto model = load_model(opt_30b(), dtype::f16, std::nullopt, quantization::none);
    REQUIRE(model.ok());
    const std::vector<device> gpus{gpu("rtx-3070")};
    const auto again = estimate_generate(*model, best->max_memory, placement_strategy::auto_, {}, gpus);
    REQUIRE(again.ok());
    CHECK(again->map.map.size() == best->estimate.map.map.size());
    CHECK(again->row(device_id::gpu(0))->total() == gpu0->total());
}

TEST_CASE("plan_generate: one MiB more than the chosen budget runs out of memory or changes nothing") {
    plan_request request{};
    request.asked_dtype = dtype::f16;
    request.resources = {{gpu("rtx-3070")}, bytes{32ULL << 30}, bytes{500ULL << 30}};
    const auto p = plan_generate(opt_30b(), request);
    REQUIRE(p.ok());
    REQUIRE(p->best() != nullptr);
    CHECK(p->best()->max_memory[0].text == "6103MiB");
    const auto model = load_model(opt_30b(), dtype::f16, std::nullopt, quantization::none);
    REQUIRE(model.ok());
    const std::vector<device> gpus{gpu("rtx-3070")};
    std::vector<memory_spec> wider{{device_id::gpu(0), "6104MiB", 0}, {device_id::cpu(), "32768MiB", 0}};
    const auto e = estimate_generate(*model, wider, placement_strategy::auto_, {}, gpus);
    REQUIRE(e.ok());
    const bool same_map = e->map.map.size() == p->best()->estimate.map.map.size() &&
                          e->row(device_id::gpu(0))->layers == p->best()->gpu_layers;
    CHECK((same_map || e->row(device_id::gpu(0))->over_capacity()));
}

TEST_CASE("plan_generate refuses to plan without a GPU") {
    const auto p = plan_generate(opt_30b(), plan_request{});
    REQUIRE(!p.ok());
    CHECK(p.err().describe().find("GPU") != std::string::npos);
}
