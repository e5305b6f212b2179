// Reading tests/data/hf/*.tsv (see tests/data/hf/README-oracle.md) and building the module tree
// of an oracle row.
#pragma once

#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oracle_configs.hpp"
#include "vramfit/engines/transformers/device_map.hpp"

namespace oracle {

using table = std::vector<std::map<std::string, std::string>>;

inline std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        auto at = s.find(sep, start);
        out.emplace_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
        if (at == std::string_view::npos) break;
        start = at + 1;
    }
    return out;
}

inline table read_tsv(const std::string& path) {
    std::ifstream in(path);
    table rows;
    std::string line;
    if (!std::getline(in, line)) return rows;
    const auto header = split(line, '\t');
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto cells = split(line, '\t');
        std::map<std::string, std::string> row;
        for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) row[header[i]] = cells[i];
        rows.push_back(std::move(row));
    }
    return rows;
}

inline std::string data_path(std::string_view name) { return std::string(VRAMFIT_TEST_DATA) + "/hf/" + std::string(name); }

inline vramfit::transformers::device_id parse_device(std::string_view s) {
    using vramfit::transformers::device_id;
    if (s == "cpu") return device_id::cpu();
    if (s == "disk") return device_id::disk();
    unsigned v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return device_id::gpu(v);
}

// "0=35GB;cpu=120GB" -> (device, text) pairs.
inline std::vector<std::pair<vramfit::transformers::device_id, std::string>> parse_pairs(std::string_view s) {
    std::vector<std::pair<vramfit::transformers::device_id, std::string>> out;
    if (s.empty() || s == "-") return out;
    for (const auto& part : split(s, ';')) {
        auto eq = part.find('=');
        out.emplace_back(parse_device(std::string_view(part).substr(0, eq)), part.substr(eq + 1));
    }
    return out;
}

inline double to_double(std::string_view s) {
    double v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}
inline std::uint64_t to_u64(std::string_view s) {
    std::uint64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

// The run-length form "model.layers.{3..16}=0" expanded; "(root)" is the key "".
inline std::vector<std::pair<std::string, std::string>> expand_map(std::string_view s) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& part : split(s, ' ')) {
        auto eq = part.rfind('=');
        std::string key = part.substr(0, eq), dev = part.substr(eq + 1);
        auto brace = key.find('{');
        if (brace != std::string::npos) {
            auto dots = key.find("..", brace);
            auto close = key.find('}', dots);
            const auto from = to_u64(std::string_view(key).substr(brace + 1, dots - brace - 1));
            const auto to = to_u64(std::string_view(key).substr(dots + 2, close - dots - 2));
            for (auto i = from; i <= to; ++i) out.emplace_back(key.substr(0, brace) + std::to_string(i), dev);
        } else {
            out.emplace_back(key == "(root)" ? std::string{} : key, dev);
        }
    }
    return out;
}

inline std::optional<vramfit::dtype> parse_dtype(std::string_view s) {
    if (s == "bfloat16") return vramfit::dtype::bf16;
    if (s == "float16") return vramfit::dtype::f16;
    if (s == "float32") return vramfit::dtype::f32;
    return std::nullopt;
}

inline std::optional<vramfit::transformers::load_options> parse_load(std::string_view dtype, std::string_view quant) {
    using vramfit::transformers::quantization;
    auto dt = parse_dtype(dtype);
    if (!dt) return std::nullopt;
    vramfit::transformers::load_options load{*dt, quantization::none, false};
    if (quant == "none") {}
    else if (quant == "bnb-8bit") load.quant = quantization::bnb_8bit;
    else if (quant == "bnb-4bit") load.quant = quantization::bnb_4bit;
    else if (quant == "bnb-8bit+fp32-cpu-offload") { load.quant = quantization::bnb_8bit; load.fp32_cpu_offload = true; }
    else if (quant == "mxfp4") load.quant = quantization::mxfp4;
    else if (quant == "mxfp4-dequantized(no kernels)") load.quant = quantization::mxfp4_dequantized;
    else return std::nullopt;
    return load;
}

inline vramfit::result<vramfit::transformers::module_tree> tree_for(std::string_view model, std::string_view dtype,
                                                                    std::string_view quant) {
    auto config = config_for(model);
    auto load = parse_load(dtype, quant);
    if (!config || !load) return vramfit::error{vramfit::errc::unknown_name, "no config for "}.with(model);
    return vramfit::transformers::build_module_tree(*config, *load);
}

} // namespace oracle
