// tools/estimate_command.hpp — `vramfit estimate`: the engine's buffers for one model and context.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "arguments.hpp"
#include "json_writer.hpp"
#include "vramfit/core/format.hpp"
#include "vramfit/vramfit.hpp"

namespace vramfit::cli {

// llama.cpp commit whose allocation code the engine model mirrors.
inline constexpr std::string_view llama_cpp_commit = "1425386fd996511e1f3295e7366c38289a92a271";

inline std::string_view kind_name(llama_cpp::buffer_kind kind) { return llama_cpp::to_string(kind); }

// A path to a file (or anything that looks like one) is read as GGUF; anything else is a
// catalog name.
inline result<model_description> load_model(const std::string& name) {
    std::error_code ec;
    const bool looks_like_file = name.find('/') != std::string::npos || name.ends_with(".gguf");
    if (looks_like_file || std::filesystem::exists(name, ec)) return load_model_description(name);
    return llama_cpp::describe(name);
}

inline std::string describe_params(std::uint64_t parameters) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f B", static_cast<double>(parameters) / 1e9);
    return text;
}

// What the engine's own log line says about a buffer: K and V of a cache, cells and layers.
inline std::string buffer_detail(const llama_cpp::buffer& b, const llama_cpp::memory_estimate& estimate) {
    const llama_cpp::kv_cache_size* cache = nullptr;
    if (b.kind == llama_cpp::buffer_kind::kv) cache = &estimate.kv.full;
    if (b.kind == llama_cpp::buffer_kind::kv_swa) cache = &estimate.kv.swa;
    char text[160];
    if (cache != nullptr) {
        std::snprintf(text, sizeof text, "  K %s + V %s; %u cells x %u stream%s, %u layers", format_mib(cache->k).c_str(),
                      format_mib(cache->v).c_str(), cache->cells, cache->streams, cache->streams == 1 ? "" : "s",
                      cache->layers);
        return text;
    }
    if (b.kind == llama_cpp::buffer_kind::recurrent) {
        std::snprintf(text, sizeof text, "  R %s + S %s; %u cells, %u layers", format_mib(estimate.recurrent.r).c_str(),
                      format_mib(estimate.recurrent.s).c_str(), estimate.recurrent.cells, estimate.recurrent.layers);
        return text;
    }
    if (b.kind == llama_cpp::buffer_kind::model && b.buffer_type == "CPU_Mapped" && estimate.weights.mapped.size() > 1) {
        std::snprintf(text, sizeof text, "  split file %u", static_cast<unsigned>(b.part) + 1);
        return text;
    }
    return {};
}

// Per CUDA device: each buffer, the total, the GPU's capacity, the margin and the verdict.
inline std::string render_devices_table(const fit_report& report) {
    std::string out;
    char line[256];
    out += "\nCUDA placement (llama.cpp load_tensors / llama_kv_cache; compute: ggml_backend_sched and ggml_gallocr\n"
           "replayed per device; overhead: driver reserve + CUDA context + cuBLAS/pools, an estimate whose range\n"
           "is listed below; reserve: --reserve)\n";
    std::snprintf(line, sizeof line, "%-7s %-14s %6s %12s %12s %12s %10s %10s %12s %12s %12s  %s\n", "device", "gpu", "layers", "model",
                  "kv", "compute", "overhead", "reserve", "total", "capacity", "margin", "verdict");
    out += line;
    for (const auto& d : report.devices) {
        char layers[16];
        std::snprintf(layers, sizeof layers, "%u%s", d.layers, d.output_layer ? "+out" : "");
        std::string margin = d.fits() ? format_mib(d.margin()) : "-" + format_mib(d.over());
        std::string verdict = d.fits() ? "FITS" : "DOES NOT FIT (over by " + format_mib(d.over()) + "; largest buffer: " +
                                                      std::string{to_string(d.largest())} + ")";
        if (d.fits() && !d.fits_at_high_overhead()) verdict += " (not at the overhead's high bound)";
        std::snprintf(line, sizeof line, "%-7s %-14s %6s %12s %12s %12s %10s %10s %12s %12s %12s  %s\n", std::string{d.name}.c_str(),
                      std::string{d.device_id.view()}.c_str(), layers, format_mib(d.model).c_str(), format_mib(d.kv).c_str(),
                      format_mib(d.compute).c_str(), format_mib(d.overhead).c_str(), format_mib(d.reserve).c_str(),
                      format_mib(d.total()).c_str(), format_mib(d.capacity).c_str(), margin.c_str(), verdict.c_str());
        out += line;
    }
    for (const auto& d : report.devices) {
        if (d.overhead_high == bytes{}) continue;
        std::snprintf(line, sizeof line, "overhead %-6s %s, range %s .. %s (cuda/runtime_overhead.hpp: measured figures per GPU generation)\n",
                      std::string{d.name}.c_str(), format_mib(d.overhead).c_str(), format_mib(d.overhead_low).c_str(),
                      format_mib(d.overhead_high).c_str());
        out += line;
    }
    const auto& host = report.placement;
    std::snprintf(line, sizeof line, "host    model %s (CPU_Mapped %s, CPU %s, CUDA_Host %s), KV %s, compute %s (CUDA_Host)",
                  format_mib(host.host_model()).c_str(), format_mib(host.mapped_total()).c_str(), format_mib(host.cpu).c_str(),
                  format_mib(host.cuda_host).c_str(), format_mib(host.cpu_kv).c_str(), format_mib(report.host_compute).c_str());
    out += line;
    if (report.blas) {
        std::snprintf(line, sizeof line, " + %s (CPU, BLAS backend)", format_mib(report.blas_compute).c_str());
        out += line;
    }
    out += "\n";
    out += report.fits() ? "verdict FITS\n" : "verdict DOES NOT FIT\n";
    return out;
}

