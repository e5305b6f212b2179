// vramfit/engines/vllm/kv_cache.hpp — vLLM's paged KV cache: the page of each layer type, how layers
// are grouped, how many blocks the memory buys, and the tokens, concurrency and max_model_len check
// vLLM derives from them.
//
// V1 (vllm/v1/kv_cache_interface.py, vllm/v1/core/kv_cache_utils.py ≤0.30 and
// kv_cache_planning.py @0.33.0):
//  * page_size_bytes of one block of one layer: full and sliding attention
//    block_size × kv_heads_per_rank × (head_dim + v_head_dim) × element bytes (AttentionSpec);
//    MLA one latent of kv_lora_rank + qk_rope_head_dim, never split by TP (MLAAttentionSpec);
//    Gated-DeltaNet / Mamba the conv and recurrent states, whatever the block size (MambaSpec),
//    padded to the attention page.
//  * Grouping (get_kv_cache_groups, _get_kv_cache_groups_uniform_page_size): one group when every
//    layer has the same spec; otherwise the group size is the smallest layer count of a type (the
//    largest when it is under 1.5 × the smallest) and each type fills cdiv(n, size) groups. One
//    block id then costs group_size × page bytes (get_num_blocks: available // page // group size).
//  * Blocks one request needs (max_memory_usage_bytes): full cdiv(L, block); sliding
//    cdiv(min(window − 1 + max_num_batched_tokens, L), block) + 1 (the tokens of one step in flight,
//    SlidingWindowSpec); Mamba its state blocks (1, with speculative tokens 1 + k; 2 + k in "align").
//  * Hybrid attention + Mamba (HybridAttentionMambaModelConfig.verify_and_update_config @0.11.0,
//    Platform._align_hybrid_block_size @0.27.1): the attention block becomes the smallest multiple of
//    16 whose page covers the Mamba page, which is then padded to it.
//  * Printed capacity: 0.8 blocks × block; 0.9–0.20 (blocks // groups) × smallest block;
//    0.22 on int(concurrency × max_model_len); concurrency = blocks / Σ_groups blocks per request.
//  * _check_enough_kv_cache_memory: one request of max_model_len must fit in the available memory
//    less one block (the block pool's null block); estimate_max_model_len binary-searches the
//    largest length that does.
// V0 (vllm/worker/cache_engine.py CacheEngine.get_cache_block_size, worker.py
// raise_if_cache_size_invalid): one block spans every layer of the stage,
// block × layers × (K + V) × heads × head_dim × element bytes (MLA from 0.7.1: the latent only);
// tokens = blocks × block.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/device.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/vllm/device.hpp"
#include "vramfit/engines/vllm/parallel.hpp"
#include "vramfit/engines/vllm/settings.hpp"
#include "vramfit/engines/vllm/version.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::vllm {

// CacheConfig.DEFAULT_BLOCK_SIZE (vllm/config/cache.py); FlashAttention, FlashInfer and Triton keep it.
inline constexpr std::uint32_t default_block_size = 16;
// The multiple a hybrid's attention block is raised in (the kernel block alignment of
// FlashAttention, FlashInfer and Triton: HybridAttentionMambaModelConfig @0.11.0; MLA hybrids use 128).
inline constexpr std::uint32_t hybrid_block_alignment = 16;

// Bytes of one cached element (CacheConfig.cache_dtype): auto is the serving dtype; an explicit 16-bit
// type must be the serving dtype (ModelConfig rejects a mismatch).
[[nodiscard]] constexpr result<std::uint32_t> cache_element_bytes(kv_cache_dtype cache, dtype model) {
    switch (cache) {
        case kv_cache_dtype::auto_: return bytes_per_block(model);
        case kv_cache_dtype::fp8_e4m3:
        case kv_cache_dtype::fp8_e5m2: return 1u;
        case kv_cache_dtype::bfloat16:
        case kv_cache_dtype::float16:
            if ((cache == kv_cache_dtype::bfloat16) != (model == dtype::bf16)) {
                return error{errc::invalid_argument, "kv_cache_dtype "}.with(to_string(cache)).with(" differs from the model's dtype");
            }
            return 2u;
    }
    return 2u;
}

