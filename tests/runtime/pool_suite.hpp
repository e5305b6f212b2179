// The checkpoint-pool suite, independent of the backend: each test program defines
// make_backend() (host, CUDA) and includes this once. Source and destination buffers are host
// memory, which every backend accepts (the CUDA backend copies with cudaMemcpyDefault).
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "vramfit/runtime/checkpoint/pool.hpp"

namespace pool_suite {

using namespace vramfit;
using namespace vramfit::runtime;

std::unique_ptr<memory_backend> make_backend();  // defined by each test program

inline std::vector<unsigned char> pattern(std::size_t size, unsigned seed) {
    std::vector<unsigned char> data(size);
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<unsigned char>((i * 131 + seed * 7919 + 17) & 0xFF);
    return data;
}

// Restores `key` and compares it with `expected`.
inline bool holds(checkpoint_pool& pool, checkpoint_key key, const std::vector<unsigned char>& expected) {
    std::vector<unsigned char> out(expected.size(), 0);
    auto restored = pool.restore(key, out.data());
    if (!restored || *restored != bytes{expected.size()}) return false;
    if (!pool.synchronize()) return false;
    return out == expected;
}

inline std::unique_ptr<checkpoint_pool> make_pool(memory_backend& backend, bytes budget) {
    auto pool = checkpoint_pool::create(backend, budget);
    REQUIRE_MESSAGE(pool.ok(), pool.err().describe());
    return std::move(*pool);
}

TEST_CASE("save and restore round-trip with exact statistics") {
    auto backend = make_backend();
    auto pool = make_pool(*backend, 64_KiB);
    const auto first = pattern(1000, 1), second = pattern(5000, 2);
    auto saved = pool->save(7, first.data(), bytes{first.size()});
    REQUIRE(saved.ok());
    CHECK(*saved == bytes{1024});  // 256-byte alignment
    REQUIRE(pool->save(8, second.data(), bytes{second.size()}).ok());
    CHECK(pool->contains(7));
    CHECK_FALSE(pool->contains(9));
    CHECK(holds(*pool, 7, first));
    CHECK(holds(*pool, 8, second));
    const auto stats = pool->statistics();
    CHECK(stats.budget == 64_KiB);
    CHECK(stats.current == bytes{1024 + 5120});
    CHECK(stats.peak == bytes{1024 + 5120});
    CHECK(stats.total_saved == bytes{6000});
    CHECK(stats.total_restored == bytes{6000});
    CHECK(stats.saves == 2);
    CHECK(stats.restores == 2);
    CHECK(stats.hits == 2);
    CHECK(stats.misses == 0);
    CHECK(stats.entries == 2);
    CHECK(stats.largest_free_block == 64_KiB - bytes{1024 + 5120});
}

TEST_CASE("a miss is counted and named") {
    auto backend = make_backend();
    auto pool = make_pool(*backend, 4_KiB);
    std::vector<unsigned char> out(16);
    auto missing = pool->restore(42, out.data());
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.err().code() == errc::unknown_key);
    CHECK(missing.err().message().find("42") != std::string_view::npos);
    CHECK(pool->statistics().misses == 1);
    CHECK(pool->statistics().hits == 0);
    CHECK_FALSE(pool->pin(42));
    CHECK_FALSE(pool->unpin(42));
    CHECK_FALSE(pool->erase(42));
}

TEST_CASE("overwriting a key replaces its value and its size") {
    auto backend = make_backend();
    auto pool = make_pool(*backend, 8_KiB);
    const auto small = pattern(300, 3), large = pattern(3000, 4);
    REQUIRE(pool->save(1, small.data(), bytes{small.size()}).ok());
    REQUIRE(pool->pin(1));
    REQUIRE(pool->save(1, large.data(), bytes{large.size()}).ok());
    CHECK(holds(*pool, 1, large));
    const auto stats = pool->statistics();
    CHECK(stats.current == bytes{3072});
    CHECK(stats.peak == bytes{512 + 3072});
    CHECK(stats.entries == 1);
    CHECK(stats.pinned_entries == 1);  // the pin belongs to the key
    // A full-budget overwrite reuses the old entry's space.
    const auto whole = pattern(8192, 5);
    REQUIRE(pool->save(1, whole.data(), bytes{whole.size()}).ok());
    CHECK(holds(*pool, 1, whole));
}

TEST_CASE("LRU eviction spares recently used and pinned entries") {
    auto backend = make_backend();
    auto pool = make_pool(*backend, 4_KiB);
    std::vector<std::vector<unsigned char>> data;
    for (unsigned k = 0; k < 4; ++k) {
        data.push_back(pattern(1024, k));
        REQUIRE(pool->save(k, data[k].data(), 1_KiB).ok());
    }
    CHECK(holds(*pool, 0, data[0]));  // 0 becomes most recent; 1 is now least recent
    REQUIRE(pool->pin(1));            // … but pinned, so 2 goes
    const auto fresh = pattern(1024, 9);
    REQUIRE(pool->save(4, fresh.data(), 1_KiB).ok());
    CHECK(pool->contains(0));
    CHECK(pool->contains(1));
    CHECK_FALSE(pool->contains(2));
    CHECK(pool->contains(3));
    const auto stats = pool->statistics();
    CHECK(stats.evictions == 1);
    CHECK(stats.total_evicted == 1_KiB);
    CHECK(stats.current == 4_KiB);
    CHECK(holds(*pool, 1, data[1]));
    CHECK(holds(*pool, 3, data[3]));
    CHECK(holds(*pool, 4, fresh));
}

