// vramfit/plan/plan.hpp — decide where a model runs under llama.cpp's CUDA build: which GPUs, how
// the layers split, what goes to the CPU or to disk, which context, KV type and quantization —
// and say why. constexpr, like everything else:
//
//   static_assert(vramfit::plan<catalog::gemma_3_12b, quant::Q4_K_M, gpu<"tesla-k80">, gpu<"tesla-k80">>().gpus_used == 1);
//
// Decisions, in order (each one is written to plan_result::decisions):
//  1. Quantization: the candidates are tried from the largest file down (more bits per weight
//     first). The chosen one is the largest that runs entirely on the GPUs; when none does, the
//     largest that runs with CPU offload within host RAM; then with disk paging.
//  2. GPUs: the fewest that hold every layer, the output layer and each device's compute buffer
//     and reserve (Ollama's "one GPU when one suffices", prior-art §1.2), taking the largest
//     devices first (objective fit) or the fastest memory first (objective speed). The layers
//     are split so that every device is filled to the same fraction of its room (bisection,
//     as Ollama's findBestFit; objective fit) or so that the decode time Σ bytes / bandwidth
//     is least (a dynamic programme; objective speed: faster memory takes what it holds), and
//     -ts carries the per-device layer counts (as llama.cpp's --fit writes them). The output layer is the last block of llama.cpp's layer sequence
//     (load_tensors: index n_layer, i_gpu_start = n_layer + 1 - ngl), so it goes to the last GPU
//     of the split, and in a partial offload it is the first layer to get a GPU.
//  3. When the GPUs cannot hold everything: for a mixture of experts the expert tensors of the
//     first N blocks move to the CPU (--n-cpu-moe N, the smallest N that fits: attention, shared
//     weights and KV stay on the GPU), then, if even that is not enough, whole layers; for a
//     dense model whole layers (-ngl, the smallest number on the CPU). Host memory must hold the
//     input layer, the CPU layers, their KV and a CPU compute buffer.
//  4. Disk: with mmap the weights beyond host RAM page in from the file (flagged: slow).
//  5. Context: the asked one, or with max_ctx the largest multiple of 256 up to the training
//     context that keeps the same placement tier; the KV type (f16, else q8_0, else q4_0, with
//     flash attention, which a quantized V cache requires) is the first that makes it fit,
//     unless the user fixed it.
//  6. Several machines (nodes > 1): when one machine cannot hold the model, llama.cpp RPC
//     servers lend their GPUs (--rpc); the activations then cross the network (plan/speed.hpp).
// The search uses per-layer tables (plan/search.hpp); the chosen plan is then checked with
// check_fit (cuda/fit.hpp), whose numbers are the ones reported. Speed: plan/speed.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "vramfit/catalog/gpus.hpp"
#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/core/fixed_string.hpp"
#include "vramfit/engines/llama_cpp/compute_buffer.hpp"
#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/cuda/offload.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/llama_cpp/cuda/fit.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/plan/search.hpp"
#include "vramfit/engines/llama_cpp/quantize.hpp"
#include "vramfit/plan/speed.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit {

enum class plan_objective : std::uint8_t { fit, speed };
// Where the slowest-placed weight lives.
enum class plan_tier : std::uint8_t { gpu, host, disk, none };

[[nodiscard]] constexpr std::string_view to_string(plan_tier tier) noexcept {
    switch (tier) {
        case plan_tier::gpu: return "GPU";
        case plan_tier::host: return "GPU+CPU";
        case plan_tier::disk: return "GPU+CPU+disk";
        case plan_tier::none: return "does not fit";
    }
    return "?";
}

// "Not given": host RAM is then not checked.
inline constexpr bytes unlimited_memory{~std::uint64_t{0}};

struct plan_candidate {
    std::string_view quant;   // "Q4_K_M"; "file" for a GGUF file as it is
    model_description model;
};

struct plan_request {
    std::vector<catalog::gpu_spec> gpus;  // one per CUDA device, in CUDA order; memory = capacity
    bytes host_ram = unlimited_memory;    // host memory the model may use
    bool allow_disk = true;               // mmap paging beyond host RAM (the file is on disk anyway)
    bytes reserve_per_device{};           // left free on every GPU (llama.cpp --fit-target)
    std::vector<bytes> reserve_per_gpu;   // optional, one per GPU in `gpus` order, added to the above
                                          // (e.g. cuda_overhead_for(gpu).estimate: CLI --reserve auto)
    std::uint32_t n_ctx = 4096;           // -c; 0 = the training context
    bool max_ctx = false;                 // find the largest context that fits (n_ctx is the least)
    std::uint32_t n_seq = 1;              // -np
    std::uint32_t n_batch = 2048;
    std::uint32_t n_ubatch = 512;
    bool kv_unified = false;
    std::optional<ggml_type> type_k;      // unset: the planner picks
    std::optional<ggml_type> type_v;
    std::optional<bool> flash_attn;       // unset: on
    bool use_mmap = true;
    bool blas = false;                    // a GGML_BLAS build (offload_params::blas)
    plan_objective objective = plan_objective::fit;
    std::uint32_t nodes = 1;              // identical machines reachable by llama.cpp RPC
    speed_inputs speed{};
};

struct plan_device_row {
    std::string_view name;     // "CUDA0", "RPC1.CUDA0", "CPU"
    std::string_view gpu;      // catalog id; "" for the CPU row
    std::uint32_t index = 0;   // position in plan_request::gpus (per node)
    std::uint32_t node = 0;    // 0: this machine
    std::uint32_t layers = 0;
    bool output_layer = false;
    bytes model{};
    bytes kv{};
    bytes compute{};
    bytes reserve{};
    bytes capacity{};          // unlimited_memory for a CPU row without --ram
    [[nodiscard]] constexpr bytes total() const noexcept { return model + kv + compute + reserve; }
    [[nodiscard]] constexpr bytes margin() const noexcept { return capacity - total(); }
};

struct plan_alternative {
    std::string_view quant;
    std::size_t candidate = 0;
    std::uint32_t n_ctx = 0;
    ggml_type type_k = ggml_type::f16;
    ggml_type type_v = ggml_type::f16;
    bool flash_attn = true;
    std::uint32_t gpus_used = 0;
    std::uint32_t nodes_used = 1;
    std::uint32_t n_gpu_layers = 0;
    std::uint32_t n_cpu_moe = 0;
    plan_tier tier = plan_tier::none;
    bytes gpu_bytes{};
    bytes host_bytes{};
    bytes disk_bytes{};
    speed_estimate speed{};
    bool chosen = false;
};

using plan_note = fixed_string<240>;

