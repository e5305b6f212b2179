// tools/gpus_command.hpp — `vramfit gpus [--json]`: the built-in GPU catalog.
#pragma once

#include <iterator>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "vramfit/catalog/gpus.hpp"

namespace vramfit::cli {

namespace gpu_listing {

// "3.0 x16"
inline std::string pcie_text(const catalog::gpu_spec& gpu) {
    return fmt::format("{}.0 x{}", gpu.pcie_gen, gpu.pcie_lanes);
}

// A throughput or bandwidth, or "-" where the part has none.
inline std::string rate_text(double value) {
    if (value <= 0) return "-";
    return fmt::format("{:.6g}", value);
}

} // namespace gpu_listing

// One line per catalog GPU, then what the columns mean.
inline std::string render_gpu_table() {
    std::string out;
    auto line = std::back_inserter(out);
    fmt::format_to(line, "{:<17} {:<31} {:>10} {:>4} {:>5} {:>4} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7}\n", "id", "name", "memory", "GB", "CC",
                   "SMs", "GB/s", "FP32 TF", "FP16 TF", "BF16 TF", "PCIe", "NVLink");
    for (const auto& gpu : catalog::gpus) {
        fmt::format_to(line, "{:<17} {:<31} {:>10} {:>4} {:>5} {:>4} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7}\n", gpu.id, gpu.name,
                       fmt::format("{:.0f} MiB", gpu.memory.mib()), gpu.datasheet_gb, fmt::format("{}.{}", gpu.cc_major, gpu.cc_minor),
                       gpu.sm_count, gpu_listing::rate_text(gpu.bandwidth_gb_s), gpu_listing::rate_text(gpu.fp32_tflops),
                       gpu_listing::rate_text(gpu.fp16_tflops), gpu_listing::rate_text(gpu.bf16_tflops), gpu_listing::pcie_text(gpu),
                       gpu_listing::rate_text(gpu.nvlink_gb_s));
    }
    out += "\nPer CUDA device (a Tesla K80 board holds two). memory: the total nvidia-smi reports in the\n"
           "default ECC mode (CUDA itself reports a few hundred MiB less); GB: the datasheet capacity.\n"
           "FP16/BF16: dense tensor-core TFLOPS with FP32 accumulate. NVLink: GB/s per GPU, both directions.\n"
           "Use --gpu ID, or --gpu IDxN for N of them (N up to ";
    out += std::to_string(catalog::max_cuda_devices);
    out += "); repeat --gpu to mix models.\n";
    return out;
}

namespace gpu_listing {

// A JSON string literal (catalog text is plain ASCII; quotes and control characters escaped anyway).
inline std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
            out += c;
        }
    }
    return out + "\"";
}

inline std::string json_number(double value) {
    return fmt::format("{:.6g}", value);
}

} // namespace gpu_listing

// The same catalog, every field, with the sources each figure was read from.
inline std::string render_gpu_json() {
    std::string out = "{\"max_cuda_devices\":" + std::to_string(catalog::max_cuda_devices) + ",\"gpus\":[";
    bool first = true;
    for (const auto& gpu : catalog::gpus) {
        const auto field = [&out](std::string_view key, const std::string& value) {
            if (out.back() != '{') out += ',';
            out += gpu_listing::json_string(key);
            out += ':';
            out += value;
        };
        out += first ? "{" : ",{";
        first = false;
        field("id", gpu_listing::json_string(gpu.id));
        field("name", gpu_listing::json_string(gpu.name));
        field("vendor", gpu_listing::json_string(gpu.vendor));
        field("architecture", gpu_listing::json_string(gpu.architecture));
        field("memory_bytes", std::to_string(gpu.memory.count()));
        field("memory_mib", std::to_string(gpu.memory.count() / 1048576U));
        field("datasheet_gb", std::to_string(gpu.datasheet_gb));
        field("memory_type", gpu_listing::json_string(gpu.memory_type));
        field("ecc", gpu_listing::json_string(catalog::to_string(gpu.ecc)));
        field("compute_capability", gpu_listing::json_string(fmt::format("{}.{}", gpu.cc_major, gpu.cc_minor)));
        field("sm_count", std::to_string(gpu.sm_count));
        field("bandwidth_gb_s", gpu_listing::json_number(gpu.bandwidth_gb_s));
        field("fp32_tflops", gpu_listing::json_number(gpu.fp32_tflops));
        field("fp16_tflops", gpu_listing::json_number(gpu.fp16_tflops));
        field("bf16_tflops", gpu_listing::json_number(gpu.bf16_tflops));
        field("pcie_gen", std::to_string(gpu.pcie_gen));
        field("pcie_lanes", std::to_string(gpu.pcie_lanes));
        field("nvlink_gb_s", gpu_listing::json_number(gpu.nvlink_gb_s));
        field("dies_per_board", std::to_string(gpu.dies_per_board));
        field("source", gpu_listing::json_string(gpu.source));
        field("memory_source", gpu_listing::json_string(gpu.memory_source));
        out += '}';
    }
    return out + "]}\n";
}

} // namespace vramfit::cli
