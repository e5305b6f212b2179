// Compile-time checks: the engine model in constant expressions on catalog models, against the
// CPU oracle's printed buffers. Their own translation unit, so editing test_oracle.cpp (which
// checks the same functions at run time) does not evaluate the models again.
#include <cstdint>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/memory.hpp"
#include "oracle_checks.hpp"

using namespace vramfit;
using namespace vramfit::llama_cpp;

namespace {

using namespace oracle_checks;  // the helpers both translation units share
static_assert(llama_3_1_8b_q4_k_m_matches_oracle());
static_assert(gemma_3_12b_matches_oracle());

} // namespace
