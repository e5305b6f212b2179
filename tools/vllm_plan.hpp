// tools/vllm_plan.hpp — `vramfit plan MODEL --engine vllm`: every tensor × pipeline parallel layout of
// the model on the GPUs (one node or several), what vLLM's start-up gives each, the fastest one that
// serves the asked length and concurrency, and with `--emit vllm` the commands that start it.
//
// The plan is engines/vllm/plan.hpp's and the commands engines/vllm/emit.hpp's; this file reads the
// flags and the model and renders.
#pragma once

#include <charconv>
#include <iterator>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "json_writer.hpp"
#include "transformers_plan.hpp"
#include "vllm_command.hpp"
#include "vramfit/engines/vllm/emit.hpp"
#include "vramfit/engines/vllm/plan.hpp"

namespace vramfit::cli {

struct vllm_plan_options {
    vllm_options base;               // the flags shared with estimate --engine vllm
    std::uint32_t nodes = 1;
    bool max_ctx = false;
    std::uint32_t concurrency = 1;
    bool offload = true;
    std::string emit;
    speed_inputs rates{};
};

inline std::string vllm_plan_flag_help() {
    return "plan MODEL --engine vllm flags (vllm serve's names where vLLM has them):\n"
           "  MODEL                       a Hugging Face model directory or config.json, a Hub id in the local\n"
           "                              cache, or a catalog name or Hub id (vramfit models)\n"
           "  --gpu NAME[xN]              the GPUs of one node (vramfit gpus)\n"
           "  --nodes N                   machines with those GPUs, joined by Ray [1]\n"
           "  --network-gb-s F            GB/s between machines, for the speed bound [1.25: 10 Gb Ethernet]\n"
           "  --max-model-len N           the length to serve [the model's]\n"
           "  --max-ctx                   the largest max_model_len vLLM accepts instead\n"
           "  --concurrency N             requests of max_model_len held at once [1]\n"
           "  --max-num-seqs N            sequences per step [the release's default for the GPU]\n"
           "  --max-num-batched-tokens N  tokens per step [likewise]\n"
           "  --kv-cache-dtype T          auto, fp8, fp8_e4m3, fp8_e5m2 [auto]\n"
           "  --gpu-memory-utilization F  share of each GPU's total [0.9; 0.92 from 0.20]\n"
           "  --vllm-version X.Y[.Z]      the release whose accounting applies [0.33]\n"
           "  --dtype T                   auto, bfloat16, float16 [auto]\n"
           "  --enforce-eager             no CUDA graphs\n"
           "  --enable-expert-parallel    shard whole experts over the TP ranks\n"
           "  --cpu-offload-gb F          GiB of weights per GPU in host memory, for every layout\n"
           "  --no-cpu-offload            when nothing fits, do not try --cpu-offload-gb\n"
           "  --block-size N              KV block size in tokens [the attention backend's]\n"
           "  --v0                        the V0 engine (VLLM_USE_V1=0; releases before 0.11)\n"
           "  --emit vllm                 only the commands: vllm serve (and the Ray cluster's start)\n"
           "  --json                      machine-readable output\n";
}

inline result<vllm_plan_options> parse_vllm_plan_args(std::span<const std::string_view> args) {
    vllm_plan_options o;
    bool length_given = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        auto value = [&]() -> result<std::string_view> {
            if (i + 1 >= args.size()) return error{errc::invalid_argument, arg}.with(": missing value");
            return args[++i];
        };
        if (arg == "--nodes" || arg == "--concurrency") {
            auto v = value();
            if (!v) return v.err();
            auto n = detail::parse_count(arg, *v, 1, arg == "--nodes" ? 1024u : 1u << 20);
            if (!n) return n.err();
            (arg == "--nodes" ? o.nodes : o.concurrency) = *n;
            continue;
        }
        if (arg == "--network-gb-s") {
            auto v = value();
            if (!v) return v.err();
            double rate = 0;
            const auto* end = v->data() + v->size();
            auto [ptr, ec] = std::from_chars(v->data(), end, rate);
            if (v->empty() || ec != std::errc{} || ptr != end || !(rate > 0) || rate > 1e6) return detail::flag_error(arg, "expects GB/s as a positive number", *v);
            o.rates.network_gb_s = rate;
            continue;
        }
        if (arg == "--max-ctx") { o.max_ctx = true; continue; }
        if (arg == "--no-cpu-offload") { o.offload = false; continue; }
        if (arg == "--emit") {
            auto v = value();
            if (!v) return v.err();
            if (*v != "vllm") return detail::flag_error(arg, "expects vllm (the engine planned for)", *v);
            o.emit = std::string{*v};
            continue;
        }
        if (arg == "-tp" || arg == "--tensor-parallel-size" || arg == "-pp" || arg == "--pipeline-parallel-size" ||
            arg == "--pp-layer-partition") {
            return error{errc::invalid_argument, arg}.with(": plan chooses the layout itself (vramfit estimate MODEL --engine vllm -tp N -pp N sizes one)");
        }
        if (arg == "--kv-cache-memory-bytes" || arg == "--kv-cache-memory") {
            return error{errc::invalid_argument, arg}.with(": plan sizes the KV cache from the GPUs' memory (vramfit estimate takes it)");
        }
        if (const auto* flag = detail::find_vllm_flag(arg)) {
            std::string_view v;
            if (!flag->value.empty()) {
                auto got = value();
                if (!got) return got.err();
                v = *got;
            }
            length_given = length_given || arg == "--max-model-len";
            auto applied = detail::apply_vllm_flag(o.base, arg, v);
            if (!applied) return applied.err();
        } else if (!arg.empty() && arg[0] == '-') {
            return error{errc::invalid_argument, "unknown flag '"}.with(arg).with("' (see vramfit plan --engine vllm --help)");
        } else if (o.base.model.empty()) {
            o.base.model = std::string{arg};
        } else {
            return error{errc::invalid_argument, "unexpected argument '"}.with(arg).with("': one MODEL only");
        }
    }
    if (o.base.model.empty()) return error{errc::invalid_argument, "missing MODEL: a model directory, a Hub id, or a catalog name"};
    if (o.base.gpus.empty()) return error{errc::invalid_argument, "missing --gpu: the GPUs of one node (e.g. --gpu h100-sxmx8)"};
    if (o.max_ctx && length_given) return error{errc::invalid_argument, "--max-ctx and --max-model-len: give one"};
    return o;
}

