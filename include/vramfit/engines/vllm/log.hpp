// vramfit/engines/vllm/log.hpp — the start-up lines vLLM prints about its memory, character for
// character, from the figures of kv_cache.hpp and memory.hpp.
//
// Numbers are formatted as Python formats them: "%.2f" / "%.4f" round the exact binary value half
// to even (as C's printf does), "{:,}" groups thousands, and from 0.29 format_gib
// (vllm/utils/mem_utils.py: round(x, 2)) prints a Python float, which drops trailing zeros ("22.5").
// The lines and their files:
//  * "Model loading took X GiB" (GPUModelRunner.load_model); V0 "Loading model weights took X GB"
//    (model_runner.py), in GiB despite the unit;
//  * "Available KV cache memory: X GiB" (gpu_worker.py determine_available_memory, V1 0.9 on); V0
//    "the rest of the memory reserved for KV Cache is XGiB" (worker.py, 0.6.6 on), "kv_cache_size=XGiB"
//    in 0.6.4's "Memory profiling results";
//  * "GPU KV cache size: N tokens" and "Maximum concurrency for L tokens per request: X.XXx"
//    (kv_cache_utils.py; one line from 0.30); V0 "# GPU blocks: N, # CPU blocks: M" and its
//    concurrency line (executor_base.py initialize_cache), the length without separators;
//  * the start-up errors of check_enough_kv_cache_memory (V1) and raise_if_cache_size_invalid (V0).
#pragma once

#include <bit>
#include <cstdint>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/text.hpp"
#include "vramfit/engines/vllm/version.hpp"

