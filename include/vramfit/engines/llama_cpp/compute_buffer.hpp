// vramfit/engines/llama_cpp/compute_buffer.hpp — llama.cpp's compute buffer on the CPU backend.
//
// What `sched_reserve: CPU compute buffer size = X MiB` prints. llama_context::sched_reserve
// (src/llama-context.cpp, llama.cpp 1425386f) reserves three graphs with
// llama_context::graph_reserve — prompt processing (n_tokens = min(n_ctx, n_ubatch),
// n_seqs = n_seq_max, n_outputs = min(n_tokens, n_outputs_max)), token generation
// (n_tokens = n_seqs = n_outputs = n_seq_max), and prompt processing again — each over the full
// memory (every KV cell visible). graph_reserve rounds n_tokens up to a multiple of n_seqs.
// ggml_gallocr only ever grows its buffer, so the size is the largest of the plans.
//
// Each plan is computed by rebuilding the model's graph (detail/model_graph.hpp) and replaying
// ggml's graph allocator over it (detail/graph_allocator.hpp), so the result follows the engine's
// tensor lifetimes, in-place reuse and best-fit placement rather than a fitted formula.
//
// The engine source read for this (ggml-alloc.c, llama-graph.cpp, llama-kv-cache.cpp,
// src/models/*) came from stored snapshots near, not exactly at, 1425386f. Where they could
// differ, the rebuilt graphs were checked against the engine itself: their node counts equal the
// `graph nodes` the engine printed on every one of the 210 CPU oracle runs, and the buffer sizes
// print identically (tests/llama_cpp_compute).
#pragma once

#include <cstdint>

#include "vramfit/engines/llama_cpp/context_params.hpp"
#include "vramfit/engines/llama_cpp/detail/graph_allocator.hpp"
#include "vramfit/engines/llama_cpp/detail/model_graph.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::llama_cpp {

