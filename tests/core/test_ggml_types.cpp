#include <doctest/doctest.h>

#include "vramfit/model/dtype.hpp"

using namespace vramfit;

// Row sizes for the KV cache types, the cases the oracle README spells out:
// f16 n*2, q8_0 n/32*34, q4_0 n/32*18.
static_assert(row_size(ggml_type::f16, 1024) == bytes{2048});
static_assert(row_size(ggml_type::q8_0, 1024) == bytes{1024 / 32 * 34});
static_assert(row_size(ggml_type::q4_0, 1024) == bytes{1024 / 32 * 18});
static_assert(row_size(ggml_type::q4_K, 4096) == bytes{4096 / 256 * 144});
static_assert(row_size(ggml_type::mxfp4, 2880) == bytes{2880 / 32 * 17});
static_assert(tensor_bytes(ggml_type::f16, {4096, 128256, 1, 1}) == bytes{4096ULL * 128256 * 2});
static_assert(ggml_type_from_id(12).ok() && *ggml_type_from_id(12) == ggml_type::q4_K);
static_assert(ggml_type_from_id(4).err().code() == errc::removed_type);
static_assert(ggml_type_from_id(33).err().code() == errc::removed_type);
static_assert(ggml_type_from_id(42).err().code() == errc::unknown_type);
static_assert(ggml_type_from_name("Q8_0") == ggml_type::q8_0);
static_assert(!ggml_type_from_name("q4_2").has_value(), "removed types cannot be named");

TEST_CASE("every live type has a block layout; removed ids are rejected by name") {
    int live = 0;
    for (std::uint32_t id = 0; id < ggml_type_count; ++id) {
        auto type = ggml_type_from_id(id);
        if (!type) {
            CHECK(type.err().code() == errc::removed_type);
            CHECK(type.err().message().find("removed") != std::string_view::npos);
            continue;
        }
        ++live;
        CHECK(block_size(*type) > 0);
        CHECK(bytes_per_block(*type) > 0);
        CHECK(ggml_type_from_name(type_name(*type)) == *type);
    }
    CHECK(live == 34);  // 42 ids, 8 of them removed
    auto bad = ggml_type_from_id(1000);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.err().message() == "unknown ggml type id 1000");
}

TEST_CASE("bits per weight of the k-quants and i-quants") {
    auto bpw = [](ggml_type t) { return 8.0 * bytes_per_block(t) / block_size(t); };
    CHECK(bpw(ggml_type::q4_K) == doctest::Approx(4.5));
    CHECK(bpw(ggml_type::q6_K) == doctest::Approx(6.5625));
    CHECK(bpw(ggml_type::q2_K) == doctest::Approx(2.625));
    CHECK(bpw(ggml_type::iq4_xs) == doctest::Approx(4.25));
    CHECK(bpw(ggml_type::q8_0) == doctest::Approx(8.5));
    CHECK(bpw(ggml_type::mxfp4) == doctest::Approx(4.25));
    CHECK(bpw(ggml_type::nvfp4) == doctest::Approx(4.5));
    CHECK(bpw(ggml_type::q1_0) == doctest::Approx(1.125));
}
