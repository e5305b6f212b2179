// tools/vllm_command.hpp — `vramfit estimate MODEL --engine vllm`: what vLLM's start-up will find on
// each GPU of a TP × PP layout (weights, the non-KV terms, the memory left for KV, the blocks) and
// the lines it will print, under `vllm serve`'s own flag names.
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "arguments.hpp"
#include "json_writer.hpp"
#include "transformers_command.hpp"
#include "vramfit/catalog/gpus.hpp"
#include "vramfit/core/format.hpp"
#include "vramfit/engines/vllm/estimate.hpp"

namespace vramfit::cli {

struct vllm_options {
    std::string model;
    vllm::engine_args args;
    std::vector<device> gpus;
    std::string gpu_argument;
    bool json = false;
};

namespace detail {

struct vllm_flag {
    std::array<std::string_view, 2> names;
    std::string_view value;  // empty: a switch
    std::string_view help;
};

// The flags of `estimate --engine vllm`, in the help's order (vllm serve's names; -tp / -pp are its
// short forms).
inline constexpr vllm_flag vllm_flags[] = {
    {{"--gpu", ""}, "NAME[xN]", "catalog GPUs (vramfit gpus); one kind, at least TP x PP of them"},
    {{"-tp", "--tensor-parallel-size"}, "N", "tensor parallel size [1]"},
    {{"-pp", "--pipeline-parallel-size"}, "N", "pipeline parallel size [1]"},
    {{"--gpu-memory-utilization", ""}, "F", "share of each GPU's total for this instance [0.9; 0.92 from 0.20]"},
    {{"--max-model-len", ""}, "N", "context length (32768, 32k = 32000, 32K = 32768) [the model's]"},
    {{"--max-num-seqs", ""}, "N", "sequences per step [the release's default for the GPU]"},
    {{"--max-num-batched-tokens", ""}, "N", "tokens per step [likewise]"},
    {{"--kv-cache-dtype", ""}, "T", "auto, fp8, fp8_e4m3, fp8_e5m2 [auto]"},
    {{"--enforce-eager", ""}, "", "no CUDA graphs"},
    {{"--kv-cache-memory-bytes", "--kv-cache-memory"}, "N", "KV memory per GPU in bytes (or 8GiB, 512MiB); skips the profile's budget"},
    {{"--vllm-version", ""}, "X.Y[.Z]", "the release whose accounting applies [0.33]"},
    {{"--dtype", ""}, "T", "auto, bfloat16, float16 [auto]"},
    {{"--block-size", ""}, "N", "KV block size in tokens [the attention backend's]"},
    {{"--enable-expert-parallel", ""}, "", "shard whole experts over the TP ranks"},
    {{"--pp-layer-partition", ""}, "A,B,...", "layers per stage (VLLM_PP_LAYER_PARTITION)"},
    {{"--cpu-offload-gb", ""}, "F", "GiB of weights per GPU kept in host memory"},
    {{"--v0", ""}, "", "the V0 engine (VLLM_USE_V1=0; releases before 0.11)"},
    {{"--json", ""}, "", "machine-readable output"},
};

inline const vllm_flag* find_vllm_flag(std::string_view name) {
    for (const auto& f : vllm_flags) {
        for (auto n : f.names) {
            if (!n.empty() && n == name) return &f;
        }
    }
    return nullptr;
}

// vLLM's human_readable_int for lengths: k = 10^3, K = 2^10, m = 10^6, M = 2^20.
inline result<std::uint32_t> parse_length(std::string_view flag, std::string_view text) {
    std::uint64_t scale = 1;
    std::string_view digits = text;
    if (!digits.empty()) {
        switch (digits.back()) {
            case 'k': scale = 1000; break;
            case 'K': scale = 1024; break;
            case 'm': scale = 1000000; break;
            case 'M': scale = 1048576; break;
            default: break;
        }
        if (scale != 1) digits.remove_suffix(1);
    }
    auto n = parse_count(flag, digits, 1, max_tokens);
    if (!n) return flag_error(flag, "expects a whole number of tokens (32768, 32k, 32K)", text);
    if (std::uint64_t{*n} * scale > max_tokens) return flag_error(flag, "is out of range", text);
    return static_cast<std::uint32_t>(std::uint64_t{*n} * scale);
}

inline result<double> parse_fraction(std::string_view flag, std::string_view text) {
    double value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || !(value > 0) || value > 1) return flag_error(flag, "expects a number in (0, 1]", text);
    return value;
}

// A byte count, or a size with a unit (parse_size's units).
inline result<bytes> parse_byte_count(std::string_view flag, std::string_view text) {
    std::uint64_t value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (!text.empty() && ec == std::errc{} && ptr == end) {
        if (value == 0) return flag_error(flag, "expects a positive size", text);
        return bytes{value};
    }
    auto size = parse_size(flag, text);
    if (!size || size->count() == 0) return flag_error(flag, "expects a byte count or a size such as 8GiB", text);
    return *size;
}

inline result<bool> apply_vllm_flag(vllm_options& o, std::string_view flag, std::string_view v) {
    auto& a = o.args;
    auto count = [&](std::uint32_t lo, std::uint32_t hi, std::uint32_t& field) -> result<bool> {
        auto n = parse_count(flag, v, lo, hi);
        if (!n) return n.err();
        field = *n;
        return true;
    };
    if (flag == "--gpu") {
        auto selection = catalog::parse_gpu_argument(v);
        if (!selection) return with_cli_hint(selection.err());
        if (!o.gpus.empty() && o.gpu_argument != v) {
            return flag_error(flag, "names a second GPU kind: vLLM's workers are modelled on one kind of GPU", v);
        }
        for (unsigned i = 0; i < selection->count; ++i) o.gpus.push_back(catalog::to_device(*selection->gpu));
        o.gpu_argument = std::string{v};
        return true;
    }
    if (flag == "-tp" || flag == "--tensor-parallel-size") return count(1, 64, a.tensor_parallel_size);
    if (flag == "-pp" || flag == "--pipeline-parallel-size") return count(1, vllm::max_pipeline_stages, a.pipeline_parallel_size);
    if (flag == "--gpu-memory-utilization") {
        auto f = parse_fraction(flag, v);
        if (!f) return f.err();
        a.gpu_memory_utilization = *f;
        return true;
    }
    if (flag == "--max-model-len") {
        auto n = parse_length(flag, v);
        if (!n) return n.err();
        a.max_model_len = *n;
        return true;
    }
    if (flag == "--max-num-seqs") return count(1, 1u << 20, a.max_num_seqs);
    if (flag == "--max-num-batched-tokens") return count(1, max_tokens, a.max_num_batched_tokens);
    if (flag == "--block-size") return count(1, 1u << 16, a.block_size);
    if (flag == "--kv-cache-dtype") {
        auto d = vllm::parse_kv_cache_dtype(v);
        if (!d || *d == vllm::kv_cache_dtype::bfloat16 || *d == vllm::kv_cache_dtype::float16) {
            return flag_error(flag, "expects auto, fp8, fp8_e4m3 or fp8_e5m2", v);
        }
        a.cache_dtype = *d;
        return true;
    }
    if (flag == "--kv-cache-memory-bytes" || flag == "--kv-cache-memory") {
        auto b = parse_byte_count(flag, v);
        if (!b) return b.err();
        a.kv_cache_memory_bytes = *b;
        return true;
    }
    if (flag == "--vllm-version") {
        auto r = vllm::parse_release(v);
        if (!r) return error{errc::invalid_argument, flag}.with(": ").with(r.err().message());
        a.version = *r;
        return true;
    }
    if (flag == "--dtype") {
        if (v == "auto") a.serving_dtype.reset();
        else if (v == "bfloat16") a.serving_dtype = dtype::bf16;
        else if (v == "float16" || v == "half") a.serving_dtype = dtype::f16;
        else return flag_error(flag, "expects auto, bfloat16 or float16", v);
        return true;
    }
    if (flag == "--pp-layer-partition") {
        if (v.size() > a.pp_layer_partition.capacity()) return flag_error(flag, "is too long", v.substr(0, 40));
        a.pp_layer_partition = v;
        return true;
    }
    if (flag == "--cpu-offload-gb") {
        double gb = 0;
        const auto* end = v.data() + v.size();
        auto [ptr, ec] = std::from_chars(v.data(), end, gb);
        if (v.empty() || ec != std::errc{} || ptr != end || !(gb >= 0) || gb > 1e5) return flag_error(flag, "expects GiB as a number", v);
        a.cpu_offload = bytes{static_cast<std::uint64_t>(gb * 1073741824.0)};
        return true;
    }
    if (flag == "--enforce-eager") { a.enforce_eager = true; return true; }
    if (flag == "--enable-expert-parallel") { a.enable_expert_parallel = true; return true; }
    if (flag == "--v0") { a.engine = vllm::engine_kind::v0; return true; }
    if (flag == "--json") { o.json = true; return true; }
    return error{errc::invalid_argument, "unknown flag '"}.with(flag).with("'");
}

} // namespace detail

