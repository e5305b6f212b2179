// The compile-time twin of test_device_map.cpp: the same checks as static_asserts (the build
// fails if one fails).
#include "tiny_cases.hpp"

static_assert(tiny::size_strings());
// The module tree names its modules with std::string, which Clang 14 cannot evaluate with
// libstdc++ 12 (its small-string union); GCC 12 can, so the device maps are checked there.
#if defined(__clang__) && __clang_major__ < 15
#else
static_assert(tiny::untied_auto());
static_assert(tiny::tied_auto());
#endif
