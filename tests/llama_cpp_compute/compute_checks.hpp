// The compute-buffer helpers test_compute_buffer.cpp (run time) and static_compute_buffer.cpp (compile time) share.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/compute_buffer.hpp"

namespace compute_checks {

using namespace vramfit;
using namespace vramfit::llama_cpp;

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


} // namespace compute_checks
