// Must NOT compile: Llama-3.1-8B F16 at 131072 tokens on one RTX 3090 (15 GiB of weights and
// 16 GiB of KV on a 24 GiB card). tests/llama_cpp_cuda/meson.build runs the compiler on this file
// and checks that the error names the device, the KV cache and the MiB it is over by.
#include "vramfit/engines/llama_cpp/cuda/fit.hpp"

using namespace vramfit;

static_assert(fits<catalog::llama_3_1_8b, quant::F16, catalog::gpu<"rtx-3090">>(ctx_size{131072}));

int main() { return 0; }
