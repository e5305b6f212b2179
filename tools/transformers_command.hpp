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
#include "vramfit/engines/transformers/estimate.hpp"
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

// A model as the user named it, read once: its config, the safetensors headers beside it, and
// the dtype dtype="auto" falls back to.
struct hf_input {
    model_config config;
    std::string source;
    std::optional<safetensors::checkpoint_summary> checkpoint;  // the safetensors headers beside config.json
    std::optional<dtype> checkpoint_dtype;  // the checkpoint's first floating dtype (a catalog entry: its files')
};

inline result<hf_input> read_hf_input(const std::string& model) {
    hf_input in;
    const catalog::model_entry* entry = nullptr;
    auto config = load_hf_config(model, in.source, &entry);
    if (!config) return config.err();
    in.config = std::move(*config);
    if (const std::filesystem::path file{in.source}; file.filename() == "config.json") {
        auto checkpoint = read_checkpoint(file.parent_path());
        if (!checkpoint) return checkpoint.err();
        in.checkpoint = std::move(*checkpoint);
    }
    if (in.checkpoint) in.checkpoint_dtype = in.checkpoint->first_floating;
    if (entry != nullptr) in.checkpoint_dtype = entry->checkpoint_dtype;  // the published files' (catalog/models.hpp)
    return in;
}

inline transformers::generate_settings generate_settings_of(const transformers_options& o) {
    return {o.attn, o.batch, o.prompt, o.new_tokens};
}

struct hf_estimate {
    hf_input input;
    dtype type = dtype::bf16;
    transformers::generate_estimate memory;
};