namespace vramfit::vllm {

namespace detail {
__extension__ using uint128 = unsigned __int128;

// |value| × 10^decimals rounded half to even, exactly (the binary value's own digits).
[[nodiscard]] constexpr std::uint64_t scaled_round(double value, unsigned decimals) noexcept {
    if (value < 0) value = -value;
    const auto bits = std::bit_cast<std::uint64_t>(value);
    const std::uint64_t biased = (bits >> 52) & 0x7ff;
    const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
    if (biased == 0x7ff) return 0;  // not a number or infinite: not printed by these lines
    const std::uint64_t mantissa = biased == 0 ? fraction : fraction | (std::uint64_t{1} << 52);
    const int exponent = biased == 0 ? -1074 : static_cast<int>(biased) - 1075;
    uint128 power = 1;
    for (unsigned i = 0; i < decimals; ++i) power *= 10;
    const uint128 number = uint128{mantissa} * power;
    if (exponent >= 0) return static_cast<std::uint64_t>(number << exponent);
    const int shift = -exponent;
    if (shift >= 127) return 0;
    uint128 quotient = number >> shift;
    const uint128 remainder = number - (quotient << shift);
    const uint128 half = uint128{1} << (shift - 1);
    if (remainder > half || (remainder == half && (quotient & 1) != 0)) ++quotient;
    return static_cast<std::uint64_t>(quotient);
}

constexpr void append_padded(text& out, std::uint64_t value, unsigned width) {
    const auto digits = vramfit::detail::decimal(value);
    for (std::size_t i = digits.size; i < width; ++i) out.append('0');
    out.append(digits.view());
}
} // namespace detail

// Python's "%.{decimals}f" % value.
[[nodiscard]] constexpr text format_fixed(double value, unsigned decimals) {
    text out;
    if (value < 0) out.append('-');
    std::uint64_t power = 1;
    for (unsigned i = 0; i < decimals; ++i) power *= 10;
    const std::uint64_t scaled = detail::scaled_round(value, decimals);
    out.append_number(scaled / power);
    if (decimals != 0) {
        out.append('.');
        detail::append_padded(out, scaled % power, decimals);
    }
    return out;
}

// Python's str(round(value, 2)): "22.5", "8.0", "-24.42".
[[nodiscard]] constexpr text format_python_round2(double value) {
    text out;
    const std::uint64_t cents = detail::scaled_round(value, 2);
    if (value < 0 && cents != 0) out.append('-');
    out.append_number(cents / 100);
    out.append('.');
    const std::uint64_t rest = cents % 100;
    if (rest == 0) out.append('0');
    else if (rest % 10 == 0) out.append_number(rest / 10);
    else detail::append_padded(out, rest, 2);
    return out;
}

// Python's "{:,}".format(n).
[[nodiscard]] constexpr text format_thousands(std::uint64_t n) {
    const auto digits = vramfit::detail::decimal(n);
    const std::string_view d = digits.view();
    text out;
    for (std::size_t i = 0; i < d.size(); ++i) {
        if (i != 0 && (d.size() - i) % 3 == 0) out.append(',');
        out.append(d[i]);
    }
    return out;
}

// A GiB figure as the release prints it in this line: "%.2f", or format_gib from 0.29.
[[nodiscard]] constexpr text format_gib_figure(double gib, release r) {
    return prints_gib_as_python_float(r) ? format_python_round2(gib) : format_fixed(gib, 2);
}

[[nodiscard]] constexpr text loading_line(bytes weights, release r, engine_kind e) {
    text out;
    if (e == engine_kind::v0) {
        out.append("Loading model weights took ").append(format_fixed(weights.gib(), 4).view()).append(" GB");
        return out;
    }
    out.append("Model loading took ").append(format_fixed(weights.gib(), loading_decimals(r, e)).view()).append(" GiB");
    if (loading_says_memory(r, e)) out.append(" memory");
    return out;
}

// `gib` may be negative (a shortfall).
[[nodiscard]] constexpr text available_line(double gib, release r, engine_kind e) {
    text out;
    if (e == engine_kind::v0) {
        if (r >= release{0, 6, 6}) out.append("the rest of the memory reserved for KV Cache is ").append(format_fixed(gib, 2).view()).append("GiB");
        else out.append("kv_cache_size=").append(format_fixed(gib, 2).view()).append("GiB");
        return out;
    }
    if (r < release{0, 9, 0}) return out;  // 0.8 prints no such line
    out.append("Available KV cache memory: ").append(format_gib_figure(gib, r).view()).append(" GiB");
    return out;
}

[[nodiscard]] constexpr text v0_blocks_line(std::uint64_t gpu_blocks, std::uint64_t cpu_blocks, release r) {
    text out;
    out.append(v0_block_line_name(r)).append_number(gpu_blocks).append(", # CPU blocks: ").append_number(cpu_blocks);
    return out;
}

[[nodiscard]] constexpr text tokens_line(std::uint64_t tokens) {
    text out;
    out.append("GPU KV cache size: ").append(format_thousands(tokens).view()).append(" tokens");
    return out;
}

[[nodiscard]] constexpr text concurrency_line(double concurrency, std::uint64_t length, engine_kind e) {
    text out;
    out.append("Maximum concurrency for ");
    if (e == engine_kind::v0) out.append_number(length);
    else out.append(format_thousands(length).view());
    out.append(" tokens per request: ").append(format_fixed(concurrency, 2).view()).append("x");
    return out;
}

// The capacity as the release prints it: two lines, or one from 0.30 (V0: the concurrency line only).
[[nodiscard]] constexpr text capacity_lines(std::uint64_t tokens, double concurrency, std::uint64_t length, release r, engine_kind e) {
    if (e == engine_kind::v0) return concurrency_line(concurrency, length, e);
    text out = tokens_line(tokens);
    out.append(capacity_on_one_line(r) ? ", " : "\n");
    out.append(concurrency_line(concurrency, length, e).view());
    return out;
}

// A hybrid's block-size lines (HybridAttentionMambaModelConfig.verify_and_update_config @0.11.0,
// Platform._align_hybrid_block_size @0.27.1): the attention block, and the Mamba page's padding in
// per cent with two decimals.
[[nodiscard]] constexpr text hybrid_block_line(std::uint32_t block_size) {
    text out;
    out.append("Setting attention block size to ").append_number(block_size)
        .append(" tokens to ensure that attention page size is >= mamba page size.");
    return out;
}

[[nodiscard]] constexpr text mamba_padding_line(std::uint64_t attention_page, std::uint64_t mamba_page) {
    text out;
    const double percent = mamba_page == 0 ? 0.0 : 100.0 * static_cast<double>(attention_page - mamba_page) / static_cast<double>(mamba_page);
    out.append("Padding mamba page size by ").append(format_fixed(percent, 2).view())
        .append("% to ensure that mamba page size and attention page size are exactly equal.");
    return out;
}

inline constexpr std::string_view retry_advice =
    "Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.";

[[nodiscard]] constexpr text no_memory_error() {
    return text{"No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine."};
}

// check_enough_kv_cache_memory's error; `estimated_length` 0 leaves out its sentence.
[[nodiscard]] constexpr text too_long_error(std::uint64_t max_model_len, bytes needed, bytes available, std::uint64_t estimated_length,
                                            release r) {
    text out;
    const bool python_float = prints_gib_as_python_float(r);
    out.append("To serve at least one request with the ").append(error_says_models_s(r) ? "models's" : "model's").append(" max seq len (");
    out.append_number(max_model_len).append("), ").append(python_float ? "" : "(");
    out.append(format_gib_figure(needed.gib(), r).view()).append(" GiB KV cache is needed, which is larger than the available KV cache memory (");
    out.append(format_gib_figure(available.gib(), r).view()).append(" GiB).");
    if (estimated_length != 0 && error_estimates_max_len(r)) {
        out.append(" Based on the available memory, the estimated maximum model length is ").append_number(estimated_length).append(".");
    }
    out.append(" ").append(retry_advice);
    return out;
}

// V0's raise_if_cache_size_invalid.
[[nodiscard]] constexpr text v0_too_long_error(std::uint64_t max_model_len, std::uint64_t cache_tokens) {
    text out;
    out.append("The model's max seq len (").append_number(max_model_len)
        .append(") is larger than the maximum number of tokens that can be stored in KV cache (").append_number(cache_tokens)
        .append("). ").append(retry_advice);
    return out;
}

} // namespace vramfit::vllm
