// vramfit/engines/transformers/estimate.hpp — what `from_pretrained(device_map=..., max_memory=...)`
// followed by `generate()` takes on each device: the device map accelerate's placement computes
// (device_map.hpp) and, per GPU, the weights it places, the KV cache and activation peak of the
// layers that run there, the largest offloaded layer copied in for its forward, and the CUDA
// context.
//
// Loading and estimating are separate steps: the module tree depends on the dtype and the
// quantization only, so a planner that tries many max_memory values builds it once
// (load_model) and asks estimate_generate for each.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/cuda_overhead.hpp"
#include "vramfit/core/device.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/transformers/activations.hpp"
#include "vramfit/engines/transformers/device_map.hpp"
#include "vramfit/engines/transformers/generate_memory.hpp"
#include "vramfit/engines/transformers/kv_cache.hpp"
#include "vramfit/engines/transformers/max_memory.hpp"
#include "vramfit/engines/transformers/module_sizes.hpp"
#include "vramfit/engines/transformers/modules.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::transformers {

// from_pretrained's dtype: the one asked for, else dtype="auto": the config's torch_dtype, else the
// first floating dtype of the checkpoint (modeling_utils.py _get_dtype, get_state_dict_dtype),
// else float32.
[[nodiscard]] constexpr dtype resolve_dtype(const model_config& config, std::optional<dtype> asked,
                                            std::optional<dtype> checkpoint_dtype) noexcept {
    if (asked) return *asked;
    if (config.torch_dtype) return *config.torch_dtype;
    return checkpoint_dtype.value_or(dtype::f32);
}

// What from_pretrained builds for one dtype and quantization: the module tree and its sizes.
struct loaded_model {
    model_config config{};
    dtype type = dtype::bf16;
    module_tree tree{};
    module_sizes sizes{};
    model_weights weights{};
};

// A pre-quantized MXFP4 checkpoint (gpt-oss) keeps its experts packed on a CUDA machine with
// the kernels (quantizer_mxfp4.py); anything else loads as asked.
[[nodiscard]] constexpr result<loaded_model> load_model(const model_config& config, std::optional<dtype> asked,
                                                        std::optional<dtype> checkpoint_dtype, quantization quant) {
    loaded_model m;
    m.config = config;
    m.type = resolve_dtype(config, asked, checkpoint_dtype);
    load_options load{};
    load.torch_dtype = m.type;
    load.quant = quant;
    if (quant == quantization::none && config.quantization.method == quant_method::mxfp4) load.quant = quantization::mxfp4;
    auto tree = build_module_tree(config, load);
    if (!tree) return tree.err();
    m.tree = std::move(*tree);
    m.sizes = compute_module_sizes(m.tree);
    m.weights = weights_of(m.tree, m.sizes);
    return m;
}

// What generate() is asked to do.
struct generate_settings {
    attn_implementation attn = attn_implementation::sdpa;
    std::uint32_t batch = 1;
    std::uint64_t prompt = 1024;
    std::uint64_t new_tokens = 256;
};

// One device of the estimate: a max_memory key, or disk when the map uses it.
struct device_row {
    device_id device{};
    std::uint32_t layers = 0;          // decoder layers placed here
    bytes weights{};                   // the map's modules placed here
    bytes kv{};                        // the cache of the layers that run here, after generate()
    std::optional<bytes> activations;  // unset: the architecture's forward is not modelled
    bytes staging{};                   // the largest offloaded layer, copied in for its forward
    bytes cuda_context{};              // core/cuda_overhead.hpp, for a GPU given as a device
    std::optional<bytes> max_memory;   // the max_memory entry
    std::optional<bytes> capacity;     // the GPU's own memory: what an out-of-memory is measured against

    [[nodiscard]] constexpr bytes total() const noexcept {
        return weights + kv + activations.value_or(bytes{}) + staging + cuda_context;
    }
    [[nodiscard]] constexpr bool over_capacity() const noexcept { return capacity && total() > *capacity; }
};

struct generate_estimate {
    device_map_result map;
    std::vector<device_row> rows;
    std::uint32_t execution_gpu = 0;  // where offloaded layers run
    bool activations_modelled = false;

    [[nodiscard]] constexpr const device_row* row(device_id d) const noexcept {
        for (const auto& r : rows) if (r.device == d) return &r;
        return nullptr;
    }
};

namespace detail::estimate {

// The map entry that is `module` or its nearest parent.
[[nodiscard]] constexpr const device_assignment* entry_for(const std::vector<device_assignment>& map, std::string_view module) {
    const device_assignment* best = nullptr;
    for (const auto& a : map) {
        const std::string_view key = a.module;
        const bool covers = key.empty() || module == key ||
                            (module.starts_with(key) && module.size() > key.size() && module[key.size()] == '.');
        if (covers && (best == nullptr || key.size() > best->module.size())) best = &a;
    }
    return best;
}

[[nodiscard]] constexpr location location_of(const device_assignment* a) noexcept {
    if (a == nullptr || a->device.is_gpu()) return {location_kind::gpu, a == nullptr ? 0 : a->device.index};
    return {a->device.type == device_id::kind::cpu ? location_kind::cpu : location_kind::disk, 0};
}

[[nodiscard]] constexpr bool holds(device_id d, const location& l) noexcept {
    if (d.is_gpu()) return l.kind == location_kind::gpu && l.gpu == d.index;
    return l.kind == (d.type == device_id::kind::cpu ? location_kind::cpu : location_kind::disk);
}

}  // namespace detail::estimate

