// vramfit/engines/llama_cpp/cuda/compute.hpp — llama.cpp's compute buffers on a CUDA build: one
// per GPU ("CUDA<i> compute buffer size") and the CPU backend's in pinned host memory
// ("CUDA_Host compute buffer size").
//
// llama_context::sched_reserve (src/llama-context.cpp) reserves the prompt-processing and the
// token-generation graphs (see compute_buffer.hpp) through ggml_backend_sched, which places every
// node on a backend, copies what crosses backends and plans one buffer per backend
// (detail/backend_sched.hpp); ggml_gallocr only grows buffers, so each is the larger of the two
// plans. The graph is the same rebuilt graph as on the CPU, with each weight and cache tensor in
// the buffer cuda/offload.hpp puts it in.
//
// Pipeline parallelism (llama_context constructor): with more than one device, every layer and
// the output offloaded (n_gpu_layers > n_layer), -sm layer, KV offloaded and no tensor overrides,
// the scheduler keeps GGML_SCHED_MAX_COPIES = 4 copies of every split input.
//
// -sm row is approximated: its split matrices are taken as living on their layer's device (the
// engine computes them on the main device, reading rows from every device).
#pragma once

#include <cstdint>
#include <vector>

#include "vramfit/engines/llama_cpp/compute_buffer.hpp"
#include "vramfit/engines/llama_cpp/detail/backend_sched.hpp"
#include "vramfit/engines/llama_cpp/cuda/offload.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::llama_cpp {

struct cuda_compute_estimate {
    std::vector<bytes> device;  // per CUDA device: "CUDA<i> compute buffer size"
    bytes host{};               // "CUDA_Host compute buffer size" (the CPU backend's)
    bytes blas{};               // "CPU compute buffer size": the BLAS backend's (offload_params::blas)
    std::uint32_t n_copies = 1;  // pipeline copies (4 with pipeline parallelism)
    std::size_t graph_splits = 0;     // of the prompt-processing graph ("graph splits = N")
    std::size_t graph_splits_tg = 0;  // of the token-generation graph
};

namespace detail {

// llama_context's pipeline_parallel condition.
[[nodiscard]] constexpr bool pipeline_parallel(const model_description& model, const offload_params& params) noexcept {
    const std::int64_t n_gpu_layers = params.n_gpu_layers < 0 ? std::int64_t{model.hparams.n_layer} + 1 : params.n_gpu_layers;
    return params.n_devices > 1 && params.mode == split_mode::layer && n_gpu_layers > std::int64_t{model.hparams.n_layer} &&
           params.offload_kqv && params.overrides.empty();
}

// The weight_placement of the model's tensors under `placement`; scheduler backends count from
// 0 over the devices the model uses (-sm none: only the main GPU, as backend 0).
[[nodiscard]] constexpr weight_placement make_weight_placement(const model_description& model, const offload_params& params,
                                                               const offload_estimate& placement) {
    const auto& hp = model.hparams;
    const bool single = params.mode == split_mode::none;
    const auto to_backend = [&](int device) -> std::int8_t {
        if (device < 0) return -1;
        return static_cast<std::int8_t>(single ? 0 : device);
    };
    weight_placement out{};
    out.full_offload = params.n_gpu_layers < 0 || params.n_gpu_layers > static_cast<std::int32_t>(hp.n_layer);
    for (std::uint32_t slot = 0; slot < hp.n_layer + 2; ++slot) out.by_layer.push_back({});
    for (const int d : placement.layer_device) out.layer_backend.push_back(to_backend(d));
    for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
        out.cache_backend.push_back(params.offload_kqv && il < placement.layer_device.size() ? to_backend(placement.layer_device[il]) : std::int8_t{-1});
    }
    bool has_output = false;
    const tensor_info* token_embd = nullptr;
    for (std::size_t i = 0; i < model.tensors.size(); ++i) {
        const auto& t = model.tensors[i];
        const auto name = t.name.view();
        const std::int64_t block = gguf::block_index(name);
        std::size_t slot = hp.n_layer + 1;
        if (block >= 0 && block < std::int64_t{hp.n_layer}) slot = static_cast<std::size_t>(block) + 1;
        else if (name.substr(0, 10) == "token_embd") slot = 0;
        if (name == "output.weight") has_output = true;
        if (name == "token_embd.weight") token_embd = &t;
        const int device = i < placement.tensor_device.size() ? placement.tensor_device[i] : -1;
        out.by_layer[slot].push_back({t.ne, t.type, to_backend(device)});
    }
    // A tied output reads token_embd's duplicate in the output layer's buffer.
    if (!has_output && token_embd != nullptr) {
        const int output_device = placement.layer_device.empty() ? -1 : placement.layer_device.back();
        out.by_layer[hp.n_layer + 1].push_back({token_embd->ne, token_embd->type, to_backend(output_device)});
    }
    return out;
}

