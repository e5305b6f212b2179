// tools/arguments.hpp — the flags of `estimate` and `plan`, named as llama.cpp names them.
//
// One table (flag_table below) serves both commands: each row has its spellings, the value it
// takes, its help text and default, which commands accept it, and the function that applies it.
// A flag both commands accept has the same names, default and errors in both; a flag only one
// command accepts is rejected by the other as an unknown flag. The help text is generated from
// the same rows. llama.cpp's multi-letter single-dash flags (-ngl, -ctk, -ub, -kvu, ...) are why
// no general argument library fits.
#pragma once

#include <array>
#include <charconv>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vramfit/catalog/gpus.hpp"
#if defined(VRAMFIT_WITH_RUNTIME)
#include "vramfit/runtime/devices.hpp"
#endif
#include "vramfit/engines/llama_cpp/cuda/runtime_overhead.hpp"
#include "vramfit/core/device.hpp"
#include "vramfit/engines/llama_cpp/context_params.hpp"
#include "vramfit/engines/llama_cpp/cuda/offload.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/model/dtype.hpp"
#include "vramfit/engines/llama_cpp/plan.hpp"
#include "vramfit/engines/transformers/device_map.hpp"
#include "vramfit/engines/transformers/estimate.hpp"
#include "vramfit/engines/transformers/generate_memory.hpp"
#include "vramfit/formats/json/reader.hpp"

