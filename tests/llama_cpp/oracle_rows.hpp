// Reading tests/data/cpu_oracle.csv (the CPU oracle's measured runs) for the validation tests,
// and turning a row into context_params and expected buffer sizes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "vramfit/engines/llama_cpp/context_params.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::test {

struct oracle_row {
    std::map<std::string, std::string> field;

    [[nodiscard]] const std::string& operator[](const std::string& column) const {
        static const std::string empty;
        auto it = field.find(column);
        return it == field.end() ? empty : it->second;
    }
    [[nodiscard]] double number(const std::string& column) const {
        const auto& text = (*this)[column];
        return text.empty() ? 0.0 : std::stod(text);
    }
    [[nodiscard]] std::uint32_t u32(const std::string& column) const {
        return static_cast<std::uint32_t>(number(column));
    }
    // "CPU_Mapped=4653.80;CPU_REPACK=3204.00" → {CPU_Mapped: 4653.80, CPU_REPACK: 3204.00}
    [[nodiscard]] std::map<std::string, double> buffers(const std::string& column) const {
        std::map<std::string, double> out;
        std::stringstream parts((*this)[column]);
        std::string part;
        while (std::getline(parts, part, ';')) {
            const auto eq = part.find('=');
            if (eq != std::string::npos) out[part.substr(0, eq)] += std::stod(part.substr(eq + 1));
        }
        return out;
    }
};

// RFC 4180 enough for this file: quoted fields may hold commas and doubled quotes.
inline std::vector<std::string> split_csv_line(const std::string& line) {
    std::vector<std::string> fields;
    std::string current;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') { current += '"'; ++i; }
            else if (c == '"') quoted = false;
            else current += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.push_back(current);
            current.clear();
        } else if (c != '\r') {
            current += c;
        }
    }
    fields.push_back(current);
    return fields;
}

inline std::vector<oracle_row> read_oracle(const std::string& path) {
    std::ifstream in(path);
    std::vector<oracle_row> rows;
    std::string line;
    if (!std::getline(in, line)) return rows;
    const auto header = split_csv_line(line);
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const auto values = split_csv_line(line);
        oracle_row row;
        for (std::size_t i = 0; i < header.size() && i < values.size(); ++i) row.field[header[i]] = values[i];
        rows.push_back(std::move(row));
    }
    return rows;
}

// The run's settings. The oracle machine is an AVX-512 EPYC running a GGML_NATIVE build, so
// "repack on" means the AVX-512 rules, whatever machine runs the test.
inline llama_cpp::context_params params_of(const oracle_row& row) {
    llama_cpp::context_params p{};
    p.n_ctx = row.u32("n_ctx");
    p.n_batch = row.u32("n_batch");
    p.n_ubatch = row.u32("n_ubatch");
    p.n_seq = row.u32("n_seq");
    p.kv_unified = row["kv_unified"] == "1";
    p.flash_attn = row["flash_attn"] == "on" ? llama_cpp::flash_attention::on : llama_cpp::flash_attention::off;
    p.type_k = ggml_type_from_name(row["type_k"]).value_or(ggml_type::f16);
    p.type_v = ggml_type_from_name(row["type_v"]).value_or(ggml_type::f16);
    p.swa_full = row["extra_args"].find("--swa-full") != std::string::npos;
    p.use_mmap = row["mmap"] == "1";
    p.repack = row["repack"] == "1" ? llama_cpp::repack_mode::avx512 : llama_cpp::repack_mode::off;
    return p;
}

// Error statistics per (model, buffer kind), in MiB.
class accuracy_table {
public:
    void add(const std::string& model, const std::string& kind, double error_mib) {
        errors_[{model, kind}].push_back(std::fabs(error_mib));
    }
    [[nodiscard]] std::string render() const {
        std::ostringstream out;
        out << "| model | buffers | figures | within 0.005 MiB of the printed value | max error (MiB) | median error (MiB) |\n"
               "|---|---|---|---|---|---|\n";
        for (const auto& [key, values] : errors_) {
            auto sorted = values;
            std::sort(sorted.begin(), sorted.end());
            const double median = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                                    : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
            // "equal": the estimate, printed the way llama.cpp prints it (%.2f), reads the same
            const auto equal = std::count_if(sorted.begin(), sorted.end(), [](double e) { return e < 0.0051; });
            char line[256];
            std::snprintf(line, sizeof line, "| %s | %s | %zu | %td | %.4f | %.4f |\n", key.first.c_str(),
                          key.second.c_str(), sorted.size(), equal, sorted.back(), median);
            out << line;
        }
        return out.str();
    }

private:
    std::map<std::pair<std::string, std::string>, std::vector<double>> errors_;
};

} // namespace vramfit::test
