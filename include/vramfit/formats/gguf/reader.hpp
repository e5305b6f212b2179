// vramfit/formats/gguf/reader.hpp — the GGUF header: metadata and tensor infos, parsed from bytes.
//
// Reads the header only (magic, version, counts, key/value pairs, tensor infos), never tensor
// data, from a byte span, so it runs in constant expressions as well as on a file's first
// megabytes (formats/gguf/file.hpp is the file front-end). The format and every check mirror
// ggml/src/gguf.cpp at llama.cpp 1425386f: gguf_init_from_reader and the gguf_reader helpers
// it uses (read here at the stored revision 067d44f; older revisions have the same checks in
// gguf_init_from_file_impl). Malformed input yields a vramfit::error naming the key, tensor or
// byte offset; nothing reads outside the span, and every allocation is bounded by what the
// remaining input could hold.
//
//     const std::vector<unsigned char> bytes = ...;      // must outlive the header
//     auto h = gguf::parse(bytes);                       // or parse(bytes, {file_size})
//     if (!h) return h.err();                            // "at byte 123: tensor 'x': ..."
//     auto layers = h->get_uint("llama.block_count");    // std::optional<std::uint64_t>
//     for (const tensor_info& t : h->tensors()) ...      // name, ne, type, offset, layer
//
// Differences from ggml, on purpose:
//  * nested arrays (an array whose element type is ARRAY) are parsed as the GGUF specification
//    allows; ggml rejects them ("invalid GGUF type"), so llama.cpp cannot load such a file;
//  * a dimension of 0 is rejected (ggml accepts zero-element tensors; no model file has them
//    and a zero extent breaks every per-row size downstream);
//  * `parse_options::file_size` lets the caller bound counts and lengths by the real file size
//    while handing over only a prefix; a read past the prefix is errc::truncated and the
//    error's byte_offset() is the input length needed to go on;
//  * at most 2^20 key/value pairs and 2^22 tensors (`max_kv_pairs`, `max_tensors`).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <string>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "vramfit/core/fixed_string.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/model/dtype.hpp"
#include "vramfit/model/tensor.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::gguf {

// enum gguf_type (ggml/include/gguf.h).
enum class value_type : std::uint32_t {
    uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, boolean = 7,
    string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12,
};
inline constexpr std::uint32_t value_type_count = 13;  // GGUF_TYPE_COUNT

// GGUF_VERSION (gguf.h); v1 (32-bit counts) is no longer read by ggml, v2 and v3 share a layout.
inline constexpr std::uint32_t max_version = 3;
inline constexpr std::uint32_t default_alignment = 32;            // GGUF_DEFAULT_ALIGNMENT
inline constexpr std::uint64_t max_string_length = 1ULL << 30;    // GGUF_MAX_STRING_LENGTH (gguf.cpp)
inline constexpr std::uint64_t max_array_elements = 1ULL << 30;   // GGUF_MAX_ARRAY_ELEMENTS (gguf.cpp)
inline constexpr std::size_t max_tensor_name = 64;                // GGML_MAX_NAME, including the NUL
inline constexpr std::uint32_t max_dims = 4;                      // GGML_MAX_DIMS
inline constexpr std::uint32_t max_array_nesting = 8;             // ours: bounds recursion on nested arrays
// Ours, far above any real model (a few hundred keys; DeepSeek-V3 with per-expert tensors would
// have ~50k tensors): they bound the parser's memory at a few hundred MiB whatever the input.
inline constexpr std::uint64_t max_kv_pairs = 1ULL << 20;
inline constexpr std::uint64_t max_tensors = 1ULL << 22;

// Well-known keys (gguf.h GGUF_KEY_GENERAL_ALIGNMENT; llama-arch.cpp LLM_KV_SPLIT_*).
namespace keys {
inline constexpr std::string_view general_alignment = "general.alignment";
inline constexpr std::string_view general_architecture = "general.architecture";
inline constexpr std::string_view general_name = "general.name";
inline constexpr std::string_view split_no = "split.no";
inline constexpr std::string_view split_count = "split.count";
inline constexpr std::string_view split_tensors_count = "split.tensors.count";
} // namespace keys

// gguf_type_name (gguf.cpp).
[[nodiscard]] constexpr std::string_view type_name(value_type type) noexcept {
    switch (type) {
        case value_type::uint8: return "u8";
        case value_type::int8: return "i8";
        case value_type::uint16: return "u16";
        case value_type::int16: return "i16";
        case value_type::uint32: return "u32";
        case value_type::int32: return "i32";
        case value_type::float32: return "f32";
        case value_type::boolean: return "bool";
        case value_type::string: return "str";
        case value_type::array: return "arr";
        case value_type::uint64: return "u64";
        case value_type::int64: return "i64";
        case value_type::float64: return "f64";
    }
    return "?";
}

// gguf_type_size (gguf.cpp): bytes of one scalar; 0 for string and array.
[[nodiscard]] constexpr std::uint64_t scalar_size(value_type type) noexcept {
    switch (type) {
        case value_type::uint8: case value_type::int8: case value_type::boolean: return 1;
        case value_type::uint16: case value_type::int16: return 2;
        case value_type::uint32: case value_type::int32: case value_type::float32: return 4;
        case value_type::uint64: case value_type::int64: case value_type::float64: return 8;
        case value_type::string: case value_type::array: return 0;
    }
    return 0;
}

[[nodiscard]] constexpr bool is_integer(value_type type) noexcept {
    switch (type) {
        case value_type::uint8: case value_type::int8: case value_type::uint16: case value_type::int16:
        case value_type::uint32: case value_type::int32: case value_type::uint64: case value_type::int64:
            return true;
        default: return false;
    }
}
[[nodiscard]] constexpr bool is_signed_integer(value_type type) noexcept {
    return type == value_type::int8 || type == value_type::int16 || type == value_type::int32 || type == value_type::int64;
}
[[nodiscard]] constexpr bool is_float(value_type type) noexcept {
    return type == value_type::float32 || type == value_type::float64;
}

