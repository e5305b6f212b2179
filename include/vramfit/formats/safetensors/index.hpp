// vramfit/formats/safetensors/index.hpp — model.safetensors.index.json, the weight map of a
// sharded checkpoint, and what a checkpoint's headers say as a whole.
//
// transformers reads the index's "weight_map" (tensor name -> shard file) and loads the shards in
// sorted order of their unique names (utils/hub.py: get_checkpoint_shard_files). With dtype="auto"
// and no dtype in config.json, from_pretrained takes the first floating-point dtype of the first
// shard's state dict (modeling_utils.py: get_state_dict_dtype; safetensors' safe_open.keys() lists
// names sorted).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/text.hpp"
#include "vramfit/formats/json/reader.hpp"
#include "vramfit/formats/safetensors/header.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::safetensors {

struct index {
    std::vector<text> shards;  // unique file names, sorted
    std::size_t tensors = 0;          // entries of weight_map
    std::optional<std::uint64_t> total_size;  // metadata.total_size, when given
};

// A shard name must stay inside the model directory.
[[nodiscard]] constexpr bool is_safe_shard_name(std::string_view name) noexcept {
    if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos || name.find('\\') != std::string_view::npos) return false;
    return name.ends_with(".safetensors");
}

[[nodiscard]] constexpr result<index> parse_index(std::string_view json_text, std::string_view file = "model.safetensors.index.json") {
    auto doc = json::parse(json_text);
    if (!doc) {
        return error{errc::malformed, file, doc.err().byte_offset()}.with(": not valid JSON at byte ")
            .with_number(doc.err().byte_offset()).with(": ").with(doc.err().message());
    }
    const auto& d = *doc;
    if (d.at(0).type != json::kind::object) return error{errc::malformed, file}.with(": not a JSON object");
    index out;
    const auto map = d.find(0, "weight_map");
    if (map == json::no_node || d.at(map).type != json::kind::object) return error{errc::bad_value, file}.with(": no \"weight_map\" object");
    for (auto n = d.at(map).first_child; n != json::no_node; n = d.at(n).next_sibling) {
        auto shard = d.string(n);
        if (!shard) return error{errc::bad_value, file, d.at(n).begin}.with(": weight_map values must be file names, at byte ").with_number(d.at(n).begin);
        const std::string_view name = shard->view();
        if (!is_safe_shard_name(name)) {
            return error{errc::bad_value, file, d.at(n).begin}.with(": shard '").with(name).with("' is not a .safetensors file in the model directory");
        }
        ++out.tensors;
        bool seen = false;
        for (const auto& s : out.shards) seen = seen || s.view() == name;
        if (!seen) out.shards.emplace_back(name);
    }
    if (out.shards.empty()) return error{errc::bad_value, file}.with(": weight_map names no shard");
    std::sort(out.shards.begin(), out.shards.end(), [](const text& a, const text& b) { return a.view() < b.view(); });
    if (const auto meta = d.find(0, "metadata"); meta != json::no_node && d.at(meta).type == json::kind::object) {
        if (const auto total = d.find(meta, "total_size"); total != json::no_node && d.at(total).type == json::kind::number) {
            auto value = d.unsigned_integer(total);
            if (value) out.total_size = *value;
        }
    }
    return out;
}

[[nodiscard]] constexpr bool is_floating(const dtype_info& t) noexcept {
    const std::string_view n = t.name;
    return n.starts_with("F") || n.starts_with("BF");  // F16, BF16, F32, F64, F8_*, F6_*, F4
}

// What the headers of a checkpoint say together.
struct checkpoint_summary {
    std::size_t files = 0;
    std::size_t tensors = 0;
    bytes tensor_bytes{};
    std::optional<vramfit::dtype> first_floating;  // of the first shard, names sorted (dtype="auto")
    std::vector<std::pair<std::string_view, std::uint64_t>> bytes_by_dtype;  // safetensors dtype name -> bytes
};

// `headers` in shard order (sorted file names).
[[nodiscard]] constexpr checkpoint_summary summarize(const std::vector<header>& headers) {
    checkpoint_summary s;
    s.files = headers.size();
    for (std::size_t f = 0; f < headers.size(); ++f) {
        const auto& h = headers[f];
        const tensor_entry* first = nullptr;
        for (const auto& t : h.tensors) {
            ++s.tensors;
            s.tensor_bytes += t.size();
            auto it = std::find_if(s.bytes_by_dtype.begin(), s.bytes_by_dtype.end(), [&](const auto& p) { return p.first == t.type->name; });
            if (it == s.bytes_by_dtype.end()) s.bytes_by_dtype.emplace_back(t.type->name, t.size().count());
            else it->second += t.size().count();
            if (f == 0 && is_floating(*t.type) && (first == nullptr || t.name.view() < first->name.view())) first = &t;
        }
        if (f == 0 && first != nullptr) s.first_floating = first->type->as_dtype;
    }
    return s;
}

} // namespace vramfit::safetensors
