// vramfit/core/detail/decimal.hpp — an unsigned integer's decimal digits, without locale or
// allocation: the same in a constant expression and at run time.
#pragma once

#include <cstddef>
#include <string_view>

namespace vramfit::detail {

struct decimal_digits {
    char chars[20] = {};  // 18446744073709551615 has 20 digits
    std::size_t size = 0;
    [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars + (sizeof chars - size), size}; }
};

[[nodiscard]] constexpr decimal_digits decimal(unsigned long long value) noexcept {
    decimal_digits d{};
    do {
        ++d.size;
        d.chars[sizeof d.chars - d.size] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    return d;
}

} // namespace vramfit::detail
