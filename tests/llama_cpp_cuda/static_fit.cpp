// The compile-time form of a fit check: its own translation unit, so editing
// test_fit.cpp (the run-time report) does not evaluate fits<> again. The build fails if one fails.
#include "vramfit/engines/llama_cpp/cuda/fit.hpp"

using namespace vramfit;

// The target syntax: Llama-3.1-8B Q4_K_M at 32k tokens on one RTX 3090 (model ~4.6 GiB,
// KV 4 GiB, compute well under 1 GiB: about 15 GiB free of 24).
static_assert(fits<catalog::llama_3_1_8b, quant::Q4_K_M, catalog::gpu<"rtx-3090">>(ctx_size{32768}));

// The seed case: gemma-3-12b Q4_K_M at 4096 tokens fits on ONE die of a Tesla K80 (11441 MiB).
static_assert(fits<catalog::gemma_3_12b, quant::Q4_K_M, catalog::gpu<"tesla-k80">>(ctx_size{4096}));
