// vramfit/plan/search.hpp — the planner's precomputed sizes, and the cheap placement primitives
// its search runs on.
//
// A placement search asks the same question thousands of times ("do these layers fit on these
// devices?"), so the per-layer sizes are computed once and the question becomes a pass over
// n_layer + 1 numbers:
//  * weight_table (once per quantization): per layer il (index n_layer = the output layer) the
//    bytes its weights take in a CUDA buffer when the layer is on a GPU (cuda_tensor_alloc,
//    cuda/offload.hpp: 128-byte alignment plus MATRIX_ROW_PADDING), the expert share of that
//    (tensors "*_exps" / "*_chexps", what --n-cpu-moe moves), the bytes when the layer stays in
//    host memory (the tensor sizes, which an mmap'ed file pages in), and what decoding one token
//    reads and computes there (plan/speed.hpp). A rope_freqs tensor is charged to every GPU layer
//    (load_tensors duplicates it per layer); a tied output duplicates token_embd into the output
//    layer's buffer; token_embd itself always stays on the CPU (load_tensors: "there is very
//    little benefit to offloading the input layer").
//  * context_table (once per resolved context): per layer the K+V bytes on a GPU (128-byte
//    alignment) and on the host (32-byte), as llama_kv_cache allocates them on the layer's
//    device (cuda/offload.hpp), plus the compute buffer charged to each GPU in use.
// The sums agree with offload_buffers/check_fit for device model and KV buffers; the planner
// still verifies its final choice with check_fit, which is the source of every reported number.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/kv_cache.hpp"
#include "vramfit/engines/llama_cpp/cuda/offload.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::detail::planner {

struct weight_table {
    std::uint32_t n_layer = 0;
    std::uint32_t n_embd = 0;
    // n_layer + 1 entries each; index n_layer is the output layer (output.weight, output_norm).
    std::vector<std::uint64_t> gpu;        // CUDA buffer bytes when on a GPU
    std::vector<std::uint64_t> gpu_exps;   // of which expert tensors
    std::vector<std::uint64_t> host;       // host bytes when on the CPU
    std::vector<std::uint64_t> host_exps;  // of which expert tensors
    std::vector<double> read;              // weight bytes one decoded token reads (active experts only)
    std::vector<double> read_exps;         // of which expert tensors
    std::vector<double> flops;             // 2 x active weights per token
    std::uint64_t input_host = 0;          // token_embd and rope_freqs' CPU copy: always host
    std::uint64_t weight_bytes = 0;        // every tensor's data (the file's weights)
    std::uint64_t max_layer_gpu = 0;
    bool moe = false;
};

[[nodiscard]] constexpr bool is_expert_tensor(std::string_view name) noexcept {
    return name.find("_exps") != std::string_view::npos || name.find("_chexps") != std::string_view::npos;
}

[[nodiscard]] constexpr weight_table build_weights(const model_description& model) {
    const auto& hp = model.hparams;
    weight_table w{};
    w.n_layer = hp.n_layer;
    w.n_embd = hp.n_embd;
    for (std::uint32_t i = 0; i <= hp.n_layer; ++i) {  // push_back: see cuda/offload.hpp on Clang 14
        w.gpu.push_back(0); w.gpu_exps.push_back(0); w.host.push_back(0); w.host_exps.push_back(0);
        w.read.push_back(0); w.read_exps.push_back(0); w.flops.push_back(0);
    }
    const double expert_share = hp.n_expert > 0 ? static_cast<double>(hp.n_expert_used) / hp.n_expert : 1.0;
    bool has_output = false;
    const tensor_info* token_embd = nullptr;
    for (const auto& t : model.tensors) {
        const auto name = t.name.view();
        const std::uint64_t host = t.size().count();
        w.weight_bytes += host;
        if (name == "output.weight") has_output = true;
        if (name == "token_embd.weight") token_embd = &t;
        if (name == "rope_freqs.weight") {
            const std::uint64_t gpu = llama_cpp::detail::cuda_tensor_alloc(t).count();
            for (std::uint32_t il = 0; il < hp.n_layer; ++il) w.gpu[il] += gpu;
            w.input_host += host;
            continue;
        }
        const std::int64_t block = gguf::block_index(name);
        if (block < 0 && name.substr(0, 10) == "token_embd") { w.input_host += host; continue; }
        const std::size_t slot = block >= 0 && block < static_cast<std::int64_t>(hp.n_layer) ? static_cast<std::size_t>(block) : hp.n_layer;
        const std::uint64_t gpu = llama_cpp::detail::cuda_tensor_alloc(t).count();
        const bool expert = is_expert_tensor(name);
        const double share = expert ? expert_share : 1.0;
        w.gpu[slot] += gpu;
        w.host[slot] += host;
        w.read[slot] += static_cast<double>(host) * share;
        if (t.n_dims >= 2) w.flops[slot] += 2.0 * static_cast<double>(t.n_elements()) * share;
        if (expert) {
            w.moe = true;
            w.gpu_exps[slot] += gpu;
            w.host_exps[slot] += host;
            w.read_exps[slot] += static_cast<double>(host) * share;
        }
    }
    if (!has_output && token_embd != nullptr) {  // tied output: a duplicate of token_embd in the output layer's buffer
        w.gpu[hp.n_layer] += llama_cpp::detail::cuda_tensor_alloc(*token_embd).count();
        w.read[hp.n_layer] += static_cast<double>(token_embd->size().count());
        w.flops[hp.n_layer] += 2.0 * static_cast<double>(token_embd->n_elements());
    }
    for (auto g : w.gpu) if (g > w.max_layer_gpu) w.max_layer_gpu = g;
    return w;
}