namespace vramfit::cli {

// A llama.cpp refusal of a model another engine of vramfit runs, with the flag that runs it.
inline std::string with_engine_hint(std::string message) {
    constexpr std::string_view fact = "(another engine may run it)";
    if (const auto at = message.find(fact); at != std::string::npos) message.replace(at, fact.size(), "(--engine transformers runs it)");
    return message;
}

struct estimate_options {
    std::string model;  // a .gguf path or a catalog name such as llama-3.1-8b:Q4_K_M
    llama_cpp::context_params params;
    bool json = false;
    // CUDA placement (any --gpu turns it on): one GPU per CUDA device, in order: catalog GPUs,
    // or the devices this machine reports (--gpu auto), whose figures are CUDA's own.
    std::vector<device> gpus;
    llama_cpp::offload_params offload;
    bytes reserve_per_device{};  // --reserve MiB: kept free on top of the estimated CUDA overhead
};

// `estimate --engine transformers`: a Hugging Face model as from_pretrained(device_map=...,
// max_memory=...) loads it and generate() runs it.
struct transformers_options {
    std::string model;  // a model directory, its config.json, or a Hub id in the local cache
    std::optional<dtype> torch_dtype;  // --dtype; unset: the config's (from_pretrained's dtype="auto")
    transformers::placement_strategy strategy = transformers::placement_strategy::auto_;
    std::vector<transformers::memory_spec> max_memory;  // --max-memory, or built from --gpu/--ram/--disk
    bool max_memory_given = false;
    bool one_unbounded_gpu = false;  // neither --max-memory nor --gpu: the whole model on GPU 0
    static constexpr std::uint64_t unbounded_gpu_bytes = std::uint64_t{1} << 60;
    transformers::quantization quant = transformers::quantization::none;
    std::uint32_t batch = 1;
    std::uint32_t prompt = 1024;     // --seq: prompt tokens
    std::uint32_t new_tokens = 256;  // --new-tokens
    transformers::attn_implementation attn = transformers::attn_implementation::sdpa;
    std::vector<device> gpus;
    std::optional<bytes> ram;
    std::optional<bytes> disk;  // --disk: offload_folder allowed, with this much space
    std::string emit;           // --emit accelerate: the from_pretrained keyword arguments only
    bool json = false;
};

struct plan_options {
    std::string model;
    plan_request request;
    std::vector<std::string> quants;  // empty: as named; "any": the ladder
    bool json = false;
    std::string emit;
    bool gpus_given = false;
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
inline constexpr ggml_type cache_types[] = {ggml_type::f32, ggml_type::f16, ggml_type::bf16, ggml_type::q8_0, ggml_type::q4_0,
                                            ggml_type::q4_1, ggml_type::iq4_nl, ggml_type::q5_0, ggml_type::q5_1};

// "f32, f16, bf16, ..." (separator ", ") or "f32 f16 ..." (separator " ").
inline std::string cache_type_list(std::string_view separator) {
    std::string out;
    for (auto t : cache_types) {
        if (!out.empty()) out += separator;
        out += type_name(t);
    }
    return out;
}

inline result<ggml_type> parse_cache_type(std::string_view flag, std::string_view text) {
    if (auto type = ggml_type_from_name(text)) {
        for (auto a : cache_types)
            if (a == *type) return *type;
    }
    return flag_error(flag, "expects one of " + cache_type_list(", "), text);
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
        if (index >= split.size()) return flag_error("-ts", "has more than " + std::to_string(split.size()) + " entries", text);
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

// ---- devices this machine reports (--gpu auto) --------------------------------------------

// `--gpu auto`: the devices this machine reports, from the runtime library when the CLI is
// built with it. Their figures are CUDA's (core/device.hpp), so core/cuda_overhead.hpp charges
// only what those figures do not already lack.
inline result<std::vector<device>> live_gpus() {
#if defined(VRAMFIT_WITH_RUNTIME)
    static const runtime::device_query query = runtime::query_devices();
    if (query.devices.empty()) {
        return error{errc::invalid_argument, "--gpu auto: no CUDA device is visible: "}.with(query.unavailable_reason);
    }
    return query.devices;
#else
    return error{errc::invalid_argument, "--gpu auto needs the runtime library (this build has none)"};
#endif
}

// ---- the flag table ------------------------------------------------------------------------

enum command_set : unsigned { for_estimate = 1, for_plan = 2, for_both = 3, for_transformers = 4 };

// Sections of the help text, in the order they are printed.
enum class flag_group : std::uint8_t { context, gpu, plan_memory, plan_search, transformers };

// What the rows' apply functions write to: the options of the command being parsed.
struct flag_target {
    estimate_options* estimate = nullptr;
    plan_options* plan = nullptr;
    transformers_options* hf = nullptr;
    std::vector<device> gpus;            // --gpu, in order
    std::vector<std::uint32_t> free_mib; // plan --free
    bool reserve_auto = false;           // plan --reserve auto
    bool reserve_given = false;
};

using apply_fn = result<bool> (*)(flag_target&, std::string_view flag, std::string_view value);

struct flag_spec {
    std::array<std::string_view, 3> names;  // the spellings; the help lists them in this order
    std::string_view value;                 // the value's name in the help; empty: a switch
    unsigned commands;                      // command_set
    flag_group group;
    std::string_view help;                  // '\n' continues on the next line; {cache_types}: the -ctk list
    std::string_view default_shown;         // "[...]" at the end of the help; empty: none
    apply_fn apply;
    std::string_view plan_default = {};     // where plan's default differs (the planner chooses)
};

inline constexpr std::uint32_t max_tokens = 1u << 24;  // 16M tokens: beyond any model's context

inline result<bool> set_count(std::string_view flag, std::string_view text, std::uint32_t lo, std::uint32_t hi, std::uint32_t& out) {
    auto value = parse_count(flag, text, lo, hi);
    if (!value) return value.err();
    out = *value;
    return true;
}

inline result<bool> set_rate(std::string_view flag, std::string_view text, double& out) {
    auto value = parse_rate(flag, text);
    if (!value) return value.err();
    out = *value;
    return true;
}

inline result<bool> set_cache_type(flag_target& t, std::string_view flag, std::string_view text, bool k) {
    auto type = parse_cache_type(flag, text);
    if (!type) return type.err();
    if (t.estimate) (k ? t.estimate->params.type_k : t.estimate->params.type_v) = *type;
    else (k ? t.plan->request.engine.type_k : t.plan->request.engine.type_v) = *type;
    return true;
}

inline result<bool> set_gpu(flag_target& t, std::string_view flag, std::string_view text) {
    if (t.plan) t.plan->gpus_given = true;
    if (text == "auto") {  // the devices this machine sees, with their live free memory
        auto live = live_gpus();
        if (!live) return live.err();
        for (const auto& g : *live) t.gpus.push_back(g);
    } else {
        auto selection = catalog::parse_gpu_argument(text);
        if (!selection) return with_cli_hint(selection.err());
        for (unsigned n = 0; n < selection->count; ++n) t.gpus.push_back(catalog::to_device(*selection->gpu));
    }
    if (t.gpus.size() > llama_cpp::max_cuda_devices) {
        return flag_error(flag, "asks for more than " + std::to_string(llama_cpp::max_cuda_devices) + " CUDA devices in all", text);
    }
    return true;
}

// --max-memory '{"0": "35GB", "1": "35GB", "cpu": "120GB"}': keys are GPU indices, "cpu" or
// "disk"; values accelerate's size strings or byte counts (formats/json reads the object).
inline result<std::vector<transformers::memory_spec>> parse_max_memory(std::string_view flag, std::string_view text) {
    auto doc = json::parse(text);
    if (!doc) return flag_error(flag, std::string{"is not JSON: "} + std::string{doc.err().render().view()}, text);
    if (doc->at(json::document::root()).type != json::kind::object) return flag_error(flag, "expects a JSON object", text);
    std::vector<transformers::memory_spec> specs;
    for (auto n = doc->at(0).first_child; n != json::no_node; n = doc->at(n).next_sibling) {
        const std::string_view key = doc->raw_key(n);
        transformers::memory_spec spec{};
        if (key == "cpu") spec.device = transformers::device_id::cpu();
        else if (key == "disk") spec.device = transformers::device_id::disk();
        else {
            auto index = parse_count(flag, key, 0, 1023);
            if (!index) return flag_error(flag, "has a key that is no GPU index, \"cpu\" or \"disk\"", key);
            spec.device = transformers::device_id::gpu(*index);
        }
        if (doc->at(n).type == json::kind::string) {
            spec.text = std::string{doc->string(n)->view()};
            auto size = transformers::convert_file_size_to_int(spec.text);
            if (!size) return flag_error(flag, std::string{"has a size accelerate rejects: "} + std::string{size.err().message()}, spec.text);
        } else {
            auto amount = doc->unsigned_integer(n);
            if (!amount) return flag_error(flag, "expects each value to be a size string or a byte count", doc->raw(n));
            spec.amount = *amount;
        }
        for (const auto& other : specs)
            if (other.device == spec.device) return flag_error(flag, "names a device twice", key);
        specs.push_back(std::move(spec));
    }
    if (specs.empty()) return flag_error(flag, "is empty", text);
    return specs;
}

// Shorthands for the rows below: the options of whichever command is parsed.
inline llama_cpp::context_params& context_of(flag_target& t) { return t.estimate->params; }
inline llama_cpp::offload_params& offload_of(flag_target& t) { return t.estimate->offload; }
inline plan_request& request_of(flag_target& t) { return t.plan->request; }

// The rows. Both commands: the llama.cpp context flags and the GPUs. estimate only: placement
// flags that the planner decides itself. plan only: the planner's inputs and outputs.
inline constexpr flag_spec flag_table[] = {
    // ---- the context (llama.cpp's own names and defaults)
    {{"-c", "--ctx-size", "--ctx"}, "N", for_both, flag_group::context, "context size (0 = the model's training context)", "4096",
     [](flag_target& t, std::string_view f, std::string_view v) {
         return set_count(f, v, 0, max_tokens, t.estimate ? context_of(t).n_ctx : request_of(t).n_ctx);
     }},
    {{"-b", "--batch-size"}, "N", for_both, flag_group::context, "logical batch size", "2048",
     [](flag_target& t, std::string_view f, std::string_view v) {
         return set_count(f, v, 1, max_tokens, t.estimate ? context_of(t).n_batch : request_of(t).engine.n_batch);
     }},
    {{"-ub", "--ubatch-size"}, "N", for_both, flag_group::context, "physical batch size", "512",
     [](flag_target& t, std::string_view f, std::string_view v) {
         return set_count(f, v, 1, max_tokens, t.estimate ? context_of(t).n_ubatch : request_of(t).engine.n_ubatch);
     }},
    {{"-np", "--parallel"}, "N", for_both, flag_group::context, "number of sequences", "1",
     [](flag_target& t, std::string_view f, std::string_view v) {  // LLAMA_MAX_SEQ
         return set_count(f, v, 1, 256, t.estimate ? context_of(t).n_seq : request_of(t).n_seq);
     }},
    {{"-kvu", "--kv-unified"}, "", for_estimate, flag_group::context, "one KV buffer shared by all sequences", "",
     [](flag_target& t, std::string_view, std::string_view) -> result<bool> { context_of(t).kv_unified = true; return true; }},
    {{"-fa", "--flash-attn"}, "on|off|auto", for_both, flag_group::context, "flash attention", "auto",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         if (v != "on" && v != "off" && v != "auto") return flag_error(f, "expects on, off or auto", v);
         if (t.estimate) {
             context_of(t).flash_attn = v == "on"    ? llama_cpp::flash_attention::on
                                        : v == "off" ? llama_cpp::flash_attention::off
                                                     : llama_cpp::flash_attention::automatic;
         } else if (v != "auto") {
             request_of(t).engine.flash_attn = v == "on";
         }
         return true;
     },
     "auto, which plan takes as on"},
    {{"-ctk", "--cache-type-k"}, "T", for_both, flag_group::context, "K cache type: {cache_types}", "f16",
     [](flag_target& t, std::string_view f, std::string_view v) { return set_cache_type(t, f, v, true); },
     "the planner's: f16, else q8_0, else q4_0"},
    {{"-ctv", "--cache-type-v"}, "T", for_both, flag_group::context, "V cache type", "f16",
     [](flag_target& t, std::string_view f, std::string_view v) { return set_cache_type(t, f, v, false); },
     "as -ctk"},
    {{"--swa-full"}, "", for_estimate, flag_group::context, "full-size cache for sliding-window layers", "",
     [](flag_target& t, std::string_view, std::string_view) -> result<bool> { context_of(t).swa_full = true; return true; }},
    {{"--no-mmap"}, "", for_both, flag_group::context, "load weights into an allocated buffer instead of mapping the file", "",
     [](flag_target& t, std::string_view, std::string_view) -> result<bool> {
         (t.estimate ? context_of(t).use_mmap : request_of(t).engine.use_mmap) = false;
         return true;
     }},
    {{"-lm", "--load-mode"}, "mmap|none", for_both, flag_group::context, "none = --no-mmap", "mmap",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         if (v != "none" && v != "mmap") return flag_error(f, "expects mmap or none", v);
         (t.estimate ? context_of(t).use_mmap : request_of(t).engine.use_mmap) = v == "mmap";
         return true;
     }},
    {{"--repack"}, "on|off|ISA", for_estimate, flag_group::context,
     "CPU weight repacking: on (this machine's ISA), off, avx2, avx512,\nneon-dotprod, neon-i8mm, sve", "on",
     [](flag_target& t, std::string_view, std::string_view v) -> result<bool> {
         auto mode = parse_repack(v);
         if (!mode) return mode.err();
         context_of(t).repack = *mode;
         return true;
     }},
    {{"-nr", "--no-repack"}, "", for_estimate, flag_group::context, "same as --repack off", "",
     [](flag_target& t, std::string_view, std::string_view) -> result<bool> {
         context_of(t).repack = llama_cpp::repack_mode::off;
         return true;
     }},
    {{"--blas"}, "", for_both, flag_group::context,
     "llama.cpp built with GGML_BLAS: large products of host weights run\non the BLAS backend (a \"CPU\" compute buffer) instead of CUDA0", "",
     [](flag_target& t, std::string_view, std::string_view) -> result<bool> {
         (t.estimate ? offload_of(t).blas : request_of(t).engine.blas) = true;
         return true;
     }},
    {{"--json"}, "", for_both | for_transformers, flag_group::context, "machine-readable output", "",
     [](flag_target& t, std::string_view, std::string_view) -> result<bool> {
         (t.hf ? t.hf->json : t.estimate ? t.estimate->json : t.plan->json) = true;
         return true;
     }},

