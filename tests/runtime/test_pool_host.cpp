// The pool suite on the host backend: runs everywhere (and under ASan/TSan, tests/ci.d).
#include "pool_suite.hpp"

std::unique_ptr<vramfit::runtime::memory_backend> pool_suite::make_backend() {
    return std::make_unique<vramfit::runtime::host_backend>();
}
