// vramfit/engines/llama_cpp/cuda/fit.hpp — does a model, quantization and context fit on a set of CUDA devices under
// llama.cpp? At run time (check_fit, a per-device report) and at compile time:
//
//   static_assert(vramfit::fits<catalog::llama_3_1_8b, quant::Q4_K_M, catalog::gpu<"rtx-3090">>(ctx_size{32768}));
//
// When it does not fit, the constant evaluation fails on purpose inside
// `does_not_fit_on_CUDA<DEVICE, LARGEST_BUFFER>::over_capacity_by_MiB[N]`, so the compiler's
// error names the device, the largest buffer on it and N, the MiB it is over by (GCC:
// "array subscript value 'N' is outside the bounds of array
// 'vramfit::does_not_fit_on_CUDA<0, vramfit::buffer_kind::kv>::over_capacity_by_MiB'";
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
#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/cuda/runtime_overhead.hpp"
#include "vramfit/engines/llama_cpp/cuda/compute.hpp"
#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/memory.hpp"
#include "vramfit/engines/llama_cpp/cuda/offload.hpp"
#include "vramfit/core/buffer.hpp"
#include "vramfit/core/device.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit {

// The context length asked for (-c), as a type so it cannot be confused with a size.
struct ctx_size {
    std::uint32_t tokens = 0;
};

struct fit_params {
    llama_cpp::context_params context{};
    llama_cpp::offload_params offload{};  // n_devices is taken from the GPU list
    bytes reserve_per_device{};            // user-set, on top of the overhead (see header)
    bool count_overhead = true;            // charge cuda_overhead_for's estimate to every device in use
};

struct fit_report {
    std::vector<device_memory> devices;   // CUDA0, CUDA1, ... (core/buffer.hpp)
    llama_cpp::offload_estimate placement;  // host buffers and the layer map
    bytes host_compute{};   // the CPU backend's compute buffer ("CUDA_Host compute buffer size")
    bytes blas_compute{};   // the BLAS backend's ("CPU compute buffer size"; offload_params::blas)
    bool blas = false;      // a BLAS build was estimated
    std::uint32_t n_copies = 1;        // pipeline-parallel copies of the scheduler
    std::size_t graph_splits = 0;      // of the prompt-processing graph
    bool compute_modelled = false;

    [[nodiscard]] constexpr bool fits() const noexcept { return all_fit(devices); }
    // The first device that does not fit, or devices.size().
    [[nodiscard]] constexpr std::size_t first_over() const noexcept { return vramfit::first_over(devices); }
};

// Per-device fit of `model` on `gpus` (CUDA0 = gpus[0], ...).
[[nodiscard]] constexpr result<fit_report> check_fit(const model_description& model, std::span<const device> gpus,
                                                     const fit_params& params) {
    if (gpus.empty()) return error{errc::invalid_argument, "no GPU given"};
    if (gpus.size() > llama_cpp::max_cuda_devices) return error{errc::invalid_argument, "more than "}.with_number(llama_cpp::max_cuda_devices).with(" CUDA devices");
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
        device_memory d{};
        d.name = dev.name;
        d.device_id = device_label(gpus[i]);
        d.capacity = gpus[i].capacity();
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

// The same for catalog GPUs.
[[nodiscard]] constexpr result<fit_report> check_fit(const model_description& model, std::span<const catalog::gpu_spec> gpus,
                                                     const fit_params& params) {
    std::vector<device> devices;
    for (const auto& g : gpus) devices.push_back(catalog::to_device(g));
    return check_fit(model, std::span<const device>{devices}, params);
}

// ---- compile-time check --------------------------------------------------------------------

// Instantiated only when a configuration does not fit: its name carries the device index and
// the largest buffer on it, the failing subscript the MiB it is over by.
template <std::size_t CUDA_device, buffer_kind largest_buffer>
struct does_not_fit_on_CUDA {
    static constexpr char over_capacity_by_MiB[1] = {};
    static constexpr bool report(std::uint64_t over_MiB) { return over_capacity_by_MiB[over_MiB] == 0; }
};

namespace detail {

// Constant evaluation: fails with the numbers in the message. Run time: false.
template <std::size_t D = 0>
constexpr bool report_over_capacity(std::size_t CUDA_device, buffer_kind buffer, std::uint64_t over_MiB) {
    if constexpr (D + 1 < llama_cpp::max_cuda_devices) {
        if (CUDA_device != D) return report_over_capacity<D + 1>(CUDA_device, buffer, over_MiB);
    }
    if (!std::is_constant_evaluated()) return false;
    if (over_MiB == 0) over_MiB = 1;  // index 0 is in bounds
    switch (buffer) {
        case buffer_kind::model: return does_not_fit_on_CUDA<D, buffer_kind::model>::report(over_MiB);
        case buffer_kind::kv: return does_not_fit_on_CUDA<D, buffer_kind::kv>::report(over_MiB);
        case buffer_kind::compute: return does_not_fit_on_CUDA<D, buffer_kind::compute>::report(over_MiB);
        case buffer_kind::overhead: return does_not_fit_on_CUDA<D, buffer_kind::overhead>::report(over_MiB);
        case buffer_kind::reserve: return does_not_fit_on_CUDA<D, buffer_kind::reserve>::report(over_MiB);
        case buffer_kind::kv_swa:  // device_memory::largest() names only the five above
        case buffer_kind::recurrent:
        case buffer_kind::output: break;
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
    const std::array<device, sizeof...(Gpus)> gpus{catalog::to_device(Gpus::spec)...};
    auto model = llama_cpp::describe(Model::entry, Quant::value);
    if (!model) throw_error(model.err());
    params.context.n_ctx = ctx.tokens;
    const auto report = check_fit(*model, std::span<const device>{gpus}, params);
    if (!report) throw_error(report.err());
    const std::size_t over = report->first_over();
    if (over == report->devices.size()) return true;
    const auto& d = report->devices[over];
    return detail::report_over_capacity(over, d.largest(), (d.over().count() + 1048575) / 1048576);
}

} // namespace vramfit