namespace detail {

inline std::string vllm_layout_label(const vllm::layout_candidate& l) {
    return l.pp == 0 ? fmt::format("{} x any", l.tp) : fmt::format("{} x {}", l.tp, l.pp);
}

inline std::string vllm_rate(const vllm::layout_candidate& l) {
    return l.estimate && l.speed.tokens_per_s > 0 ? rate_text(l.speed.tokens_per_s) : std::string{"-"};
}

// Why nothing fits, in one line: the valid layout with the most GPUs, else the first rule.
inline std::string vllm_nothing_fits(const vllm::vllm_plan& p) {
    const vllm::layout_candidate* shown = nullptr;
    for (const auto& l : p.layouts) {
        if (l.valid() && (shown == nullptr || l.gpus >= shown->gpus)) shown = &l;
    }
    if (shown == nullptr && !p.layouts.empty()) shown = &p.layouts.front();
    if (shown == nullptr) return "no layout to try";
    return fmt::format("TP {} x PP {}: {}", shown->tp, shown->pp, shown->why_not().view());
}

} // namespace detail

inline std::string render_vllm_plan_text(const vllm_plan_options& o, const detail::hf_input& in, const vllm::plan_request& q,
                                         const vllm::vllm_plan& p) {
    std::string out;
    auto line = std::back_inserter(out);
    const auto& gpu = q.gpu;
    const auto& a = q.args;
    fmt::format_to(line, "model     {} ({}, {} layers)\n", in.source, in.config.model_type.view(), in.config.num_hidden_layers);
    fmt::format_to(line, "GPUs      {} x {} {}({} GB/s between GPUs of a node", q.cluster.gpus_per_node, gpu.name.view(),
                   q.cluster.nodes == 1 ? "" : fmt::format("in each of {} nodes ", q.cluster.nodes), gpu_link_gb_s(gpu, gpu));
    if (q.cluster.nodes > 1) fmt::format_to(line, ", {} GB/s between nodes", q.rates.network_gb_s);
    out += ")\n";
    const vllm::layout_candidate* any = p.best();
    for (const auto& l : p.layouts) {
        if (any == nullptr && l.estimate) any = &l;
    }
    if (any != nullptr) {
        const auto& r = any->estimate->args;
        fmt::format_to(line, "engine    vLLM {}.{}.{} ({}): gpu_memory_utilization {}, max_num_seqs {}, max_num_batched_tokens {}, kv_cache_dtype {}\n",
                       r.version.major, r.version.minor, r.version.patch, vllm::to_string(r.family), r.gpu_memory_utilization, r.max_num_seqs,
                       r.max_num_batched_tokens, vllm::to_string(r.cache_dtype));
    }
    const std::string length = o.max_ctx ? fmt::format("the largest max_model_len (the model allows {})", p.model_max_len)
                                         : fmt::format("max_model_len {}", a.max_model_len != 0 ? a.max_model_len : p.model_max_len);
    fmt::format_to(line, "asked     {}, {} {} at once\n\n", length, o.concurrency, o.concurrency == 1 ? "request" : "requests");

    constexpr std::string_view row = "{:<1} {:<8} {:>4} {:>5} {:>12} {:>12} {:>10} {:>11} {:>11} {:>13} {:>10}  {}\n";
    fmt::format_to(line, row, "", "TP x PP", "GPUs", "nodes", "weights/GPU", "offload/GPU", "KV/GPU", "KV tokens", "concurrency", "max_model_len",
                   "decode t/s", "verdict");
    for (std::size_t i = 0; i < p.layouts.size(); ++i) {
        const auto& l = p.layouts[i];
        const bool chosen = p.any_fits && i == p.chosen;
        const std::string verdict = l.fits() ? std::string{"fits"} : std::string{l.why_not().view()};
        if (!l.estimate) {
            fmt::format_to(line, row, "", detail::vllm_layout_label(l), l.pp == 0 ? "-" : std::to_string(l.gpus), l.pp == 0 ? "-" : std::to_string(l.nodes),
                           "-", "-", "-", "-", "-", "-", "-", verdict);
            continue;
        }
        const auto& e = *l.estimate;
        const auto& d = e.deciding();
        const bool starts = !vllm::detail::planning::no_blocks(e);
        fmt::format_to(line, row, chosen ? "*" : "", detail::vllm_layout_label(l), l.gpus, l.nodes, detail::vllm_gib(e.max_weights_per_gpu()),
                       l.cpu_offload.count() != 0 ? detail::vllm_gib(l.cpu_offload) : std::string{"-"},
                       detail::vllm_signed_gib(d.memory.available_gib()),
                       starts ? std::string{vllm::format_thousands(e.capacity.tokens).view()} : std::string{"-"},
                       starts ? fmt::format("{:.2f}x", e.capacity.concurrency) : std::string{"-"},
                       l.fits() ? std::to_string(l.max_model_len) : starts ? fmt::format("{} max", l.largest_len) : std::string{"-"},
                       starts ? detail::vllm_rate(l) : std::string{"-"}, verdict);
    }
    out += "\n";
    const auto* best = p.best();
    if (best == nullptr) {
        out += "nothing fits: " + detail::vllm_nothing_fits(p) + "\n";
        if (!o.offload || q.args.cpu_offload.count() != 0) out += "(--cpu-offload-gb was not searched)\n";
        return out;
    }
    const auto& e = *best->estimate;
    fmt::format_to(line, "plan: TP {} x PP {} on {} ({} {}): max_model_len {}, GPU KV cache {} tokens, maximum concurrency {:.2f}x\n", best->tp,
                   best->pp, best->gpus == 1 ? std::string{"1 GPU"} : fmt::format("{} GPUs", best->gpus), best->nodes, best->nodes == 1 ? "node" : "nodes", best->max_model_len, vllm::format_thousands(e.capacity.tokens).view(),
                   e.capacity.concurrency);
    if (best->cpu_offload.count() != 0) {
        fmt::format_to(line, "      no layout fits on the GPUs alone: --cpu-offload-gb {} keeps {} of each GPU's weights in pinned host memory\n"
                             "      ({} in all), read over PCIe on every token; a shorter --max-model-len needs less\n",
                       vllm::short_fraction(best->cpu_offload.gib()), detail::vllm_gib(best->cpu_offload),
                       detail::vllm_gib(bytes{best->cpu_offload.count() * best->gpus}));
    }
    std::string paths = "GPU memory";
    if (best->tp > 1) paths += ", all-reduces over the GPUs' links";
    if (best->pp > 1) paths += best->nodes > 1 ? ", stage boundaries over the links and the network" : ", stage boundaries over the links";
    if (best->cpu_offload.count() != 0) paths += ", offloaded weights over PCIe";
    fmt::format_to(line, "decode: at most {} tokens/s for one sequence, a bound from bytes over bandwidths alone\n"
                         "        ({}; no latency, no compute), with no measured error band yet\n",
                   detail::rate_text(best->speed.tokens_per_s), paths);
    out += "\nvLLM will print (the worker with the fewest blocks):\n";
    for (const auto& l : detail::vllm_printed_lines(e)) out += "  " + l + "\n";
    out += "\n" + vllm::emit_commands(*best, pretrained_name(o.base.model), q.args);
    return out;
}

