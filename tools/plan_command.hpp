// tools/plan_command.hpp — `vramfit plan`: where a model should run, and the engine settings.
//
//   vramfit plan llama-3.3-70b:Q4_K_M --gpu rtx-3090x2 --ram 64GiB --ctx 32768
//   vramfit plan ./Qwen3-30B-A3B-Q4_K_M.gguf --gpu rtx-4090 --ram 32GiB --max-ctx --emit llama.cpp
//   vramfit plan qwen2.5-72b --gpu a100-40gbx2 --ram 120GiB --quant any --objective speed
#pragma once

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "arguments.hpp"
#include "estimate_command.hpp"
#include "json_writer.hpp"
#include "vramfit/core/format.hpp"
#include "vramfit/engines/llama_cpp/emit.hpp"
#include "vramfit/engines/llama_cpp/ollama.hpp"
#include "vramfit/engines/llama_cpp/cuda/runtime_overhead.hpp"
#include "vramfit/engines/llama_cpp/plan.hpp"

namespace vramfit::cli {

inline constexpr std::string_view plan_usage =
    "usage: vramfit plan MODEL --gpu NAME[xN] [--gpu ...] [options]\n"
    "  MODEL                 a .gguf file or a catalog name (llama-3.3-70b:Q4_K_M; bare name = default quant)\n"
    "  --gpu NAME[xN]|auto   the GPUs (vramfit gpus); auto = this machine's CUDA devices, live free memory\n"
    "  --free MiB[,MiB...]   free memory of each GPU, in order (what nvidia-smi or cudaMemGetInfo says\n"
    "                        now); replaces the catalog totals\n"
    "  --ram SIZE            host RAM the model may use (64GiB, 120G, 65536MiB)   [not checked]\n"
    "  --no-disk             never page weights from disk (mmap) beyond RAM\n"
    "  --reserve MiB|auto    left free on each GPU (like llama.cpp --fit-target); auto = each GPU's\n"
    "                        estimated CUDA overhead (driver, context, cuBLAS: cuda/runtime_overhead.hpp)\n"
    "                        [auto for catalog GPUs; 0 with --free or --gpu auto]\n"
    "  -c, --ctx N           context (0 = the training context)                  [4096]\n"
    "  --max-ctx             the largest context that fits (-c is then the least)\n"
    "  -np, --parallel N     parallel sequences                                   [1]\n"
    "  -ctk T, -ctv T        fix the KV cache types (default: f16, else q8_0, else q4_0 to fit)\n"
    "  -fa on|off            flash attention                                      [on]\n"
    "  -b N, -ub N           batch and micro-batch                                [2048, 512]\n"
    "  --no-mmap             load weights into buffers (no disk paging)\n"
    "  --blas                llama.cpp built with GGML_BLAS (its BLAS backend's compute buffer)\n"
    "  --quant any|Q,Q,...   choose among quantizations of a catalog model (any = the whole ladder)\n"
    "  --objective fit|speed fit: fewest GPUs; speed: the fastest GPUs / placement  [fit]\n"
    "  --nodes N             machines like this one reachable by llama.cpp RPC    [1]\n"
    "  --host-bw GB/s, --host-tflops T, --disk-bw GB/s, --net-bw GB/s   speed-model inputs\n"
    "  --emit llama.cpp|ollama|all   print the engine settings only\n"
    "  --json                machine-readable plan\n";

namespace detail {

// "64GiB", "64G" (GiB), "64GB" (10^9), "65536MiB", "512M", a bare number = GiB.
inline result<bytes> parse_size(std::string_view flag, std::string_view text) {
    double value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || !(value >= 0) || value > 1e7) return flag_error(flag, "expects a size such as 64GiB", text);
    const std::string_view unit{ptr, static_cast<std::size_t>(end - ptr)};
    double scale = 0;
    if (unit.empty() || unit == "G" || unit == "GiB" || unit == "g") scale = 1073741824.0;
    else if (unit == "GB") scale = 1e9;
    else if (unit == "M" || unit == "MiB") scale = 1048576.0;
    else if (unit == "MB") scale = 1e6;
    else if (unit == "T" || unit == "TiB") scale = 1099511627776.0;
    else if (unit == "TB") scale = 1e12;
    else return flag_error(flag, "has an unknown unit (GiB, GB, MiB, MB, TiB, TB)", text);
    return bytes{static_cast<std::uint64_t>(value * scale)};
}

inline result<double> parse_rate(std::string_view flag, std::string_view text) {
    double value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || !(value > 0) || value > 1e6) return flag_error(flag, "expects a positive number", text);
    return value;
}

