// libFuzzer: any bytes as a safetensors file and as a model.safetensors.index.json. parse must
// return a header or an error, never crash, read out of bounds or allocate beyond the input;
// every range it accepts lies in the data. parse_index must name only shards inside the model
// directory, sorted and unique.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vramfit/formats/safetensors/header.hpp"
#include "vramfit/formats/safetensors/index.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const unsigned char> bytes{data, size};
    if (auto h = vramfit::safetensors::parse(bytes, size)) {
        for (const auto& t : h->tensors)
            if (t.end > h->data_bytes || t.begin > t.end) __builtin_trap();
        const auto summary = vramfit::safetensors::summarize(std::vector<vramfit::safetensors::header>{*h});
        if (summary.tensors != h->tensors.size()) __builtin_trap();
    }
    const std::string_view text{reinterpret_cast<const char*>(data), size};
    if (auto index = vramfit::safetensors::parse_index(text)) {
        for (std::size_t i = 0; i < index->shards.size(); ++i) {
            if (!vramfit::safetensors::is_safe_shard_name(index->shards[i].view())) __builtin_trap();
            if (i > 0 && !(index->shards[i - 1].view() < index->shards[i].view())) __builtin_trap();
        }
    }
    return 0;
}