// Does layer `a` sit where layer `b` does: same device for it and its cache, its tensors of the
// same shapes in the same buffers in the same order, and those in host memory (which a GPU may
// copy in) of the same types? (A GPU-resident weight's type never reaches a compute buffer.)
[[nodiscard]] constexpr bool same_placement(const weight_placement& p, std::uint32_t a, std::uint32_t b) noexcept {
    if (p.layer_backend[a] != p.layer_backend[b] || p.cache_backend[a] != p.cache_backend[b]) return false;
    const auto& x = p.by_layer[a + 1];
    const auto& y = p.by_layer[b + 1];
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (x[i].backend != y[i].backend || x[i].ne != y[i].ne) return false;
        if (x[i].backend < 0 && x[i].type != y[i].type) return false;
    }
    return true;
}

// One graph_reserve through the scheduler. As for the CPU buffer (compute_buffer.hpp's
// reserve_graph), repeated layers are first left out of the middle: when the layers after the
// dense lead repeat with period Q in shape AND placement, and two consecutive Q-periods of the
// kept front start every allocator from the same free blocks and allocate and release alike,
// every period in between would too, so the reduced graph's buffers are the full graph's; its
// split count is completed with the splits of one period per period left out. Otherwise the
// full graph is scheduled.
[[nodiscard]] constexpr sched_result schedule_reserve(const model_description& model, const resolved_context& ctx, reserve_ubatch ub,
                                                      const weight_placement& placement, const sched_config& config,
                                                      bool allow_folding = true) {
    const hyperparameters& hp = model.hparams;
    if (ub.n_seqs == 0) ub.n_seqs = 1;
    if (ub.n_tokens % ub.n_seqs != 0) ub.n_tokens = (ub.n_tokens + ub.n_seqs - 1) / ub.n_seqs * ub.n_seqs;
    const std::uint32_t period = layer_period(hp);
    const std::uint32_t lead = hp.n_expert > 0 ? hp.n_layer_dense_lead : 0;
    for (std::uint32_t q = period; allow_folding && q != 0 && q <= 2 * period; q += period) {
        const std::uint32_t front = lead + 3 + 2 * q;
        if (front + 2 * q > hp.n_layer) break;
        bool periodic = true;
        for (std::uint32_t il = lead; il + q < hp.n_layer && periodic; ++il) periodic = same_placement(placement, il, il + q);
        if (!periodic) continue;
        const std::uint32_t tail_start = front + (hp.n_layer - q - front) / q * q;
        hyperparameters reduced = hp;
        reduced.layers.clear();
        weight_placement reduced_placement{};
        reduced_placement.full_offload = placement.full_offload;
        reduced_placement.by_layer.push_back(placement.by_layer.front());
        const auto keep = [&](std::uint32_t il) {
            reduced.layers.push_back(hp.layers[il]);
            reduced_placement.by_layer.push_back(placement.by_layer[il + 1]);
            reduced_placement.layer_backend.push_back(placement.layer_backend[il]);
            reduced_placement.cache_backend.push_back(placement.cache_backend[il]);
        };
        for (std::uint32_t il = 0; il < front; ++il) keep(il);
        for (std::uint32_t il = tail_start; il < hp.n_layer; ++il) keep(il);
        reduced_placement.by_layer.push_back(placement.by_layer.back());
        reduced_placement.layer_backend.push_back(placement.layer_backend.back());
        reduced.n_layer = static_cast<std::uint32_t>(reduced.layers.size());

        llama_graph_builder builder(reduced, ctx, ub);
        builder.use_placement(&reduced_placement);
        builder.build();
        const auto starts = builder.layer_starts;
        backend_scheduler sched(std::move(builder.graph), config);
        sched_result result = sched.run(&starts);
        for (std::uint32_t j = lead; j <= lead + 3; ++j) {
            if (!sched.periods_repeat(j, q)) continue;
            // splits beginning inside one repeating period, times the periods left out
            std::size_t per_period = 0;
            for (const std::size_t start : result.split_starts) {
                if (start >= starts[j] && start < starts[j + q]) ++per_period;
            }
            result.n_splits += per_period * ((tail_start - front) / q);
            return result;
        }
    }
    llama_graph_builder builder(hp, ctx, ub);
    builder.use_placement(&placement);
    builder.build();
    return schedule_graph(std::move(builder.graph), config);
}

} // namespace detail

