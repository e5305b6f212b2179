// libFuzzer target: the whole path of `vramfit estimate FILE` after the file is read —
// gguf::parse, describe_gguf (per-architecture hyper-parameter rules), the loader's shape check,
// and the llama.cpp memory estimate — must never crash, hang or allocate without bound on
// arbitrary bytes: bad input ends in an error value.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vramfit/engines/llama_cpp/memory.hpp"
#include "vramfit/formats/gguf/reader.hpp"
#include "vramfit/engines/llama_cpp/from_gguf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const unsigned char> input{data, size};
    auto header = vramfit::gguf::parse(input);
    if (!header) return 0;
    auto model = vramfit::describe_gguf(*header);
    if (!model) return 0;
    (void)vramfit::check_tensor_shapes(*model);
    // A small context keeps each run fast; the model's own sizes are what is being fuzzed.
    auto estimate = vramfit::llama_cpp::estimate(*model, {.n_ctx = 512, .n_batch = 512, .n_ubatch = 128});
    if (estimate) {
        volatile std::uint64_t total = estimate->total().count();
        (void)total;
    }
    return 0;
}
