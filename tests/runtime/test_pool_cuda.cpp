// The pool suite on the CUDA backend, plus device-memory and two-stream checks. Without a
// usable device it prints "SKIP: <CUDA error>" and exits 77, which Meson reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include "pool_suite.hpp"

#include <cstdio>

#include "vramfit/runtime/checkpoint/cuda_backend.hpp"

using namespace vramfit;
using namespace vramfit::runtime;

std::unique_ptr<memory_backend> pool_suite::make_backend() {
    auto backend = cuda_backend::create(0);
    REQUIRE_MESSAGE(backend.ok(), backend.err().describe());
    return std::move(*backend);
}

TEST_CASE("device buffers round-trip through the pool across two streams") {
    auto backend = cuda_backend::create(0);
    REQUIRE(backend.ok());
    auto created = checkpoint_pool::create(**backend, 64_MiB);
    REQUIRE(created.ok());
    checkpoint_pool& pool = **created;
    auto saver = cuda::create_stream(), restorer = cuda::create_stream();
    REQUIRE(saver.ok());
    REQUIRE(restorer.ok());
    const std::size_t size = 8u << 20;
    auto source = cuda::device_allocate(bytes{size}), target = cuda::device_allocate(bytes{size});
    REQUIRE(source.ok());
    REQUIRE(target.ok());
    const auto data = pool_suite::pattern(size, 77);
    REQUIRE(cuda::copy(*source, data.data(), bytes{size}, *saver).ok());
    REQUIRE(pool.save(1, *source, bytes{size}, *saver).ok());
    REQUIRE(pool.restore(1, *target, *restorer).ok());  // ordered after the save by its event
    std::vector<unsigned char> back(size);
    REQUIRE(cuda::copy(back.data(), *target, bytes{size}, *restorer).ok());
    CHECK(back == data);
    REQUIRE(pool.synchronize().ok());
    CHECK_FALSE(pool.is_busy(1));
    cuda::device_free(*source);
    cuda::device_free(*target);
    cuda::destroy_stream(*saver);
    cuda::destroy_stream(*restorer);
}

int main(int argc, char** argv) {
    auto devices = cuda_device_count();
    if (!devices) {
        std::printf("SKIP: %s\n", std::string(devices.err().message()).c_str());
        return 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
