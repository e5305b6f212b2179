// vramfit/plan/plan.hpp — decide where a model runs under an engine: which devices, how the layers
// split, what goes to the host or to disk, which context, KV type and quantization — and say
// why. constexpr, like everything else. The engine (plan/engine.hpp) says what each layer costs
// and checks the result; llama.cpp's is engines/llama_cpp/plan.hpp:
//
//   static_assert(vramfit::plan<catalog::gemma_3_12b, quant::Q4_K_M, gpu<"tesla-k80">, gpu<"tesla-k80">>().gpus_used == 1);
//
// Decisions, in order (each one is written to basic_plan_result::decisions, plan/explain.hpp):
//  1. Quantization: the candidates are tried from the largest file down (more bits per weight
//     first). The chosen one is the largest that runs entirely on the devices; when none does,
//     the largest that runs with host offload within host RAM; then with disk paging.
//  2. Devices: the fewest that hold every layer, the output layer and each device's fixed cost
//     and reserve (Ollama's "one GPU when one suffices", prior-art §1.2), taking the largest
//     devices first (objective fit) or the fastest memory first (objective speed). The layers
//     are split so that every device is filled to the same fraction of its room (bisection,
//     as Ollama's findBestFit; objective fit) or so that the decode time Σ bytes / bandwidth
//     is least (a dynamic programme; objective speed: faster memory takes what it holds). The
//     output layer is the last unit of the sequence, so it goes to the last device of the split,
//     and in a partial offload it is the first layer to get a device (llama.cpp load_tensors:
//     index n_layer, i_gpu_start = n_layer + 1 - ngl).
//  3. When the devices cannot hold everything: where the engine can, the splittable part (a
//     mixture of experts' routed experts, llama.cpp --n-cpu-moe N) of the first N layers moves to
//     the host, the smallest N that fits (attention, shared weights and KV stay on the device);
//     if even that is not enough, or the model has no splittable part, whole layers (the fewest
//     on the host). Host memory must hold what the engine always keeps there, the host layers,
//     their KV and the host's fixed cost.
//  4. Disk: where the engine pages weights from the file (llama.cpp with mmap), the weights
//     beyond host RAM page in from it (flagged: slow).
//  5. Context: the asked one, or with max_ctx the largest multiple of 256 up to the training
//     context that keeps the same placement tier; the KV type is the first step of the engine's
//     KV ladder that makes it fit, unless the user fixed it.
//  6. Several machines (nodes > 1, where the engine reaches them): when one machine cannot hold
//     the model, the others lend their devices; the activations then cross the network.
// The search runs on per-layer costs (plan/search.hpp); the chosen placement is then verified by
// the engine's exact model, whose numbers are the ones reported (place_verified). Speed:
// plan/speed.hpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/text.hpp"
#include "vramfit/plan/engine.hpp"
#include "vramfit/plan/explain.hpp"
#include "vramfit/plan/request.hpp"
#include "vramfit/plan/result.hpp"
#include "vramfit/plan/search.hpp"
#include "vramfit/plan/speed.hpp"

namespace vramfit {

namespace detail::planner {

[[nodiscard]] constexpr std::uint64_t gib_of(std::uint64_t b) noexcept { return (b + 1073741823) / 1073741824; }

// One plan() call: the request, the candidates and the engine, with what is computed once.
template <class Engine>
struct planning {
    using kv_choice = typename Engine::kv_choice;
    using alternative = basic_plan_alternative<Engine>;

    std::span<const basic_plan_candidate<Engine>> candidates;
    const basic_plan_request<Engine>& request;
    Engine engine{};
    env e{};
    kv_ladder<kv_choice> kvs{};
    std::vector<weight_costs> weights{};  // per candidate
    std::vector<std::size_t> order{};     // candidates, more weight bytes (bits per weight) first
    std::uint32_t train = 0;            // the training context
    std::uint32_t n_ctx = 0;            // the context asked