// The map from_pretrained computes for `max_memory` (device_map.hpp) and what generate() takes
// where it places the modules. `gpus[i]`, when given, is GPU i: its CUDA context and its capacity.
[[nodiscard]] constexpr result<generate_estimate> estimate_generate(const loaded_model& model,
                                                                    const std::vector<memory_spec>& max_memory,
                                                                    placement_strategy strategy,
                                                                    const generate_settings& settings,
                                                                    std::span<const device> gpus = {}) {
    namespace e = detail::estimate;
    generate_estimate out;
    auto map = compute_device_map(model.tree, max_memory, strategy);
    if (!map) return map.err();
    out.map = std::move(*map);

    // the decoder layers (the no-split modules, in order) and where each sits
    std::vector<layer_block> blocks;
    bytes largest_offloaded{};
    std::uint32_t layer = 0;
    for (std::size_t n = 0; n < model.tree.nodes.size(); ++n) {
        const auto& node = model.tree.nodes[n];
        if (!model.tree.is_decoder_layer(node) || layer >= model.config.num_hidden_layers) continue;
        const auto where = e::location_of(e::entry_for(out.map.map, node.name));
        if (!blocks.empty() && blocks.back().where == where) ++blocks.back().count;
        else blocks.push_back({where, layer, 1});
        if (where.kind != location_kind::gpu) largest_offloaded = std::max(largest_offloaded, model.sizes.of(n));
        ++layer;
    }
    placement plan{};
    plan.layers = blocks;
    if (!out.map.map.empty()) plan.embed_tokens = e::location_of(&out.map.map.front());
    plan.lm_head = e::location_of(e::entry_for(out.map.map, "lm_head"));
    plan.norm = plan.lm_head;
    // dispatch_model's main device: the first GPU of max_memory
    for (const auto& m : out.map.max_memory) {
        if (m.device.is_gpu()) { plan.execution_gpu = m.device.index; break; }
    }
    out.execution_gpu = plan.execution_gpu;
    const generate_request request{settings.attn, model.type, settings.batch, settings.prompt, settings.new_tokens, false};
    const auto memory = generate_memory(model.config, request, plan, model.weights, gpus);
    out.activations_modelled = memory.modelled;
    const auto final_cache = generate_cache(model.type, settings.batch, settings.prompt, settings.new_tokens);

    // one row per max_memory device, and disk when the map uses it unasked
    std::vector<device_id> devices;
    for (const auto& m : out.map.max_memory) devices.push_back(m.device);
    bool disk_used = false, disk_listed = false;
    for (const auto& a : out.map.map) disk_used = disk_used || a.device.type == device_id::kind::disk;
    for (const auto& d : devices) disk_listed = disk_listed || d.type == device_id::kind::disk;
    if (disk_used && !disk_listed) devices.push_back(device_id::disk());
    for (const auto& d : devices) {
        device_row row;
        row.device = d;
        for (const auto& b : out.map.bytes_per_device) if (b.device == d) row.weights = b.amount;
        for (const auto& m : out.map.max_memory) if (m.device == d) row.max_memory = m.amount;
        for (const auto& b : blocks) if (e::holds(d, b.where)) row.layers += b.count;
        if (!d.is_gpu()) {
            if (memory.modelled) row.activations = bytes{};  // offloaded layers run on a GPU
        } else if (d.index < max_gpus) {
            // the cache of the layers that run here (offloaded ones run on the execution GPU),
            // counted apart from generate_memory so that it stands where activations are not modelled
            for (const auto& b : blocks) {
                const std::uint32_t runs_on = b.where.kind == location_kind::gpu ? b.where.gpu : plan.execution_gpu;
                if (runs_on != d.index) continue;
                for (std::uint32_t l = b.first; l < b.first + b.count; ++l) row.kv += kv_layer_bytes(model.config, l, final_cache);
            }
            if (memory.modelled) row.activations = memory.gpus[d.index].activations;
            if (d.index == plan.execution_gpu) row.staging = largest_offloaded;
            if (d.index < gpus.size()) {
                row.cuda_context = cuda_process_overhead(gpus[d.index]).estimate;
                row.capacity = gpus[d.index].capacity();
            }
        }
        out.rows.push_back(std::move(row));
    }
    return out;
}

// accelerate's get_max_memory without a max_memory: a GPU's free memory as
// torch.cuda.mem_get_info reports it, the capacity less what CUDA and the context take.
[[nodiscard]] constexpr bytes accelerate_free_memory(const device& gpu) noexcept {
    return gpu.capacity() - std::min(gpu.capacity(), cuda_process_overhead(gpu).estimate);
}

}  // namespace vramfit::transformers
