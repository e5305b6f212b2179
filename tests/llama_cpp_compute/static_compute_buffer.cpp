// Compile-time checks: the CPU compute buffer of two catalog models against the engine's printed
// figures. Their own translation unit, so editing test_compute_buffer.cpp (the same functions
// at run time, on every oracle row) does not evaluate the compute graphs again.
#include <string_view>
#include <utility>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/compute_buffer.hpp"
#include "compute_checks.hpp"

using namespace vramfit;
using namespace vramfit::llama_cpp;

namespace {

using namespace compute_checks;  // the helpers both translation units share
constexpr bool prints_as(double mib, double expected) { return mib - expected < 0.005 && expected - mib <= 0.005; }

// FA on: logits (n_vocab x ub f32) + the embeddings input + result_norm: the engine prints 266.50.
static_assert(prints_as(llama8b_mib(true), 266.50));

// An iSWA mixture of experts with attention sinks, FA off (SWA cache 768 cells): the engine prints 558.39.
constexpr double gpt_oss_fa_off_mib() {
    model_description m{};
    catalog_model("gpt-oss-20b", m);
    resolved_context c = context_4096_512(false);
    c.kv_swa_cells = 768;
    return compute_buffer_bytes(m, c).mib();
}
static_assert(prints_as(gpt_oss_fa_off_mib(), 558.39));

}  // namespace