// The Gated-DeltaNet layers of a hybrid (Qwen3-Next, Qwen3.5, Qwen3.6): config.json's linear_*
// keys and full_attention_interval, which model_config does not carry.
struct linear_attention_config {
    std::uint32_t full_attention_interval = 0;  // every n-th layer is full attention; 0: no linear layers
    std::uint32_t num_key_heads = 0;            // linear_num_key_heads
    std::uint32_t num_value_heads = 0;          // linear_num_value_heads
    std::uint32_t key_head_dim = 0;
    std::uint32_t value_head_dim = 0;
    std::uint32_t conv_kernel = 0;              // linear_conv_kernel_dim
    std::optional<dtype> ssm_state_dtype{};     // mamba_ssm_dtype ("float32"); unset: the serving dtype
    std::uint32_t draft_attention_layers = 0;   // an MTP draft's attention layers, cached beside the model's
};

enum class spec_kind : std::uint8_t { full_attention, sliding_window, mla, mamba };

struct layer_spec {
    spec_kind kind = spec_kind::full_attention;
    std::uint32_t block_size = default_block_size;
    std::uint64_t page_bytes = 0;     // one block of one layer (a Mamba page after padding)
    std::uint32_t sliding_window = 0;
    std::uint32_t state_blocks = 0;   // Mamba: blocks one request keeps
    friend constexpr bool operator==(const layer_spec&, const layer_spec&) = default;
};

struct kv_group {
    layer_spec spec{};
    std::uint32_t layers = 0;  // real layers (the last group of a type may be short: padding)
};

// A bound of this implementation (Gemma 3 with 62 layers has 6 groups), not vLLM's.
inline constexpr std::size_t max_kv_groups = 64;

// What block planning needs besides the model.
struct kv_settings {
    release version = reference_release;
    engine_kind engine = engine_kind::v1;
    std::uint32_t tp = 1;
    std::uint32_t block_size = 0;  // --block-size; 0: the backend's
    kv_cache_dtype cache_dtype = kv_cache_dtype::auto_;
    dtype model_dtype = dtype::bf16;
    std::uint32_t max_num_batched_tokens = 2048;
    std::uint32_t num_speculative_tokens = 0;
    mamba_cache_mode mamba_mode = mamba_cache_mode::align;
};

struct kv_cache_plan {
    std::array<kv_group, max_kv_groups> groups{};
    std::uint32_t group_count = 0;
    std::uint32_t group_size = 0;      // layers whose block tensors one block id spans
    std::uint32_t cached_layers = 0;   // layers with a cache on this stage
    bytes bytes_per_block{};           // one block id: group_size × page (V0: every layer's block)
    std::uint32_t min_block_size = default_block_size;
    std::uint64_t mamba_page_unpadded = 0;  // hybrids: the state before padding (0: none)
    release version = reference_release;
    engine_kind engine = engine_kind::v1;
    std::uint32_t max_num_batched_tokens = 2048;

    [[nodiscard]] constexpr release_family family() const noexcept { return family_of(version, engine); }
    [[nodiscard]] constexpr bool is_hybrid() const noexcept { return mamba_page_unpadded != 0; }
};

// The block size the attention backend takes (Platform.update_block_size_for_backend @0.33.0,
// CudaPlatformBase.check_and_update_config @0.11.0): MLA uses FlashMLA's 64 on Hopper, CUTLASS MLA's
// 128 on data-centre Blackwell, Triton MLA's 16 elsewhere; everything else 16.
[[nodiscard]] constexpr std::uint32_t backend_block_size(const model_config& c, const device& gpu, engine_kind engine) noexcept {
    if (engine == engine_kind::v1 && c.is_mla()) {
        if (gpu.cc_major == 9) return 64;
        if (gpu.cc_major == 10) return 128;
    }
    return default_block_size;
}