    // ---- the GPUs and where the weights go
    {{"--gpu"}, "NAME[xN]|auto", for_both | for_transformers, flag_group::gpu,
     "a catalog GPU (see vramfit gpus), N of them; repeat for mixed cards;\nauto = the CUDA devices this machine sees, with their live free memory", "",
     [](flag_target& t, std::string_view f, std::string_view v) { return set_gpu(t, f, v); }},
    {{"--reserve"}, "MiB", for_estimate, flag_group::gpu, "memory to leave free on each GPU on top of the CUDA overhead\n(other processes)", "0",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         std::uint32_t mib = 0;
         auto status = set_count(f, v, 0, 1u << 20, mib);
         t.estimate->reserve_per_device = bytes{std::uint64_t{mib} * 1048576ULL};
         return status;
     }},
    {{"--reserve"}, "MiB|auto", for_plan, flag_group::gpu,
     "left free on each GPU (like llama.cpp --fit-target); auto = each GPU's\nestimated CUDA overhead (driver, context, cuBLAS: cuda/runtime_overhead.hpp)",
     "auto for catalog GPUs; 0 with --free or --gpu auto",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         t.reserve_given = true;
         if (v == "auto") {
             t.reserve_auto = true;
             return true;
         }
         std::uint32_t mib = 0;
         auto status = set_count(f, v, 0, 1u << 20, mib);
         if (status) request_of(t).reserve_per_device = bytes{std::uint64_t{mib} * 1048576ULL};
         return status;
     }},
    {{"-ngl", "--n-gpu-layers", "--gpu-layers"}, "N", for_estimate, flag_group::gpu,
     "layers on the GPUs (more than the model has = all + output)", "all",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         std::uint32_t layers = 0;
         auto status = set_count(f, v, 0, 1u << 16, layers);
         offload_of(t).n_gpu_layers = static_cast<std::int32_t>(layers);
         return status;
     }},
    {{"-sm", "--split-mode"}, "none|layer|row", for_estimate, flag_group::gpu, "row: matrices split by rows over all GPUs", "layer",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         if (v == "none") offload_of(t).mode = llama_cpp::split_mode::none;
         else if (v == "layer") offload_of(t).mode = llama_cpp::split_mode::layer;
         else if (v == "row") offload_of(t).mode = llama_cpp::split_mode::row;
         else return flag_error(f, "expects none, layer or row", v);
         return true;
     }},
    {{"-ts", "--tensor-split"}, "A,B,...", for_estimate, flag_group::gpu, "share of layers per GPU", "even",
     [](flag_target& t, std::string_view, std::string_view v) -> result<bool> {
         auto split = parse_tensor_split(v);
         if (!split) return split.err();
         offload_of(t).tensor_split = *split;
         return true;
     }},
    {{"-mg", "--main-gpu"}, "N", for_estimate, flag_group::gpu, "the GPU used with -sm none", "0",
     [](flag_target& t, std::string_view f, std::string_view v) {
         return set_count(f, v, 0, static_cast<std::uint32_t>(llama_cpp::max_cuda_devices) - 1, offload_of(t).main_gpu);
     }},
    {{"-nkvo", "--no-kv-offload"}, "", for_estimate, flag_group::gpu, "keep the KV cache in host memory", "",
     [](flag_target& t, std::string_view, std::string_view) -> result<bool> { offload_of(t).offload_kqv = false; return true; }},
    {{"--cpu-moe", "-cmoe"}, "", for_estimate, flag_group::gpu, "keep the expert weights of all layers on the CPU", "",
     [](flag_target& t, std::string_view, std::string_view) -> result<bool> { llama_cpp::add_cpu_moe(offload_of(t)); return true; }},
    {{"--n-cpu-moe", "-ncmoe"}, "N", for_estimate, flag_group::gpu, "keep the expert weights of the first N layers on the CPU", "",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         std::uint32_t blocks = 0;
         auto status = set_count(f, v, 0, 1u << 16, blocks);
         if (status) llama_cpp::add_n_cpu_moe(offload_of(t), blocks);
         return status;
     }},
    {{"-ot", "--override-tensor"}, "PATTERN=BUFT[,...]", for_estimate, flag_group::gpu,
     "tensors whose name the regex PATTERN matches go to BUFT (CPU, CUDA0,\nCUDA1, ...); first match wins; repeatable", "",
     [](flag_target& t, std::string_view f, std::string_view v) { return parse_tensor_overrides(f, v, offload_of(t).overrides); }},

    // ---- plan: the machine
    {{"--free"}, "MiB[,MiB...]", for_plan, flag_group::plan_memory,
     "free memory of each GPU, in order (what nvidia-smi or cudaMemGetInfo says\nnow); replaces the catalog totals", "",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         std::string_view rest = v;
         t.free_mib.clear();
         while (!rest.empty() || t.free_mib.empty()) {
             const auto comma = rest.find(',');
             auto mib = parse_count(f, rest.substr(0, comma), 1, 1u << 24);
             if (!mib) return mib.err();
             t.free_mib.push_back(*mib);
             if (comma == std::string_view::npos) break;
             rest = rest.substr(comma + 1);
         }
         return true;
     }},
    {{"--ram"}, "SIZE", for_plan, flag_group::plan_memory, "host RAM the model may use (64GiB, 120G, 65536MiB)", "not checked",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         auto size = parse_size(f, v);
         if (!size) return size.err();
         request_of(t).host_ram = *size;
         return true;
     }},
    {{"--no-disk"}, "", for_plan, flag_group::plan_memory, "never page weights from disk (mmap) beyond RAM", "",
     [](flag_target& t, std::string_view, std::string_view) -> result<bool> { request_of(t).allow_disk = false; return true; }},
    {{"--nodes"}, "N", for_plan, flag_group::plan_memory, "machines like this one reachable by llama.cpp RPC", "1",
     [](flag_target& t, std::string_view f, std::string_view v) { return set_count(f, v, 1, 16, request_of(t).nodes); }},
    {{"--host-bw"}, "GB/s", for_plan, flag_group::plan_memory, "host memory bandwidth (speed model)", "",
     [](flag_target& t, std::string_view f, std::string_view v) { return set_rate(f, v, request_of(t).speed.host_bandwidth_gb_s); }},
    {{"--host-tflops"}, "T", for_plan, flag_group::plan_memory, "host compute (speed model)", "",
     [](flag_target& t, std::string_view f, std::string_view v) { return set_rate(f, v, request_of(t).speed.host_tflops); }},
    {{"--disk-bw"}, "GB/s", for_plan, flag_group::plan_memory, "disk read bandwidth (speed model)", "",
     [](flag_target& t, std::string_view f, std::string_view v) { return set_rate(f, v, request_of(t).speed.disk_gb_s); }},
    {{"--net-bw"}, "GB/s", for_plan, flag_group::plan_memory, "network bandwidth between nodes (speed model)", "",
     [](flag_target& t, std::string_view f, std::string_view v) { return set_rate(f, v, request_of(t).speed.network_gb_s); }},

    // ---- plan: what it searches and prints
    {{"--max-ctx"}, "", for_plan, flag_group::plan_search, "the largest context that fits (-c is then the least)", "",
     [](flag_target& t, std::string_view, std::string_view) -> result<bool> { request_of(t).max_ctx = true; return true; }},
    {{"--quant"}, "any|Q,Q,...", for_plan, flag_group::plan_search,
     "choose among quantizations of a catalog model (any = the whole ladder)", "",
     [](flag_target& t, std::string_view, std::string_view v) -> result<bool> {
         std::string_view rest = v;
         while (!rest.empty()) {
             const auto comma = rest.find(',');
             t.plan->quants.emplace_back(rest.substr(0, comma));
             rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
         }
         return true;
     }},
    {{"--objective"}, "fit|speed", for_plan, flag_group::plan_search, "fit: fewest GPUs; speed: the fastest GPUs / placement", "fit",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         if (v == "fit") request_of(t).objective = plan_objective::fit;
         else if (v == "speed") request_of(t).objective = plan_objective::speed;
         else return flag_error(f, "expects fit or speed", v);
         return true;
     }},
    {{"--emit"}, "llama.cpp|ollama|all", for_plan, flag_group::plan_search, "print the engine settings only", "",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         if (v != "llama.cpp" && v != "ollama" && v != "all") return flag_error(f, "expects llama.cpp, ollama or all", v);
         t.plan->emit = std::string{v};
         return true;
     }},
    // ---- estimate --engine transformers: from_pretrained's and generate()'s arguments
    {{"--dtype"}, "bfloat16|float16|float32", for_transformers, flag_group::transformers, "from_pretrained(dtype=...)", "the config's",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         if (v == "bfloat16") t.hf->torch_dtype = dtype::bf16;
         else if (v == "float16") t.hf->torch_dtype = dtype::f16;
         else if (v == "float32") t.hf->torch_dtype = dtype::f32;
         else return flag_error(f, "expects bfloat16, float16 or float32", v);
         return true;
     }},
    {{"--device-map"}, "STRATEGY", for_transformers, flag_group::transformers,
     "from_pretrained(device_map=...): auto, balanced, balanced_low_0, sequential", "auto",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         using transformers::placement_strategy;
         if (v == "auto") t.hf->strategy = placement_strategy::auto_;
         else if (v == "balanced") t.hf->strategy = placement_strategy::balanced;
         else if (v == "balanced_low_0") t.hf->strategy = placement_strategy::balanced_low_0;
         else if (v == "sequential") t.hf->strategy = placement_strategy::sequential;
         else return flag_error(f, "expects auto, balanced, balanced_low_0 or sequential", v);
         return true;
     }},
    {{"--max-memory"}, "JSON", for_transformers, flag_group::transformers,
     "from_pretrained(max_memory=...), e.g. '{\"0\":\"35GB\",\"cpu\":\"120GB\"}'\n(GB = 10^9, GiB = 2^30, as accelerate parses them)", "from --gpu, --ram",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         auto specs = parse_max_memory(f, v);
         if (!specs) return specs.err();
         t.hf->max_memory = std::move(*specs);
         t.hf->max_memory_given = true;
         return true;
     }},
    {{"--ram"}, "SIZE", for_transformers, flag_group::transformers, "max_memory's cpu entry when --max-memory is not given", "none",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         auto size = parse_size(f, v);
         if (!size) return size.err();
         t.hf->ram = *size;
         return true;
     }},
    {{"--disk"}, "SIZE", for_transformers, flag_group::transformers,
     "disk space for offloaded weights (from_pretrained's offload_folder); plan uses disk only with it", "none",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         auto size = parse_size(f, v);
         if (!size) return size.err();
         t.hf->disk = *size;
         return true;
     }},
    {{"--emit"}, "accelerate", for_transformers, flag_group::transformers, "print the from_pretrained(...) keyword arguments only", "",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         if (v != "accelerate") return flag_error(f, "expects accelerate", v);
         t.hf->emit = std::string{v};
         return true;
     }},
    {{"--load-in-8bit"}, "", for_transformers, flag_group::transformers, "BitsAndBytesConfig(load_in_8bit=True)", "",
     [](flag_target& t, std::string_view, std::string_view) -> result<bool> {
         t.hf->quant = transformers::quantization::bnb_8bit;
         return true;
     }},
    {{"--load-in-4bit"}, "", for_transformers, flag_group::transformers, "BitsAndBytesConfig(load_in_4bit=True)", "",
     [](flag_target& t, std::string_view, std::string_view) -> result<bool> {
         t.hf->quant = transformers::quantization::bnb_4bit;
         return true;
     }},
    {{"--batch"}, "N", for_transformers, flag_group::transformers, "sequences generated at once", "1",
     [](flag_target& t, std::string_view f, std::string_view v) { return set_count(f, v, 1, 4096, t.hf->batch); }},
    {{"--seq"}, "N", for_transformers, flag_group::transformers, "prompt tokens", "1024",
     [](flag_target& t, std::string_view f, std::string_view v) { return set_count(f, v, 1, max_tokens, t.hf->prompt); }},
    {{"--new-tokens"}, "N", for_transformers, flag_group::transformers, "generate(max_new_tokens=...)", "256",
     [](flag_target& t, std::string_view f, std::string_view v) { return set_count(f, v, 1, max_tokens, t.hf->new_tokens); }},
    {{"--attn"}, "sdpa|eager", for_transformers, flag_group::transformers, "attn_implementation", "sdpa",
     [](flag_target& t, std::string_view f, std::string_view v) -> result<bool> {
         if (v == "sdpa") t.hf->attn = transformers::attn_implementation::sdpa;
         else if (v == "eager") t.hf->attn = transformers::attn_implementation::eager;
         else return flag_error(f, "expects sdpa or eager", v);
         return true;
     }},
};