struct context_table {
    llama_cpp::resolved_context ctx{};
    std::vector<std::uint64_t> kv_gpu;   // n_layer + 1 entries (the output layer has none)
    std::vector<std::uint64_t> kv_host;
    std::vector<double> kv_read;         // bytes one token of one sequence reads, context half full
    std::vector<double> attn_flops;      // per token, context half full
    std::uint64_t compute = 0;           // per GPU in use
    std::uint64_t host_compute = 0;      // host compute buffer when layers run on the CPU
};

[[nodiscard]] constexpr context_table build_context(const hyperparameters& hp, const llama_cpp::resolved_context& ctx) {
    context_table c{};
    c.ctx = ctx;
    for (std::uint32_t i = 0; i <= hp.n_layer; ++i) {
        c.kv_gpu.push_back(0); c.kv_host.push_back(0); c.kv_read.push_back(0); c.attn_flops.push_back(0);
    }
    const bool mla = hp.is_mla();
    const bool v_trans = !ctx.flash_attn;
    const std::uint32_t v_width_max = llama_cpp::detail::n_embd_v_gqa_max(hp);
    const auto add = [&](bool want_swa, std::uint32_t cells) {
        if (cells == 0) return;
        const std::uint64_t rows = static_cast<std::uint64_t>(cells) * ctx.n_stream;
        for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
            if (!llama_cpp::detail::layer_in_cache(hp, il, want_swa)) continue;
            const bytes k = row_size(ctx.type_k, hp.n_embd_k_gqa(il)) * rows;
            bytes v{};
            if (!mla) v = row_size(ctx.type_v, v_trans ? v_width_max : hp.n_embd_v_gqa(il)) * rows;
            c.kv_gpu[il] += (pad_to(k, llama_cpp::cuda_buffer_alignment) + (mla ? bytes{} : pad_to(v, llama_cpp::cuda_buffer_alignment))).count();
            c.kv_host[il] += (pad_to(k, llama_cpp::cpu_buffer_alignment) + (mla ? bytes{} : pad_to(v, llama_cpp::cpu_buffer_alignment))).count();
            c.kv_read[il] += static_cast<double>((k + v).count()) / ctx.n_stream / 2.0;
            c.attn_flops[il] += 4.0 * hp.layers[il].n_head * static_cast<double>(hp.n_embd_head_k) * cells / 2.0;
        }
    };
    add(false, ctx.kv_cells);
    add(true, ctx.kv_swa_cells);
    return c;
}

// One device of a search: what it can give to layers (capacity - compute - reserve).
struct search_device {
    std::uint64_t room = 0;
};

// Cost on a GPU of layer `il` when experts of blocks < n_cpu_moe stay on the CPU.
[[nodiscard]] constexpr std::uint64_t gpu_cost(const weight_table& w, const context_table& c, std::uint32_t il,
                                               std::uint32_t n_cpu_moe) noexcept {
    std::uint64_t cost = w.gpu[il] + c.kv_gpu[il];
    if (il < n_cpu_moe && il < w.n_layer) cost -= w.gpu_exps[il];
    return cost;
}

// Can the last `n_gpu_layers` of the layer sequence 0..n_layer be cut into contiguous blocks,
// in device order, each within `fraction` of its device's room? Greedy is exact for ordered
// contiguous bins. On success `counts` holds the layers per device (as -ts proportions).
[[nodiscard]] constexpr bool fill(const weight_table& w, const context_table& c, std::uint32_t n_gpu_layers,
                                  std::uint32_t n_cpu_moe, const std::vector<search_device>& devices, double fraction,
                                  std::vector<std::uint32_t>& counts) {
    counts.clear();
    for (std::size_t j = 0; j < devices.size(); ++j) counts.push_back(0);
    if (devices.empty()) return n_gpu_layers == 0;
    const std::uint32_t first = w.n_layer + 1 - n_gpu_layers;
    std::size_t j = 0;
    std::uint64_t used = 0;
    for (std::uint32_t il = first; il <= w.n_layer; ++il) {
        const std::uint64_t cost = gpu_cost(w, c, il, n_cpu_moe);
        while (j < devices.size() && static_cast<double>(used + cost) > fraction * static_cast<double>(devices[j].room)) {
            ++j;
            used = 0;
        }
        if (j == devices.size()) return false;
        used += cost;
        ++counts[j];
    }
    return true;
}

