// tools/arguments.hpp — the estimate command's flags, named as llama.cpp names them.
#pragma once

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vramfit/catalog/gpus.hpp"
#if defined(VRAMFIT_WITH_RUNTIME)
#include <deque>
#include "vramfit/runtime/devices.hpp"
#endif
#include "vramfit/engines/llama_cpp/context_params.hpp"
#include "vramfit/engines/llama_cpp/cuda/offload.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::cli {

struct estimate_options {
    std::string model;  // a .gguf path or a catalog name such as llama-3.1-8b:Q4_K_M
    llama_cpp::context_params params;
    bool json = false;
    // CUDA placement (any --gpu turns it on): one catalog GPU per CUDA device, in order.
    std::vector<const catalog::gpu_spec*> gpus;
    llama_cpp::offload_params offload;
    bytes reserve_per_device{};  // --reserve MiB: kept free on top of the estimated CUDA overhead
};

namespace detail {

inline error flag_error(std::string_view flag, std::string_view problem, std::string_view got) {
    return error{errc::invalid_argument, flag}.with(": ").with(problem).with(", got '").with(got).with("'");
}

// The library says what is wrong; where to look next is the command line's to say.
inline error with_cli_hint(error e) {
    if (e.code() == errc::unknown_name && e.message().starts_with("unknown GPU '")) {
        e.with(e.message().ends_with('?') ? " " : "; ").with("`vramfit gpus` lists the ").with_number(catalog::gpus.size())
            .with(" known GPUs");
    }
    return e;
}

inline result<std::uint32_t> parse_count(std::string_view flag, std::string_view text, std::uint32_t minimum,
                                         std::uint32_t maximum) {
    std::uint64_t value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end) return flag_error(flag, "expects a whole number", text);
    if (value < minimum || value > maximum) {
        return flag_error(flag, "is out of range", text).with(" (allowed ").with_number(minimum).with("..").with_number(maximum).with(")");
    }
    return static_cast<std::uint32_t>(value);
}

// KV cache types llama.cpp accepts for -ctk/-ctv (common/arg.cpp kv_cache_types).
inline result<ggml_type> parse_cache_type(std::string_view flag, std::string_view text) {
    constexpr ggml_type allowed[] = {ggml_type::f32, ggml_type::f16, ggml_type::bf16, ggml_type::q8_0, ggml_type::q4_0,
                                     ggml_type::q4_1, ggml_type::iq4_nl, ggml_type::q5_0, ggml_type::q5_1};
    if (auto type = ggml_type_from_name(text)) {
        for (auto a : allowed)
            if (a == *type) return *type;
    }
    return flag_error(flag, "expects one of f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1", text);
}

inline result<llama_cpp::repack_mode> parse_repack(std::string_view text) {
    using llama_cpp::repack_mode;
    struct named { std::string_view name; repack_mode mode; };
    constexpr named modes[] = {{"on", repack_mode::host}, {"host", repack_mode::host}, {"off", repack_mode::off},
                               {"avx2", repack_mode::avx2}, {"avx512", repack_mode::avx512},
                               {"neon", repack_mode::neon_dotprod}, {"neon-dotprod", repack_mode::neon_dotprod},
                               {"neon-i8mm", repack_mode::neon_i8mm}, {"sve", repack_mode::sve}};
    for (const auto& m : modes)
        if (m.name == text) return m.mode;
    return flag_error("--repack", "expects on, off, or an ISA (avx2, avx512, neon-dotprod, neon-i8mm, sve)", text);
}

// -ts 3,1 or 3/1 (llama.cpp accepts both separators): up to 16 non-negative proportions.
inline result<std::array<float, llama_cpp::max_cuda_devices>> parse_tensor_split(std::string_view text) {
    std::array<float, llama_cpp::max_cuda_devices> split{};
    std::size_t index = 0;
    while (true) {
        const auto sep = text.find_first_of(",/");
        const std::string_view part = text.substr(0, sep);
        if (index >= split.size()) return flag_error("-ts", "has more than 16 entries", text);
        double value = 0;
        const auto* end = part.data() + part.size();
        auto [ptr, ec] = std::from_chars(part.data(), end, value);
        if (part.empty() || ec != std::errc{} || ptr != end || !(value >= 0) || value > 1e9) {
            return flag_error("-ts", "expects non-negative numbers separated by ',' or '/'", part);
        }
        split[index++] = static_cast<float>(value);
        if (sep == std::string_view::npos) break;
        text = text.substr(sep + 1);
    }
    return split;
}

