// checkpoint_pool.cpp — see vramfit/runtime/checkpoint_pool.hpp for the contract.
#include "vramfit/core/format.hpp"
#include "vramfit/runtime/checkpoint/pool.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace vramfit::runtime {

namespace {
std::uint64_t align_up(std::uint64_t size) {
    return (size + checkpoint_pool::alignment - 1) / checkpoint_pool::alignment * checkpoint_pool::alignment;
}
std::string describe_size(std::uint64_t size) {
    return format_bytes(bytes{size}) + " (" + std::to_string(size) + " B)";
}
} // namespace

result<std::unique_ptr<checkpoint_pool>> checkpoint_pool::create(memory_backend& backend, bytes budget, pool_options options) {
    const std::uint64_t usable = budget.count() / alignment * alignment;
    if (usable == 0)
        return error(errc::invalid_argument,
                     "checkpoint pool: budget " + describe_size(budget.count()) + " is smaller than one 256-byte block");
    auto base = backend.reserve(bytes{usable});
    if (!base)
        return error(base.err().code(), "checkpoint pool: reserving " + describe_size(usable) + " on the "
                                            + std::string(backend.name()) + " backend failed: " + std::string(base.err().message()));
    return std::unique_ptr<checkpoint_pool>(new checkpoint_pool(backend, *base, bytes{usable}, options));
}

checkpoint_pool::checkpoint_pool(memory_backend& backend, void* base, bytes budget, pool_options options)
    : backend_(backend), base_(base), budget_(budget), options_(options) {
    add_free(0, budget.count());
    stats_.budget = budget;
}

checkpoint_pool::~checkpoint_pool() {
    std::lock_guard lock(mutex_);
    for (auto& [key, item] : entries_) {
        if (!backend_.is_complete(item.done)) (void)backend_.wait(item.done);
        backend_.destroy_event(item.done);
    }
    for (event_handle event : spare_events_) backend_.destroy_event(event);
    backend_.release(base_, budget_);
}

bool checkpoint_pool::busy(const entry& item) { return !backend_.is_complete(item.done); }

std::uint64_t checkpoint_pool::largest_free() const {
    return blocks_by_size_.empty() ? 0 : blocks_by_size_.rbegin()->first;
}

void checkpoint_pool::add_free(std::uint64_t offset, std::uint64_t size) {
    free_blocks_.emplace(offset, size);
    blocks_by_size_.emplace(size, offset);
}

void checkpoint_pool::remove_free(std::map<std::uint64_t, std::uint64_t>::iterator block) {
    blocks_by_size_.erase({block->second, block->first});
    free_blocks_.erase(block);
}

// Best fit, O(log n): the smallest free block that holds `footprint` (keeps large blocks whole),
// the lowest address among equals.
bool checkpoint_pool::find_block(std::uint64_t footprint, std::uint64_t& offset) {
    const auto best = blocks_by_size_.lower_bound({footprint, 0});
    if (best == blocks_by_size_.end()) return false;
    offset = best->second;
    const std::uint64_t rest = best->first - footprint;
    remove_free(free_blocks_.find(offset));
    if (rest != 0) add_free(offset + footprint, rest);
    return true;
}

// Returns a block to the free list, merging it with free neighbours on either side.
void checkpoint_pool::free_block(std::uint64_t offset, std::uint64_t footprint) {
    auto next = free_blocks_.lower_bound(offset);
    std::uint64_t start = offset, size = footprint;
    if (next != free_blocks_.begin()) {
        auto previous = std::prev(next);
        if (previous->first + previous->second == offset) {
            start = previous->first;
            size += previous->second;
            remove_free(previous);
        }
    }
    if (next != free_blocks_.end() && offset + footprint == next->first) {
        size += next->second;
        remove_free(next);
    }
    add_free(start, size);
}

// Would a contiguous block of `footprint` exist if every evictable entry were gone? The entry
// `replaced` (the key being overwritten, idle) counts as free when `count_replaced` is set;
// entries with a copy in flight count when `count_busy` is set (they can be waited for).
bool checkpoint_pool::could_fit_after_evicting(std::uint64_t footprint, checkpoint_key replaced, bool count_replaced,
                                               bool count_busy) {
    std::map<std::uint64_t, std::uint64_t> space = free_blocks_;
    for (auto& [key, item] : entries_) {
        const bool evictable = key == replaced ? count_replaced : !item.pinned && (count_busy || !busy(item));
        if (evictable) space.emplace(item.offset, item.footprint);
    }
    std::uint64_t run_start = 0, run_size = 0;
    for (const auto& [offset, size] : space) {
        if (run_size != 0 && run_start + run_size == offset) run_size += size;
        else { run_start = offset; run_size = size; }
        if (run_size >= footprint) return true;
    }
    return false;
}

// Blocks until every unpinned entry but `spared` has no copy in flight.
void checkpoint_pool::wait_for_unpinned(checkpoint_key spared) {
    for (auto& [key, item] : entries_)
        if (key != spared && !item.pinned && busy(item)) (void)backend_.wait(item.done);
}

