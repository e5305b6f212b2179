// libFuzzer target: gguf::parse on arbitrary bytes must never crash, read out of bounds,
// hang or allocate without bound, and every accessor on a parsed header must be safe.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vramfit/formats/gguf/reader.hpp"

namespace {

void exercise(const vramfit::gguf::header& h) {
    std::uint64_t sink = h.data_offset() + h.data_size().count() + h.alignment() + h.version();
    for (const auto& entry : h.entries()) {
        sink += entry.count + static_cast<std::uint64_t>(entry.type) + entry.key.size();
        sink += h.get_string(entry.key).value_or("").size();
        sink += h.get_uint(entry.key).value_or(0);
        sink += static_cast<std::uint64_t>(h.get_int(entry.key).value_or(0));
        sink += h.get_float(entry.key).value_or(0.0) != 0.0;
        sink += h.get_bool(entry.key).value_or(false);
        if (entry.count <= 4096) {  // the accessors copy; keep each run fast
            if (auto a = h.get_int_array(entry.key)) sink += a->size();
            if (auto a = h.get_float_array(entry.key)) sink += a->size();
        }
        sink += h.find(entry.key).has_value();
        if (entry.count <= 4096) {
            if (auto a = h.get_string_array(entry.key)) sink += a->size();
        }
    }
    for (std::size_t i = 0; i < h.size(); ++i) {
        if (h.entry(i).count <= 4096) sink += vramfit::gguf::format_value(h, i).size();
    }
    for (const auto& t : h.tensors()) {
        sink += t.size().count() + t.offset + static_cast<std::uint64_t>(t.layer);
        sink += h.find_tensor(t.name.view()) != nullptr;
    }
    volatile std::uint64_t keep = sink;
    (void)keep;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const unsigned char> bytes{data, size};
    // As a whole file, and as a prefix of a larger one (the file front-end's two modes).
    if (auto h = vramfit::gguf::parse(bytes)) exercise(*h);
    if (auto h = vramfit::gguf::parse(bytes, {size + 4096})) exercise(*h);
    if (size > 16) {
        if (auto h = vramfit::gguf::parse(bytes, {size - 16})) exercise(*h);
    }
    return 0;
}
