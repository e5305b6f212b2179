// vramfit/formats/safetensors/header.hpp — a safetensors file's header: every tensor's name,
// dtype, shape and byte range, without touching tensor data.
//
// The layout and the checks are the safetensors format's (safetensors/src/tensor.rs:
// `SafeTensors::read_metadata` and `Metadata::validate`): 8 bytes of little-endian header length
// N (at most 100 000 000), N bytes of JSON — an object of tensor name → {"dtype", "shape",
// "data_offsets": [begin, end]} plus an optional "__metadata__" of strings — then the data. The
// tensors' byte ranges, sorted, must tile the data from 0 without gap or overlap, each range
// must be exactly shape × dtype size, and the data must end where the file does.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/formats/json/reader.hpp"
#include "vramfit/model/dtype.hpp"
#include "vramfit/model/tensor.hpp"

namespace vramfit::safetensors {

inline constexpr std::uint64_t max_header_bytes = 100'000'000;  // tensor.rs: MAX_HEADER_SIZE
inline constexpr std::size_t max_rank = 16;                      // no model tensor comes near

// safetensors' Dtype names and sizes in bits (tensor.rs: `Dtype::bitsize`).
struct dtype_info {
    std::string_view name;
    std::uint32_t bits;
    std::optional<vramfit::dtype> as_dtype;  // vramfit's element type, where there is one
};

inline constexpr dtype_info dtypes[] = {
    {"BOOL", 8, vramfit::dtype::boolean}, {"F4", 4, std::nullopt},        {"F6_E2M3", 6, std::nullopt},
    {"F6_E3M2", 6, std::nullopt},        {"U8", 8, vramfit::dtype::u8},   {"I8", 8, vramfit::dtype::i8},
    {"F8_E5M2", 8, vramfit::dtype::f8_e5m2}, {"F8_E4M3", 8, vramfit::dtype::f8_e4m3}, {"F8_E8M0", 8, std::nullopt},
    {"I16", 16, vramfit::dtype::i16},    {"U16", 16, std::nullopt},       {"F16", 16, vramfit::dtype::f16},
    {"BF16", 16, vramfit::dtype::bf16},  {"I32", 32, vramfit::dtype::i32}, {"U32", 32, std::nullopt},
    {"F32", 32, vramfit::dtype::f32},    {"C64", 64, std::nullopt},       {"F64", 64, vramfit::dtype::f64},
    {"I64", 64, vramfit::dtype::i64},    {"U64", 64, std::nullopt},
};

[[nodiscard]] constexpr const dtype_info* find_dtype(std::string_view name) noexcept {
    for (const auto& d : dtypes) if (d.name == name) return &d;
    return nullptr;
}

struct tensor_entry {
    tensor_name name{};
    const dtype_info* type = nullptr;
    std::vector<std::uint64_t> shape{};
    std::uint64_t begin = 0;  // byte range within the data section
    std::uint64_t end = 0;

    [[nodiscard]] constexpr bytes size() const noexcept { return bytes{end - begin}; }
    [[nodiscard]] constexpr std::uint64_t n_elements() const noexcept {
        std::uint64_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
};

struct header {
    std::uint64_t header_bytes = 0;  // N
    std::uint64_t data_bytes = 0;    // the data section: the file's size less 8 + N
    std::vector<tensor_entry> tensors;  // in the header's order
    std::vector<std::pair<text, text>> metadata;  // "__metadata__"

