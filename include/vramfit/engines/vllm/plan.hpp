// vramfit/engines/vllm/plan.hpp — every TP × PP layout of a model on a cluster of one GPU kind,
// judged by the start-up estimate (estimate_startup, the function `estimate --engine vllm` runs),
// and the fastest one that serves the requested length and concurrency.
//
// For each layout: the rules (layout.hpp) or, when it is valid, vLLM's start-up on its GPUs. It fits
// when KV blocks remain, vLLM's max_model_len check passes on every worker
// (_check_enough_kv_cache_memory), and the blocks hold `concurrency` requests of max_model_len at once
// ("Maximum concurrency for L tokens per request", kv_cache_utils.py). With `max_ctx` the length is
// the largest vLLM's own estimate_max_model_len finds (startup_estimate::max_model_len_fit), or, for
// more than one request at once, the largest whose printed concurrency reaches it; the layout is then
// started again at that length, as `--max-model-len L` would.
//
// When no layout fits and no --cpu-offload-gb was given, each valid layout is tried again with the
// fewest whole GiB of --cpu-offload-gb per GPU (UVAOffloadConfig.cpu_offload_gb, vllm/config/offload.py
// @0.33.0; CacheConfig.cpu_offload_gb before) that make it fit the requested length, or the model's
// whole context with `max_ctx`. Offloaded weights cross PCIe on every token (speed.hpp).
//
// Choice: with `max_ctx` the longest context, then the fastest; otherwise the fastest; ties go to
// the layout with fewer GPUs. Speeds are speed.hpp's bound.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/device.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/text.hpp"
#include "vramfit/engines/vllm/estimate.hpp"
#include "vramfit/engines/vllm/kv_cache.hpp"
#include "vramfit/engines/vllm/layout.hpp"
#include "vramfit/engines/vllm/log.hpp"
#include "vramfit/engines/vllm/settings.hpp"
#include "vramfit/engines/vllm/speed.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/plan/speed.hpp"

namespace vramfit::vllm {

struct plan_request {
    engine_args args{};               // the user's flags; the plan sets TP, PP, max_model_len and the offload
    device gpu{};
    gpu_cluster cluster{};
    bool max_ctx = false;             // the largest max_model_len; else args.max_model_len (0: the model's)
    std::uint32_t concurrency = 1;    // requests of max_model_len tokens held at once
    bool offload_fallback = true;     // try --cpu-offload-gb when nothing fits (not when args.cpu_offload is set)
    std::optional<dtype> checkpoint_dtype{};
    speed_inputs rates{};
};

enum class layout_refusal : std::uint8_t {
    none,
    invalid,           // a rule of layout.hpp (or of the estimate) refuses the layout
    no_kv_memory,      // nothing of gpu_memory_utilization is left for KV blocks
    too_long,          // one request of max_model_len does not fit (vLLM refuses to start)
    too_few_requests,  // it starts, but holds fewer than `concurrency` requests at once
};

struct layout_candidate {
    std::uint32_t tp = 1;
    std::uint32_t pp = 1;              // 0: every PP (a rule of the tensor-parallel size alone)
    std::uint32_t gpus = 0;
    std::uint32_t nodes = 0;
    layout_refusal refusal = layout_refusal::none;
    text rule{};                       // invalid: the rule, in its own words
    std::optional<startup_estimate> estimate{};  // valid layouts: the start-up at max_model_len
    std::uint32_t max_model_len = 0;   // what the layout is started with (--max-model-len)
    std::uint64_t largest_len = 0;     // the largest one request may have here (vLLM's estimate)
    std::uint32_t concurrency = 1;     // as asked
    bytes cpu_offload{};               // per GPU (--cpu-offload-gb)
    decode_bound speed{};

    [[nodiscard]] constexpr bool fits() const noexcept { return refusal == layout_refusal::none; }
    [[nodiscard]] constexpr bool valid() const noexcept { return refusal != layout_refusal::invalid; }

    [[nodiscard]] constexpr text why_not() const {
        text out;
        switch (refusal) {
            case layout_refusal::none: return out;
            case layout_refusal::invalid: return rule;
            case layout_refusal::no_kv_memory: {
                // the worker that lacks the most
                const stage_estimate* worst = &estimate->deciding();
                for (const auto& st : estimate->stages) {
                    if (st.memory.shortfall > worst->memory.shortfall) worst = &st;
                }
                const auto& m = worst->memory;
                out.append("no memory left for KV blocks: ").append(format_fixed(m.weights.gib(), 2).view()).append(" GiB of weights + ")
                    .append(format_fixed((m.non_kv() - m.weights).gib(), 2).view()).append(" GiB besides, ")
                    .append(format_fixed(m.requested.gib(), 2).view()).append(" GiB allowed (gpu_memory_utilization ")
                    .append(format_fixed(m.utilization, 2).view()).append(")");
                return out;
            }
            case layout_refusal::too_long: {
                const auto& v = estimate->verdict;
                out.append("max_model_len ").append_number(max_model_len).append(" needs ").append(format_fixed(v.needed.gib(), 2).view())
                    .append(" GiB of KV, ").append(format_fixed(estimate->stages[v.failing_stage].memory.available.gib(), 2).view())
                    .append(" GiB left; the largest is ").append_number(largest_len);
                return out;
            }
            case layout_refusal::too_few_requests:
                out.append("holds ").append(format_fixed(estimate->capacity.concurrency, 2).view()).append(" requests of ")
                    .append_number(max_model_len).append(" tokens at once, ").append_number(concurrency).append(" asked");
                return out;
        }
        return out;
    }
};

struct vllm_plan {
    std::vector<layout_candidate> layouts;
    std::size_t chosen = 0;           // valid when any_fits
    bool any_fits = false;
    bool offloaded = false;           // the fitting layouts need --cpu-offload-gb
    std::uint32_t model_max_len = 0;  // the derived max_model_len

