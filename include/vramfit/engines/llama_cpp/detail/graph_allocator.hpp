// vramfit/engines/llama_cpp/detail/graph_allocator.hpp — ggml's graph allocator, measured.
//
// Mirrors ggml/src/ggml-alloc.c (llama.cpp 1425386f, ggml 0.17.0) for one buffer type on one
// backend, which is what a CPU-only llama.cpp has:
//
//  * ggml_dyn_tallocr: a list of free blocks sorted by offset. An allocation (size rounded up
//    to the buffer alignment) takes the best-fitting block among all but the last one (the
//    smallest block that fits; on equal sizes the later one); only when none fits does it take
//    the last block, the open-ended tail that grows the buffer. max_size tracks the furthest
//    end ever used: that is the buffer size the backend allocates. Freed ranges merge with an
//    adjacent free block (the one they end before or start after, then with its neighbour),
//    otherwise they are inserted as a new block.
//    With the CPU buffer type's maximum size (SIZE_MAX) there is only ever one chunk.
//  * ggml_gallocr_alloc_graph_impl: leafs are allocated first, in leaf order; then a pass counts
//    each tensor's consumers (n_children) and views (n_views) and allocates graph inputs
//    (GGML_TENSOR_FLAG_INPUT) as it meets them; then, node by node: allocate the sources (no-op
//    unless a leaf was missed), allocate the node, and release every source whose last consumer
//    this was (a view releases its root when the root's last view and consumer are gone).
//  * ggml_gallocr_allocate_node: views and tensors with external memory take nothing. A node
//    whose op can work in place (ggml_op_can_inplace) reuses the memory of its first source that
//    the allocator owns, is not a graph output, has the same type, shape and strides, and has no
//    other consumer or view (the engine also has a branch for a source that is a view at offset 0
//    of its root, but views are never marked as owned, so it cannot be taken; it is mirrored
//    anyway). If the node is smaller, the tail is freed.
//  * ggml_gallocr_free_node: graph outputs are never freed.
//
// ggml_gallocr_reserve_buffers grows the buffer only when a reservation needs more, so after the
// pp, tg, pp reservations of llama_context::sched_reserve the reported size is the largest.
#pragma once

#include <cstdint>
#include <vector>

#include "vramfit/engines/llama_cpp/detail/compute_graph.hpp"

namespace vramfit::llama_cpp::detail {

// Alignment of the CPU buffer type: TENSOR_ALIGNMENT = 32 (ggml/src/ggml-impl.h), returned by the
// CPU buffer type's get_alignment (ggml/src/ggml-backend.cpp).
inline constexpr std::uint64_t compute_buffer_alignment = 32;

// ggml_dyn_tallocr for a single, unbounded chunk.
class dynamic_allocator {
public:
    constexpr explicit dynamic_allocator(std::uint64_t alignment) : alignment_(alignment) {
        // ggml_dyn_tallocr_new_chunk: one free block from 0 with the chunk's maximum size.
        blocks_.push_back({0, open_end});
    }

    [[nodiscard]] constexpr std::uint64_t max_size() const noexcept { return max_size_; }

    struct block { std::uint64_t offset; std::uint64_t size; };
    // One allocation or release, for comparing the allocator's work across repeated layers.
    struct event {
        bool alloc;
        std::uint64_t offset;
        std::uint64_t size;
        friend constexpr bool operator==(const event&, const event&) = default;
    };

    [[nodiscard]] constexpr const std::vector<block>& free_blocks() const noexcept { return blocks_; }
    [[nodiscard]] constexpr const std::vector<event>& events() const noexcept { return events_; }
    constexpr void record_events(bool on) noexcept { recording_ = on; }

    [[nodiscard]] constexpr std::uint64_t aligned(std::uint64_t size) const noexcept {
        return (size + alignment_ - 1) / alignment_ * alignment_;
    }

