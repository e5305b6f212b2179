// vramfit/formats/gguf/file.hpp — GGUF files and split models on disk (run time).
//
// read_file reads only as much of a file as its header needs: it starts with a few MiB and
// grows while gguf::parse says the header goes on (errc::truncated with the length needed),
// up to the file size and at most `max_header_bytes`. read_model recognises the split naming
// of llama_split_path / llama_split_prefix (src/llama.cpp: "<prefix>-%05d-of-%05d.gguf") and
// reads every part the way llama_model_loader's constructor (src/llama-model-loader.cpp) does:
// split.count in the first part, split.no == k in part k, no tensor name twice, and
// split.tensors.count equal to the tensors found. Tensors of all parts are concatenated in
// split order with tensor_info::file_index set.
//
//     auto model = gguf::read_model("Qwen3-235B-A22B-Q4_K_M-00001-of-00003.gguf");
//     if (!model) { std::puts(model.err().describe().c_str()); return 1; }
//     model->metadata().get_string("general.architecture");   // from the first part
//     model->tensors;   // all parts; model->sources[t.file_index] has that part's data offset
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "vramfit/core/error.hpp"
#include "vramfit/formats/gguf/reader.hpp"
#include "vramfit/model/tensor.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::gguf {

// Headers larger than this are refused (a real one, with a 256k-token vocabulary, is ~10 MiB).
inline constexpr std::uint64_t max_header_bytes = 1ULL << 30;
inline constexpr std::uint64_t initial_read_bytes = 256ULL << 10;

// A parsed file: the header bytes it read, the header over them, and the file size. Move-only:
// the header refers to the bytes this object owns.
class file {
public:
    file() = default;
    file(const file&) = delete;
    file& operator=(const file&) = delete;
    file(file&&) noexcept = default;
    file& operator=(file&&) noexcept = default;

    [[nodiscard]] const header& metadata() const { return header_; }
    [[nodiscard]] const std::vector<tensor_info>& tensors() const { return header_.tensors(); }
    [[nodiscard]] bytes size() const { return bytes{file_size_}; }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    // The bytes read (at least the whole header; the data section is never read).
    [[nodiscard]] std::span<const unsigned char> header_bytes() const { return buffer_; }
    [[nodiscard]] source_file source() const { return {header_.data_offset(), file_size_, header_.alignment()}; }

private:
    friend result<file> read_file(const std::filesystem::path&);
    std::filesystem::path path_;
    std::uint64_t file_size_ = 0;
    std::vector<unsigned char> buffer_;
    header header_;
};

namespace detail {
inline std::string display_name(const std::filesystem::path& path) { return path.filename().string(); }

inline error with_file(const error& e, const std::filesystem::path& path) {
    return error{e.code(), display_name(path), e.byte_offset()}.with(": ").with(e.message());
}
} // namespace detail

[[nodiscard]] inline result<file> read_file(const std::filesystem::path& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return error{errc::io, "cannot open '"}.with(detail::display_name(path)).with("': ").with(ec.message());
    std::ifstream in(path, std::ios::binary);
    if (!in) return error{errc::io, "cannot open '"}.with(detail::display_name(path)).with("'");

    file f;
    f.path_ = path;
    f.file_size_ = size;
    const std::uint64_t cap = std::min<std::uint64_t>(size, max_header_bytes);
    std::uint64_t want = std::min<std::uint64_t>(cap, initial_read_bytes);
    for (;;) {
        const std::size_t have = f.buffer_.size();
        f.buffer_.resize(static_cast<std::size_t>(want));
        in.read(reinterpret_cast<char*>(f.buffer_.data() + have), static_cast<std::streamsize>(want - have));
        if (static_cast<std::uint64_t>(in.gcount()) != want - have) {
            return error{errc::io, "cannot read '"}.with(detail::display_name(path)).with("'");
        }
        auto parsed = parse(f.buffer_, parse_options{size});
        if (parsed) {
            f.header_ = std::move(parsed).value();
            return f;
        }
        const error& e = parsed.err();
        // Truncated inside the file: read on (the error's offset is the length needed).
        if (e.code() != errc::truncated || want >= cap || e.byte_offset() > size) return detail::with_file(e, path);
        if (e.byte_offset() > max_header_bytes) {
            return error{errc::limit_exceeded, "", e.byte_offset()}.with(detail::display_name(path))
                .with(": header larger than 1 GiB (").with(e.message()).with(")");
        }
        want = std::min<std::uint64_t>(cap, std::max<std::uint64_t>(e.byte_offset(), want * 2));
    }
}

