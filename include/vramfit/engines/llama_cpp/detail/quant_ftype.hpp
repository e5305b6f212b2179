// vramfit/engines/llama_cpp/detail/quant_ftype.hpp — llama.cpp file types ("Q4_K_M", "IQ4_XS", ...): ids, names, base types.
// Public names (namespace vramfit); include "vramfit/engines/llama_cpp/quantize.hpp" to use them.
//
// The ids are `enum llama_ftype` of include/llama.h at llama.cpp 1425386f; the names are the
// ones `llama-quantize` accepts (tools/quantize/quantize.cpp, QUANT_OPTIONS); the base type of
// each ftype is llama_ftype_get_default_type (src/llama-quant.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "vramfit/model/dtype.hpp"

namespace vramfit {

// LLAMA_FTYPE_* (include/llama.h). Ids 4-6 (Q4_1_SOME_F16, Q4_2, Q4_3) and 33-35 (Q4_0_4_4,
// Q4_0_4_8, Q4_0_8_8) were removed from the engine and are not listed.
enum class llama_ftype : std::uint32_t {
    all_f32 = 0,
    mostly_f16 = 1,
    mostly_q4_0 = 2,
    mostly_q4_1 = 3,
    mostly_q8_0 = 7,
    mostly_q5_0 = 8,
    mostly_q5_1 = 9,
    mostly_q2_K = 10,
    mostly_q3_K_S = 11,
    mostly_q3_K_M = 12,
    mostly_q3_K_L = 13,
    mostly_q4_K_S = 14,
    mostly_q4_K_M = 15,
    mostly_q5_K_S = 16,
    mostly_q5_K_M = 17,
    mostly_q6_K = 18,
    mostly_iq2_xxs = 19,
    mostly_iq2_xs = 20,
    mostly_q2_K_S = 21,
    mostly_iq3_xs = 22,
    mostly_iq3_xxs = 23,
    mostly_iq1_s = 24,
    mostly_iq4_nl = 25,
    mostly_iq3_s = 26,
    mostly_iq3_m = 27,
    mostly_iq2_s = 28,
    mostly_iq2_m = 29,
    mostly_iq4_xs = 30,
    mostly_iq1_m = 31,
    mostly_bf16 = 32,
    mostly_tq1_0 = 36,
    mostly_tq2_0 = 37,
    mostly_mxfp4_moe = 38,
    mostly_nvfp4 = 39,
    mostly_q1_0 = 40,
};

namespace detail {

struct ftype_entry {
    llama_ftype ftype;
    std::string_view name;  // llama-quantize's spelling
    ggml_type base;         // llama_ftype_get_default_type
};

// One row per live ftype. Names from QUANT_OPTIONS; base types from
// llama_ftype_get_default_type (e.g. IQ2_S quantizes to iq2_xs by default, IQ2_M to iq2_s,
// IQ3_XS to iq3_s, MXFP4_MOE to mxfp4).
inline constexpr std::array<ftype_entry, 35> ftype_table{{
    {llama_ftype::all_f32, "F32", ggml_type::f32},
    {llama_ftype::mostly_f16, "F16", ggml_type::f16},
    {llama_ftype::mostly_q4_0, "Q4_0", ggml_type::q4_0},
    {llama_ftype::mostly_q4_1, "Q4_1", ggml_type::q4_1},
    {llama_ftype::mostly_q8_0, "Q8_0", ggml_type::q8_0},
    {llama_ftype::mostly_q5_0, "Q5_0", ggml_type::q5_0},
    {llama_ftype::mostly_q5_1, "Q5_1", ggml_type::q5_1},
    {llama_ftype::mostly_q2_K, "Q2_K", ggml_type::q2_K},
    {llama_ftype::mostly_q3_K_S, "Q3_K_S", ggml_type::q3_K},
    {llama_ftype::mostly_q3_K_M, "Q3_K_M", ggml_type::q3_K},
    {llama_ftype::mostly_q3_K_L, "Q3_K_L", ggml_type::q3_K},
    {llama_ftype::mostly_q4_K_S, "Q4_K_S", ggml_type::q4_K},
    {llama_ftype::mostly_q4_K_M, "Q4_K_M", ggml_type::q4_K},
    {llama_ftype::mostly_q5_K_S, "Q5_K_S", ggml_type::q5_K},
    {llama_ftype::mostly_q5_K_M, "Q5_K_M", ggml_type::q5_K},
    {llama_ftype::mostly_q6_K, "Q6_K", ggml_type::q6_K},
    {llama_ftype::mostly_iq2_xxs, "IQ2_XXS", ggml_type::iq2_xxs},
    {llama_ftype::mostly_iq2_xs, "IQ2_XS", ggml_type::iq2_xs},
    {llama_ftype::mostly_q2_K_S, "Q2_K_S", ggml_type::q2_K},
    {llama_ftype::mostly_iq3_xs, "IQ3_XS", ggml_type::iq3_s},
    {llama_ftype::mostly_iq3_xxs, "IQ3_XXS", ggml_type::iq3_xxs},
    {llama_ftype::mostly_iq1_s, "IQ1_S", ggml_type::iq1_s},
    {llama_ftype::mostly_iq4_nl, "IQ4_NL", ggml_type::iq4_nl},
    {llama_ftype::mostly_iq3_s, "IQ3_S", ggml_type::iq3_s},
    {llama_ftype::mostly_iq3_m, "IQ3_M", ggml_type::iq3_s},
    {llama_ftype::mostly_iq2_s, "IQ2_S", ggml_type::iq2_xs},
    {llama_ftype::mostly_iq2_m, "IQ2_M", ggml_type::iq2_s},
    {llama_ftype::mostly_iq4_xs, "IQ4_XS", ggml_type::iq4_xs},
    {llama_ftype::mostly_iq1_m, "IQ1_M", ggml_type::iq1_m},
    {llama_ftype::mostly_bf16, "BF16", ggml_type::bf16},
    {llama_ftype::mostly_tq1_0, "TQ1_0", ggml_type::tq1_0},
    {llama_ftype::mostly_tq2_0, "TQ2_0", ggml_type::tq2_0},
    {llama_ftype::mostly_mxfp4_moe, "MXFP4_MOE", ggml_type::mxfp4},
    {llama_ftype::mostly_nvfp4, "NVFP4", ggml_type::nvfp4},
    {llama_ftype::mostly_q1_0, "Q1_0", ggml_type::q1_0},
}};

[[nodiscard]] constexpr const ftype_entry* find_ftype(llama_ftype ftype) noexcept {
    for (const auto& entry : ftype_table) {
        if (entry.ftype == ftype) return &entry;
    }
    return nullptr;
}

[[nodiscard]] constexpr bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    auto upper = [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; };
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (upper(a[i]) != upper(b[i])) return false;
    }
    return true;
}

} // namespace detail

