#include <doctest/doctest.h>

#include "vramfit/core/format.hpp"

using namespace vramfit;

// The same vectors at compile time and at run time.
static_assert(1_KiB == bytes{1024});
static_assert(3_MiB + 1_MiB == 4_MiB);
static_assert(1_MiB - 2_MiB == 0_B, "subtraction saturates instead of wrapping");
static_assert(pad_to(bytes{1000}, 256) == bytes{1024});
static_assert(pad_to(bytes{1024}, 256) == bytes{1024});
static_assert(2_GiB / 1_MiB == 2048);
static_assert((512_MiB).mib() == 512.0);
static_assert(4_MiB * 3 == 12_MiB && 3 * 4_MiB == 12_MiB);

TEST_CASE("bytes arithmetic at run time matches the compile-time vectors") {
    volatile std::uint64_t thousand = 1000;
    CHECK(pad_to(bytes{thousand}, 256) == bytes{1024});
    CHECK(bytes{thousand} + bytes{24} == 1_KiB);
    CHECK(bytes{thousand} - 2_KiB == 0_B);
    CHECK((2_GiB).gib() == doctest::Approx(2.0));
}

TEST_CASE("sizes format the way llama.cpp prints them") {
    CHECK(format_mib(bytes{266 * 1048576ULL + 524288}) == "266.50 MiB");
    CHECK(format_mib(bytes{4685300000ULL}) == "4468.25 MiB");
    CHECK(format_bytes(bytes{512}) == "512 B");
    CHECK(format_bytes(2_KiB) == "2.00 KiB");
    CHECK(format_bytes(3_GiB) == "3.00 GiB");
}
