// tools/transformers_command.hpp — `vramfit estimate MODEL --engine transformers`: the device_map
// from_pretrained computes for a max_memory, and what generate() then takes on each device.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "arguments.hpp"
#include "json_writer.hpp"
#include "vramfit/catalog/models.hpp"
#include "vramfit/core/format.hpp"
#include "vramfit/formats/hf/config.hpp"
#include "vramfit/formats/safetensors/index.hpp"

namespace vramfit::cli {

namespace detail {

inline result<std::string> read_small_file(const std::filesystem::path& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return error{errc::io, path.string()}.with(": ").with(ec.message());
    if (size > json::max_input_bytes) return error{errc::limit_exceeded, path.string()}.with(": larger than a config.json can be");
    std::ifstream in(path, std::ios::binary);
    if (!in) return error{errc::io, path.string()}.with(": cannot be opened");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The Hub cache huggingface_hub keeps (constants.py: HF_HUB_CACHE, else HF_HOME/hub, else
// ~/.cache/huggingface/hub; file_download.py: models--ORG--NAME/refs/main names the snapshot).
inline std::optional<std::filesystem::path> cached_snapshot(std::string_view repo_id) {
    namespace fs = std::filesystem;
    fs::path cache;
    if (const char* hub = std::getenv("HF_HUB_CACHE"); hub != nullptr && *hub != '\0') cache = hub;
    else if (const char* home = std::getenv("HF_HOME"); home != nullptr && *home != '\0') cache = fs::path{home} / "hub";
    else if (const char* user = std::getenv("HOME"); user != nullptr) cache = fs::path{user} / ".cache" / "huggingface" / "hub";
    else return std::nullopt;
    std::string folder = "models--";
    for (char c : repo_id) folder += c == '/' ? std::string{"--"} : std::string(1, c);
    const fs::path repo = cache / folder;
    std::ifstream ref(repo / "refs" / "main");
    std::string revision;
    if (!(ref >> revision) || revision.find('/') != std::string::npos || revision.find("..") != std::string::npos) return std::nullopt;
    std::error_code ec;
    const fs::path snapshot = repo / "snapshots" / revision;
    if (!fs::is_regular_file(snapshot / "config.json", ec)) return std::nullopt;
    return snapshot;
}

// One shard's header: its first 8 + N bytes, never the tensor data.
inline result<safetensors::header> read_safetensors_header(const std::filesystem::path& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return error{errc::io, path.string()}.with(": ").with(ec.message());
    std::ifstream in(path, std::ios::binary);
    if (!in) return error{errc::io, path.string()}.with(": cannot be opened");
    std::vector<unsigned char> start(8);
    if (!in.read(reinterpret_cast<char*>(start.data()), 8)) return error{errc::truncated, path.string()}.with(": shorter than 8 bytes");
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | start[static_cast<std::size_t>(i)];
    if (n > safetensors::max_header_bytes || n + 8 > size) {
        return error{errc::limit_exceeded, path.string()}.with(": header length ").with_number(n).with(" does not fit the file");
    }
    start.resize(8 + n);
    if (!in.read(reinterpret_cast<char*>(start.data() + 8), static_cast<std::streamsize>(n))) return error{errc::truncated, path.string()}.with(": header cut short");
    auto header = safetensors::parse(start, size);
    if (!header) return error{header.err().code(), path.string()}.with(": ").with(header.err().message());
    return header;
}

// The checkpoint next to a config.json: model.safetensors.index.json and its shards, or one
// model.safetensors; none: the tree is built as from_config builds it.
inline result<std::optional<safetensors::checkpoint_summary>> read_checkpoint(const std::filesystem::path& directory) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<std::string> shards;
    if (const auto index_path = directory / "model.safetensors.index.json"; fs::is_regular_file(index_path, ec)) {
        auto text = read_small_file(index_path);
        if (!text) return text.err();
        auto index = safetensors::parse_index(*text, index_path.string());
        if (!index) return index.err();
        for (const auto& s : index->shards) shards.emplace_back(s.view());
    } else if (fs::is_regular_file(directory / "model.safetensors", ec)) {
        shards.emplace_back("model.safetensors");
    } else {
        return std::optional<safetensors::checkpoint_summary>{};
    }
    std::vector<safetensors::header> headers;
    for (const auto& shard : shards) {
        auto h = read_safetensors_header(directory / shard);
        if (!h) return h.err();
        headers.push_back(std::move(*h));
    }
    return std::optional<safetensors::checkpoint_summary>{safetensors::summarize(headers)};
}

// MODEL: a directory with a config.json, a config.json itself, a Hub id in the local cache, or a
// catalog key or Hub id of the built-in catalog (no download).
inline result<model_config> load_hf_config(const std::string& model, std::string& source, const catalog::model_entry** from_catalog = nullptr) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path file = model;
    if (fs::is_directory(file, ec)) file /= "config.json";
    else if (!fs::exists(file, ec)) {
        if (auto snapshot = cached_snapshot(model)) file = *snapshot / "config.json";
        else if (const catalog::model_entry* entry = catalog::find(model)) {
            source = std::string{entry->source} + " (built-in catalog: " + std::string{entry->key} + ")";
            if (from_catalog != nullptr) *from_catalog = entry;
            return hf::with_class_rules(entry->config);
        } else {
            return error{errc::unknown_name, "'"}.with(model).with(
                "' is no directory, no config.json, no model in the Hugging Face cache (HF_HUB_CACHE, HF_HOME/hub or "
                "~/.cache/huggingface/hub) and no catalog name or Hugging Face id (vramfit models)");
        }
    }
    auto text = read_small_file(file);
    if (!text) return text.err();
    source = file.string();
    return hf::parse_config(*text, source);
}

// Where `module` sits: the map entry that is the module or its nearest parent.
inline const transformers::device_assignment* entry_for(const std::vector<transformers::device_assignment>& map, std::string_view module) {
    const transformers::device_assignment* best = nullptr;
    for (const auto& a : map) {
        const std::string_view key = a.module;
        const bool covers = key.empty() || module == key || (module.starts_with(key) && module.size() > key.size() && module[key.size()] == '.');
        if (covers && (best == nullptr || key.size() > best->module.size())) best = &a;
    }
    return best;
}

inline transformers::location location_of(const transformers::device_assignment* a) {
    using transformers::location_kind;
    if (a == nullptr || a->device.is_gpu()) return {location_kind::gpu, a == nullptr ? 0 : a->device.index};
    return {a->device.type == transformers::device_id::kind::cpu ? location_kind::cpu : location_kind::disk, 0};
}

struct hf_device_row {
    std::string name;  // "0", "cpu", "disk"
    std::uint32_t layers = 0;
    bytes weights{};
    bytes kv{};
    std::optional<bytes> activations{};  // unset: not modelled for this architecture
    bytes staging{};
    bytes context{};  // the CUDA process overhead: driver reserve and context
    std::optional<bytes> capacity{};     // max_memory's entry
    std::optional<bytes> device_capacity{};  // the GPU's own memory (--gpu), what an OOM is measured against
    [[nodiscard]] bytes total() const { return weights + kv + activations.value_or(bytes{}) + staging + context; }
};

struct hf_estimate {
    model_config config;
    std::string source;
    std::optional<safetensors::checkpoint_summary> checkpoint;  // the safetensors headers beside config.json
    dtype type = dtype::bf16;
    transformers::device_map_result map;
    std::vector<hf_device_row> rows;
    bool activations_modelled = false;
};

inline result<hf_estimate> estimate_transformers(const transformers_options& options) {
    hf_estimate e;
    const catalog::model_entry* entry = nullptr;
    auto config = load_hf_config(options.model, e.source, &entry);
    if (!config) return config.err();
    e.config = *config;
    if (const std::filesystem::path file{e.source}; file.filename() == "config.json") {
        auto checkpoint = read_checkpoint(file.parent_path());
        if (!checkpoint) return checkpoint.err();
        e.checkpoint = std::move(*checkpoint);
    }
    // dtype="auto": the config's dtype, else the first floating dtype of the checkpoint's first
    // shard (modeling_utils.py _get_dtype, get_state_dict_dtype), else float32
    std::optional<dtype> file_dtype = e.checkpoint ? e.checkpoint->first_floating : std::nullopt;
    if (entry != nullptr) file_dtype = entry->checkpoint_dtype;  // the published files' (catalog/models.hpp)
    e.type = options.torch_dtype.value_or(config->torch_dtype.value_or(file_dtype.value_or(dtype::f32)));
    transformers::load_options load{};
    load.torch_dtype = e.type;
    load.quant = options.quant;
    if (options.quant == transformers::quantization::none && config->quantization.method == quant_method::mxfp4) {
        load.quant = transformers::quantization::mxfp4;  // a CUDA machine with the kernels: experts stay packed
    }
    auto tree = transformers::build_module_tree(*config, load);
    if (!tree) return tree.err();
    auto map = transformers::compute_device_map(*tree, options.max_memory, options.strategy);
    if (!map) return map.err();
    e.map = std::move(*map);
    const auto sizes = transformers::compute_module_sizes(*tree);

    // The decoder layers (the no-split modules, in order) and where each sits.
    std::vector<transformers::layer_block> blocks;
    bytes largest_offloaded{};
    std::uint32_t layer = 0;
    for (std::size_t n = 0; n < tree->nodes.size(); ++n) {
        const auto& node = tree->nodes[n];
        if (!tree->is_decoder_layer(node) || layer >= config->num_hidden_layers) continue;
        const auto where = location_of(entry_for(e.map.map, node.name));
        if (!blocks.empty() && blocks.back().where == where) ++blocks.back().count;
        else blocks.push_back({where, layer, 1});
        if (where.kind != transformers::location_kind::gpu) largest_offloaded = std::max(largest_offloaded, sizes.of(n));
        ++layer;
    }
    transformers::placement plan{};
    plan.layers = blocks;
    if (!e.map.map.empty()) plan.embed_tokens = location_of(&e.map.map.front());
    plan.lm_head = location_of(entry_for(e.map.map, "lm_head"));
    plan.norm = plan.lm_head;
    std::uint32_t first_gpu = 0;
    for (const auto& m : e.map.max_memory) if (m.device.is_gpu()) { first_gpu = m.device.index; break; }
    plan.execution_gpu = first_gpu;
    std::vector<device> gpus = options.gpus;
    transformers::generate_request request{options.attn, e.type, options.batch, options.prompt, options.new_tokens, false};
    const auto memory = transformers::generate_memory(*config, request, plan, transformers::weights_of(*tree, sizes), gpus);
    e.activations_modelled = memory.modelled;

    // One row per max_memory device, and disk when the map uses it.
    std::vector<transformers::device_id> devices;
    for (const auto& m : e.map.max_memory) devices.push_back(m.device);
    bool disk_used = false, disk_listed = false;
    for (const auto& a : e.map.map) disk_used = disk_used || a.device.type == transformers::device_id::kind::disk;
    for (const auto& d : devices) disk_listed = disk_listed || d.type == transformers::device_id::kind::disk;
    if (disk_used && !disk_listed) devices.push_back(transformers::device_id::disk());
    for (const auto& d : devices) {
        hf_device_row row;
        row.name = transformers::to_string(d);
        for (const auto& b : e.map.bytes_per_device) if (b.device == d) row.weights = b.amount;
        for (const auto& m : e.map.max_memory) if (m.device == d) row.capacity = m.amount;
        for (const auto& b : blocks) {
            const bool here = d.is_gpu() ? b.where.kind == transformers::location_kind::gpu && b.where.gpu == d.index
                                         : b.where.kind == (d.type == transformers::device_id::kind::cpu ? transformers::location_kind::cpu
                                                                                                         : transformers::location_kind::disk);
            if (here) row.layers += b.count;
        }
        if (!d.is_gpu() && memory.modelled) row.activations = bytes{};  // offloaded layers run on a GPU
        if (d.is_gpu() && d.index < transformers::max_gpus) {
            const auto& g = memory.gpus[d.index];
            // the cache of the layers that run here (offloaded ones run on the execution GPU)
            const auto final_cache = transformers::generate_cache(e.type, options.batch, options.prompt, options.new_tokens);
            for (const auto& b : blocks) {
                const std::uint32_t runs_on = b.where.kind == transformers::location_kind::gpu ? b.where.gpu : plan.execution_gpu;
                if (runs_on != d.index) continue;
                for (std::uint32_t l = b.first; l < b.first + b.count; ++l) row.kv += transformers::kv_layer_bytes(*config, l, final_cache);
            }
            if (memory.modelled) row.activations = g.activations;
            // offloaded layers' weights are copied to the execution GPU one at a time (AlignDevicesHook)
            if (d.index == plan.execution_gpu) row.staging = largest_offloaded;
            // what a CUDA process loses before its first tensor (core/cuda_overhead.hpp)
            if (d.index < gpus.size()) {
                row.context = cuda_process_overhead(gpus[d.index]).estimate;
                row.device_capacity = gpus[d.index].capacity();
            }
        }
        e.rows.push_back(std::move(row));
    }
    return e;
}

inline std::string device_map_json(const transformers::device_map_result& map) {
    json_writer json;
    json.begin_object();
    for (const auto& a : map.map) {
        json.key(a.module);
        if (a.device.is_gpu()) json.value(a.device.index);
        else json.value(transformers::to_string(a.device));
    }
    json.end_object();
    return json.str();
}

} // namespace detail

inline std::string_view torch_dtype_name(dtype type) {
    return type == dtype::bf16 ? "bfloat16" : type == dtype::f16 ? "float16" : "float32";
}

inline std::string render_transformers_json(const detail::hf_estimate& e) {
    json_writer json;
    json.begin_object();
    json.field("engine", "transformers");
    json.field("model", e.source);
    json.field("model_type", e.config.model_type.view());
    json.field("dtype", torch_dtype_name(e.type));
    if (e.checkpoint) {
        json.key("checkpoint").begin_object();
        json.field("files", static_cast<std::uint64_t>(e.checkpoint->files));
        json.field("tensors", static_cast<std::uint64_t>(e.checkpoint->tensors));
        json.field("tensor_bytes", e.checkpoint->tensor_bytes.count());
        json.end_object();
    }
    json.key("device_map").raw(detail::device_map_json(e.map));
    json.field("activations_modelled", e.activations_modelled);
    json.field("refused", e.map.refused);
    json.key("devices").begin_array();
    for (const auto& r : e.rows) {
        json.begin_object();
        json.field("name", r.name);
        json.field("layers", r.layers);
        json.field("weights_bytes", r.weights.count());
        json.field("kv_bytes", r.kv.count());
        if (r.activations) json.field("activation_peak_bytes", r.activations->count());
        else json.key("activation_peak_bytes").raw("null");
        json.field("offload_staging_bytes", r.staging.count());
        json.field("cuda_overhead_bytes", r.context.count());
        json.field("total_bytes", r.total().count());
        if (r.capacity) json.field("max_memory_bytes", r.capacity->count());
        if (r.device_capacity) {
            json.field("capacity_bytes", r.device_capacity->count());
            json.field("fits", r.total() <= *r.device_capacity);
        }
        json.end_object();
    }
    json.end_array();
    json.end_object();
    return json.str() + "\n";
}

inline std::string render_transformers_text(const detail::hf_estimate& e, const transformers_options& o) {
    std::string out;
    auto line = std::back_inserter(out);
    fmt::format_to(line, "model     {} ({}, {}, {} layers)\n", e.source, e.config.model_type.view(),
                   e.config.architecture.empty() ? std::string_view{"?"} : e.config.architecture.view(), e.config.num_hidden_layers);
    if (e.checkpoint) {
        std::string by_dtype;
        for (const auto& [name, amount] : e.checkpoint->bytes_by_dtype) by_dtype += fmt::format("{}{} {}", by_dtype.empty() ? "" : ", ", name, format_mib(bytes{amount}));
        fmt::format_to(line, "files     {} safetensors file(s), {} tensors, {} ({})\n", e.checkpoint->files, e.checkpoint->tensors,
                       format_mib(e.checkpoint->tensor_bytes), by_dtype);
    }
    fmt::format_to(line, "engine    transformers 5.24.0 + accelerate 1.15.0: from_pretrained(dtype={}, device_map=\"{}\"{})\n",
                   torch_dtype_name(e.type), transformers::to_string(o.strategy),
                   o.quant == transformers::quantization::bnb_8bit   ? ", load_in_8bit"
                   : o.quant == transformers::quantization::bnb_4bit ? ", load_in_4bit"
                                                                     : "");
    fmt::format_to(line, "generate  batch {}, {} prompt tokens + {} new, attn_implementation={}\n\n", o.batch, o.prompt, o.new_tokens,
                   o.attn == transformers::attn_implementation::sdpa ? "sdpa" : "eager");
    constexpr std::string_view row = "{:<6} {:>6} {:>13} {:>12} {:>12} {:>12} {:>12} {:>13} {:>13}\n";
    fmt::format_to(line, row, "device", "layers", "weights", "KV", "activations", "staging", "CUDA", "total", "max_memory");
    for (const auto& r : e.rows) {
        fmt::format_to(line, row, r.name, r.layers, format_mib(r.weights), format_mib(r.kv),
                       r.activations ? format_mib(*r.activations) : std::string{"?"}, format_mib(r.staging), format_mib(r.context),
                       format_mib(r.total()), r.capacity ? format_mib(*r.capacity) : std::string{"-"});
    }
    out += "\nweights: the device_map's modules (compute_module_sizes); KV: generate()'s DynamicCache after the last token;\n"
           "activations: the larger of the prefill and decode peaks above weights; staging: the largest offloaded layer,\n"
           "copied to the first GPU for its forward (accelerate's AlignDevicesHook); CUDA: driver reserve and context (--gpu).\n";
    if (!e.activations_modelled) out += "activation peaks are not modelled for this architecture yet (\"?\"): the totals leave them out.\n";
    if (e.map.refused) out += "from_pretrained refuses this map: bitsandbytes places no module on cpu or disk without llm_int8_enable_fp32_cpu_offload.\n";
    for (const auto& r : e.rows) {
        if (r.name == "cpu" || r.name == "disk") continue;
        if (r.device_capacity && r.total() > *r.device_capacity) {
            fmt::format_to(line, "GPU {} needs {} while generating but has {}: out of memory (accelerate places weights only).\n", r.name,
                           format_mib(r.total()), format_mib(*r.device_capacity));
        } else if (!r.device_capacity && r.capacity && r.total() > *r.capacity) {
            fmt::format_to(line, "GPU {} takes {} while generating, more than its max_memory of {}: accelerate places weights only.\n",
                           r.name, format_mib(r.total()), format_mib(*r.capacity));
        }
    }
    return out;
}

} // namespace vramfit::cli
