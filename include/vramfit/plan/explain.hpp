// vramfit/plan/explain.hpp — the planner's decisions in words (basic_plan_result::decisions), one
// note per decision, in the order plan/plan.hpp takes them. The notes state facts; the engine
// words its own settings (Engine::explain_*), and a front-end may add its own hints (the CLI adds
// its flags when it prints them).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vramfit/core/text.hpp"
#include "vramfit/plan/engine.hpp"
#include "vramfit/plan/request.hpp"
#include "vramfit/plan/result.hpp"
#include "vramfit/plan/search.hpp"

namespace vramfit::detail::planner {

// "12.3 GiB"
constexpr void append_gib(text& n, std::uint64_t b) {
    const std::uint64_t tenths = (b * 10 + 536870912) / 1073741824;
    n.append_number(tenths / 10);
    n.append(".");
    n.append_number(tenths % 10);
    n.append(" GiB");
}

constexpr void append_tps(text& n, double tps) {
    const auto tenths = static_cast<std::uint64_t>(tps * 10 + 0.5);
    n.append_number(tenths / 10);
    if (tenths < 1000) { n.append("."); n.append_number(tenths % 10); }
}

// What the notes are written from.
struct explain_facts {
    std::span<const std::string_view> quants;   // per candidate
    std::span<const std::size_t> order;         // candidates, best quality first
    std::span<const plan_tier> best_tiers;      // per candidate: its best tier at the asked context
    std::size_t chosen = 0;
    std::uint64_t weight_bytes = 0;             // of the chosen candidate
    std::uint32_t n_layer = 0;
    std::uint32_t n_gpus = 0;                   // per node
    const option* placement = nullptr;
    std::span<const plan_device_row> rows;      // the devices used, then the CPU
    bytes host_ram{};
    bool max_ctx = false;
    std::uint32_t asked_ctx = 0;                // the request's n_ctx (0: the training context)
    std::uint32_t final_ctx = 0;
    std::uint32_t train = 0;
    plan_objective objective = plan_objective::fit;
    std::uint32_t nodes_used = 1;
};

[[nodiscard]] constexpr text explain_quant(const explain_facts& f) {
    text n{"quantization "};
    n.append(f.quants[f.chosen]);
    if (f.quants.size() == 1) {
        n.append(": as given (");
        append_gib(n, f.weight_bytes);
        n.append(" of weights)");
        return n;
    }
    n.append(": the largest of ");
    n.append_number(f.quants.size());
    n.append(" candidates that runs on ");
    n.append(to_string(f.placement->tier));
    n.append(" (");
    append_gib(n, f.weight_bytes);
    n.append(" of weights)");
    for (const std::size_t ci : f.order) {
        if (ci == f.chosen) break;
        n.append("; ");
        n.append(f.quants[ci]);
        n.append(" would need ");
        n.append(to_string(f.best_tiers[ci]));
        break;
    }
    return n;
}

template <class Engine>
[[nodiscard]] constexpr text explain_devices(const explain_facts& f) {
    const option& o = *f.placement;
    const plan_device_row& first = f.rows[0];
    text n{};
    if (o.tier == plan_tier::gpu && o.devices.size() == 1) {
        n.append("one GPU (");
        n.append(first.gpu.view());
        n.append(" ");
        n.append(first.name);
        n.append(f.n_gpus > 1 ? ", the fewest that hold everything; no split): " : "): ");
        n.append_number(f.n_layer);
        n.append(" layers, the output layer, KV and compute with ");
        n.append_number(first.margin().count() / 1048576);
        n.append(" MiB to spare");
        return n;
    }
    n.append(o.tier == plan_tier::gpu ? "layer split over " : "GPU part on ");
    n.append_number(o.devices.size());
    if (o.devices.size() == 1) {
        n.append(" GPU (");
        n.append(first.gpu.view());
        n.append(" ");
        n.append(first.name);
        if (o.on_devices == f.n_layer + 1) {
            n.append("): all ");
            n.append_number(f.n_layer);
            n.append(" layers and the output layer");
        } else {
            n.append("): the output layer and the last ");
            n.append_number(o.counts[0] - 1);
            n.append(" layers");
        }
        return n;
    }
    n.append(" GPUs (");
    Engine::explain_split(n, o.layout());
    n.append("): ");
    n.append(o.tier == plan_tier::gpu ? "the fewest that hold everything, " : "");
    n.append(f.objective == plan_objective::speed ? "the faster memory filled first (least decode time); the output layer on "
                                                  : "each filled to the same share of its room; the output layer on ");
    n.append(f.rows[o.devices.size() - 1].name);
    n.append(", the last of the split");
    return n;
}

[[nodiscard]] constexpr text explain_host(const explain_facts& f) {
    const option& o = *f.placement;
    text n{"host memory "};
    append_gib(n, o.host.total());
    if (f.host_ram != unlimited_memory) {
        n.append(" of ");
        append_gib(n, f.host_ram.count());
    } else {
        n.append(" (host RAM not given: not checked)");
    }
    if (o.tier == plan_tier::disk) {
        n.append("; ");
        append_gib(n, o.disk);
        n.append(" of weights page in from disk (mmap) every token: SLOW");
    }
    return n;
}

template <class Engine>
[[nodiscard]] constexpr text explain_context(const explain_facts& f, const typename Engine::kv_choice& kv,
                                             const typename Engine::settings& s, bool kv_fixed, std::size_t kv_step) {
    text n{"context "};
    n.append_number(f.final_ctx);
    if (f.max_ctx) {
        n.append(f.final_ctx == f.train ? ": the training context, it fits" : ": the largest that keeps this placement (training context ");
        if (f.final_ctx != f.train) { n.append_number(f.train); n.append(")"); }
    } else {
        n.append(f.asked_ctx == 0 ? " (the training context)" : " as asked");
    }
    n.append("; ");
    Engine::explain_kv(n, kv, s, kv_fixed, kv_step);
    return n;
}

[[nodiscard]] constexpr text explain_speed(const option& o) {
    text n{"speed model: decode ~"};
    append_tps(n, o.speed.decode_tokens_per_s);
    n.append(" tok/s, prompt ~");
    append_tps(n, o.speed.prompt_tokens_per_s);
    n.append(" tok/s (bandwidth and FLOP bound, plan/speed.hpp; an estimate, not a measurement)");
    return n;
}

// Every note, in decision order.
template <class Engine>
[[nodiscard]] constexpr std::vector<text> explain(const explain_facts& f, const typename Engine::kv_choice& kv,
                                                  const typename Engine::settings& s, bool kv_fixed, std::size_t kv_step) {
    const option& o = *f.placement;
    std::vector<text> notes;
    notes.push_back(explain_quant(f));
    if (o.devices.empty()) notes.push_back(text{"no GPU: every layer runs on the CPU"});
    else notes.push_back(explain_devices<Engine>(f));
    if (o.tier != plan_tier::gpu && !o.devices.empty()) {
        text n{"the GPUs cannot hold everything: "};
        Engine::explain_offload(n, o.layout(), f.n_layer);
        notes.push_back(std::move(n));
    }
    notes.push_back(explain_host(f));
    notes.push_back(explain_context<Engine>(f, kv, s, kv_fixed, kv_step));
    if (f.nodes_used > 1) {
        text n{"one machine is not enough: "};
        n.append_number(f.nodes_used);
        Engine::explain_nodes(n);
        notes.push_back(std::move(n));
    }
    notes.push_back(explain_speed(o));
    return notes;
}

} // namespace vramfit::detail::planner
