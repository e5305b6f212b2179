// vramfit/engines/vllm/estimate.hpp — vLLM's start-up on every GPU of a TP × PP layout: weights,
// the non-KV terms, the memory left for KV, the blocks, and what vLLM prints.
//
// Each worker sizes its own KV memory and block count (Worker.determine_available_memory); the
// engine then gives every worker the smallest count (get_kv_cache_configs @0.33.0 / V0's
// executor_base.py determine_num_available_blocks), so the capacity lines follow the worker with
// the fewest blocks. The max_model_len check runs on each worker with its own memory. TP ranks of a
// stage hold the same shards (replicated KV heads included), so one worker per stage is computed.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/device.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/text.hpp"
#include "vramfit/engines/vllm/kv_cache.hpp"
#include "vramfit/engines/vllm/log.hpp"
#include "vramfit/engines/vllm/memory.hpp"
#include "vramfit/engines/vllm/parallel.hpp"
#include "vramfit/engines/vllm/settings.hpp"
#include "vramfit/engines/vllm/version.hpp"
#include "vramfit/engines/vllm/weights.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::vllm {

struct stage_estimate {
    stage_weights weights{};
    memory_budget memory{};
    kv_cache_plan kv{};
    std::uint64_t blocks = 0;   // this worker's own count
};

// The verdict on max_model_len.
struct length_verdict {
    bool no_memory = false;          // "No available memory for the cache blocks"
    bool fits = true;                // one request of max_model_len fits on every worker
    std::uint32_t failing_stage = 0; // the first stage that refuses
    bytes needed{};                  // what one request of max_model_len needs there
    std::uint64_t estimated_max_len = 0;  // the error's estimate (within 1..max_model_len)
};

struct startup_estimate {
    resolved_args args{};
    pipeline_partition partition{};
    std::vector<stage_estimate> stages;
    std::uint32_t deciding_stage = 0;     // the worker with the fewest blocks
    std::uint64_t num_gpu_blocks = 0;     // the count every worker allocates
    std::uint64_t num_cpu_blocks = 0;     // V0's swap blocks
    std::uint32_t block_size = 0;
    kv_capacity capacity{};
    length_verdict verdict{};
    std::uint64_t max_model_len_fit = 0;  // the largest length one request may have (up to the model's limit)

    [[nodiscard]] constexpr const stage_estimate& deciding() const { return stages[deciding_stage]; }
    // The largest weights any GPU of the layout holds.
    [[nodiscard]] constexpr bytes max_weights_per_gpu() const noexcept {
        bytes most{};
        for (const auto& s : stages) most = s.weights.on_gpu() > most ? s.weights.on_gpu() : most;
        return most;
    }
};