inline const flag_spec* find_flag(std::string_view name, command_set command) {
    for (const auto& f : flag_table) {
        if ((f.commands & command) == 0) continue;
        for (auto n : f.names)
            if (!n.empty() && n == name) return &f;
    }
    return nullptr;
}

// The flags and MODEL of one command into `target`; the checks after them are the command's.
inline result<std::string> parse_flags(std::span<const std::string_view> args, command_set command, std::string_view command_name,
                                       flag_target& target) {
    std::string model;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (const flag_spec* flag = find_flag(arg, command)) {
            std::string_view value;
            if (!flag->value.empty()) {
                if (i + 1 >= args.size()) return error{errc::invalid_argument, arg}.with(": missing value");
                value = args[++i];
            }
            auto applied = flag->apply(target, arg, value);
            if (!applied) return applied.err();
        } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
            return error{errc::invalid_argument, "unknown flag '"}.with(arg).with("' (see vramfit ").with(command_name).with(" --help)");
        } else if (model.empty()) {
            model = std::string{arg};
        } else {
            return error{errc::invalid_argument, "unexpected argument '"}.with(arg).with("': one MODEL only");
        }
    }
    return model;
}

// The help lines of one group of flags for `command`: "  -c, --ctx-size, --ctx N     context ...  [4096]".
inline std::string flag_help(command_set command, flag_group group) {
    constexpr std::size_t name_width = 30;  // names longer than name_width - 2 get a line of their own
    constexpr std::size_t help_width = 72;  // a default that would end a line past it gets its own
    constexpr std::string_view types_marker = "{cache_types}";
    std::string out;
    for (const auto& f : flag_table) {
        if ((f.commands & command) == 0 || f.group != group) continue;
        std::string names;
        for (auto n : f.names) {
            if (n.empty()) continue;
            if (!names.empty()) names += ", ";
            names += n;
        }
        if (!f.value.empty()) names += " " + std::string{f.value};
        std::string help{f.help};
        if (const auto at = help.find(types_marker); at != std::string::npos) help.replace(at, types_marker.size(), cache_type_list(" "));
        const std::string_view shown = command == for_plan && !f.plan_default.empty() ? f.plan_default : f.default_shown;
        if (!shown.empty()) {
            const auto last_line = help.size() - (help.rfind('\n') == std::string::npos ? 0 : help.rfind('\n') + 1);
            help += last_line + shown.size() + 4 > help_width ? "\n[" : "  [";
            help += std::string{shown} + "]";
        }
        std::string_view rest = help;
        bool first = true;
        if (names.size() + 2 > name_width) {
            out += fmt::format("  {}\n", names);
            first = false;
        }
        while (true) {
            const auto nl = rest.find('\n');
            out += fmt::format("  {:<{}}{}\n", first ? names : std::string{}, name_width, rest.substr(0, nl));
            first = false;
            if (nl == std::string_view::npos) break;
            rest = rest.substr(nl + 1);
        }
    }
    return out;
}

} // namespace detail

