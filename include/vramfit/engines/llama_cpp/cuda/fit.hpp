// vramfit/engines/llama_cpp/cuda/fit.hpp — does a model, quantization and context fit on a set of CUDA devices under
// llama.cpp? At run time (check_fit, a per-device report) and at compile time:
//
//   static_assert(vramfit::fits<catalog::llama_3_1_8b, quant::Q4_K_M, catalog::gpu::rtx_3090>(ctx_size{32768}));
//
// When it does not fit, the constant evaluation fails on purpose inside
// `does_not_fit_on_CUDA<DEVICE, LARGEST_BUFFER>::over_capacity_by_MiB[N]`, so the compiler's
// error names the device, the largest buffer on it and N, the MiB it is over by (GCC:
// "array subscript value 'N' is outside the bounds of array
// 'vramfit::does_not_fit_on_CUDA<0, vramfit::fit_buffer::kv_cache>::over_capacity_by_MiB'";
// Clang: "cannot refer to element N of array of 1 element", "in call to
// 'report_over_capacity(CUDA_device, buffer, N)'").
//
// Per device the total is: model buffer + KV buffer (cuda/offload.hpp, exact against engine logs) +
// compute buffer + overhead + reserve.
//  * Compute buffer: the CUDA build's per-device compute buffer (cuda/compute.hpp: the graph
//    rebuilt and replayed through ggml_backend_sched and ggml_gallocr). Against the mainline logs
//    (BENCHMARKS.md) it is exact where the log's engine build is reproduced, and the graph splits
//    equal the printed counts. The CPU backend's buffer (CUDA_Host, pinned host memory) is
//    fit_report::host_compute. `compute_modelled` is false for an architecture whose graph
//    vramfit does not replay (then 0 is charged).
//  * Overhead: what no buffer line shows — driver reserve, CUDA context, cuBLAS workspace and
//    pools (cuda/runtime_overhead.hpp: an estimate per GPU with low/high bounds from cited measurements).
//    Counted in the total unless fit_params::count_overhead is false; its bounds are reported.
//  * Reserve: anything else the user wants kept free (other processes; --reserve MiB).
//  * Capacity: the nvidia-smi total of the catalog GPU (catalog/gpus.hpp); the overhead's driver
//    reserve covers what CUDA itself does not report.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "vramfit/catalog/gpus.hpp"
#include "vramfit/catalog/models.hpp"
#include "vramfit/engines/llama_cpp/cuda/runtime_overhead.hpp"
#include "vramfit/engines/llama_cpp/cuda/compute.hpp"
#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/memory.hpp"
#include "vramfit/engines/llama_cpp/cuda/offload.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit {

// The context length asked for (-c), as a type so it cannot be confused with a size.
struct ctx_size {
    std::uint32_t tokens = 0;
};

enum class fit_buffer : std::uint8_t { model_weights, kv_cache, compute, overhead, reserve };

[[nodiscard]] constexpr std::string_view to_string(fit_buffer b) noexcept {
    switch (b) {
        case fit_buffer::model_weights: return "model";
        case fit_buffer::kv_cache: return "kv";
        case fit_buffer::compute: return "compute";
        case fit_buffer::overhead: return "overhead";
        case fit_buffer::reserve: return "reserve";
    }
    return "?";
}

struct fit_params {
    llama_cpp::context_params context{};
    llama_cpp::offload_params offload{};  // n_devices is taken from the GPU list
    bytes reserve_per_device{};            // user-set, on top of the overhead (see header)
    bool count_overhead = true;            // charge cuda_overhead_for's estimate to every device in use
};

struct device_fit {
    std::string_view name;   // "CUDA0"
    std::string_view gpu;    // catalog id, "rtx-3090"
    bytes capacity{};
    bytes model{};
    bytes kv{};
    bytes compute{};         // the CUDA compute buffer (see header)
    bytes overhead{};        // cuda_overhead_for's estimate when counted, else 0
    bytes overhead_low{};    // its bounds (reported even when not counted)
    bytes overhead_high{};
    bytes reserve{};
    std::uint32_t layers = 0;
    bool output_layer = false;

    [[nodiscard]] constexpr bytes total() const noexcept { return model + kv + compute + overhead + reserve; }
    // Does it still fit at the high end of the overhead's range?
    [[nodiscard]] constexpr bool fits_at_high_overhead() const noexcept {
        return total() - overhead + overhead_high <= capacity;
    }
    [[nodiscard]] constexpr bool fits() const noexcept { return total() <= capacity; }
    // capacity - total when it fits, else 0 (see over()).
    [[nodiscard]] constexpr bytes margin() const noexcept { return fits() ? capacity - total() : bytes{}; }
    [[nodiscard]] constexpr bytes over() const noexcept { return fits() ? bytes{} : total() - capacity; }
    [[nodiscard]] constexpr fit_buffer largest() const noexcept {
        fit_buffer b = fit_buffer::model_weights;
        bytes size = model;
        if (kv > size) { b = fit_buffer::kv_cache; size = kv; }
        if (compute > size) { b = fit_buffer::compute; size = compute; }
        if (overhead > size) { b = fit_buffer::overhead; size = overhead; }
        if (reserve > size) b = fit_buffer::reserve;
        return b;
    }
};

struct fit_report {
    std::vector<device_fit> devices;
    llama_cpp::offload_estimate placement;  // host buffers and the layer map
    bytes host_compute{};   // the CPU backend's compute buffer ("CUDA_Host compute buffer size")
    bytes blas_compute{};   // the BLAS backend's ("CPU compute buffer size"; offload_params::blas)
    bool blas = false;      // a BLAS build was estimated
    std::uint32_t n_copies = 1;        // pipeline-parallel copies of the scheduler
    std::size_t graph_splits = 0;      // of the prompt-processing graph
    bool compute_modelled = false;

