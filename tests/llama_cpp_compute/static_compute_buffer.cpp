// Compile-time checks: the CPU compute buffer of two catalog models against the engine's printed
// figures. Their own translation unit, so editing test_compute_buffer.cpp (the same functions
// at run time, on every oracle row) does not evaluate the compute graphs again.
#include <string_view>
#include <utility>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/compute_buffer.hpp"

using namespace vramfit;
using namespace vramfit::llama_cpp;

namespace {

// The catalog's description of an oracle model (hyper-parameters are all the compute buffer needs).
constexpr bool catalog_model(std::string_view key, model_description& out) {
    const auto* entry = catalog::find(key);
    if (entry == nullptr) return false;
    auto hp = llama_cpp::hyperparameters_of(*entry);
    if (!hp.ok()) return false;
    out = model_description{};
    out.name = key;
    out.hparams = std::move(hp.value());
    return true;
}

// A hand-made context like the oracle's llama-3.1-8b run at n_ctx 4096, ub 512, FA on.
constexpr resolved_context context_4096_512(bool fa) {
    resolved_context c{};
    c.n_ctx = 4096; c.n_ctx_seq = 4096; c.n_batch = 2048; c.n_ubatch = 512;
    c.n_seq = 1; c.n_stream = 1; c.flash_attn = fa; c.kv_cells = 4096;
    return c;
}

constexpr double llama8b_mib(bool fa) {
    model_description m{};
    catalog_model("llama-3.1-8b", m);
    return compute_buffer_bytes(m, context_4096_512(fa)).mib();
}

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
