#include <doctest/doctest.h>

#include <exception>
#include <string>
#include <vector>

#include "vramfit/core/error.hpp"

using namespace vramfit;

namespace {
result<std::vector<int>> numbers(bool give) {
    if (!give) return error{errc::missing_key, "missing key 'numbers'", 40};
    return std::vector<int>{1, 2, 3};
}
} // namespace

TEST_CASE("a long message is kept whole") {
    const std::string long_text(1000, 'k');
    const error e = error{errc::bad_value, "key '"}.with(long_text).with("' is bad: ").with_number(18446744073709551615ULL);
    CHECK(e.message().size() == 5 + 1000 + 10 + 20);
    CHECK(e.message().substr(e.message().size() - 30) == "' is bad: 18446744073709551615");
    const result<int> r = e;
    CHECK(r.err().message() == e.message());
    CHECK(r.err().describe() == e.message());
}

TEST_CASE("describe() puts the byte offset first") {
    const error at{errc::truncated, "tensor 'x' shape", 1234};
    CHECK(at.describe() == "at byte 1234: tensor 'x' shape");
    CHECK(at.has_offset());
    CHECK(at.byte_offset() == 1234);
    const error nowhere{errc::io, "cannot open 'a.gguf'"};
    CHECK(nowhere.describe() == "cannot open 'a.gguf'");
    CHECK_FALSE(nowhere.has_offset());
    CHECK(error{}.code() == errc::none);
    CHECK(error{}.message().empty());
}

TEST_CASE("value(), * and -> on an error throw bad_result_access, a std::exception") {
    auto missing = numbers(false);
    REQUIRE_FALSE(missing.ok());
    CHECK_THROWS_AS((void)missing.value(), bad_result_access);
    CHECK_THROWS_AS((void)*missing, bad_result_access);
    CHECK_THROWS_AS((void)missing->size(), bad_result_access);
    CHECK_THROWS_AS((void)std::move(missing).value(), bad_result_access);
    const auto& constant = missing;
    CHECK_THROWS_AS((void)constant.value(), bad_result_access);
    try {
        (void)missing.value();
        FAIL("value() on an error returned");
    } catch (const std::exception& thrown) {
        CHECK(std::string{thrown.what()} == "at byte 40: missing key 'numbers'");
    }
    try {
        (void)*missing;
    } catch (const bad_result_access& thrown) {
        CHECK(thrown.err().code() == errc::missing_key);
    }
    const result<void> refused = error{errc::busy, "in flight"};
    CHECK_THROWS_AS(refused.value(), bad_result_access);
}

TEST_CASE("value_or and access on success") {
    auto given = numbers(true);
    REQUIRE(given.ok());
    CHECK(given->size() == 3);
    CHECK((*given)[1] == 2);
    CHECK(numbers(false).value_or(std::vector<int>{7}) == std::vector<int>{7});
    CHECK(numbers(true).value_or(std::vector<int>{}) == std::vector<int>{1, 2, 3});
    const std::vector<int> moved = std::move(given).value();
    CHECK(moved.size() == 3);
    const result<void> fine{};
    CHECK(fine.ok());
    CHECK_NOTHROW(fine.value());
}

TEST_CASE("throw_error throws a std::exception carrying the error") {
    try {
        throw_error(error{errc::limit_exceeded, "CUDA0 over by 12 MiB"});
        FAIL("throw_error returned");
    } catch (const vramfit::exception& thrown) {
        CHECK(thrown.err().code() == errc::limit_exceeded);
        CHECK(std::string{thrown.what()} == "CUDA0 over by 12 MiB");
    }
}

TEST_CASE("the runtime's codes have names") {
    CHECK(to_string(errc::out_of_budget) == "out of budget");
    CHECK(to_string(errc::too_large_for_budget) == "too large for budget");
    CHECK(to_string(errc::unknown_key) == "unknown key");
    CHECK(to_string(errc::busy) == "busy");
    CHECK(to_string(errc::backend_error) == "backend error");
    CHECK(to_string(errc::no_device) == "no device");
    CHECK(to_string(errc::not_built_with_cuda) == "not built with CUDA");
}