inline std::string gib(bytes b) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", b.gib());
    return text;
}

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

struct plan_options {
    std::string model;
    plan_request request;
    std::vector<std::string> quants;  // empty: as named; "any": the ladder
    bool json = false;
    std::string emit;
    bool gpus_given = false;
};

inline result<plan_options> parse_plan_args(std::span<const std::string_view> args) {
    plan_options o;
    auto& r = o.request;
    std::vector<std::uint32_t> free_mib;
    bool reserve_auto = false;
    bool reserve_given = false;
    bool live_memory = false;  // --gpu auto or --free: the figures are free memory, not totals
    constexpr std::uint32_t max_tokens = 1u << 24;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        auto next = [&]() -> result<std::string_view> {
            if (i + 1 >= args.size()) return error{errc::invalid_argument, arg}.with(": missing value");
            return args[++i];
        };
        auto count = [&](std::uint32_t lo, std::uint32_t hi) -> result<std::uint32_t> {
            auto t = next();
            if (!t) return t.err();
            return detail::parse_count(arg, *t, lo, hi);
        };
        auto rate = [&](double& out) -> result<bool> {
            auto t = next();
            if (!t) return t.err();
            auto v = detail::parse_rate(arg, *t);
            if (!v) return v.err();
            out = *v;
            return true;
        };
        result<bool> status = true;
        if (arg == "--gpu") {
            auto t = next();
            if (!t) return t.err();
            o.gpus_given = true;
            if (*t == "auto") {
                live_memory = true;
                auto live = detail::live_gpus();
                if (!live) return live.err();
                for (const auto* g : *live) r.gpus.push_back(*g);
            } else {
                auto sel = catalog::parse_gpu_argument(*t);
                if (!sel) return sel.err();
                for (unsigned n = 0; n < sel->count; ++n) r.gpus.push_back(*sel->gpu);
            }
            if (r.gpus.size() > llama_cpp::max_cuda_devices) return detail::flag_error(arg, "asks for more than 16 CUDA devices in all", *t);
        } else if (arg == "--free") {
            auto t = next();
            if (!t) return t.err();
            std::string_view rest = *t;
            free_mib.clear();
            while (!rest.empty() || free_mib.empty()) {
                const auto comma = rest.find(',');
                auto v = detail::parse_count(arg, rest.substr(0, comma), 1, 1u << 24);
                if (!v) return v.err();
                free_mib.push_back(*v);
                if (comma == std::string_view::npos) break;
                rest = rest.substr(comma + 1);
            }
        } else if (arg == "--ram") {
            auto t = next();
            if (!t) return t.err();
            auto s = detail::parse_size(arg, *t);
            if (!s) return s.err();
            r.host_ram = *s;
        } else if (arg == "--no-disk") {
            r.allow_disk = false;
        } else if (arg == "--reserve") {
            reserve_given = true;
            if (i + 1 < args.size() && args[i + 1] == "auto") {
                ++i;
                reserve_auto = true;
                continue;
            }
            auto v = count(0, 1u << 20);
            if (!v) return v.err();
            r.reserve_per_device = bytes{std::uint64_t{*v} * 1048576ULL};
        } else if (arg == "-c" || arg == "--ctx" || arg == "--ctx-size") {
            auto v = count(0, max_tokens);
            if (!v) return v.err();
            r.n_ctx = *v;
        } else if (arg == "--max-ctx") {
            r.max_ctx = true;
        } else if (arg == "-np" || arg == "--parallel") {
            auto v = count(1, 256);
            if (!v) return v.err();
            r.n_seq = *v;
        } else if (arg == "-b" || arg == "--batch-size") {
            auto v = count(1, max_tokens);
            if (!v) return v.err();
            r.engine.n_batch = *v;
        } else if (arg == "-ub" || arg == "--ubatch-size") {
            auto v = count(1, max_tokens);
            if (!v) return v.err();
            r.engine.n_ubatch = *v;
        } else if (arg == "-ctk" || arg == "--cache-type-k" || arg == "-ctv" || arg == "--cache-type-v") {
            auto t = next();
            if (!t) return t.err();
            auto type = detail::parse_cache_type(arg, *t);
            if (!type) return type.err();
            (arg == "-ctk" || arg == "--cache-type-k" ? r.engine.type_k : r.engine.type_v) = *type;
        } else if (arg == "-fa" || arg == "--flash-attn") {
            auto t = next();
            if (!t) return t.err();
            if (*t == "on") r.engine.flash_attn = true;
            else if (*t == "off") r.engine.flash_attn = false;
            else if (*t != "auto") return detail::flag_error(arg, "expects on, off or auto", *t);
        } else if (arg == "--blas") {
            r.engine.blas = true;
        } else if (arg == "--no-mmap") {
            r.engine.use_mmap = false;
        } else if (arg == "--quant") {
            auto t = next();
            if (!t) return t.err();
            std::string_view rest = *t;
            while (!rest.empty()) {
                const auto comma = rest.find(',');
                o.quants.emplace_back(rest.substr(0, comma));
                rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            }
        } else if (arg == "--objective") {
            auto t = next();
            if (!t) return t.err();
            if (*t == "fit") r.objective = plan_objective::fit;
            else if (*t == "speed") r.objective = plan_objective::speed;
            else return detail::flag_error(arg, "expects fit or speed", *t);
        } else if (arg == "--nodes") {
            auto v = count(1, 16);
            if (!v) return v.err();
            r.nodes = *v;
        } else if (arg == "--host-bw") status = rate(r.speed.host_bandwidth_gb_s);
        else if (arg == "--host-tflops") status = rate(r.speed.host_tflops);
        else if (arg == "--disk-bw") status = rate(r.speed.disk_gb_s);
        else if (arg == "--net-bw") status = rate(r.speed.network_gb_s);
        else if (arg == "--emit") {
            auto t = next();
            if (!t) return t.err();
            if (*t != "llama.cpp" && *t != "ollama" && *t != "all") return detail::flag_error(arg, "expects llama.cpp, ollama or all", *t);
            o.emit = std::string{*t};
        } else if (arg == "--json") {
            o.json = true;
        } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
            return error{errc::invalid_argument, "unknown flag '"}.with(arg).with("' (see vramfit plan --help)");
        } else if (o.model.empty()) {
            o.model = std::string{arg};
        } else {
            return error{errc::invalid_argument, "unexpected argument '"}.with(arg).with("': one MODEL only");
        }
        if (!status) return status.err();
    }
    if (o.model.empty()) return error{errc::invalid_argument, "missing MODEL: a .gguf file or a catalog name such as llama-3.3-70b:Q4_K_M"};
    if (!o.gpus_given) return error{errc::invalid_argument, "missing --gpu: name the GPUs (e.g. --gpu rtx-3090x2; vramfit gpus lists them; --gpu auto for this machine's)"};
    if (!free_mib.empty()) {
        if (free_mib.size() != r.gpus.size()) {
            return error{errc::invalid_argument, "--free gives "}.with_number(free_mib.size()).with(" figure(s) for ")
                .with_number(r.gpus.size()).with(" GPU(s); give one MiB figure per GPU, in --gpu order");
        }
        for (std::size_t i = 0; i < free_mib.size(); ++i) r.gpus[i].memory = bytes{std::uint64_t{free_mib[i]} * 1048576ULL};
    }
    if (!free_mib.empty()) live_memory = true;
    // By default a catalog GPU's total keeps the estimated CUDA overhead back (what the engine's
    // process will lose before its first buffer); figures of free memory already lack the
    // driver's part, so there the default stays 0 and --reserve auto is the user's choice.
    if (!reserve_given && !live_memory) reserve_auto = true;
    if (reserve_auto) {
        for (const auto& g : r.gpus) r.reserve_per_gpu.push_back(cuda_overhead_for(g).estimate);
    }
    return o;
}

