// A consumer of vramfit (tests/ci.d/consumer.sh builds it as a Meson superproject and through pkg-config).
#include <cstdio>
#include <vramfit/vramfit.hpp>
static_assert(vramfit::llama_cpp::describe("llama-3.2-1b:Q8_0").ok(), "needs the constexpr limits vramfit's flags carry");
int main() { std::puts(vramfit::format_mib(vramfit::llama_cpp::describe("llama-3.2-1b:Q8_0")->weight_bytes()).c_str()); }