inline std::string vllm_flag_help() {
    std::string out = "estimate MODEL --engine vllm flags (vllm serve's names):\n"
                      "  MODEL                       a Hugging Face model directory or config.json, a Hub id in the local\n"
                      "                              cache, or a catalog name or Hub id (vramfit models)\n";
    for (const auto& f : detail::vllm_flags) {
        std::string names{f.names[0]};
        if (!f.names[1].empty()) names += ", " + std::string{f.names[1]};
        if (!f.value.empty()) names += " " + std::string{f.value};
        if (names.size() + 2 > 30) out += fmt::format("  {}\n  {:<28}{}\n", names, "", f.help);
        else out += fmt::format("  {:<28}{}\n", names, f.help);
    }
    return out;
}

inline result<vllm_options> parse_vllm_args(std::span<const std::string_view> args) {
    vllm_options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (const auto* flag = detail::find_vllm_flag(arg)) {
            std::string_view value;
            if (!flag->value.empty()) {
                if (i + 1 >= args.size()) return error{errc::invalid_argument, arg}.with(": missing value");
                value = args[++i];
            }
            auto applied = detail::apply_vllm_flag(o, arg, value);
            if (!applied) return applied.err();
        } else if (!arg.empty() && arg[0] == '-') {
            return error{errc::invalid_argument, "unknown flag '"}.with(arg).with("' (see vramfit estimate --engine vllm --help)");
        } else if (o.model.empty()) {
            o.model = std::string{arg};
        } else {
            return error{errc::invalid_argument, "unexpected argument '"}.with(arg).with("': one MODEL only");
        }
    }
    if (o.model.empty()) return error{errc::invalid_argument, "missing MODEL: a model directory, a Hub id, or a catalog name"};
    if (o.gpus.empty()) return error{errc::invalid_argument, "missing --gpu: vLLM sizes its KV cache from the GPU (e.g. --gpu h100-sxm)"};
    const std::uint64_t world = std::uint64_t{o.args.tensor_parallel_size} * o.args.pipeline_parallel_size;
    if (world > o.gpus.size()) {
        return error{errc::invalid_argument, "-tp "}.with_number(o.args.tensor_parallel_size).with(" x -pp ")
            .with_number(o.args.pipeline_parallel_size).with(" needs ").with_number(world).with(" GPUs, --gpu gives ").with_number(o.gpus.size());
    }
    return o;
}

