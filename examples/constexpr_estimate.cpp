// An inference engine's build-time check: the configuration it ships with must give exactly
// the buffers llama.cpp allocates, decided by the compiler. If a change to the model, the
// quantization or the context makes the numbers move, the build fails here.
//
// Run time twin: the same function on a GGUF file given on the command line.
//   build/examples/constexpr_estimate [model.gguf]
#include <cstdio>

#include "vramfit/core/format.hpp"
#include "vramfit/vramfit.hpp"

using namespace vramfit;
using namespace vramfit::literals;

namespace {

// The shipped configuration: Llama-3.1-8B, Q4_K_M, 32k context, flash attention, f16 cache,
// weights mapped from the file and repacked for AVX-512 kernels.
constexpr llama_cpp::context_params shipped{
    .n_ctx = 32768, .n_ubatch = 512, .flash_attn = llama_cpp::flash_attention::on,
    .repack = llama_cpp::repack_mode::avx512};

// A memory_estimate holds vectors, which cannot outlive constant evaluation; keep the sizes.
struct sizes {
    bytes model, repack, kv, compute, total;
};

constexpr sizes sizes_of(const llama_cpp::memory_estimate& e) {
    return {e.model_bytes(), e.model_buffer("CPU_REPACK"), e.kv_bytes(), e.compute_bytes(), e.total()};
}

constexpr sizes shipped_sizes() {
    auto model = llama_cpp::describe("llama-3.1-8b:Q4_K_M");
    return sizes_of(*llama_cpp::estimate(*model, shipped));
}

// Compile-time: the engine's printed buffers for this configuration (the oracle's
// llama-3.1-8b Q4_K_M run at 32768 tokens prints KV 4096.00, compute 266.50 MiB).
constexpr sizes at_build = shipped_sizes();
static_assert(at_build.kv == 4096_MiB, "KV cache: 32 layers x 32768 cells x 2 x 1024 x f16");
// The engine prints 266.50 MiB: logits (128256 x 512 f32) and two n_embd x 512 f32 tensors, plus
// the graph allocator's alignment slack.
static_assert(at_build.compute >= bytes{279445504} && at_build.compute < bytes{279445504 + 5243}, "compute buffer: 266.50 MiB");
static_assert(at_build.repack == 3204_MiB, "repacked q4_K weights");
static_assert(at_build.total < 12_GiB, "the shipped configuration must stay under 12 GiB of host memory");

} // namespace

int main(int argc, char** argv) {
    auto print = [](const char* what, const sizes& e) {
        std::printf("%s: model %s, KV %s, compute %s, total %s\n", what, format_mib(e.model).c_str(),
                    format_mib(e.kv).c_str(), format_mib(e.compute).c_str(), format_mib(e.total).c_str());
    };
    print("compile time (catalog)", at_build);
    if (argc < 2) return 0;

    auto model = load_model_description(argv[1]);
    if (!model) {
        std::fprintf(stderr, "%s: %s\n", argv[1], model.err().describe().c_str());
        return 2;
    }
    auto estimate = llama_cpp::estimate(*model, shipped);
    if (!estimate) {
        std::fprintf(stderr, "%s\n", estimate.err().describe().c_str());
        return 2;
    }
    print("run time (file)", sizes_of(*estimate));
    return estimate->total() == at_build.total ? 0 : 1;
}