    [[nodiscard]] constexpr bool fits() const noexcept {
        for (const auto& d : devices) if (!d.fits()) return false;
        return true;
    }
    // The first device that does not fit, or devices.size().
    [[nodiscard]] constexpr std::size_t first_over() const noexcept {
        for (std::size_t i = 0; i < devices.size(); ++i) if (!devices[i].fits()) return i;
        return devices.size();
    }
};

// Per-device fit of `model` on `gpus` (CUDA0 = gpus[0], ...).
[[nodiscard]] constexpr result<fit_report> check_fit(const model_description& model, std::span<const catalog::gpu_spec> gpus,
                                                     const fit_params& params) {
    if (gpus.empty()) return error{errc::invalid_argument, "no GPU given"};
    if (gpus.size() > llama_cpp::max_cuda_devices) return error{errc::invalid_argument, "more than 16 CUDA devices"};
    auto ctx = llama_cpp::resolve_context(model, params.context);
    if (!ctx) return ctx.err();
    auto offload = params.offload;
    offload.n_devices = static_cast<std::uint32_t>(gpus.size());
    auto placement = llama_cpp::offload_buffers(model, *ctx, offload);
    if (!placement) return placement.err();

    fit_report report{};
    const auto compute = llama_cpp::cuda_compute_buffers(model, *ctx, offload, *placement);
    report.compute_modelled = compute.ok();
    if (compute.ok()) {
        report.host_compute = compute->host;
        report.blas_compute = compute->blas;
        report.blas = offload.blas;
        report.n_copies = compute->n_copies;
        report.graph_splits = compute->graph_splits;
    }
    for (std::size_t i = 0; i < gpus.size(); ++i) {
        const auto& dev = placement->devices[i];
        device_fit d{};
        d.name = dev.name;
        d.gpu = gpus[i].id;
        d.capacity = gpus[i].memory;
        d.model = dev.model;
        d.kv = dev.kv;
        d.layers = dev.layers;
        d.output_layer = dev.output_layer;
        d.compute = compute.ok() ? compute->device[i] : bytes{};
        // A device the engine does not use (-sm none: all but the main GPU) has no context.
        const bool in_use = offload.mode != llama_cpp::split_mode::none || i == offload.main_gpu;
        const auto overhead = cuda_overhead_for(gpus[i]);
        if (in_use) {
            d.overhead_low = overhead.low;
            d.overhead_high = overhead.high;
            if (params.count_overhead) d.overhead = overhead.estimate;
        }
        d.reserve = params.reserve_per_device;
        report.devices.push_back(d);
    }
    report.placement = std::move(*placement);
    return report;
}

// ---- compile-time check --------------------------------------------------------------------

// Instantiated only when a configuration does not fit: its name carries the device index and
// the largest buffer on it, the failing subscript the MiB it is over by.
template <std::size_t CUDA_device, fit_buffer largest_buffer>
struct does_not_fit_on_CUDA {
    static constexpr char over_capacity_by_MiB[1] = {};
    static constexpr bool report(std::uint64_t over_MiB) { return over_capacity_by_MiB[over_MiB] == 0; }
};

namespace detail {

// Constant evaluation: fails with the numbers in the message. Run time: false.
template <std::size_t D = 0>
constexpr bool report_over_capacity(std::size_t CUDA_device, fit_buffer buffer, std::uint64_t over_MiB) {
    if constexpr (D + 1 < llama_cpp::max_cuda_devices) {
        if (CUDA_device != D) return report_over_capacity<D + 1>(CUDA_device, buffer, over_MiB);
    }
    if (!std::is_constant_evaluated()) return false;
    if (over_MiB == 0) over_MiB = 1;  // index 0 is in bounds
    switch (buffer) {
        case fit_buffer::model_weights: return does_not_fit_on_CUDA<D, fit_buffer::model_weights>::report(over_MiB);
        case fit_buffer::kv_cache: return does_not_fit_on_CUDA<D, fit_buffer::kv_cache>::report(over_MiB);
        case fit_buffer::compute: return does_not_fit_on_CUDA<D, fit_buffer::compute>::report(over_MiB);
        case fit_buffer::overhead: return does_not_fit_on_CUDA<D, fit_buffer::overhead>::report(over_MiB);
        case fit_buffer::reserve: return does_not_fit_on_CUDA<D, fit_buffer::reserve>::report(over_MiB);
    }
    return false;
}

} // namespace detail

// Does catalog model `Model` at quantization `Quant` fit on the GPUs `Gpus...` (CUDA0, CUDA1, …)
// with every layer offloaded (-ngl 99, -sm layer, equal -ts) at context `ctx`? In a constant
// expression a configuration that does not fit is a compile error naming the device, its
// largest buffer and the MiB over (see the header); at run time it returns false. `params`
// overrides the other settings (its context.n_ctx is replaced by `ctx`).
template <class Model, class Quant, class... Gpus>
    requires(sizeof...(Gpus) >= 1)
[[nodiscard]] constexpr bool fits(ctx_size ctx, fit_params params = {}) {
    const std::array<catalog::gpu_spec, sizeof...(Gpus)> gpus{Gpus::spec...};
    auto model = catalog::describe(Model::entry, Quant::value);
    if (!model) throw_error(model.err());
    params.context.n_ctx = ctx.tokens;
    const auto report = check_fit(*model, gpus, params);
    if (!report) throw_error(report.err());
    const std::size_t over = report->first_over();
    if (over == report->devices.size()) return true;
    const auto& d = report->devices[over];
    return detail::report_over_capacity(over, d.largest(), (d.over().count() + 1048575) / 1048576);
}

} // namespace vramfit
