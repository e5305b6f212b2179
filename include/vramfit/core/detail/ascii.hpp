// vramfit/core/detail/ascii.hpp — case-insensitive ASCII matching of names (models, GPUs, types).
#pragma once

#include <cstddef>
#include <string_view>

namespace vramfit::detail {

[[nodiscard]] constexpr char lower_ascii(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

[[nodiscard]] constexpr bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
    }
    return true;
}

// An empty `part` is contained in every text.
[[nodiscard]] constexpr bool contains_ignoring_case(std::string_view text, std::string_view part) noexcept {
    if (part.size() > text.size()) return false;
    for (std::size_t at = 0; at + part.size() <= text.size(); ++at) {
        if (equal_ignoring_case(text.substr(at, part.size()), part)) return true;
    }
    return false;
}

} // namespace vramfit::detail