result<event_handle> checkpoint_pool::take_event() {
    if (!spare_events_.empty()) {
        event_handle event = spare_events_.back();
        spare_events_.pop_back();
        return event;
    }
    return backend_.create_event();
}

void checkpoint_pool::recycle_event(event_handle event) { spare_events_.push_back(event); }

void checkpoint_pool::drop(std::unordered_map<checkpoint_key, entry>::iterator position) {
    entry& item = position->second;
    free_block(item.offset, item.footprint);
    recycle_event(item.done);
    recency_.erase(item.recency);
    stats_.current -= bytes{item.footprint};
    if (item.pinned) --stats_.pinned_entries;
    --stats_.entries;
    entries_.erase(position);
}

// PyTorch's out-of-memory message is the model: what was asked, what exists, what blocks it.
std::string checkpoint_pool::budget_report(checkpoint_key key, std::uint64_t size) const {
    std::string text = "cannot save checkpoint " + std::to_string(key) + " of " + describe_size(size) + ": budget "
        + describe_size(budget_.count()) + ", in use " + describe_size(stats_.current.count()) + " by "
        + std::to_string(entries_.size()) + " entries, largest free block " + describe_size(largest_free()) + "; "
        + std::to_string(stats_.pinned_entries) + " pinned entries";
    std::vector<checkpoint_key> pinned;
    for (const auto& [other, item] : entries_) if (item.pinned) pinned.push_back(other);
    std::sort(pinned.begin(), pinned.end());
    if (!pinned.empty()) {
        text += " (keys";
        for (std::size_t i = 0; i < pinned.size() && i < 16; ++i) {
            text += ' ';  // not `" " + to_string(...)`: GCC 12 -O3 reports a false -Wrestrict there
            text += std::to_string(pinned[i]);
        }
        if (pinned.size() > 16) text += " …";
        text += ")";
    }
    return text;
}

result<bytes> checkpoint_pool::save(checkpoint_key key, const void* source, bytes size, stream_handle stream) {
    std::lock_guard lock(mutex_);
    const auto fail = [this](errc code, std::string text) {
        ++stats_.failed_saves;
        return error(code, std::move(text));
    };
    if (source == nullptr) return fail(errc::invalid_argument, "checkpoint " + std::to_string(key) + ": null source");
    if (size == bytes{0}) return fail(errc::invalid_argument, "checkpoint " + std::to_string(key) + ": empty save");
    if (size > budget_)
        return fail(errc::too_large_for_budget, "checkpoint " + std::to_string(key) + " of " + describe_size(size.count())
                                                            + " exceeds the whole budget of " + describe_size(budget_.count()));
    const std::uint64_t footprint = align_up(size.count());
    auto existing = entries_.find(key);
    if (existing != entries_.end() && busy(existing->second)) {
        if (!options_.wait_for_copies_in_flight)
            return fail(errc::busy, "checkpoint " + std::to_string(key) + " has a copy in flight; it cannot be overwritten yet");
        (void)backend_.wait(existing->second.done);  // overwrite only once the old copy has landed
    }

    const bool was_pinned = existing != entries_.end() && existing->second.pinned;
    std::uint64_t offset = 0;
    if (!find_block(footprint, offset)) {
        // Cheapest way to make room first: idle entries, then (if allowed) entries whose copies
        // are still in flight, waited for; the key's own old copy only as a last resort.
        bool fits = could_fit_after_evicting(footprint, key, false, false);
        const bool may_wait = options_.wait_for_copies_in_flight;
        if (!fits && may_wait && could_fit_after_evicting(footprint, key, false, true)) {
            wait_for_unpinned(key);
            fits = true;
        }
        if (!fits && existing != entries_.end()) {
            if (!could_fit_after_evicting(footprint, key, true, false) && may_wait && could_fit_after_evicting(footprint, key, true, true))
                wait_for_unpinned(key);
            if (could_fit_after_evicting(footprint, key, true, false)) {
                drop(existing);  // the old copy must make room for the new one
                fits = true;
            }
        }
        if (!fits) return fail(errc::out_of_budget, budget_report(key, size.count()));
        // Evict least-recently-used idle, unpinned entries (never `key`) until a block fits.
        while (!find_block(footprint, offset)) {
            auto victim = recency_.end();
            for (auto it = recency_.rbegin(); it != recency_.rend(); ++it) {
                const entry& item = entries_.at(*it);
                if (*it != key && !item.pinned && !busy(item)) { victim = std::prev(it.base()); break; }
            }
            if (victim == recency_.end())  // cannot happen after could_fit_after_evicting, unless a copy started meanwhile
                return fail(errc::out_of_budget, budget_report(key, size.count()));
            auto position = entries_.find(*victim);
            ++stats_.evictions;
            stats_.total_evicted += bytes{position->second.footprint};
            drop(position);
        }
    }
    auto event = take_event();
    if (!event) {
        free_block(offset, footprint);
        return fail(errc::backend_error, "checkpoint " + std::to_string(key) + ": no completion event: "
                                                     + std::string(event.err().message()));
    }
    auto copied = backend_.copy(static_cast<std::byte*>(base_) + offset, source, size, stream, *event);
    if (!copied) {
        free_block(offset, footprint);
        recycle_event(*event);
        return fail(errc::backend_error, "checkpoint " + std::to_string(key) + ": copy of " + describe_size(size.count())
                                                     + " into the pool failed: " + std::string(copied.err().message()));
    }
    // Both copies exist until the old one is dropped: the peak sees them together.
    if (stats_.current + bytes{footprint} > stats_.peak) stats_.peak = stats_.current + bytes{footprint};
    existing = entries_.find(key);  // evictions may have rehashed the map
    if (existing != entries_.end()) drop(existing);  // idle, checked above; its block is free for reuse at once
    recency_.push_front(key);
    entry item;
    item.offset = offset;
    item.footprint = footprint;
    item.size = size.count();
    item.done = *event;
    item.pinned = was_pinned;
    item.recency = recency_.begin();
    entries_.emplace(key, item);
    ++stats_.entries;
    if (was_pinned) ++stats_.pinned_entries;
    stats_.current += bytes{footprint};
    if (stats_.current > stats_.peak) stats_.peak = stats_.current;
    ++stats_.saves;
    stats_.total_saved += size;
    return bytes{footprint};
}

