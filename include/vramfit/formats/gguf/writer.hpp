// vramfit/formats/gguf/writer.hpp — builds GGUF headers, and shape-only (sparse) model files.
//
// The byte layout is the one gguf_write_to_buf / gguf_writer (ggml/src/gguf.cpp) produces:
// magic, version, n_tensors, n_kv, the key/value pairs, the tensor infos, padding to the
// alignment, then the data section with every tensor padded to the alignment
// (gguf_add_tensor lays offsets out that way). Building the bytes is constexpr, so tests can
// parse a header at compile time; writing files is run time. A "sparse" file has the real
// header and the real size but no data: the data section is a hole (std::filesystem::resize_file
// extends the file without writing), so a 700 GB model costs no disk. llama.cpp reads such a
// file's header like any other; only loading the weights would see zeros.
//
//     gguf::writer w;
//     w.set("general.architecture", "llama").set("llama.block_count", std::uint32_t{32});
//     w.set_array("tokenizer.ggml.scores", std::vector<float>(32000, 0.0f));
//     w.add_tensor("token_embd.weight", {4096, 32000}, ggml_type::q4_K);
//     w.write_sparse("/tmp/model.gguf");          // or w.write_sparse_split("/tmp/model", 4)
#pragma once

#include <bit>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "vramfit/core/error.hpp"
#include "vramfit/model/dtype.hpp"
#include "vramfit/formats/gguf/reader.hpp"
#include "vramfit/formats/gguf/file.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::gguf {

namespace detail {

constexpr void put_u8(std::vector<unsigned char>& out, std::uint8_t v) { out.push_back(v); }
constexpr void put_u16(std::vector<unsigned char>& out, std::uint16_t v) {
    out.push_back(static_cast<unsigned char>(v & 0xFF));
    out.push_back(static_cast<unsigned char>(v >> 8));
}
constexpr void put_u32(std::vector<unsigned char>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<unsigned char>((v >> (8 * i)) & 0xFF));
}
constexpr void put_u64(std::vector<unsigned char>& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<unsigned char>((v >> (8 * i)) & 0xFF));
}
constexpr void put_string(std::vector<unsigned char>& out, std::string_view text) {
    put_u64(out, text.size());
    for (char c : text) out.push_back(static_cast<unsigned char>(c));
}
constexpr void put_bytes(std::vector<unsigned char>& out, std::span<const unsigned char> data) {
    // A loop rather than vector::insert: GCC 12 at -O3 warns falsely (-Wstringop-overflow) on the insert.
    out.reserve(out.size() + data.size());
    for (unsigned char b : data) out.push_back(b);
}

template <class T>
inline constexpr bool is_text_v = std::is_convertible_v<const T&, std::string_view> && !std::is_same_v<T, bool>;

// The GGUF type a C++ value is written as: bool → bool, integers by width and sign, float → f32,
// double → f64, anything convertible to string_view → string.
template <class T>
constexpr value_type value_type_of() {
    if constexpr (std::is_same_v<T, bool>) return value_type::boolean;
    else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        if constexpr (sizeof(T) == 1) return value_type::int8;
        else if constexpr (sizeof(T) == 2) return value_type::int16;
        else if constexpr (sizeof(T) == 4) return value_type::int32;
        else return value_type::int64;
    } else if constexpr (std::is_integral_v<T>) {
        if constexpr (sizeof(T) == 1) return value_type::uint8;
        else if constexpr (sizeof(T) == 2) return value_type::uint16;
        else if constexpr (sizeof(T) == 4) return value_type::uint32;
        else return value_type::uint64;
    } else if constexpr (std::is_same_v<T, float>) return value_type::float32;
    else if constexpr (std::is_same_v<T, double>) return value_type::float64;
    else {
        static_assert(is_text_v<T>, "GGUF values are integers, bool, float, double or strings");
        return value_type::string;
    }
}