// Parses `estimate MODEL [flags]` (args exclude the program and subcommand names).
inline result<estimate_options> parse_estimate_args(std::span<const std::string_view> args) {
    estimate_options options;
    detail::flag_target target;
    target.estimate = &options;
    auto model = detail::parse_flags(args, detail::for_estimate, "estimate", target);
    if (!model) return model.err();
    options.model = std::move(*model);
    options.gpus = std::move(target.gpus);
    if (options.model.empty()) return error{errc::invalid_argument, "missing MODEL: a .gguf file or a catalog name such as llama-3.1-8b:Q4_K_M"};
    // -sm row rounds rows by compute capability and, without -ts, splits by device memory
    // (cuda/offload.hpp: ggml-cuda's totalGlobalMem); for a catalog GPU its total stands in, for a
    // device this machine reports CUDA's own total (not the free memory its capacity is).
    for (std::size_t i = 0; i < options.gpus.size() && i < llama_cpp::max_cuda_devices; ++i) {
        const auto& g = options.gpus[i];
        options.offload.compute_capability[i] = g.cc_major * 100 + g.cc_minor * 10;
        options.offload.device_memory[i] = g.total_memory.count();
    }
    return options;
}

// Parses `estimate MODEL --engine transformers [flags]` (--engine and its value already removed).
inline result<transformers_options> parse_transformers_args(std::span<const std::string_view> args) {
    transformers_options options;
    detail::flag_target target;
    target.hf = &options;
    auto model = detail::parse_flags(args, detail::for_transformers, "estimate", target);
    if (!model) return model.err();
    options.model = std::move(*model);
    options.gpus = std::move(target.gpus);
    if (options.model.empty()) return error{errc::invalid_argument, "missing MODEL: a model directory, its config.json, or a Hub id in the local cache"};
    if (!options.max_memory_given) {
        // accelerate's get_max_memory without a max_memory: each GPU's free memory as
        // torch.cuda.mem_get_info reports it (the capacity less what CUDA and the context take),
        // then the CPU's.
        for (std::size_t i = 0; i < options.gpus.size(); ++i) {
            const auto& g = options.gpus[i];
            options.max_memory.push_back({transformers::device_id::gpu(static_cast<std::uint32_t>(i)), {}, transformers::accelerate_free_memory(g).count()});
        }
        if (options.ram) options.max_memory.push_back({transformers::device_id::cpu(), {}, options.ram->count()});
        if (options.max_memory.empty()) {
            // neither: what generate() needs with the whole model on one GPU of any size
            options.max_memory.push_back({transformers::device_id::gpu(0), {}, transformers_options::unbounded_gpu_bytes});
            options.one_unbounded_gpu = true;
        }
    }
    return options;
}