// -ot / --override-tensor PATTERN=BUFT[,PATTERN=BUFT...] as common/arg.cpp's
// parse_tensor_buffer_overrides reads it: split at every ',' (so a pattern cannot hold a comma,
// nor a {n,m} repeat), each part split at its first '='; BUFT is a device's buffer type, "CPU" or
// "CUDA0".."CUDA15" (whether that device exists is checked against the GPU list later). The
// patterns are compiled here so a malformed one is reported at once. The overrides keep views
// into `text`, which must outlive them (argv does).
inline result<bool> parse_tensor_overrides(std::string_view flag, std::string_view text,
                                           std::vector<llama_cpp::tensor_override>& out) {
    while (true) {
        const auto comma = text.find(',');
        const std::string_view part = text.substr(0, comma);
        const auto eq = part.find('=');
        if (eq == std::string_view::npos) return flag_error(flag, "expects PATTERN=BUFFER_TYPE, comma-separated", part);
        const std::string_view pattern = part.substr(0, eq);
        const std::string_view buffer = part.substr(eq + 1);
        int device = -2;
        if (buffer == "CPU") device = -1;
        for (std::size_t i = 0; i < llama_cpp::max_cuda_devices; ++i) {
            if (buffer == llama_cpp::cuda_device_name(i)) device = static_cast<int>(i);
        }
        if (device == -2) return flag_error(flag, "unknown buffer type (CPU, CUDA0, CUDA1, ...)", buffer);
        auto compiled = vramfit::detail::regex::compile(pattern);
        if (!compiled) return error{errc::invalid_argument, flag}.with(": ").with(compiled.err().message());
        out.push_back({pattern, device, -1});
        if (comma == std::string_view::npos) return true;
        text = text.substr(comma + 1);
    }
}

// `--gpu auto`: one entry per visible CUDA device, its capacity the free memory cudaMemGetInfo
// reports now (what is left for llama.cpp after other processes and the driver), from the
// runtime library when the CLI is built with it.
inline result<std::vector<const catalog::gpu_spec*>> live_gpus() {
#if defined(VRAMFIT_WITH_RUNTIME)
    static const runtime::device_query query = runtime::query_devices();
    static const std::vector<catalog::gpu_spec> specs = [] {
        static std::deque<std::string> names;  // gpu_spec holds views; keep the text alive
        std::vector<catalog::gpu_spec> out;
        for (const auto& d : query.devices) {
            names.push_back("cuda" + std::to_string(d.ordinal) + "-live");
            const std::string_view id = names.back();
            names.emplace_back(d.name.view());
            catalog::gpu_spec spec{};
            spec.id = id;
            spec.name = names.back();
            spec.memory = d.free_memory;
            spec.cc_major = d.compute_major;
            spec.cc_minor = d.compute_minor;
            spec.sm_count = d.multiprocessors;
            spec.bandwidth_gb_s = static_cast<double>(d.bandwidth_bytes_per_second) / 1e9;
            spec.source = "cudaMemGetInfo (live free memory)";
            out.push_back(spec);
        }
        return out;
    }();
    if (specs.empty()) {
        return error{errc::invalid_argument, "--gpu auto: no CUDA device is visible: "}.with(query.unavailable_reason);
    }
    std::vector<const catalog::gpu_spec*> pointers;
    for (const auto& s : specs) pointers.push_back(&s);
    return pointers;
#else
    return error{errc::invalid_argument, "--gpu auto needs the runtime library (this build has none)"};
#endif
}

} // namespace detail

