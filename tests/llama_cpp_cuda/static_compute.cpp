// The CUDA compute buffers in a constant expression, in their own translation unit: editing
// test_compute.cpp does not evaluate them again. cuda0_compute_at_compile_time (a constant,
// initialised at compile time) is what test_compute.cpp compares the run-time figure to.
#include <cstdint>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/cuda/compute.hpp"

using namespace vramfit;
using namespace vramfit::llama_cpp;

namespace {

// The same function in a constant expression: one RTX 3090 running Llama-3.1-8B at 8192 tokens.
constexpr std::uint64_t constexpr_cuda0_compute() {
    const auto model = llama_cpp::describe("llama-3.1-8b:Q4_K_M");
    context_params cp{};
    cp.n_ctx = 8192;
    const auto ctx = resolve_context(*model, cp);
    offload_params params{};
    const auto placement = offload_buffers(*model, *ctx, params);
    return cuda_compute_buffers(*model, *ctx, params, *placement)->device[0].count();
}

} // namespace

// external linkage: test_compute.cpp reads it
extern constexpr std::uint64_t cuda0_compute_at_compile_time = constexpr_cuda0_compute();
static_assert(cuda0_compute_at_compile_time > 0);