struct plan_result {
    std::string_view model;         // the model's name
    std::string_view quant;
    std::size_t candidate = 0;
    std::uint32_t gpus_used = 0;
    std::uint32_t nodes_used = 1;
    std::uint32_t n_ctx = 0;        // as asked of the engine (-c)
    std::uint32_t n_seq = 1;
    ggml_type type_k = ggml_type::f16;
    ggml_type type_v = ggml_type::f16;
    bool flash_attn = true;
    std::uint32_t n_layer = 0;
    std::uint32_t n_gpu_layers = 0; // -ngl (n_layer + 1 = everything)
    std::uint32_t n_cpu_moe = 0;    // --n-cpu-moe
    plan_tier tier = plan_tier::none;
    std::vector<std::uint32_t> gpu_indices;     // per used GPU: index in plan_request::gpus
    std::vector<std::uint32_t> gpu_nodes;       // per used GPU: its node
    std::vector<std::uint32_t> layers_per_gpu;  // -ts
    std::vector<plan_device_row> devices;       // the GPUs used, then the CPU
    bytes host_bytes{};
    bytes disk_bytes{};
    speed_estimate speed{};
    bool compute_modelled = false;
    std::vector<plan_alternative> alternatives;  // chosen first
    std::vector<plan_note> decisions;
    llama_cpp::context_params context{};         // the settings the engine gets
};