    [[nodiscard]] constexpr std::uint64_t data_offset() const noexcept { return 8 + header_bytes; }
};

// The first 8 bytes: the header length, checked against the cap and the file size.
[[nodiscard]] constexpr result<std::uint64_t> header_length(std::span<const unsigned char> first8, std::uint64_t file_size) {
    if (first8.size() < 8 || file_size < 8) return error{errc::truncated, "shorter than the 8-byte header length", 0};
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < 8; ++i) n |= std::uint64_t{first8[i]} << (8 * i);
    if (n > max_header_bytes) return error{errc::limit_exceeded, "header length over 100000000 bytes: ", 0}.with_number(n);
    if (n > file_size - 8) return error{errc::truncated, "header length runs past the end of the file: ", 0}.with_number(n);
    return n;
}

namespace detail {

constexpr error at(std::string_view name, std::uint64_t offset, std::string_view what) {
    return error{errc::bad_value, "tensor '", offset}.with(name).with("' at byte ").with_number(offset).with(": ").with(what);
}

} // namespace detail

// Parses the header JSON (the N bytes after the length) of a file of `file_size` bytes.
[[nodiscard]] constexpr result<header> parse_header(std::string_view json_text, std::uint64_t file_size) {
    header h;
    h.header_bytes = json_text.size();
    if (file_size < 8 + h.header_bytes) return error{errc::truncated, "file shorter than its header"};
    h.data_bytes = file_size - 8 - h.header_bytes;
    if (json_text.empty() || json_text.front() != '{') return error{errc::malformed, "header does not start with '{'", 8};
    auto doc = json::parse(json_text);
    if (!doc) {
        return error{errc::malformed, "header is not valid JSON at byte ", 8 + doc.err().byte_offset()}
            .with_number(8 + doc.err().byte_offset()).with(": ").with(doc.err().message());
    }
    const auto& d = *doc;
    for (auto n = d.at(0).first_child; n != json::no_node; n = d.at(n).next_sibling) {
        const std::uint64_t offset = 8 + d.at(n).begin;
        const std::string_view key = d.raw_key(n);
        if (key == "__metadata__") {
            if (d.at(n).type != json::kind::object) return error{errc::bad_value, "__metadata__ is not an object", offset};
            for (auto m = d.at(n).first_child; m != json::no_node; m = d.at(m).next_sibling) {
                auto value = d.string(m);
                if (!value) return error{errc::bad_value, "__metadata__ values must be strings", 8 + d.at(m).begin};
                h.metadata.emplace_back(text{d.raw_key(m)}, std::move(*value));
            }
            continue;
        }
        if (d.at(n).type != json::kind::object) return detail::at(key, offset, "expected an object");
        tensor_entry t{};
        t.name = key;  // safetensors names are JSON keys: escapes kept as written
        const auto type = d.find(n, "dtype");
        if (type == json::no_node || d.at(type).type != json::kind::string) return detail::at(key, offset, "no dtype");
        auto type_name = d.string(type);
        if (!type_name) return detail::at(key, offset, "bad dtype string");
        t.type = find_dtype(type_name->view());
        if (t.type == nullptr) return detail::at(key, offset, "unknown dtype");
        const auto shape = d.find(n, "shape");
        if (shape == json::no_node || d.at(shape).type != json::kind::array) return detail::at(key, offset, "no shape");
        if (d.at(shape).children > max_rank) return detail::at(key, offset, "shape of more than 16 dimensions");
        std::uint64_t elements = 1;
        bool overflow = false;
        for (auto e = d.at(shape).first_child; e != json::no_node; e = d.at(e).next_sibling) {
            auto dim = d.unsigned_integer(e);
            if (!dim) return detail::at(key, offset, "shape entries must be non-negative integers");
            t.shape.push_back(*dim);
            if (*dim != 0 && elements > ~std::uint64_t{0} / *dim) overflow = true;
            else elements *= *dim;
        }
        const auto offsets = d.find(n, "data_offsets");
        if (offsets == json::no_node || d.at(offsets).type != json::kind::array || d.at(offsets).children != 2) {
            return detail::at(key, offset, "data_offsets must be [begin, end]");
        }
        auto begin = d.unsigned_integer(d.at(offsets).first_child);
        auto end = d.unsigned_integer(d.at(d.at(offsets).first_child).next_sibling);
        if (!begin || !end) return detail::at(key, offset, "data_offsets must be non-negative integers");
        t.begin = *begin;
        t.end = *end;
        if (t.end < t.begin) return detail::at(key, offset, "data_offsets end before they begin");
        // tensor.rs: the byte size is elements × bits / 8, which must be whole and equal the range
        if (overflow || elements > ~std::uint64_t{0} / t.type->bits) return detail::at(key, offset, "shape overflows");
        const std::uint64_t bits = elements * t.type->bits;
        if (bits % 8 != 0) return detail::at(key, offset, "shape is not a whole number of bytes for its dtype");
        if (bits / 8 != t.end - t.begin) return detail::at(key, offset, "data_offsets do not match shape × dtype size");
        for (const auto& other : h.tensors)
            if (other.name == t.name) return detail::at(key, offset, "appears twice");
        h.tensors.push_back(std::move(t));
    }
    // The ranges, in order of their start, tile [0, data_bytes).
    std::vector<std::size_t> order(h.tensors.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return h.tensors[a].begin != h.tensors[b].begin ? h.tensors[a].begin < h.tensors[b].begin : h.tensors[a].end < h.tensors[b].end;
    });
    std::uint64_t expected = 0;
    for (auto i : order) {
        const auto& t = h.tensors[i];
        if (t.begin != expected) {
            return error{errc::out_of_bounds, "tensor '"}.with(t.name.view()).with("' does not start where the previous one ends (")
                .with_number(t.begin).with(" instead of ").with_number(expected).with(")");
        }
        expected = t.end;
    }
    if (expected != h.data_bytes) {
        return error{errc::out_of_bounds, "the tensors cover "}.with_number(expected).with(" bytes of data, the file has ").with_number(h.data_bytes);
    }
    return h;
}

// A whole file in memory (or its first 8 + N bytes and the file's size).
[[nodiscard]] constexpr result<header> parse(std::span<const unsigned char> start, std::uint64_t file_size) {
    auto n = header_length(start, file_size);
    if (!n) return n.err();
    if (start.size() < 8 + *n) return error{errc::truncated, "fewer bytes than the header length announces", 8};
    std::string_view json_text{};
    text copy;  // a string_view over unsigned char is not allowed in constant evaluation
    for (std::size_t i = 0; i < *n; ++i) copy.append(static_cast<char>(start[8 + i]));
    json_text = copy.view();
    return parse_header(json_text, file_size);
}

} // namespace vramfit::safetensors
