// vramfit/engines/llama_cpp/architecture.hpp — `general.architecture` names and which architectures vramfit describes.
//
// The names are the engine's LLM_ARCH_NAMES strings (llama.cpp src/llama-arch.cpp), i.e. what
// convert_hf_to_gguf.py writes into `general.architecture`. An architecture is *supported* when
// vramfit can turn its metadata into hyper-parameters (engines/llama_cpp/from_gguf.hpp) and write its tensor
// layout (engines/llama_cpp/convert.hpp); every other name is a clear error that lists the supported ones.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "vramfit/core/error.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"

namespace vramfit {

struct architecture_info {
    architecture arch;
    std::string_view name;  // general.architecture
    bool supported = false;
};

namespace detail {
// Indexed by the enum value (engines/llama_cpp/model.hpp keeps the enum append-only).
inline constexpr std::array<architecture_info, 25> architecture_table{{
    {architecture::llama, "llama", true},
    {architecture::qwen2, "qwen2", true},
    {architecture::qwen3, "qwen3", true},
    {architecture::qwen3moe, "qwen3moe", true},
    {architecture::gemma2, "gemma2", true},
    {architecture::gemma3, "gemma3", true},
    {architecture::phi3, "phi3", true},
    {architecture::deepseek2, "deepseek2", true},
    {architecture::gpt_oss, "gpt-oss", true},  // LLM_ARCH_OPENAI_MOE
    {architecture::mamba2, "mamba2", true},
    {architecture::granitehybrid, "granitehybrid", false},
    {architecture::lfm2, "lfm2", true},
    {architecture::jamba, "jamba", false},
    {architecture::mistral3, "mistral3", false},
    {architecture::qwen2moe, "qwen2moe", false},
    {architecture::glm4, "glm4", true},
    {architecture::command_r, "command-r", true},
    {architecture::cohere2, "cohere2", false},
    {architecture::gemma, "gemma", false},
    {architecture::phi2, "phi2", false},
    {architecture::starcoder2, "starcoder2", false},
    {architecture::gptneox, "gptneox", true},
    {architecture::llama4, "llama4", true},
    {architecture::deepseek, "deepseek", false},
    {architecture::glm4moe, "glm4moe", false},
}};

[[nodiscard]] constexpr std::size_t count_supported() noexcept {
    std::size_t n = 0;
    for (const auto& a : architecture_table) n += a.supported ? 1 : 0;
    return n;
}
} // namespace detail

[[nodiscard]] constexpr std::string_view architecture_name(architecture arch) noexcept {
    const auto index = static_cast<std::size_t>(arch);
    return index < detail::architecture_table.size() ? detail::architecture_table[index].name : std::string_view{"unknown"};
}

[[nodiscard]] constexpr bool is_supported(architecture arch) noexcept {
    const auto index = static_cast<std::size_t>(arch);
    return index < detail::architecture_table.size() && detail::architecture_table[index].supported;
}

// Any architecture vramfit knows by name, supported or not.
[[nodiscard]] constexpr std::optional<architecture> architecture_from_name(std::string_view name) noexcept {
    for (const auto& a : detail::architecture_table) {
        if (a.name == name) return a.arch;
    }
    return std::nullopt;
}

// The architectures describe_gguf and the tensor layouts handle, in enum order.
inline constexpr auto supported_architectures = [] {
    std::array<architecture, detail::count_supported()> list{};
    std::size_t n = 0;
    for (const auto& a : detail::architecture_table) {
        if (a.supported) list[n++] = a.arch;
    }
    return list;
}();

// "llama, qwen2, ..., mamba2" — appended to every unsupported-architecture error.
constexpr error& append_supported_list(error& failure) noexcept {
    failure.with("supported: ");
    bool first = true;
    for (const auto arch : supported_architectures) {
        if (!first) failure.with(", ");
        failure.with(architecture_name(arch));
        first = false;
    }
    return failure;
}

// A supported architecture from its `general.architecture` name, or an error naming it and
// listing what is supported.
[[nodiscard]] constexpr result<architecture> supported_architecture(std::string_view name) noexcept {
    const auto known = architecture_from_name(name);
    if (known && is_supported(*known)) return *known;
    error failure{errc::unsupported_architecture, "architecture '"};
    failure.with(name).with(known ? "' is known but not modelled yet; " : "' is not supported; ");
    return append_supported_list(failure);
}

} // namespace vramfit
