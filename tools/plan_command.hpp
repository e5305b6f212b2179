// tools/plan_command.hpp — `vramfit plan`: where a model should run, and the engine settings.
//
//   vramfit plan llama-3.3-70b:Q4_K_M --gpu rtx-3090x2 --ram 64GiB --ctx 32768
//   vramfit plan ./Qwen3-30B-A3B-Q4_K_M.gguf --gpu rtx-4090 --ram 32GiB --max-ctx --emit llama.cpp
//   vramfit plan qwen2.5-72b --gpu a100-40gbx2 --ram 120GiB --quant any --objective speed
#pragma once

#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "arguments.hpp"
#include "estimate_command.hpp"
#include "json_writer.hpp"
#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/emit.hpp"
#include "vramfit/engines/llama_cpp/ollama.hpp"
#include "vramfit/engines/llama_cpp/cuda/runtime_overhead.hpp"
#include "vramfit/engines/llama_cpp/plan.hpp"

namespace vramfit::cli {

namespace detail {

inline std::string gib(bytes b) { return fmt::format("{:.1f}", b.gib()); }

// The planner's messages state facts; the CLI adds the flags that change them.
inline std::string with_cli_hints(std::string_view message) {
    std::string out{message};
    const auto replace = [&](std::string_view fact, std::string_view hinted) {
        const auto at = out.find(fact);
        if (at != std::string::npos) out.replace(at, fact.size(), hinted);
    };
    replace("(host RAM not given: not checked)", "(--ram not given: not checked)");
    replace("a shorter context or a quantized KV cache", "a shorter context (-c) or a quantized KV cache (-ctk/-ctv q8_0)");
    replace("of host RAM, more GPUs, a smaller quantization or", "of host RAM (--ram), more GPUs, a smaller quantization (--quant any) or");
    if (out.starts_with("context 0 asks for the training context")) {
        out.replace(0, 9, "-c 0");
        out += "; give -c N";
    }
    constexpr std::string_view beyond = " is beyond the training context ";
    if (const auto at = out.find(beyond); at != std::string::npos && out.starts_with("context ")) {
        const auto digits = out.substr(at + beyond.size(), out.find(' ', at + beyond.size()) - at - beyond.size());
        out += "; use -c " + digits + " or less, or --max-ctx for the largest that fits";
    }
    return out;
}

// A bar of `width` cells: M model, K KV, C compute, R reserve, '.' free.
inline std::string fill_bar(const plan_device_row& d, int width) {
    if (d.capacity == unlimited_memory || d.capacity.count() == 0) return std::string(static_cast<std::size_t>(width), ' ');
    std::string bar;
    const double cap = static_cast<double>(d.capacity.count());
    const auto cells = [&](bytes b) { return static_cast<int>(static_cast<double>(b.count()) / cap * width + 0.5); };
    const std::pair<char, bytes> parts[] = {{'M', d.model}, {'K', d.kv}, {'C', d.compute}, {'R', d.reserve}};
    for (const auto& [c, b] : parts) {
        int n = cells(b);
        if (b.count() != 0 && n == 0) n = 1;
        while (n-- > 0 && static_cast<int>(bar.size()) < width) bar += c;
    }
    while (static_cast<int>(bar.size()) < width) bar += '.';
    return bar;
}

} // namespace detail

inline std::string render_plan_text(const plan_result& p, const plan_options& o, const std::string& emit_llama, const std::string& emit_ollama) {
    std::string out;
    auto line = std::back_inserter(out);
    fmt::format_to(line, "plan      {} {}: {}, {} GPU{} used, n_ctx {}, KV {}/{}, flash attention {}\n", p.model.view(), p.quant.view(), to_string(p.tier),
                   p.gpus_used, p.gpus_used == 1 ? "" : "s", p.n_ctx, type_name(p.engine.type_k), type_name(p.engine.type_v), p.engine.flash_attn ? "on" : "off");
    out += "engine    llama.cpp " + std::string{llama_cpp::engine_commit_short} + ", CUDA placement (model/KV exact; compute as check_fit models it)\n\n";
    out += "decisions\n";
    for (const auto& n : p.decisions) out += "  - " + detail::with_cli_hints(n.view()) + "\n";
    out += "\n";
    constexpr std::string_view row = "{:<11} {:<12} {:>7}  {:<32} {:>13} {:>12} {:>12} {:>12} {:>13} {:>13} {:>13}\n";
    fmt::format_to(line, row, "device", "gpu", "layers", "M model K kv C compute R reserve", "model", "kv", "compute", "reserve", "total",
                   "capacity", "margin");
    for (const auto& d : p.devices) {
        const std::string layers = fmt::format("{}{}", d.layers, d.output_layer ? "+out" : "");
        const std::string name = d.node == 0 ? std::string{d.name} : "RPC" + std::to_string(d.node) + "." + std::string{d.name};
        const bool cpu = d.name == "CPU";
        const std::string cap = d.capacity == unlimited_memory ? std::string{"-"} : format_mib(d.capacity);
        const std::string margin = d.capacity == unlimited_memory ? std::string{"-"} : format_mib(d.margin());
        fmt::format_to(line, row, name, cpu ? std::string_view{"host"} : d.gpu.view(), layers, "[" + detail::fill_bar(d, 30) + "]",
                       format_mib(d.model), format_mib(d.kv), format_mib(d.compute), format_mib(d.reserve), format_mib(d.total()), cap, margin);
    }
    if (p.disk_bytes.count() != 0) out += "disk        " + format_mib(p.disk_bytes) + " of weights paged from the file (mmap) every token: SLOW\n";
    out += "(MiB; the CPU row counts tensor bytes the host must hold: input layer, CPU layers and experts, their KV, a CPU compute buffer)\n\n";
    out += "alternatives (speed model: bandwidth- and FLOP-bound estimate, plan/speed.hpp)\n";
    fmt::format_to(line, "  {:<1} {:<9} {:>7} {:<9} {:>4} {:<13} {:>8} {:>8} {:>8} {:>10} {:>10}\n", "", "quant", "n_ctx", "KV", "GPUs", "placement",
                   "GPU GiB", "host GiB", "disk GiB", "decode t/s", "prompt t/s");
    std::size_t shown = 0;
    for (const auto& a : p.alternatives) {
        if (++shown > 12) break;
        std::string placement;
        if (a.tier == plan_tier::gpu) placement = "all on GPU";
        else if (a.engine.n_cpu_moe != 0 && a.engine.n_gpu_layers == p.n_layer + 1) placement = fmt::format("n-cpu-moe {}", a.engine.n_cpu_moe);
        else placement = fmt::format("ngl {}", a.engine.n_gpu_layers);
        const std::string kv = std::string{type_name(a.engine.type_k)} + (a.engine.type_v != a.engine.type_k ? "/" + std::string{type_name(a.engine.type_v)} : "");
        const std::string nodes = a.nodes_used > 1 ? " (" + std::to_string(a.nodes_used) + " nodes)" : "";
        fmt::format_to(line, "  {:<1} {:<9} {:>7} {:<9} {:>4} {:<13} {:>8} {:>8} {:>8} {:>10.1f} {:>10.0f}{}\n", a.chosen ? "*" : "", a.quant.view(), a.n_ctx,
                       kv, a.gpus_used, placement, detail::gib(a.gpu_bytes), detail::gib(a.host_bytes), detail::gib(a.disk_bytes),
                       a.speed.decode_tokens_per_s, a.speed.prompt_tokens_per_s, nodes);
    }
    if (p.alternatives.size() > 12) out += "  ... " + std::to_string(p.alternatives.size() - 12) + " more in --json\n";
    out += "\nllama.cpp\n  " + emit_llama + "\nollama\n";
    std::string_view rest = emit_ollama;
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        out += "  " + std::string{rest.substr(0, nl)} + "\n";
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
    (void)o;
    return out;
}

inline std::string render_plan_json(const plan_result& p, const std::string& emit_llama, const std::string& emit_ollama) {
    json_writer json;
    json.begin_object()
        .field("engine", "llama.cpp")
        .field("engine_commit", llama_cpp::engine_commit)
        .field("model", p.model.view())
        .field("quant", p.quant.view())
        .field("gpus_used", p.gpus_used)
        .field("nodes_used", p.nodes_used)
        .field("n_ctx", p.n_ctx)
        .field("n_seq", p.n_seq)
        .field("type_k", type_name(p.engine.type_k))
        .field("type_v", type_name(p.engine.type_v))
        .field("flash_attn", p.engine.flash_attn)
        .field("n_gpu_layers", p.engine.n_gpu_layers)
        .field("n_cpu_moe", p.engine.n_cpu_moe)
        .field("placement", to_string(p.tier))
        .field("host_bytes", p.host_bytes.count())
        .field("disk_bytes", p.disk_bytes.count());
    json.key("devices").begin_array();
    for (const auto& d : p.devices) {
        json.begin_object().field("name", d.name);
        if (d.name != "CPU") json.field("gpu", d.gpu.view()).field("index", d.index).field("node", d.node);
        json.field("layers", d.layers)
            .field("output_layer", d.output_layer)
            .field("model_bytes", d.model.count())
            .field("kv_bytes", d.kv.count())
            .field("compute_bytes", d.compute.count())
            .field("reserve_bytes", d.reserve.count())
            .field("total_bytes", d.total().count());
        if (d.capacity != unlimited_memory) json.field("capacity_bytes", d.capacity.count());
        json.end_object();
    }
    json.end_array();
    json.key("speed").begin_object()
        .field("decode_tokens_per_s", p.speed.decode_tokens_per_s)
        .field("prompt_tokens_per_s", p.speed.prompt_tokens_per_s)
        .end_object();
    json.key("decisions").begin_array();
    for (const auto& n : p.decisions) json.value(detail::with_cli_hints(n.view()));
    json.end_array();
    json.key("alternatives").begin_array();
    for (const auto& a : p.alternatives) {
        json.begin_object()
            .field("quant", a.quant.view())
            .field("n_ctx", a.n_ctx)
            .field("type_k", type_name(a.engine.type_k))
            .field("type_v", type_name(a.engine.type_v))
            .field("gpus_used", a.gpus_used)
            .field("nodes_used", a.nodes_used)
            .field("n_gpu_layers", a.engine.n_gpu_layers)
            .field("n_cpu_moe", a.engine.n_cpu_moe)
            .field("placement", to_string(a.tier))
            .field("gpu_bytes", a.gpu_bytes.count())
            .field("host_bytes", a.host_bytes.count())
            .field("disk_bytes", a.disk_bytes.count())
            .field("decode_tokens_per_s", a.speed.decode_tokens_per_s)
            .field("prompt_tokens_per_s", a.speed.prompt_tokens_per_s)
            .field("chosen", a.chosen)
            .end_object();
    }
    json.end_array();
    json.key("emit").begin_object().field("llama.cpp", emit_llama).field("ollama", emit_ollama).end_object();
    json.end_object();
    return json.str() + "\n";
}

inline int run_plan(std::span<const std::string_view> args, std::string& out, std::string& err) {
    for (auto a : args) {
        if (a == "--help" || a == "-h") { out += plan_flag_help(); return 0; }
    }
    auto options = parse_plan_args(args);
    if (!options) { err += "vramfit plan: " + options.err().describe() + "\n"; return 2; }
    const std::string& name = options->model;
    std::vector<plan_candidate> candidates;
    std::string model_path = name;
    const auto colon = name.find(':');
    const catalog::model_entry* entry = catalog::find(std::string_view{name}.substr(0, colon));
    if (!options->quants.empty()) {
        if (entry == nullptr) {
            err += "vramfit plan: --quant chooses among a catalog model's quantizations; '" + name + "' is not a catalog name\n";
            return 2;
        }
        if (options->quants.size() == 1 && options->quants[0] == "any") {
            auto all = catalog_candidates(*entry);
            if (!all) { err += "vramfit plan: " + all.err().describe() + "\n"; return 2; }
            candidates = std::move(*all);
        } else {
            for (const auto& q : options->quants) {
                auto model = llama_cpp::describe(std::string{entry->key} + ":" + q);
                if (!model) { err += "vramfit plan: " + model.err().describe() + "\n"; return 2; }
                // the quant name must outlive the plan: take it from the ladder or the entry
                std::string_view stable = q == llama_cpp::native_ftype(*entry) ? llama_cpp::native_ftype(*entry) : std::string_view{};
                for (auto l : plan_quant_ladder) if (l == q) stable = l;
                if (stable.empty()) stable = "custom";
                candidates.push_back({stable, std::move(*model)});
            }
        }
        model_path = std::string{entry->key};
    } else {
        auto model = load_model(name);
        if (!model) { err += "vramfit plan: " + name + ": " + with_engine_hint(model.err().describe()) + "\n"; return 2; }
        std::string_view quant = "file";
        if (entry != nullptr) {
            const std::string_view q = colon == std::string::npos ? entry->default_ftype : std::string_view{name}.substr(colon + 1);
            quant = q == entry->default_ftype ? entry->default_ftype : std::string_view{};
            for (auto l : plan_quant_ladder) if (vramfit::detail::equal_ignoring_case(l, q)) quant = l;
            if (quant.empty()) quant = llama_cpp::native_ftype(*entry) == q ? llama_cpp::native_ftype(*entry) : std::string_view{"custom"};
            model_path = std::string{entry->key};
        }
        candidates.push_back({quant, std::move(*model)});
    }
    auto p = plan(candidates, options->request);
    if (!p) { err += "vramfit plan: " + detail::with_cli_hints(p.err().describe()) + "\n"; return 2; }
    if (entry != nullptr) model_path = std::string{entry->key} + "-" + p->quant.str() + ".gguf";
    const bool all_used = p->gpus_used == options->request.gpus.size() && p->nodes_used == 1;
    const std::string emit_llama = llama_cpp::emit_flags(*p, model_path, "llama-server", all_used);
    const std::string emit_ollama = ollama::emit_settings(*p, model_path);
    if (!options->emit.empty()) {
        if (options->emit != "ollama") out += emit_llama + "\n";
        if (options->emit != "llama.cpp") out += emit_ollama;
        return 0;
    }
    out += options->json ? render_plan_json(*p, emit_llama, emit_ollama) : render_plan_text(*p, *options, emit_llama, emit_ollama);
    return 0;
}

} // namespace vramfit::cli