template <class T>
constexpr void put_scalar(std::vector<unsigned char>& out, const T& value) {
    constexpr value_type type = value_type_of<T>();
    if constexpr (type == value_type::string) put_string(out, std::string_view{value});
    else if constexpr (type == value_type::boolean) put_u8(out, value ? 1 : 0);
    else if constexpr (type == value_type::float32) put_u32(out, std::bit_cast<std::uint32_t>(value));
    else if constexpr (type == value_type::float64) put_u64(out, std::bit_cast<std::uint64_t>(value));
    else if constexpr (sizeof(T) == 1) put_u8(out, static_cast<std::uint8_t>(value));
    else if constexpr (sizeof(T) == 2) put_u16(out, static_cast<std::uint16_t>(value));
    else if constexpr (sizeof(T) == 4) put_u32(out, static_cast<std::uint32_t>(value));
    else put_u64(out, static_cast<std::uint64_t>(value));
}

} // namespace detail

// An array value, possibly of arrays (GGUF spec: a nested element is its element type, its
// count and its elements, without the ARRAY tag). Note that ggml's reader rejects nested arrays.
class array_value {
public:
    constexpr array_value() = default;

    template <class T>
    [[nodiscard]] static constexpr array_value of(std::span<const T> values) {
        array_value a;
        a.element_ = detail::value_type_of<T>();
        a.count_ = values.size();
        for (const auto& v : values) detail::put_scalar(a.payload_, v);
        return a;
    }
    template <class T>
    [[nodiscard]] static constexpr array_value of(const std::vector<T>& values) {
        return of(std::span<const T>{values.data(), values.size()});
    }
    template <class T>
    [[nodiscard]] static constexpr array_value of(std::initializer_list<T> values) {
        return of(std::span<const T>{values.begin(), values.size()});
    }
    [[nodiscard]] static constexpr array_value of_arrays(std::span<const array_value> arrays) {
        array_value a;
        a.element_ = value_type::array;
        a.count_ = arrays.size();
        for (const auto& inner : arrays) inner.encode_body(a.payload_);
        return a;
    }
    [[nodiscard]] static constexpr array_value of_arrays(std::initializer_list<array_value> arrays) {
        return of_arrays(std::span<const array_value>{arrays.begin(), arrays.size()});
    }

    [[nodiscard]] constexpr value_type element_type() const { return element_; }
    [[nodiscard]] constexpr std::uint64_t count() const { return count_; }

    // Element type, count, elements: what follows the ARRAY tag.
    constexpr void encode_body(std::vector<unsigned char>& out) const {
        detail::put_u32(out, static_cast<std::uint32_t>(element_));
        detail::put_u64(out, count_);
        detail::put_bytes(out, payload_);
    }

private:
    value_type element_ = value_type::uint8;
    std::uint64_t count_ = 0;
    std::vector<unsigned char> payload_;
};

class writer {
public:
    struct tensor_entry {
        std::vector<char> name;
        std::vector<std::int64_t> ne;     // n_dims entries
        std::uint32_t type_id = 0;        // a raw ggml type id (tests write invalid ones)
        bool explicit_offset = false;
        std::uint64_t offset = 0;

        [[nodiscard]] constexpr std::string_view name_view() const { return {name.data(), name.size()}; }
        [[nodiscard]] constexpr std::uint64_t nbytes() const {
            // Malformed entries (tests write them) get 0 rather than a wrapped or overflowing size.
            if (type_id >= ggml_type_count || vramfit::detail::ggml_traits_table[type_id].removed) return 0;
            const auto& traits = vramfit::detail::ggml_traits_table[type_id];
            std::uint64_t elements = 1;
            for (auto n : ne) {
                if (n <= 0 || elements > (std::uint64_t{1} << 62) / static_cast<std::uint64_t>(n)) return 0;
                elements *= static_cast<std::uint64_t>(n);
            }
            const std::uint64_t row = ne.empty() ? 1 : static_cast<std::uint64_t>(ne[0]);
            if (row % traits.block_size != 0) return 0;
            return elements / traits.block_size * traits.bytes_per_block;
        }
    };

