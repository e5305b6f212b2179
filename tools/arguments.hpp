// tools/arguments.hpp — the estimate command's flags, named as llama.cpp names them.
#pragma once

#include <charconv>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "vramfit/engines/llama_cpp/context_params.hpp"
#include "vramfit/error.hpp"
#include "vramfit/ggml_types.hpp"

namespace vramfit::cli {

struct estimate_options {
    std::string model;  // a .gguf path or a catalog name such as llama-3.1-8b:Q4_K_M
    llama_cpp::context_params params;
    bool json = false;
};

namespace detail {

inline error flag_error(std::string_view flag, std::string_view problem, std::string_view got) {
    return error{errc::invalid_argument, flag}.with(": ").with(problem).with(", got '").with(got).with("'");
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
    return options;
}

} // namespace vramfit::cli
