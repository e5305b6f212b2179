// Where should it run? The planner at compile time and at run time.
//
// Compile time: static_asserts that pin a deployment decision — the build fails if a catalog
// change, a new quantization rule or a bigger context would make the shipped placement wrong.
// Run time: the same plan, with its decisions and the llama.cpp / Ollama settings to paste.
#include <cstdio>
#include <string>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/plan.hpp"
#include "vramfit/engines/llama_cpp/emit.hpp"
#include "vramfit/engines/llama_cpp/ollama.hpp"

using namespace vramfit;
using namespace vramfit::literals;
using vramfit::catalog::gpu;

// gemma3:12b Q4_K_M on a Tesla K80 board (two dies): one die holds it, no split.
static_assert(plan<catalog::gemma_3_12b, quant::Q4_K_M, gpu<"tesla-k80">, gpu<"tesla-k80">>().gpus_used == 1);
// gpt-oss-20b (MXFP4 experts) on two H200s: one GPU, not spread.
static_assert(plan<catalog::gpt_oss_20b, quant::MXFP4_MOE, gpu<"h200">, gpu<"h200">>().gpus_used == 1);

int main() {
    plan_request request{};
    request.gpus = {gpu<"rtx-3090">::spec, gpu<"rtx-3090">::spec};
    request.host_ram = 64_GiB;
    request.n_ctx = 32768;
    const auto model = llama_cpp::describe("llama-3.3-70b:Q4_K_M");
    if (!model) {
        std::fprintf(stderr, "%s\n", model.err().describe().c_str());
        return 1;
    }
    const auto p = plan(*model, "Q4_K_M", request);
    if (!p) {
        std::fprintf(stderr, "%s\n", p.err().describe().c_str());
        return 1;
    }
    std::printf("llama-3.3-70b Q4_K_M, 32k tokens, 2x RTX 3090, 64 GiB RAM: %u GPUs, %s\n", p->gpus_used,
                std::string{to_string(p->tier)}.c_str());
    for (const auto& n : p->decisions) std::printf("  - %s\n", std::string{n.view()}.c_str());
    std::printf("%s\n%s", llama_cpp::emit_flags(*p, "llama-3.3-70b-Q4_K_M.gguf", "llama-server", true).c_str(),
                ollama::emit_settings(*p, "llama-3.3-70b-Q4_K_M.gguf").c_str());
    return p->gpus_used == 2 ? 0 : 1;
}
