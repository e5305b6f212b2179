// Compile-time checks of core/error.hpp: errors and results in constant expressions. Compiles
// or fails to build; nothing to run.
#include <exception>
#include <string_view>
#include <type_traits>

#include "vramfit/core/error.hpp"

using namespace vramfit;

namespace {

constexpr result<int> halve(int x) {
    if (x % 2 != 0) return error{errc::bad_value, "odd: "}.with_number(static_cast<unsigned long long>(x));
    return x / 2;
}

constexpr result<void> require(bool condition) {
    if (!condition) return error{errc::invalid_argument, "condition failed", 12};
    return {};
}

// A message longer than the 320 bytes the old fixed buffer held, built in a constant expression.
constexpr std::size_t long_message_size() {
    error e{errc::limit_exceeded, "start"};
    for (int i = 0; i < 200; ++i) e.with(" more");
    return e.message().size();
}

constexpr bool renders_offset() {
    const error e{errc::truncated, "key 'x' value", 1234};
    return e.render().view() == "at byte 1234: key 'x' value" && e.has_offset() && e.byte_offset() == 1234;
}

} // namespace

// Checked access on success works in a constant expression (value(), *, ->, value_or).
static_assert(halve(8).value() == 4);
static_assert(*halve(6) == 3);
static_assert(halve(7).value_or(-1) == -1 && halve(4).value_or(-1) == 2);
static_assert(halve(7).err().code() == errc::bad_value && halve(7).err().message() == "odd: 7");
static_assert(!halve(7) && halve(4).ok() && halve(4).err().code() == errc::none);
static_assert(require(true).ok() && !require(false).ok() && require(false).err().byte_offset() == 12);
constexpr auto four = halve(8);  // a successful result can be a constexpr variable
static_assert(four.value() == 4);

// Nothing is cut.
static_assert(long_message_size() == 5 + 200 * 5);
static_assert(renders_offset());
static_assert(error{errc::io, "plain"}.render().view() == "plain");

// Small: the message lives on the heap, not in a 320-byte buffer inside every result.
static_assert(sizeof(error) <= 48);
static_assert(sizeof(result<int>) <= 64);
static_assert(sizeof(result<void>) <= 56);

// Run-time access to an error throws a std::exception.
static_assert(std::is_base_of_v<std::exception, bad_result_access>);
static_assert(std::is_base_of_v<vramfit::exception, bad_result_access>);

int main() {}