struct parse_options {
    // Size of the whole file when `data` is only its first bytes; 0 when `data` is all there is.
    // When known, counts and lengths are checked against it and tensor data must lie inside it.
    std::uint64_t file_size = 0;
};

// One metadata key/value as a dump sees it. Views point into the header that produced it.
struct metadata_entry {
    std::string_view key;
    value_type type = value_type::uint8;
    value_type element_type = value_type::uint8;  // arrays only
    std::uint64_t count = 1;                      // array length; 1 for scalars
    std::uint64_t value_offset = 0;               // absolute offset of the value (first element)
};

// The block of a GGUF tensor name: "blk.N." → N, -1 outside the repeating blocks (GGUF's tensor
// naming, llama-arch.cpp's LLM_TENSOR_NAMES). Every reader of block numbers uses this one.
[[nodiscard]] constexpr std::int32_t block_index(std::string_view name) noexcept {
    constexpr std::string_view prefix = "blk.";
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return -1;
    std::int64_t layer = 0;
    std::size_t i = prefix.size();
    const std::size_t first_digit = i;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9' && i - first_digit < 9) {
        layer = layer * 10 + (name[i] - '0');
        ++i;
    }
    if (i == first_digit || i >= name.size() || name[i] != '.') return -1;
    return static_cast<std::int32_t>(layer);
}

namespace detail {

constexpr std::uint16_t load_u16(std::span<const unsigned char> d, std::uint64_t at) noexcept {
    return static_cast<std::uint16_t>(d[at] | (d[at + 1] << 8));
}
constexpr std::uint32_t load_u32(std::span<const unsigned char> d, std::uint64_t at) noexcept {
    return static_cast<std::uint32_t>(d[at]) | (static_cast<std::uint32_t>(d[at + 1]) << 8) |
           (static_cast<std::uint32_t>(d[at + 2]) << 16) | (static_cast<std::uint32_t>(d[at + 3]) << 24);
}
constexpr std::uint64_t load_u64(std::span<const unsigned char> d, std::uint64_t at) noexcept {
    return static_cast<std::uint64_t>(load_u32(d, at)) | (static_cast<std::uint64_t>(load_u32(d, at + 4)) << 32);
}

// A key or name in an error message: long ones (a GGUF key may be megabytes) are shown by their
// first 96 characters.
constexpr std::string_view clip(std::string_view text) noexcept {
    return text.size() <= 96 ? text : text.substr(0, 96);
}


struct kv_record {
    std::uint64_t key_begin = 0;     // in the header's text arena
    std::uint64_t key_size = 0;
    value_type type = value_type::uint8;
    value_type element_type = value_type::uint8;
    std::uint64_t count = 1;
    std::uint64_t value_offset = 0;  // absolute, in the parsed bytes
    std::uint64_t text_begin = 0;    // scalar strings: the value, copied into the arena
    std::uint64_t text_size = 0;
    std::uint64_t key_offset = 0;    // where the key starts, for messages
};

class parser;

} // namespace detail

class header {
public:
    constexpr header() = default;