    [[nodiscard]] constexpr result<context_costs> context(std::size_t ci, std::uint32_t tokens, std::size_t k) {
        return engine.context(candidates[ci].model, context_wish{tokens, request.n_seq}, kvs.steps[k], request.engine);
    }

    [[nodiscard]] constexpr alternative to_alternative(std::size_t ci, const option& o, std::uint32_t tokens, std::size_t k) const {
        alternative a{};
        a.quant = candidates[ci].quant;
        a.candidate = ci;
        a.n_ctx = tokens;
        a.gpus_used = static_cast<std::uint32_t>(o.devices.size());
        a.nodes_used = nodes_of(e, o);
        a.tier = o.tier;
        a.gpu_bytes = bytes{o.gpu_bytes};
        a.host_bytes = bytes{o.host.total()};
        a.disk_bytes = bytes{o.disk};
        a.speed = o.speed;
        a.engine = Engine::choice_of(candidates[ci].model, context_wish{tokens, request.n_seq}, kvs.steps[k], request.engine, o.layout());
        return a;
    }
};

// The request's own errors (before any model is looked at).
template <class Engine>
[[nodiscard]] constexpr result<bool> check_request(std::span<const basic_plan_candidate<Engine>> candidates,
                                                   const basic_plan_request<Engine>& request) {
    constexpr plan_capabilities caps = Engine::capabilities;
    if (candidates.empty()) return error{errc::invalid_argument, "no model given"};
    if (request.gpus.size() > caps.max_devices) {
        return error{errc::invalid_argument, "more than "}.with_number(caps.max_devices).with(" devices (the engine's limit)");
    }
    if (request.nodes == 0 || request.nodes > 16) return error{errc::invalid_argument, "nodes must be 1..16"};
    if (!request.reserve_per_gpu.empty() && request.reserve_per_gpu.size() != request.gpus.size()) {
        return error{errc::invalid_argument, "reserve_per_gpu has "}.with_number(request.reserve_per_gpu.size())
            .with(" entries for ").with_number(request.gpus.size()).with(" GPUs");
    }
    for (const auto& g : request.gpus) {
        if (device_capacity(g).count() == 0) return error{errc::invalid_argument, "GPU '"}.with(device_id(g).view()).with("' has no memory to offer");
    }
    return true;
}

// The context asked: the request's, or the training context for 0; within the training context.
[[nodiscard]] constexpr result<std::uint32_t> asked_context(std::uint32_t asked, std::uint32_t train, std::string_view model) {
    const std::uint32_t n_ctx = asked == 0 ? train : asked;
    if (n_ctx == 0) {
        return error{errc::invalid_argument, "context 0 asks for the training context, but '"}.with(model).with("' has none");
    }
    if (train != 0 && n_ctx > train) {
        return error{errc::invalid_argument, "context "}.with_number(n_ctx).with(" is beyond the training context ").with_number(train)
            .with(" of '").with(model).with("'");
    }
    return n_ctx;
}

// Per candidate: its best placement at the asked context, and the KV step that gave it.
struct best_of {
    option o{};
    std::size_t kv = 0;
};

template <class Engine>
[[nodiscard]] constexpr result<std::vector<best_of>> best_per_candidate(planning<Engine>& p) {
    std::vector<best_of> best;
    for (std::size_t i = 0; i < p.candidates.size(); ++i) best.push_back({});
    for (const std::size_t ci : p.order) {
        best_of b{};
        b.o.tier = plan_tier::none;
        for (std::size_t k = 0; k < p.kvs.steps.size(); ++k) {
            auto c = p.context(ci, p.n_ctx, k);
            if (!c) return c.err();
            option o = best_placement(p.e, p.weights[ci], *c);
            if (tier_rank(o.tier) < tier_rank(b.o.tier)) b = {std::move(o), k};
            if (b.o.tier == plan_tier::gpu) break;
        }
        best[ci] = std::move(b);
    }
    return best;
}

// What it would take: the least memory the model needs at this context, against what is offered.
template <class Engine>
[[nodiscard]] constexpr error impossible(const planning<Engine>& p, std::size_t ci, const context_costs& c) {
    const auto& r = p.request;
    const weight_costs& w = p.weights[ci];
    std::uint64_t need = w.host_fixed;
    for (std::uint32_t il = 0; il <= w.n_layer(); ++il) need += w.layers[il].on_host + c.layers[il].host;
    need += c.host_fixed;
    std::uint64_t gpus = 0;
    for (const auto& g : r.gpus) gpus += device_capacity(g).count();
    gpus *= p.e.nodes;
    error failure{errc::limit_exceeded, "'"};
    failure.with(Engine::model_name(p.candidates[ci].model)).with(":").with(p.candidates[ci].quant).with("' at n_ctx ").with_number(c.n_ctx)
        .with(" needs about ").with_number(gib_of(need)).with(" GiB (weights + KV + compute); the ")
        .with_number(r.gpus.size() * p.e.nodes).with(" GPU(s) offer ").with_number(gpus / 1073741824).with(" GiB");
    if (r.host_ram != unlimited_memory) failure.with(" and host RAM ").with_number(r.host_ram.count() / 1073741824).with(" GiB");
    std::uint64_t kv_and_compute = c.host_fixed;
    for (const auto& l : c.layers) kv_and_compute += l.host;
    if (r.host_ram != unlimited_memory && kv_and_compute > r.host_ram.count() && !r.gpus.empty()) {
        failure.with("; the KV cache alone needs ").with_number(gib_of(kv_and_compute)).with(" GiB: a shorter context or a quantized KV cache");
    } else {
        failure.with("; it would fit with ").with_number(gib_of(need > gpus ? need - gpus : 0) + 1)
            .with(" GiB of host RAM, more GPUs, a smaller quantization or a shorter context");
    }
    if (!p.e.disk_paging) failure.with(", or with mmap paging from disk");
    return failure;
}

// The context: as asked, or with max_ctx the largest that keeps the chosen tier, trying the
// ladder's first `widen` KV steps (the rest only when none of those reaches the asked context).
struct widened {
    std::uint32_t n_ctx = 0;
    std::size_t kv = 0;
    struct tried {
        option o;
        std::uint32_t n_ctx = 0;
        std::size_t kv = 0;
    };
    std::vector<tried> tries;  // the largest context of each KV step tried
};

template <class Engine>
[[nodiscard]] constexpr result<widened> widen_context(planning<Engine>& p, std::size_t ci, std::size_t kv, plan_tier tier) {
    widened out{p.n_ctx, kv, {}};
    if (!p.request.max_ctx || p.train <= p.n_ctx) return out;
    std::uint32_t best_ctx = 0;
    std::size_t best_kv = kv;
    const std::size_t steps = p.kvs.steps.size();
    const std::size_t limit = p.kvs.widen < steps ? p.kvs.widen : steps;
    for (std::size_t k = 0; k < limit || (best_ctx == 0 && k < steps); ++k) {
        const auto feasible = [&](std::uint32_t tokens) -> result<bool> {
            auto c = p.context(ci, tokens, k);
            if (!c) return c.err();
            return tier_rank(best_placement(p.e, p.weights[ci], *c).tier) <= tier_rank(tier);
        };
        auto at_least = feasible(p.n_ctx);
        if (!at_least) return at_least.err();
        if (!*at_least) continue;
        auto found = largest_feasible(p.n_ctx, p.train, 256, feasible);
        if (!found) return found.err();
        auto c = p.context(ci, *found, k);
        if (!c) return c.err();
        out.tries.push_back({best_placement(p.e, p.weights[ci], *c), *found, k});
        if (*found > best_ctx) { best_ctx = *found; best_kv = k; }
        if (*found == p.train) break;
    }
    if (best_ctx != 0) { out.n_ctx = best_ctx; out.kv = best_kv; }
    return out;
}

// The placement, verified by the engine's exact model. The fixed per-device cost depends on
// the placement (llama.cpp: the scheduler's compute buffers follow the layer split), so this is
// a documented fixed point: place with the assumed fixed cost, verify, and when a device's
// verified fixed cost is larger, place again assuming the largest (a few rounds: the figure
// only grows, and weights and KV are the engine's own in both steps).
struct verified {
    option o;
    context_costs costs;
    verification check;
};

template <class Engine>
[[nodiscard]] constexpr result<verified> place_verified(planning<Engine>& p, std::size_t ci, std::uint32_t tokens, std::size_t k) {
    auto c = p.context(ci, tokens, k);
    if (!c) return c.err();
    verified out{best_placement(p.e, p.weights[ci], *c), std::move(*c), {}};
    const auto& model = p.candidates[ci].model;
    for (int round = 0; round < 4 && !out.o.devices.empty(); ++round) {
        std::vector<plan_device> devices;
        std::vector<bytes> reserves;
        for (const auto id : out.o.devices) {
            devices.push_back(p.e.gpu(id));
            reserves.push_back(bytes{p.e.reserve_of(id)});
        }
        auto v = p.engine.verify(model, context_wish{tokens, p.request.n_seq}, p.kvs.steps[k], p.request.engine, out.o.layout(),
                                 devices, reserves);
        if (!v) return v.err();
        bool fits = true;
        std::uint64_t fixed = out.costs.device_fixed;
        for (std::size_t j = 0; j < v->devices.size(); ++j) {
            const auto& d = v->devices[j];
            if (d.model + d.kv + d.fixed + reserves[j] > device_capacity(devices[j])) fits = false;
            if (d.fixed.count() > fixed) fixed = d.fixed.count();
        }
        out.check = std::move(*v);
        if (fits) return out;
        if (fixed == out.costs.device_fixed) break;  // not the fixed cost: nothing to place again with
        out.costs.device_fixed = fixed;
        out.o = best_placement(p.e, p.weights[ci], out.costs);
    }
    if (out.o.devices.empty()) return out;
    return error{errc::limit_exceeded, "no placement of '"}.with(Engine::model_name(model))
        .with("' holds the fixed cost the engine verifies on each device");
}

// The devices used (as the verification has them), then the host.
template <class Engine>
[[nodiscard]] constexpr std::vector<plan_device_row> rows_of(const planning<Engine>& p, const verified& v) {
    std::vector<plan_device_row> rows;
    const option& o = v.o;
    for (std::size_t j = 0; j < o.devices.size(); ++j) {
        const std::uint32_t id = o.devices[j];
        const device_usage& d = v.check.devices[j];
        plan_device_row row{};
        row.name = Engine::device_name(id % p.e.n_gpus);
        row.gpu = device_id(p.e.gpu(id)).view();
        row.index = id % p.e.n_gpus;
        row.node = p.e.node(id);
        row.layers = d.layers;
        row.output_layer = d.output_layer;
        row.model = d.model;
        row.kv = d.kv;
        row.compute = d.fixed;
        row.reserve = bytes{p.e.reserve_of(id)};
        row.capacity = device_capacity(p.e.gpu(id));
        rows.push_back(std::move(row));
    }
    const std::uint32_t n_layer = p.weights[0].n_layer();
    plan_device_row host{};
    host.name = "CPU";
    host.layers = n_layer + 1 - o.on_devices;
    if (host.layers > n_layer) { host.layers = n_layer; host.output_layer = true; }
    host.model = bytes{o.host.weights};
    host.kv = bytes{o.host.kv};
    host.compute = v.check.host_fixed_known ? v.check.host_fixed : bytes{o.host.compute};
    host.capacity = p.request.host_ram;
    rows.push_back(std::move(host));
    return rows;
}

// The choice, the same candidate on fewer or more devices, other KV steps and contexts, then
// the other candidates.
template <class Engine>
[[nodiscard]] constexpr std::vector<basic_plan_alternative<Engine>> alternatives_of(planning<Engine>& p, std::size_t ci, const verified& v,
                                                                                    const widened& ctx, const std::vector<best_of>& best) {
    std::vector<basic_plan_alternative<Engine>> out;
    const option& o = v.o;
    const weight_costs& w = p.weights[ci];
    auto chosen = p.to_alternative(ci, o, ctx.n_ctx, ctx.kv);
    chosen.chosen = true;
    out.push_back(std::move(chosen));
    const auto ids = preference(p.e);
    for (std::uint32_t k = 1; k <= p.e.n_gpus; ++k) {
        const auto sub = first_of(ids, k);
        option a = place_all(p.e, w, v.costs, sub);
        if (a.tier != plan_tier::gpu) a = place_offload(p.e, w, v.costs, sub);
        if (a.tier == plan_tier::none || (a.devices == o.devices && a.on_devices == o.on_devices && a.split_on_host == o.split_on_host)) continue;
        out.push_back(p.to_alternative(ci, a, ctx.n_ctx, ctx.kv));
    }
    for (const auto& t : ctx.tries) {
        if (t.n_ctx != ctx.n_ctx || t.kv != ctx.kv) out.push_back(p.to_alternative(ci, t.o, t.n_ctx, t.kv));
    }
    for (std::size_t k = 0; k < p.kvs.steps.size() && !p.request.max_ctx; ++k) {
        if (k == ctx.kv) continue;
        auto c = p.context(ci, ctx.n_ctx, k);
        if (!c) continue;
        option a = best_placement(p.e, w, *c);
        if (a.tier != plan_tier::none) out.push_back(p.to_alternative(ci, a, ctx.n_ctx, k));
    }
    for (const std::size_t other : p.order) {
        if (other == ci || best[other].o.tier == plan_tier::none) continue;
        out.push_back(p.to_alternative(other, best[other].o, p.n_ctx, best[other].kv));
    }
    return out;
}

} // namespace detail::planner

// Plan `candidates` (one model, one or several quantizations) on `request`'s machines.
template <planner_engine Engine>
[[nodiscard]] constexpr result<basic_plan_result<Engine>> plan(std::span<const basic_plan_candidate<Engine>> candidates,
                                                               const basic_plan_request<Engine>& request) {
    using namespace detail::planner;
    auto valid = check_request(candidates, request);
    if (!valid) return valid.err();
    planning<Engine> p{candidates, request};
    p.e.gpus = request.gpus;
    p.e.reserve_per_gpu = request.reserve_per_gpu;
    p.e.reserve_per_device = request.reserve_per_device;
    p.e.host_ram = request.host_ram;
    p.e.disk_paging = request.allow_disk && Engine::disk_paging(request.engine);
    p.e.objective = request.objective;
    p.e.speed = request.speed;
    p.e.capabilities = Engine::capabilities;
    p.e.n_gpus = static_cast<std::uint32_t>(request.gpus.size());
    p.e.nodes = request.gpus.empty() ? 1 : request.nodes;
    p.train = Engine::training_context(candidates[0].model);
    auto n_ctx = asked_context(request.n_ctx, p.train, Engine::model_name(candidates[0].model));
    if (!n_ctx) return n_ctx.err();
    p.n_ctx = *n_ctx;
    p.kvs = Engine::ladder(request.engine);
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        auto w = Engine::weights(candidates[i].model);
        if (!w) return w.err();
        p.order.push_back(i);
        p.weights.push_back(std::move(*w));
    }
    std::sort(p.order.begin(), p.order.end(), [&](std::size_t a, std::size_t b) {
        if (p.weights[a].weight_bytes != p.weights[b].weight_bytes) return p.weights[a].weight_bytes > p.weights[b].weight_bytes;
        return a < b;
    });

