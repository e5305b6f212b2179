// vramfit/runtime/checkpoint_pool.hpp — activation checkpoints kept in one fixed memory budget.
//
// The budget is reserved once from a backend (one cudaMalloc on a GPU) and suballocated with a
// coalescing, address-ordered free list at 256-byte alignment (RMM's pool_memory_resource and
// coalescing_free_list are the model). Saves and
// restores are asynchronous copies on the caller's stream; each entry carries a completion
// event, and an entry with a copy in flight is never evicted or overwritten. When a save does
// not fit, least-recently-used entries that are neither pinned nor busy are evicted until one
// contiguous block fits — but only if evicting all of them would make it fit, so a save that
// must fail evicts nothing. If only entries still being copied stand in the way, the save
// waits for those copies first (pool_options::wait_for_copies_in_flight). All members are thread-safe (one mutex, as in RMM's pool and CUB).
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vramfit/runtime/checkpoint/backend.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::runtime {

using checkpoint_key = std::uint64_t;

// RMM statistics_resource_adaptor's {current, peak, total} plus PyTorch-style event counts.
struct pool_statistics {
    bytes budget{};
    bytes current{};               // bytes held by entries (256-aligned sizes)
    bytes peak{};                  // highest `current` since creation or reset_peak()
    bytes total_saved{};           // bytes copied in by successful saves (requested sizes)
    bytes total_restored{};
    bytes total_evicted{};
    bytes largest_free_block{};
    std::uint64_t saves = 0;
    std::uint64_t restores = 0;    // successful restores (= hits that copied)
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;      // restores of keys not in the pool
    std::uint64_t evictions = 0;
    std::uint64_t failed_saves = 0;
    std::uint64_t entries = 0;
    std::uint64_t pinned_entries = 0;
};

struct pool_options {
    // When a save fits only if entries with a copy still in flight were evicted, or overwrites
    // such an entry, wait for those copies (blocking the calling thread); false: fail with
    // out_of_budget or busy instead. Either way, no entry is evicted or overwritten while its
    // copy is in flight.
    bool wait_for_copies_in_flight = true;
};

class checkpoint_pool {
public:
    static constexpr std::uint64_t alignment = 256;  // cudaMalloc's guarantee; RMM's minimum

    // Reserves `budget` (rounded down to 256 bytes) from `backend`, which must outlive the pool.
    static result<std::unique_ptr<checkpoint_pool>> create(memory_backend& backend, bytes budget, pool_options options = {});
    ~checkpoint_pool();
    checkpoint_pool(const checkpoint_pool&) = delete;
    checkpoint_pool& operator=(const checkpoint_pool&) = delete;

    // Copies `size` bytes from `source` into the pool on `stream`. Replaces an idle entry with
    // the same key, keeping its pin (the old copy stays until the new one is placed, unless only
    // its own space makes room); if that entry has a copy in flight, waits for it (or fails with
    // `busy` when pool_options::wait_for_copies_in_flight is off). Returns the bytes the entry
    // occupies.
    result<bytes> save(checkpoint_key key, const void* source, bytes size, stream_handle stream = nullptr);
    // Copies the entry into `destination` on `stream`, after any save of it still in flight.
    // Returns the entry's size. The entry stays (use erase to drop it).
    result<bytes> restore(checkpoint_key key, void* destination, stream_handle stream = nullptr);
    [[nodiscard]] bool contains(checkpoint_key key) const;
    [[nodiscard]] bool is_busy(checkpoint_key key) const;  // a copy of it is in flight
    bool pin(checkpoint_key key);    // pinned entries are never evicted; false if unknown
    bool unpin(checkpoint_key key);
    // Drops the entry, first waiting for any copy of it in flight. False if unknown.
    bool erase(checkpoint_key key);
    // Waits for every copy in flight.
    result<void> synchronize();

    [[nodiscard]] pool_statistics statistics() const;
    void reset_peak();
    [[nodiscard]] bytes budget() const noexcept { return budget_; }
    [[nodiscard]] std::string_view backend_name() const noexcept { return backend_.name(); }

private:
    struct entry {
        std::uint64_t offset = 0;
        std::uint64_t footprint = 0;  // aligned size held
        std::uint64_t size = 0;       // requested size
        event_handle done = nullptr;
        bool pinned = false;
        std::list<checkpoint_key>::iterator recency;
    };

    checkpoint_pool(memory_backend& backend, void* base, bytes budget, pool_options options);

    // All private members expect mutex_ to be held.
    bool busy(const entry& item);
    std::uint64_t largest_free() const;
    void add_free(std::uint64_t offset, std::uint64_t size);
    void remove_free(std::map<std::uint64_t, std::uint64_t>::iterator block);
    bool find_block(std::uint64_t footprint, std::uint64_t& offset);
    void free_block(std::uint64_t offset, std::uint64_t footprint);
    bool could_fit_after_evicting(std::uint64_t footprint, checkpoint_key replaced, bool count_replaced, bool count_busy);
    void wait_for_unpinned(checkpoint_key spared);
    result<event_handle> take_event();
    void recycle_event(event_handle event);
    void drop(std::unordered_map<checkpoint_key, entry>::iterator position);
    std::string budget_report(checkpoint_key key, std::uint64_t size) const;

    memory_backend& backend_;
    void* base_ = nullptr;
    bytes budget_{};
    pool_options options_{};
    mutable std::mutex mutex_;
    std::map<std::uint64_t, std::uint64_t> free_blocks_;  // offset -> size, address-ordered, coalesced
    std::set<std::pair<std::uint64_t, std::uint64_t>> blocks_by_size_;  // (size, offset): best fit in O(log n)
    std::unordered_map<checkpoint_key, entry> entries_;
    std::list<checkpoint_key> recency_;                   // front: most recently used
    std::vector<event_handle> spare_events_;              // reused: no event creation on the hot path
    pool_statistics stats_{};
};

} // namespace vramfit::runtime
