// bench_checkpoint — the checkpoint pool against the plain copy it wraps, and its suballocation
// against malloc. Host backend always; CUDA backend when a device is visible (otherwise one
// SKIP line with the CUDA error). Prints Markdown tables for BENCHMARKS.md.
//
//   build/bench/bench_checkpoint [--quick]
//
// Each figure is the best of 7 runs (least disturbed by other load); wall time and the
// thread's CPU time are both shown, since the machine may be shared.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "vramfit/core/format.hpp"
#include "vramfit/runtime/checkpoint/pool.hpp"
#include "vramfit/runtime/checkpoint/cuda_backend.hpp"

using namespace vramfit;
using namespace vramfit::runtime;

namespace {

struct timing { double wall_seconds = 1e30, cpu_seconds = 1e30; };

double thread_cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

// Best of `runs` runs of `body` (which performs `iterations` operations).
timing best_of(int runs, const std::function<void()>& body) {
    timing best;
    for (int run = 0; run < runs; ++run) {
        const double cpu_start = thread_cpu_seconds();
        const auto wall_start = std::chrono::steady_clock::now();
        body();
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
        best.wall_seconds = std::min(best.wall_seconds, wall);
        best.cpu_seconds = std::min(best.cpu_seconds, thread_cpu_seconds() - cpu_start);
    }
    return best;
}

void die(const error& problem) {
    std::fprintf(stderr, "bench_checkpoint: %s: %s\n", std::string{to_string(problem.code())}.c_str(), problem.describe().c_str());
    std::exit(1);
}

std::string size_label(std::size_t size) { return format_bytes(bytes{size}); }

// Throughput of save and restore against memcpy of the same bytes (host).
void host_throughput(bool quick) {
    std::printf("\n### Host backend: save/restore throughput vs memcpy (GB/s, wall | thread CPU)\n\n");
    std::printf("| entry size | memcpy | pool save | pool restore |\n|---|---|---|---|\n");
    host_backend backend;
    const std::size_t budget = 256u << 20;
    auto created = checkpoint_pool::create(backend, bytes{budget});
    if (!created) die(created.err());
    checkpoint_pool& pool = **created;
    for (std::size_t size : {std::size_t{4} << 10, std::size_t{64} << 10, std::size_t{1} << 20, std::size_t{16} << 20}) {
        const std::size_t entries = std::min<std::size_t>(budget / size, 64);
        const std::size_t rounds = quick ? 1 : std::max<std::size_t>(1, (std::size_t{256} << 20) / (size * entries));
        std::vector<unsigned char> source(size, 0x5A), target(size);
        std::vector<unsigned char> plain(size * entries);
        const double moved = static_cast<double>(size) * static_cast<double>(entries * rounds);
        const timing copy = best_of(7, [&] {
            for (std::size_t r = 0; r < rounds; ++r)
                for (std::size_t e = 0; e < entries; ++e) std::memcpy(plain.data() + e * size, source.data(), size);
        });
        const timing save = best_of(7, [&] {
            for (std::size_t r = 0; r < rounds; ++r)
                for (std::size_t e = 0; e < entries; ++e)
                    if (!pool.save(e, source.data(), bytes{size})) die(error(errc::backend_error, "save failed"));
        });
        const timing restore = best_of(7, [&] {
            for (std::size_t r = 0; r < rounds; ++r)
                for (std::size_t e = 0; e < entries; ++e)
                    if (!pool.restore(e, target.data())) die(error(errc::backend_error, "restore failed"));
        });
        const auto rate = [moved](const timing& t) {
            char text[64];
            std::snprintf(text, sizeof text, "%.2f \\| %.2f", moved / t.wall_seconds / 1e9, moved / t.cpu_seconds / 1e9);
            return std::string(text);
        };
        std::printf("| %s | %s | %s | %s |\n", size_label(size).c_str(), rate(copy).c_str(), rate(save).c_str(), rate(restore).c_str());
        for (std::size_t e = 0; e < entries; ++e) pool.erase(e);
    }
}

// Latency of placing one entry (save + erase of 256 B) against malloc + memcpy + free, with
// the pool empty and with 1000 live entries fragmenting its free list.
void allocation_latency(bool quick) {
    std::printf("\n### Allocation latency: pool save+erase vs malloc+memcpy+free (ns per operation, wall | thread CPU)\n\n");
    std::printf("| entry size | live entries | malloc+memcpy+free | pool save+erase |\n|---|---|---|---|\n");
    host_backend backend;
    auto created = checkpoint_pool::create(backend, 64_MiB);
    if (!created) die(created.err());
    checkpoint_pool& pool = **created;
    const std::size_t operations = quick ? 10000 : 200000;
    for (std::size_t size : {std::size_t{256}, std::size_t{4096}}) {
        for (std::size_t live : {std::size_t{0}, std::size_t{1000}}) {
            std::vector<void*> held;
            for (std::size_t i = 0; i < live; ++i) held.push_back(std::malloc(size * (1 + i % 3)));
            std::vector<unsigned char> source(size, 1);
            for (std::size_t i = 0; i < 2 * live; ++i) (void)pool.save(1000000 + i, source.data(), bytes{size * (1 + i % 3)});
            for (std::size_t i = 0; i < 2 * live; i += 2) pool.erase(1000000 + i);  // holes between survivors
            volatile unsigned char sink = 0;
            const timing with_malloc = best_of(7, [&] {
                for (std::size_t op = 0; op < operations; ++op) {
                    auto* block = static_cast<unsigned char*>(std::malloc(size));
                    std::memcpy(block, source.data(), size);
                    sink = sink + block[op % size];
                    std::free(block);
                }
            });
            const timing with_pool = best_of(7, [&] {
                for (std::size_t op = 0; op < operations; ++op) {
                    if (!pool.save(7, source.data(), bytes{size})) die(error(errc::backend_error, "save failed"));
                    pool.erase(7);
                }
            });
            const auto per_op = [operations](const timing& t) {
                char text[64];
                std::snprintf(text, sizeof text, "%.0f \\| %.0f", t.wall_seconds / static_cast<double>(operations) * 1e9,
                              t.cpu_seconds / static_cast<double>(operations) * 1e9);
                return std::string(text);
            };
            std::printf("| %s | %zu | %s | %s |\n", size_label(size).c_str(), live, per_op(with_malloc).c_str(), per_op(with_pool).c_str());
            for (void* block : held) std::free(block);
            for (std::size_t i = 1; i < 2 * live; i += 2) pool.erase(1000000 + i);
        }
    }
}

// Device-to-device: pool save/restore against a bare cudaMemcpyAsync of the same bytes.
void cuda_throughput(bool quick) {
    std::printf("\n### CUDA backend: save/restore vs cudaMemcpyAsync, device to device (GB/s, wall)\n\n");
    auto devices = cuda_device_count();
    if (!devices) {
        std::printf("SKIP: %s\n", std::string(devices.err().message()).c_str());
        return;
    }
    auto backend = cuda_backend::create(0);
    if (!backend) die(backend.err());
    const std::size_t budget = 1u << 30;
    auto created = checkpoint_pool::create(**backend, bytes{budget});
    if (!created) die(created.err());
    checkpoint_pool& pool = **created;
    auto stream = cuda::create_stream();
    if (!stream) die(stream.err());
    std::printf("| entry size | cudaMemcpyAsync | pool save | pool restore |\n|---|---|---|---|\n");
    for (std::size_t size : {std::size_t{64} << 10, std::size_t{1} << 20, std::size_t{16} << 20, std::size_t{64} << 20}) {
        const std::size_t entries = std::min<std::size_t>(budget / size / 2, 16);
        const std::size_t rounds = quick ? 1 : std::max<std::size_t>(1, (std::size_t{1} << 30) / (size * entries));
        auto source = cuda::device_allocate(bytes{size}), target = cuda::device_allocate(bytes{size});
        auto plain = cuda::device_allocate(bytes{size * entries});
        if (!source || !target || !plain) die(error(errc::backend_error, "device allocation failed"));
        const double moved = static_cast<double>(size) * static_cast<double>(entries * rounds);
        // Per round: enqueue one copy per entry, then wait — the same shape for both sides.
        const timing copy = best_of(5, [&] {
            for (std::size_t r = 0; r < rounds; ++r) {
                for (std::size_t e = 0; e < entries; ++e)
                    if (!cuda::copy_async(static_cast<unsigned char*>(*plain) + e * size, *source, bytes{size}, *stream))
                        die(error(errc::backend_error, "cudaMemcpyAsync failed"));
                (void)cuda::synchronize(*stream);
            }
        });
        const timing save = best_of(5, [&] {
            for (std::size_t r = 0; r < rounds; ++r) {
                for (std::size_t e = 0; e < entries; ++e)
                    if (!pool.save(e, *source, bytes{size}, *stream)) die(error(errc::backend_error, "save failed"));
                (void)pool.synchronize();
            }
        });
        const timing restore = best_of(5, [&] {
            for (std::size_t r = 0; r < rounds; ++r) {
                for (std::size_t e = 0; e < entries; ++e)
                    if (!pool.restore(e, *target, *stream)) die(error(errc::backend_error, "restore failed"));
                (void)pool.synchronize();
            }
        });
        const auto rate = [moved](const timing& t) {
            char text[32];
            std::snprintf(text, sizeof text, "%.1f", moved / t.wall_seconds / 1e9);
            return std::string(text);
        };
        std::printf("| %s | %s | %s | %s |\n", size_label(size).c_str(), rate(copy).c_str(), rate(save).c_str(), rate(restore).c_str());
        for (std::size_t e = 0; e < entries; ++e) pool.erase(e);
        cuda::device_free(*source);
        cuda::device_free(*target);
        cuda::device_free(*plain);
    }
    cuda::destroy_stream(*stream);
}

} // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
    host_throughput(quick);
    allocation_latency(quick);
    cuda_throughput(quick);
    return 0;
}
