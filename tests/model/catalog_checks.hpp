// The described-catalog helpers test_catalog.cpp (run time) and static_catalog.cpp (compile time) share.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>
#include <string>
#include <string_view>

#include "vramfit/core/format.hpp"
#include "vramfit/engines/llama_cpp/from_catalog.hpp"

namespace catalog_checks {

using namespace vramfit;

constexpr std::uint64_t params_of(const catalog::model_entry& entry) {
    const auto model = llama_cpp::describe_f16(entry);
    return model ? model->parameter_count() : 0;
}

constexpr std::uint64_t quantized_bytes(std::string_view name) {
    const auto model = llama_cpp::describe(name);
    return model ? model->weight_bytes().count() : 0;
}

constexpr std::uint32_t swa_layers(const catalog::model_entry& entry) {
    const auto hp = llama_cpp::hyperparameters_of(entry);
    if (!hp) return 9999;
    std::uint32_t n = 0;
    for (const auto& layer : hp->layers) n += layer.swa ? 1 : 0;
    return n;
}

constexpr errc error_of(std::string_view name) {
    const auto model = llama_cpp::describe(name);
    return model ? errc::none : model.err().code();
}

constexpr bool error_mentions(std::string_view name, std::string_view text) {
    const auto model = llama_cpp::describe(name);
    return !model && model.err().message().find(text) != std::string_view::npos;
}

// Parameter counts are the engine's ml.n_elements: every tensor in the file, including

} // namespace catalog_checks