    [[nodiscard]] constexpr std::uint32_t version() const { return version_; }
    [[nodiscard]] constexpr std::uint32_t alignment() const { return alignment_; }
    // Absolute offset of the data section (gguf_get_data_offset).
    [[nodiscard]] constexpr std::uint64_t data_offset() const { return data_offset_; }
    // Bytes of the data section: every tensor padded to the alignment (gguf_context::size).
    [[nodiscard]] constexpr bytes data_size() const { return bytes{data_size_}; }
    // The file size a complete file has: data_offset + data_size.
    [[nodiscard]] constexpr bytes expected_file_size() const { return bytes{data_offset_ + data_size_}; }
    [[nodiscard]] constexpr const std::vector<tensor_info>& tensors() const { return tensors_; }
    // The parsed bytes (the tensor-info section ends at tensors_end()).
    [[nodiscard]] constexpr std::span<const unsigned char> bytes_parsed() const { return data_; }
    [[nodiscard]] constexpr std::uint64_t tensors_end() const { return tensors_end_; }
    // The bytes of entry `i` after its key: type tag and value, exactly as in the file.
    [[nodiscard]] constexpr std::span<const unsigned char> encoded_value(std::size_t i) const {
        const auto& r = records_[i];
        const std::uint64_t begin = r.key_offset + 8 + r.key_size;
        const std::uint64_t end = i + 1 < records_.size() ? records_[i + 1].key_offset : metadata_end_;
        return data_.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin));
    }

    // --- metadata -------------------------------------------------------------------------
    [[nodiscard]] constexpr std::size_t size() const { return records_.size(); }  // n_kv
    [[nodiscard]] constexpr metadata_entry entry(std::size_t i) const {
        const auto& r = records_[i];
        return {key_view(r), r.type, r.element_type, r.count, r.value_offset};
    }
    // All entries in file order, for a dump.
    [[nodiscard]] constexpr std::vector<metadata_entry> entries() const {
        std::vector<metadata_entry> all;
        all.reserve(records_.size());
        for (std::size_t i = 0; i < records_.size(); ++i) all.push_back(entry(i));
        return all;
    }
    // Index of `key` in file order.
    [[nodiscard]] constexpr std::optional<std::size_t> find(std::string_view key) const {
        auto it = std::lower_bound(sorted_keys_.begin(), sorted_keys_.end(), key,
            [this](std::uint32_t index, std::string_view k) { return key_view(records_[index]) < k; });
        if (it == sorted_keys_.end() || key_view(records_[*it]) != key) return std::nullopt;
        return static_cast<std::size_t>(*it);
    }
    [[nodiscard]] constexpr bool has(std::string_view key) const { return find(key).has_value(); }
    [[nodiscard]] constexpr std::optional<value_type> type_of(std::string_view key) const {
        const auto* r = record(key);
        if (r == nullptr) return std::nullopt;
        return r->type;
    }
    [[nodiscard]] constexpr std::optional<value_type> element_type_of(std::string_view key) const {
        const auto* r = record(key);
        if (r == nullptr || r->type != value_type::array) return std::nullopt;
        return r->element_type;
    }

    [[nodiscard]] constexpr std::optional<std::string_view> get_string(std::string_view key) const {
        const auto* r = record(key);
        if (r == nullptr || r->type != value_type::string) return std::nullopt;
        return std::string_view{text_.data() + r->text_begin, static_cast<std::size_t>(r->text_size)};
    }
    // Any integer type whose value is >= 0.
    [[nodiscard]] constexpr std::optional<std::uint64_t> get_uint(std::string_view key) const {
        const auto* r = record(key);
        if (r == nullptr || !is_integer(r->type)) return std::nullopt;
        const auto v = integer_at(r->type, r->value_offset);
        if (v.negative) return std::nullopt;
        return v.bits;
    }
    // Any integer type whose value fits in int64.
    [[nodiscard]] constexpr std::optional<std::int64_t> get_int(std::string_view key) const {
        const auto* r = record(key);
        if (r == nullptr || !is_integer(r->type)) return std::nullopt;
        const auto v = integer_at(r->type, r->value_offset);
        if (!v.negative && v.bits > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
        return static_cast<std::int64_t>(v.bits);
    }
    // float32, float64 and integers.
    [[nodiscard]] constexpr std::optional<double> get_float(std::string_view key) const {
        const auto* r = record(key);
        if (r == nullptr) return std::nullopt;
        return number_at(r->type, r->value_offset);
    }
    [[nodiscard]] constexpr std::optional<bool> get_bool(std::string_view key) const {
        const auto* r = record(key);
        if (r == nullptr || r->type != value_type::boolean) return std::nullopt;
        return data_[r->value_offset] != 0;  // gguf_reader::read(bool&): any non-zero byte is true
    }
    [[nodiscard]] constexpr std::optional<std::uint64_t> array_size(std::string_view key) const {
        const auto* r = record(key);
        if (r == nullptr || r->type != value_type::array) return std::nullopt;
        return r->count;
    }
    // Arrays of integer or bool elements (bool as 0/1); nullopt if an element does not fit int64.
    [[nodiscard]] constexpr std::optional<std::vector<std::int64_t>> get_int_array(std::string_view key) const {
        const auto* r = record(key);
        if (r == nullptr || r->type != value_type::array) return std::nullopt;
        const value_type t = r->element_type;
        if (!is_integer(t) && t != value_type::boolean) return std::nullopt;
        std::vector<std::int64_t> values;
        values.reserve(static_cast<std::size_t>(r->count));
        const std::uint64_t step = scalar_size(t);
        for (std::uint64_t i = 0; i < r->count; ++i) {
            const std::uint64_t at = r->value_offset + i * step;
            if (t == value_type::boolean) { values.push_back(data_[at] != 0 ? 1 : 0); continue; }
            const auto v = integer_at(t, at);
            if (!v.negative && v.bits > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
            values.push_back(static_cast<std::int64_t>(v.bits));
        }
        return values;
    }
    // Arrays of float or integer elements.
    [[nodiscard]] constexpr std::optional<std::vector<double>> get_float_array(std::string_view key) const {
        const auto* r = record(key);
        if (r == nullptr || r->type != value_type::array) return std::nullopt;
        const value_type t = r->element_type;
        if (!is_integer(t) && !is_float(t)) return std::nullopt;
        std::vector<double> values;
        values.reserve(static_cast<std::size_t>(r->count));
        const std::uint64_t step = scalar_size(t);
        for (std::uint64_t i = 0; i < r->count; ++i) values.push_back(*number_at(t, r->value_offset + i * step));
        return values;
    }

    // Arrays of strings (run time only: the views point into the parsed bytes, which a constant
    // expression cannot reinterpret as characters). Each element was bounds-checked by parse().
    [[nodiscard]] std::optional<std::vector<std::string_view>> get_string_array(std::string_view key) const {
        const auto* r = record(key);
        if (r == nullptr || r->type != value_type::array || r->element_type != value_type::string) return std::nullopt;
        std::vector<std::string_view> values;
        values.reserve(static_cast<std::size_t>(r->count));
        std::uint64_t at = r->value_offset;
        const char* chars = reinterpret_cast<const char*>(data_.data());
        for (std::uint64_t i = 0; i < r->count; ++i) {
            const std::uint64_t length = detail::load_u64(data_, at);
            values.emplace_back(chars + at + 8, static_cast<std::size_t>(length));
            at += 8 + length;
        }
        return values;
    }

    // Typed access that explains a failure: missing_key, or bad_value naming the actual type.
    [[nodiscard]] constexpr result<std::string_view> require_string(std::string_view key) const {
        if (auto v = get_string(key)) return *v;
        return missing_or_wrong(key, "a string");
    }
    [[nodiscard]] constexpr result<std::uint64_t> require_uint(std::string_view key) const {
        if (auto v = get_uint(key)) return *v;
        return missing_or_wrong(key, "a non-negative integer");
    }
    [[nodiscard]] constexpr result<double> require_float(std::string_view key) const {
        if (auto v = get_float(key)) return *v;
        return missing_or_wrong(key, "a number");
    }

    // --- tensors --------------------------------------------------------------------------
    [[nodiscard]] constexpr const tensor_info* find_tensor(std::string_view name) const {
        auto it = std::lower_bound(sorted_tensors_.begin(), sorted_tensors_.end(), name,
            [this](std::uint32_t index, std::string_view n) { return tensors_[index].name.view() < n; });
        if (it == sorted_tensors_.end() || tensors_[*it].name.view() != name) return nullptr;
        return &tensors_[*it];
    }

private:
    friend class detail::parser;

    struct integer_value {
        bool negative = false;
        std::uint64_t bits = 0;  // the value; for negative values its two's complement
    };

    [[nodiscard]] constexpr std::string_view key_view(const detail::kv_record& r) const {
        return {text_.data() + r.key_begin, static_cast<std::size_t>(r.key_size)};
    }
    [[nodiscard]] constexpr const detail::kv_record* record(std::string_view key) const {
        const auto i = find(key);
        return i ? &records_[*i] : nullptr;
    }
    [[nodiscard]] constexpr integer_value integer_at(value_type t, std::uint64_t at) const {
        switch (t) {
            case value_type::uint8: return {false, data_[at]};
            case value_type::uint16: return {false, detail::load_u16(data_, at)};
            case value_type::uint32: return {false, detail::load_u32(data_, at)};
            case value_type::uint64: return {false, detail::load_u64(data_, at)};
            case value_type::int8: {
                const auto v = static_cast<std::int8_t>(data_[at]);
                return {v < 0, static_cast<std::uint64_t>(static_cast<std::int64_t>(v))};
            }
            case value_type::int16: {
                const auto v = static_cast<std::int16_t>(detail::load_u16(data_, at));
                return {v < 0, static_cast<std::uint64_t>(static_cast<std::int64_t>(v))};
            }
            case value_type::int32: {
                const auto v = static_cast<std::int32_t>(detail::load_u32(data_, at));
                return {v < 0, static_cast<std::uint64_t>(static_cast<std::int64_t>(v))};
            }
            case value_type::int64: {
                const auto v = static_cast<std::int64_t>(detail::load_u64(data_, at));
                return {v < 0, static_cast<std::uint64_t>(v)};
            }
            default: return {};
        }
    }
    [[nodiscard]] constexpr std::optional<double> number_at(value_type t, std::uint64_t at) const {
        if (t == value_type::float32) return static_cast<double>(std::bit_cast<float>(detail::load_u32(data_, at)));
        if (t == value_type::float64) return std::bit_cast<double>(detail::load_u64(data_, at));
        if (!is_integer(t)) return std::nullopt;
        const auto v = integer_at(t, at);
        return v.negative ? static_cast<double>(static_cast<std::int64_t>(v.bits)) : static_cast<double>(v.bits);
    }
    [[nodiscard]] constexpr error missing_or_wrong(std::string_view key, std::string_view wanted) const {
        const auto* r = record(key);
        if (r == nullptr) return error{errc::missing_key, "missing key '"}.with(detail::clip(key)).with("'");
        return error{errc::bad_value, "key '", r->key_offset}.with(detail::clip(key)).with("' is ")
            .with(type_name(r->type)).with(", expected ").with(wanted);
    }

    std::span<const unsigned char> data_{};
    std::uint32_t version_ = 0;
    std::uint32_t alignment_ = default_alignment;
    std::uint64_t data_offset_ = 0;
    std::uint64_t data_size_ = 0;
    std::uint64_t tensors_end_ = 0;
    std::uint64_t metadata_end_ = 0;  // where the key/value section ends and tensor infos begin
    std::vector<char> text_;                 // keys and scalar string values
    std::vector<detail::kv_record> records_;  // file order
    std::vector<std::uint32_t> sorted_keys_;  // indices into records_, by key
    std::vector<tensor_info> tensors_;
    std::vector<std::uint32_t> sorted_tensors_;
};

namespace detail {

// One pass over the bytes, in gguf_init_from_reader's order.
class parser {
public:
    constexpr parser(std::span<const unsigned char> data, parse_options options) : data_(data), options_(options) {
        // Bytes past the stated end of the file are not part of it.
        if (options_.file_size != 0 && options_.file_size < data_.size()) data_ = data_.first(options_.file_size);
    }

    constexpr result<header> run() {
        header h;
        h.data_ = data_;
        if (auto e = read_preamble(h)) return *e;
        if (auto e = read_metadata(h)) return *e;
        if (auto e = read_tensor_infos(h)) return *e;
        if (auto e = lay_out_data(h)) return *e;
        return h;
    }

private:
    using description = vramfit::fixed_string<200>;

    // Total size the input is known to have (the file size, or the span).
    [[nodiscard]] constexpr std::uint64_t known_end() const {
        return options_.file_size != 0 ? options_.file_size : data_.size();
    }
    [[nodiscard]] constexpr bool available(std::uint64_t n) const { return n <= data_.size() - pos_; }

    [[nodiscard]] constexpr error truncated(std::uint64_t n, std::string_view what, std::string_view name = {},
                                            std::string_view tail = {}) const {
        const std::uint64_t end = n > ~std::uint64_t{0} - pos_ ? ~std::uint64_t{0} : pos_ + n;
        error e{errc::truncated, "", end};
        if (options_.file_size != 0 && end > options_.file_size) {
            e.with("file ends at byte ").with_number(options_.file_size);
        } else {
            e.with("input ends at byte ").with_number(data_.size());
        }
        e.with(" inside ").with(what).with(clip(name)).with(tail).with(" (starting at byte ").with_number(pos_)
         .with(", needs ").with_number(n).with(" bytes)");
        return e;
    }

    [[nodiscard]] constexpr std::uint32_t take_u32() { const auto v = load_u32(data_, pos_); pos_ += 4; return v; }
    [[nodiscard]] constexpr std::uint64_t take_u64() { const auto v = load_u64(data_, pos_); pos_ += 8; return v; }

    // Checks that `count` items of at least `item_size` bytes each can follow (GGUF_MAX_* and the
    // remaining input), the bound that keeps every allocation proportional to the input.
    [[nodiscard]] constexpr std::optional<error> check_count(std::uint64_t count, std::uint64_t item_size,
                                                             std::uint64_t limit, std::string_view what,
                                                             std::string_view name = {}, std::string_view tail = {}) const {
        const std::uint64_t start = pos_;
        if (count > limit) {
            return error{errc::limit_exceeded, "", start}.with(what).with(clip(name)).with(tail).with(" count ")
                .with_number(count).with(" exceeds the limit ").with_number(limit);
        }
        if (item_size != 0 && count > (known_end() - start) / item_size) {
            if (options_.file_size != 0 || count > (~std::uint64_t{0} - start) / item_size) {
                return error{errc::limit_exceeded, "", start}.with(what).with(clip(name)).with(tail).with(" count ")
                    .with_number(count).with(" needs at least ").with_number(count).with(" x ").with_number(item_size)
                    .with(" bytes but the input has ").with_number(known_end() - start).with(" left");
            }
            return truncated(count * item_size, what, name, tail);
        }
        if (!available(count * item_size)) return truncated(count * item_size, what, name, tail);
        return std::nullopt;
    }

    constexpr std::optional<error> read_preamble(header& h) {
        // Magic "GGUF" (GGUF_MAGIC).
        if (!available(4)) return truncated(4, "the magic");
        constexpr std::array<unsigned char, 4> magic{'G', 'G', 'U', 'F'};
        bool good = true;
        for (std::size_t i = 0; i < 4; ++i) good = good && data_[i] == magic[i];
        if (!good) {
            char shown[4] = {};
            for (std::size_t i = 0; i < 4; ++i) {
                const unsigned char c = data_[i];
                shown[i] = c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
            }
            return error{errc::bad_magic, "invalid magic '", 0}.with(std::string_view{shown, 4})
                .with("', expected 'GGUF': not a GGUF file");
        }
        pos_ = 4;
        if (!available(4)) return truncated(4, "the version");
        h.version_ = take_u32();
        const std::uint32_t v = h.version_;
        if (v == 0) return error{errc::unsupported_version, "bad GGUF version 0", 4};
        if ((v & 0xFFFFu) == 0) {
            return error{errc::unsupported_version, "GGUF version ", 4}.with_number(v)
                .with(" is implausibly large: a file of the other byte order?");
        }
        if (v == 1) return error{errc::unsupported_version, "GGUF v1 is no longer supported (ggml reads v2 and v3)", 4};
        if (v > max_version) {
            return error{errc::unsupported_version, "GGUF version ", 4}.with_number(v)
                .with(" is newer than the supported version 3");
        }
        // Counts are int64 in the file (gguf_init_from_reader reads n_tensors, then n_kv).
        if (!available(16)) return truncated(16, "the tensor and key/value counts");
        n_tensors_ = take_u64();
        n_kv_ = take_u64();
        if (n_tensors_ > static_cast<std::uint64_t>(INT64_MAX)) {
            return error{errc::limit_exceeded, "number of tensors is negative", 8};
        }
        if (n_kv_ > static_cast<std::uint64_t>(INT64_MAX)) {
            return error{errc::limit_exceeded, "number of key/value pairs is negative", 16};
        }
        if (n_tensors_ > max_tensors) {
            return error{errc::limit_exceeded, "", 8}.with_number(n_tensors_)
                .with(" tensors: more than the limit of ").with_number(max_tensors);
        }
        if (n_kv_ > max_kv_pairs) {
            return error{errc::limit_exceeded, "", 16}.with_number(n_kv_)
                .with(" key/value pairs: more than the limit of ").with_number(max_kv_pairs);
        }
        // Each key/value needs at least 8 (key length) + 1 (key) + 4 (type) + 1 (value) bytes and each
        // tensor info 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset).
        constexpr std::uint64_t min_kv = 14, min_tensor = 24;
        const std::uint64_t left = known_end() - pos_;
        if (n_kv_ > left / min_kv || n_tensors_ > left / min_tensor ||
            n_kv_ * min_kv > left - n_tensors_ * min_tensor) {
            if (options_.file_size != 0 || n_kv_ > (1ULL << 58) || n_tensors_ > (1ULL << 58)) {
                return error{errc::limit_exceeded, "", 8}.with_number(n_tensors_).with(" tensors and ")
                    .with_number(n_kv_).with(" key/value pairs cannot fit in the ").with_number(left)
                    .with(" bytes that follow the header counts");
            }
            return truncated(n_kv_ * min_kv + n_tensors_ * min_tensor, "the key/value pairs and tensor infos");
        }
        return std::nullopt;
    }

    // A string: u64 length then bytes (gguf_reader::read(std::string&)).
    constexpr std::optional<error> read_string_length(std::uint64_t& length, std::string_view what,
                                                      std::string_view name = {}, std::string_view tail = {}) {
        if (!available(8)) return truncated(8, what, name, tail);
        const std::uint64_t at = pos_;
        length = take_u64();
        if (length > max_string_length) {
            return error{errc::limit_exceeded, "", at}.with(what).with(clip(name)).with(tail).with(": string length ")
                .with_number(length).with(" exceeds the maximum ").with_number(max_string_length);
        }
        if (!available(length)) {
            const std::uint64_t start = pos_;
            if (options_.file_size != 0 && length > options_.file_size - start) {
                return error{errc::truncated, "", start + length}.with(what).with(clip(name)).with(tail)
                    .with(": string length ").with_number(length).with(" exceeds the ")
                    .with_number(options_.file_size - start).with(" bytes left in the file");
            }
            return truncated(length, what, name, tail);
        }
        return std::nullopt;
    }

    constexpr void copy_text(std::vector<char>& text, std::uint64_t length) {
        for (std::uint64_t i = 0; i < length; ++i) text.push_back(static_cast<char>(data_[pos_ + i]));
        pos_ += length;
    }

    constexpr std::optional<error> read_value_type(value_type& type, std::string_view what, std::string_view key) {
        if (!available(4)) return truncated(4, what, key, "' type");
        const std::uint64_t at = pos_;
        const std::uint32_t raw = take_u32();
        if (raw >= value_type_count) {
            return error{errc::unknown_type, "", at}.with(what).with(clip(key)).with("' has invalid GGUF value type ")
                .with_number(raw).with(" (valid: 0..12)");
        }
        type = static_cast<value_type>(raw);
        return std::nullopt;
    }

    // The elements of an array whose element type and count have been read; nested arrays recurse.
    constexpr std::optional<error> skip_array(value_type element, std::uint64_t count, std::string_view key,
                                              std::uint32_t depth) {
        if (element == value_type::string) {
            if (auto e = check_count(count, 8, max_array_elements, "key '", key, "' array")) return e;
            for (std::uint64_t i = 0; i < count; ++i) {
                std::uint64_t length = 0;
                if (auto e = read_string_length(length, "key '", key, "' array element")) return e;
                pos_ += length;
            }
            return std::nullopt;
        }
        if (element == value_type::array) {
            if (depth >= max_array_nesting) {
                return error{errc::limit_exceeded, "key '", pos_}.with(clip(key)).with("' nests arrays deeper than ")
                    .with_number(max_array_nesting).with(" levels");
            }
            if (auto e = check_count(count, 12, max_array_elements, "key '", key, "' array")) return e;
            for (std::uint64_t i = 0; i < count; ++i) {
                value_type inner = value_type::uint8;
                if (auto e = read_value_type(inner, "key '", key)) return e;
                if (!available(8)) return truncated(8, "key '", key, "' nested array count");
                const std::uint64_t inner_count = take_u64();
                if (auto e = skip_array(inner, inner_count, key, depth + 1)) return e;
            }
            return std::nullopt;
        }
        const std::uint64_t size = scalar_size(element);
        if (auto e = check_count(count, size, max_array_elements, "key '", key, "' array")) return e;
        pos_ += count * size;
        return std::nullopt;
    }

    constexpr std::optional<error> read_metadata(header& h) {
        // Reserve for what the bytes at hand can hold, not for the count: with a known file size
        // the count is only bounded by the file, which may be far larger than this prefix.
        h.records_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(n_kv_, (data_.size() - pos_) / 14)));
        for (std::uint64_t i = 0; i < n_kv_; ++i) {
            kv_record r;
            r.key_offset = pos_;
            std::uint64_t key_length = 0;
            description what;
            what.append("key #");
            what.append_number(i);
            if (auto e = read_string_length(key_length, what.view())) return e;
            if (key_length == 0) return error{errc::bad_value, "", r.key_offset}.with(what.view()).with(" is empty");
            r.key_begin = h.text_.size();
            r.key_size = key_length;
            copy_text(h.text_, key_length);
            const std::string_view key{h.text_.data() + r.key_begin, static_cast<std::size_t>(key_length)};

            if (auto e = read_value_type(r.type, "key '", key)) return e;
            if (r.type == value_type::array) {
                if (auto e = read_value_type(r.element_type, "key '", key)) return e;
                if (!available(8)) return truncated(8, "key '", key, "' array count");
                r.count = take_u64();
                r.value_offset = pos_;
                if (auto e = skip_array(r.element_type, r.count, key, 0)) return e;
            } else if (r.type == value_type::string) {
                std::uint64_t length = 0;
                if (auto e = read_string_length(length, "key '", key, "' value")) return e;
                r.value_offset = pos_;
                r.text_begin = h.text_.size();
                r.text_size = length;
                copy_text(h.text_, length);
            } else {
                const std::uint64_t size = scalar_size(r.type);
                if (!available(size)) return truncated(size, "key '", key, "' value");
                r.value_offset = pos_;
                pos_ += size;
            }
            h.records_.push_back(r);
        }
        h.metadata_end_ = pos_;

        // Duplicate keys (gguf_init_from_reader compares each key with all before it; sorting
        // finds the same duplicates in n log n).
        // (push_back, not resize: Clang 14 cannot value-initialise vector elements in constant expressions)
        h.sorted_keys_.reserve(h.records_.size());
        for (std::size_t i = 0; i < h.records_.size(); ++i) h.sorted_keys_.push_back(static_cast<std::uint32_t>(i));
        std::sort(h.sorted_keys_.begin(), h.sorted_keys_.end(), [&h](std::uint32_t a, std::uint32_t b) {
            const auto ka = h.key_view(h.records_[a]), kb = h.key_view(h.records_[b]);
            return ka < kb || (ka == kb && a < b);
        });
        for (std::size_t i = 1; i < h.sorted_keys_.size(); ++i) {
            const auto& first = h.records_[h.sorted_keys_[i - 1]];
            const auto& again = h.records_[h.sorted_keys_[i]];
            if (h.key_view(first) == h.key_view(again)) {
                return error{errc::bad_value, "duplicate key '", again.key_offset}.with(clip(h.key_view(again)))
                    .with("' (first at byte ").with_number(first.key_offset).with(")");
            }
        }

        // general.alignment must be a u32 power of two (gguf_init_from_reader).
        if (const auto* r = h.record(keys::general_alignment)) {
            if (r->type != value_type::uint32) {
                return error{errc::bad_value, "key 'general.alignment' must be of type u32 but is ", r->key_offset}
                    .with(type_name(r->type));
            }
            const std::uint32_t a = load_u32(data_, r->value_offset);
            if (a == 0 || (a & (a - 1)) != 0) {
                return error{errc::bad_value, "key 'general.alignment' is ", r->key_offset}.with_number(a)
                    .with(", not a power of 2");
            }
            h.alignment_ = a;
        }
        return std::nullopt;
    }

    constexpr std::optional<error> read_tensor_infos(header& h) {
        const auto expected = static_cast<std::size_t>(std::min<std::uint64_t>(n_tensors_, (data_.size() - pos_) / 24));
        h.tensors_.reserve(expected);
        tensor_offsets_.reserve(expected);
        for (std::uint64_t i = 0; i < n_tensors_; ++i) {
            const std::uint64_t start = pos_;
            tensor_info t;
            description what;
            what.append("tensor #");
            what.append_number(i);
            what.append(" name");
            std::uint64_t length = 0;
            if (auto e = read_string_length(length, what.view())) return e;
            if (length >= max_tensor_name) {
                return error{errc::limit_exceeded, "", start}.with(what.view()).with(" is too long: ")
                    .with_number(length).with(" >= GGML_MAX_NAME (64) bytes");
            }
            char name_chars[max_tensor_name] = {};
            for (std::uint64_t c = 0; c < length; ++c) name_chars[c] = static_cast<char>(data_[pos_ + c]);
            pos_ += length;
            const std::string_view name{name_chars, static_cast<std::size_t>(length)};
            t.name = name;

            // Shape (n_dims <= GGML_MAX_DIMS, ne >= 0 and the element count representable).
            if (!available(4)) return truncated(4, "tensor '", name, "' n_dims");
            const std::uint64_t dims_at = pos_;
            const std::uint32_t n_dims = take_u32();
            if (n_dims > max_dims) {
                return error{errc::limit_exceeded, "tensor '", dims_at}.with(name).with("' has ").with_number(n_dims)
                    .with(" dimensions, more than GGML_MAX_DIMS (4)");
            }
            t.n_dims = n_dims;
            if (!available(8ULL * n_dims)) return truncated(8ULL * n_dims, "tensor '", name, "' shape");
            for (std::uint32_t d = 0; d < n_dims; ++d) {
                const std::uint64_t at = pos_;
                const auto ne = static_cast<std::int64_t>(take_u64());
                if (ne <= 0) {
                    error e{errc::bad_value, "tensor '", at};
                    e.with(name).with("' dimension ").with_number(d).with(" has ");
                    if (ne < 0) e.with("a negative number of elements");
                    else e.with("0 elements");
                    return e;
                }
                t.ne[d] = ne;
            }
            if (INT64_MAX / t.ne[1] <= t.ne[0] || INT64_MAX / t.ne[2] <= t.ne[0] * t.ne[1] ||
                INT64_MAX / t.ne[3] <= t.ne[0] * t.ne[1] * t.ne[2]) {
                error e{errc::limit_exceeded, "tensor '", dims_at};
                e.with(name).with("' shape (");
                for (std::size_t d = 0; d < 4; ++d) e.with(d ? ", " : "").with_number(static_cast<std::uint64_t>(t.ne[d]));
                return e.with(") has too many elements for int64");
            }

            // Type: a known, not removed ggml type whose block size divides ne[0].
            if (!available(4)) return truncated(4, "tensor '", name, "' type");
            const std::uint64_t type_at = pos_;
            const std::uint32_t type_id = take_u32();
            const auto type = ggml_type_from_id(type_id);
            if (!type) {
                return error{type.err().code(), "tensor '", type_at}.with(name).with("': ").with(type.err().message());
            }
            t.type = *type;
            const std::uint64_t block = block_size(t.type), block_bytes = bytes_per_block(t.type);
            if (static_cast<std::uint64_t>(t.ne[0]) % block != 0) {
                return error{errc::bad_value, "tensor '", type_at}.with(name).with("' of type ").with(type_name(t.type))
                    .with(" has ").with_number(static_cast<std::uint64_t>(t.ne[0]))
                    .with(" elements per row, not a multiple of the block size ").with_number(block);
            }
            if (static_cast<std::uint64_t>(t.n_elements()) / block > ~std::uint64_t{0} / block_bytes) {
                return error{errc::limit_exceeded, "tensor '", type_at}.with(name).with("' size in bytes overflows");
            }

            if (!available(8)) return truncated(8, "tensor '", name, "' offset");
            tensor_offsets_.push_back(pos_);
            t.offset = take_u64();
            t.layer = block_index(name);
            h.tensors_.push_back(t);
        }
        h.tensors_end_ = pos_;

        // Duplicate names (gguf_init_from_reader; llama_model_loader checks again across splits).
        h.sorted_tensors_.reserve(h.tensors_.size());
        for (std::size_t i = 0; i < h.tensors_.size(); ++i) h.sorted_tensors_.push_back(static_cast<std::uint32_t>(i));
        std::sort(h.sorted_tensors_.begin(), h.sorted_tensors_.end(), [&h](std::uint32_t a, std::uint32_t b) {
            const auto na = h.tensors_[a].name.view(), nb = h.tensors_[b].name.view();
            return na < nb || (na == nb && a < b);
        });
        for (std::size_t i = 1; i < h.sorted_tensors_.size(); ++i) {
            const auto first = h.sorted_tensors_[i - 1], again = h.sorted_tensors_[i];
            if (h.tensors_[first].name == h.tensors_[again].name) {
                return error{errc::bad_value, "duplicate tensor name '", tensor_offsets_[again]}
                    .with(h.tensors_[again].name.view()).with("' (tensors #").with_number(first).with(" and #")
                    .with_number(again).with(")");
            }
        }
        return std::nullopt;
    }

    // The data section starts at the next multiple of the alignment when there are tensors; each
    // tensor's offset must be exactly where the previous one ends, padded (gguf_init_from_reader:
    // "tensor '%s' has offset %llu, expected %zu").
    constexpr std::optional<error> lay_out_data(header& h) {
        const std::uint64_t a = h.alignment_;
        std::uint64_t offset = pos_;
        if (!h.tensors_.empty()) {
            if (offset > ~std::uint64_t{0} - a) return error{errc::limit_exceeded, "data section offset overflows", pos_};
            offset = (offset + a - 1) / a * a;
            if (options_.file_size != 0 && offset > options_.file_size) {
                return error{errc::out_of_bounds, "data section would start at byte ", pos_}.with_number(offset)
                    .with(", past the end of the ").with_number(options_.file_size).with("-byte file");
            }
        }
        h.data_offset_ = offset;
        std::uint64_t size = 0;
        for (std::size_t i = 0; i < h.tensors_.size(); ++i) {
            const auto& t = h.tensors_[i];
            const std::uint64_t at = tensor_offsets_[i];
            if (t.offset % a != 0) {
                return error{errc::bad_value, "tensor '", at}.with(t.name.view()).with("' offset ").with_number(t.offset)
                    .with(" is not a multiple of the alignment ").with_number(a);
            }
            if (t.offset != size) {
                return error{errc::bad_value, "tensor '", at}.with(t.name.view()).with("' has offset ")
                    .with_number(t.offset).with(", expected ").with_number(size);
            }
            const std::uint64_t nbytes = t.size().count();
            if (nbytes > ~std::uint64_t{0} - (a - 1)) {
                return error{errc::limit_exceeded, "tensor '", at}.with(t.name.view()).with("' size overflows");
            }
            const std::uint64_t padded = (nbytes + a - 1) / a * a;
            if (padded > ~std::uint64_t{0} - size || size + padded > ~std::uint64_t{0} - offset) {
                return error{errc::limit_exceeded, "tensor '", at}.with(t.name.view())
                    .with("': data section size overflows");
            }
            // llama_tensor_weight: "tensor data is not within the file bounds".
            if (options_.file_size != 0 && offset + t.offset + nbytes > options_.file_size) {
                return error{errc::out_of_bounds, "tensor '", at}.with(t.name.view()).with("' data [")
                    .with_number(offset + t.offset).with(", ").with_number(offset + t.offset + nbytes)
                    .with(") is not within the ").with_number(options_.file_size).with("-byte file");
            }
            size += padded;
        }
        h.data_size_ = size;
        return std::nullopt;
    }

    std::span<const unsigned char> data_;
    parse_options options_;
    std::uint64_t pos_ = 0;
    std::uint64_t n_tensors_ = 0;
    std::uint64_t n_kv_ = 0;
    std::vector<std::uint64_t> tensor_offsets_;  // where each tensor's offset field sits, for messages
};

} // namespace detail

