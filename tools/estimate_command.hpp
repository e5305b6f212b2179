// tools/estimate_command.hpp — `vramfit estimate`: the engine's buffers for one model and context.
#pragma once

#include <filesystem>
#include <iterator>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "arguments.hpp"
#include "json_writer.hpp"
#include "vramfit/vramfit.hpp"

namespace vramfit::cli {

// llama.cpp commit whose allocation code the engine model mirrors.

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
    return fmt::format("{:.2f} B", static_cast<double>(parameters) / 1e9);
}

// What the engine's own log line says about a buffer: K and V of a cache, cells and layers.
inline std::string buffer_detail(const llama_cpp::buffer& b, const llama_cpp::memory_estimate& estimate) {
    const llama_cpp::kv_cache_size* cache = nullptr;
    if (b.kind == llama_cpp::buffer_kind::kv) cache = &estimate.kv.full;
    if (b.kind == llama_cpp::buffer_kind::kv_swa) cache = &estimate.kv.swa;
    if (cache != nullptr) {
        return fmt::format("  K {} + V {}; {} cells x {} stream{}, {} layers", format_mib(cache->k), format_mib(cache->v), cache->cells,
                           cache->streams, cache->streams == 1 ? "" : "s", cache->layers);
    }
    if (b.kind == llama_cpp::buffer_kind::recurrent) {
        return fmt::format("  R {} + S {}; {} cells, {} layers", format_mib(estimate.recurrent.r), format_mib(estimate.recurrent.s),
                           estimate.recurrent.cells, estimate.recurrent.layers);
    }
    if (b.kind == llama_cpp::buffer_kind::model && b.buffer_type == "CPU_Mapped" && estimate.weights.mapped.size() > 1) {
        return fmt::format("  split file {}", static_cast<unsigned>(b.part) + 1);
    }
    return {};
}