// False for ids the engine does not know (or has removed).
[[nodiscard]] constexpr bool is_known_ftype(llama_ftype ftype) noexcept { return detail::find_ftype(ftype) != nullptr; }

// "Q4_K_M", "F16", "MXFP4_MOE", ...; "unknown" for an id the engine does not know.
[[nodiscard]] constexpr std::string_view ftype_name(llama_ftype ftype) noexcept {
    const auto* entry = detail::find_ftype(ftype);
    return entry != nullptr ? entry->name : std::string_view{"unknown"};
}

// Case-insensitive, as llama-quantize parses its type argument (try_parse_ftype). Also takes
// llama-quantize's aliases Q3_K, Q4_K and Q5_K (for the _M variants).
[[nodiscard]] constexpr std::optional<llama_ftype> ftype_from_name(std::string_view name) noexcept {
    for (const auto& entry : detail::ftype_table) {
        if (detail::equals_ignoring_case(entry.name, name)) return entry.ftype;
    }
    if (detail::equals_ignoring_case(name, "Q3_K")) return llama_ftype::mostly_q3_K_M;
    if (detail::equals_ignoring_case(name, "Q4_K")) return llama_ftype::mostly_q4_K_M;
    if (detail::equals_ignoring_case(name, "Q5_K")) return llama_ftype::mostly_q5_K_M;
    return std::nullopt;
}

// llama_ftype_get_default_type: the type every quantizable tensor starts from before the
// per-tensor mixing rules. For an id the engine does not know it returns f32; `quantize`
// rejects such ids with an error instead (the engine: "invalid output file type").
[[nodiscard]] constexpr ggml_type ftype_default_type(llama_ftype ftype) noexcept {
    const auto* entry = detail::find_ftype(ftype);
    return entry != nullptr ? entry->base : ggml_type::f32;
}

} // namespace vramfit
