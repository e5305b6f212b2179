// vramfit/engines/vllm/settings.hpp — the engine arguments that change vLLM's start-up memory,
// under `vllm serve`'s names, and the defaults each release fills in.
//
// Defaults mirror EngineArgs (vllm/engine/arg_utils.py: get_batch_defaults @0.11.0 and @0.33.0,
// _set_default_args_v0 before), CacheConfig (vllm/config/cache.py) and ModelConfig
// (vllm/config/model.py: _get_and_verify_dtype, _get_and_verify_max_len; vllm/config.py before
// 0.11).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/device.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/fixed_string.hpp"
#include "vramfit/engines/vllm/device.hpp"
#include "vramfit/engines/vllm/version.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::vllm {

// --kv-cache-dtype (CacheConfig.cache_dtype). "fp8" is fp8_e4m3 on CUDA.
enum class kv_cache_dtype : std::uint8_t { auto_, fp8_e4m3, fp8_e5m2, bfloat16, float16 };

[[nodiscard]] constexpr result<kv_cache_dtype> parse_kv_cache_dtype(std::string_view text) {
    if (text == "auto") return kv_cache_dtype::auto_;
    if (text == "fp8" || text == "fp8_e4m3") return kv_cache_dtype::fp8_e4m3;
    if (text == "fp8_e5m2") return kv_cache_dtype::fp8_e5m2;
    if (text == "bfloat16") return kv_cache_dtype::bfloat16;
    if (text == "float16" || text == "half") return kv_cache_dtype::float16;
    return error{errc::invalid_argument, "expects auto, fp8, fp8_e4m3, fp8_e5m2, bfloat16 or float16, got '"}.with(text).with("'");
}

[[nodiscard]] constexpr std::string_view to_string(kv_cache_dtype d) noexcept {
    switch (d) {
        case kv_cache_dtype::auto_: return "auto";
        case kv_cache_dtype::fp8_e4m3: return "fp8_e4m3";
        case kv_cache_dtype::fp8_e5m2: return "fp8_e5m2";
        case kv_cache_dtype::bfloat16: return "bfloat16";
        case kv_cache_dtype::float16: return "float16";
    }
    return "?";
}

// `vllm serve` (the OpenAI server) or the offline LLM class: their batch defaults differ.
enum class usage_context : std::uint8_t { openai_server, offline };

// The MoE kernel that holds gpt-oss's MXFP4 experts (get_mxfp4_backend, quantization/mxfp4.py):
// Marlin (weight-only FP4) where the GPU has no FP4 kernels of its own, Triton's matmul_ogs kernels
// otherwise; automatic chooses by compute capability.
enum class mxfp4_backend : std::uint8_t { automatic, marlin, triton };

// Mamba state blocks per request: "align" keeps prefill checkpoints (the default with prefix
// caching on in 0.27, MambaSpec.max_memory_usage_bytes), none keeps one state.
enum class mamba_cache_mode : std::uint8_t { none, align };

struct engine_args {
    release version = reference_release;           // --vllm-version
    std::optional<engine_kind> engine{};            // VLLM_USE_V1; unset: the release's default
    std::uint32_t tensor_parallel_size = 1;
    std::uint32_t pipeline_parallel_size = 1;
    bool enable_expert_parallel = false;
    fixed_string<160> pp_layer_partition{};         // VLLM_PP_LAYER_PARTITION ("20,20,21,19")
    double gpu_memory_utilization = 0.0;            // 0: the release's default
    std::uint32_t max_model_len = 0;                // 0: derived from the config
    std::uint32_t max_num_seqs = 0;                 // 0: the release's default for the device
    std::uint32_t max_num_batched_tokens = 0;       // 0: likewise
    std::uint32_t block_size = 0;                   // 0: the attention backend's
    bool enforce_eager = false;
    kv_cache_dtype cache_dtype = kv_cache_dtype::auto_;
    std::optional<bytes> kv_cache_memory_bytes{};   // --kv-cache-memory: KV memory per GPU, as given
    bytes cpu_offload{};                            // --cpu-offload-gb
    std::optional<vramfit::dtype> serving_dtype{};  // --dtype; unset: "auto"
    usage_context usage = usage_context::openai_server;
    std::uint32_t num_speculative_tokens = 0;       // speculative_config: grows the Mamba conv state
    mamba_cache_mode mamba_mode = mamba_cache_mode::align;  // with prefix caching on (V1's default)
    mxfp4_backend mxfp4 = mxfp4_backend::automatic;
    bytes swap_space{4ULL << 30};                   // V0 --swap-space: host blocks for preemption
};