TEST_CASE("out of budget: nothing is evicted and the message names what blocks") {
    auto backend = make_backend();
    auto pool = make_pool(*backend, 4_KiB);
    std::vector<unsigned char> block = pattern(1024, 1);
    for (unsigned k = 0; k < 4; ++k) REQUIRE(pool->save(k, block.data(), 1_KiB).ok());
    REQUIRE(pool->pin(1));
    REQUIRE(pool->pin(2));
    // 3 KiB contiguous would need 1 or 2 gone: impossible while they are pinned.
    const auto big = pattern(3 * 1024, 2);
    auto refused = pool->save(99, big.data(), 3_KiB);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.err().code() == errc::out_of_budget);
    const std::string message(refused.err().message());
    CHECK(message.find("checkpoint 99") != std::string::npos);
    CHECK(message.find("3072 B") != std::string::npos);
    CHECK(message.find("budget 4.00 KiB (4096 B)") != std::string::npos);
    CHECK(message.find("in use 4.00 KiB (4096 B)") != std::string::npos);
    CHECK(message.find("largest free block 0 B") != std::string::npos);
    CHECK(message.find("2 pinned entries (keys 1 2)") != std::string::npos);
    const auto stats = pool->statistics();
    CHECK(stats.entries == 4);       // no entry lost to a save that could not succeed
    CHECK(stats.evictions == 0);
    CHECK(stats.failed_saves == 1);
    CHECK(stats.saves == 4);
    auto too_large = pool->save(100, big.data(), 5_KiB);
    CHECK(too_large.err().code() == errc::too_large_for_budget);
    CHECK(pool->statistics().failed_saves == 2);
}

TEST_CASE("freed neighbours coalesce; fragmentation is resolved by evicting until one block fits") {
    auto backend = make_backend();
    auto pool = make_pool(*backend, 4_KiB);
    std::vector<unsigned char> block = pattern(1024, 1);
    for (unsigned k = 0; k < 4; ++k) REQUIRE(pool->save(k, block.data(), 1_KiB).ok());
    REQUIRE(pool->erase(1));
    REQUIRE(pool->erase(2));
    CHECK(pool->statistics().largest_free_block == 2_KiB);
    const auto two = pattern(2048, 5);
    REQUIRE(pool->save(10, two.data(), 2_KiB).ok());  // fits the merged hole: no eviction
    CHECK(pool->statistics().evictions == 0);
    CHECK(holds(*pool, 10, two));
    // Now free the ends: two 1 KiB holes that are not adjacent.
    REQUIRE(pool->erase(0));
    REQUIRE(pool->erase(3));
    CHECK(pool->statistics().largest_free_block == 1_KiB);
    const auto three = pattern(3072, 6);
    REQUIRE(pool->save(11, three.data(), 3_KiB).ok());
    CHECK(pool->statistics().evictions == 1);
    CHECK_FALSE(pool->contains(10));
    CHECK(holds(*pool, 11, three));
}

TEST_CASE("peak can be reset; the budget rounds down to 256 bytes") {
    auto backend = make_backend();
    auto pool = make_pool(*backend, bytes{4096 + 100});
    CHECK(pool->budget() == 4_KiB);
    const auto data = pattern(2048, 1);
    REQUIRE(pool->save(1, data.data(), 2_KiB).ok());
    REQUIRE(pool->erase(1));
    CHECK(pool->statistics().peak == 2_KiB);
    pool->reset_peak();
    CHECK(pool->statistics().peak == 0_B);
    CHECK(checkpoint_pool::create(*backend, bytes{100}).err().code() == errc::invalid_argument);
    CHECK(pool->save(2, nullptr, 1_KiB).err().code() == errc::invalid_argument);
    CHECK(pool->save(2, data.data(), 0_B).err().code() == errc::invalid_argument);
}

TEST_CASE("random operations agree with a reference model") {
    auto backend = make_backend();
    auto pool = make_pool(*backend, 64_KiB);
    std::mt19937 random(12345);
    std::map<checkpoint_key, std::vector<unsigned char>> reference;
    std::uint64_t saves = 0, evicted_or_erased = 0;
    for (unsigned round = 0; round < 3000; ++round) {
        const checkpoint_key key = random() % 40;
        switch (random() % 4) {
            case 0:
            case 1: {
                const auto data = pattern(1 + random() % 9000, round);
                auto saved = pool->save(key, data.data(), bytes{data.size()});
                REQUIRE(saved.ok());  // nothing is pinned, so a save always fits
                reference[key] = data;
                ++saves;
                break;
            }
            case 2:
                if (pool->contains(key)) { REQUIRE(reference.count(key)); CHECK(holds(*pool, key, reference[key])); }
                break;
            case 3:
                if (pool->erase(key)) ++evicted_or_erased;
                reference.erase(key);
                break;
        }
        // Whatever the pool still holds must hold the latest value.
        for (auto it = reference.begin(); it != reference.end();) {
            if (!pool->contains(it->first)) it = reference.erase(it);
            else ++it;
        }
    }
    const auto stats = pool->statistics();
    CHECK(stats.saves == saves);
    CHECK(stats.entries == reference.size());
    std::uint64_t in_use = 0;
    for (const auto& [key, data] : reference) {
        in_use += (data.size() + 255) / 256 * 256;
        CHECK(holds(*pool, key, data));
    }
    CHECK(stats.current == bytes{in_use});
    CHECK(stats.peak <= 64_KiB);
    CHECK(stats.evictions > 0);
}

} // namespace pool_suite