namespace detail::planner {

// One evaluated configuration (before verification).
struct option {
    std::size_t candidate = 0;
    llama_cpp::resolved_context ctx{};
    std::vector<std::uint32_t> devices;  // flattened device ids: node * n_gpus + index
    std::vector<std::uint32_t> counts;
    std::uint32_t n_gpu_layers = 0;
    std::uint32_t n_cpu_moe = 0;
    plan_tier tier = plan_tier::none;
    std::uint64_t gpu_bytes = 0;
    host_need host{};
    std::uint64_t disk = 0;
    speed_estimate speed{};
};

struct env {
    const plan_request* request = nullptr;
    std::uint32_t n_gpus = 0;        // per node
    std::uint32_t nodes = 1;
    [[nodiscard]] constexpr const catalog::gpu_spec& gpu(std::uint32_t id) const { return request->gpus[id % n_gpus]; }
    [[nodiscard]] constexpr std::uint32_t node(std::uint32_t id) const { return id / n_gpus; }
};

[[nodiscard]] constexpr llama_cpp::context_params context_params_of(const plan_request& r, std::uint32_t n_ctx, ggml_type k,
                                                                   ggml_type v, bool fa) {
    llama_cpp::context_params p{};
    p.n_ctx = n_ctx;
    p.n_batch = r.n_batch;
    p.n_ubatch = r.n_ubatch;
    p.n_seq = r.n_seq;
    p.kv_unified = r.kv_unified;
    p.flash_attn = fa ? llama_cpp::flash_attention::on : llama_cpp::flash_attention::off;
    p.type_k = k;
    p.type_v = v;
    p.use_mmap = r.use_mmap;
    p.repack = llama_cpp::repack_mode::off;  // a GPU build puts CPU layers in host buffers, not CPU_REPACK
    return p;
}

// Decode and prompt speed of a placement (plan/speed.hpp).
[[nodiscard]] constexpr speed_estimate estimate_speed(const env& e, const weight_table& w, const context_table& c,
                                                      const option& o) {
    const auto& s = e.request->speed;
    speed_estimate out{};
    const std::uint32_t first = w.n_layer + 1 - o.n_gpu_layers;
    // Device of each layer in the sequence: -1 CPU, else position in o.devices.
    std::vector<int> dev;
    {
        std::size_t j = 0;
        std::uint32_t left = o.counts.empty() ? 0 : o.counts[0];
        for (std::uint32_t il = 0; il <= w.n_layer; ++il) {
            if (il < first) { dev.push_back(-1); continue; }
            while (left == 0 && j + 1 < o.counts.size()) left = o.counts[++j];
            dev.push_back(static_cast<int>(j));
            if (left > 0) --left;
        }
    }
    const double act = 4.0 * static_cast<double>(w.n_embd);
    double host_read = 0;
    double prompt_s = 0;  // per ubatch
    double prompt_host_bytes = 0;
    double host_flops = 0;
    std::vector<double> gpu_read;
    std::vector<double> gpu_flops;
    for (std::size_t j = 0; j < o.devices.size(); ++j) { gpu_read.push_back(0); gpu_flops.push_back(0); }
    const double ub = static_cast<double>(c.ctx.n_ubatch);
    int previous = -1;  // the input layer is on the CPU
    std::uint32_t previous_node = 0;
    double transfer = 0;
    for (std::uint32_t il = 0; il <= w.n_layer; ++il) {
        const int d = dev[il];
        const double layer_flops = w.flops[il] + c.attn_flops[il];
        if (d < 0) {
            host_read += w.read[il] + c.kv_read[il];
            host_flops += layer_flops;
            prompt_host_bytes += static_cast<double>(w.host[il]);
        } else {
            const bool experts_on_cpu = il < o.n_cpu_moe && il < w.n_layer && w.read_exps[il] > 0;
            const double on_gpu = w.read[il] - (experts_on_cpu ? w.read_exps[il] : 0.0) + c.kv_read[il];
            gpu_read[static_cast<std::size_t>(d)] += on_gpu;
            gpu_flops[static_cast<std::size_t>(d)] += layer_flops;
            if (experts_on_cpu) {
                host_read += w.read_exps[il];
                prompt_host_bytes += static_cast<double>(w.host_exps[il]);
                const auto& g = e.gpu(o.devices[static_cast<std::size_t>(d)]);
                transfer += 2 * act / (pcie_gb_s(g) * 1e9);  // to the CPU's experts and back
            }
        }
        if (d != previous) {
            const std::uint32_t node = d < 0 ? 0 : e.node(o.devices[static_cast<std::size_t>(d)]);
            double link = 0;
            if (node != previous_node) link = s.network_gb_s;
            else if (d < 0) link = pcie_gb_s(e.gpu(o.devices[static_cast<std::size_t>(previous)]));
            else if (previous < 0) link = pcie_gb_s(e.gpu(o.devices[static_cast<std::size_t>(d)]));
            else link = gpu_link_gb_s(e.gpu(o.devices[static_cast<std::size_t>(previous)]), e.gpu(o.devices[static_cast<std::size_t>(d)]));
            transfer += act / (link * 1e9);
            previous = d;
            previous_node = node;
        }
    }
    double gpu_s = 0;
    for (std::size_t j = 0; j < o.devices.size(); ++j) {
        const auto& g = e.gpu(o.devices[j]);
        gpu_s += gpu_read[j] / (gpu_bandwidth_gb_s(g) * 1e9);
        const double flop_s = gpu_flops[j] * ub / (gpu_tflops(g) * 1e12);
        const double read_s = gpu_read[j] / (gpu_bandwidth_gb_s(g) * 1e9);
        prompt_s += flop_s > read_s ? flop_s : read_s;
    }
    out.gpu_s = gpu_s;
    // Disk: the share of the host-resident weights that does not fit in RAM pages in per token.
    const double host_weights = static_cast<double>(o.host.weights);
    const double paged = host_weights > 0 ? static_cast<double>(o.disk) / host_weights : 0.0;
    out.host_s = host_read * (1 - (paged > 1 ? 1 : paged)) / (s.host_bandwidth_gb_s * 1e9);
    out.disk_s = host_read * (paged > 1 ? 1 : paged) / (s.disk_gb_s * 1e9);
    out.transfer_s = transfer;
    const double decode = out.gpu_s + out.host_s + out.disk_s + out.transfer_s;
    out.decode_tokens_per_s = decode > 0 ? 1.0 / decode : 0.0;
    if (o.devices.empty()) {
        prompt_s += host_flops * ub / (s.host_tflops * 1e12);
    } else if (prompt_host_bytes > 0) {
        // ops on host weights are offloaded for the ubatch: the weights cross PCIe (plan/speed.hpp)
        prompt_s += prompt_host_bytes / (pcie_gb_s(e.gpu(o.devices.front())) * 1e9);
    }
    prompt_s += out.disk_s * ub > 0 ? static_cast<double>(o.disk) / (s.disk_gb_s * 1e9) : 0.0;
    prompt_s += transfer * ub;
    out.prompt_tokens_per_s = prompt_s > 0 ? ub / prompt_s : 0.0;
    return out;
}


// Host memory and disk for an option; sets tier (none when host RAM cannot hold what must stay).
constexpr void settle_host(const env& e, const weight_table& w, const context_table& c, option& o) {
    const auto& r = *e.request;
    o.host = host_side(w, c, o.n_gpu_layers, o.n_cpu_moe);
    const std::uint64_t ram = r.host_ram.count();
    const bool all_gpu = o.n_gpu_layers == w.n_layer + 1 && o.n_cpu_moe == 0;
    o.disk = 0;
    if (o.host.total() <= ram) {
        o.tier = all_gpu ? plan_tier::gpu : plan_tier::host;
    } else if (r.use_mmap && r.allow_disk && o.host.kv + o.host.compute <= ram) {
        o.tier = plan_tier::disk;
        o.disk = o.host.total() - ram;
    } else {
        o.tier = plan_tier::none;
    }
}

// What device `id` keeps free beyond its buffers: the common reserve plus its own.
[[nodiscard]] constexpr std::uint64_t reserve_of(const env& e, std::uint32_t id) {
    const auto& r = *e.request;
    const std::size_t index = id % e.n_gpus;
    return r.reserve_per_device.count() + (index < r.reserve_per_gpu.size() ? r.reserve_per_gpu[index].count() : 0);
}

[[nodiscard]] constexpr std::vector<search_device> rooms(const env& e, const std::vector<std::uint32_t>& ids, const context_table& c) {
    std::vector<search_device> devices;
    for (const auto id : ids) {
        const std::uint64_t overhead = c.compute + reserve_of(e, id);
        const std::uint64_t cap = e.gpu(id).memory.count();
        devices.push_back({cap > overhead ? cap - overhead : 0});
    }
    return devices;
}

// The split of `n_gpu_layers` over `o.devices`: equal fill (objective fit) or least decode
// time (objective speed).
[[nodiscard]] constexpr bool split(const env& e, const weight_table& w, const context_table& c, std::uint32_t n_gpu_layers,
                                   std::uint32_t n_cpu_moe, const std::vector<std::uint32_t>& ids,
                                   const std::vector<search_device>& devices, std::vector<std::uint32_t>& counts) {
    if (e.request->objective == plan_objective::speed && ids.size() > 1) {
        std::vector<double> seconds_per_byte;
        for (const auto id : ids) seconds_per_byte.push_back(1.0 / (gpu_bandwidth_gb_s(e.gpu(id)) * 1e9));
        return speed_fill(w, c, n_gpu_layers, n_cpu_moe, devices, seconds_per_byte, counts);
    }
    return balanced_fill(w, c, n_gpu_layers, n_cpu_moe, devices, counts);
}

constexpr void finish(const env& e, const weight_table& w, const context_table& c, option& o) {
    o.gpu_bytes = 0;
    const std::uint32_t first = w.n_layer + 1 - o.n_gpu_layers;
    for (std::uint32_t il = first; il <= w.n_layer; ++il) o.gpu_bytes += gpu_cost(w, c, il, o.n_cpu_moe);
    for (std::size_t j = 0; j < o.counts.size(); ++j) {
        if (o.counts[j] != 0) o.gpu_bytes += c.compute + reserve_of(e, o.devices[j]);
    }
    settle_host(e, w, c, o);
    o.speed = estimate_speed(e, w, c, o);
}

// Everything on the devices `ids` (CUDA order), split for equal fill.
[[nodiscard]] constexpr option place_all(const env& e, const weight_table& w, const context_table& c, std::vector<std::uint32_t> ids) {
    option o{};
    o.ctx = c.ctx;
    o.devices = std::move(ids);
    o.n_gpu_layers = w.n_layer + 1;
    if (!split(e, w, c, o.n_gpu_layers, 0, o.devices, rooms(e, o.devices, c), o.counts)) {
        o.tier = plan_tier::none;
        return o;
    }
    finish(e, w, c, o);
    return o;
}

// As much as fits on `ids`, the rest on the CPU: experts first for a mixture of experts
// (--n-cpu-moe, smallest N), then whole layers (-ngl, largest that fits).
[[nodiscard]] constexpr option place_offload(const env& e, const weight_table& w, const context_table& c, std::vector<std::uint32_t> ids) {
    option o{};
    o.ctx = c.ctx;
    o.devices = std::move(ids);
    const auto devices = rooms(e, o.devices, c);
    std::vector<std::uint32_t> counts;
    const std::uint32_t all = w.n_layer + 1;
    std::uint32_t n_cpu_moe = 0;
    if (w.moe && fill(w, c, all, w.n_layer, devices, 1.0, counts)) {
        std::uint32_t lo = 0;          // does not fit (the caller tried everything on the GPUs)
        std::uint32_t hi = w.n_layer;  // fits
        while (hi - lo > 1) {
            const std::uint32_t mid = lo + (hi - lo) / 2;
            if (fill(w, c, all, mid, devices, 1.0, counts)) hi = mid;
            else lo = mid;
        }
        o.n_gpu_layers = all;
        o.n_cpu_moe = hi;
    } else {
        n_cpu_moe = w.moe ? w.n_layer : 0;
        std::uint32_t lo = 0;    // fits (nothing on the GPUs)
        std::uint32_t hi = all;  // does not fit
        while (hi - lo > 1) {
            const std::uint32_t mid = lo + (hi - lo) / 2;
            if (fill(w, c, mid, n_cpu_moe, devices, 1.0, counts)) lo = mid;
            else hi = mid;
        }
        o.n_gpu_layers = lo;
        o.n_cpu_moe = lo == 0 ? 0 : n_cpu_moe;
    }
    if (!split(e, w, c, o.n_gpu_layers, o.n_cpu_moe, o.devices, devices, o.counts)) o.counts.clear();
    // Devices that got no layer are not used.
    std::vector<std::uint32_t> used_ids;
    std::vector<std::uint32_t> used_counts;
    for (std::size_t j = 0; j < o.counts.size(); ++j) {
        if (o.counts[j] != 0) { used_ids.push_back(o.devices[j]); used_counts.push_back(o.counts[j]); }
    }
    o.devices = std::move(used_ids);
    o.counts = std::move(used_counts);
    finish(e, w, c, o);
    return o;
}

// Device ids of one node in the order the objective prefers them.
[[nodiscard]] constexpr std::vector<std::uint32_t> preference(const env& e, plan_objective objective) {
    std::vector<std::uint32_t> ids;
    for (std::uint32_t i = 0; i < e.n_gpus; ++i) ids.push_back(i);
    std::sort(ids.begin(), ids.end(), [&](std::uint32_t a, std::uint32_t b) {
        const auto& ga = e.gpu(a);
        const auto& gb = e.gpu(b);
        if (objective == plan_objective::speed && gpu_bandwidth_gb_s(ga) != gpu_bandwidth_gb_s(gb)) {
            return gpu_bandwidth_gb_s(ga) > gpu_bandwidth_gb_s(gb);
        }
        if (ga.memory != gb.memory) return ga.memory > gb.memory;
        if (gpu_bandwidth_gb_s(ga) != gpu_bandwidth_gb_s(gb)) return gpu_bandwidth_gb_s(ga) > gpu_bandwidth_gb_s(gb);
        return a < b;
    });
    return ids;
}

[[nodiscard]] constexpr bool better_speed(const option& a, const option& b) {
    return a.speed.decode_tokens_per_s > b.speed.decode_tokens_per_s * 1.0001;
}

// The best placement of one (model, context) on the request's machines.
[[nodiscard]] constexpr option best_placement(const env& e, const weight_table& w, const context_table& c) {
    const auto& r = *e.request;
    const auto order = preference(e, r.objective);
    option best{};
    for (std::uint32_t k = 1; k <= e.n_gpus; ++k) {
        std::vector<std::uint32_t> ids;
        for (std::uint32_t i = 0; i < k; ++i) ids.push_back(order[i]);
        std::sort(ids.begin(), ids.end());
        option o = place_all(e, w, c, std::move(ids));
        if (o.tier != plan_tier::gpu) continue;
        if (best.tier != plan_tier::gpu) best = std::move(o);
        else if (r.objective == plan_objective::speed && better_speed(o, best)) best = std::move(o);
        if (r.objective == plan_objective::fit) break;
    }
    if (best.tier == plan_tier::gpu) return best;
    if (e.n_gpus != 0) {
        std::vector<std::uint32_t> ids;
        for (std::uint32_t i = 0; i < e.n_gpus; ++i) ids.push_back(i);
        best = place_offload(e, w, c, std::move(ids));
    } else {
        best = option{};
        best.ctx = c.ctx;
        finish(e, w, c, best);
    }
    // Several machines: only when this one cannot run the model from GPU + RAM.
    if ((best.tier == plan_tier::none || best.tier == plan_tier::disk) && e.nodes > 1) {
        for (std::uint32_t nodes = 2; nodes <= e.nodes; ++nodes) {
            if (nodes * e.n_gpus > llama_cpp::max_cuda_devices) break;
            // llama.cpp puts RPC devices at the front of its device list (llama_model_load_from_file_impl:
            // "add RPC servers at the front of the list"), so the remote GPUs come first in the
            // layer sequence and the output layer lands on a local GPU.
            std::vector<std::uint32_t> ids;
            for (std::uint32_t node = 1; node <= nodes; ++node) {
                for (std::uint32_t i = 0; i < e.n_gpus; ++i) ids.push_back((node % nodes) * e.n_gpus + i);
            }
            option o = place_all(e, w, c, std::move(ids));
            if (o.tier == plan_tier::gpu) return o;
        }
    }
    return best;
}

[[nodiscard]] constexpr std::uint32_t nodes_of(const env& e, const option& o) {
    std::uint32_t n = 1;
    for (const auto id : o.devices) if (e.node(id) + 1 > n) n = e.node(id) + 1;
    return n;
}

// Compute buffers by context: the graph replay runs once per distinct context (it does not
// depend on the quantization: compute_buffer.hpp builds the graph from the hyper-parameters).
struct compute_cache {
    struct entry {
        llama_cpp::resolved_context ctx;
        std::uint64_t bytes = 0;
        bool ok = false;
    };
    std::vector<entry> entries;

