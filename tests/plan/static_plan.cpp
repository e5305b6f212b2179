// The planner at compile time, in its own translation unit: editing test_plan.cpp (run-time
// cases) does not evaluate the plan again. The build fails if a static_assert fails; k80_plan
// (a constant, initialised at compile time) is what test_plan.cpp compares the run-time plan to.
#include <cstdint>

#include "vramfit/engines/llama_cpp/plan.hpp"

using namespace vramfit;
using vramfit::catalog::gpu;

// The seed case: gemma3:12b Q4_K_M at 4096 tokens on a Tesla K80 board (two 11441 MiB dies).
// One die holds all 48 layers, the output layer, 736 MiB of KV and the 527 MiB compute buffer
// (8219.50 MiB in all): one GPU, no split — where Ollama split it over both dies.
// (One constant evaluation of the plan, kept as the few fields the checks read: each evaluation
// costs the compiler about a minute.)
struct k80_decision {  // the same definition as in test_plan.cpp
    std::uint32_t gpus_used;
    plan_tier tier;
    std::uint32_t n_gpu_layers;
};
extern constexpr k80_decision k80_plan = [] {  // external linkage: test_plan.cpp reads it
    const auto p = plan<catalog::gemma_3_12b, quant::Q4_K_M, gpu<"tesla-k80">, gpu<"tesla-k80">>();
    return k80_decision{p.gpus_used, p.tier, p.engine.n_gpu_layers};
}();
static_assert(k80_plan.gpus_used == 1);
static_assert(k80_plan.tier == plan_tier::gpu);
