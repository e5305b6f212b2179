// vramfit/engines/transformers/plan.hpp — the max_memory that makes accelerate produce a device map
// generate() does not run out of memory with, and the dtype or bitsandbytes quantization that
// gives the fastest such map.
//
// accelerate fills a GPU up to its max_memory with weights only (infer_auto_device_map), so a
// budget that leaves no room for what generate() adds is an out-of-memory. Every candidate is
// judged by estimate_generate, the function the estimate runs: a budget whose GPU total exceeds
// the GPU is lowered by what it lacked and the map recomputed, until every GPU holds its total.
// The module tree is built once per dtype and quantization (load_model).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/device.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/format.hpp"
#include "vramfit/engines/transformers/estimate.hpp"
#include "vramfit/plan/speed.hpp"

namespace vramfit::transformers {

// What the plan may use: the GPUs, host memory for offloaded modules, and disk space for an
// offload_folder.
struct plan_resources {
    std::vector<device> gpus;
    std::optional<bytes> ram;
    std::optional<bytes> disk;  // unset: no offload_folder
};

struct plan_request {
    std::optional<dtype> asked_dtype;       // unset: dtype="auto"
    std::optional<dtype> checkpoint_dtype;  // the files' first floating dtype, for dtype="auto"
    quantization asked_quant = quantization::none;  // none: try bitsandbytes 8-bit and 4-bit too
    placement_strategy strategy = placement_strategy::auto_;
    generate_settings generate{};
    plan_resources resources{};
};

// Why a candidate does not fit.
enum class plan_refusal : std::uint8_t {
    none,
    no_budget,           // the budget loop found no max_memory
    gpu_over,            // a GPU holds more than it has even with nothing left to move
    bnb_offload,         // bitsandbytes refuses cpu/disk entries
    disk_not_given,      // the map offloads to disk, no --disk
    disk_too_small,
};

struct plan_candidate {
    quantization quant = quantization::none;
    dtype type = dtype::bf16;
    std::vector<memory_spec> max_memory;  // what gives the map below
    generate_estimate estimate{};
    plan_refusal refusal = plan_refusal::none;
    device_id over_device{};  // gpu_over: which GPU
    bytes over_total{};       // gpu_over: its total
    std::uint32_t gpu_layers = 0, cpu_layers = 0, disk_layers = 0;
    bytes gpu_weights{}, cpu_weights{}, disk_weights{};
    double decode_tokens_per_s = 0;

    [[nodiscard]] constexpr bool fits() const noexcept { return refusal == plan_refusal::none; }
    [[nodiscard]] constexpr bool all_on_gpus() const noexcept {
        return fits() && cpu_layers == 0 && disk_layers == 0 && cpu_weights == bytes{} && disk_weights == bytes{};
    }
    [[nodiscard]] std::string why_not() const {
        switch (refusal) {
            case plan_refusal::none: return {};
            case plan_refusal::no_budget: return "no max_memory found that keeps generate() within every GPU";
            case plan_refusal::gpu_over:
                return "GPU " + to_string(over_device) + " needs " + format_mib(over_total) + " with no layer left on it";
            case plan_refusal::bnb_offload:
                return "bitsandbytes places no module on cpu or disk without llm_int8_enable_fp32_cpu_offload";
            case plan_refusal::disk_not_given:
                return "needs " + format_mib(disk_weights) + " offloaded to disk (give --disk SIZE for an offload_folder)";
            case plan_refusal::disk_too_small: return "needs " + format_mib(disk_weights) + " on disk, more than --disk";
        }
        return {};
    }
};

struct transformers_plan {
    std::vector<plan_candidate> candidates;
    std::size_t chosen = 0;  // valid when any_fits
    bool any_fits = false;

