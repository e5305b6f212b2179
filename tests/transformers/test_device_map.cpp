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