result<bytes> checkpoint_pool::restore(checkpoint_key key, void* destination, stream_handle stream) {
    std::lock_guard lock(mutex_);
    auto position = entries_.find(key);
    if (position == entries_.end()) {
        ++stats_.misses;
        return error(errc::unknown_key, "no checkpoint " + std::to_string(key) + " in the pool");
    }
    ++stats_.hits;
    if (destination == nullptr)
        return error(errc::invalid_argument, "checkpoint " + std::to_string(key) + ": null destination");
    entry& item = position->second;
    if (busy(item)) {
        // The save (or an earlier restore) may be on another stream: order this copy after it.
        auto ordered = backend_.order_after(item.done, stream);
        if (!ordered)
            return error(errc::backend_error, "checkpoint " + std::to_string(key) + ": cannot order the restore after "
                                                          "its save: " + std::string(ordered.err().message()));
    }
    auto copied = backend_.copy(destination, static_cast<std::byte*>(base_) + item.offset, bytes{item.size}, stream, item.done);
    if (!copied)
        return error(errc::backend_error, "checkpoint " + std::to_string(key) + ": copy out of the pool failed: "
                                                      + std::string(copied.err().message()));
    recency_.splice(recency_.begin(), recency_, item.recency);
    ++stats_.restores;
    stats_.total_restored += bytes{item.size};
    return bytes{item.size};
}

bool checkpoint_pool::contains(checkpoint_key key) const {
    std::lock_guard lock(mutex_);
    return entries_.count(key) != 0;
}

bool checkpoint_pool::is_busy(checkpoint_key key) const {
    std::lock_guard lock(mutex_);
    auto position = entries_.find(key);
    return position != entries_.end() && !backend_.is_complete(position->second.done);
}

bool checkpoint_pool::pin(checkpoint_key key) {
    std::lock_guard lock(mutex_);
    auto position = entries_.find(key);
    if (position == entries_.end()) return false;
    if (!position->second.pinned) { position->second.pinned = true; ++stats_.pinned_entries; }
    return true;
}

bool checkpoint_pool::unpin(checkpoint_key key) {
    std::lock_guard lock(mutex_);
    auto position = entries_.find(key);
    if (position == entries_.end()) return false;
    if (position->second.pinned) { position->second.pinned = false; --stats_.pinned_entries; }
    return true;
}

bool checkpoint_pool::erase(checkpoint_key key) {
    std::lock_guard lock(mutex_);
    auto position = entries_.find(key);
    if (position == entries_.end()) return false;
    if (busy(position->second)) (void)backend_.wait(position->second.done);
    drop(position);
    return true;
}

result<void> checkpoint_pool::synchronize() {
    std::lock_guard lock(mutex_);
    for (auto& [key, item] : entries_) {
        if (busy(item)) {
            auto waited = backend_.wait(item.done);
            if (!waited)
                return error(errc::backend_error, "checkpoint " + std::to_string(key) + ": waiting for its copy failed: "
                                                              + std::string(waited.err().message()));
        }
    }
    return {};
}

pool_statistics checkpoint_pool::statistics() const {
    std::lock_guard lock(mutex_);
    pool_statistics snapshot = stats_;
    snapshot.largest_free_block = bytes{largest_free()};
    return snapshot;
}

void checkpoint_pool::reset_peak() {
    std::lock_guard lock(mutex_);
    stats_.peak = stats_.current;
}

} // namespace vramfit::runtime
