// The validation rows of tests/data/vllm/startup_rows.tsv (README.md there), read into what the
// engine takes: the model's config (catalog, a config.json beside the rows, or the geometry the log
// row gives), the GPU, the engine arguments and the printed figures.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "vramfit/catalog/gpus.hpp"
#include "vramfit/catalog/models.hpp"
#include "vramfit/engines/vllm/estimate.hpp"
#include "vramfit/formats/hf/config.hpp"

namespace vllm_rows {

using namespace vramfit;

inline constexpr double gib = 1073741824.0;

struct row {
    std::map<std::string, std::string> f;

    [[nodiscard]] const std::string& at(const std::string& key) const {
        const auto it = f.find(key);
        REQUIRE_MESSAGE(it != f.end(), key);
        return it->second;
    }
    [[nodiscard]] bool has(const std::string& key) const { return at(key) != "-"; }
    [[nodiscard]] std::uint64_t count(const std::string& key, std::uint64_t fallback = 0) const {
        return has(key) ? std::stoull(at(key)) : fallback;
    }
    [[nodiscard]] double real(const std::string& key) const { return std::stod(at(key)); }
    [[nodiscard]] std::string id() const { return at("id"); }
};

inline std::vector<row> read_rows() {
    std::ifstream in(std::string(VRAMFIT_TEST_DATA) + "/vllm/startup_rows.tsv");
    REQUIRE(in.good());
    std::string line;
    std::getline(in, line);
    std::vector<std::string> header;
    {
        std::stringstream s(line);
        std::string cell;
        while (std::getline(s, cell, '\t')) header.push_back(cell);
    }
    std::vector<row> rows;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::stringstream s(line);
        std::string cell;
        row r;
        std::size_t i = 0;
        while (std::getline(s, cell, '\t')) {
            REQUIRE(i < header.size());
            r.f[header[i++]] = cell;
        }
        REQUIRE_MESSAGE(i == header.size(), line);
        rows.push_back(std::move(r));
    }
    return rows;
}

// "key=value,key=value" after "kind:".
inline std::map<std::string, std::string> options(const std::string& text) {
    std::map<std::string, std::string> out;
    std::stringstream s(text.substr(text.find(':') + 1));
    std::string item;
    while (std::getline(s, item, ',')) {
        const auto eq = item.find('=');
        out[item.substr(0, eq)] = eq == std::string::npos ? "" : item.substr(eq + 1);
    }
    return out;
}

inline std::uint32_t u32(const std::map<std::string, std::string>& o, const std::string& key, std::uint32_t fallback = 0) {
    const auto it = o.find(key);
    return it == o.end() ? fallback : static_cast<std::uint32_t>(std::stoul(it->second));
}

struct model {
    model_config config{};
    std::optional<dtype> checkpoint_dtype{};
    std::optional<vllm::linear_attention_config> linear{};
    vllm::mxfp4_backend mxfp4 = vllm::mxfp4_backend::automatic;
    [[nodiscard]] const vllm::linear_attention_config* linear_ptr() const { return linear ? &*linear : nullptr; }
};

inline model model_of(const row& r) {
    model m;
    const std::string& name = r.at("model");
    const std::string& geometry = r.at("geometry");
    if (name.rfind("config:", 0) == 0) {
        const std::string dir = name.substr(7);
        std::ifstream in(std::string(VRAMFIT_TEST_DATA) + "/vllm/configs/" + dir + "/config.json", std::ios::binary);
        REQUIRE_MESSAGE(in.good(), dir);
        std::stringstream text;
        text << in.rdbuf();
        auto c = hf::parse_config(text.str(), dir);
        REQUIRE_MESSAGE(c.ok(), c.err().describe());
        m.config = *c;
    } else if (name != "geometry") {
        const auto* entry = catalog::find(name);
        REQUIRE_MESSAGE(entry != nullptr, name);
        m.config = hf::with_class_rules(entry->config);
        m.checkpoint_dtype = entry->checkpoint_dtype;
        if (geometry.find("mxfp4=triton") != std::string::npos) m.mxfp4 = vllm::mxfp4_backend::triton;
        return m;
    }
    if (name != "geometry") return m;
    // The geometry the row gives (the KV cache needs nothing else).
    const auto o = options(geometry);
    const std::string kind = geometry.substr(0, geometry.find(':'));
    auto& c = m.config;
    c.model_type = "llama";
    c.torch_dtype = dtype::bf16;
    c.num_hidden_layers = u32(o, "layers");
    c.num_attention_heads = u32(o, "heads", 64);
    c.num_key_value_heads = u32(o, "kv", c.num_attention_heads);
    c.head_dim = u32(o, "head");
    c.hidden_size = c.num_attention_heads * (c.head_dim != 0 ? c.head_dim : 128);
    c.vocab_size = 151936;
    c.max_position_embeddings = 1u << 20;
    if (kind == "mla") {
        c.model_type = "deepseek_v2";
        c.kv_lora_rank = u32(o, "rank");
        c.qk_rope_head_dim = u32(o, "rope");
        c.qk_nope_head_dim = u32(o, "nope", 128);
        c.v_head_dim = u32(o, "v", 128);
        c.num_key_value_heads = c.num_attention_heads;
    } else if (kind == "gdn") {
        vllm::linear_attention_config l{};
        l.full_attention_interval = u32(o, "every");
        l.num_key_heads = u32(o, "lk");
        l.num_value_heads = u32(o, "lv");
        l.key_head_dim = u32(o, "dk");
        l.value_head_dim = u32(o, "dv");
        l.conv_kernel = u32(o, "conv");
        if (o.at("ssm") == "f32") l.ssm_state_dtype = dtype::f32;
        l.draft_attention_layers = u32(o, "draft");
        m.linear = l;
    }
    return m;
}