// "<prefix>-%05d-of-%05d.gguf" for 0-based part `index` (llama_split_path).
[[nodiscard]] inline std::filesystem::path split_path(const std::filesystem::path& prefix, std::uint32_t index,
                                                      std::uint32_t count) {
    char suffix[40];
    std::snprintf(suffix, sizeof suffix, "-%05u-of-%05u.gguf", index + 1, count);
    std::filesystem::path path = prefix;
    path += suffix;
    return path;
}

struct split_name {
    std::filesystem::path prefix;
    std::uint32_t index = 0;  // 0-based
    std::uint32_t count = 0;
};

// Recognises "<prefix>-NNNNN-of-MMMMM.gguf" (five or more digits each, as %05d prints).
[[nodiscard]] inline std::optional<split_name> parse_split_path(const std::filesystem::path& path) {
    const std::string name = path.filename().string();
    constexpr std::string_view ext = ".gguf", of = "-of-";
    if (name.size() < ext.size() || name.compare(name.size() - ext.size(), ext.size(), ext) != 0) return std::nullopt;
    std::size_t end = name.size() - ext.size();
    auto digits_before = [&](std::size_t stop, std::uint32_t& value) -> std::size_t {
        std::size_t begin = stop;
        while (begin > 0 && name[begin - 1] >= '0' && name[begin - 1] <= '9') --begin;
        if (stop - begin < 5 || stop - begin > 9) return std::string::npos;
        value = 0;
        for (std::size_t i = begin; i < stop; ++i) value = value * 10 + static_cast<std::uint32_t>(name[i] - '0');
        return begin;
    };
    split_name result;
    std::uint32_t number = 0;
    const std::size_t count_begin = digits_before(end, result.count);
    if (count_begin == std::string::npos || count_begin < of.size() ||
        name.compare(count_begin - of.size(), of.size(), of) != 0) return std::nullopt;
    const std::size_t index_begin = digits_before(count_begin - of.size(), number);
    if (index_begin == std::string::npos || index_begin == 0 || name[index_begin - 1] != '-') return std::nullopt;
    if (number == 0 || result.count == 0 || number > result.count) return std::nullopt;
    result.index = number - 1;
    result.prefix = path.parent_path() / name.substr(0, index_begin - 1);
    return result;
}

// A model: one file, or every part of a split model.
struct model_files {
    std::vector<file> files;           // in split order
    std::vector<tensor_info> tensors;  // all parts, in split order, file_index set
    std::vector<source_file> sources;  // one per file

    // General metadata lives in the first part.
    [[nodiscard]] const header& metadata() const { return files.front().metadata(); }
    [[nodiscard]] bytes total_size() const {
        bytes total{};
        for (const auto& f : files) total += f.size();
        return total;
    }
};

namespace detail {
// A u16 split key as llama_model_loader reads it (get_key<uint16_t>: type must be u16).
inline result<std::uint16_t> split_u16(const file& part, std::string_view key) {
    const auto& h = part.metadata();
    const auto type = h.type_of(key);
    if (!type) {
        return error{errc::missing_key, ""}.with(display_name(part.path())).with(": missing key '").with(key)
            .with("' in a split part");
    }
    if (*type != value_type::uint16) {
        return error{errc::bad_value, ""}.with(display_name(part.path())).with(": key '").with(key)
            .with("' must be u16 but is ").with(type_name(*type));
    }
    return static_cast<std::uint16_t>(*h.get_uint(key));
}
} // namespace detail

