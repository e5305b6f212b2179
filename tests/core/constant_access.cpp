// value() on an error in a constant expression must not compile: it used to hand back a
// default T. The test suite runs the compiler on this file and expects the error below.
#include "vramfit/core/error.hpp"

constexpr vramfit::result<int> failed() { return vramfit::error{vramfit::errc::bad_value, "no value"}; }
constexpr vramfit::result<int> succeeded() { return 3; }

static_assert(succeeded().value() == 3);
static_assert(failed().value() == 0);