// The compute buffers of the CUDA build for `model`, `ctx` and the offload `params`, given the
// weight placement offload_buffers computed for them. Errors as try_compute_buffer_bytes.
// `allow_folding` = false schedules every layer (the tests compare both).
[[nodiscard]] constexpr result<cuda_compute_estimate> cuda_compute_buffers(const model_description& model, const resolved_context& ctx,
                                                                           const offload_params& params, const offload_estimate& placement,
                                                                           bool allow_folding = true) {
    const auto checked = detail::check_compute_inputs(model, ctx);
    if (!checked) return checked.err();
    if (params.n_devices == 0 || params.n_devices > max_cuda_devices) {
        return error{errc::invalid_argument, "CUDA compute buffers: 1 to "}.with_number(max_cuda_devices).with(" devices");
    }
    if (placement.layer_device.size() != model.hparams.n_layer + 1 || placement.tensor_device.size() != model.tensors.size()) {
        return error{errc::invalid_argument, "CUDA compute buffers: the placement is not of this model (call offload_buffers first)"};
    }
    const bool single = params.mode == split_mode::none;
    const std::uint32_t n_backends_gpu = single ? 1 : params.n_devices;
    detail::sched_config config{};
    config.n_gpus = n_backends_gpu;
    config.blas = params.blas;
    config.n_copies = detail::pipeline_parallel(model, params) ? detail::sched_max_copies : 1;

    const auto weights = detail::make_weight_placement(model, params, placement);
    const auto pp = detail::schedule_reserve(model, ctx, detail::prompt_ubatch(ctx), weights, config, allow_folding);
    const auto tg = detail::schedule_reserve(model, ctx, detail::generation_ubatch(ctx), weights, config, allow_folding);

    cuda_compute_estimate out{};
    out.n_copies = config.n_copies;
    out.graph_splits = pp.n_splits;
    out.graph_splits_tg = tg.n_splits;
    // ggml_gallocr only grows a buffer: each is the larger of the two plans
    const auto larger = [&](std::size_t b) { return bytes{pp.buffer_size[b] > tg.buffer_size[b] ? pp.buffer_size[b] : tg.buffer_size[b]}; };
    for (std::uint32_t d = 0; d < params.n_devices; ++d) out.device.push_back(bytes{});
    for (std::uint32_t b = 0; b < n_backends_gpu; ++b) out.device[single ? params.main_gpu : b] = larger(b);
    out.host = larger(pp.buffer_size.size() - 1);  // the CPU backend is the last
    if (params.blas) out.blas = larger(n_backends_gpu);
    return out;
}

} // namespace vramfit::llama_cpp
