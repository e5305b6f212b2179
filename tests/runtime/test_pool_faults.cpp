// Injected failures and copies held in flight: the pool loses no other entry and its
// statistics stay true.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "vramfit/runtime/checkpoint/pool.hpp"
#include "vramfit/runtime/checkpoint/fault_backend.hpp"

using namespace vramfit;
using namespace vramfit::runtime;

namespace {
std::vector<unsigned char> pattern(std::size_t size, unsigned seed) {
    std::vector<unsigned char> data(size);
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<unsigned char>((i * 31 + seed * 101 + 3) & 0xFF);
    return data;
}
bool holds(checkpoint_pool& pool, checkpoint_key key, const std::vector<unsigned char>& expected) {
    std::vector<unsigned char> out(expected.size());
    auto restored = pool.restore(key, out.data());
    return restored.ok() && out == expected;
}
std::unique_ptr<checkpoint_pool> make_pool(memory_backend& backend, bytes budget, pool_options options = {}) {
    auto pool = checkpoint_pool::create(backend, budget, options);
    REQUIRE(pool.ok());
    return std::move(*pool);
}
} // namespace

TEST_CASE("a failed reservation is a clear error, not a pool") {
    fault_backend backend;
    backend.fail_next_reserves(1);
    auto pool = checkpoint_pool::create(backend, 1_MiB);
    REQUIRE_FALSE(pool.ok());
    CHECK(pool.err().code() == errc::backend_error);
    CHECK(pool.err().message().find("reserving 1.00 MiB (1048576 B)") != std::string_view::npos);
    CHECK(pool.err().message().find("injected reservation failure") != std::string_view::npos);
    CHECK(checkpoint_pool::create(backend, 1_MiB).ok());  // the next one succeeds
}

TEST_CASE("the runtime reports the core's error type, with checked access") {
    fault_backend backend;
    backend.fail_next_reserves(1);
    auto pool = checkpoint_pool::create(backend, 1_MiB);
    CHECK(std::is_same_v<decltype(pool), vramfit::result<std::unique_ptr<checkpoint_pool>>>);
    REQUIRE_FALSE(pool.ok());
    CHECK(to_string(pool.err().code()) == "backend error");
    CHECK(pool.err().describe() == pool.err().message());  // no byte offset: the message alone
    CHECK_THROWS_AS((void)pool.value(), vramfit::bad_result_access);
    auto ok = make_pool(backend, 8_KiB);
    const vramfit::result<void> synced = ok->synchronize();
    CHECK(synced.ok());
}

TEST_CASE("a failed copy or event loses no entry and counts one failed save") {
    fault_backend backend;
    auto pool = make_pool(backend, 8_KiB);
    const auto a = pattern(1000, 1), b = pattern(2000, 2), replacement = pattern(500, 3), c = pattern(700, 4);
    REQUIRE(pool->save(1, a.data(), bytes{a.size()}).ok());
    REQUIRE(pool->save(2, b.data(), bytes{b.size()}).ok());
    const auto before = pool->statistics();

    backend.fail_next_events(1);  // no spare event yet: the pool must ask the backend
    auto no_event = pool->save(3, c.data(), bytes{c.size()});
    REQUIRE_FALSE(no_event.ok());
    CHECK(no_event.err().message().find("no completion event") != std::string_view::npos);
    backend.fail_next_copies(1);
    auto failed = pool->save(2, replacement.data(), bytes{replacement.size()});  // overwrite that fails
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.err().code() == errc::backend_error);
    CHECK(failed.err().message().find("injected copy failure") != std::string_view::npos);

    const auto after = pool->statistics();
    CHECK(after.failed_saves == before.failed_saves + 2);
    CHECK(after.saves == before.saves);
    CHECK(after.current == before.current);
    CHECK(after.entries == 2);
    CHECK(after.largest_free_block == before.largest_free_block);  // the block went back to the free list
    CHECK(holds(*pool, 1, a));
    CHECK(holds(*pool, 2, b));  // the old value survives the failed overwrite
    CHECK_FALSE(pool->contains(3));
    // The pool still works afterwards.
    REQUIRE(pool->save(3, c.data(), bytes{c.size()}).ok());
    CHECK(holds(*pool, 3, c));
}

TEST_CASE("a failed restore copy keeps the entry and does not count a restore") {
    fault_backend backend;
    auto pool = make_pool(backend, 4_KiB);
    const auto a = pattern(1000, 1);
    REQUIRE(pool->save(1, a.data(), bytes{a.size()}).ok());
    backend.fail_next_copies(1);
    std::vector<unsigned char> out(a.size());
    CHECK(pool->restore(1, out.data()).err().code() == errc::backend_error);
    CHECK(pool->statistics().restores == 0);
    CHECK(holds(*pool, 1, a));
    CHECK(pool->statistics().restores == 1);
}

