// libFuzzer: any bytes as config.json. parse_config must return a model_config or an error,
// never crash, read out of bounds or loop; every node read back stays inside the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vramfit/formats/hf/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input{reinterpret_cast<const char*>(data), size};
    if (auto doc = vramfit::json::parse(input)) {
        for (std::uint32_t i = 0; i < doc->size(); ++i) {
            const auto raw = doc->raw(i);
            if (raw.data() < input.data() || raw.data() + raw.size() > input.data() + input.size()) __builtin_trap();
            if (doc->at(i).type == vramfit::json::kind::string) (void)doc->string(i);
            if (doc->at(i).type == vramfit::json::kind::number) { (void)doc->number(i); (void)doc->unsigned_integer(i); }
        }
    }
    if (auto config = vramfit::hf::parse_config(input)) {
        if (config->num_hidden_layers > vramfit::layer_set::max_layers) __builtin_trap();
    }
    return 0;
}