    [[nodiscard]] constexpr const plan_candidate* best() const noexcept { return any_fits ? &candidates[chosen] : nullptr; }
};

namespace detail::plan {

inline constexpr std::uint64_t mib = 1048576ULL;
inline constexpr int max_budget_rounds = 64;

[[nodiscard]] constexpr std::string decimal(std::uint64_t v) {
    std::string digits;
    do { digits.insert(digits.begin(), static_cast<char>('0' + v % 10)); v /= 10; } while (v != 0);
    return digits;
}

// Budgets in whole MiB, written as accelerate parses them ("6139MiB": × 2^20).
[[nodiscard]] constexpr std::vector<memory_spec> as_max_memory(const std::vector<std::uint64_t>& gpu_mib, const std::optional<bytes>& ram) {
    std::vector<memory_spec> specs;
    for (std::size_t i = 0; i < gpu_mib.size(); ++i)
        specs.push_back({device_id::gpu(static_cast<std::uint32_t>(i)), decimal(gpu_mib[i]) + "MiB", 0});
    if (ram) specs.push_back({device_id::cpu(), decimal(ram->count() / mib) + "MiB", 0});
    return specs;
}

// Decode speed, bandwidth-bound (plan/speed.hpp's figures): each token reads every weight once;
// weights on a GPU at its memory bandwidth, offloaded ones cross the execution GPU's PCIe link
// (accelerate's hooks copy them in for every forward), disk ones are read from disk first.
[[nodiscard]] constexpr double decode_tokens_per_s(const generate_estimate& e, std::span<const device> gpus) {
    double seconds = 0;
    const speed_inputs host{};
    const double link = (gpus.empty() ? 16.0 * 0.985 : pcie_gb_s(gpus[std::min<std::size_t>(e.execution_gpu, gpus.size() - 1)])) * 1e9;
    for (const auto& r : e.rows) {
        const auto w = static_cast<double>(r.weights.count());
        if (r.device.type == device_id::kind::cpu) seconds += w / link;
        else if (r.device.type == device_id::kind::disk) seconds += w / std::min(host.disk_gb_s * 1e9, link);
        else seconds += w / ((r.device.index < gpus.size() ? gpu_bandwidth_gb_s(gpus[r.device.index]) : 240.0) * 1e9);
    }
    return seconds > 0 ? 1.0 / seconds : 0;
}

// One dtype/quantization: lower the GPUs' budgets until generate() fits on each.
[[nodiscard]] constexpr result<plan_candidate> place(const loaded_model& model, quantization quant, const plan_request& request) {
    const auto& res = request.resources;
    plan_candidate c;
    c.quant = quant;
    c.type = model.type;
    std::vector<std::uint64_t> budget_mib;
    for (const auto& g : res.gpus) budget_mib.push_back(accelerate_free_memory(g).count() / mib);
    for (int round = 0;; ++round) {
        c.max_memory = as_max_memory(budget_mib, res.ram);
        auto e = estimate_generate(model, c.max_memory, request.strategy, request.generate, res.gpus);
        if (!e) return e.err();
        c.estimate = std::move(*e);
        bool lowered = false;
        for (const auto& r : c.estimate.rows) {
            if (!r.over_capacity() || !r.device.is_gpu() || r.device.index >= budget_mib.size()) continue;
            const std::uint64_t excess_mib = (r.total().count() - r.capacity->count() + mib - 1) / mib;
            auto& b = budget_mib[r.device.index];
            b = b > excess_mib ? b - excess_mib : 0;
            lowered = true;
        }
        if (!lowered) break;
        if (round + 1 == max_budget_rounds) { c.refusal = plan_refusal::no_budget; break; }
    }
    for (const auto& r : c.estimate.rows) {
        if (r.device.type == device_id::kind::cpu) { c.cpu_layers = r.layers; c.cpu_weights = r.weights; }
        else if (r.device.type == device_id::kind::disk) { c.disk_layers = r.layers; c.disk_weights = r.weights; }
        else { c.gpu_layers += r.layers; c.gpu_weights += r.weights; }
        if (r.over_capacity() && c.refusal == plan_refusal::none) {
            c.refusal = plan_refusal::gpu_over;
            c.over_device = r.device;
            c.over_total = r.total();
        }
    }
    if (c.refusal == plan_refusal::none && c.estimate.map.refused) c.refusal = plan_refusal::bnb_offload;
    if (c.refusal == plan_refusal::none && c.disk_weights != bytes{}) {
        if (!res.disk) c.refusal = plan_refusal::disk_not_given;
        else if (c.disk_weights > *res.disk) c.refusal = plan_refusal::disk_too_small;
    }
    c.decode_tokens_per_s = decode_tokens_per_s(c.estimate, res.gpus);
    return c;
}

}  // namespace detail::plan

// The ladder: the asked dtype (or dtype="auto"), then bitsandbytes 8-bit and 4-bit unless a
// quantization was asked for (a pre-quantized checkpoint is not re-quantized). Chosen: the
// first candidate that keeps every layer on the GPUs; else the fastest that fits.
[[nodiscard]] constexpr result<transformers_plan> plan_generate(const model_config& config, const plan_request& request) {
    if (request.resources.gpus.empty())
        return error{errc::invalid_argument, "no GPU to plan for: name the GPUs (e.g. --gpu a100-40gbx2)"};
    std::vector<quantization> ladder;
    if (request.asked_quant != quantization::none) ladder.push_back(request.asked_quant);
    else ladder = {quantization::none, quantization::bnb_8bit, quantization::bnb_4bit};
    transformers_plan p;
    for (const auto quant : ladder) {
        // a pre-quantized checkpoint (MXFP4, FP8, GPTQ, AWQ) loads with its own quantizer only
        const bool prequantized = config.quantization.method != quant_method::none &&
                                  config.quantization.method != quant_method::bitsandbytes;
        if (quant != quantization::none && prequantized) continue;
        auto model = load_model(config, request.asked_dtype, request.checkpoint_dtype, quant);
        if (!model) return model.err();
        auto c = detail::plan::place(*model, quant, request);
        if (!c) return c.err();
        p.candidates.push_back(std::move(*c));
    }
    for (std::size_t i = 0; i < p.candidates.size() && !p.any_fits; ++i) {
        if (p.candidates[i].all_on_gpus()) { p.chosen = i; p.any_fits = true; }
    }
    for (std::size_t i = 0; i < p.candidates.size() && !p.any_fits; ++i) {
        if (!p.candidates[i].fits()) continue;
        std::size_t best = i;
        for (std::size_t j = i + 1; j < p.candidates.size(); ++j)
            if (p.candidates[j].fits() && p.candidates[j].decode_tokens_per_s > p.candidates[best].decode_tokens_per_s) best = j;
        p.chosen = best;
        p.any_fits = true;
    }
    return p;
}

}  // namespace vramfit::transformers
