// vramfit/model/dtype.hpp — element types of model tensors, whatever file or engine: ids, block
// sizes, row sizes.
//
// One list for every engine: the plain types (f32, f16, bf16, f64, integers), the 8-bit floats and
// bool that safetensors files hold, and block formats (ggml's quantizations, MXFP4). Block formats
// and the plain types ggml has take ggml's ids, so a GGUF type id converts with a checked cast
// (ggml_type_from_id) and `ggml_type` is another name for this enum; the types ggml has no id
// for are numbered from 64, outside ggml's range, and no GGUF file can name them.
//
// ggml's part mirrors `enum ggml_type` (ggml/include/ggml.h) and the `type_traits` table of
// ggml/src/ggml.c at llama.cpp 1425386f (ggml 0.17.0). The block structs behind
// `bytes_per_block` are those of ggml/src/ggml-common.h. Ids the engine has removed
// (4, 5: Q4_2/Q4_3; 31-33: Q4_0_4_4/4_8/8_8; 36-38: IQ4_NL_4_4/4_8/8_8) are kept as
// known-but-removed so a reader can say so instead of "unknown".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "vramfit/core/detail/ascii.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit {

enum class dtype : std::uint32_t {
    f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3,
    q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
    q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15,
    iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23,
    i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30,
    tq1_0 = 34, tq2_0 = 35,
    mxfp4 = 39, nvfp4 = 40, q1_0 = 41,
    // Not in ggml (safetensors: F8_E4M3, F8_E5M2, U8, BOOL).
    f8_e4m3 = 64, f8_e5m2 = 65, u8 = 66, boolean = 67,
};

// ggml's name for the same list: engine code that speaks of ggml's types says ggml_type.
using ggml_type = dtype;

// GGML_TYPE_COUNT at the target commit.
inline constexpr std::uint32_t ggml_type_count = 42;
// The first id of the types ggml does not have, and how many there are.
inline constexpr std::uint32_t first_non_ggml_type = 64;
inline constexpr std::uint32_t non_ggml_type_count = 4;

struct ggml_type_traits {
    std::string_view name;        // as ggml_type_name() prints it
    std::uint32_t block_size = 0;  // elements per block (blck_size)
    std::uint32_t bytes_per_block = 0;  // type_size
    bool quantized = false;
    bool removed = false;
};

namespace detail {
// Indexed by type id. Block layouts from ggml-common.h, e.g. block_q4_K = 2 half + 12 scales
// + 128 quants = 144 bytes per 256 elements.
inline constexpr std::array<ggml_type_traits, ggml_type_count> ggml_traits_table{{
    /*  0 */ {"f32", 1, 4, false, false},
    /*  1 */ {"f16", 1, 2, false, false},
    /*  2 */ {"q4_0", 32, 18, true, false},
    /*  3 */ {"q4_1", 32, 20, true, false},
    /*  4 */ {"q4_2", 0, 0, true, true},
    /*  5 */ {"q4_3", 0, 0, true, true},
    /*  6 */ {"q5_0", 32, 22, true, false},
    /*  7 */ {"q5_1", 32, 24, true, false},
    /*  8 */ {"q8_0", 32, 34, true, false},
    /*  9 */ {"q8_1", 32, 36, true, false},
    /* 10 */ {"q2_K", 256, 84, true, false},
    /* 11 */ {"q3_K", 256, 110, true, false},
    /* 12 */ {"q4_K", 256, 144, true, false},
    /* 13 */ {"q5_K", 256, 176, true, false},
    /* 14 */ {"q6_K", 256, 210, true, false},
    /* 15 */ {"q8_K", 256, 292, true, false},
    /* 16 */ {"iq2_xxs", 256, 66, true, false},
    /* 17 */ {"iq2_xs", 256, 74, true, false},
    /* 18 */ {"iq3_xxs", 256, 98, true, false},
    /* 19 */ {"iq1_s", 256, 50, true, false},
    /* 20 */ {"iq4_nl", 32, 18, true, false},
    /* 21 */ {"iq3_s", 256, 110, true, false},
    /* 22 */ {"iq2_s", 256, 82, true, false},
    /* 23 */ {"iq4_xs", 256, 136, true, false},
    /* 24 */ {"i8", 1, 1, false, false},
    /* 25 */ {"i16", 1, 2, false, false},
    /* 26 */ {"i32", 1, 4, false, false},
    /* 27 */ {"i64", 1, 8, false, false},
    /* 28 */ {"f64", 1, 8, false, false},
    /* 29 */ {"iq1_m", 256, 56, true, false},
    /* 30 */ {"bf16", 1, 2, false, false},
    /* 31 */ {"q4_0_4_4", 0, 0, true, true},
    /* 32 */ {"q4_0_4_8", 0, 0, true, true},
    /* 33 */ {"q4_0_8_8", 0, 0, true, true},
    /* 34 */ {"tq1_0", 256, 54, true, false},
    /* 35 */ {"tq2_0", 256, 66, true, false},
    /* 36 */ {"iq4_nl_4_4", 0, 0, true, true},
    /* 37 */ {"iq4_nl_4_8", 0, 0, true, true},
    /* 38 */ {"iq4_nl_8_8", 0, 0, true, true},
    /* 39 */ {"mxfp4", 32, 17, true, false},
    /* 40 */ {"nvfp4", 64, 36, true, false},
    /* 41 */ {"q1_0", 128, 18, true, false},
}};
// Ids from first_non_ggml_type: one byte per element each (OCP FP8 E4M3 / E5M2, uint8, bool).
inline constexpr std::array<ggml_type_traits, non_ggml_type_count> other_traits_table{{
    /* 64 */ {"f8_e4m3", 1, 1, false, false},
    /* 65 */ {"f8_e5m2", 1, 1, false, false},
    /* 66 */ {"u8", 1, 1, false, false},
    /* 67 */ {"bool", 1, 1, false, false},
}};
} // namespace detail

