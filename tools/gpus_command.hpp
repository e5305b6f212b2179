// tools/gpus_command.hpp — `vramfit gpus [--json]`: the built-in GPU catalog.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "vramfit/catalog/gpus.hpp"

namespace vramfit::cli {

namespace gpu_listing {

// "3.0 x16"
inline std::string pcie_text(const catalog::gpu_spec& gpu) {
    char text[24];
    std::snprintf(text, sizeof text, "%d.0 x%d", gpu.pcie_gen, gpu.pcie_lanes);
    return text;
}

// A throughput or bandwidth, or "-" where the part has none.
inline std::string rate_text(double value) {
    if (value <= 0) return "-";
    char text[24];
    std::snprintf(text, sizeof text, "%.6g", value);
    return text;
}

} // namespace gpu_listing

// One line per catalog GPU, then what the columns mean.
inline std::string render_gpu_table() {
    std::string out;
    char line[320];
    std::snprintf(line, sizeof line, "%-17s %-31s %10s %4s %5s %4s %6s %8s %8s %8s %8s %7s\n", "id", "name",
                  "memory", "GB", "CC", "SMs", "GB/s", "FP32 TF", "FP16 TF", "BF16 TF", "PCIe", "NVLink");
    out += line;
    for (const auto& gpu : catalog::gpus) {
        char memory[24];
        std::snprintf(memory, sizeof memory, "%.0f MiB", gpu.memory.mib());
        char capability[16];
        std::snprintf(capability, sizeof capability, "%d.%d", gpu.cc_major, gpu.cc_minor);
        std::snprintf(line, sizeof line, "%-17s %-31s %10s %4u %5s %4d %6s %8s %8s %8s %8s %7s\n",
                      std::string{gpu.id}.c_str(), std::string{gpu.name}.c_str(), memory, gpu.datasheet_gb,
                      capability, gpu.sm_count, gpu_listing::rate_text(gpu.bandwidth_gb_s).c_str(),
                      gpu_listing::rate_text(gpu.fp32_tflops).c_str(), gpu_listing::rate_text(gpu.fp16_tflops).c_str(),
                      gpu_listing::rate_text(gpu.bf16_tflops).c_str(), gpu_listing::pcie_text(gpu).c_str(),
                      gpu_listing::rate_text(gpu.nvlink_gb_s).c_str());
        out += line;
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
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
            out += escaped;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

inline std::string json_number(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", value);
    return text;
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
        char capability[16];
        std::snprintf(capability, sizeof capability, "%d.%d", gpu.cc_major, gpu.cc_minor);
        field("id", gpu_listing::json_string(gpu.id));
        field("name", gpu_listing::json_string(gpu.name));
        field("vendor", gpu_listing::json_string(gpu.vendor));
        field("architecture", gpu_listing::json_string(gpu.architecture));
        field("memory_bytes", std::to_string(gpu.memory.count()));
        field("memory_mib", std::to_string(gpu.memory.count() / 1048576U));
        field("datasheet_gb", std::to_string(gpu.datasheet_gb));
        field("memory_type", gpu_listing::json_string(gpu.memory_type));
        field("ecc", gpu_listing::json_string(catalog::to_string(gpu.ecc)));
        field("compute_capability", gpu_listing::json_string(capability));
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