inline void write_devices_json(json_writer& json, const fit_report& report) {
    json.key("devices").begin_array();
    for (const auto& d : report.devices) {
        json.begin_object()
            .field("name", d.name)
            .field("gpu", d.device_id.view())
            .field("layers", d.layers)
            .field("output_layer", d.output_layer)
            .field("model_bytes", d.model.count())
            .field("kv_bytes", d.kv.count())
            .field("compute_bytes", d.compute.count())
            .field("overhead_bytes", d.overhead.count())
            .field("overhead_low_bytes", d.overhead_low.count())
            .field("overhead_high_bytes", d.overhead_high.count())
            .field("reserve_bytes", d.reserve.count())
            .field("capacity_bytes", d.capacity.count())
            .field("total_bytes", d.total().count())
            .field("fits", d.fits());
        if (!d.fits()) json.field("over_bytes", d.over().count()).field("largest_buffer", to_string(d.largest()));
        json.end_object();
    }
    json.end_array();
    json.key("host").begin_object()
        .field("cpu_mapped_bytes", report.placement.mapped_total().count())
        .field("cpu_bytes", report.placement.cpu.count())
        .field("cuda_host_bytes", report.placement.cuda_host.count())
        .field("kv_bytes", report.placement.cpu_kv.count())
        .field("compute_bytes", report.host_compute.count())
        .field("blas_compute_bytes", report.blas_compute.count())
        .end_object();
    json.field("fits", report.fits()).field("compute_modelled", report.compute_modelled)
        .field("graph_splits", static_cast<std::uint64_t>(report.graph_splits))
        .field("pipeline_copies", static_cast<std::uint64_t>(report.n_copies));
}

inline std::string render_table(const model_description& model, const llama_cpp::memory_estimate& estimate) {
    const auto& ctx = estimate.context;
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "model     %s (%s, %s parameters, %s of weights)\n",
                  std::string{model.name.view()}.c_str(), std::string{architecture_name(model.hparams.arch)}.c_str(),
                  describe_params(model.parameter_count()).c_str(), format_bytes(model.weight_bytes()).c_str());
    out += line;
    std::snprintf(line, sizeof line,
                  "context   n_ctx %u (%u stream%s x %u cells), n_batch %u, n_ubatch %u, flash attention %s, K %s, V %s\n",
                  ctx.n_ctx, ctx.n_stream, ctx.n_stream == 1 ? "" : "s", ctx.n_ctx_seq, ctx.n_batch, ctx.n_ubatch,
                  ctx.flash_attn ? "on" : "off", std::string{type_name(ctx.type_k)}.c_str(),
                  std::string{type_name(ctx.type_v)}.c_str());
    out += line;
    out += "engine    llama.cpp ";
    out += llama_cpp_commit.substr(0, 8);
    out += ", CPU backend\n\n";
    std::snprintf(line, sizeof line, "%-8s %-10s %-12s %14s\n", "device", "kind", "buffer type", "size");
    out += line;
    for (const auto& b : estimate.buffers) {
        std::snprintf(line, sizeof line, "%-8s %-10s %-12s %14s", std::string{b.device}.c_str(),
                      std::string{kind_name(b.kind)}.c_str(), std::string{b.buffer_type}.c_str(),
                      format_mib(b.size).c_str());
        out += line;
        out += buffer_detail(b, estimate);
        out += '\n';
    }
    std::snprintf(line, sizeof line, "%-32s %14s  (%s)\n", "total", format_mib(estimate.total()).c_str(),
                  format_bytes(estimate.total()).c_str());
    out += line;
    return out;
}

