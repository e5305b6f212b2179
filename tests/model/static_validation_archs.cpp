// Compile-time checks on the architectures added for the catalog's common models (llama4,
// gptneox, glm4, command-r): hyper-parameter rules, tensor layouts and KV caches of described
// catalog models. Their own translation unit, so editing test_validation_archs.cpp (the same
// functions at run time, and the validation rows) does not evaluate the models again.
#include "validation_arch_checks.hpp"

namespace {

using namespace validation_arch_checks;

static_assert(scout_hparams());
static_assert(count_layers(catalog::llama_4_scout::entry).swa == 36 && count_layers(catalog::llama_4_scout::entry).moe == 48);
static_assert(maverick_hparams());
static_assert(count_layers(catalog::llama_4_maverick::entry).moe == 24);
static_assert(llama4_without_chunks());
static_assert(pythia_hparams());
static_assert(command_r_hparams());
static_assert(glm4_hparams());
static_assert(tensor_count(catalog::llama_4_scout::entry) == 4 + 48 * 13);
static_assert(tensor_count(catalog::llama_4_maverick::entry) == 3 + 24 * 9 + 24 * 13);
static_assert(tensor_count(catalog::pythia_2_8b::entry) == 258 + 130);
static_assert(tensor_count(catalog::command_r_v01::entry) == 2 + 40 * 8);
static_assert(tensor_count(catalog::command_r_plus::entry) == 2 + 64 * 10);
static_assert(command_r_plus_qk_norm());
static_assert(tensor_count(catalog::glm_4_32b::entry) == 3 + 61 * 10);
static_assert(scout_kv());
static_assert(glm4_kv_r10());

} // namespace