    [[nodiscard]] static constexpr bool same(const llama_cpp::resolved_context& a, const llama_cpp::resolved_context& b) noexcept {
        return a.n_ctx_seq == b.n_ctx_seq && a.n_stream == b.n_stream && a.n_ubatch == b.n_ubatch && a.n_batch == b.n_batch &&
               a.flash_attn == b.flash_attn && a.type_k == b.type_k && a.type_v == b.type_v && a.kv_cells == b.kv_cells &&
               a.kv_swa_cells == b.kv_swa_cells && a.n_seq == b.n_seq;
    }
    constexpr std::uint64_t get(const model_description& model, const llama_cpp::resolved_context& ctx, bool& modelled) {
        for (const auto& en : entries) {
            if (same(en.ctx, ctx)) { modelled = en.ok; return en.bytes; }
        }
        const auto r = llama_cpp::try_compute_buffer_bytes(model, ctx);
        entries.push_back({ctx, r.ok() ? r.value().count() : 0, r.ok()});
        modelled = r.ok();
        return entries.back().bytes;
    }
};

struct kv_choice {
    ggml_type k = ggml_type::f16;
    ggml_type v = ggml_type::f16;
};

[[nodiscard]] constexpr int tier_rank(plan_tier t) noexcept { return static_cast<int>(t); }

[[nodiscard]] constexpr std::uint64_t mib_of(std::uint64_t b) noexcept { return (b + 1048575) / 1048576; }
[[nodiscard]] constexpr std::uint64_t gib_of(std::uint64_t b) noexcept { return (b + 1073741823) / 1073741824; }


// The host compute buffers check_fit reports, when its report has them (fit_report::host_compute,
// cpu_compute and a BLAS build's blas_compute, from the CUDA compute model); otherwise the
// planner's own figure.
template <class Report>
[[nodiscard]] constexpr bytes reported_host_compute(const Report& report, bytes fallback) {
    if (!report) return fallback;
    bytes sum{};
    bool any = false;
    if constexpr (requires { report->host_compute; }) { sum += bytes{report->host_compute}; any = true; }
    if constexpr (requires { report->cpu_compute; }) { sum += bytes{report->cpu_compute}; any = true; }
    if constexpr (requires { report->blas_compute; }) { sum += bytes{report->blas_compute}; any = true; }
    return any ? sum : fallback;
}

// "12.3 GiB"
constexpr void append_gib(plan_note& n, std::uint64_t b) {
    const std::uint64_t tenths = (b * 10 + 536870912) / 1073741824;
    n.append_number(tenths / 10);
    n.append(".");
    n.append_number(tenths % 10);
    n.append(" GiB");
}

constexpr void append_tps(plan_note& n, double tps) {
    const auto tenths = static_cast<std::uint64_t>(tps * 10 + 0.5);
    n.append_number(tenths / 10);
    if (tenths < 1000) { n.append("."); n.append_number(tenths % 10); }
}

[[nodiscard]] constexpr result<context_table> make_context(const model_description& m, const plan_request& r, std::uint32_t n_ctx,
                                                           kv_choice kv, bool fa, compute_cache& cache, bool& modelled) {
    auto ctx = llama_cpp::resolve_context(m, context_params_of(r, n_ctx, kv.k, kv.v, fa));
    if (!ctx) return ctx.err();
    auto c = build_context(m.hparams, *ctx);
    c.compute = cache.get(m, *ctx, modelled);
    c.host_compute = c.compute;  // the CPU graph's buffer, where layers run on the CPU
    return c;
}

[[nodiscard]] constexpr plan_alternative to_alternative(const env& e, const plan_candidate& cand, std::size_t index, const option& o,
                                                        std::uint32_t n_ctx, kv_choice kv, bool fa) {
    plan_alternative a{};
    a.quant = cand.quant;
    a.candidate = index;
    a.n_ctx = n_ctx;
    a.type_k = kv.k;
    a.type_v = kv.v;
    a.flash_attn = fa;
    a.gpus_used = static_cast<std::uint32_t>(o.devices.size());
    a.nodes_used = nodes_of(e, o);
    a.n_gpu_layers = o.n_gpu_layers;
    a.n_cpu_moe = o.n_cpu_moe;
    a.tier = o.tier;
    a.gpu_bytes = bytes{o.gpu_bytes};
    a.host_bytes = bytes{o.host.total()};
    a.disk_bytes = bytes{o.disk};
    a.speed = o.speed;
    return a;
}

// What it would take: the least memory the model needs at this context, against what is offered.
[[nodiscard]] constexpr error impossible(const env& e, const plan_candidate& cand, const weight_table& w, const context_table& c) {
    const auto& r = *e.request;
    std::uint64_t need = w.input_host;
    for (std::uint32_t il = 0; il <= w.n_layer; ++il) need += w.host[il] + c.kv_host[il];
    need += c.host_compute;
    std::uint64_t gpus = 0;
    for (const auto& g : r.gpus) gpus += g.memory.count();
    gpus *= e.nodes;
    error failure{errc::limit_exceeded, "'"};
    failure.with(cand.model.name.view()).with(":").with(cand.quant).with("' at n_ctx ").with_number(c.ctx.n_ctx)
        .with(" needs about ").with_number(gib_of(need)).with(" GiB (weights + KV + compute); the ")
        .with_number(r.gpus.size() * e.nodes).with(" GPU(s) offer ").with_number(gpus / 1073741824).with(" GiB");
    if (r.host_ram != unlimited_memory) failure.with(" and host RAM ").with_number(r.host_ram.count() / 1073741824).with(" GiB");
    const std::uint64_t kv_and_compute = c.host_compute + [&] { std::uint64_t k = 0; for (auto v : c.kv_host) k += v; return k; }();
    if (r.host_ram != unlimited_memory && kv_and_compute > r.host_ram.count() && !r.gpus.empty()) {
        failure.with("; the KV cache alone needs ").with_number(gib_of(kv_and_compute)).with(" GiB: a shorter context (-c) or a quantized KV cache (-ctk/-ctv q8_0)");
    } else {
        failure.with("; it would fit with ").with_number(gib_of(need > gpus ? need - gpus : 0) + 1)
            .with(" GiB of host RAM (--ram), more GPUs, a smaller quantization (--quant any) or a shorter context");
    }
    if (!r.use_mmap || !r.allow_disk) failure.with(", or with mmap paging from disk");
    return failure;
}

} // namespace detail::planner

