// libFuzzer: any bytes as a safetensors file. parse must return a header or an error, never
// crash, read out of bounds or allocate beyond the input; every range it accepts lies in the data.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vramfit/formats/safetensors/header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const unsigned char> bytes{data, size};
    if (auto h = vramfit::safetensors::parse(bytes, size)) {
        for (const auto& t : h->tensors)
            if (t.end > h->data_bytes || t.begin > t.end) __builtin_trap();
    }
    return 0;
}
