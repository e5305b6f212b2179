// vramfit/model/tensor.hpp — a tensor of a model, whatever file it comes from and whatever
// engine loads it: name, shape, element type, and where its data sits.
#pragma once

#include <array>
#include <cstdint>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/text.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit {

// Tensor names of any length; GGUF's (GGML_MAX_NAME 64) never allocate.
using tensor_name = compact_text<64>;

// A tensor as the loader sees it: name, shape, type, and where its data sits.
struct tensor_info {
    tensor_name name{};
    std::array<std::int64_t, 4> ne{1, 1, 1, 1};
    std::uint32_t n_dims = 1;
    ggml_type type = ggml_type::f32;
    std::uint64_t offset = 0;   // from the start of the file's data section
    std::uint16_t file_index = 0;  // which split file holds it
    std::int32_t layer = -1;    // N of "blk.N.", -1 outside any block

    [[nodiscard]] constexpr bytes size() const { return tensor_bytes(type, ne); }
    [[nodiscard]] constexpr std::int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

struct source_file {
    std::uint64_t data_offset = 0;  // absolute offset of the data section in this file
    std::uint64_t file_size = 0;    // bytes; 0 when unknown (catalog)
    std::uint32_t alignment = 32;   // general.alignment, GGUF_DEFAULT_ALIGNMENT
};

} // namespace vramfit
