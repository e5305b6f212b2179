// vramfit/engines/llama_cpp/memory.hpp — every buffer llama.cpp's CPU backend allocates.
//
// The entry point of the llama.cpp engine model: resolve the context (context.hpp), then list the
// buffers in the order the engine creates and prints them:
//   load_tensors         "<buft> model buffer size"   CPU_Mapped (per split file) or CPU, CPU_REPACK
//   llama_context        "CPU output buffer size"     (output_buffer.hpp)
//   llama_kv_cache       "CPU KV buffer size"         full cache, then the SWA cache (kv_cache.hpp)
//   llama_memory_recurrent "CPU RS buffer size"       (recurrent_state.hpp)
//   sched_reserve        "CPU compute buffer size"    (compute_buffer.hpp, when present)
// Everything is constexpr: `static_assert(llama_cpp::estimate(model, {...})->total() == ...)`.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/context_params.hpp"
#include "vramfit/engines/llama_cpp/kv_cache.hpp"
#include "vramfit/engines/llama_cpp/output_buffer.hpp"
#include "vramfit/engines/llama_cpp/recurrent_state.hpp"
#include "vramfit/engines/llama_cpp/weights.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/core/buffer.hpp"
#include "vramfit/core/bytes.hpp"

#if __has_include("vramfit/engines/llama_cpp/compute_buffer.hpp")
#include "vramfit/engines/llama_cpp/compute_buffer.hpp"
#define VRAMFIT_LLAMA_CPP_HAS_COMPUTE_BUFFER 1
#else
#define VRAMFIT_LLAMA_CPP_HAS_COMPUTE_BUFFER 0
#endif

namespace vramfit::llama_cpp {

// Whether this build's estimate includes the compute buffer (compute_buffer.hpp present).
inline constexpr bool estimates_compute_buffer = VRAMFIT_LLAMA_CPP_HAS_COMPUTE_BUFFER != 0;

// Buffers in the core vocabulary (core/buffer.hpp); `part` of a CPU_Mapped buffer is its split file.
using vramfit::buffer;
using vramfit::buffer_kind;
using vramfit::to_string;

struct memory_estimate {
    resolved_context context;
    std::vector<buffer> buffers;
    kv_cache_breakdown kv;          // K and V of both caches, as the engine's size lines print them
    recurrent_state_size recurrent;
    model_buffers weights;

    [[nodiscard]] constexpr bytes total() const noexcept {
        bytes sum{};
        for (const auto& b : buffers) sum += b.size;
        return sum;
    }
    [[nodiscard]] constexpr bytes bytes_of(buffer_kind kind) const noexcept {
        bytes sum{};
        for (const auto& b : buffers) if (b.kind == kind) sum += b.size;
        return sum;
    }
    // The size of one model buffer type ("CPU_Mapped" summed over split files).
    [[nodiscard]] constexpr bytes model_buffer(std::string_view buffer_type) const noexcept {
        bytes sum{};
        for (const auto& b : buffers) if (b.kind == buffer_kind::model && b.buffer_type == buffer_type) sum += b.size;
        return sum;
    }
    [[nodiscard]] constexpr bytes model_bytes() const noexcept { return bytes_of(buffer_kind::model); }
    [[nodiscard]] constexpr bytes kv_bytes() const noexcept { return bytes_of(buffer_kind::kv) + bytes_of(buffer_kind::kv_swa); }
    [[nodiscard]] constexpr bytes output_bytes() const noexcept { return bytes_of(buffer_kind::output); }
    [[nodiscard]] constexpr bytes compute_bytes() const noexcept { return bytes_of(buffer_kind::compute); }
    // Everything the context allocates (what common_memory_breakdown_print calls "context").
    [[nodiscard]] constexpr bytes context_bytes() const noexcept {
        return kv_bytes() + bytes_of(buffer_kind::recurrent);
    }
};

// The CPU backend's buffers for `model` under `params`.
[[nodiscard]] constexpr result<memory_estimate> estimate(const model_description& model, const context_params& params) {
    auto resolved = resolve_context(model, params);
    if (!resolved) return resolved.err();

    memory_estimate est{};
    est.context = *resolved;
    const auto& ctx = est.context;

    auto weights = model_buffer_bytes(model, ctx.use_mmap, ctx.repack);
    if (!weights) return weights.err();
    est.weights = *weights;
    for (const auto& range : est.weights.mapped) {
        est.buffers.push_back({"CPU", buffer_kind::model, "CPU_Mapped", range.size, range.file_index});
    }
    if (!ctx.use_mmap && est.weights.cpu.count() != 0) {
        est.buffers.push_back({"CPU", buffer_kind::model, "CPU", est.weights.cpu, 0});
    }
    if (est.weights.repack.count() != 0) {
        est.buffers.push_back({"CPU", buffer_kind::model, "CPU_REPACK", est.weights.repack, 0});
    }

    est.buffers.push_back({"CPU", buffer_kind::output, "CPU", output_buffer_bytes(model, ctx), 0});

    est.kv = kv_cache_bytes(model, ctx);
    if (est.kv.full.layers != 0) est.buffers.push_back({"CPU", buffer_kind::kv, "CPU", est.kv.full.buffer, 0});
    if (est.kv.swa.layers != 0) est.buffers.push_back({"CPU", buffer_kind::kv_swa, "CPU", est.kv.swa.buffer, 0});

    est.recurrent = recurrent_state_bytes(model, ctx);
    if (est.recurrent.layers != 0) {
        est.buffers.push_back({"CPU", buffer_kind::recurrent, "CPU", est.recurrent.buffer, 0});
    }

#if VRAMFIT_LLAMA_CPP_HAS_COMPUTE_BUFFER
    // The result-returning form: an input the graph model rejects is an error value, never a throw.
    auto compute = try_compute_buffer_bytes(model, ctx);
    if (!compute) return compute.err();
    est.buffers.push_back({"CPU", buffer_kind::compute, "CPU", *compute, 0});
#endif
    return est;
}

} // namespace vramfit::llama_cpp