inline std::string render_plan_text(const plan_result& p, const plan_options& o, const std::string& emit_llama, const std::string& emit_ollama) {
    std::string out;
    char line[512];
    std::snprintf(line, sizeof line, "plan      %s %s: %s, %u GPU%s used, n_ctx %u, KV %s/%s, flash attention %s\n",
                  p.model.str().c_str(), p.quant.str().c_str(), std::string{to_string(p.tier)}.c_str(), p.gpus_used,
                  p.gpus_used == 1 ? "" : "s", p.n_ctx, std::string{type_name(p.engine.type_k)}.c_str(), std::string{type_name(p.engine.type_v)}.c_str(),
                  p.engine.flash_attn ? "on" : "off");
    out += line;
    out += "engine    llama.cpp " + std::string{llama_cpp_commit.substr(0, 8)} + ", CUDA placement (model/KV exact; compute as check_fit models it)\n\n";
    out += "decisions\n";
    for (const auto& n : p.decisions) out += "  - " + detail::with_cli_hints(n.view()) + "\n";
    out += "\n";
    std::snprintf(line, sizeof line, "%-11s %-12s %7s  %-32s %13s %12s %12s %12s %13s %13s %13s\n", "device", "gpu", "layers",
                  "M model K kv C compute R reserve", "model", "kv", "compute", "reserve", "total", "capacity", "margin");
    out += line;
    for (const auto& d : p.devices) {
        char layers[16];
        std::snprintf(layers, sizeof layers, "%u%s", d.layers, d.output_layer ? "+out" : "");
        std::string name = d.node == 0 ? std::string{d.name} : "RPC" + std::to_string(d.node) + "." + std::string{d.name};
        const bool cpu = d.name == "CPU";
        const std::string cap = d.capacity == unlimited_memory ? std::string{"-"} : format_mib(d.capacity);
        const std::string margin = d.capacity == unlimited_memory ? std::string{"-"} : format_mib(d.margin());
        std::snprintf(line, sizeof line, "%-11s %-12s %7s  [%s] %13s %12s %12s %12s %13s %13s %13s\n", name.c_str(),
                      cpu ? "host" : d.gpu.str().c_str(), layers, detail::fill_bar(d, 30).c_str(), format_mib(d.model).c_str(),
                      format_mib(d.kv).c_str(), format_mib(d.compute).c_str(), format_mib(d.reserve).c_str(), format_mib(d.total()).c_str(),
                      cap.c_str(), margin.c_str());
        out += line;
    }
    if (p.disk_bytes.count() != 0) out += "disk        " + format_mib(p.disk_bytes) + " of weights paged from the file (mmap) every token: SLOW\n";
    out += "(MiB; the CPU row counts tensor bytes the host must hold: input layer, CPU layers and experts, their KV, a CPU compute buffer)\n\n";
    out += "alternatives (speed model: bandwidth- and FLOP-bound estimate, plan/speed.hpp)\n";
    std::snprintf(line, sizeof line, "  %-1s %-9s %7s %-9s %4s %-13s %8s %8s %8s %10s %10s\n", "", "quant", "n_ctx", "KV", "GPUs", "placement",
                  "GPU GiB", "host GiB", "disk GiB", "decode t/s", "prompt t/s");
    out += line;
    std::size_t shown = 0;
    for (const auto& a : p.alternatives) {
        if (++shown > 12) break;
        char placement[32];
        if (a.tier == plan_tier::gpu) std::snprintf(placement, sizeof placement, "all on GPU");
        else if (a.engine.n_cpu_moe != 0 && a.engine.n_gpu_layers == p.n_layer + 1) std::snprintf(placement, sizeof placement, "n-cpu-moe %u", a.engine.n_cpu_moe);
        else std::snprintf(placement, sizeof placement, "ngl %u", a.engine.n_gpu_layers);
        std::snprintf(line, sizeof line, "  %-1s %-9s %7u %-9s %4u %-13s %8s %8s %8s %10.1f %10.0f%s\n", a.chosen ? "*" : "",
                      a.quant.str().c_str(), a.n_ctx,
                      (std::string{type_name(a.engine.type_k)} + (a.engine.type_v != a.engine.type_k ? "/" + std::string{type_name(a.engine.type_v)} : "")).c_str(),
                      a.gpus_used, placement, detail::gib(a.gpu_bytes).c_str(), detail::gib(a.host_bytes).c_str(),
                      detail::gib(a.disk_bytes).c_str(), a.speed.decode_tokens_per_s, a.speed.prompt_tokens_per_s,
                      a.nodes_used > 1 ? (" (" + std::to_string(a.nodes_used) + " nodes)").c_str() : "");
        out += line;
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
        .field("engine_commit", llama_cpp_commit)
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
        if (a == "--help" || a == "-h") { out += plan_usage; return 0; }
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
                auto model = catalog::describe(std::string{entry->key} + ":" + q);
                if (!model) { err += "vramfit plan: " + model.err().describe() + "\n"; return 2; }
                // the quant name must outlive the plan: take it from the ladder or the entry
                std::string_view stable = q == entry->native_ftype ? entry->native_ftype : std::string_view{};
                for (auto l : plan_quant_ladder) if (l == q) stable = l;
                if (stable.empty()) stable = "custom";
                candidates.push_back({stable, std::move(*model)});
            }
        }
        model_path = std::string{entry->key};
    } else {
        auto model = load_model(name);
        if (!model) { err += "vramfit plan: " + name + ": " + model.err().describe() + "\n"; return 2; }
        std::string_view quant = "file";
        if (entry != nullptr) {
            const std::string_view q = colon == std::string::npos ? entry->default_ftype : std::string_view{name}.substr(colon + 1);
            quant = q == entry->default_ftype ? entry->default_ftype : std::string_view{};
            for (auto l : plan_quant_ladder) if (vramfit::detail::equal_ignoring_case(l, q)) quant = l;
            if (quant.empty()) quant = entry->native_ftype == q ? entry->native_ftype : std::string_view{"custom"};
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