// The arguments after vLLM filled in its defaults for this model and GPU.
struct resolved_args {
    release version{};
    engine_kind engine = engine_kind::v1;
    release_family family = release_family::v1_0_22_plus;
    std::uint32_t tp = 1;
    std::uint32_t pp = 1;
    bool expert_parallel = false;
    double gpu_memory_utilization = 0.9;
    std::uint32_t max_model_len = 0;
    std::uint32_t derived_max_model_len = 0;  // what the config allows
    std::uint32_t max_num_seqs = 0;
    std::uint32_t max_num_batched_tokens = 0;
    bool chunked_prefill = true;              // V0: only above 32K tokens by default
    bool enforce_eager = false;
    kv_cache_dtype cache_dtype = kv_cache_dtype::auto_;
    dtype model_dtype = dtype::bf16;
    std::optional<bytes> kv_cache_memory_bytes{};
};

// _get_and_verify_max_len: the smallest length key of the config, stretched by rope scaling
// except for the types that already state the stretched length (su, longrope, llama3); yarn
// multiplies original_max_position_embeddings. Gemma 3's linear factor is already inside its
// max_position_embeddings (131072), which vLLM serves as is.
[[nodiscard]] constexpr std::uint32_t derived_max_model_len(const model_config& c) noexcept {
    std::uint64_t length = c.max_position_embeddings;
    if (c.model_max_length != 0 && (length == 0 || c.model_max_length < length)) length = c.model_max_length;
    const auto type = c.rope_scaling.rope_type.view();
    const bool gemma3 = c.model_type.view() == "gemma3" || c.model_type.view() == "gemma3_text";
    if (!type.empty() && c.rope_scaling.factor > 1.0 && type != "su" && type != "longrope" && type != "llama3" &&
        type != "default" && !gemma3) {
        if (type == "yarn" && c.rope_scaling.original_max_position_embeddings != 0) {
            length = c.rope_scaling.original_max_position_embeddings;
        }
        length = static_cast<std::uint64_t>(static_cast<double>(length) * c.rope_scaling.factor);
    }
    if (length == 0 || length > 0xffffffffULL) length = 0xffffffffULL;  // no limit in the config
    return static_cast<std::uint32_t>(length);
}

// _get_and_verify_dtype: "auto" takes the config's dtype; float32 checkpoints are served in
// bfloat16 ("Downcasting torch.float32 to torch.bfloat16", the 0.10.1.1 gpt-oss log), bfloat16
// becomes float16 on GPUs without it.
[[nodiscard]] constexpr dtype serving_dtype(const model_config& c, std::optional<dtype> requested, std::optional<dtype> checkpoint,
                                            const device& gpu) noexcept {
    dtype d = requested ? *requested : c.torch_dtype ? *c.torch_dtype : checkpoint ? *checkpoint : dtype::bf16;
    if (!requested && d == dtype::f32) d = dtype::bf16;
    if (d == dtype::bf16 && !supports_bf16(gpu)) d = dtype::f16;
    return d;
}

// max_num_seqs / max_num_batched_tokens when not given.
struct batch_defaults {
    std::uint32_t max_num_seqs = 256;
    std::uint32_t max_num_batched_tokens = 2048;
};

[[nodiscard]] constexpr batch_defaults default_batch(release r, usage_context usage, const device& gpu) noexcept {
    const bool server = usage == usage_context::openai_server;
    if (!batch_defaults_by_device(r)) return server ? batch_defaults{256, 2048} : batch_defaults{256, 8192};
    switch (batch_class_of(gpu)) {
        case batch_class::huge: return {1024, 16384};
        case batch_class::large: return server ? batch_defaults{1024, 8192} : batch_defaults{1024, 16384};
        case batch_class::small: break;
    }
    return server ? batch_defaults{256, 2048} : batch_defaults{256, 8192};
}