namespace detail {

// One graph_reserve: build the graph for the ubatch, measure the allocator's high-water mark.
struct reserved_graph {
    bytes size{};
    std::size_t nodes = 0;
    bool supported = false;
    bool folded = false;  // measured on a graph with repeated layers left out
};

// What makes two layers build the same nodes with the same shapes.
[[nodiscard]] constexpr bool same_layer_kind(const hyperparameters& hp, std::uint32_t a, std::uint32_t b) noexcept {
    const layer_params& x = hp.layers[a];
    const layer_params& y = hp.layers[b];
    const bool moe_a = hp.n_expert > 0 && a >= hp.n_layer_dense_lead;
    const bool moe_b = hp.n_expert > 0 && b >= hp.n_layer_dense_lead;
    return x.n_head == y.n_head && x.n_head_kv == y.n_head_kv && x.n_ff == y.n_ff && x.swa == y.swa &&
           x.recurrent == y.recurrent && moe_a == moe_b;
}

// The smallest period (at most 8 layers) with which the layers after the dense lead repeat.
[[nodiscard]] constexpr std::uint32_t layer_period(const hyperparameters& hp) noexcept {
    const std::uint32_t lead = hp.n_expert > 0 ? hp.n_layer_dense_lead : 0;
    for (std::uint32_t p = 1; p <= 8; ++p) {
        bool periodic = true;
        for (std::uint32_t il = lead; il + p < hp.n_layer && periodic; ++il) periodic = same_layer_kind(hp, il, il + p);
        if (periodic) return p;
    }
    return 0;
}

// Build and measure one graph. With `check_period` != 0, also look for two consecutive
// `check_period`-layer periods, starting at layer `first` .. `first + 3`, that repeat.
[[nodiscard]] constexpr reserved_graph measure_graph(const hyperparameters& hp, const resolved_context& ctx, reserve_ubatch ub,
                                                     std::uint32_t first, std::uint32_t check_period, bool& repeats) {
    llama_graph_builder builder(hp, ctx, ub);
    reserved_graph out{};
    out.supported = builder.build();
    if (!out.supported) return out;
    out.nodes = builder.node_count();
    graph_allocator allocator(builder.graph, compute_buffer_alignment);
    out.size = bytes{allocator.run(check_period != 0 ? &builder.layer_starts : nullptr)};
    repeats = false;
    for (std::uint32_t j = first; check_period != 0 && j <= first + 3 && !repeats; ++j) {
        repeats = allocator.periods_repeat(j, check_period);
    }
    return out;
}

// Measure the reservation. Layers repeat with a short period P, and ggml's allocator settles
// after a layer or two into placements that repeat every P layers (or every 2P: placements can
// alternate between two layers, as for phi3 and deepseek2). So the graph is first built with
// whole periods Q (P, then 2P) left out of the middle: kept are the dense lead, 3 + 2Q layers
// after it, and the last Q to 2Q - 1 layers, so that every last use of an input stays in place.
// If two consecutive Q-periods of the kept front start from the same free blocks and allocate
// and release at the same offsets, every period in between would too (the allocator is
// deterministic), and the reduced graph's high-water mark is the full graph's. Otherwise the
// full graph is measured. `allow_folding` = false forces the full graph (the tests compare).
[[nodiscard]] constexpr reserved_graph reserve_graph(const hyperparameters& hp, const resolved_context& ctx,
                                                     reserve_ubatch ub, bool allow_folding = true) {
    if (ub.n_seqs == 0) ub.n_seqs = 1;
    if (ub.n_tokens % ub.n_seqs != 0) ub.n_tokens = (ub.n_tokens + ub.n_seqs - 1) / ub.n_seqs * ub.n_seqs;
    const std::uint32_t period = layer_period(hp);
    const std::uint32_t lead = hp.n_expert > 0 ? hp.n_layer_dense_lead : 0;
    bool repeats = false;
    for (std::uint32_t q = period; allow_folding && q != 0 && q <= 2 * period; q += period) {
        const std::uint32_t front = lead + 3 + 2 * q;
        if (front + 2 * q > hp.n_layer) break;  // nothing to leave out
        const std::uint32_t tail_start = front + (hp.n_layer - q - front) / q * q;
        hyperparameters reduced = hp;
        reduced.layers.clear();
        for (std::uint32_t il = 0; il < front; ++il) reduced.layers.push_back(hp.layers[il]);
        for (std::uint32_t il = tail_start; il < hp.n_layer; ++il) reduced.layers.push_back(hp.layers[il]);
        reduced.n_layer = static_cast<std::uint32_t>(reduced.layers.size());
        reserved_graph folded = measure_graph(reduced, ctx, ub, lead, q, repeats);
        if (!folded.supported) return folded;
        if (repeats) {
            folded.folded = true;
            return folded;
        }
    }
    return measure_graph(hp, ctx, ub, 0, 0, repeats);
}

// The prompt-processing ubatch of sched_reserve. n_outputs_max defaults to the context's
// n_batch (the oracle logs print "n_outputs_max = 2048" with -b 2048 and 4096 with -b 4096).
[[nodiscard]] constexpr reserve_ubatch prompt_ubatch(const resolved_context& ctx) noexcept {
    reserve_ubatch ub{};
    ub.n_seqs = ctx.n_seq == 0 ? 1 : ctx.n_seq;
    ub.n_tokens = ctx.n_ctx < ctx.n_ubatch ? ctx.n_ctx : ctx.n_ubatch;
    ub.n_outputs = ub.n_tokens < ctx.n_batch ? ub.n_tokens : ctx.n_batch;
    return ub;
}

[[nodiscard]] constexpr reserve_ubatch generation_ubatch(const resolved_context& ctx) noexcept {
    const std::uint32_t n = ctx.n_seq == 0 ? 1 : ctx.n_seq;
    return reserve_ubatch{n, n, n};
}

[[nodiscard]] constexpr bool compute_graph_modelled(architecture arch) noexcept {
    switch (arch) {
        case architecture::llama: case architecture::qwen2: case architecture::qwen3:
        case architecture::qwen3moe: case architecture::gemma2: case architecture::gemma3: case architecture::phi3:
        case architecture::gpt_oss: case architecture::deepseek2: case architecture::mamba2: case architecture::lfm2:
        case architecture::glm4: case architecture::command_r: case architecture::gptneox: case architecture::llama4:
            return true;
        default:
            return false;
    }
}

} // namespace detail