// The split that keeps every device's fill fraction lowest (memory balance, as llama.cpp's
// default split by free memory intends): bisection on the common fraction.
[[nodiscard]] constexpr bool balanced_fill(const weight_table& w, const context_table& c, std::uint32_t n_gpu_layers,
                                           std::uint32_t n_cpu_moe, const std::vector<search_device>& devices,
                                           std::vector<std::uint32_t>& counts) {
    if (!fill(w, c, n_gpu_layers, n_cpu_moe, devices, 1.0, counts)) return false;
    double lo = 0.0;
    double hi = 1.0;
    for (int it = 0; it < 24; ++it) {
        const double mid = (lo + hi) / 2;
        std::vector<std::uint32_t> trial;
        if (fill(w, c, n_gpu_layers, n_cpu_moe, devices, mid, trial)) hi = mid;
        else lo = mid;
    }
    return fill(w, c, n_gpu_layers, n_cpu_moe, devices, hi, counts);
}

// The split that minimises the decode time of the pipeline, Σ_device bytes read there /
// bandwidth (plan/speed.hpp), each block within its device's room: a dynamic programme over
// (device, layers placed), O(devices x layers^2). Faster devices take as much as they hold.
[[nodiscard]] constexpr bool speed_fill(const weight_table& w, const context_table& c, std::uint32_t n_gpu_layers,
                                        std::uint32_t n_cpu_moe, const std::vector<search_device>& devices,
                                        const std::vector<double>& seconds_per_byte, std::vector<std::uint32_t>& counts) {
    counts.clear();
    for (std::size_t j = 0; j < devices.size(); ++j) counts.push_back(0);
    if (devices.empty()) return n_gpu_layers == 0;
    const std::uint32_t first = w.n_layer + 1 - n_gpu_layers;
    const std::size_t n = n_gpu_layers;
    std::vector<std::uint64_t> mem{0};
    std::vector<double> read{0.0};
    for (std::uint32_t il = first; il <= w.n_layer; ++il) {
        mem.push_back(mem.back() + gpu_cost(w, c, il, n_cpu_moe));
        const bool cpu_experts = il < n_cpu_moe && il < w.n_layer;
        read.push_back(read.back() + w.read[il] - (cpu_experts ? w.read_exps[il] : 0.0) + c.kv_read[il]);
    }
    constexpr double none = 1e300;
    const std::size_t k = devices.size();
    std::vector<double> dp;          // dp[j * (n + 1) + i]: first i layers on devices < j
    std::vector<std::uint32_t> from; // the start of device j-1's block
    for (std::size_t x = 0; x < (k + 1) * (n + 1); ++x) { dp.push_back(none); from.push_back(0); }
    dp[0] = 0;
    for (std::size_t j = 1; j <= k; ++j) {
        for (std::size_t i = 0; i <= n; ++i) {
            for (std::size_t s = i + 1; s-- > 0;) {
                if (mem[i] - mem[s] > devices[j - 1].room) break;  // longer blocks only grow
                const double prev = dp[(j - 1) * (n + 1) + s];
                if (prev >= none) continue;
                const double t = prev + (read[i] - read[s]) * seconds_per_byte[j - 1];
                if (t < dp[j * (n + 1) + i]) { dp[j * (n + 1) + i] = t; from[j * (n + 1) + i] = static_cast<std::uint32_t>(s); }
            }
        }
    }
    if (dp[k * (n + 1) + n] >= none) return false;
    std::size_t i = n;
    for (std::size_t j = k; j >= 1; --j) {
        const std::size_t s = from[j * (n + 1) + i];
        counts[j - 1] = static_cast<std::uint32_t>(i - s);
        i = s;
    }
    return true;
}

// Bytes that must sit in host memory: the input layer, CPU layers (weights and KV), experts
// kept on the CPU, and the CPU compute buffer when anything computes there.
struct host_need {
    std::uint64_t weights = 0;
    std::uint64_t kv = 0;
    std::uint64_t compute = 0;
    [[nodiscard]] constexpr std::uint64_t total() const noexcept { return weights + kv + compute; }
};

[[nodiscard]] constexpr host_need host_side(const weight_table& w, const context_table& c, std::uint32_t n_gpu_layers,
                                            std::uint32_t n_cpu_moe) noexcept {
    host_need h{};
    h.weights = w.input_host;
    const std::uint32_t first = w.n_layer + 1 - n_gpu_layers;
    bool cpu_work = false;
    for (std::uint32_t il = 0; il <= w.n_layer; ++il) {
        if (il < first) {
            h.weights += w.host[il];
            h.kv += c.kv_host[il];
            cpu_work = true;
        } else if (il < n_cpu_moe && il < w.n_layer && w.host_exps[il] != 0) {
            h.weights += w.host_exps[il];
            cpu_work = true;
        }
    }
    if (cpu_work) h.compute = c.host_compute;
    return h;
}

} // namespace vramfit::detail::planner
