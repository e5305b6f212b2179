// Reads tests/data/validation_logs.csv (real llama.cpp load logs, see tests/data/README.md) and the
// "DEVICE=MiB;DEVICE=MiB+MiB" buffer lists its rows hold.
#pragma once

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "vramfit/engines/llama_cpp/context_params.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::test {

using csv_row = std::map<std::string, std::string>;

inline std::vector<std::string> split_csv_line(const std::string& line) {
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') { field += '"'; ++i; }
            else if (c == '"') quoted = false;
            else field += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.push_back(field);
            field.clear();
        } else {
            field += c;
        }
    }
    fields.push_back(field);
    return fields;
}

// The row with this id, or nothing.
inline std::optional<csv_row> validation_row(const std::string& id) {
    std::ifstream in(std::string(VRAMFIT_TEST_DATA) + "/validation_logs.csv");
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    const auto header = split_csv_line(line);
    while (std::getline(in, line)) {
        const auto fields = split_csv_line(line);
        if (fields.empty() || fields[0] != id) continue;
        csv_row row;
        for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) row[header[i]] = fields[i];
        return row;
    }
    return std::nullopt;
}

// "CUDA0=15191.95;CPU_Mapped=1.00+2.00" -> {"CUDA0": [15191.95], "CPU_Mapped": [1.00, 2.00]}.
inline std::map<std::string, std::vector<double>> buffer_list(const std::string& text) {
    std::map<std::string, std::vector<double>> out;
    std::stringstream items(text);
    std::string item;
    while (std::getline(items, item, ';')) {
        const auto eq = item.find('=');
        if (eq == std::string::npos) continue;
        std::stringstream values(item.substr(eq + 1));
        std::string value;
        while (std::getline(values, value, '+')) out[item.substr(0, eq)].push_back(std::stod(value));
    }
    return out;
}

// The context a row's engine resolved: its printed n_ctx, batch sizes, flash attention and cache
// types (every row's context is one stream of n_ctx cells).
inline llama_cpp::resolved_context context_of(const csv_row& row, bool use_mmap) {
    llama_cpp::resolved_context ctx{};
    ctx.n_ctx = ctx.n_ctx_seq = ctx.kv_cells = static_cast<std::uint32_t>(std::stoul(row.at("n_ctx")));
    ctx.n_ubatch = static_cast<std::uint32_t>(std::stoul(row.at("n_ubatch")));
    ctx.n_batch = static_cast<std::uint32_t>(std::stoul(row.at("n_batch")));
    ctx.flash_attn = row.at("flash_attn") == "1";
    ctx.type_k = *ggml_type_from_name(row.at("type_k"));
    ctx.type_v = *ggml_type_from_name(row.at("type_v"));
    ctx.use_mmap = use_mmap;
    return ctx;
}

// What the engine prints for a size: MiB with two decimals.
inline double printed_mib(std::uint64_t count) {
    return static_cast<double>(static_cast<long long>(static_cast<double>(count) / 1048576.0 * 100.0 + 0.5)) / 100.0;
}

} // namespace vramfit::test
