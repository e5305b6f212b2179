// bench_plan — the planner's full joint search, timed.
//
// For one catalog model: every quantization of the planner's ladder (engines/llama_cpp/plan.hpp, 17 + the native
// format where there is one) × 32 context sizes × every non-empty subset of an 8-GPU
// heterogeneous fleet (255) × 1..8 parallel sequences. For each (GPU subset, sequences) the
// search finds the best configuration that runs entirely on that subset: the largest
// quantization that fits at the smallest context, then the largest of the 32 contexts that
// still fits with it — i.e. it decides all quant × ctx × subset × n_seq combinations.
//
// How it stays cheap (plan/search.hpp):
//  * per quantization, one weight table (per-layer CUDA bytes, llama_cpp::plan_weight_costs);
//    per (context, sequences) one context table (per-layer KV, llama_cpp::plan_kv_costs) and
//    one compute buffer — the graph replay runs once per
//    (context, sequences), never in the inner loop, and not per quantization (the graph depends
//    on the hyper-parameters, not on weight types);
//  * a bound before every fill: Σ layer bytes + one compute buffer per device must not exceed
//    the subset's Σ capacity (sums precomputed per table), so most candidates cost O(1);
//  * fills are greedy passes over n_layer + 1 numbers (exact for ordered contiguous blocks);
//  * monotonicity: the quantization scan stops at the first that fits, and the context is a
//    bisection over the 32 sizes.
// Timed: everything after the model descriptions exist (tables, compute buffers, search), the
// median of repeated runs; describing the quantizations (what reading the files would be) is
// reported apart. Usage: bench_plan [repetitions]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include <time.h>

#include "vramfit/engines/llama_cpp/plan.hpp"

using namespace vramfit;
namespace planner = vramfit::detail::planner;

namespace {

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct outcome {
    std::uint64_t decided = 0;     // (subset, n_seq) pairs with a configuration found
    std::uint64_t fills = 0;       // greedy passes run
    std::uint64_t bounded = 0;     // candidates rejected by the O(1) bound
    std::uint64_t checksum = 0;
    std::uint64_t replays = 0;     // compute-buffer graph replays
};

struct prepared_context {
    context_costs table;
    llama_cpp::resolved_context resolved{};
    std::uint64_t kv_sum = 0;
    bool compute_known = false;
};

outcome joint_search(const std::vector<plan_candidate>& candidates, const std::vector<catalog::gpu_spec>& fleet,
                     const std::vector<std::uint32_t>& contexts, std::uint32_t max_seq) {
    outcome out{};
    // Quality order and weight tables.
    std::vector<weight_costs> weights;
    std::vector<std::uint64_t> weight_sum;
    for (const auto& c : candidates) {
        auto w = llama_cpp::plan_weight_costs(c.model);
        if (!w) { std::fprintf(stderr, "%s\n", w.err().describe().c_str()); std::exit(1); }
        weights.push_back(std::move(*w));
        std::uint64_t s = 0;
        for (const auto& l : weights.back().layers) s += l.on_device;
        weight_sum.push_back(s);
    }
    std::vector<std::size_t> order(candidates.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return weights[a].weight_bytes > weights[b].weight_bytes; });

    // Context tables: once per (context, sequences).
    const model_description& model = candidates.front().model;
    std::vector<std::vector<prepared_context>> ctx(max_seq + 1);
    for (std::uint32_t s = 1; s <= max_seq; ++s) {
        for (const auto n : contexts) {
            llama_cpp::context_params p{};
            p.n_ctx = n;
            p.n_seq = s;
            p.flash_attn = llama_cpp::flash_attention::on;
            auto resolved = llama_cpp::resolve_context(model, p);
            if (!resolved) { std::fprintf(stderr, "%s\n", resolved.err().describe().c_str()); std::exit(1); }
            prepared_context pc{llama_cpp::plan_kv_costs(model.hparams, *resolved), *resolved, 0, false};
            for (const auto& l : pc.table.layers) pc.kv_sum += l.device;
            ctx[s].push_back(std::move(pc));
        }
    }