    // 1. The best tier any candidate reaches at the asked context; the largest candidate reaching it.
    auto best = best_per_candidate(p);
    if (!best) return best.err();
    int best_tier = tier_rank(plan_tier::none);
    for (const auto& b : *best) if (tier_rank(b.o.tier) < best_tier) best_tier = tier_rank(b.o.tier);
    std::size_t chosen = p.order.front();
    for (const std::size_t ci : p.order) {
        if (tier_rank((*best)[ci].o.tier) == best_tier) { chosen = ci; break; }
    }
    if (best_tier == tier_rank(plan_tier::none)) {
        auto c = p.context(chosen, p.n_ctx, p.kvs.steps.size() - 1);
        if (!c) return c.err();
        return impossible(p, chosen, *c);
    }

    // 2. The context and KV step; 3. the placement, verified.
    auto ctx = widen_context(p, chosen, (*best)[chosen].kv, (*best)[chosen].o.tier);
    if (!ctx) return ctx.err();
    auto v = place_verified(p, chosen, ctx->n_ctx, ctx->kv);
    if (!v) return v.err();
    const option& o = v->o;

    basic_plan_result<Engine> out{};
    out.model = Engine::model_name(candidates[chosen].model);
    out.quant = candidates[chosen].quant;
    out.candidate = chosen;
    out.gpus_used = static_cast<std::uint32_t>(o.devices.size());
    out.nodes_used = nodes_of(p.e, o);
    out.n_ctx = ctx->n_ctx;
    out.n_seq = request.n_seq;
    out.n_layer = p.weights[chosen].n_layer();
    out.tier = o.tier;
    for (std::size_t j = 0; j < o.devices.size(); ++j) {
        out.gpu_indices.push_back(o.devices[j] % p.e.n_gpus);
        out.gpu_nodes.push_back(p.e.node(o.devices[j]));
        out.layers_per_gpu.push_back(o.counts[j]);
    }
    out.devices = rows_of(p, *v);
    out.host_bytes = bytes{o.host.total()};
    out.disk_bytes = bytes{o.disk};
    out.speed = o.speed;
    out.compute_modelled = v->costs.modelled;
    out.engine = Engine::choice_of(candidates[chosen].model, context_wish{ctx->n_ctx, request.n_seq}, p.kvs.steps[ctx->kv], request.engine,
                                   o.layout());
    out.alternatives = alternatives_of(p, chosen, *v, *ctx, *best);

