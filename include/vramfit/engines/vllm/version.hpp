// vramfit/engines/vllm/version.hpp — which vLLM release is described, and what changed between
// the releases people run.
//
// vLLM's start-up accounting moved several times (the engine's own sources, read release by
// release; file and function at each switch below):
//  * V0 (`vllm/worker/worker.py` Worker.determine_num_available_blocks) up to 0.10; the V1
//    engine is opt-in in 0.7, the default from 0.8, the only engine from 0.11.
//  * V1 0.8 (`vllm/v1/worker/gpu_worker.py` determine_available_memory @0.8.5): total × util
//    minus the profiled peak; prints only the token lines.
//  * V1 0.9 → 0.20: weights + activation peak + non-torch memory are subtracted; from 0.20 the
//    CUDA-graph estimate too (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS defaults to 1 in the 0.20.0
//    wheel). Tokens print as (blocks // groups) × block size.
//  * V1 0.22 on: tokens print as int(concurrency × max_model_len) (`get_kv_cache_capacity`,
//    kv_cache_utils.py @0.22–0.27); from 0.30 on one line (`update_kv_cache_capacity`). 0.21 was
//    not read; it is taken to print like 0.22.
#pragma once

#include <compare>
#include <cstdint>
#include <string_view>

#include "vramfit/core/error.hpp"

namespace vramfit::vllm {

struct release {
    std::uint16_t major = 0;
    std::uint16_t minor = 0;
    std::uint16_t patch = 0;
    friend constexpr auto operator<=>(const release&, const release&) = default;
};

// The newest release read (vllm/_version.py of the 0.33.0 wheel: commit 4ba787ec9).
inline constexpr release reference_release{0, 33, 0};
// The oldest release modelled: V0 of 0.5, whose profiled peak (free memory before − after the
// profile run) is the same sum of weights, activations and non-torch memory that 0.6.4 prints.
inline constexpr release oldest_release{0, 5, 0};

enum class engine_kind : std::uint8_t { v0, v1 };

// The four accounting and printing regimes (header comment).
enum class release_family : std::uint8_t { v0, v1_0_8, v1_0_9_to_0_20, v1_0_22_plus };

[[nodiscard]] constexpr std::string_view to_string(release_family f) noexcept {
    switch (f) {
        case release_family::v0: return "V0";
        case release_family::v1_0_8: return "V1 0.8";
        case release_family::v1_0_9_to_0_20: return "V1 0.9-0.20";
        case release_family::v1_0_22_plus: return "V1 0.22+";
    }
    return "?";
}

// "0.10.1.1", "0.27", "v0.11.2", "0.29.1rc1.dev17+gd2d649e67": major.minor[.patch], the rest
// ignored (a fourth number or a pre-release tag does not change the accounting).
[[nodiscard]] constexpr result<release> parse_release(std::string_view text) {
    const std::string_view original = text;
    if (!text.empty() && (text.front() == 'v' || text.front() == 'V')) text.remove_prefix(1);
    std::uint32_t parts[3] = {0, 0, 0};
    std::size_t count = 0;
    std::size_t i = 0;
    while (count < 3) {
        std::size_t digits = 0;
        std::uint32_t value = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 5) {
            value = value * 10 + static_cast<std::uint32_t>(text[i] - '0');
            ++i;
            ++digits;
        }
        if (digits == 0) break;
        parts[count++] = value;
        if (i < text.size() && text[i] == '.' && i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9') {
            ++i;
            continue;
        }
        break;
    }
    // after major.minor.patch: a fourth number ("0.10.1.1"), a local or pre-release tag
    const bool tail_ok = i == text.size() || text[i] == '.' || text[i] == '+' || text[i] == '-' ||
                         (text[i] >= 'a' && text[i] <= 'z') || (count == 3 && text[i] >= '0' && text[i] <= '9');
    if (count < 2 || !tail_ok || parts[0] > 9 || parts[1] > 999) {
        return error{errc::invalid_argument, "expects a vLLM release such as 0.10 or 0.27.1, got '"}.with(original).with("'");
    }
    const release r{static_cast<std::uint16_t>(parts[0]), static_cast<std::uint16_t>(parts[1]), static_cast<std::uint16_t>(parts[2])};
    if (r < oldest_release) {
        return error{errc::unsupported_version, "vLLM "}.with(original).with(
            " is older than 0.5, whose start-up accounting vramfit does not model");
    }
    return r;
}

// The engine a release runs unless told otherwise: V1 is the default from 0.8
// (VLLM_USE_V1, vllm/envs.py @0.8.5) and the only engine from 0.11.
[[nodiscard]] constexpr engine_kind default_engine(release r) noexcept {
    return r < release{0, 8, 0} ? engine_kind::v0 : engine_kind::v1;
}

[[nodiscard]] constexpr result<void> check_engine(release r, engine_kind e) {
    if (e == engine_kind::v1 && r < release{0, 8, 0}) {
        return error{errc::invalid_argument, "the V1 engine's accounting is modelled from vLLM 0.8 (it was opt-in before)"};
    }
    if (e == engine_kind::v0 && r >= release{0, 11, 0}) {
        return error{errc::invalid_argument, "vLLM 0.11 removed the V0 engine"};
    }
    return {};
}