namespace detail {

[[nodiscard]] constexpr bool is_linear_layer(const linear_attention_config* linear, std::uint32_t layer) noexcept {
    return linear != nullptr && linear->full_attention_interval != 0 && (layer + 1) % linear->full_attention_interval != 0;
}

// MambaStateShapeCalculator.gated_delta_net_state_shape / _dtype (mamba_utils.py @0.11.0, @0.27.1):
// conv (conv_dim / tp) × (kernel − 1 + speculative tokens) in the serving dtype, recurrent
// (value_heads / tp) × key_dim × value_dim in mamba_ssm_dtype.
[[nodiscard]] constexpr std::uint64_t gated_delta_net_state_bytes(const linear_attention_config& l, std::uint32_t tp,
                                                                  std::uint32_t speculative, dtype model) noexcept {
    const std::uint64_t conv_dim = 2ULL * l.num_key_heads * l.key_head_dim + std::uint64_t{l.num_value_heads} * l.value_head_dim;
    const std::uint64_t conv = conv_dim / tp * (l.conv_kernel - 1 + speculative) * bytes_per_block(model);
    const std::uint64_t ssm_bytes = bytes_per_block(l.ssm_state_dtype ? *l.ssm_state_dtype : model);
    const std::uint64_t ssm = std::uint64_t{l.num_value_heads} / tp * l.key_head_dim * l.value_head_dim * ssm_bytes;
    return conv + ssm;
}

} // namespace detail

