// vramfit/core/fixed_string.hpp — a bounded, constexpr-friendly string.
//
// Names of a known bound (a CUDA device's name, a UUID) live in a fixed buffer, which is
// cheap to copy in constant evaluation; text without a bound uses core/text.hpp.
#pragma once

#include <cstddef>
#include <string_view>

#include "vramfit/core/detail/decimal.hpp"

namespace vramfit {

template <std::size_t Capacity>
class fixed_string {
public:
    constexpr fixed_string() noexcept = default;
    // Truncates silently past Capacity; callers that must reject long input check first.
    constexpr fixed_string(std::string_view text) noexcept { assign(text); }  // NOLINT: implicit by design
    constexpr fixed_string(const char* text) noexcept : fixed_string(std::string_view{text}) {}  // NOLINT

    constexpr void assign(std::string_view text) noexcept {
        size_ = text.size() < Capacity ? text.size() : Capacity;
        for (std::size_t i = 0; i < size_; ++i) data_[i] = text[i];
        for (std::size_t i = size_; i < Capacity; ++i) data_[i] = '\0';
    }
    constexpr void append(std::string_view text) noexcept {
        // `>=` rather than `==`: GCC's -Wstringop-overflow cannot prove size_ <= Capacity.
        for (char c : text) {
            if (size_ >= Capacity) return;
            data_[size_++] = c;
        }
    }
    constexpr void append_number(unsigned long long value) noexcept { append(detail::decimal(value).view()); }

    [[nodiscard]] constexpr std::string_view view() const noexcept { return {data_, size_}; }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
    [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return Capacity; }

    friend constexpr bool operator==(const fixed_string& a, const fixed_string& b) noexcept { return a.view() == b.view(); }
    friend constexpr bool operator==(const fixed_string& a, std::string_view b) noexcept { return a.view() == b; }
    friend constexpr bool operator<(const fixed_string& a, const fixed_string& b) noexcept { return a.view() < b.view(); }

private:
    char data_[Capacity] = {};
    std::size_t size_ = 0;
};

// A string literal as a template argument, for tags such as catalog::model<"llama-3.1-8b">
// (a structural type: public members only, as class-type template parameters require).
template <std::size_t N>
struct string_literal {
    char chars[N]{};
    constexpr string_literal(const char (&text)[N]) noexcept {  // NOLINT: implicit by design
        for (std::size_t i = 0; i < N; ++i) chars[i] = text[i];
    }
    [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
};

} // namespace vramfit