    [[nodiscard]] constexpr const layout_candidate* best() const noexcept { return any_fits ? &layouts[chosen] : nullptr; }
};

namespace detail::planning {

inline constexpr std::uint64_t gib = 1ULL << 30;

[[nodiscard]] constexpr result<startup_estimate> start(const model_config& c, const plan_request& q, std::uint32_t tp, std::uint32_t pp,
                                                       std::uint32_t max_model_len, bytes offload) {
    engine_args a = q.args;
    a.tensor_parallel_size = tp;
    a.pipeline_parallel_size = pp;
    a.max_model_len = max_model_len;
    a.cpu_offload = offload;
    return estimate_startup(c, q.gpu, a, nullptr, q.checkpoint_dtype);
}

[[nodiscard]] constexpr bool no_blocks(const startup_estimate& e) noexcept { return e.verdict.no_memory || e.num_gpu_blocks == 0; }

// The largest length whose printed concurrency reaches `n` within vLLM's check: vLLM's own
// estimate for one request, a search over capacity() for more (it falls as the length grows).
[[nodiscard]] constexpr std::uint64_t largest_length(const startup_estimate& e, std::uint32_t n) noexcept {
    const std::uint64_t vllm_estimate = e.max_model_len_fit;
    if (n <= 1 || vllm_estimate == 0) return vllm_estimate;
    const auto& kv = e.deciding().kv;
    std::uint64_t lo = 1, hi = vllm_estimate, best = 0;
    while (lo <= hi) {
        const std::uint64_t mid = lo + (hi - lo) / 2;
        if (capacity(kv, e.num_gpu_blocks, mid).concurrency >= static_cast<double>(n)) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return best;
}

[[nodiscard]] constexpr bool serves(const startup_estimate& e, std::uint32_t n) noexcept {
    return !no_blocks(e) && e.verdict.fits && e.capacity.concurrency >= static_cast<double>(n);
}

// One valid layout. `length`: the max_model_len to start with (0: the model's); `search` finds
// the largest instead (max_ctx without offload).
[[nodiscard]] constexpr result<layout_candidate> evaluate(const model_config& c, const plan_request& q, std::uint32_t tp,
                                                          std::uint32_t pp, std::uint32_t length, bool search, bytes offload) {
    layout_candidate l{};
    l.tp = tp;
    l.pp = pp;
    l.gpus = tp * pp;
    l.nodes = nodes_used(q.cluster, tp, pp);
    l.concurrency = q.concurrency;
    l.cpu_offload = offload;
    auto e = start(c, q, tp, pp, search ? 0u : length, offload);
    if (!e) return e.err();
    l.max_model_len = e->args.max_model_len;
    l.largest_len = e->max_model_len_fit;
    if (no_blocks(*e)) {
        l.refusal = layout_refusal::no_kv_memory;
    } else if (!search) {
        if (!e->verdict.fits) l.refusal = layout_refusal::too_long;
        else if (e->capacity.concurrency < static_cast<double>(q.concurrency)) l.refusal = layout_refusal::too_few_requests;
    } else {
        std::uint64_t len = largest_length(*e, q.concurrency);
        // started again at that length (V0 sizes its step by max_model_len: a few rounds down)
        bool served = false;
        for (int round = 0; len != 0 && round < 16 && !served; ++round) {
            auto again = start(c, q, tp, pp, static_cast<std::uint32_t>(len), offload);
            if (!again) return again.err();
            if (serves(*again, q.concurrency)) {
                e = std::move(again);
                served = true;
                break;
            }
            const std::uint64_t next = largest_length(*again, q.concurrency);
            len = next < len ? next : len - 1;
        }
        if (!served) {
            l.refusal = q.concurrency > 1 && e->max_model_len_fit != 0 ? layout_refusal::too_few_requests : layout_refusal::no_kv_memory;
        } else {
            l.max_model_len = static_cast<std::uint32_t>(len);
            l.largest_len = len;
        }
    }
    l.speed = decode_speed(c, *e, q.gpu, q.cluster, q.rates);
    l.estimate = std::move(*e);
    return l;
}

// The fewest whole GiB of --cpu-offload-gb per GPU that make a layout serve `length` (nullopt: not
// even every weight offloaded does).
[[nodiscard]] constexpr result<std::optional<layout_candidate>> with_offload(const model_config& c, const plan_request& q,
                                                                             const layout_candidate& plain, std::uint32_t length) {
    const std::uint64_t most = (plain.estimate->max_weights_per_gpu().count() + gib - 1) / gib;
    auto top = evaluate(c, q, plain.tp, plain.pp, length, false, bytes{most * gib});
    if (!top) return top.err();
    if (!top->fits()) return std::optional<layout_candidate>{};
    std::uint64_t lo = 1, hi = most;
    layout_candidate best = std::move(*top);
    while (lo < hi) {
        const std::uint64_t mid = lo + (hi - lo) / 2;
        auto l = evaluate(c, q, plain.tp, plain.pp, length, false, bytes{mid * gib});
        if (!l) return l.err();
        if (l->fits()) {
            best = std::move(*l);
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return std::optional<layout_candidate>{std::move(best)};
}

[[nodiscard]] constexpr bool better(const layout_candidate& a, const layout_candidate& b, bool max_ctx) noexcept {
    if (max_ctx && a.max_model_len != b.max_model_len) return a.max_model_len > b.max_model_len;
    if (a.speed.tokens_per_s != b.speed.tokens_per_s) return a.speed.tokens_per_s > b.speed.tokens_per_s;
    return a.gpus < b.gpus;
}

} // namespace detail::planning

[[nodiscard]] constexpr result<vllm_plan> plan_layouts(const model_config& c, const plan_request& q) {
    if (q.cluster.gpus_per_node == 0 || q.cluster.nodes == 0) {
        return error{errc::invalid_argument, "no GPU to plan for: name the GPUs (e.g. --gpu a100-40gbx2)"};
    }
    if (q.concurrency == 0) return error{errc::invalid_argument, "concurrency must be at least 1"};
    // the flags on their own (a length above the model's, a cache dtype the model refuses, ...)
    engine_args probe = q.args;
    probe.tensor_parallel_size = 1;
    probe.pipeline_parallel_size = 1;
    if (q.max_ctx) probe.max_model_len = 0;
    auto resolved = resolve(probe, c, q.gpu, q.checkpoint_dtype);
    if (!resolved) return resolved.err();

    vllm_plan p{};
    p.model_max_len = resolved->derived_max_model_len;
    const std::uint32_t length = q.max_ctx ? 0u : q.args.max_model_len;
    const std::uint32_t most_pp = c.num_hidden_layers < max_pipeline_stages ? c.num_hidden_layers : max_pipeline_stages;
    for (std::uint32_t tp = 1; tp <= q.cluster.gpus_per_node; ++tp) {
        if (auto ok = check_tensor_parallel(c, tp, q.args.enable_expert_parallel); !ok) {
            layout_candidate l{};
            l.tp = tp;
            l.pp = 0;
            l.refusal = layout_refusal::invalid;
            l.rule = text{ok.err().message()};
            p.layouts.push_back(std::move(l));
            continue;
        }
        for (std::uint32_t pp = 1; pp <= q.cluster.gpus() / tp && pp <= most_pp; ++pp) {
            layout_candidate l{};
            l.tp = tp;
            l.pp = pp;
            l.gpus = tp * pp;
            l.nodes = nodes_used(q.cluster, tp, pp);
            if (auto ok = check_layout(c, q.cluster, tp, pp, q.args.enable_expert_parallel); !ok) {
                l.refusal = layout_refusal::invalid;
                l.rule = text{ok.err().message()};
                p.layouts.push_back(std::move(l));
                continue;
            }
            auto judged = detail::planning::evaluate(c, q, tp, pp, length, q.max_ctx, q.args.cpu_offload);
            if (!judged) {
                if (judged.err().code() != errc::invalid_argument) return judged.err();
                l.refusal = layout_refusal::invalid;
                l.rule = text{judged.err().message()};
                p.layouts.push_back(std::move(l));
                continue;
            }
            p.layouts.push_back(std::move(*judged));
        }
    }
    auto choose = [&] {
        for (std::size_t i = 0; i < p.layouts.size(); ++i) {
            if (!p.layouts[i].fits()) continue;
            if (!p.any_fits || detail::planning::better(p.layouts[i], p.layouts[p.chosen], q.max_ctx)) p.chosen = i;
            p.any_fits = true;
        }
    };
    choose();
    if (!p.any_fits && q.offload_fallback && q.args.cpu_offload.count() == 0) {
        const std::uint32_t target = q.max_ctx ? p.model_max_len : length;
        for (auto& l : p.layouts) {
            if (!l.valid() || !l.estimate) continue;
            auto offloaded = detail::planning::with_offload(c, q, l, target);
            if (!offloaded) return offloaded.err();
            if (*offloaded) l = std::move(**offloaded);
        }
        choose();
        p.offloaded = p.any_fits;
    }
    return p;
}

} // namespace vramfit::vllm
