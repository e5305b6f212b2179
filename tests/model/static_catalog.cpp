// Compile-time checks on described catalog models (parameter counts, quantized sizes, window
// layout, describe's errors): their own translation unit, so editing test_catalog.cpp (the same
// figures at run time) does not evaluate the models again. The build fails if one fails.
#include <cstdint>
#include <string_view>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "catalog_checks.hpp"

using namespace vramfit;

namespace {

using namespace catalog_checks;  // the helpers both translation units share
// llama-3's 64-element rope_freqs (so 8030261248 + 64 for Llama-3.1-8B).
constexpr std::uint64_t llama_3_1_8b_params = 8030261312ULL;
constexpr std::uint64_t llama_3_2_1b_params = 1235814432ULL;
static_assert(params_of(catalog::llama_3_1_8b::entry) == llama_3_1_8b_params);
static_assert(params_of(catalog::llama_3_2_1b::entry) == llama_3_2_1b_params);
static_assert(params_of(catalog::mistral_7b_v0_3::entry) == 7248023552ULL);
static_assert(params_of(catalog::phi_3_mini_4k::entry) == 3821079552ULL);
static_assert(params_of(catalog::lfm2_1_2b::entry) == 1170340608ULL, "LFM2-1.2B's published count");

// llama-quantize's "quant size" for Llama-3.1-8B Q4_K_M: 4685.30 MiB (oracle README).
static_assert(quantized_bytes("llama-3.1-8b:Q4_K_M") == quantized_bytes("llama-3.1-8b"), "bare key = Q4_K_M");
static_assert(quantized_bytes("llama-3.2-1b:Q8_0") > quantized_bytes("llama-3.2-1b:Q4_K_M"));

// Window layout: gemma3 40 SWA + 8 global, gemma2 21 + 21, gpt-oss 12 + 12, phi3 none.
static_assert(swa_layers(catalog::gemma_3_12b::entry) == 40);
static_assert(swa_layers(catalog::gemma_2_9b::entry) == 21);
static_assert(swa_layers(catalog::gpt_oss_20b::entry) == 12);
static_assert(swa_layers(catalog::phi_3_mini_4k::entry) == 0);
static_assert(swa_layers(catalog::llama_3_1_8b::entry) == 0);

static_assert(error_of("llama-3.1-8b:Q4_K_M") == errc::none);
static_assert(error_of("llama-3-8b") == errc::unknown_name);
static_assert(error_of("llama-3.1-8b:Q4_K_X") == errc::unknown_name);
static_assert(error_mentions("llama-3-8b", "did you mean: llama-3.1-8b, llama-3.2-1b, llama-3.3-70b, llama-3.2-3b"));
static_assert(error_mentions("falcon-7b", "catalog families: llama, mistral, qwen2.5, gemma, phi, qwen3, mixtral, gpt, deepseek, mamba2, lfm2, command, glm, pythia, opt, gpt2 ("));

} // namespace