namespace detail {

inline std::string vllm_gib(bytes b) { return fmt::format("{:.2f} GiB", b.gib()); }
inline std::string vllm_signed_gib(double g) { return fmt::format("{:.2f} GiB", g); }

inline std::vector<std::string> vllm_split_lines(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        out.emplace_back(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

inline std::vector<std::string> vllm_printed_lines(const vllm::startup_estimate& e) {
    const auto l = vllm::lines_of(e);
    std::vector<std::string> out;
    for (const auto* t : {&l.loading, &l.available, &l.blocks, &l.capacity, &l.error}) {
        for (auto& s : vllm_split_lines(t->view())) out.push_back(std::move(s));
    }
    return out;
}

} // namespace detail

inline std::string render_vllm_json(const vllm_options& o, const detail::hf_input& in, const vllm::startup_estimate& e) {
    const auto& r = e.args;
    const auto& d = e.deciding();
    json_writer json;
    json.begin_object();
    json.field("engine", "vllm");
    json.field("vllm_version", fmt::format("{}.{}.{}", r.version.major, r.version.minor, r.version.patch));
    json.field("release_family", vllm::to_string(r.family));
    json.field("model", in.source);
    json.field("model_type", in.config.model_type.view());
    json.field("gpu", o.gpu_argument);
    json.field("tensor_parallel_size", r.tp);
    json.field("pipeline_parallel_size", r.pp);
    json.field("gpu_memory_utilization", r.gpu_memory_utilization);
    json.field("max_model_len", r.max_model_len);
    json.field("max_num_seqs", r.max_num_seqs);
    json.field("max_num_batched_tokens", r.max_num_batched_tokens);
    json.field("kv_cache_dtype", vllm::to_string(r.cache_dtype));
    json.field("weights_bytes_per_gpu", e.max_weights_per_gpu().count());
    json.field("available_kv_bytes", d.memory.available.count());
    json.field("kv_shortfall_bytes", d.memory.shortfall.count());
    json.field("num_gpu_blocks", e.num_gpu_blocks);
    json.field("block_size", e.block_size);
    // what the blocks hold; vLLM prints it only when max_model_len passes its check ("fits")
    json.field("kv_cache_tokens", e.capacity.tokens);
    json.field("max_concurrency", e.capacity.concurrency);
    json.field("max_model_len_fit", e.max_model_len_fit);
    json.field("fits", e.verdict.fits);
    json.key("stages").begin_array();
    for (std::size_t s = 0; s < e.stages.size(); ++s) {
        const auto& st = e.stages[s];
        json.begin_object();
        json.field("stage", static_cast<std::uint64_t>(s));
        json.field("first_layer", st.weights.first_layer);
        json.field("layers", st.weights.layers);
        json.field("cuda_total_bytes", st.memory.total.count());
        json.field("requested_bytes", st.memory.requested.count());
        json.field("weights_bytes", st.weights.on_gpu().count());
        json.field("activation_peak_bytes", st.memory.activation_peak.count());
        json.field("non_torch_bytes", st.memory.non_torch.count());
        json.field("cudagraph_estimate_bytes", st.memory.cudagraph_estimate.count());
        json.field("available_kv_bytes", st.memory.available.count());
        json.field("kv_shortfall_bytes", st.memory.shortfall.count());
        json.field("bytes_per_block", st.kv.bytes_per_block.count());
        json.field("kv_cache_groups", st.kv.group_count);
        json.field("num_gpu_blocks", st.blocks);
        json.end_object();
    }
    json.end_array();
    json.key("printed").begin_array();
    for (const auto& line : detail::vllm_printed_lines(e)) json.value(line);
    json.end_array();
    json.end_object();
    return json.str() + "\n";
}

inline std::string render_vllm_text(const vllm_options& o, const detail::hf_input& in, const vllm::startup_estimate& e) {
    const auto& r = e.args;
    std::string out;
    auto line = std::back_inserter(out);
    fmt::format_to(line, "model     {} ({}, {} layers)\n", in.source, in.config.model_type.view(), in.config.num_hidden_layers);
    fmt::format_to(line, "engine    vLLM {}.{}.{} ({}), TP {} x PP {} on {} x {}\n", r.version.major, r.version.minor, r.version.patch,
                   vllm::to_string(r.family), r.tp, r.pp, r.tp * r.pp, o.gpus.front().name.view());
    fmt::format_to(line, "settings  gpu_memory_utilization {}, max_model_len {}, max_num_seqs {}, max_num_batched_tokens {},\n", r.gpu_memory_utilization,
                   r.max_model_len, r.max_num_seqs, r.max_num_batched_tokens);
    fmt::format_to(line, "          dtype {}, kv_cache_dtype {}, block size {}, {}\n\n", type_name(r.model_dtype), vllm::to_string(r.cache_dtype),
                   e.block_size, r.enforce_eager || r.engine == vllm::engine_kind::v0 ? "eager" : "CUDA graphs");

    constexpr std::string_view row = "{:<34}";
    out += fmt::format(row, "per GPU");
    for (std::size_t s = 0; s < e.stages.size(); ++s) out += fmt::format("{:>16}", e.stages.size() == 1 ? std::string{"every rank"} : fmt::format("stage {}", s));
    out += "\n";
    auto add = [&](std::string_view label, auto value_of) {
        out += fmt::format(row, label);
        for (const auto& st : e.stages) out += fmt::format("{:>16}", value_of(st));
        out += "\n";
    };
    add("layers", [](const vllm::stage_estimate& st) {
        return fmt::format("{}-{}", st.weights.first_layer, st.weights.first_layer + st.weights.layers - (st.weights.layers != 0 ? 1 : 0));
    });
    add("CUDA total", [](const vllm::stage_estimate& st) { return detail::vllm_gib(st.memory.total); });
    add(fmt::format("requested (total x {})", r.gpu_memory_utilization), [](const vllm::stage_estimate& st) { return detail::vllm_gib(st.memory.requested); });
    add("weights", [](const vllm::stage_estimate& st) { return detail::vllm_gib(st.weights.on_gpu()); });
    add("activation peak (estimate)", [](const vllm::stage_estimate& st) { return detail::vllm_gib(st.memory.activation_peak); });
    add("non-torch memory (estimate)", [](const vllm::stage_estimate& st) { return detail::vllm_gib(st.memory.non_torch); });
    add("CUDA graph estimate (estimate)", [](const vllm::stage_estimate& st) { return detail::vllm_gib(st.memory.cudagraph_estimate); });
    add(r.kv_cache_memory_bytes ? "KV memory (--kv-cache-memory-bytes)" : "available KV cache memory",
        [](const vllm::stage_estimate& st) { return detail::vllm_signed_gib(st.memory.available_gib()); });
    add("bytes per block", [](const vllm::stage_estimate& st) { return format_bytes(st.kv.bytes_per_block); });
    add("blocks (this worker)", [](const vllm::stage_estimate& st) { return std::to_string(st.blocks); });

    out += "\nvLLM prints:\n";
    for (const auto& l : detail::vllm_printed_lines(e)) out += "  " + l + "\n";
    out += "\n";
    if (e.verdict.fits) {
        fmt::format_to(line, "max_model_len {} fits; every worker gets {} blocks of {} tokens; the largest length one request may have is {}.\n",
                       r.max_model_len, e.num_gpu_blocks, e.block_size, e.max_model_len_fit);
    } else if (e.verdict.no_memory) {
        fmt::format_to(line, "vLLM will not start: no memory is left for KV cache blocks on stage {} (raise --gpu-memory-utilization, add GPUs).\n",
                       e.verdict.failing_stage);
    } else {
        fmt::format_to(line, "vLLM will not start: max_model_len {} does not fit; the largest that fits is {} (--max-model-len {}).\n", r.max_model_len,
                       e.max_model_len_fit, e.max_model_len_fit);
    }
    out += "activation peak, non-torch memory and the CUDA graph estimate are estimates (engines/vllm/memory.hpp); the rest follows vLLM's\n"
           "accounting for the release.\n";
    return out;
}

inline int run_vllm_estimate(std::span<const std::string_view> args, std::string& out, std::string& err) {
    for (auto a : args) {
        if (a == "--help" || a == "-h") { out += vllm_flag_help(); return 0; }
    }
    auto options = parse_vllm_args(args);
    if (!options) { err += "vramfit estimate: " + options.err().describe() + "\n"; return 2; }
    auto input = detail::read_hf_input(options->model);
    if (!input) { err += "vramfit estimate: " + input.err().describe() + "\n"; return 2; }
    auto e = vllm::estimate_startup(input->config, options->gpus.front(), options->args, nullptr, input->checkpoint_dtype);
    if (!e) { err += "vramfit estimate: " + e.err().describe() + "\n"; return 2; }
    out += options->json ? render_vllm_json(*options, *input, *e) : render_vllm_text(*options, *input, *e);
    return 0;
}

} // namespace vramfit::cli