// The KV plan of one worker holding layers [first_layer, first_layer + layers) (+ a draft's
// attention layers on the last stage).
[[nodiscard]] constexpr result<kv_cache_plan> plan_kv_cache(const model_config& c, const device& gpu, const kv_settings& s,
                                                            std::uint32_t first_layer, std::uint32_t layers, bool last_stage,
                                                            const linear_attention_config* linear = nullptr) {
    kv_cache_plan plan{};
    plan.version = s.version;
    plan.engine = s.engine;
    plan.max_num_batched_tokens = s.max_num_batched_tokens;
    auto e = cache_element_bytes(s.cache_dtype, s.model_dtype);
    if (!e) return e.err();
    const std::uint32_t bs = s.block_size != 0 ? s.block_size : backend_block_size(c, gpu, s.engine);
    const std::uint64_t kvh = kv_heads_per_rank(c.kv_heads(), s.tp);
    const std::uint64_t hd = c.attention_head_dim();
    const bool hybrid_manager = groups_layer_types(s.version, s.engine);
    const bool has_linear = linear != nullptr && linear->full_attention_interval != 0;
    if (has_linear && !hybrid_manager) {
        return error{errc::unsupported_architecture, "Gated-DeltaNet hybrids need the V1 engine of vLLM 0.9 or later"};
    }
    if (has_linear && (linear->num_key_heads % s.tp != 0 || linear->num_value_heads % s.tp != 0)) {
        return error{errc::invalid_argument, "tensor parallel "}.with_number(s.tp).with(" does not divide the linear-attention heads");
    }

    if (s.engine == engine_kind::v0) {
        // one block spans every layer: K and V (MLA from 0.7.1: the latent alone)
        std::uint64_t per_token_layer = 2 * kvh * hd * *e;
        if (c.is_mla()) {
            per_token_layer = v0_caches_latent(s.version) ? std::uint64_t{c.kv_lora_rank + c.qk_rope_head_dim} * *e
                                                          : 2 * kvh * 256 * *e;  // pre-MLA: every head, head size padded to 256
        }
        layer_spec spec{spec_kind::full_attention, bs, bs * per_token_layer, 0, 0};
        plan.groups[0] = {spec, layers};
        plan.group_count = 1;
        plan.group_size = layers;
        plan.cached_layers = layers;
        plan.bytes_per_block = bytes{spec.page_bytes * layers};
        plan.min_block_size = bs;
        return plan;
    }

    // V1: each layer's spec
    const std::uint64_t attention_per_token = c.is_mla() ? std::uint64_t{c.kv_lora_rank + c.qk_rope_head_dim} * *e : 2 * kvh * hd * *e;
    std::uint32_t attention_block = bs;
    std::uint64_t mamba_page = 0;
    std::uint32_t state_blocks = 0;
    if (has_linear) {
        mamba_page = detail::gated_delta_net_state_bytes(*linear, s.tp, s.num_speculative_tokens, s.model_dtype);
        const std::uint64_t a = hybrid_block_alignment;
        if (s.block_size == 0) attention_block = static_cast<std::uint32_t>(a * ((mamba_page + a * attention_per_token - 1) / (a * attention_per_token)));
        if (attention_block * attention_per_token < mamba_page) {
            return error{errc::invalid_argument, "block size "}.with_number(attention_block).with(
                " gives an attention page smaller than the Gated-DeltaNet state");
        }
        // "align" (prefix caching, 0.22+) keeps a prefill checkpoint block besides the running state
        const bool align = s.mamba_mode == mamba_cache_mode::align && s.version >= release{0, 22, 0};
        state_blocks = (align ? 2u : 1u) + s.num_speculative_tokens;
    }
    const std::uint64_t page = attention_block * attention_per_token;

    // distinct specs and their layer counts
    struct typed { layer_spec spec; std::uint32_t count; };
    std::array<typed, 8> types{};
    std::uint32_t type_count = 0;
    auto add = [&](const layer_spec& spec) -> bool {
        for (std::uint32_t i = 0; i < type_count; ++i) {
            if (types[i].spec == spec) { ++types[i].count; return true; }
        }
        if (type_count == types.size()) return false;
        types[type_count++] = {spec, 1};
        return true;
    };
    const std::uint32_t draft = last_stage && linear != nullptr ? linear->draft_attention_layers : 0;
    for (std::uint32_t il = first_layer; il < first_layer + layers + draft; ++il) {
        const bool draft_layer = il >= first_layer + layers;
        layer_spec spec{};
        spec.block_size = attention_block;
        spec.page_bytes = page;
        if (!draft_layer && detail::is_linear_layer(linear, il)) {
            spec.kind = spec_kind::mamba;
            spec.state_blocks = state_blocks;
        } else if (c.is_mla()) {
            spec.kind = spec_kind::mla;
        } else if (!draft_layer && hybrid_manager && c.sliding_window != 0 && c.sliding_layers.contains(il)) {
            spec.kind = spec_kind::sliding_window;
            spec.sliding_window = c.sliding_window;
        }
        if (!add(spec)) return error{errc::unsupported_architecture, "more than 8 kinds of KV cache layers"};
    }
    std::uint32_t total = 0;
    std::uint32_t smallest = 0xffffffffu, largest = 0;
    for (std::uint32_t i = 0; i < type_count; ++i) {
        total += types[i].count;
        smallest = types[i].count < smallest ? types[i].count : smallest;
        largest = types[i].count > largest ? types[i].count : largest;
    }
    plan.cached_layers = total;
    plan.mamba_page_unpadded = has_linear ? mamba_page : 0;
    plan.min_block_size = attention_block;
    if (total == 0) return plan;
    const std::uint32_t group_size = type_count == 1 ? total : (2 * largest < 3 * smallest ? largest : smallest);
    plan.group_size = group_size;
    for (std::uint32_t i = 0; i < type_count; ++i) {
        std::uint32_t left = types[i].count;
        while (left != 0) {
            if (plan.group_count == max_kv_groups) return error{errc::limit_exceeded, "more than 64 KV cache groups"};
            const std::uint32_t n = left < group_size ? left : group_size;
            plan.groups[plan.group_count++] = {types[i].spec, n};
            left -= n;
        }
    }
    plan.bytes_per_block = bytes{std::uint64_t{group_size} * page};
    return plan;
}

// Blocks one request of `length` tokens holds in one group.
[[nodiscard]] constexpr std::uint64_t group_blocks(const layer_spec& spec, std::uint64_t length, std::uint64_t batched_tokens) noexcept {
    const std::uint64_t bs = spec.block_size;
    switch (spec.kind) {
        case spec_kind::full_attention:
        case spec_kind::mla: return (length + bs - 1) / bs;
        case spec_kind::sliding_window: {
            std::uint64_t tokens = spec.sliding_window - 1 + batched_tokens;
            if (tokens > length) tokens = length;
            return (tokens + bs - 1) / bs + 1;
        }
        case spec_kind::mamba: return spec.state_blocks;
    }
    return 0;
}