[[nodiscard]] inline result<model_files> read_model(const std::filesystem::path& path) {
    // Accept any part of a split model by name; the engine wants the first, we read from it.
    const auto name = parse_split_path(path);
    std::filesystem::path first_path = path;
    if (name && name->index != 0) first_path = split_path(name->prefix, 0, name->count);

    auto first = read_file(first_path);
    if (!first) return first.err();

    model_files model;
    const auto& meta = first->metadata();
    if (!meta.has(keys::general_architecture)) {
        return error{errc::missing_key, ""}.with(detail::display_name(first_path))
            .with(": missing key 'general.architecture'");
    }
    std::uint16_t n_split = 0;
    if (meta.has(keys::split_count)) {
        auto count = detail::split_u16(*first, keys::split_count);
        if (!count) return count.err();
        n_split = *count;
    }
    model.files.push_back(std::move(first).value());

    if (n_split > 1) {
        auto no = detail::split_u16(model.files.front(), keys::split_no);
        if (!no) return no.err();
        if (*no != 0) {
            return error{errc::bad_value, ""}.with(detail::display_name(first_path)).with(": split.no is ")
                .with_number(*no).with(", the first part must be split 0");
        }
        if (!name) {
            return error{errc::invalid_argument, ""}.with(detail::display_name(path)).with(": split.count is ")
                .with_number(n_split).with(" but the file name does not follow <prefix>-00001-of-")
                .with_number(n_split).with(".gguf");
        }
        if (name->count != n_split) {
            return error{errc::bad_value, ""}.with(detail::display_name(first_path)).with(": split.count is ")
                .with_number(n_split).with(" but the file name says ").with_number(name->count).with(" parts");
        }
        for (std::uint16_t k = 1; k < n_split; ++k) {
            const auto part_path = split_path(name->prefix, k, n_split);
            std::error_code ec;
            if (!std::filesystem::exists(part_path, ec)) {
                return error{errc::io, "missing split part '"}.with(detail::display_name(part_path)).with("' (part ")
                    .with_number(k + 1U).with(" of ").with_number(n_split).with(")");
            }
            auto part = read_file(part_path);
            if (!part) return part.err();
            auto idx = detail::split_u16(*part, keys::split_no);
            if (!idx) return idx.err();
            if (*idx != k) {
                return error{errc::bad_value, ""}.with(detail::display_name(part_path)).with(": split.no is ")
                    .with_number(*idx).with(", expected ").with_number(k);
            }
            if (part->metadata().has(keys::split_count)) {
                auto count = detail::split_u16(*part, keys::split_count);
                if (!count) return count.err();
                if (*count != n_split) {
                    return error{errc::bad_value, ""}.with(detail::display_name(part_path)).with(": split.count is ")
                        .with_number(*count).with(", the first part says ").with_number(n_split);
                }
            }
            model.files.push_back(std::move(part).value());
        }
    }

    for (std::size_t k = 0; k < model.files.size(); ++k) {
        model.sources.push_back(model.files[k].source());
        for (auto t : model.files[k].tensors()) {
            t.file_index = static_cast<std::uint16_t>(k);
            model.tensors.push_back(t);
        }
    }
    if (model.files.size() > 1) {
        // Names are unique within a part (parse checks); across parts, llama_model_loader checks.
        std::vector<std::uint32_t> order(model.tensors.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            return model.tensors[a].name.view() < model.tensors[b].name.view() ||
                   (model.tensors[a].name == model.tensors[b].name && a < b);
        });
        for (std::size_t i = 1; i < order.size(); ++i) {
            const auto& a = model.tensors[order[i - 1]];
            const auto& b = model.tensors[order[i]];
            if (a.name == b.name) {
                return error{errc::bad_value, "tensor '"}.with(b.name.view()).with("' is in ")
                    .with(detail::display_name(model.files[a.file_index].path())).with(" and in ")
                    .with(detail::display_name(model.files[b.file_index].path()));
            }
        }
        // split.tensors.count (an int in llama_model_loader) must match the tensors found.
        const auto expected = model.metadata().get_int(keys::split_tensors_count);
        if (!expected) {
            return error{errc::missing_key, ""}.with(detail::display_name(first_path))
                .with(": missing or non-integer key 'split.tensors.count'");
        }
        if (*expected != static_cast<std::int64_t>(model.tensors.size())) {
            return error{errc::bad_value, ""}.with(detail::display_name(first_path)).with(": split.tensors.count is ")
                .with_number(static_cast<std::uint64_t>(*expected)).with(" but the ").with_number(n_split)
                .with(" parts hold ").with_number(model.tensors.size()).with(" tensors");
        }
    }
    return model;
}

} // namespace vramfit::gguf