namespace detail {

// What every compute-buffer model needs of the model and the context; an error names what is
// missing or out of range.
[[nodiscard]] constexpr result<bool> check_compute_inputs(const model_description& model, const resolved_context& ctx) {
    const hyperparameters& hp = model.hparams;
    if (!compute_graph_modelled(hp.arch)) {
        return error{errc::unsupported_architecture, "compute buffer: the graph of architecture #"}
            .with_number(static_cast<unsigned>(hp.arch)).with(" is not modelled");
    }
    if (hp.n_layer == 0 || hp.layers.size() != hp.n_layer || hp.n_embd == 0 || hp.n_vocab == 0) {
        return error{errc::bad_value, "compute buffer: model '"}.with(model.name.view())
            .with("' lacks n_layer, per-layer parameters, n_embd or n_vocab");
    }
    const bool recurrent = hp.arch == architecture::mamba2;  // no KV cache at all
    if (ctx.n_ubatch == 0 || ctx.n_ctx == 0 || (ctx.kv_cells == 0 && !recurrent)) {
        return error{errc::invalid_argument, "compute buffer: context has no ubatch, context or KV cells"};
    }
    if (recurrent && (hp.ssm_d_inner == 0 || hp.ssm_d_state == 0 || hp.ssm_d_conv == 0 ||
                      (hp.ssm_dt_rank == 0 && hp.ssm_n_head == 0))) {
        return error{errc::bad_value, "compute buffer: mamba2 model '"}.with(model.name.view())
            .with("' lacks its ssm dimensions (d_conv, d_inner, d_state, time_step_rank)");
    }
    if (hp.arch == architecture::lfm2 && hp.ssm_d_conv < 2) {
        return error{errc::bad_value, "compute buffer: lfm2 model '"}.with(model.name.view())
            .with("' lacks its short-convolution cache length (shortconv.l_cache >= 2)");
    }
    if (hp.swa_type != swa_kind::none && hp.arch != architecture::phi3 && ctx.kv_swa_cells == 0) {
        return error{errc::invalid_argument, "compute buffer: SWA model without SWA cache cells (kv_swa_cells)"};
    }
    // Shapes stay far from overflowing 64-bit sizes within these bounds (LLAMA_MAX_SEQ = 256).
    if (ctx.n_ubatch > (1u << 20) || ctx.kv_cells > (1u << 30) || ctx.kv_swa_cells > (1u << 30) || ctx.n_seq > 256) {
        return error{errc::limit_exceeded, "compute buffer: n_ubatch (max 2^20), KV cells (max 2^30) or sequences (max 256) out of range"};
    }
    return true;
}

} // namespace detail

// The CPU compute buffer, or an error naming what cannot be modelled.
[[nodiscard]] constexpr result<bytes> try_compute_buffer_bytes(const model_description& model, const resolved_context& ctx) {
    const auto checked = detail::check_compute_inputs(model, ctx);
    if (!checked) return checked.err();
    const hyperparameters& hp = model.hparams;
    const auto pp = detail::reserve_graph(hp, ctx, detail::prompt_ubatch(ctx));
    const auto tg = detail::reserve_graph(hp, ctx, detail::generation_ubatch(ctx));
    return pp.size > tg.size ? pp.size : tg.size;
}

// CPU backend compute buffer (sched_reserve's "CPU compute buffer size"). Throws vramfit::exception
// for an architecture whose graph is not modelled (a compile error in a constant expression).
[[nodiscard]] constexpr bytes compute_buffer_bytes(const model_description& model, const resolved_context& ctx) {
    auto r = try_compute_buffer_bytes(model, ctx);
    if (!r.ok()) throw_error(r.err());
    return r.value();
}

// The node count of the prompt-processing graph ("graph nodes = N"), to check the rebuilt graph.
[[nodiscard]] constexpr std::size_t compute_graph_nodes(const model_description& model, const resolved_context& ctx) {
    return detail::reserve_graph(model.hparams, ctx, detail::prompt_ubatch(ctx), false).nodes;
}

} // namespace vramfit::llama_cpp