// Σ over groups of the blocks one request of `length` tokens holds (V0: its blocks).
[[nodiscard]] constexpr std::uint64_t blocks_per_request(const kv_cache_plan& p, std::uint64_t length) noexcept {
    std::uint64_t n = 0;
    for (std::uint32_t g = 0; g < p.group_count; ++g) n += group_blocks(p.groups[g].spec, length, p.max_num_batched_tokens);
    return n;
}

// The KV memory one request of `length` tokens needs, as the max_model_len check adds it up:
// per layer up to 0.30 (max_memory_usage_bytes of each spec), per group with its padding layers from
// 0.31 (bytes_per_block × Σ groups' blocks, kv_cache_planning.py @0.33.0).
[[nodiscard]] constexpr bytes request_bytes(const kv_cache_plan& p, std::uint64_t length) noexcept {
    if (p.engine == engine_kind::v0 || p.version >= release{0, 31, 0}) return p.bytes_per_block * blocks_per_request(p, length);
    std::uint64_t total = 0;
    for (std::uint32_t g = 0; g < p.group_count; ++g) {
        total += std::uint64_t{p.groups[g].layers} * p.groups[g].spec.page_bytes * group_blocks(p.groups[g].spec, length, p.max_num_batched_tokens);
    }
    return bytes{total};
}

// get_num_blocks: whole blocks in the available memory.
[[nodiscard]] constexpr std::uint64_t num_blocks(const kv_cache_plan& p, bytes available) noexcept {
    return p.bytes_per_block.count() == 0 ? 0 : available / p.bytes_per_block;
}

// V0's host blocks for preemption (CacheEngine: swap_space / cache block size).
[[nodiscard]] constexpr std::uint64_t num_cpu_blocks(const kv_cache_plan& p, bytes swap_space) noexcept {
    return p.bytes_per_block.count() == 0 ? 0 : swap_space / p.bytes_per_block;
}

struct kv_capacity {
    std::uint64_t tokens = 0;   // "GPU KV cache size: N tokens" (V0: blocks × block size)
    double concurrency = 0.0;   // "Maximum concurrency for L tokens per request: X.XXx"
};

// The printed capacity for `blocks` blocks and requests of `length` tokens (header comment). The
// arithmetic is Python's: float division, int() truncation.
[[nodiscard]] constexpr kv_capacity capacity(const kv_cache_plan& p, std::uint64_t blocks, std::uint64_t length) noexcept {
    kv_capacity out{};
    if (length == 0) return out;
    switch (p.family()) {
        case release_family::v0:
        case release_family::v1_0_8:
            out.tokens = blocks * p.min_block_size;
            out.concurrency = static_cast<double>(out.tokens) / static_cast<double>(length);
            return out;
        case release_family::v1_0_9_to_0_20:
            out.concurrency = static_cast<double>(blocks) / static_cast<double>(blocks_per_request(p, length));
            out.tokens = p.group_count == 0 ? 0 : blocks / p.group_count * p.min_block_size;
            return out;
        case release_family::v1_0_22_plus:
            out.concurrency = static_cast<double>(blocks) / static_cast<double>(blocks_per_request(p, length));
            out.tokens = static_cast<std::uint64_t>(out.concurrency * static_cast<double>(length));
            return out;
    }
    return out;
}

// Whether one request of `length` tokens fits `available` (V1: less the null block).
[[nodiscard]] constexpr bool request_fits(const kv_cache_plan& p, std::uint64_t length, bytes available) noexcept {
    if (p.engine == engine_kind::v0) return blocks_per_request(p, length) <= num_blocks(p, available);
    if (available <= p.bytes_per_block) return false;
    return request_bytes(p, length) <= available - p.bytes_per_block;
}

// estimate_max_model_len: the largest length in [1, limit] that fits (0: not even one token). The
// needed memory grows with the length, so vLLM's binary search finds it.
[[nodiscard]] constexpr std::uint64_t largest_fitting_length(const kv_cache_plan& p, bytes available, std::uint64_t limit) noexcept {
    if (limit == 0 || !request_fits(p, 1, available)) return 0;
    std::uint64_t lo = 1, hi = limit, best = 1;
    while (lo <= hi) {
        const std::uint64_t mid = lo + (hi - lo) / 2;
        if (request_fits(p, mid, available)) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return best;
}

} // namespace vramfit::vllm
