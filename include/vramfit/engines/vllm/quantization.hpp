// vramfit/engines/vllm/quantization.hpp — the bytes of one linear layer's parameters as vLLM's
// quantization methods create them (create_weights, then process_weights_after_loading).
//
// Per linear of `in` inputs and `out` outputs on one rank:
//  * unquantized: in × out × the serving dtype (UnquantizedLinearMethod).
//  * FP8 (fp8.py Fp8LinearMethod; fbgemm_fp8, modelopt alike): one byte per weight plus float32
//    scales: block-wise ceil(out/128) × ceil(in/128) with weight_block_size (DeepSeek-V3's
//    weight_scale_inv), one per output channel for fbgemm_fp8, else a scalar (and an input scale).
//  * AWQ (awq.py @0.11.0): qweight int32 [in, out/8], qzeros int32 [in/g, out/8], scales fp16
//    [in/g, out]; awq_marlin repacks to the same sizes.
//  * GPTQ (gptq.py @0.11.0): qweight int32 [in·b/32, out], qzeros int32 [in/g, out·b/32], scales
//    fp16 [in/g, out], g_idx int32 [in]; per-channel checkpoints (group_size −1) have one group.
//  * bitsandbytes (bitsandbytes.py): 4-bit packs two weights per byte with one float32 absmax per
//    64 weights, or with double quantisation one byte per 64 plus a float32 per 256 of those;
//    8-bit one byte per weight and a float32 per output row.
//  * MXFP4 (mxfp4.py, gpt-oss experts only): uint8 with two FP4 values per byte and one E8M0 scale
//    byte per 32 values. Marlin (marlin_utils_fp4.py, GPUs without FP4 kernels) keeps the scales
//    as 16-bit values and pads the expert width to 128; Triton's kernels pad it to 64. (The 0.10.1.1
//    and 0.19.0 A100 logs load 17.22 and 13.72 GiB, which only the Marlin layout reaches.)
//  * compressed-tensors dispatches per scheme, which config.json's config_groups name; not read.
#pragma once

#include <array>
#include <cstdint>

#include "vramfit/core/error.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::vllm {

enum class weight_format : std::uint8_t { dense, fp8_scalar, fp8_channel, fp8_block, awq, gptq, bnb_4bit, bnb_8bit, mxfp4 };

struct weight_scheme {
    weight_format format = weight_format::dense;
    std::uint32_t bits = 16;
    std::uint32_t group_size = 0;                   // AWQ/GPTQ; 0: per channel
    std::array<std::uint32_t, 2> block{128, 128};   // FP8 block-wise scales [out, in]
    bool double_quant = false;                      // bitsandbytes 4-bit
    std::uint32_t mxfp4_scale_bytes = 1;            // 2 under Marlin
    std::uint32_t mxfp4_width_multiple = 64;        // expert width padding
};

// Which of a model's linears a checkpoint quantizes: MXFP4 only the experts; the others every
// linear of the decoder layers. Embedding, lm_head and router gates keep the serving dtype
// (their modules are built without quant_config in vLLM's model files).
struct quantized_parts {
    weight_scheme linears{};   // attention and dense MLP projections
    weight_scheme experts{};   // routed experts
};

[[nodiscard]] constexpr result<quantized_parts> quantization_of(const quantization_config& q, bool marlin_fp4) {
    quantized_parts parts{};
    weight_scheme s{};
    switch (q.method) {
        case quant_method::none: return parts;
        case quant_method::fp8:
            s.format = q.weight_block_size[0] != 0 ? weight_format::fp8_block : weight_format::fp8_scalar;
            if (q.weight_block_size[0] != 0) s.block = q.weight_block_size;
            s.bits = 8;
            break;
        case quant_method::awq:
            s.format = weight_format::awq;
            s.bits = q.bits != 0 ? q.bits : 4;
            s.group_size = q.group_size;
            if (s.bits != 4) return error{errc::unsupported_architecture, "AWQ checkpoints with "}.with_number(s.bits).with("-bit weights: vLLM's AWQ takes 4 bits");
            break;
        case quant_method::gptq:
            s.format = weight_format::gptq;
            s.bits = q.bits != 0 ? q.bits : 4;
            s.group_size = q.group_size;
            if (s.bits != 2 && s.bits != 3 && s.bits != 4 && s.bits != 8) {
                return error{errc::unsupported_architecture, "GPTQ with "}.with_number(s.bits).with("-bit weights");
            }
            break;
        case quant_method::bitsandbytes:
            s.format = q.load_in_8bit || q.bits == 8 ? weight_format::bnb_8bit : weight_format::bnb_4bit;
            s.bits = s.format == weight_format::bnb_8bit ? 8 : 4;
            s.double_quant = q.bnb_4bit_use_double_quant;
            break;
        case quant_method::mxfp4:
            if (q.dequantize) return parts;
            s.format = weight_format::mxfp4;
            s.bits = 4;
            s.mxfp4_scale_bytes = marlin_fp4 ? 2u : 1u;
            s.mxfp4_width_multiple = marlin_fp4 ? 128u : 64u;
            parts.experts = s;
            return parts;
        case quant_method::compressed_tensors:
            return error{errc::unsupported_architecture,
                         "compressed-tensors checkpoints: their config_groups scheme is not read, so the weight format is unknown"};
        case quant_method::other:
            if (q.method_name.view() == "fbgemm_fp8") {
                s.format = weight_format::fp8_channel;
                s.bits = 8;
                break;
            }
            return error{errc::unsupported_architecture, "quantization '"}.with(q.method_name.view()).with("' is not modelled for vLLM");
    }
    parts.linears = s;
    parts.experts = s;
    return parts;
}

[[nodiscard]] constexpr std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) noexcept { return (a + b - 1) / b; }

// Bytes of one in × out linear (weight only; biases are counted by the caller in the serving dtype).
[[nodiscard]] constexpr std::uint64_t linear_bytes(std::uint64_t in, std::uint64_t out, const weight_scheme& s,
                                                   std::uint64_t dtype_bytes) noexcept {
    const std::uint64_t n = in * out;
    switch (s.format) {
        case weight_format::dense: return n * dtype_bytes;
        case weight_format::fp8_scalar: return n + 8;  // weight_scale + input_scale, float32
        case weight_format::fp8_channel: return n + out * 4;
        case weight_format::fp8_block: return n + ceil_div(out, s.block[0]) * ceil_div(in, s.block[1]) * 4;
        case weight_format::awq: {
            const std::uint64_t groups = s.group_size != 0 ? ceil_div(in, s.group_size) : 1;
            return n / 2 + groups * (out / 8) * 4 + groups * out * 2;
        }
        case weight_format::gptq: {
            const std::uint64_t groups = s.group_size != 0 ? ceil_div(in, s.group_size) : 1;
            return n * s.bits / 8 + groups * ceil_div(out * s.bits, 32) * 4 + groups * out * 2 + in * 4;
        }
        case weight_format::bnb_4bit: {
            const std::uint64_t blocks = ceil_div(n, 64);
            return n / 2 + (s.double_quant ? blocks + ceil_div(blocks, 256) * 4 : blocks * 4);
        }
        case weight_format::bnb_8bit: return n + out * 4;
        case weight_format::mxfp4: return n / 2 + ceil_div(n, 32) * s.mxfp4_scale_bytes;
    }
    return n * dtype_bytes;
}

} // namespace vramfit::vllm
