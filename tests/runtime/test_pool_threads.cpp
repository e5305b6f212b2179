// Concurrent savers, restorers and erasers on one pool (run under ThreadSanitizer in
// tests/ci.d/sanitizers.sh). Each value carries its key and version, so a restore that
// returns bytes from another entry, or a torn copy, is caught.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "vramfit/runtime/checkpoint/pool.hpp"

using namespace vramfit;
using namespace vramfit::runtime;

namespace {
std::vector<std::uint32_t> stamp(std::uint64_t key, std::uint32_t version, std::size_t words) {
    std::vector<std::uint32_t> data(words);
    for (std::size_t i = 0; i < words; ++i) data[i] = static_cast<std::uint32_t>(key * 1000003u) ^ (version * 7919u) ^ static_cast<std::uint32_t>(i);
    return data;
}
} // namespace

TEST_CASE("concurrent savers keep every entry intact and the counters exact") {
    host_backend backend;
    auto created = checkpoint_pool::create(backend, 32_KiB);  // smaller than one thread's live set: evictions are certain
    REQUIRE(created.ok());
    checkpoint_pool& pool = **created;
    constexpr unsigned threads = 4, rounds = 3000;
    std::atomic<std::uint64_t> saves{0}, restores{0}, misses{0}, failures{0}, corrupt{0};
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            std::vector<std::uint32_t> versions(16, 0);
            for (unsigned round = 0; round < rounds; ++round) {
                const std::uint64_t local = (round * 7 + t) % 16;
                const std::uint64_t key = t * 100 + local;  // each thread owns its keys
                const std::size_t words = 64 + (round * 37 + t * 11) % 2000;
                switch (round % 5) {
                    case 0: case 1: case 2: {
                        const auto data = stamp(key, ++versions[local], words);
                        auto saved = pool.save(key, data.data(), bytes{words * 4});
                        if (saved) ++saves; else ++failures;
                        if (round % 50 == 0 && saved && words < 500) { pool.pin(key); pool.unpin(key); }  // small: pins never block a save
                        break;
                    }
                    case 3: {
                        std::vector<std::uint32_t> out(2100, 0);
                        auto restored = pool.restore(key, out.data());
                        if (!restored) { ++misses; break; }
                        ++restores;
                        const std::size_t got = restored->count() / 4;
                        const auto expected = stamp(key, versions[local], got);
                        if (std::memcmp(out.data(), expected.data(), got * 4) != 0) ++corrupt;
                        break;
                    }
                    case 4:
                        pool.erase(key);
                        (void)pool.statistics();
                        break;
                }
            }
        });
    }
    for (auto& worker : workers) worker.join();
    const auto stats = pool.statistics();
    CHECK(corrupt.load() == 0);
    CHECK(failures.load() == 0);
    CHECK(stats.saves == saves.load());
    CHECK(stats.restores == restores.load());
    CHECK(stats.misses == misses.load());
    CHECK(stats.failed_saves == 0);
    CHECK(stats.pinned_entries == 0);
    CHECK(stats.current <= pool.budget());
    CHECK(stats.entries <= threads * 16);
    CHECK(stats.evictions > 0);  // eviction ran concurrently with saves and restores
}
