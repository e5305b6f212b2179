// Compile-only: catalog entries a user writes with designated initialisers, naming only the
// fields they know, compile warning-free (-Wextra -Werror: every field has a default), and the
// tags name entries by key.
#include "vramfit/catalog/gpus.hpp"
#include "vramfit/catalog/models.hpp"

namespace {

using namespace vramfit;

constexpr catalog::model_entry my_model{.key = "my-llama", .arch = architecture::llama, .n_layer = 2, .n_embd = 256,
                                        .n_head = 4, .n_head_kv = 2, .n_ff = 512, .n_vocab = 1000, .n_ctx_train = 2048};
constexpr catalog::gpu_spec my_gpu{.id = "my-gpu", .memory = 8_GiB, .cc_major = 8, .cc_minor = 6, .sm_count = 46};

static_assert(my_model.head_dim == 0 && my_model.display_name.empty() && my_model.default_ftype == "Q4_K_M");
static_assert(my_gpu.name.empty() && my_gpu.bandwidth_gb_s == 0 && my_gpu.driver_reserve_high_mib == 0);
static_assert(catalog::to_device(my_gpu).capacity() == 8_GiB);

static_assert(catalog::model<"llama-3.1-8b">::entry.n_layer == 32);
static_assert(&catalog::llama_3_1_8b::entry == &catalog::model<"llama-3.1-8b">::entry);
static_assert(catalog::gpu<"rtx-3090">::spec.sm_count == 82);
static_assert(catalog::gpu<"tesla-k80">::as_device().catalog_id == std::string_view{"tesla-k80"});

} // namespace