// Plan `candidates` (one model, one or several quantizations) on `request`'s machines.
[[nodiscard]] constexpr result<plan_result> plan(std::span<const plan_candidate> candidates, const plan_request& request) {
    using namespace detail::planner;
    if (candidates.empty()) return error{errc::invalid_argument, "no model given"};
    if (request.gpus.size() > llama_cpp::max_cuda_devices) {
        return error{errc::invalid_argument, "more than 16 CUDA devices (GGML_CUDA_MAX_DEVICES)"};
    }
    if (request.nodes == 0 || request.nodes > 16) return error{errc::invalid_argument, "nodes must be 1..16"};
    if (!request.reserve_per_gpu.empty() && request.reserve_per_gpu.size() != request.gpus.size()) {
        return error{errc::invalid_argument, "reserve_per_gpu has "}.with_number(request.reserve_per_gpu.size())
            .with(" entries for ").with_number(request.gpus.size()).with(" GPUs");
    }
    for (const auto& g : request.gpus) {
        if (g.memory.count() == 0) return error{errc::invalid_argument, "GPU '"}.with(g.id).with("' has no memory to offer");
    }
    env e{&request, static_cast<std::uint32_t>(request.gpus.size()), request.gpus.empty() ? 1 : request.nodes};
    const model_description& first_model = candidates[0].model;
    const std::uint32_t train = first_model.hparams.n_ctx_train;
    const std::uint32_t n_ctx = request.n_ctx == 0 ? train : request.n_ctx;
    if (n_ctx == 0) {
        return error{errc::invalid_argument, "-c 0 asks for the training context, but '"}.with(first_model.name.view())
            .with("' has none; give -c N");
    }
    if (train != 0 && n_ctx > train) {
        return error{errc::invalid_argument, "context "}.with_number(n_ctx).with(" is beyond the training context ").with_number(train)
            .with(" of '").with(first_model.name.view()).with("'; use -c ").with_number(train)
            .with(" or less, or --max-ctx for the largest that fits");
    }
    const bool fa = request.flash_attn.value_or(true);
    std::vector<kv_choice> kvs;
    const bool kv_fixed = request.type_k.has_value() || request.type_v.has_value();
    if (kv_fixed) {
        kvs.push_back({request.type_k.value_or(ggml_type::f16), request.type_v.value_or(ggml_type::f16)});
    } else {
        kvs.push_back({ggml_type::f16, ggml_type::f16});
        if (fa) {  // a quantized V cache needs flash attention (llama_context refuses it otherwise)
            kvs.push_back({ggml_type::q8_0, ggml_type::q8_0});
            kvs.push_back({ggml_type::q4_0, ggml_type::q4_0});
        }
    }

    // Quality order: more weight bytes = more bits per weight.
    std::vector<std::size_t> order;
    std::vector<weight_table> tables;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        order.push_back(i);
        tables.push_back(build_weights(candidates[i].model));
    }
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (tables[a].weight_bytes != tables[b].weight_bytes) return tables[a].weight_bytes > tables[b].weight_bytes;
        return a < b;
    });

    compute_cache cache;
    bool modelled = true;
    // Per candidate: its best configuration at the asked context.
    struct best_of {
        option o;
        std::size_t kv = 0;
    };
    std::vector<best_of> best;
    for (std::size_t i = 0; i < candidates.size(); ++i) best.push_back({});
    std::vector<plan_alternative> alternatives;
    int best_tier = tier_rank(plan_tier::none);
    for (const std::size_t ci : order) {
        const auto& cand = candidates[ci];
        best_of b{};
        b.o.tier = plan_tier::none;
        for (std::size_t k = 0; k < kvs.size(); ++k) {
            auto c = make_context(cand.model, request, n_ctx, kvs[k], fa, cache, modelled);
            if (!c) return c.err();
            option o = best_placement(e, tables[ci], *c);
            if (tier_rank(o.tier) < tier_rank(b.o.tier)) b = {std::move(o), k};
            if (b.o.tier == plan_tier::gpu) break;
        }
        if (tier_rank(b.o.tier) < best_tier) best_tier = tier_rank(b.o.tier);
        best[ci] = std::move(b);
    }
    std::size_t chosen = order.front();
    for (const std::size_t ci : order) {
        if (tier_rank(best[ci].o.tier) == best_tier) { chosen = ci; break; }
    }
    const auto& cand = candidates[chosen];
    const auto& w = tables[chosen];
    if (best_tier == tier_rank(plan_tier::none)) {
        auto c = make_context(cand.model, request, n_ctx, kvs.back(), fa, cache, modelled);
        if (!c) return c.err();
        return impossible(e, cand, w, *c);
    }

    // The context: as asked, or the largest that keeps the placement tier.
    std::uint32_t final_ctx = n_ctx;
    std::size_t final_kv = best[chosen].kv;
    std::vector<plan_alternative> ctx_alternatives;
    if (request.max_ctx && train > n_ctx) {
        std::uint32_t best_ctx = 0;
        std::size_t best_kv = final_kv;
        const std::size_t kv_limit = kv_fixed ? 1 : (kvs.size() > 2 ? 2 : kvs.size());  // f16, q8_0 (see header)
        for (std::size_t k = 0; k < kv_limit || (best_ctx == 0 && k < kvs.size()); ++k) {
            const auto feasible = [&](std::uint32_t tokens) -> result<bool> {
                auto c = make_context(cand.model, request, tokens, kvs[k], fa, cache, modelled);
                if (!c) return c.err();
                return tier_rank(best_placement(e, w, *c).tier) <= best_tier;
            };
            auto at_least = feasible(n_ctx);
            if (!at_least) return at_least.err();
            if (!*at_least) continue;
            std::uint32_t lo = (n_ctx + 255) / 256;  // in units of 256 tokens; feasible
            std::uint32_t hi = train / 256 + 1;      // infeasible bound
            auto top = feasible(train);
            if (!top) return top.err();
            std::uint32_t found = n_ctx;
            if (*top) {
                found = train;
            } else {
                while (hi - lo > 1) {
                    const std::uint32_t mid = lo + (hi - lo) / 2;
                    auto f = feasible(mid * 256);
                    if (!f) return f.err();
                    if (*f) lo = mid;
                    else hi = mid;
                }
                found = lo * 256 > n_ctx ? lo * 256 : n_ctx;
            }
            auto c = make_context(cand.model, request, found, kvs[k], fa, cache, modelled);
            if (!c) return c.err();
            ctx_alternatives.push_back(to_alternative(e, cand, chosen, best_placement(e, w, *c), found, kvs[k], fa));
            if (found > best_ctx) { best_ctx = found; best_kv = k; }
            if (found == train) break;
        }
        if (best_ctx != 0) { final_ctx = best_ctx; final_kv = best_kv; }
    }

    // Place, then verify with check_fit; if a device's compute buffer there is larger than the
    // search assumed, search again with it.
    auto table = make_context(cand.model, request, final_ctx, kvs[final_kv], fa, cache, modelled);
    if (!table) return table.err();
    option o = best_placement(e, w, *table);
    fit_params fp{};
    fp.context = context_params_of(request, final_ctx, kvs[final_kv].k, kvs[final_kv].v, fa);
    fp.reserve_per_device = request.reserve_per_device;
    fp.count_overhead = false;  // the planner holds the CUDA overhead back through its reserves (--reserve auto)
    result<fit_report> report = error{errc::invalid_argument, "no GPU in use"};
    for (int attempt = 0; attempt < 4 && !o.devices.empty(); ++attempt) {
        std::vector<catalog::gpu_spec> used;
        for (const auto id : o.devices) {  // a device's own reserve is taken off its capacity for check_fit
            used.push_back(e.gpu(id));
            used.back().memory = used.back().memory - bytes{reserve_of(e, id) - request.reserve_per_device.count()};
        }
        fp.offload = llama_cpp::offload_params{};
        fp.offload.blas = request.blas;
        fp.offload.n_gpu_layers = static_cast<std::int32_t>(o.n_gpu_layers);
        for (std::size_t j = 0; j < o.counts.size(); ++j) fp.offload.tensor_split[j] = static_cast<float>(o.counts[j]);
        if (o.n_cpu_moe != 0) llama_cpp::add_n_cpu_moe(fp.offload, o.n_cpu_moe);
        report = check_fit(cand.model, used, fp);
        if (!report) return report.err();
        if (report->fits()) break;
        std::uint64_t compute = table->compute;
        for (const auto& d : report->devices) if (d.compute.count() > compute) compute = d.compute.count();
        table->compute = compute + (compute == table->compute ? 64 * 1048576ULL : 0);  // never loop on the same figure
        o = best_placement(e, w, *table);
    }
    if (!o.devices.empty() && (!report || !report->fits())) {
        return error{errc::limit_exceeded, "no placement passes check_fit for '"}.with(cand.model.name.view())
            .with("' (the planner's tables and check_fit disagree; please report)");
    }

    plan_result out{};
    out.model = cand.model.name.view();
    out.quant = cand.quant;
    out.candidate = chosen;
    out.gpus_used = static_cast<std::uint32_t>(o.devices.size());
    out.nodes_used = nodes_of(e, o);
    out.n_ctx = final_ctx;
    out.n_seq = request.n_seq;
    out.type_k = kvs[final_kv].k;
    out.type_v = kvs[final_kv].v;
    out.flash_attn = fa;
    out.n_layer = w.n_layer;
    out.n_gpu_layers = o.n_gpu_layers;
    out.n_cpu_moe = o.n_cpu_moe;
    out.tier = o.tier;
    out.host_bytes = bytes{o.host.total()};
    out.disk_bytes = bytes{o.disk};
    out.speed = o.speed;
    out.compute_modelled = modelled;
    out.context = fp.context;
    for (std::size_t j = 0; j < o.devices.size(); ++j) {
        const std::uint32_t id = o.devices[j];
        out.gpu_indices.push_back(id % e.n_gpus);
        out.gpu_nodes.push_back(e.node(id));
        out.layers_per_gpu.push_back(o.counts[j]);
        const auto& d = report->devices[j];
        plan_device_row row{};
        row.name = llama_cpp::cuda_device_name(id % e.n_gpus);
        row.gpu = e.gpu(id).id;
        row.index = id % e.n_gpus;
        row.node = e.node(id);
        row.layers = d.layers;
        row.output_layer = d.output_layer;
        row.model = d.model;
        row.kv = d.kv;
        row.compute = d.compute;
        const bytes own_reserve{reserve_of(e, id) - request.reserve_per_device.count()};
        row.reserve = d.reserve + own_reserve;
        row.capacity = d.capacity + own_reserve;
        out.devices.push_back(row);
    }
    {
        plan_device_row cpu{};
        cpu.name = "CPU";
        cpu.layers = w.n_layer + 1 - o.n_gpu_layers;
        if (cpu.layers > w.n_layer) { cpu.layers = w.n_layer; cpu.output_layer = true; }
        cpu.model = bytes{o.host.weights};
        cpu.kv = bytes{o.host.kv};
        cpu.compute = detail::planner::reported_host_compute(report, bytes{o.host.compute});
        cpu.capacity = request.host_ram;
        out.devices.push_back(cpu);
    }

    // Alternatives: the choice, the same quantization on fewer or more GPUs, other KV types and
    // contexts, then the other quantizations.
    {
        auto chosen_alt = to_alternative(e, cand, chosen, o, final_ctx, kvs[final_kv], fa);
        chosen_alt.chosen = true;
        alternatives.push_back(chosen_alt);
        const auto ids = preference(e, request.objective);
        for (std::uint32_t k = 1; k <= e.n_gpus; ++k) {
            std::vector<std::uint32_t> sub;
            for (std::uint32_t i = 0; i < k; ++i) sub.push_back(ids[i]);
            std::sort(sub.begin(), sub.end());
            option v = place_all(e, w, *table, sub);
            if (v.tier != plan_tier::gpu) v = place_offload(e, w, *table, sub);
            if (v.tier == plan_tier::none || (v.devices == o.devices && v.n_gpu_layers == o.n_gpu_layers && v.n_cpu_moe == o.n_cpu_moe)) continue;
            alternatives.push_back(to_alternative(e, cand, chosen, v, final_ctx, kvs[final_kv], fa));
        }
        for (auto& a : ctx_alternatives) {
            if (a.n_ctx != final_ctx || a.type_k != kvs[final_kv].k) alternatives.push_back(a);
        }
        for (std::size_t k = 0; k < kvs.size() && !request.max_ctx; ++k) {
            if (k == final_kv) continue;
            auto c = make_context(cand.model, request, final_ctx, kvs[k], fa, cache, modelled);
            if (!c) continue;
            option v = best_placement(e, w, *c);
            if (v.tier != plan_tier::none) alternatives.push_back(to_alternative(e, cand, chosen, v, final_ctx, kvs[k], fa));
        }
        for (const std::size_t ci : order) {
            if (ci == chosen || best[ci].o.tier == plan_tier::none) continue;
            alternatives.push_back(to_alternative(e, candidates[ci], ci, best[ci].o, n_ctx, kvs[best[ci].kv], fa));
        }
    }
    out.alternatives = std::move(alternatives);

    // Decisions, in words.
    const auto& r = request;
    {
        plan_note n{"quantization "};
        n.append(cand.quant);
        if (candidates.size() == 1) {
            n.append(": as given (");
            append_gib(n, w.weight_bytes);
            n.append(" of weights)");
        } else {
            n.append(": the largest of ");
            n.append_number(candidates.size());
            n.append(" candidates that runs on ");
            n.append(to_string(o.tier));
            n.append(" (");
            append_gib(n, w.weight_bytes);
            n.append(" of weights)");
            for (const std::size_t ci : order) {
                if (ci == chosen) break;
                n.append("; ");
                n.append(candidates[ci].quant);
                n.append(" would need ");
                n.append(to_string(best[ci].o.tier));
                break;
            }
        }
        out.decisions.push_back(n);
    }
    if (!o.devices.empty()) {
        plan_note n{};
        if (o.tier == plan_tier::gpu && o.devices.size() == 1) {
            n.append("one GPU (");
            n.append(out.devices[0].gpu);
            n.append(" ");
            n.append(out.devices[0].name);
            n.append(e.n_gpus > 1 ? ", the fewest that hold everything; no split): " : "): ");
            n.append_number(w.n_layer);
            n.append(" layers, the output layer, KV and compute with ");
            n.append_number(out.devices[0].margin().count() / 1048576);
            n.append(" MiB to spare");
        } else {
            n.append(o.tier == plan_tier::gpu ? "layer split over " : "GPU part on ");
            n.append_number(o.devices.size());
            n.append(o.devices.size() == 1 ? " GPU (" : " GPUs (-ts ");
            if (o.devices.size() == 1) {
                n.append(out.devices[0].gpu);
                n.append(" ");
                n.append(out.devices[0].name);
                if (o.n_gpu_layers == w.n_layer + 1) {
                    n.append("): all ");
                    n.append_number(w.n_layer);
                    n.append(" layers and the output layer");
                } else {
                    n.append("): the output layer and the last ");
                    n.append_number(o.counts[0] - 1);
                    n.append(" layers");
                }
            } else {
                for (std::size_t j = 0; j < o.counts.size(); ++j) {
                    if (j) n.append(",");
                    n.append_number(o.counts[j]);
                }
                n.append("): ");
                n.append(o.tier == plan_tier::gpu ? "the fewest that hold everything, " : "");
                n.append(r.objective == plan_objective::speed ? "the faster memory filled first (least decode time); the output layer on "
                                                              : "each filled to the same share of its room; the output layer on ");
                n.append(out.devices[o.devices.size() - 1].name);
                n.append(", the last of the split");
            }
        }
        out.decisions.push_back(n);
    } else {
        out.decisions.push_back(plan_note{"no GPU: every layer runs on the CPU"});
    }
    if (o.tier != plan_tier::gpu && !o.devices.empty()) {
        plan_note n{"the GPUs cannot hold everything: "};
        if (o.n_cpu_moe != 0 && o.n_gpu_layers == w.n_layer + 1) {
            n.append("expert tensors of blocks 0..");
            n.append_number(o.n_cpu_moe - 1);
            n.append(" on the CPU (--n-cpu-moe ");
            n.append_number(o.n_cpu_moe);
            n.append("); attention, shared weights and KV stay on the GPU");
        } else {
            n.append_number(w.n_layer + 1 - o.n_gpu_layers);
            n.append(" layers on the CPU (-ngl ");
            n.append_number(o.n_gpu_layers);
            n.append(o.n_cpu_moe != 0 ? ", experts of the GPU layers on the CPU as well" : "");
            n.append("), the output layer stays on a GPU");
        }
        out.decisions.push_back(n);
    }
    {
        plan_note n{"host memory "};
        append_gib(n, o.host.total());
        if (r.host_ram != unlimited_memory) {
            n.append(" of ");
            append_gib(n, r.host_ram.count());
        } else {
            n.append(" (--ram not given: not checked)");
        }
        if (o.tier == plan_tier::disk) {
            n.append("; ");
            append_gib(n, o.disk);
            n.append(" of weights page in from disk (mmap) every token: SLOW");
        }
        out.decisions.push_back(n);
    }
    {
        plan_note n{"context "};
        n.append_number(final_ctx);
        if (r.max_ctx) {
            n.append(final_ctx == train ? ": the training context, it fits" : ": the largest that keeps this placement (training context ");
            if (final_ctx != train) { n.append_number(train); n.append(")"); }
        } else {
            n.append(r.n_ctx == 0 ? " (the training context)" : " as asked");
        }
        n.append("; KV ");
        n.append(type_name(out.type_k));
        if (out.type_v != out.type_k) { n.append("/"); n.append(type_name(out.type_v)); }
        n.append(kv_fixed ? " as asked" : final_kv == 0 ? " (full precision fits)" : " (f16 does not fit here)");
        n.append(fa ? ", flash attention on" : ", flash attention off");
        out.decisions.push_back(n);
    }
    if (out.nodes_used > 1) {
        plan_note n{"one machine is not enough: "};
        n.append_number(out.nodes_used);
        n.append(" machines, the others as llama.cpp RPC servers (--rpc); activations cross the network");
        out.decisions.push_back(n);
    }
    {
        plan_note n{"speed model: decode ~"};
        append_tps(n, o.speed.decode_tokens_per_s);
        n.append(" tok/s, prompt ~");
        append_tps(n, o.speed.prompt_tokens_per_s);
        n.append(" tok/s (bandwidth and FLOP bound, plan/speed.hpp; an estimate, not a measurement)");
        out.decisions.push_back(n);
    }
    return out;
}