inline result<plan_options> parse_plan_args(std::span<const std::string_view> args) {
    plan_options o;
    auto& r = o.request;
    detail::flag_target target;
    target.plan = &o;
    auto model = detail::parse_flags(args, detail::for_plan, "plan", target);
    if (!model) return model.err();
    o.model = std::move(*model);
    bool live_memory = false;  // --gpu auto or --free: the figures are free memory, not totals
    for (const auto& g : target.gpus) {
        r.gpus.push_back(g);
        live_memory = live_memory || g.total_from_cuda;
    }
    const auto& free_mib = target.free_mib;
    if (o.model.empty()) return error{errc::invalid_argument, "missing MODEL: a .gguf file or a catalog name such as llama-3.3-70b:Q4_K_M"};
    if (!o.gpus_given) return error{errc::invalid_argument, "missing --gpu: name the GPUs (e.g. --gpu rtx-3090x2; vramfit gpus lists them; --gpu auto for this machine's)"};
    if (!free_mib.empty()) {
        if (free_mib.size() != r.gpus.size()) {
            return error{errc::invalid_argument, "--free gives "}.with_number(free_mib.size()).with(" figure(s) for ")
                .with_number(r.gpus.size()).with(" GPU(s); give one MiB figure per GPU, in --gpu order");
        }
        for (std::size_t i = 0; i < free_mib.size(); ++i) {  // the figure given is the capacity, as a catalog total
            r.gpus[i].total_memory = bytes{std::uint64_t{free_mib[i]} * 1048576ULL};
            r.gpus[i].free_memory.reset();
            r.gpus[i].total_from_cuda = false;
        }
    }
    if (!free_mib.empty()) live_memory = true;
    // By default a catalog GPU's total keeps the estimated CUDA overhead back (what the engine's
    // process will lose before its first buffer); figures of free memory already lack the
    // driver's part, so there the default stays 0 and --reserve auto is the user's choice. For a
    // device this machine reports, auto keeps back only what its measurement does not already
    // lack (core/cuda_overhead.hpp).
    const bool reserve_auto = target.reserve_auto || (!target.reserve_given && !live_memory);
    if (reserve_auto) {
        for (const auto& gpu : r.gpus) r.reserve_per_gpu.push_back(cuda_overhead_for(gpu).estimate);
    }
    return o;
}