    constexpr explicit writer(std::uint32_t version = max_version) : version_(version) {}

    // Scalars and strings (replaces an existing key, like gguf_set_val_*).
    template <class T>
    constexpr writer& set(std::string_view key, const T& value) {
        std::vector<unsigned char> encoded;
        if constexpr (std::is_same_v<T, array_value>) {
            detail::put_u32(encoded, static_cast<std::uint32_t>(value_type::array));
            value.encode_body(encoded);
        } else {
            constexpr value_type type = detail::value_type_of<T>();
            detail::put_u32(encoded, static_cast<std::uint32_t>(type));
            detail::put_scalar(encoded, value);
            if constexpr (std::is_same_v<T, std::uint32_t>) {
                if (key == keys::general_alignment) alignment_ = value;
            }
        }
        return set_encoded(key, std::move(encoded));
    }
    // Arrays of one element type (strings: std::string_view, const char*, std::string).
    template <class T>
    constexpr writer& set_array(std::string_view key, std::span<const T> values) {
        return set(key, array_value::of(values));
    }
    template <class T>
    constexpr writer& set_array(std::string_view key, const std::vector<T>& values) {
        return set(key, array_value::of(values));
    }
    template <class T>
    constexpr writer& set_array(std::string_view key, std::initializer_list<T> values) {
        return set(key, array_value::of(values));
    }
    // Any type id and value bytes, verbatim: for tests of malformed input.
    constexpr writer& set_raw(std::string_view key, std::uint32_t type_id, std::span<const unsigned char> value) {
        std::vector<unsigned char> encoded;
        detail::put_u32(encoded, type_id);
        detail::put_bytes(encoded, value);
        return set_encoded(key, std::move(encoded));
    }
    constexpr writer& set_alignment(std::uint32_t alignment) { return set(keys::general_alignment, alignment); }
    constexpr writer& remove(std::string_view key) {
        for (std::size_t i = 0; i < kv_.size(); ++i) {
            if (kv_[i].key_view() == key) {
                kv_.erase(kv_.begin() + static_cast<std::ptrdiff_t>(i));
                if (key == keys::general_alignment) alignment_ = default_alignment;
                return *this;
            }
        }
        return *this;
    }
    [[nodiscard]] constexpr bool has(std::string_view key) const {
        for (const auto& kv : kv_) if (kv.key_view() == key) return true;
        return false;
    }

    // A tensor whose data follows the previous one's, padded to the alignment (gguf_add_tensor).
    constexpr writer& add_tensor(std::string_view name, std::span<const std::int64_t> ne, ggml_type type) {
        return add_tensor_raw(name, ne, static_cast<std::uint32_t>(type));
    }
    constexpr writer& add_tensor(std::string_view name, std::initializer_list<std::int64_t> ne, ggml_type type) {
        return add_tensor(name, std::span<const std::int64_t>{ne.begin(), ne.size()}, type);
    }
    // Any name, shape and type id; with `offset`, that offset instead of the laid-out one.
    constexpr writer& add_tensor_raw(std::string_view name, std::span<const std::int64_t> ne, std::uint32_t type_id,
                                     std::optional<std::uint64_t> offset = std::nullopt) {
        tensor_entry t;
        t.name.assign(name.begin(), name.end());
        t.ne.assign(ne.begin(), ne.end());
        t.type_id = type_id;
        t.explicit_offset = offset.has_value();
        t.offset = offset.value_or(0);
        tensors_.push_back(std::move(t));
        return *this;
    }
    constexpr writer& add_tensor_raw(std::string_view name, std::initializer_list<std::int64_t> ne, std::uint32_t type_id,
                                     std::optional<std::uint64_t> offset = std::nullopt) {
        return add_tensor_raw(name, std::span<const std::int64_t>{ne.begin(), ne.size()}, type_id, offset);
    }

