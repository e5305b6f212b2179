// Compile-only: the C++ the README shows, as a reader would paste it (the plan<> line is the
// same expression tests/plan/static_plan.cpp evaluates, so it is not evaluated a second time).
#include <vramfit/vramfit.hpp>

static_assert(vramfit::fits<vramfit::catalog::model<"llama-3.1-8b">, vramfit::quant::Q4_K_M, vramfit::catalog::gpu<"rtx-3090">>(vramfit::ctx_size{32768}));

namespace readme_own_code {
using namespace vramfit::literals;

constexpr vramfit::llama_cpp::context_params shipped{.n_ctx = 32768, .flash_attn = vramfit::llama_cpp::flash_attention::on};

constexpr vramfit::bytes kv_of_shipped_config() {
    auto model = vramfit::llama_cpp::describe("llama-3.1-8b:Q4_K_M");
    return vramfit::llama_cpp::estimate(*model, shipped)->kv_bytes();
}
static_assert(kv_of_shipped_config() == 4096_MiB);   // decided by the compiler

// the same function at run time, on a file:
[[maybe_unused]] inline auto at_run_time() {
    auto model = vramfit::load_model_description("model.gguf");          // reads the header only
    return vramfit::llama_cpp::estimate(*model, shipped);                 // result<memory_estimate>
}
} // namespace readme_own_code
