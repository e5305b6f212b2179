// Device maps of the tiny Llama models the oracle loaded for real (tests/data/hf/README-oracle.md:
// hidden 64, intermediate 128, 4 layers, 4 heads, 2 KV heads, vocab 1000, float32, untied or
// tied), {0: "1MB", 1: "1MB", cpu: "1MB"}, device_map="auto": the maps from_pretrained computed.
// Shared by the compile-time twin (static_device_map.cpp) and the run-time test.
#pragma once

#include <string_view>

#include "vramfit/engines/transformers/device_map.hpp"

namespace tiny {

namespace tf = vramfit::transformers;

constexpr vramfit::model_config tiny_llama(bool tied) {
    vramfit::model_config c{};
    c.model_type = "llama";
    c.num_hidden_layers = 4;
    c.hidden_size = 64;
    c.intermediate_size = 128;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.vocab_size = 1000;
    c.tie_word_embeddings = tied;
    return c;
}

struct expected_entry {
    std::string_view module;
    tf::device_id device;
};

constexpr bool map_is(bool tied, const expected_entry* want, std::size_t n) {
    auto tree = tf::build_module_tree(tiny_llama(tied), {vramfit::dtype::f32, tf::quantization::none, false});
    if (!tree) return false;
    std::vector<tf::memory_spec> budget{{tf::device_id::gpu(0), "1MB", 0}, {tf::device_id::gpu(1), "1MB", 0},
                                        {tf::device_id::cpu(), "1MB", 0}};
    auto got = tf::compute_device_map(*tree, budget, tf::placement_strategy::auto_);
    if (!got || got->map.size() != n) return false;
    for (std::size_t i = 0; i < n; ++i)
        if (got->map[i].module != want[i].module || !(got->map[i].device == want[i].device)) return false;
    return true;
}

constexpr bool untied_auto() {
    constexpr auto g0 = tf::device_id::gpu(0), g1 = tf::device_id::gpu(1);
    const expected_entry want[] = {{"model.embed_tokens", g0}, {"model.layers.0", g0}, {"model.layers.1", g0},
                                   {"model.layers.2", g1},     {"model.layers.3", g1}, {"model.norm", g1},
                                   {"model.rotary_emb", g1},   {"lm_head", g1}};
    return map_is(false, want, 8);
}

constexpr bool tied_auto() {
    constexpr auto g0 = tf::device_id::gpu(0), g1 = tf::device_id::gpu(1);
    const expected_entry want[] = {{"model.embed_tokens", g0}, {"lm_head", g0},       {"model.layers.0", g0},
                                   {"model.layers.1", g0},     {"model.layers.2", g1}, {"model.layers.3", g1},
                                   {"model.norm", g1},         {"model.rotary_emb", g1}};
    return map_is(true, want, 8);
}

// accelerate convert_file_size_to_int: units, bits, truncation, refusals.
constexpr bool size_strings() {
    auto is = [](std::string_view s, std::uint64_t v) {
        auto r = tf::convert_file_size_to_int(s);
        return r.ok() && r->count() == v;
    };
    auto refused = [](std::string_view s) { return !tf::convert_file_size_to_int(s).ok(); };
    return is("35GB", 35000000000ull) && is("8GiB", 8589934592ull) && is("176.05GiB", 189032248115ull) &&
           is("1.5MiB", 1572864) && is("10KB", 10000) && is("8Gb", 1000000000ull) && is("8gb", 1000000000ull) &&
           is("8Gib", 8589934592ull) && is("0.1GB", 100000000) && is(" 2 GB", 2000000000ull) &&
           is("1e3MB", 1000000000ull) && is("1_000KB", 1000000) && refused("100") && refused("GB") &&
           refused("abcGB") && refused("-1GB") && refused("1..0GB") && refused("1_GB");
}

} // namespace tiny