inline result<hf_estimate> estimate_transformers(const transformers_options& options) {
    auto input = read_hf_input(options.model);
    if (!input) return input.err();
    auto model = transformers::load_model(input->config, options.torch_dtype, input->checkpoint_dtype, options.quant);
    if (!model) return model.err();
    auto memory = transformers::estimate_generate(*model, options.max_memory, options.strategy, generate_settings_of(options), options.gpus);
    if (!memory) return memory.err();
    if (options.one_unbounded_gpu) {
        for (auto& r : memory->rows) r.max_memory.reset();  // no budget was given
    }
    return hf_estimate{std::move(*input), model->type, std::move(*memory)};
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

inline std::string render_transformers_json(const detail::hf_input& in, dtype type, const transformers::generate_estimate& m) {
    json_writer json;
    json.begin_object();
    json.field("engine", "transformers");
    json.field("model", in.source);
    json.field("model_type", in.config.model_type.view());
    json.field("dtype", torch_dtype_name(type));
    if (in.checkpoint) {
        json.key("checkpoint").begin_object();
        json.field("files", static_cast<std::uint64_t>(in.checkpoint->files));
        json.field("tensors", static_cast<std::uint64_t>(in.checkpoint->tensors));
        json.field("tensor_bytes", in.checkpoint->tensor_bytes.count());
        json.end_object();
    }
    json.key("device_map").raw(detail::device_map_json(m.map));
    json.field("activations_modelled", m.activations_modelled);
    json.field("refused", m.map.refused);
    json.key("devices").begin_array();
    for (const auto& r : m.rows) {
        json.begin_object();
        json.field("name", transformers::to_string(r.device));
        json.field("layers", r.layers);
        json.field("weights_bytes", r.weights.count());
        json.field("kv_bytes", r.kv.count());
        if (r.activations) json.field("activation_peak_bytes", r.activations->count());
        else json.key("activation_peak_bytes").raw("null");
        json.field("offload_staging_bytes", r.staging.count());
        json.field("cuda_overhead_bytes", r.cuda_context.count());
        json.field("total_bytes", r.total().count());
        if (r.max_memory) json.field("max_memory_bytes", r.max_memory->count());
        if (r.capacity) {
            json.field("capacity_bytes", r.capacity->count());
            json.field("fits", !r.over_capacity());
        }
        json.end_object();
    }
    json.end_array();
    json.end_object();
    return json.str() + "\n";
}

inline std::string render_transformers_text(const detail::hf_input& in, dtype type, const transformers::generate_estimate& m,
                                            const transformers_options& o) {
    std::string out;
    auto line = std::back_inserter(out);
    fmt::format_to(line, "model     {} ({}, {}, {} layers)\n", in.source, in.config.model_type.view(),
                   in.config.architecture.empty() ? std::string_view{"?"} : in.config.architecture.view(), in.config.num_hidden_layers);
    if (in.checkpoint) {
        std::string by_dtype;
        for (const auto& [name, amount] : in.checkpoint->bytes_by_dtype) by_dtype += fmt::format("{}{} {}", by_dtype.empty() ? "" : ", ", name, format_mib(bytes{amount}));
        fmt::format_to(line, "files     {} safetensors file(s), {} tensors, {} ({})\n", in.checkpoint->files, in.checkpoint->tensors,
                       format_mib(in.checkpoint->tensor_bytes), by_dtype);
    }
    fmt::format_to(line, "engine    transformers 5.24.0 + accelerate 1.15.0: from_pretrained(dtype={}, device_map=\"{}\"{})\n",
                   torch_dtype_name(type), transformers::to_string(o.strategy),
                   o.quant == transformers::quantization::bnb_8bit   ? ", load_in_8bit"
                   : o.quant == transformers::quantization::bnb_4bit ? ", load_in_4bit"
                                                                     : "");
    fmt::format_to(line, "generate  batch {}, {} prompt tokens + {} new, attn_implementation={}\n\n", o.batch, o.prompt, o.new_tokens,
                   o.attn == transformers::attn_implementation::sdpa ? "sdpa" : "eager");
    constexpr std::string_view row = "{:<6} {:>6} {:>13} {:>12} {:>12} {:>12} {:>12} {:>13} {:>13}\n";
    fmt::format_to(line, row, "device", "layers", "weights", "KV", "activations", "staging", "CUDA", "total", "max_memory");
    for (const auto& r : m.rows) {
        fmt::format_to(line, row, transformers::to_string(r.device), r.layers, format_mib(r.weights), format_mib(r.kv),
                       r.activations ? format_mib(*r.activations) : std::string{"?"}, format_mib(r.staging), format_mib(r.cuda_context),
                       format_mib(r.total()), r.max_memory ? format_mib(*r.max_memory) : std::string{"-"});
    }
    out += "\nweights: the device_map's modules (compute_module_sizes); KV: generate()'s DynamicCache after the last token;\n"
           "activations: the larger of the prefill and decode peaks above weights; staging: the largest offloaded layer,\n"
           "copied to the first GPU for its forward (accelerate's AlignDevicesHook); CUDA: driver reserve and context (--gpu).\n";
    if (o.one_unbounded_gpu) out += "no --gpu or --max-memory: the whole model on one GPU; its total is what that GPU needs.\n";
    if (!m.activations_modelled) out += "activation peaks are not modelled for this architecture yet (\"?\"): the totals leave them out.\n";
    if (m.map.refused) out += "from_pretrained refuses this map: bitsandbytes places no module on cpu or disk without llm_int8_enable_fp32_cpu_offload.\n";
    for (const auto& r : m.rows) {
        if (!r.device.is_gpu()) continue;
        if (r.over_capacity()) {
            fmt::format_to(line, "GPU {} needs {} while generating but has {}: out of memory (accelerate places weights only).\n", r.device.index,
                           format_mib(r.total()), format_mib(*r.capacity));
        } else if (!r.capacity && r.max_memory && r.total() > *r.max_memory) {
            fmt::format_to(line, "GPU {} takes {} while generating, more than its max_memory of {}: accelerate places weights only.\n",
                           r.device.index, format_mib(r.total()), format_mib(*r.max_memory));
        }
    }
    return out;
}

} // namespace vramfit::cli