[[nodiscard]] constexpr release_family family_of(release r, engine_kind e) noexcept {
    if (e == engine_kind::v0) return release_family::v0;
    if (r < release{0, 9, 0}) return release_family::v1_0_8;
    if (r < release{0, 21, 0}) return release_family::v1_0_9_to_0_20;
    return release_family::v1_0_22_plus;
}

// ---- switches, each at the release whose source (or log) first shows it ---------------------

// CacheConfig.gpu_memory_utilization (vllm/config/cache.py): 0.92 in the 0.20.0 wheel and later,
// 0.9 in 0.15.0 and every earlier release read (V0 included).
[[nodiscard]] constexpr double default_gpu_memory_utilization(release r) noexcept {
    return r >= release{0, 20, 0} ? 0.92 : 0.9;
}

// request_memory (vllm/v1/worker/utils.py @0.15.0): math.ceil(total × util); 0.11/0.12 and
// earlier keep the product as a float.
[[nodiscard]] constexpr bool rounds_requested_memory_up(release r) noexcept { return r >= release{0, 15, 0}; }

// GPUModelRunner.profile_cudagraph_memory subtracts its estimate from 0.20 on (graphs captured
// later, into the 1 − util headroom, in 0.9–0.15).
[[nodiscard]] constexpr bool reserves_cudagraph_estimate(release r, engine_kind e) noexcept {
    return e == engine_kind::v1 && r >= release{0, 20, 0};
}

// The hybrid KV cache manager (sliding-window and Mamba groups with their own per-request block
// counts): V1 from 0.9; V1 0.8 and V0 give every attention layer max_model_len blocks.
[[nodiscard]] constexpr bool groups_layer_types(release r, engine_kind e) noexcept {
    return e == engine_kind::v1 && r >= release{0, 9, 0};
}

// V0 caches DeepSeek's latent (MLA) from 0.7.1; before, every head's K and V with the head size
// padded to 256 (ModelConfig.get_head_size @0.5.5 and @0.6.6).
[[nodiscard]] constexpr bool v0_caches_latent(release r) noexcept { return r >= release{0, 7, 1}; }

// "Model loading took X GiB": %.4f until 0.11, two decimals (format_gib) by 0.19 (logs of the
// validation set: 0.11.2 prints 14.9596, 0.19.0 prints 13.72); 0.13 per the sources read.
[[nodiscard]] constexpr unsigned loading_decimals(release r, engine_kind e) noexcept {
    return e == engine_kind::v1 && r >= release{0, 13, 0} ? 2u : 4u;
}
// " memory" after the figure: "took 14.9596 GiB memory and …" in the 0.11.2 log, not in 0.11.0's.
[[nodiscard]] constexpr bool loading_says_memory(release r, engine_kind e) noexcept {
    return e == engine_kind::v1 && r >= release{0, 11, 2};
}

// check_enough_kv_cache_memory's wording: "models's" in the 0.8.3 log and the 0.11–0.20 wheels,
// "model's" in the 0.22 and later logs; from 0.29 (format_gib, round(x, 2) printed as a Python
// float) the needed figure loses its "(" and the figures their trailing zeros ("22.5 GiB").
[[nodiscard]] constexpr bool error_says_models_s(release r) noexcept { return r < release{0, 21, 0}; }
[[nodiscard]] constexpr bool prints_gib_as_python_float(release r) noexcept { return r >= release{0, 29, 0}; }
// "Based on the available memory, the estimated maximum model length is M." (estimate_max_model_len):
// in the 0.11 wheel, not in the 0.8.3 log.
[[nodiscard]] constexpr bool error_estimates_max_len(release r) noexcept { return r >= release{0, 9, 0}; }

// "GPU KV cache size: …, Maximum concurrency …" on one line (update_kv_cache_capacity @0.30.0).
[[nodiscard]] constexpr bool capacity_on_one_line(release r) noexcept { return r >= release{0, 30, 0}; }

// V0's block line names the platform from 0.7 ("# CUDA blocks: N"), "# GPU blocks: N" before.
[[nodiscard]] constexpr std::string_view v0_block_line_name(release r) noexcept {
    return r >= release{0, 7, 0} ? "# CUDA blocks: " : "# GPU blocks: ";
}

// `kv_cache_memory_bytes` (--kv-cache-memory): suggested by the 0.10.2 worker's log line.
[[nodiscard]] constexpr bool accepts_kv_cache_memory_bytes(release r, engine_kind e) noexcept {
    return e == engine_kind::v1 && r >= release{0, 10, 2};
}

// EngineArgs.get_batch_defaults' device table (vllm/engine/arg_utils.py @0.11.0 and @0.33.0);
// earlier V1 releases have one default per usage context.
[[nodiscard]] constexpr bool batch_defaults_by_device(release r) noexcept { return r >= release{0, 10, 0}; }

} // namespace vramfit::vllm