    // A writer that reproduces a parsed header byte for byte (same keys in the same order, same
    // tensors), to be modified: tests derive variants of real files this way.
    [[nodiscard]] static constexpr writer from(const header& h) {
        writer w{h.version()};
        w.alignment_ = h.alignment();
        for (std::size_t i = 0; i < h.size(); ++i) {
            const auto value = h.encoded_value(i);
            w.set_encoded(h.entry(i).key, std::vector<unsigned char>(value.begin(), value.end()));
        }
        for (const auto& t : h.tensors()) {
            w.add_tensor_raw(t.name.view(), std::span<const std::int64_t>{t.ne.data(), t.n_dims},
                             static_cast<std::uint32_t>(t.type));
        }
        return w;
    }

    [[nodiscard]] constexpr std::uint32_t version() const { return version_; }
    [[nodiscard]] constexpr std::uint32_t alignment() const { return alignment_; }
    [[nodiscard]] constexpr const std::vector<tensor_entry>& tensors() const { return tensors_; }
    [[nodiscard]] constexpr std::size_t key_count() const { return kv_.size(); }

    // Laid-out offset of each tensor, relative to the data section.
    [[nodiscard]] constexpr std::vector<std::uint64_t> tensor_offsets() const {
        std::vector<std::uint64_t> offsets;
        std::uint64_t next = 0;
        for (const auto& t : tensors_) {
            offsets.push_back(t.explicit_offset ? t.offset : next);
            next += pad_to(bytes{t.nbytes()}, alignment_).count();
        }
        return offsets;
    }
    // The data section: every tensor padded to the alignment (gguf_context::size).
    [[nodiscard]] constexpr bytes data_size() const {
        bytes total{};
        for (const auto& t : tensors_) total += pad_to(bytes{t.nbytes()}, alignment_);
        return total;
    }

    // Everything before the data section, including the padding to the alignment.
    [[nodiscard]] constexpr std::vector<unsigned char> header_bytes() const {
        std::vector<unsigned char> out;
        for (unsigned char c : std::string_view{"GGUF"}) out.push_back(c);
        detail::put_u32(out, version_);
        detail::put_u64(out, tensors_.size());
        detail::put_u64(out, kv_.size());
        for (const auto& kv : kv_) {
            detail::put_string(out, kv.key_view());
            detail::put_bytes(out, kv.encoded);
        }
        const auto offsets = tensor_offsets();
        for (std::size_t i = 0; i < tensors_.size(); ++i) {
            const auto& t = tensors_[i];
            detail::put_string(out, t.name_view());
            detail::put_u32(out, static_cast<std::uint32_t>(t.ne.size()));
            for (auto n : t.ne) detail::put_u64(out, static_cast<std::uint64_t>(n));
            detail::put_u32(out, t.type_id);
            detail::put_u64(out, offsets[i]);
        }
        if (!tensors_.empty()) {
            while (out.size() % alignment_ != 0) out.push_back(0);
        }
        return out;
    }
    // Header bytes followed by a zero-filled data section: a complete file in memory (small models only).
    [[nodiscard]] constexpr std::vector<unsigned char> file_bytes() const {
        auto out = header_bytes();
        out.resize(out.size() + static_cast<std::size_t>(data_size().count()), 0);
        return out;
    }
    [[nodiscard]] constexpr bytes file_size() const { return bytes{header_bytes().size()} + data_size(); }

