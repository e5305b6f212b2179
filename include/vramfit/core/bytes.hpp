// vramfit/core/bytes.hpp — sizes as a type.
//
// Every size in a public signature is a `bytes`, never a bare integer, so a count of
// elements, cells or tokens cannot be passed where a size is expected (the mp-units idea,
// reduced to the one dimension this library needs).
#pragma once

#include "vramfit/version.hpp"

#include <compare>
#include <cstdint>

namespace vramfit {

class bytes {
public:
    constexpr bytes() noexcept = default;
    constexpr explicit bytes(std::uint64_t count) noexcept : count_(count) {}

    [[nodiscard]] constexpr std::uint64_t count() const noexcept { return count_; }
    // Fractional MiB / GiB, for display and for ratios only.
    [[nodiscard]] constexpr double mib() const noexcept { return static_cast<double>(count_) / 1048576.0; }
    [[nodiscard]] constexpr double gib() const noexcept { return static_cast<double>(count_) / 1073741824.0; }

    constexpr bytes& operator+=(bytes other) noexcept { count_ += other.count_; return *this; }
    constexpr bytes& operator-=(bytes other) noexcept { count_ -= other.count_; return *this; }
    constexpr bytes& operator*=(std::uint64_t factor) noexcept { count_ *= factor; return *this; }

    friend constexpr bytes operator+(bytes a, bytes b) noexcept { return bytes{a.count_ + b.count_}; }
    // Saturates at zero: a margin that goes negative is expressed with `deficit`, not by wrapping.
    friend constexpr bytes operator-(bytes a, bytes b) noexcept {
        return bytes{a.count_ > b.count_ ? a.count_ - b.count_ : 0};
    }
    friend constexpr bytes operator*(bytes a, std::uint64_t factor) noexcept { return bytes{a.count_ * factor}; }
    friend constexpr bytes operator*(std::uint64_t factor, bytes a) noexcept { return bytes{a.count_ * factor}; }
    friend constexpr bytes operator/(bytes a, std::uint64_t divisor) noexcept { return bytes{a.count_ / divisor}; }
    friend constexpr std::uint64_t operator/(bytes a, bytes b) noexcept { return a.count_ / b.count_; }

    friend constexpr bool operator==(bytes, bytes) noexcept = default;
    friend constexpr std::strong_ordering operator<=>(bytes, bytes) noexcept = default;

private:
    std::uint64_t count_ = 0;
};

inline namespace literals {
constexpr bytes operator""_B(unsigned long long n) noexcept { return bytes{n}; }
constexpr bytes operator""_KiB(unsigned long long n) noexcept { return bytes{n * 1024ULL}; }
constexpr bytes operator""_MiB(unsigned long long n) noexcept { return bytes{n * 1048576ULL}; }
constexpr bytes operator""_GiB(unsigned long long n) noexcept { return bytes{n * 1073741824ULL}; }
} // namespace literals

// Round `size` up to a multiple of `alignment` (GGML_PAD in ggml.h).
[[nodiscard]] constexpr bytes pad_to(bytes size, std::uint64_t alignment) noexcept {
    return bytes{(size.count() + alignment - 1) / alignment * alignment};
}

} // namespace vramfit