[[nodiscard]] constexpr result<resolved_args> resolve(const engine_args& a, const model_config& c, const device& gpu,
                                                      std::optional<dtype> checkpoint_dtype = std::nullopt) {
    resolved_args r{};
    r.version = a.version;
    r.engine = a.engine ? *a.engine : default_engine(a.version);
    if (auto ok = check_engine(r.version, r.engine); !ok) return ok.err();
    r.family = family_of(r.version, r.engine);
    if (a.tensor_parallel_size == 0 || a.pipeline_parallel_size == 0) {
        return error{errc::invalid_argument, "tensor and pipeline parallel sizes must be at least 1"};
    }
    r.tp = a.tensor_parallel_size;
    r.pp = a.pipeline_parallel_size;
    r.expert_parallel = a.enable_expert_parallel;
    r.gpu_memory_utilization = a.gpu_memory_utilization > 0.0 ? a.gpu_memory_utilization : default_gpu_memory_utilization(r.version);
    if (!(r.gpu_memory_utilization > 0.0) || r.gpu_memory_utilization > 1.0) {
        return error{errc::invalid_argument, "gpu_memory_utilization must be in (0, 1]"};
    }
    r.derived_max_model_len = derived_max_model_len(c);
    r.max_model_len = a.max_model_len != 0 ? a.max_model_len : r.derived_max_model_len;
    if (a.max_model_len > r.derived_max_model_len) {
        // ModelConfig's check (VLLM_ALLOW_LONG_MAX_MODEL_LEN lifts it)
        return error{errc::invalid_argument, "User-specified max_model_len ("}.with_number(a.max_model_len)
            .with(") is greater than the derived max_model_len (").with_number(r.derived_max_model_len).with(") of the model config");
    }
    r.enforce_eager = a.enforce_eager;
    r.cache_dtype = a.cache_dtype;
    r.model_dtype = serving_dtype(c, a.serving_dtype, checkpoint_dtype, gpu);
    r.kv_cache_memory_bytes = a.kv_cache_memory_bytes;
    if (a.kv_cache_memory_bytes && !accepts_kv_cache_memory_bytes(r.version, r.engine)) {
        return error{errc::invalid_argument, "--kv-cache-memory-bytes needs the V1 engine of vLLM 0.10.2 or later"};
    }

    if (r.engine == engine_kind::v0) {
        // _set_default_args_v0 / SchedulerConfig: 256 sequences; without chunked prefill one
        // prompt of max_model_len per step (at least 2048 tokens); chunked prefill is switched on
        // above 32K tokens, with 512 tokens per step before 0.7 and 2048 after.
        r.max_num_seqs = a.max_num_seqs != 0 ? a.max_num_seqs : 256;
        r.chunked_prefill = r.max_model_len > 32768;
        const std::uint32_t chunk = r.version < release{0, 7, 0} ? 512u : 2048u;
        const std::uint32_t whole = r.max_model_len > 2048 ? r.max_model_len : 2048u;
        r.max_num_batched_tokens = a.max_num_batched_tokens != 0 ? a.max_num_batched_tokens : r.chunked_prefill ? chunk : whole;
    } else {
        const auto d = default_batch(r.version, a.usage, gpu);
        r.max_num_seqs = a.max_num_seqs != 0 ? a.max_num_seqs : d.max_num_seqs;
        r.max_num_batched_tokens = a.max_num_batched_tokens != 0 ? a.max_num_batched_tokens : d.max_num_batched_tokens;
    }
    if (r.max_num_batched_tokens < r.max_num_seqs) {
        // SchedulerConfig._verify_args
        return error{errc::invalid_argument, "max_num_batched_tokens ("}.with_number(r.max_num_batched_tokens)
            .with(") must be greater than or equal to max_num_seqs (").with_number(r.max_num_seqs).with(")");
    }
    return r;
}

} // namespace vramfit::vllm