    const std::uint32_t n = static_cast<std::uint32_t>(fleet.size());
    std::vector<planner::search_device> devices;
    std::vector<std::uint32_t> counts;
    for (std::uint32_t subset = 1; subset < (1u << n); ++subset) {
        std::uint64_t cap = 0;
        std::uint32_t k = 0;
        std::vector<std::uint64_t> caps;
        for (std::uint32_t i = 0; i < n; ++i) {
            if (subset & (1u << i)) { caps.push_back(fleet[i].memory.count()); cap += fleet[i].memory.count(); ++k; }
        }
        for (std::uint32_t s = 1; s <= max_seq; ++s) {
            const auto fits = [&](std::size_t q, std::size_t c) {
                auto& pc = ctx[s][c];
                if (!pc.compute_known) {  // the graph replay, once per (context, sequences), when first needed
                    auto compute = llama_cpp::try_compute_buffer_bytes(model, pc.resolved);
                    pc.table.device_fixed = compute ? compute->count() : 0;
                    pc.compute_known = true;
                    ++out.replays;
                }
                if (weight_sum[q] + pc.kv_sum + k * pc.table.device_fixed > cap) { ++out.bounded; return false; }
                devices.clear();
                for (auto cp : caps) devices.push_back({cp > pc.table.device_fixed ? cp - pc.table.device_fixed : 0});
                ++out.fills;
                return planner::fill(weights[q], pc.table, weights[q].n_layer() + 1, 0, devices, 1.0, counts);
            };
            for (const std::size_t q : order) {
                if (!fits(q, 0)) continue;
                std::size_t lo = 0;  // fits
                std::size_t hi = contexts.size();
                while (hi - lo > 1) {
                    const std::size_t mid = (lo + hi) / 2;
                    if (fits(q, mid)) lo = mid;
                    else hi = mid;
                }
                ++out.decided;
                out.checksum += q * 64 + lo;
                break;
            }
        }
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    const int repetitions = argc > 1 ? std::atoi(argv[1]) : 15;
    const char* names[] = {"llama-3.3-70b", "qwen3-30b-a3b", "gemma-3-27b"};
    std::vector<catalog::gpu_spec> fleet{catalog::gpu<"rtx-3090">::spec,  catalog::gpu<"rtx-3090">::spec, catalog::gpu<"rtx-4090">::spec,
                                         catalog::gpu<"rtx-4090">::spec,  catalog::gpu<"rtx-a6000">::spec, catalog::gpu<"rtx-a6000">::spec,
                                         catalog::gpu<"a100-40gb">::spec, catalog::gpu<"a100-80gb">::spec};
    std::printf("fleet: 2x rtx-3090, 2x rtx-4090, 2x rtx-a6000, a100-40gb, a100-80gb (255 subsets); n_seq 1..8; 32 contexts\n");
    for (const char* name : names) {
        const auto* entry = catalog::find(name);
        const auto t0 = std::chrono::steady_clock::now();
        auto candidates = catalog_candidates(*entry);
        const double describe_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (!candidates) { std::fprintf(stderr, "%s\n", candidates.err().describe().c_str()); return 1; }
        std::vector<std::uint32_t> contexts;
        const std::uint32_t train = candidates->front().model.hparams.n_ctx_train;
        for (std::uint32_t i = 1; i <= 32; ++i) contexts.push_back(static_cast<std::uint32_t>((std::uint64_t{train} * i / 32) / 256 * 256));
        std::vector<double> wall, cpu;
        outcome o{};
        for (int r = 0; r < repetitions; ++r) {
            const double c0 = thread_cpu_ms();
            const auto w0 = std::chrono::steady_clock::now();
            o = joint_search(*candidates, fleet, contexts, 8);
            wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - w0).count());
            cpu.push_back(thread_cpu_ms() - c0);
        }
        std::sort(wall.begin(), wall.end());
        std::sort(cpu.begin(), cpu.end());
        std::printf("%-15s %2zu quants x 32 ctx x 255 subsets x 8 n_seq = %7zu configurations: search %.2f ms median wall, %.2f ms cpu "
                    "(%llu decided, %llu fills, %llu bounded, %llu graph replays); describing the quants %.1f ms\n",
                    name, candidates->size(), candidates->size() * 32 * 255 * 8, wall[wall.size() / 2], cpu[cpu.size() / 2],
                    static_cast<unsigned long long>(o.decided), static_cast<unsigned long long>(o.fills),
                    static_cast<unsigned long long>(o.bounded), static_cast<unsigned long long>(o.replays), describe_ms);
    }
    return 0;
}