    // 4. The decisions, in words.
    std::vector<std::string_view> quants;
    std::vector<plan_tier> tiers;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        quants.push_back(candidates[i].quant);
        tiers.push_back((*best)[i].o.tier);
    }
    explain_facts facts{};
    facts.quants = quants;
    facts.order = p.order;
    facts.best_tiers = tiers;
    facts.chosen = chosen;
    facts.weight_bytes = p.weights[chosen].weight_bytes;
    facts.n_layer = out.n_layer;
    facts.n_gpus = p.e.n_gpus;
    facts.placement = &o;
    facts.rows = out.devices;
    facts.host_ram = request.host_ram;
    facts.max_ctx = request.max_ctx;
    facts.asked_ctx = request.n_ctx;
    facts.final_ctx = ctx->n_ctx;
    facts.train = p.train;
    facts.objective = request.objective;
    facts.nodes_used = out.nodes_used;
    out.decisions = explain<Engine>(facts, p.kvs.steps[ctx->kv], request.engine, p.kvs.fixed, ctx->kv);
    return out;
}

template <planner_engine Engine>
[[nodiscard]] constexpr result<basic_plan_result<Engine>> plan(const std::vector<basic_plan_candidate<Engine>>& candidates,
                                                               const basic_plan_request<Engine>& request) {
    return plan(std::span<const basic_plan_candidate<Engine>>{candidates}, request);
}

} // namespace vramfit
