// Compile-only: catalog entries a user writes with designated initialisers, naming only the
// fields they know, compile warning-free (-Wextra -Werror: every field has a default), and the
// tags name entries by key.
#include "vramfit/catalog/gpus.hpp"
#include "vramfit/catalog/models.hpp"

namespace {

using namespace vramfit;

constexpr catalog::model_entry my_model{.key = "my-llama",
                                        .config = {.model_type = "llama", .architecture = "LlamaForCausalLM", .num_hidden_layers = 2,
                                                   .hidden_size = 256, .num_attention_heads = 4, .num_key_value_heads = 2,
                                                   .intermediate_size = 512, .vocab_size = 1000, .max_position_embeddings = 2048}};
constexpr catalog::gpu_spec my_gpu{.id = "my-gpu", .memory = 8_GiB, .cc_major = 8, .cc_minor = 6, .sm_count = 46};

static_assert(my_model.config.head_dim == 0 && my_model.display_name.empty() && my_model.hf_id.empty() && my_model.default_ftype == "Q4_K_M");
static_assert(my_gpu.name.empty() && my_gpu.bandwidth_gb_s == 0 && my_gpu.driver_reserve_high_mib == 0);
static_assert(catalog::to_device(my_gpu).capacity() == 8_GiB);

static_assert(catalog::model<"llama-3.1-8b">::entry.config.num_hidden_layers == 32);
static_assert(&catalog::llama_3_1_8b::entry == &catalog::model<"llama-3.1-8b">::entry);
static_assert(catalog::gpu<"rtx-3090">::spec.sm_count == 82);
static_assert(catalog::gpu<"tesla-k80">::as_device().catalog_id == std::string_view{"tesla-k80"});

} // namespace