[[nodiscard]] constexpr const ggml_type_traits& traits(dtype type) noexcept {
    const auto id = static_cast<std::uint32_t>(type);
    return id < ggml_type_count ? detail::ggml_traits_table[id] : detail::other_traits_table[id - first_non_ggml_type];
}
// Whether a GGUF file can hold the type (ggml has an id for it).
[[nodiscard]] constexpr bool is_ggml_type(dtype type) noexcept { return static_cast<std::uint32_t>(type) < ggml_type_count; }
[[nodiscard]] constexpr std::string_view type_name(ggml_type type) noexcept { return traits(type).name; }
[[nodiscard]] constexpr std::uint32_t block_size(ggml_type type) noexcept { return traits(type).block_size; }
[[nodiscard]] constexpr std::uint32_t bytes_per_block(ggml_type type) noexcept { return traits(type).bytes_per_block; }
[[nodiscard]] constexpr bool is_quantized(ggml_type type) noexcept { return traits(type).quantized; }

// A raw id from a file: valid, removed, or unknown — each a distinct, named error.
[[nodiscard]] constexpr result<ggml_type> ggml_type_from_id(std::uint32_t id) noexcept {
    if (id >= ggml_type_count) {
        return error{errc::unknown_type, "unknown ggml type id "}.with_number(id);
    }
    const auto& t = detail::ggml_traits_table[id];
    if (t.removed) {
        return error{errc::removed_type, "ggml type id "}.with_number(id).with(" (").with(t.name).with(") was removed from ggml");
    }
    return static_cast<ggml_type>(id);
}

// Case-insensitive lookup of a type by its ggml name ("q8_0", "Q4_K", "bf16").
[[nodiscard]] constexpr std::optional<ggml_type> ggml_type_from_name(std::string_view name) noexcept {
    for (std::uint32_t id = 0; id < ggml_type_count; ++id) {
        const auto& t = detail::ggml_traits_table[id];
        if (!t.removed && detail::equal_ignoring_case(t.name, name)) return static_cast<ggml_type>(id);
    }
    return std::nullopt;
}

// Any element type by name, ggml's or not ("bf16", "f8_e4m3", "bool").
[[nodiscard]] constexpr std::optional<dtype> dtype_from_name(std::string_view name) noexcept {
    if (auto type = ggml_type_from_name(name)) return type;
    for (std::uint32_t i = 0; i < non_ggml_type_count; ++i) {
        if (detail::equal_ignoring_case(detail::other_traits_table[i].name, name)) return static_cast<dtype>(first_non_ggml_type + i);
    }
    return std::nullopt;
}

// ggml_row_size: bytes of `n_elements` consecutive elements (a multiple of the block size).
[[nodiscard]] constexpr bytes row_size(ggml_type type, std::int64_t n_elements) noexcept {
    const auto& t = traits(type);
    return bytes{static_cast<std::uint64_t>(n_elements) / t.block_size * t.bytes_per_block};
}

// ggml_nbytes for a contiguous tensor of shape ne[0..3]: rows of ne[0] elements.
[[nodiscard]] constexpr bytes tensor_bytes(ggml_type type, const std::array<std::int64_t, 4>& ne) noexcept {
    return row_size(type, ne[0]) * static_cast<std::uint64_t>(ne[1] * ne[2] * ne[3]);
}

} // namespace vramfit