// Parses `estimate MODEL [flags]` (args exclude the program and subcommand names).
inline result<estimate_options> parse_estimate_args(std::span<const std::string_view> args) {
    estimate_options options;
    auto& p = options.params;
    constexpr std::uint32_t max_tokens = 1u << 24;  // 16M tokens: beyond any model's context
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        auto next = [&](std::string_view flag) -> result<std::string_view> {
            if (i + 1 >= args.size()) return error{errc::invalid_argument, flag}.with(": missing value");
            return args[++i];
        };
        auto count = [&](std::string_view flag, std::uint32_t minimum, std::uint32_t maximum, std::uint32_t& out) -> result<bool> {
            auto text = next(flag);
            if (!text) return text.err();
            auto value = detail::parse_count(flag, *text, minimum, maximum);
            if (!value) return value.err();
            out = *value;
            return true;
        };
        result<bool> status = true;
        if (arg == "-c" || arg == "--ctx-size") status = count(arg, 0, max_tokens, p.n_ctx);
        else if (arg == "-b" || arg == "--batch-size") status = count(arg, 1, max_tokens, p.n_batch);
        else if (arg == "-ub" || arg == "--ubatch-size") status = count(arg, 1, max_tokens, p.n_ubatch);
        else if (arg == "-np" || arg == "--parallel") status = count(arg, 1, 256, p.n_seq);  // LLAMA_MAX_SEQ
        else if (arg == "-kvu" || arg == "--kv-unified") p.kv_unified = true;
        else if (arg == "--swa-full") p.swa_full = true;
        else if (arg == "--no-mmap") p.use_mmap = false;
        else if (arg == "-nr" || arg == "--no-repack") p.repack = llama_cpp::repack_mode::off;
        else if (arg == "--json") options.json = true;
        else if (arg == "-nkvo" || arg == "--no-kv-offload") options.offload.offload_kqv = false;
        else if (arg == "--blas") options.offload.blas = true;
        else if (arg == "--cpu-moe" || arg == "-cmoe") llama_cpp::add_cpu_moe(options.offload);
        else if (arg == "--n-cpu-moe" || arg == "-ncmoe") {
            std::uint32_t blocks = 0;
            status = count(arg, 0, 1u << 16, blocks);
            if (status) llama_cpp::add_n_cpu_moe(options.offload, blocks);
        } else if (arg == "-ot" || arg == "--override-tensor") {
            auto text = next(arg);
            if (!text) return text.err();
            auto added = detail::parse_tensor_overrides(arg, *text, options.offload.overrides);
            if (!added) return added.err();
        } else if (arg == "-ngl" || arg == "--n-gpu-layers" || arg == "--gpu-layers") {
            std::uint32_t layers = 0;
            status = count(arg, 0, 1u << 16, layers);
            options.offload.n_gpu_layers = static_cast<std::int32_t>(layers);
        } else if (arg == "-mg" || arg == "--main-gpu") {
            status = count(arg, 0, static_cast<std::uint32_t>(llama_cpp::max_cuda_devices) - 1, options.offload.main_gpu);
        } else if (arg == "--reserve") {
            std::uint32_t mib = 0;
            status = count(arg, 0, 1u << 20, mib);
            options.reserve_per_device = bytes{std::uint64_t{mib} * 1048576ULL};
        } else if (arg == "-sm" || arg == "--split-mode") {
            auto text = next(arg);
            if (!text) return text.err();
            if (*text == "none") options.offload.mode = llama_cpp::split_mode::none;
            else if (*text == "layer") options.offload.mode = llama_cpp::split_mode::layer;
            else if (*text == "row") options.offload.mode = llama_cpp::split_mode::row;
            else return detail::flag_error(arg, "expects none, layer or row", *text);
        } else if (arg == "-ts" || arg == "--tensor-split") {
            auto text = next(arg);
            if (!text) return text.err();
            auto split = detail::parse_tensor_split(*text);
            if (!split) return split.err();
            options.offload.tensor_split = *split;
        } else if (arg == "--gpu") {
            auto text = next(arg);
            if (!text) return text.err();
            if (*text == "auto") {  // the devices this machine sees, with their live free memory
                auto live = detail::live_gpus();
                if (!live) return live.err();
                for (const auto* gpu : *live) options.gpus.push_back(gpu);
                continue;
            }
            auto selection = catalog::parse_gpu_argument(*text);
            if (!selection) return detail::with_cli_hint(selection.err());
            for (unsigned n = 0; n < selection->count; ++n) options.gpus.push_back(selection->gpu);
            if (options.gpus.size() > llama_cpp::max_cuda_devices) {
                return detail::flag_error(arg, "asks for more than 16 CUDA devices in all", *text);
            }
        }
        else if (arg == "-lm" || arg == "--load-mode") {
            auto text = next(arg);
            if (!text) return text.err();
            if (*text == "none") p.use_mmap = false;
            else if (*text == "mmap") p.use_mmap = true;
            else return detail::flag_error(arg, "expects mmap or none", *text);
        } else if (arg == "-fa" || arg == "--flash-attn") {
            auto text = next(arg);
            if (!text) return text.err();
            if (*text == "on") p.flash_attn = llama_cpp::flash_attention::on;
            else if (*text == "off") p.flash_attn = llama_cpp::flash_attention::off;
            else if (*text == "auto") p.flash_attn = llama_cpp::flash_attention::automatic;
            else return detail::flag_error(arg, "expects on, off or auto", *text);
        } else if (arg == "-ctk" || arg == "--cache-type-k" || arg == "-ctv" || arg == "--cache-type-v") {
            auto text = next(arg);
            if (!text) return text.err();
            auto type = detail::parse_cache_type(arg, *text);
            if (!type) return type.err();
            (arg == "-ctk" || arg == "--cache-type-k" ? p.type_k : p.type_v) = *type;
        } else if (arg == "--repack") {
            auto text = next(arg);
            if (!text) return text.err();
            auto mode = detail::parse_repack(*text);
            if (!mode) return mode.err();
            p.repack = *mode;
        } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
            return error{errc::invalid_argument, "unknown flag '"}.with(arg).with("' (see vramfit estimate --help)");
        } else if (options.model.empty()) {
            options.model = std::string{arg};
        } else {
            return error{errc::invalid_argument, "unexpected argument '"}.with(arg).with("': one MODEL only");
        }
        if (!status) return status.err();
    }
    if (options.model.empty()) return error{errc::invalid_argument, "missing MODEL: a .gguf file or a catalog name such as llama-3.1-8b:Q4_K_M"};
    // -sm row rounds rows by compute capability and, without -ts, splits by device memory
    // (cuda/offload.hpp); the catalog total stands in for cudaGetDeviceProperties' totalGlobalMem.
    for (std::size_t i = 0; i < options.gpus.size() && i < llama_cpp::max_cuda_devices; ++i) {
        options.offload.compute_capability[i] = options.gpus[i]->cc_major * 100 + options.gpus[i]->cc_minor * 10;
        options.offload.device_memory[i] = options.gpus[i]->memory.count();
    }
    return options;
}

} // namespace vramfit::cli