TEST_CASE("a failed copy after evictions loses only the evicted entries, and says so in the statistics") {
    fault_backend backend;
    auto pool = make_pool(backend, 4_KiB);
    const auto block = pattern(1024, 1);
    for (unsigned k = 0; k < 4; ++k) REQUIRE(pool->save(k, block.data(), 1_KiB).ok());
    const auto two = pattern(2048, 2);
    backend.fail_next_copies(1);
    REQUIRE_FALSE(pool->save(9, two.data(), 2_KiB).ok());
    const auto stats = pool->statistics();
    CHECK(stats.evictions == 2);  // LRU 0 and 1 made room before the copy failed
    CHECK(stats.entries == 2);
    CHECK(stats.current == 2_KiB);
    CHECK(stats.failed_saves == 1);
    CHECK(stats.largest_free_block == 2_KiB);
    CHECK(holds(*pool, 2, block));
    CHECK(holds(*pool, 3, block));
}

TEST_CASE("entries with a copy in flight are never evicted or overwritten") {
    fault_backend backend;
    auto created = checkpoint_pool::create(backend, 2_KiB, pool_options{.wait_for_copies_in_flight = false});
    REQUIRE(created.ok());
    auto& pool = *created;
    const auto a = pattern(1024, 1), b = pattern(1024, 2), big = pattern(2048, 3);
    REQUIRE(pool->save(1, a.data(), 1_KiB).ok());
    backend.hold_completions();
    REQUIRE(pool->save(2, b.data(), 1_KiB).ok());   // in flight
    CHECK(pool->is_busy(2));
    CHECK_FALSE(pool->is_busy(1));
    auto overwrite = pool->save(2, a.data(), 1_KiB);
    CHECK(overwrite.err().code() == errc::busy);
    auto evicting = pool->save(3, big.data(), 2_KiB);  // would need entry 2 gone
    CHECK(evicting.err().code() == errc::out_of_budget);
    CHECK(pool->contains(1));  // nothing evicted for a save that could not succeed
    CHECK(pool->contains(2));
    CHECK(pool->statistics().evictions == 0);
    CHECK(pool->statistics().failed_saves == 2);
    // A restore of an in-flight entry is ordered after its save and keeps it busy.
    std::vector<unsigned char> out(1024);
    REQUIRE(pool->restore(2, out.data()).ok());
    CHECK(out == b);
    CHECK(pool->is_busy(2));
    // erase waits for the copy.
    CHECK(pool->erase(2));
    CHECK(backend.waits() == 1);
    backend.release_completions();
    CHECK(pool->save(3, big.data(), 2_KiB).ok());  // now 1 is idle and evictable
    CHECK(pool->statistics().evictions == 1);
}

TEST_CASE("by default a save that needs a busy entry's space waits for its copy, then evicts it") {
    fault_backend backend;
    auto pool = make_pool(backend, 2_KiB);
    const auto a = pattern(1024, 1), b = pattern(1024, 2), big = pattern(2048, 3);
    REQUIRE(pool->pin(0) == false);
    backend.hold_completions();
    REQUIRE(pool->save(1, a.data(), 1_KiB).ok());
    REQUIRE(pool->save(2, b.data(), 1_KiB).ok());
    REQUIRE(pool->pin(2));
    // Only entry 1 can go, and its copy is in flight: still impossible for 2 KiB (2 is pinned).
    CHECK(pool->save(3, big.data(), 2_KiB).err().code() == errc::out_of_budget);
    CHECK(backend.waits() == 0);  // nothing waited for when waiting cannot help
    REQUIRE(pool->unpin(2));
    REQUIRE(pool->save(3, big.data(), 2_KiB).ok());
    CHECK(backend.waits() == 2);  // both copies finished before their entries were evicted
    REQUIRE(pool->save(3, a.data(), 1_KiB).ok());  // overwriting an entry in flight waits for it
    CHECK(backend.waits() == 3);
    const auto stats = pool->statistics();
    CHECK(stats.evictions == 2);
    CHECK(stats.entries == 1);
    backend.release_completions();
    CHECK(holds(*pool, 3, a));
}

TEST_CASE("completion events are reused: none is created on the hot path once warm") {
    fault_backend backend;
    {
        auto pool = make_pool(backend, 16_KiB);
        const auto a = pattern(1024, 1);
        for (unsigned round = 0; round < 1000; ++round) {
            REQUIRE(pool->save(round % 8, a.data(), 1_KiB).ok());
            if (round % 3 == 0) pool->erase((round + 5) % 8);
        }
        CHECK(backend.live_events() <= 9);
    }
    CHECK(backend.live_events() == 0);  // the pool destroys what it created
}