inline std::string render_vllm_plan_json(const vllm_plan_options& o, const detail::hf_input& in, const vllm::plan_request& q,
                                         const vllm::vllm_plan& p) {
    json_writer json;
    json.begin_object();
    json.field("engine", "vllm");
    json.field("vllm_version", fmt::format("{}.{}.{}", q.args.version.major, q.args.version.minor, q.args.version.patch));
    json.field("model", in.source);
    json.field("model_type", in.config.model_type.view());
    json.field("gpu", o.base.gpu_argument);
    json.field("gpus_per_node", q.cluster.gpus_per_node);
    json.field("nodes", q.cluster.nodes);
    json.field("max_ctx", o.max_ctx);
    json.field("concurrency", o.concurrency);
    json.field("model_max_len", p.model_max_len);
    json.field("fits", p.any_fits);
    json.field("cpu_offload_needed", p.offloaded);
    auto layout = [&](const vllm::layout_candidate& l) {
        json.begin_object();
        json.field("tensor_parallel_size", l.tp);
        json.field("pipeline_parallel_size", l.pp);
        json.field("valid", l.valid());
        json.field("fits", l.fits());
        if (!l.fits()) json.field("why_not", l.why_not().view());
        if (l.estimate) {
            const auto& e = *l.estimate;
            json.field("gpus", l.gpus);
            json.field("nodes", l.nodes);
            json.field("weights_bytes_per_gpu", e.max_weights_per_gpu().count());
            json.field("cpu_offload_bytes_per_gpu", l.cpu_offload.count());
            json.field("available_kv_bytes", e.deciding().memory.available.count());
            json.field("num_gpu_blocks", e.num_gpu_blocks);
            json.field("kv_cache_tokens", e.capacity.tokens);
            json.field("max_concurrency", e.capacity.concurrency);
            json.field("max_model_len", l.max_model_len);
            json.field("max_model_len_fit", l.largest_len);
            json.field("decode_tokens_per_s_bound", l.speed.tokens_per_s);
        }
        json.end_object();
    };
    json.key("chosen");
    if (const auto* best = p.best()) layout(*best);
    else json.raw("null");
    json.key("layouts").begin_array();
    for (const auto& l : p.layouts) layout(l);
    json.end_array();
    if (const auto* best = p.best()) json.field("commands", vllm::emit_commands(*best, pretrained_name(o.base.model), q.args));
    else json.field("why_nothing_fits", detail::vllm_nothing_fits(p));
    json.end_object();
    return json.str() + "\n";
}

