// vramfit/version.hpp — the library's version, and the language it needs.
#pragma once

#if !defined(__cplusplus) || (__cplusplus < 202002L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 202002L))
#error "vramfit needs C++20 or later (constexpr std::vector, class-type template parameters): compile with -std=c++20"
#endif

#define VRAMFIT_VERSION_MAJOR 0
#define VRAMFIT_VERSION_MINOR 2
#define VRAMFIT_VERSION_PATCH 0
// One number for comparisons: major * 10000 + minor * 100 + patch.
#define VRAMFIT_VERSION (VRAMFIT_VERSION_MAJOR * 10000 + VRAMFIT_VERSION_MINOR * 100 + VRAMFIT_VERSION_PATCH)
#define VRAMFIT_VERSION_STRING "0.2.0"

namespace vramfit {
inline constexpr int version_major = VRAMFIT_VERSION_MAJOR;
inline constexpr int version_minor = VRAMFIT_VERSION_MINOR;
inline constexpr int version_patch = VRAMFIT_VERSION_PATCH;
} // namespace vramfit
