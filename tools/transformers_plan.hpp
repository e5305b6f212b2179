// tools/transformers_plan.hpp — `vramfit plan MODEL --engine transformers`: the max_memory that
// makes accelerate produce a map generate() does not run out of memory with, and the dtype or
// bitsandbytes quantization that gives the fastest such map; `--emit accelerate` prints the
// from_pretrained(...) keyword arguments.
//
// Every candidate is judged by estimate_transformers, the code `estimate --engine transformers`
// runs: the same device map, KV, activation, staging and CUDA figures. accelerate fills a GPU to
// its max_memory with weights only, so a budget that leaves no room for what generate() adds is
// lowered by what it lacked, and the map recomputed, until every GPU holds its total.
#pragma once

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "json_writer.hpp"
#include "transformers_command.hpp"
#include "vramfit/catalog/models.hpp"
#include "vramfit/plan/speed.hpp"

namespace vramfit::cli {

struct hf_plan_candidate {
    std::string label;  // "bfloat16", "bfloat16 + bitsandbytes 8-bit"
    transformers_options options;  // with the max_memory that gives the map below
    std::optional<detail::hf_estimate> estimate;
    std::string why_not;  // empty: fits
    std::uint32_t gpu_layers = 0, cpu_layers = 0, disk_layers = 0;
    bytes gpu_weights{}, cpu_weights{}, disk_weights{};
    double decode_tokens_per_s = 0;
    [[nodiscard]] bool fits() const { return estimate && why_not.empty(); }
    [[nodiscard]] bool all_on_gpus() const { return fits() && cpu_layers == 0 && disk_layers == 0 && cpu_weights.count() == 0 && disk_weights.count() == 0; }
};

struct hf_plan {
    std::vector<hf_plan_candidate> candidates;
    std::size_t chosen = 0;  // index into candidates; valid when any fits
    bool any_fits = false;
};

namespace detail {

inline constexpr std::uint64_t mib = 1048576ULL;

inline std::string rate_text(double tokens_per_s) {
    return tokens_per_s >= 0.1 ? fmt::format("{:.1f}", tokens_per_s) : fmt::format("{:.3f}", tokens_per_s);
}
inline constexpr int max_budget_rounds = 64;

// Decode speed, bandwidth-bound (plan/speed.hpp's figures): each token reads every weight once;
// weights on a GPU at its memory bandwidth, offloaded ones cross the execution GPU's PCIe link
// (accelerate's hooks copy them in for every forward), disk ones are read from disk first.
inline double decode_tokens_per_s(const hf_plan_candidate& c, const std::vector<device>& gpus) {
    if (!c.estimate) return 0;
    double seconds = 0;
    const speed_inputs host{};
    const double link = gpus.empty() ? 1.0 : pcie_gb_s(gpus.front()) * 1e9;
    for (const auto& r : c.estimate->rows) {
        if (r.name == "cpu") seconds += static_cast<double>(r.weights.count()) / link;
        else if (r.name == "disk") seconds += static_cast<double>(r.weights.count()) / (std::min(host.disk_gb_s * 1e9, link));
        else {
            const std::size_t index = static_cast<std::size_t>(std::stoul(r.name));
            const double bandwidth = index < gpus.size() ? gpu_bandwidth_gb_s(gpus[index]) * 1e9 : 240e9;
            seconds += static_cast<double>(r.weights.count()) / bandwidth;
        }
    }
    return seconds > 0 ? 1.0 / seconds : 0;
}

inline std::vector<transformers::memory_spec> budgets_as_max_memory(const std::vector<std::uint64_t>& gpu_mib, const std::optional<bytes>& ram) {
    std::vector<transformers::memory_spec> specs;
    for (std::size_t i = 0; i < gpu_mib.size(); ++i)
        specs.push_back({transformers::device_id::gpu(static_cast<std::uint32_t>(i)), fmt::format("{}MiB", gpu_mib[i]), 0});
    if (ram) specs.push_back({transformers::device_id::cpu(), fmt::format("{}MiB", ram->count() / mib), 0});
    return specs;
}

// One dtype/quantization: lower the GPUs' budgets until generate() fits on each.
inline hf_plan_candidate place_candidate(transformers_options options, std::string label) {
    hf_plan_candidate c;
    c.label = std::move(label);
    std::vector<std::uint64_t> budget_mib;
    for (const auto& g : options.gpus) budget_mib.push_back(accelerate_free_memory(g).count() / mib);
    for (int round = 0; round < max_budget_rounds; ++round) {
        options.max_memory = budgets_as_max_memory(budget_mib, options.ram);
        auto e = estimate_transformers(options);
        if (!e) { c.why_not = e.err().describe(); c.options = options; return c; }
        bool lowered = false;
        for (const auto& r : e->rows) {
            if (!r.device_capacity || r.total() <= *r.device_capacity) continue;
            const std::size_t index = static_cast<std::size_t>(std::stoul(r.name));
            const std::uint64_t excess_mib = (r.total().count() - r.device_capacity->count() + mib - 1) / mib;
            budget_mib[index] = budget_mib[index] > excess_mib ? budget_mib[index] - excess_mib : 0;
            lowered = true;
        }
        c.options = options;
        c.estimate = std::move(*e);
        if (!lowered) break;
        if (round + 1 == max_budget_rounds) c.why_not = "no max_memory found that keeps generate() within every GPU";
    }
    const auto& e = *c.estimate;
    for (const auto& r : e.rows) {
        if (r.name == "cpu") { c.cpu_layers = r.layers; c.cpu_weights = r.weights; }
        else if (r.name == "disk") { c.disk_layers = r.layers; c.disk_weights = r.weights; }
        else { c.gpu_layers += r.layers; c.gpu_weights += r.weights; }
        if (r.device_capacity && r.total() > *r.device_capacity && c.why_not.empty())
            c.why_not = fmt::format("GPU {} needs {} with no layer left on it", r.name, format_mib(r.total()));
    }
    if (c.why_not.empty() && e.map.refused)
        c.why_not = "bitsandbytes places no module on cpu or disk without llm_int8_enable_fp32_cpu_offload";
    if (c.why_not.empty() && c.disk_weights.count() != 0) {
        if (!options.disk) c.why_not = fmt::format("needs {} offloaded to disk (give --disk SIZE for an offload_folder)", format_mib(c.disk_weights));
        else if (c.disk_weights > *options.disk) c.why_not = fmt::format("needs {} on disk, more than --disk", format_mib(c.disk_weights));
    }
    c.decode_tokens_per_s = decode_tokens_per_s(c, options.gpus);
    return c;
}

} // namespace detail

// The ladder: the asked dtype (or the config's), then bitsandbytes 8-bit and 4-bit, unless a
// quantization was asked for. Chosen: the unquantized map if it keeps every layer on the GPUs;
// else the first quantization that does; else the fastest that fits.
inline result<hf_plan> plan_transformers(const transformers_options& base) {
    if (base.gpus.empty()) return error{errc::invalid_argument, "missing --gpu: name the GPUs (e.g. --gpu a100-40gbx2; vramfit gpus lists them)"};
    {
        // a model that cannot be read or built is an error, not a plan with no candidate
        transformers_options probe = base;
        probe.max_memory = detail::budgets_as_max_memory(std::vector<std::uint64_t>(base.gpus.size(), 0), base.ram);
        if (auto e = detail::estimate_transformers(probe); !e) return e.err();
    }
    hf_plan p;
    std::vector<std::pair<transformers::quantization, std::string_view>> ladder;
    if (base.quant != transformers::quantization::none) ladder.push_back({base.quant, ""});
    else ladder = {{transformers::quantization::none, ""}, {transformers::quantization::bnb_8bit, " + bitsandbytes 8-bit"},
                   {transformers::quantization::bnb_4bit, " + bitsandbytes 4-bit"}};
    for (const auto& [quant, suffix] : ladder) {
        transformers_options o = base;
        o.quant = quant;
        std::string dtype_label = o.torch_dtype ? std::string{torch_dtype_name(*o.torch_dtype)} : std::string{"dtype auto"};
        auto c = detail::place_candidate(o, dtype_label + std::string{suffix});
        if (c.estimate) c.label = std::string{torch_dtype_name(c.estimate->type)} + std::string{suffix};
        if (quant != transformers::quantization::none && c.estimate && c.estimate->config.quantization.method == quant_method::mxfp4)
            continue;  // a pre-quantized MXFP4 checkpoint is not re-quantized
        p.candidates.push_back(std::move(c));
    }
    auto better = [](const hf_plan_candidate& a, const hf_plan_candidate& b) { return a.decode_tokens_per_s > b.decode_tokens_per_s; };
    for (std::size_t i = 0; i < p.candidates.size() && !p.any_fits; ++i) {
        if (p.candidates[i].all_on_gpus()) { p.chosen = i; p.any_fits = true; }
    }
    for (std::size_t i = 0; i < p.candidates.size() && !p.any_fits; ++i) {
        if (!p.candidates[i].fits()) continue;
        std::size_t best = i;
        for (std::size_t j = i + 1; j < p.candidates.size(); ++j)
            if (p.candidates[j].fits() && better(p.candidates[j], p.candidates[best])) best = j;
        p.chosen = best;
        p.any_fits = true;
    }
    return p;
}

// The name from_pretrained is given: a catalog entry's Hub id, else what the user typed.
inline std::string pretrained_name(const std::string& model) {
    if (const auto* entry = catalog::find(model)) return std::string{entry->hf_id};
    return model;
}

inline std::string emit_accelerate(const hf_plan_candidate& c) {
    const auto& o = c.options;
    std::string out = fmt::format("AutoModelForCausalLM.from_pretrained(\n    \"{}\",\n    device_map=\"{}\",\n    max_memory={{", pretrained_name(o.model),
                                  transformers::to_string(o.strategy));
    bool first = true;
    for (const auto& m : o.max_memory) {
        out += first ? "" : ", ";
        first = false;
        // a string as accelerate parses it, or the byte count (an int) when built from --gpu/--ram
        const std::string amount = m.text.empty() ? std::to_string(m.amount) : fmt::format("\"{}\"", m.text);
        out += m.device.is_gpu() ? fmt::format("{}: {}", m.device.index, amount) : fmt::format("\"{}\": {}", transformers::to_string(m.device), amount);
    }
    out += "},\n";
    const dtype type = c.estimate ? c.estimate->type : dtype::bf16;
    out += fmt::format("    dtype=torch.{},\n", torch_dtype_name(type));
    if (o.quant == transformers::quantization::bnb_8bit) out += "    quantization_config=BitsAndBytesConfig(load_in_8bit=True),\n";
    if (o.quant == transformers::quantization::bnb_4bit) out += "    quantization_config=BitsAndBytesConfig(load_in_4bit=True),\n";
    if (c.disk_weights.count() != 0) out += "    offload_folder=\"offload\",\n";
    out += ")\n";
    return out;
}

inline std::string render_transformers_plan_text(const hf_plan& p) {
    std::string out;
    auto line = std::back_inserter(out);
    if (p.any_fits) {
        const auto& c = p.candidates[p.chosen];
        out += render_transformers_text(*c.estimate, c.options);
        fmt::format_to(line, "\nplan: {}, {} layers on the GPUs, {} on the CPU, {} on disk, about {} tokens/s decoding\n", c.label,
                       c.gpu_layers, c.cpu_layers, c.disk_layers, detail::rate_text(c.decode_tokens_per_s));
        out += "max_memory that gives this map (accelerate fills each GPU to it with weights; the rest is generate()'s):\n";
        out += emit_accelerate(c);
    }
    out += "\nalternatives (decode speed: weights read at GPU bandwidth, offloaded ones over PCIe every token, plan/speed.hpp)\n";
    constexpr std::string_view row = "  {:<1} {:<32} {:>5} {:>5} {:>5} {:>9} {:>9} {:>9} {:>10}  {}\n";
    fmt::format_to(line, row, "", "dtype", "GPU", "CPU", "disk", "GPU GiB", "host GiB", "disk GiB", "decode t/s", "");
    for (std::size_t i = 0; i < p.candidates.size(); ++i) {
        const auto& c = p.candidates[i];
        const auto gib = [](bytes b) { return fmt::format("{:.1f}", static_cast<double>(b.count()) / (1024.0 * 1024 * 1024)); };
        fmt::format_to(line, row, p.any_fits && i == p.chosen ? "*" : "", c.label, c.gpu_layers, c.cpu_layers, c.disk_layers, gib(c.gpu_weights),
                       gib(c.cpu_weights), gib(c.disk_weights), c.estimate ? detail::rate_text(c.decode_tokens_per_s) : std::string{"-"},
                       c.why_not);
    }
    if (!p.any_fits) out += "\nnothing fits: more GPU memory, more --ram, or --disk for offloaded weights\n";
    return out;
}

inline std::string render_transformers_plan_json(const hf_plan& p) {
    json_writer json;
    json.begin_object();
    json.field("engine", "transformers");
    json.field("fits", p.any_fits);
    if (p.any_fits) {
        const auto& c = p.candidates[p.chosen];
        json.key("plan").raw(render_transformers_json(*c.estimate));
        json.key("max_memory").begin_object();
        for (const auto& m : c.options.max_memory) json.field(transformers::to_string(m.device), m.text);
        json.end_object();
        json.field("label", c.label);
        json.field("decode_tokens_per_s", c.decode_tokens_per_s);
    }
    json.key("alternatives").begin_array();
    for (const auto& c : p.candidates) {
        json.begin_object()
            .field("label", c.label)
            .field("fits", c.fits())
            .field("gpu_layers", c.gpu_layers)
            .field("cpu_layers", c.cpu_layers)
            .field("disk_layers", c.disk_layers)
            .field("gpu_weights_bytes", c.gpu_weights.count())
            .field("cpu_weights_bytes", c.cpu_weights.count())
            .field("disk_weights_bytes", c.disk_weights.count())
            .field("decode_tokens_per_s", c.decode_tokens_per_s);
        if (!c.why_not.empty()) json.field("why_not", c.why_not);
        json.end_object();
    }
    json.end_array();
    json.end_object();
    return json.str() + "\n";
}

// `vramfit plan MODEL --engine transformers ...` (args without --engine and its value).
inline int run_transformers_plan(std::span<const std::string_view> args, std::string& out, std::string& err) {
    // before parsing: the estimate's parser would ask for --max-memory where plan wants --gpu
    bool gpu_given = false, memory_given = false;
    for (auto a : args) { gpu_given = gpu_given || a == "--gpu"; memory_given = memory_given || a == "--max-memory"; }
    if (!gpu_given) { err += "vramfit plan: missing --gpu: name the GPUs (e.g. --gpu a100-40gbx2; vramfit gpus lists them)\n"; return 2; }
    if (memory_given) { err += "vramfit plan: --max-memory: plan chooses max_memory itself; give --gpu, --ram and --disk\n"; return 2; }
    auto options = parse_transformers_args(args);
    if (!options) { err += "vramfit plan: " + options.err().describe() + "\n"; return 2; }
    auto p = plan_transformers(*options);
    if (!p) { err += "vramfit plan: " + p.err().describe() + "\n"; return 2; }
    if (options->emit == "accelerate") {
        if (!p->any_fits) {
            const auto& first = p->candidates.empty() ? std::string{"no candidate"} : p->candidates.front().why_not;
            err += "vramfit plan: nothing fits (" + first + ")\n";
            return 2;
        }
        out += emit_accelerate(p->candidates[p->chosen]);
        return 0;
    }
    out += options->json ? render_transformers_plan_json(*p) : render_transformers_plan_text(*p);
    return p->any_fits ? 0 : 1;
}

// `vramfit estimate MODEL --engine transformers ...` (args without --engine and its value): the
// estimate as a table or JSON, or with --emit accelerate the keyword arguments of the asked map.
inline int run_transformers_estimate_command(std::span<const std::string_view> args, std::string& out, std::string& err) {
    auto options = parse_transformers_args(args);
    if (!options) { err += "vramfit estimate: " + options.err().describe() + "\n"; return 2; }
    auto estimate = detail::estimate_transformers(*options);
    if (!estimate) { err += "vramfit estimate: " + estimate.err().describe() + "\n"; return 2; }
    if (options->emit.empty()) {
        out += options->json ? render_transformers_json(*estimate) : render_transformers_text(*estimate, *options);
        return 0;
    }
    hf_plan_candidate c;
    c.options = *options;
    for (const auto& r : estimate->rows) if (r.name == "disk") c.disk_weights = r.weights;
    c.estimate = std::move(*estimate);
    out += emit_accelerate(c);
    return 0;
}

} // namespace vramfit::cli
