// Compile-time check: one measured row (Llama-3.1-8B-Instruct, bfloat16, sdpa, batch 1, a
// 128-token prompt, 4 new tokens; data/hf/transformers_memory.csv) in constant expressions.
#include <cstdint>

#include "vramfit/engines/transformers/activations.hpp"
#include "vramfit/engines/transformers/generate_memory.hpp"
#include "vramfit/engines/transformers/kv_cache.hpp"

namespace {

using namespace vramfit;
using namespace vramfit::transformers;

constexpr model_config llama_3_1_8b() {
    model_config c{};
    c.model_type = config_name("llama");
    c.num_hidden_layers = 32;
    c.hidden_size = 4096;
    c.num_attention_heads = 32;
    c.num_key_value_heads = 8;
    c.intermediate_size = 14336;
    c.vocab_size = 128256;
    c.max_position_embeddings = 131072;
    return c;
}

constexpr bool within_2_percent(std::uint64_t model, std::uint64_t measured) {
    const std::uint64_t diff = model > measured ? model - measured : measured - model;
    return diff * 50 <= measured;
}

constexpr activation_request request{attn_implementation::sdpa, dtype::bf16, 1, 128, false};
static_assert(kv_cache_bytes(llama_3_1_8b(), generate_cache(dtype::bf16, 1, 128, 1)) == bytes{16777216});
static_assert(kv_cache_bytes(llama_3_1_8b(), generate_cache(dtype::bf16, 1, 128, 4)) == bytes{17170432});
static_assert(within_2_percent(prefill_peak(llama_3_1_8b(), request).above_weights.count(), 32050176));
static_assert(within_2_percent(decode_peak(llama_3_1_8b(), request, 130).above_weights.count(), 821872));
static_assert(within_2_percent(full_logits_peak(llama_3_1_8b(), request).above_weights.count(), 50661376));
// The weights come from the module tree, whose std::string names Clang 14 cannot evaluate with
// libstdc++ 12 (its small-string union); GCC 12 can, so the whole generate() is checked there.
#if !(defined(__clang__) && __clang_major__ < 15)
static_assert(generate_memory_on_one_gpu(llama_3_1_8b(), {attn_implementation::sdpa, dtype::bf16, 1, 128, 4, false})
                  .gpus[0].weights == bytes{16060523008});
#endif

}  // namespace
