// Compile-time checks: measured rows of data/hf/transformers_memory.csv in constant expressions
// (Llama-3.1-8B-Instruct, bfloat16, sdpa, batch 1, a 128-token prompt, 4 new tokens, and one row
// of every other modelled architecture).
#include <cstdint>
#include <string_view>

#include "vramfit/catalog/models.hpp"
#include "vramfit/engines/transformers/activations.hpp"
#include "vramfit/engines/transformers/generate_memory.hpp"
#include "vramfit/engines/transformers/kv_cache.hpp"
#include "vramfit/formats/hf/config.hpp"

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
// One measured row of each other modelling file, from the catalog's config (batch 1, a 128-token
// prompt, 4 new tokens): the prefill peak to the byte.
constexpr std::uint64_t prefill_of(std::string_view key, attn_implementation attn, dtype type) {
    const auto* entry = catalog::find(key);
    return entry == nullptr ? 0 : prefill_peak(hf::with_class_rules(entry->config), {attn, type, 1, 128, false}).above_weights.count();
}
static_assert(prefill_of("opt-6.7b", attn_implementation::sdpa, dtype::f16) == 79694848);
static_assert(prefill_of("gpt2", attn_implementation::eager, dtype::bf16) == 9473024);
static_assert(prefill_of("phi-3-mini-4k", attn_implementation::sdpa, dtype::bf16) == 61918464);
static_assert(prefill_of("gpt-oss-20b", attn_implementation::eager, dtype::bf16) == 40955232);
static_assert(prefill_of("deepseek-v2.5", attn_implementation::sdpa, dtype::bf16) == 61428992);
static_assert(prefill_of("mixtral-8x7b", attn_implementation::sdpa, dtype::bf16) == 52508736);
static_assert(prefill_of("qwen3-30b-a3b", attn_implementation::eager, dtype::bf16) == 32681984);
static_assert(prefill_of("pythia-1.4b", attn_implementation::sdpa, dtype::bf16) == 31476736);
static_assert(prefill_of("gemma-2-9b", attn_implementation::eager, dtype::bf16) == 59444392);
static_assert(prefill_of("gemma-3-12b", attn_implementation::sdpa, dtype::bf16) == 66325824);

// The weights come from the module tree, whose std::string names Clang 14 cannot evaluate with
// libstdc++ 12 (its small-string union); GCC 12 can, so the whole generate() is checked there.
#if !(defined(__clang__) && __clang_major__ < 15)
static_assert(generate_memory_on_one_gpu(llama_3_1_8b(), {attn_implementation::sdpa, dtype::bf16, 1, 128, 4, false})
                  .gpus[0].weights == bytes{16060523008});
#endif

}  // namespace
