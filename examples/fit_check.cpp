// Does it fit? The same question at compile time and at run time.
//
// Compile time: a static_assert that stops the build when a shipped configuration outgrows its
// GPU; the compiler's error then names the CUDA device, its largest buffer and the MiB over.
// Run time: the per-device report (model, KV, compute, CUDA overhead, reserve, capacity, margin),
// for the catalog model or, as the twin of the compile-time check, for a GGUF file:
//   build/examples/fit_check [model.gguf]
#include <cstdio>
#include <string>

#include "vramfit/core/format.hpp"
#include "vramfit/vramfit.hpp"

using namespace vramfit;
using namespace vramfit::literals;

// Llama-3.1-8B Q4_K_M with a 32k context on one RTX 3090.
static_assert(fits<catalog::llama_3_1_8b, quant::Q4_K_M, catalog::gpu<"rtx-3090">>(ctx_size{32768}));
// gemma-3-12b Q4_K_M at 4096 tokens on a single die of a Tesla K80.
static_assert(fits<catalog::gemma_3_12b, quant::Q4_K_M, catalog::gpu<"tesla-k80">>(ctx_size{4096}));

int main(int argc, char** argv) {
    const auto model = argc > 1 ? load_model_description(argv[1]) : llama_cpp::describe("gemma-3-12b:Q4_K_M");
    if (!model) {
        std::fprintf(stderr, "%s: %s\n", argc > 1 ? argv[1] : "catalog", model.err().describe().c_str());
        return 2;
    }
    fit_params params{};
    params.context.n_ctx = 4096;
    params.reserve_per_device = 0_MiB;  // a margin of your own; the CUDA overhead is estimated per GPU
    const std::array<catalog::gpu_spec, 1> die{catalog::gpu<"tesla-k80">::spec};
    const auto report = check_fit(*model, die, params);
    if (!report) {
        std::fprintf(stderr, "%s\n", report.err().describe().c_str());
        return 1;
    }
    for (const auto& d : report->devices) {
        std::printf("%s (%s): model %s + KV %s + compute %s + overhead %s (%s..%s) + reserve %s = %s of %s: %s\n",
                    std::string{d.name}.c_str(), std::string{d.device_id.view()}.c_str(), format_mib(d.model).c_str(),
                    format_mib(d.kv).c_str(), format_mib(d.compute).c_str(), format_mib(d.overhead).c_str(),
                    format_mib(d.overhead_low).c_str(), format_mib(d.overhead_high).c_str(), format_mib(d.reserve).c_str(),
                    format_mib(d.total()).c_str(), format_mib(d.capacity).c_str(), d.fits() ? "FITS" : "DOES NOT FIT");
    }
    return report->fits() ? 0 : 1;
}