    // ggml_dyn_tallocr_alloc
    constexpr std::uint64_t alloc(std::uint64_t size) {
        size = aligned(size);
        std::size_t best = blocks_.size();
        std::uint64_t best_size = ~std::uint64_t{0};
        for (std::size_t i = 0; i + 1 < blocks_.size(); ++i) {
            if (blocks_[i].size >= size && blocks_[i].size <= best_size) {
                best = i;
                best_size = blocks_[i].size;
            }
        }
        if (best == blocks_.size()) best = blocks_.size() - 1;  // the growing tail
        block& b = blocks_[best];
        const std::uint64_t offset = b.offset;
        b.offset += size;
        b.size -= size;
        if (b.size == 0) blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(best));
        if (offset + size > max_size_) max_size_ = offset + size;
        if (recording_) events_.push_back({true, offset, size});
        return offset;
    }

    // ggml_dyn_tallocr_free_bytes
    constexpr void free(std::uint64_t offset, std::uint64_t size) {
        size = aligned(size);
        if (recording_) events_.push_back({false, offset, size});
        for (std::size_t i = 0; i < blocks_.size(); ++i) {
            block& b = blocks_[i];
            if (b.offset + b.size == offset) {
                b.size += size;
                if (i + 1 < blocks_.size() && b.offset + b.size == blocks_[i + 1].offset) {
                    b.size += blocks_[i + 1].size;
                    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i + 1));
                }
                return;
            }
            if (offset + size == b.offset) {
                b.offset = offset;
                b.size += size;
                if (i > 0 && blocks_[i - 1].offset + blocks_[i - 1].size == b.offset) {
                    blocks_[i - 1].size += b.size;
                    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i));
                }
                return;
            }
        }
        std::size_t pos = 0;
        while (pos < blocks_.size() && blocks_[pos].offset < offset) ++pos;
        blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(pos), block{offset, size});
    }

private:
    // SIZE_MAX / 2: ggml_dyn_tallocr_new clamps the buffer type's max size to it.
    static constexpr std::uint64_t open_end = ~std::uint64_t{0} / 2;

    std::uint64_t alignment_;
    std::vector<block> blocks_;
    std::uint64_t max_size_ = 0;
    std::vector<event> events_;
    bool recording_ = false;
};

// ggml_gallocr for one buffer: returns the max_size of the allocation plan of `graph`.
class graph_allocator {
public:
    constexpr graph_allocator(const compute_graph& graph, std::uint64_t alignment)
        : g_(graph), alloc_(alignment), state_(graph.tensors.size()) {}

    // The allocator's state where a layer's nodes begin: the free blocks and how many events
    // (allocations, releases) had happened.
    struct layer_snapshot {
        std::vector<dynamic_allocator::block> free_blocks;
        std::size_t first_event = 0;
    };

    // With `layer_starts` (node indices, ascending), also snapshot the state at each.
    constexpr std::uint64_t run(const std::vector<std::uint32_t>* layer_starts = nullptr) {
        std::size_t next_layer = 0;
        if (layer_starts != nullptr) alloc_.record_events(true);
        for (const std::int32_t leaf : g_.leafs) allocate(leaf);
        for (const std::int32_t node : g_.nodes) {
            const graph_tensor& t = g_.at(node);
            if (op_is_view(t.op)) ++st(t.view_src).n_views;
            if (t.input) allocate(node);
            for (const std::int32_t s : t.src) {
                if (s < 0) continue;
                ++st(s).n_children;
                if (g_.at(s).input) allocate(s);
            }
        }
        for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
            while (layer_starts != nullptr && next_layer < layer_starts->size() && (*layer_starts)[next_layer] == i) {
                snapshots.push_back({alloc_.free_blocks(), alloc_.events().size()});
                ++next_layer;
            }
            const std::int32_t node = g_.nodes[i];
            const graph_tensor& t = g_.at(node);
            for (const std::int32_t s : t.src) if (s >= 0) allocate(s);
            allocate(node);
            for (const std::int32_t s : t.src) {
                if (s < 0) continue;
                tensor_state& p = st(s);
                --p.n_children;
                if (p.n_children != 0 || p.n_views != 0) continue;
                const graph_tensor& parent = g_.at(s);
                if (op_is_view(parent.op)) {
                    tensor_state& root = st(parent.view_src);
                    --root.n_views;
                    if (root.n_views == 0 && root.n_children == 0 && root.allocated) release(parent.view_src);
                } else if (p.allocated) {
                    release(s);
                }
            }
        }
        return alloc_.max_size();
    }

    std::vector<layer_snapshot> snapshots;

    // Do the layers [first, first + period) and [first + period, first + 2 period) start from the
    // same free blocks and perform the same allocations and releases at the same offsets? Then
    // every further period of identical layers repeats them exactly (the allocator is
    // deterministic), and dropping such periods from the graph leaves the high-water mark as is.
    [[nodiscard]] constexpr bool periods_repeat(std::size_t first, std::size_t period) const {
        if (first + 2 * period >= snapshots.size()) return false;
        const auto& a = snapshots[first];
        const auto& b = snapshots[first + period];
        const auto& c = snapshots[first + 2 * period];
        if (a.free_blocks.size() != b.free_blocks.size()) return false;
        for (std::size_t i = 0; i < a.free_blocks.size(); ++i) {
            if (a.free_blocks[i].offset != b.free_blocks[i].offset || a.free_blocks[i].size != b.free_blocks[i].size) return false;
        }
        const std::size_t n = b.first_event - a.first_event;
        if (c.first_event - b.first_event != n) return false;
        const auto& ev = alloc_.events();
        for (std::size_t i = 0; i < n; ++i) {
            if (!(ev[a.first_event + i] == ev[b.first_event + i])) return false;
        }
        return true;
    }

