// vramfit/engines/llama_cpp/version.hpp — the llama.cpp vramfit mirrors, and its fixed limits.
//
// Every formula under engines/llama_cpp/ follows the engine's source at this commit; the
// validation figures in tests/data/ were measured with it (older builds are named per row).
#pragma once

#include <cstddef>
#include <string_view>

namespace vramfit::llama_cpp {

inline constexpr std::string_view engine_commit = "1425386fd996511e1f3295e7366c38289a92a271";
// The short form the engine's logs and vramfit's tables print.
inline constexpr std::string_view engine_commit_short = engine_commit.substr(0, 8);

// GGML_CUDA_MAX_DEVICES (ggml/include/ggml-cuda.h): the CUDA devices one process addresses.
inline constexpr std::size_t max_cuda_devices = 16;

} // namespace vramfit::llama_cpp