// One metadata value as text, for dumps: `"llama"`, `4096`, `1e-05`, `true`, and arrays as
// `[u32 x 32] 4096, 4096, …` (at most `max_elements` shown; nested arrays by type and count).
[[nodiscard]] inline std::string format_value(const header& h, std::size_t index, std::size_t max_elements = 8) {
    const metadata_entry e = h.entry(index);
    const auto bytes = h.bytes_parsed();
    auto quoted = [](std::string_view text) {
        std::string out = "\"";
        for (std::size_t i = 0; i < text.size() && i < 64; ++i) {
            const char c = text[i];
            if (c == '\n') out += "\\n";
            else if (static_cast<unsigned char>(c) < 0x20) out += '?';
            else out += c;
        }
        out += text.size() > 64 ? "\"…" : "\"";
        return out;
    };
    auto scalar = [&](value_type t, std::uint64_t at) -> std::string {
        char text[48];
        switch (t) {
            case value_type::boolean: return bytes[at] != 0 ? "true" : "false";
            case value_type::float32:
                std::snprintf(text, sizeof text, "%g", static_cast<double>(std::bit_cast<float>(detail::load_u32(bytes, at))));
                return text;
            case value_type::float64:
                std::snprintf(text, sizeof text, "%g", std::bit_cast<double>(detail::load_u64(bytes, at)));
                return text;
            case value_type::uint8: return std::to_string(bytes[at]);
            case value_type::int8: return std::to_string(static_cast<std::int8_t>(bytes[at]));
            case value_type::uint16: return std::to_string(detail::load_u16(bytes, at));
            case value_type::int16: return std::to_string(static_cast<std::int16_t>(detail::load_u16(bytes, at)));
            case value_type::uint32: return std::to_string(detail::load_u32(bytes, at));
            case value_type::int32: return std::to_string(static_cast<std::int32_t>(detail::load_u32(bytes, at)));
            case value_type::uint64: return std::to_string(detail::load_u64(bytes, at));
            case value_type::int64: return std::to_string(static_cast<std::int64_t>(detail::load_u64(bytes, at)));
            default: return "?";
        }
    };
    if (e.type == value_type::string) return quoted(*h.get_string(e.key));
    if (e.type != value_type::array) return scalar(e.type, e.value_offset);
    // Appends only: GCC 12 warns falsely (-Wrestrict) on `"literal" + std::string`.
    std::string out = "[";
    out += type_name(e.element_type);
    out += " x ";
    out += std::to_string(e.count);
    out += "]";
    if (e.element_type == value_type::array || e.count == 0) return out;
    const std::size_t shown = static_cast<std::size_t>(std::min<std::uint64_t>(e.count, max_elements));
    if (e.element_type == value_type::string) {
        const auto strings = h.get_string_array(e.key);
        for (std::size_t i = 0; i < shown; ++i) {
            out += i ? ", " : " ";
            out += quoted((*strings)[i]);
        }
    } else {
        for (std::size_t i = 0; i < shown; ++i) {
            out += i ? ", " : " ";
            out += scalar(e.element_type, e.value_offset + i * scalar_size(e.element_type));
        }
    }
    if (e.count > shown) out += ", …";
    return out;
}

// Parses a GGUF header. `data` may be the whole file or only its first bytes (at least the
// header); string views and lazily decoded arrays refer to `data`, which must outlive the header.
[[nodiscard]] constexpr result<header> parse(std::span<const unsigned char> data, parse_options options = {}) {
    return detail::parser{data, options}.run();
}
// The header refers to the bytes it parsed: parsing a temporary vector would leave it dangling.
result<header> parse(std::vector<unsigned char>&&, parse_options = {}) = delete;

} // namespace vramfit::gguf