// The full estimate. `linear` describes a Gated-DeltaNet hybrid's linear layers (nullptr: none);
// `checkpoint_dtype` is the checkpoint's dtype where config.json names none.
[[nodiscard]] constexpr result<startup_estimate> estimate_startup(const model_config& c, const device& gpu, const engine_args& a,
                                                                  const linear_attention_config* linear = nullptr,
                                                                  std::optional<dtype> checkpoint_dtype = std::nullopt) {
    auto resolved = resolve(a, c, gpu, checkpoint_dtype);
    if (!resolved) return resolved.err();
    startup_estimate out{};
    out.args = *resolved;
    const auto& r = out.args;
    auto partition = partition_layers(c.num_hidden_layers, r.pp, a.pp_layer_partition.view());
    if (!partition) return partition.err();
    out.partition = *partition;

    kv_settings ks{};
    ks.version = r.version;
    ks.engine = r.engine;
    ks.tp = r.tp;
    ks.block_size = a.block_size;
    ks.cache_dtype = r.cache_dtype;
    ks.model_dtype = r.model_dtype;
    ks.max_num_batched_tokens = r.max_num_batched_tokens;
    ks.num_speculative_tokens = a.num_speculative_tokens;
    ks.mamba_mode = a.mamba_mode;

    bool first_min = true;
    for (std::uint32_t s = 0; s < out.partition.stages; ++s) {
        stage_estimate st{};
        auto w = weights_per_gpu(c, r, gpu, out.partition, s, a.mxfp4, a.cpu_offload);
        if (!w) return w.err();
        st.weights = *w;
        const bool last = s + 1 == out.partition.stages;
        auto kv = plan_kv_cache(c, gpu, ks, st.weights.first_layer, st.weights.layers, last, linear);
        if (!kv) return kv.err();
        st.kv = *kv;
        st.memory = kv_memory(c, r, gpu, st.weights.on_gpu(), st.weights.layers, last);
        st.blocks = num_blocks(st.kv, st.memory.available);
        if (first_min || st.blocks < out.num_gpu_blocks) {
            out.num_gpu_blocks = st.blocks;
            out.deciding_stage = s;
            first_min = false;
        }
        out.stages.push_back(st);
    }
    const auto& decider = out.stages[out.deciding_stage];
    out.block_size = decider.kv.min_block_size;
    out.capacity = capacity(decider.kv, out.num_gpu_blocks, r.max_model_len);
    if (r.engine == engine_kind::v0) out.num_cpu_blocks = num_cpu_blocks(decider.kv, a.swap_space);

    // the max_model_len check, worker by worker
    out.max_model_len_fit = r.derived_max_model_len;
    for (std::uint32_t s = 0; s < out.stages.size(); ++s) {
        const auto& st = out.stages[s];
        std::uint64_t fit = 0;
        if (r.engine == engine_kind::v0) {
            fit = out.num_gpu_blocks * st.kv.min_block_size;
            if (fit > r.derived_max_model_len) fit = r.derived_max_model_len;
        } else {
            fit = st.memory.available.count() == 0 ? 0 : largest_fitting_length(st.kv, st.memory.available, r.derived_max_model_len);
        }
        if (fit < out.max_model_len_fit) out.max_model_len_fit = fit;
        if (!out.verdict.fits) continue;
        if (r.engine == engine_kind::v0) {
            if (out.num_gpu_blocks * st.kv.min_block_size < r.max_model_len) {
                out.verdict.fits = false;
                out.verdict.failing_stage = s;
                out.verdict.needed = request_bytes(st.kv, r.max_model_len);
            }
            continue;
        }
        if (st.memory.available.count() == 0) {
            out.verdict.no_memory = true;
            out.verdict.fits = false;
            out.verdict.failing_stage = s;
            continue;
        }
        if (!request_fits(st.kv, r.max_model_len, st.memory.available)) {
            out.verdict.fits = false;
            out.verdict.failing_stage = s;
            out.verdict.needed = request_bytes(st.kv, r.max_model_len);
            out.verdict.estimated_max_len = largest_fitting_length(st.kv, st.memory.available, r.max_model_len);
        }
    }
    return out;
}

// What vLLM prints about memory at start-up, one line per entry (the capacity may be two lines).
struct startup_lines {
    text loading;
    text available;    // empty where the release prints none (0.8)
    text blocks;       // V0's block line; empty for V1
    text capacity;     // absent (empty) after an error
    text error;        // empty when it starts
};

[[nodiscard]] constexpr startup_lines lines_of(const startup_estimate& e) {
    startup_lines out;
    const auto& r = e.args;
    const auto& st = e.deciding();
    const auto& failing = e.stages[e.verdict.failing_stage];
    out.loading = loading_line(st.weights.on_gpu(), r.version, r.engine);
    const auto& shown = e.verdict.fits ? st : failing;
    out.available = available_line(shown.memory.available_gib(), r.version, r.engine);
    if (r.engine == engine_kind::v0) {
        out.blocks = v0_blocks_line(e.num_gpu_blocks, e.num_cpu_blocks, r.version);
        if (!e.verdict.fits) out.error = v0_too_long_error(r.max_model_len, e.num_gpu_blocks * e.block_size);
        out.capacity = capacity_lines(e.capacity.tokens, e.capacity.concurrency, r.max_model_len, r.version, r.engine);
        return out;
    }
    if (e.verdict.no_memory) {
        out.error = no_memory_error();
    } else if (!e.verdict.fits) {
        out.error = too_long_error(r.max_model_len, e.verdict.needed, failing.memory.available, e.verdict.estimated_max_len, r.version);
    } else {
        out.capacity = capacity_lines(e.capacity.tokens, e.capacity.concurrency, r.max_model_len, r.version, r.engine);
    }
    return out;
}

} // namespace vramfit::vllm