[[nodiscard]] constexpr result<plan_result> plan(const model_description& model, std::string_view quant, const plan_request& request) {
    std::vector<plan_candidate> candidates;
    candidates.push_back({quant, model});
    return plan(candidates, request);
}

// The quantizations --quant any considers for a catalog model: llama-quantize's K and I-quant
// file types from 16 bits down, plus the checkpoint's native format (gpt-oss: MXFP4_MOE).
inline constexpr std::array<std::string_view, 17> plan_quant_ladder{
    "F16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q4_K_M", "Q4_K_S", "IQ4_XS", "Q3_K_L", "Q3_K_M",
    "IQ3_M", "Q3_K_S", "IQ3_XXS", "Q2_K", "IQ2_M", "IQ2_XS", "IQ2_XXS"};

// Every ladder quantization of a catalog model (the native one first, when it has one).
[[nodiscard]] constexpr result<std::vector<plan_candidate>> catalog_candidates(const catalog::model_entry& entry) {
    std::vector<plan_candidate> out;
    if (!entry.native_ftype.empty()) {
        auto f = ftype_from_name(entry.native_ftype);
        if (f) {
            auto m = llama_cpp::describe(entry, *f);
            if (!m) return m.err();
            out.push_back({entry.native_ftype, std::move(*m)});
        }
    }
    for (const auto name : plan_quant_ladder) {
        auto f = ftype_from_name(name);
        if (!f) continue;
        if (!entry.native_ftype.empty() && ftype_from_name(entry.native_ftype) == f) continue;
        auto m = llama_cpp::describe(entry, *f);
        if (!m) {
            // The 2- and 3-bit I-quants need an importance matrix (llama-quantize refuses them
            // without one); published files are made with one.
            m = llama_cpp::describe_f16(entry);
            if (!m) return m.err();
            quantize_options options{};
            options.has_imatrix = true;
            auto q = quantize(*m, *f, options);
            if (!q) return q.err();
        }
        out.push_back({name, std::move(*m)});
    }
    return out;
}

// Compile-time form: catalog model, quantization tag and GPU tags. Throws (a compile error in a
// constant expression) when the model cannot be placed; the message says what would make it fit.
template <class Model, class Quant, class... Gpus>
[[nodiscard]] constexpr plan_result plan(plan_request request = {}) {
    request.gpus.clear();
    (request.gpus.push_back(Gpus::spec), ...);
    auto model = llama_cpp::describe(Model::entry, Quant::value);
    if (!model) throw_error(model.err());
    auto r = plan(*model, Quant::name, request);
    if (!r) throw_error(r.err());
    return std::move(*r);
}

} // namespace vramfit