inline std::string render_json(const model_description& model, const llama_cpp::memory_estimate& estimate,
                               const fit_report* devices = nullptr) {
    const auto& ctx = estimate.context;
    json_writer json;
    json.begin_object()
        .field("engine", "llama.cpp")
        .field("engine_commit", llama_cpp_commit)
        .field("backend", "CPU");
    json.key("model").begin_object()
        .field("name", model.name.view())
        .field("architecture", architecture_name(model.hparams.arch))
        .field("n_layer", model.hparams.n_layer)
        .field("n_embd", model.hparams.n_embd)
        .field("n_vocab", model.hparams.n_vocab)
        .field("n_ctx_train", model.hparams.n_ctx_train)
        .field("parameters", model.parameter_count())
        .field("weight_bytes", model.weight_bytes().count())
        .field("tensors", static_cast<std::uint64_t>(model.tensors.size()))
        .end_object();
    json.field("n_ctx", ctx.n_ctx)
        .field("n_ctx_seq", ctx.n_ctx_seq)
        .field("n_batch", ctx.n_batch)
        .field("n_ubatch", ctx.n_ubatch)
        .field("n_seq", ctx.n_seq)
        .field("kv_unified", ctx.kv_unified)
        .field("flash_attn", ctx.flash_attn)
        .field("type_k", type_name(ctx.type_k))
        .field("type_v", type_name(ctx.type_v))
        .field("kv_cells", ctx.kv_cells)
        .field("kv_swa_cells", ctx.kv_swa_cells);
    json.key("buffers").begin_array();
    for (const auto& b : estimate.buffers) {
        json.begin_object()
            .field("device", b.device)
            .field("kind", kind_name(b.kind))
            .field("buffer_type", b.buffer_type)
            .field("bytes", b.size.count());
        const llama_cpp::kv_cache_size* cache = b.kind == llama_cpp::buffer_kind::kv       ? &estimate.kv.full
                                                : b.kind == llama_cpp::buffer_kind::kv_swa ? &estimate.kv.swa
                                                                                          : nullptr;
        if (cache != nullptr) {
            json.field("k_bytes", cache->k.count())
                .field("v_bytes", cache->v.count())
                .field("cells", cache->cells)
                .field("streams", cache->streams)
                .field("layers", cache->layers);
        }
        if (b.kind == llama_cpp::buffer_kind::model && b.buffer_type == "CPU_Mapped") json.field("file", static_cast<std::uint32_t>(b.part));
        json.end_object();
    }
    json.end_array();
    json.field("total_bytes", estimate.total().count());
    if (devices != nullptr) write_devices_json(json, *devices);
    json.end_object();
    return json.str() + "\n";
}

// Returns the process exit status: 0, or 2 for any error (already reported on `err`).
inline int run_estimate(std::span<const std::string_view> args, std::string& out, std::string& err) {
    auto options = parse_estimate_args(args);
    if (!options) {
        err += "vramfit estimate: " + options.err().describe() + "\n";
        return 2;
    }
    auto model = load_model(options->model);
    if (!model) {
        err += "vramfit estimate: " + options->model + ": " + model.err().describe() + "\n";
        return 2;
    }
    auto estimate = llama_cpp::estimate(*model, options->params);
    if (!estimate) {
        err += "vramfit estimate: " + estimate.err().describe() + "\n";
        return 2;
    }
    if (options->gpus.empty()) {
        out += options->json ? render_json(*model, *estimate) : render_table(*model, *estimate);
        return 0;
    }
    std::vector<catalog::gpu_spec> gpus;
    for (const auto* gpu : options->gpus) gpus.push_back(*gpu);
    fit_params fit{};
    fit.context = options->params;
    fit.offload = options->offload;
    fit.reserve_per_device = options->reserve_per_device;
    auto report = check_fit(*model, gpus, fit);
    if (!report) {
        err += "vramfit estimate: " + report.err().describe() + "\n";
        return 2;
    }
    out += options->json ? render_json(*model, *estimate, &*report) : render_table(*model, *estimate) + render_devices_table(*report);
    return 0;
}

} // namespace vramfit::cli