private:
    struct tensor_state {
        int n_children = 0;
        int n_views = 0;
        bool allocated = false;
        std::uint64_t offset = 0;
    };

    const compute_graph& g_;
    dynamic_allocator alloc_;
    std::vector<tensor_state> state_;

    constexpr tensor_state& st(std::int32_t id) { return state_[static_cast<std::size_t>(id)]; }

    [[nodiscard]] static constexpr bool same_layout(const graph_tensor& a, const graph_tensor& b) noexcept {
        return a.type == b.type && a.ne == b.ne && a.nb == b.nb;
    }

    // ggml_gallocr_allocate_node
    constexpr void allocate(std::int32_t id) {
        const graph_tensor& t = g_.at(id);
        tensor_state& hn = st(id);
        if (t.external || hn.allocated || op_is_view(t.op)) return;
        hn.allocated = true;
        if (op_can_inplace(t.op)) {
            for (const std::int32_t s : t.src) {
                if (s < 0) continue;
                const graph_tensor& parent = g_.at(s);
                tensor_state& p = st(s);
                if (!p.allocated) continue;  // not ours (external, a view, or already released)
                if (parent.output || (parent.view_src >= 0 && g_.at(parent.view_src).output)) continue;
                if (!same_layout(t, parent)) continue;
                if (p.n_children != 1 || p.n_views != 0) continue;
                if (op_is_view(parent.op)) {
                    tensor_state& root = st(parent.view_src);
                    if (root.n_views == 1 && root.n_children == 0 && parent.view_offs == 0) {
                        hn.offset = p.offset;
                        p.allocated = false;
                        root.allocated = false;
                        free_extra_space(t, g_.at(parent.view_src), p.offset);
                        return;
                    }
                } else {
                    hn.offset = p.offset;
                    p.allocated = false;
                    free_extra_space(t, parent, p.offset);
                    return;
                }
            }
        }
        hn.offset = alloc_.alloc(tensor_nbytes(t));
    }

    // ggml_gallocr_free_extra_space
    constexpr void free_extra_space(const graph_tensor& node, const graph_tensor& parent, std::uint64_t offset) {
        const std::uint64_t parent_size = alloc_.aligned(tensor_nbytes(parent));
        const std::uint64_t node_size = alloc_.aligned(tensor_nbytes(node));
        if (parent_size > node_size) alloc_.free(offset + node_size, parent_size - node_size);
    }

    // ggml_gallocr_free_node
    constexpr void release(std::int32_t id) {
        const graph_tensor& t = g_.at(id);
        if (t.output) return;
        tensor_state& hn = st(id);
        alloc_.free(hn.offset, tensor_nbytes(t));
        hn.allocated = false;
    }
};

} // namespace vramfit::llama_cpp::detail
