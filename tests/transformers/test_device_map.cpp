// Device maps and max_memory parsing on small cases, at run time (their compile-time twin is
// static_device_map.cpp), and the errors a malformed max_memory gets.
#include <doctest/doctest.h>

#include "tiny_cases.hpp"

namespace tf = vramfit::transformers;

TEST_CASE("tiny Llama device maps (the maps from_pretrained computed)") {
    CHECK(tiny::untied_auto());
    CHECK(tiny::tied_auto());
}

TEST_CASE("max_memory strings as accelerate reads them") {
    CHECK(tiny::size_strings());
    auto r = tf::convert_file_size_to_int("12.345678901234567890GB");  // beyond the exact fast path
    REQUIRE(r.ok());
    CHECK(r->count() == 12345678901ull);
    CHECK(tf::convert_file_size_to_int("nanGB").err().code() == vramfit::errc::bad_value);
}

TEST_CASE("get_max_memory orders GPUs, then cpu, then disk, and refuses repeats") {
    std::vector<tf::memory_spec> specs{{tf::device_id::cpu(), "1GB", 0}, {tf::device_id::disk(), "", 5},
                                       {tf::device_id::gpu(1), "2GB", 0}, {tf::device_id::gpu(0), "", 7}};
    auto got = tf::get_max_memory(specs);
    REQUIRE(got.ok());
    REQUIRE(got->size() == 4);
    CHECK((*got)[0].device == tf::device_id::gpu(0));
    CHECK((*got)[0].amount.count() == 7);
    CHECK((*got)[1].device == tf::device_id::gpu(1));
    CHECK((*got)[2].device == tf::device_id::cpu());
    CHECK((*got)[3].device == tf::device_id::disk());
    specs.push_back({tf::device_id::gpu(0), "1GB", 0});
    CHECK(!tf::get_max_memory(specs).ok());
}

TEST_CASE("unknown architectures and MXFP4 outside gpt-oss are errors") {
    auto c = tiny::tiny_llama(false);
    c.model_type = "mamba";
    CHECK(tf::build_module_tree(c, {}).err().code() == vramfit::errc::unsupported_architecture);
    c.model_type = "llama";
    CHECK(!tf::build_module_tree(c, {vramfit::dtype::bf16, tf::quantization::mxfp4, false}).ok());
}

TEST_CASE("Mixtral-8x7B: the published parameter count, fused experts, one layer per no-split block") {
    vramfit::model_config c{};
    c.model_type = "mixtral";
    c.num_hidden_layers = 32;
    c.hidden_size = 4096;
    c.num_attention_heads = 32;
    c.num_key_value_heads = 8;
    c.intermediate_size = 14336;
    c.vocab_size = 32000;
    c.num_experts = 8;
    c.num_experts_per_tok = 2;
    auto tree = tf::build_module_tree(c, {vramfit::dtype::bf16, tf::quantization::none, false});
    REQUIRE(tree.ok());
    const auto sizes = tf::compute_module_sizes(*tree);
    // 46 702 792 704 parameters (the model card) in bfloat16, plus the rotary inv_freq pair (512 B).
    CHECK(sizes.root().count() == 46702792704ull * 2 + 512);
    CHECK(tree->no_split == std::vector<std::string>{"MixtralDecoderLayer"});
    auto map = tf::compute_device_map(*tree, {{tf::device_id::gpu(0), "48GB", 0}, {tf::device_id::gpu(1), "48GB", 0}},
                                      tf::placement_strategy::auto_);
    REQUIRE(map.ok());
    // 93.4 GB over 96 GB, GPU 0 keeping one layer's reserve: every byte is placed somewhere.
    std::uint64_t placed = 0;
    for (const auto& d : map->bytes_per_device) placed += d.amount.count();
    CHECK(placed == sizes.root().count());
}