// The row's GPU: a catalog id, "total=GiB,cc=M.m" (a CUDA total as the log printed it), or an
// Ampere-class stand-in where the log names none (its block sizes are the default ones).
inline device device_of(const row& r) {
    const std::string& g = r.at("gpu");
    if (g == "-") {
        device d{};
        d.name = "unnamed GPU";
        d.cc_major = 8;
        d.total_memory = bytes{80ULL << 30};
        d.total_from_cuda = true;
        return d;
    }
    if (g.rfind("total=", 0) == 0) {
        const auto o = options(":" + g);
        device d{};
        d.name = "NVIDIA RTX PRO 6000 Blackwell Server Edition";
        d.total_memory = bytes{static_cast<std::uint64_t>(std::llround(std::stod(o.at("total")) * 100.0)) * 1073741824ULL / 100ULL};
        d.total_from_cuda = true;
        const std::string cc = o.at("cc");
        d.cc_major = std::stoi(cc.substr(0, cc.find('.')));
        d.cc_minor = std::stoi(cc.substr(cc.find('.') + 1));
        d.sm_count = 188;
        return d;
    }
    const auto* spec = catalog::find_gpu(g);
    REQUIRE_MESSAGE(spec != nullptr, g);
    return catalog::to_device(*spec);
}

inline vllm::engine_args args_of(const row& r, const model& m) {
    vllm::engine_args a{};
    auto version = vllm::parse_release(r.at("vllm"));
    REQUIRE_MESSAGE(version.ok(), r.id());
    a.version = *version;
    a.engine = r.at("engine") == "v0" ? vllm::engine_kind::v0 : vllm::engine_kind::v1;
    a.tensor_parallel_size = static_cast<std::uint32_t>(r.count("tp", 1));
    a.pipeline_parallel_size = static_cast<std::uint32_t>(r.count("pp", 1));
    if (r.has("util")) a.gpu_memory_utilization = r.real("util");
    a.max_model_len = static_cast<std::uint32_t>(r.count("max_model_len"));
    a.max_num_seqs = static_cast<std::uint32_t>(r.count("max_num_seqs"));
    a.max_num_batched_tokens = static_cast<std::uint32_t>(r.count("max_num_batched_tokens"));
    a.enforce_eager = r.at("eager") == "yes";
    a.block_size = static_cast<std::uint32_t>(r.count("block_size"));
    auto cache = vllm::parse_kv_cache_dtype(r.at("kv_cache_dtype"));
    REQUIRE(cache.ok());
    a.cache_dtype = *cache;
    a.num_speculative_tokens = static_cast<std::uint32_t>(r.count("spec_tokens"));
    a.mamba_mode = r.at("mamba_mode") == "align" ? vllm::mamba_cache_mode::align : vllm::mamba_cache_mode::none;
    if (r.at("dtype") == "f16") a.serving_dtype = dtype::f16;
    a.mxfp4 = m.mxfp4;
    return a;
}

// The KV settings of the row's worker (one per row: every row's workers hold the same layers).
inline vllm::kv_settings kv_settings_of(const row& r, const model& m, const device& gpu) {
    const auto a = args_of(r, m);
    vllm::kv_settings s{};
    s.version = a.version;
    s.engine = *a.engine;
    s.tp = a.tensor_parallel_size;
    s.block_size = a.block_size;
    s.cache_dtype = a.cache_dtype;
    s.model_dtype = vllm::serving_dtype(m.config, a.serving_dtype, m.checkpoint_dtype, gpu);
    s.max_num_batched_tokens = a.max_num_batched_tokens != 0 ? a.max_num_batched_tokens : 2048;
    s.num_speculative_tokens = a.num_speculative_tokens;
    s.mamba_mode = a.mamba_mode;
    return s;
}

// Verbatim lines of the row, split at " || ".
inline std::vector<std::string> lines_of(const row& r) {
    std::vector<std::string> out;
    std::string rest = r.at("lines");
    if (rest == "-") return out;
    while (true) {
        const auto at = rest.find(" || ");
        out.push_back(rest.substr(0, at));
        if (at == std::string::npos) break;
        rest = rest.substr(at + 4);
    }
    return out;
}

// Runs of white space as one space (a post may wrap a long line).
inline std::string squeeze(const std::string& text) {
    std::string out;
    bool space = false;
    for (char ch : text) {
        if (ch == ' ' || ch == '\n' || ch == '\t') { space = true; continue; }
        if (space && !out.empty()) out += ' ';
        space = false;
        out += ch;
    }
    return out;
}

// Every verbatim line is in what the engine renders.
inline bool renders(const std::string& rendered, const std::vector<std::string>& verbatim) {
    const std::string all = squeeze(rendered);
    for (const auto& line : verbatim) {
        if (all.find(squeeze(line)) == std::string::npos) return false;
    }
    return true;
}

inline double percent(double predicted, double printed) { return 100.0 * (predicted - printed) / std::fabs(printed); }

} // namespace vllm_rows
