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

#include "vramfit/core/detail/decimal.hpp"

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
    constexpr text& append_number(unsigned long long value) { return append(detail::decimal(value).view()); }
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

// A name of any length that costs no allocation while it is short: up to `Inline` characters are
// kept in place (every GGUF tensor name: GGML_MAX_NAME is 64), longer ones (Hugging Face names
// reach 70 and more) on the heap. Never truncates.
template <std::size_t Inline>
class compact_text {
public:
    constexpr compact_text() noexcept = default;
    constexpr compact_text(std::string_view value) { assign(value); }           // NOLINT: implicit by design
    constexpr compact_text(const char* value) : compact_text(std::string_view{value}) {}  // NOLINT

    constexpr void assign(std::string_view value) {
        size_ = value.size();
        spill_.clear();
        if (size_ <= Inline) {
            for (std::size_t i = 0; i < size_; ++i) inline_[i] = value[i];
            for (std::size_t i = size_; i < Inline; ++i) inline_[i] = '\0';
        } else {
            spill_.reserve(size_);
            for (char c : value) spill_.push_back(c);
        }
    }
    constexpr void append(std::string_view value) {
        if (size_ + value.size() <= Inline) {
            for (char c : value) inline_[size_++] = c;
            return;
        }
        if (size_ <= Inline) {
            spill_.reserve(size_ + value.size());
            for (std::size_t i = 0; i < size_; ++i) spill_.push_back(inline_[i]);
        }
        for (char c : value) spill_.push_back(c);
        size_ += value.size();
    }
    constexpr void append_number(unsigned long long value) { append(detail::decimal(value).view()); }

    [[nodiscard]] constexpr std::string_view view() const noexcept {
        return size_ <= Inline ? std::string_view{inline_, size_} : std::string_view{spill_.data(), size_};
    }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
    [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }

    friend constexpr bool operator==(const compact_text& a, const compact_text& b) noexcept { return a.view() == b.view(); }
    friend constexpr bool operator==(const compact_text& a, std::string_view b) noexcept { return a.view() == b; }
    friend constexpr bool operator<(const compact_text& a, const compact_text& b) noexcept { return a.view() < b.view(); }

private:
    char inline_[Inline] = {};
    std::size_t size_ = 0;
    std::vector<char> spill_;
};

} // namespace vramfit