// Per CUDA device: each buffer, the total, the GPU's capacity, the margin and the verdict.
inline std::string render_devices_table(const fit_report& report) {
    std::string out;
    auto line = std::back_inserter(out);
    out += "\nCUDA placement (llama.cpp load_tensors / llama_kv_cache; compute: ggml_backend_sched and ggml_gallocr\n"
           "replayed per device; overhead: driver reserve + CUDA context + cuBLAS/pools, an estimate whose range\n"
           "is listed below; reserve: --reserve)\n";
    constexpr std::string_view row = "{:<7} {:<14} {:>6} {:>12} {:>12} {:>12} {:>10} {:>10} {:>12} {:>12} {:>12}  {}\n";
    fmt::format_to(line, row, "device", "gpu", "layers", "model", "kv", "compute", "overhead", "reserve", "total", "capacity", "margin",
                   "verdict");
    for (const auto& d : report.devices) {
        const std::string layers = fmt::format("{}{}", d.layers, d.output_layer ? "+out" : "");
        const std::string margin = d.fits() ? format_mib(d.margin()) : "-" + format_mib(d.over());
        std::string verdict = d.fits() ? "FITS" : "DOES NOT FIT (over by " + format_mib(d.over()) + "; largest buffer: " +
                                                      std::string{to_string(d.largest())} + ")";
        if (d.fits() && !d.fits_at_high_overhead()) verdict += " (not at the overhead's high bound)";
        fmt::format_to(line, row, d.name, d.device_id.view(), layers, format_mib(d.model), format_mib(d.kv), format_mib(d.compute), format_mib(d.overhead),
                       format_mib(d.reserve), format_mib(d.total()), format_mib(d.capacity), margin, verdict);
    }
    for (const auto& d : report.devices) {
        if (d.overhead_high == bytes{}) continue;
        fmt::format_to(line, "overhead {:<6} {}, range {} .. {} (cuda/runtime_overhead.hpp: measured figures per GPU generation)\n", d.name,
                       format_mib(d.overhead), format_mib(d.overhead_low), format_mib(d.overhead_high));
    }
    const auto& host = report.placement;
    fmt::format_to(line, "host    model {} (CPU_Mapped {}, CPU {}, CUDA_Host {}), KV {}, compute {} (CUDA_Host)", format_mib(host.host_model()),
                   format_mib(host.mapped_total()), format_mib(host.cpu), format_mib(host.cuda_host), format_mib(host.cpu_kv),
                   format_mib(report.host_compute));
    if (report.blas) fmt::format_to(line, " + {} (CPU, BLAS backend)", format_mib(report.blas_compute));
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

// The model, its context and the engine: the first lines of either run's table.
inline std::string render_header(const model_description& model, const llama_cpp::memory_estimate& estimate, std::string_view backend) {
    const auto& ctx = estimate.context;
    std::string out;
    auto line = std::back_inserter(out);
    fmt::format_to(line, "model     {} ({}, {} parameters, {} of weights)\n", model.name.view(), architecture_name(model.hparams.arch),
                   describe_params(model.parameter_count()), format_bytes(model.weight_bytes()));
    fmt::format_to(line, "context   n_ctx {} ({} stream{} x {} cells), n_batch {}, n_ubatch {}, flash attention {}, K {}, V {}\n", ctx.n_ctx,
                   ctx.n_stream, ctx.n_stream == 1 ? "" : "s", ctx.n_ctx_seq, ctx.n_batch, ctx.n_ubatch, ctx.flash_attn ? "on" : "off",
                   type_name(ctx.type_k), type_name(ctx.type_v));
    fmt::format_to(line, "engine    llama.cpp {}, {} backend\n", llama_cpp::engine_commit_short, backend);
    return out;
}

// The CPU backend's run: its header and every buffer.
inline std::string render_table(const model_description& model, const llama_cpp::memory_estimate& estimate) {
    std::string out = render_header(model, estimate, "CPU") + "\n";
    auto line = std::back_inserter(out);
    fmt::format_to(line, "{:<8} {:<10} {:<12} {:>14}\n", "device", "kind", "buffer type", "size");
    for (const auto& b : estimate.buffers) {
        fmt::format_to(line, "{:<8} {:<10} {:<12} {:>14}", b.device, kind_name(b.kind), b.buffer_type, format_mib(b.size));
        out += buffer_detail(b, estimate);
        out += '\n';
    }
    fmt::format_to(line, "{:<32} {:>14}  ({})\n", "total", format_mib(estimate.total()), format_bytes(estimate.total()));
    return out;
}

// The CUDA backend's run (--gpu): its header and the per-device table; the CPU backend's buffers
// (CPU_REPACK and the rest) belong to a run that was not asked for.
inline std::string render_cuda_table(const model_description& model, const llama_cpp::memory_estimate& estimate, const fit_report& report) {
    return render_header(model, estimate, "CUDA") + render_devices_table(report);
}

// One run as JSON: the CPU backend's buffers, or with `devices` (--gpu) the CUDA backend's
// per-device figures and host buffers instead.
inline std::string render_json(const model_description& model, const llama_cpp::memory_estimate& estimate,
                               const fit_report* devices = nullptr) {
    const auto& ctx = estimate.context;
    json_writer json;
    json.begin_object()
        .field("engine", "llama.cpp")
        .field("engine_commit", llama_cpp::engine_commit)
        .field("backend", devices != nullptr ? "CUDA" : "CPU");
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
    if (devices != nullptr) {
        write_devices_json(json, *devices);
        json.end_object();
        return json.str() + "\n";
    }
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
    json.end_object();
    return json.str() + "\n";
}

// check_fit on the GPUs of `options` (a device this machine reports is charged only the part of
// the CUDA overhead its figures do not already lack: core/cuda_overhead.hpp).
inline result<fit_report> fit_devices(const model_description& model, const estimate_options& options) {
    fit_params fit{};
    fit.context = options.params;
    fit.offload = options.offload;
    fit.reserve_per_device = options.reserve_per_device;
    return check_fit(model, std::span<const device>{options.gpus}, fit);
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
        err += "vramfit estimate: " + options->model + ": " + with_engine_hint(model.err().describe()) + "\n";
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
    auto report = fit_devices(*model, *options);
    if (!report) {
        err += "vramfit estimate: " + report.err().describe() + "\n";
        return 2;
    }
    out += options->json ? render_json(*model, *estimate, &*report) : render_cuda_table(*model, *estimate, *report);
    return 0;
}

} // namespace vramfit::cli
