// vramfit/core/text.hpp — an owned, growable string that works in constant expressions.
//
// libstdc++ 12's std::string cannot be used in constant expressions under Clang 14, but
// std::vector can, so results that must own their text (error messages, a plan's notes, a
// model's name) keep it here: nothing is truncated, and a result never points into a
// temporary it was built from.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vramfit {

class text {
public:
    constexpr text() = default;
    constexpr text(std::string_view value) { append(value); }           // NOLINT: implicit by design
    constexpr text(const char* value) : text(std::string_view{value}) {}  // NOLINT

    constexpr text& append(std::string_view value) {
        chars_.reserve(chars_.size() + value.size());
        for (char c : value) chars_.push_back(c);
        return *this;
    }
    constexpr text& append(char c) {
        chars_.push_back(c);
        return *this;
    }
    // Decimal digits, no locale: the same in a constant expression and at run time.
    constexpr text& append_number(unsigned long long value) {
        char digits[24];
        std::size_t n = 0;
        do { digits[n++] = static_cast<char>('0' + value % 10); value /= 10; } while (value != 0);
        while (n != 0) chars_.push_back(digits[--n]);
        return *this;
    }
    constexpr text& append_signed(long long value) {
        if (value < 0) {
            chars_.push_back('-');
            return append_number(0ULL - static_cast<unsigned long long>(value));
        }
        return append_number(static_cast<unsigned long long>(value));
    }

    [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars_.data(), chars_.size()}; }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return chars_.size(); }
    [[nodiscard]] constexpr bool empty() const noexcept { return chars_.empty(); }
    constexpr void clear() noexcept { chars_.clear(); }
    [[nodiscard]] std::string str() const { return std::string{view()}; }

    friend constexpr bool operator==(const text& a, const text& b) noexcept { return a.view() == b.view(); }
    friend constexpr bool operator==(const text& a, std::string_view b) noexcept { return a.view() == b; }
    // (a literal would otherwise match both of the above through the implicit conversions)
    friend constexpr bool operator==(const text& a, const char* b) noexcept { return a.view() == std::string_view{b}; }

private:
    std::vector<char> chars_;
};

} // namespace vramfit