// `vramfit estimate --help` / `vramfit plan --help`: the flags of the table, by group.
inline std::string estimate_flag_help() {
    return "estimate flags (llama.cpp's own names and defaults):\n" + detail::flag_help(detail::for_estimate, detail::flag_group::context) +
           "\nGPU placement (llama.cpp's CUDA backend; any --gpu turns it on):\n" +
           detail::flag_help(detail::for_estimate, detail::flag_group::gpu);
}

inline std::string transformers_flag_help() {
    return "estimate --engine transformers flags (from_pretrained's and generate()'s names):\n" +
           detail::flag_help(detail::for_transformers, detail::flag_group::transformers) +
           detail::flag_help(detail::for_transformers, detail::flag_group::context) +
           detail::flag_help(detail::for_transformers, detail::flag_group::gpu);
}

inline std::string plan_flag_help() {
    return "usage: vramfit plan MODEL --gpu NAME[xN] [--gpu ...] [options]\n"
           "  MODEL                       a .gguf file or a catalog name (llama-3.3-70b:Q4_K_M; bare name = default quant)\n"
           "\nthe machine:\n" +
           detail::flag_help(detail::for_plan, detail::flag_group::gpu) + detail::flag_help(detail::for_plan, detail::flag_group::plan_memory) +
           "\nthe context (llama.cpp's names; the same flags as vramfit estimate):\n" +
           detail::flag_help(detail::for_plan, detail::flag_group::context) + "\nthe search:\n" +
           detail::flag_help(detail::for_plan, detail::flag_group::plan_search);
}

} // namespace vramfit::cli