    // The parts of a split model as gguf-split writes them (tools/gguf-split/gguf-split.cpp): all
    // metadata in the first part, split.no (u16), split.count (u16) and split.tensors.count (i32)
    // in every part; tensors in order, `tensors_per_split[k]` of them in part k.
    [[nodiscard]] constexpr std::vector<writer> split(std::span<const std::size_t> tensors_per_split) const {
        std::vector<writer> parts;
        const auto n_split = static_cast<std::uint16_t>(tensors_per_split.size());
        std::size_t next = 0;
        for (std::uint16_t k = 0; k < n_split; ++k) {
            writer part{version_};
            if (k == 0) part.kv_ = kv_;
            if (alignment_ != default_alignment) part.set_alignment(alignment_);
            part.set(keys::split_no, k);
            part.set(keys::split_count, n_split);
            part.set(keys::split_tensors_count, static_cast<std::int32_t>(tensors_.size()));
            for (std::size_t i = 0; i < tensors_per_split[k] && next < tensors_.size(); ++i) {
                auto t = tensors_[next++];
                t.explicit_offset = false;
                part.tensors_.push_back(std::move(t));
            }
            parts.push_back(std::move(part));
        }
        return parts;
    }
    // `n_split` parts with tensor counts as even as possible.
    [[nodiscard]] constexpr std::vector<writer> split(std::uint16_t n_split) const {
        std::vector<std::size_t> counts;
        for (std::size_t k = 0; k < n_split; ++k) {
            counts.push_back((k + 1) * tensors_.size() / n_split - k * tensors_.size() / n_split);
        }
        return split(std::span<const std::size_t>{counts.data(), counts.size()});
    }

    // Writes the header and extends the file to its full size without writing the data (a hole).
    result<bytes> write_sparse(const std::filesystem::path& path) const {
        const auto head = header_bytes();
        {
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            if (!out) return error{errc::io, "cannot create '"}.with(path.filename().string()).with("'");
            out.write(reinterpret_cast<const char*>(head.data()), static_cast<std::streamsize>(head.size()));
            if (!out) return error{errc::io, "cannot write '"}.with(path.filename().string()).with("'");
        }
        const bytes total = bytes{head.size()} + data_size();
        std::error_code ec;
        std::filesystem::resize_file(path, total.count(), ec);
        if (ec) return error{errc::io, "cannot extend '"}.with(path.filename().string()).with("': ").with(ec.message());
        return total;
    }
    // A split model: `<prefix>-00001-of-0000N.gguf` … (llama_split_path); returns the paths.
    result<std::vector<std::filesystem::path>> write_sparse_split(const std::filesystem::path& prefix,
                                                                  std::uint16_t n_split) const {
        return write_parts(prefix, split(n_split));
    }
    result<std::vector<std::filesystem::path>> write_sparse_split(const std::filesystem::path& prefix,
                                                                  std::span<const std::size_t> tensors_per_split) const {
        return write_parts(prefix, split(tensors_per_split));
    }

private:
    struct kv_entry {
        std::vector<char> key;
        std::vector<unsigned char> encoded;  // type tag and value
        [[nodiscard]] constexpr std::string_view key_view() const { return {key.data(), key.size()}; }
    };

    constexpr writer& set_encoded(std::string_view key, std::vector<unsigned char> encoded) {
        for (auto& kv : kv_) {
            if (kv.key_view() == key) {
                kv.encoded = std::move(encoded);
                return *this;
            }
        }
        kv_entry kv;
        kv.key.assign(key.begin(), key.end());
        kv.encoded = std::move(encoded);
        kv_.push_back(std::move(kv));
        return *this;
    }

    static result<std::vector<std::filesystem::path>> write_parts(const std::filesystem::path& prefix,
                                                                 const std::vector<writer>& parts) {
        std::vector<std::filesystem::path> paths;
        for (std::size_t k = 0; k < parts.size(); ++k) {
            auto path = split_path(prefix, static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(parts.size()));
            auto written = parts[k].write_sparse(path);
            if (!written) return written.err();
            paths.push_back(std::move(path));
        }
        return paths;
    }

    std::uint32_t version_ = max_version;
    std::uint32_t alignment_ = default_alignment;
    std::vector<kv_entry> kv_;
    std::vector<tensor_entry> tensors_;
};

} // namespace vramfit::gguf