// `vramfit plan MODEL --engine vllm ...` (args without --engine and its value). Exit 0 with a plan,
// 1 when nothing fits (the reason printed), 2 on bad input.
inline int run_vllm_plan(std::span<const std::string_view> args, std::string& out, std::string& err) {
    for (auto a : args) {
        if (a == "--help" || a == "-h") { out += vllm_plan_flag_help(); return 0; }
    }
    auto options = parse_vllm_plan_args(args);
    if (!options) { err += "vramfit plan: " + options.err().describe() + "\n"; return 2; }
    auto input = detail::read_hf_input(options->base.model);
    if (!input) { err += "vramfit plan: " + input.err().describe() + "\n"; return 2; }
    vllm::plan_request q{};
    q.args = options->base.args;
    q.gpu = options->base.gpus.front();
    q.cluster = {static_cast<std::uint32_t>(options->base.gpus.size()), options->nodes};
    q.max_ctx = options->max_ctx;
    q.concurrency = options->concurrency;
    q.offload_fallback = options->offload;
    q.checkpoint_dtype = input->checkpoint_dtype;
    q.rates = options->rates;
    auto p = vllm::plan_layouts(input->config, q);
    if (!p) { err += "vramfit plan: " + p.err().describe() + "\n"; return 2; }
    if (!options->emit.empty()) {
        if (!p->any_fits) { err += "vramfit plan: nothing fits: " + detail::vllm_nothing_fits(*p) + "\n"; return 1; }
        out += vllm::emit_commands(*p->best(), pretrained_name(options->base.model), q.args);
        return 0;
    }
    out += options->base.json ? render_vllm_plan_json(*options, *input, q, *p) : render_vllm_plan_text(*options, *input, q, *p);
    return p->any_fits ? 0 : 1;
}

} // namespace vramfit::cli
