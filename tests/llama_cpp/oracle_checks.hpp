// The oracle helpers test_oracle.cpp (run time) and static_oracle.cpp (compile time) share.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <string>
#include <string_view>
#include <unistd.h>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/memory.hpp"
#include "vramfit/engines/llama_cpp/export.hpp"
#include "vramfit/engines/llama_cpp/from_gguf.hpp"
#include "vramfit/formats/gguf/writer.hpp"

namespace oracle_checks {

using namespace vramfit;
using namespace vramfit::llama_cpp;

// The same engine model in constant expressions, on catalog models (run
// llama-3.1-8b.Q4_K_M.c4096.b2048.ub512.s1.faon.kf16.vf16 and gemma-3-12b's: CPU_Mapped 4653.80 +
// CPU_REPACK 3204.00 MiB, KV 512 MiB, output 0.49 MiB; gemma-3-12b KV 256 + SWA 480 MiB).
constexpr bool prints_as(bytes size, std::uint64_t hundredths_of_mib) {
    // "%.2f" of size/1024/1024 reads hundredths_of_mib / 100: size is within half a hundredth
    // (ties included: printf rounds an exact half to even)
    return size.count() * 200 >= (2 * hundredths_of_mib - 1) * 1048576ULL &&
           size.count() * 200 <= (2 * hundredths_of_mib + 1) * 1048576ULL;
}
constexpr bool llama_3_1_8b_q4_k_m_matches_oracle() {
    const auto e = estimate(*llama_cpp::describe("llama-3.1-8b:Q4_K_M"), {.n_ctx = 4096, .repack = repack_mode::avx512});
    return prints_as(e->model_buffer("CPU_Mapped"), 465380) && e->model_buffer("CPU_REPACK") == bytes{3204ULL << 20} &&
           e->kv.full.k == bytes{256ULL << 20} && e->kv.full.v == bytes{256ULL << 20} && prints_as(e->output_bytes(), 49);
}
constexpr bool gemma_3_12b_matches_oracle() {
    const auto e = estimate(*llama_cpp::describe("gemma-3-12b:Q4_K_M"), {.n_ctx = 4096, .use_mmap = false,
                                                                        .repack = repack_mode::avx512});
    return prints_as(e->model_buffer("CPU"), 204569) && prints_as(e->model_buffer("CPU_REPACK"), 491062) &&
           e->kv.full.total() == bytes{256ULL << 20} && e->kv.swa.total() == bytes{480ULL << 20} && e->kv.swa.cells == 1536;
}

} // namespace oracle_checks
