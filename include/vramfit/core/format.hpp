// vramfit/core/format.hpp — sizes as people read them.
#pragma once

#include <cstdio>
#include <string>

#include "vramfit/core/bytes.hpp"

namespace vramfit {

// MiB with two decimals, the way llama.cpp prints buffer sizes ("%8.2f MiB" of size/1024/1024).
[[nodiscard]] inline std::string format_mib(bytes size) {
    char text[48];
    std::snprintf(text, sizeof text, "%.2f MiB", size.mib());
    return text;
}

// The shortest readable form: B, KiB, MiB or GiB with two decimals.
[[nodiscard]] inline std::string format_bytes(bytes size) {
    char text[48];
    const auto n = size.count();
    if (n < 1024) std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(n));
    else if (n < 1048576ULL) std::snprintf(text, sizeof text, "%.2f KiB", static_cast<double>(n) / 1024.0);
    else if (n < 1073741824ULL) std::snprintf(text, sizeof text, "%.2f MiB", size.mib());
    else std::snprintf(text, sizeof text, "%.2f GiB", size.gib());
    return text;
}

} // namespace vramfit
