// vramfit/engines/llama_cpp/detail/backend_sched.hpp — ggml's backend scheduler, measured.
//
// With a GPU, llama.cpp computes each graph through ggml_backend_sched: every node gets a backend,
// the graph is cut into splits that run on one backend each, tensors a split needs from another
// backend are copied into it, and one graph allocator plans a compute buffer per backend. The
// "CUDA<i> compute buffer size" and "CUDA_Host compute buffer size" lines are those buffers. This
// file replays that for a rebuilt graph (model_graph.hpp) whose weights and caches carry the
// backend of their buffer. Mirrors ggml/src/ggml-backend.cpp (ggml_backend_sched_split_graph,
// ggml_backend_sched_backend_id_from_cur) and ggml/src/ggml-alloc.c (ggml_gallocr_reserve_n,
// ggml_gallocr_alloc_graph_impl) as of the llama.cpp snapshots read for this project:
//
//  * Backends, in priority order: CUDA0 .. CUDA<n-1>, then in a GGML_BLAS build the BLAS backend
//    (llama_context adds ACCEL devices before the CPU), then the CPU. The CPU backend's buffer
//    type is the first GPU's host type, CUDA_Host (llama_context's backend_buft loop); BLAS's is
//    the plain CPU type. Every host buffer (CPU, CPU_Mapped, CUDA_Host) is usable by BLAS and the
//    CPU; a CUDA device supports only its own buffer type (ggml_backend_cuda_device_supports_buft).
//    GPUs and the CPU run every modelled op; BLAS only large contiguous MUL_MATs (supports_op).
//  * Before pass 1, nodes the engine assigned itself keep their backend (llama_context's graph
//    callback pins build_norm's "norm" to its layer's device, model_graph.hpp pin_norm).
//  * Pass 1 (backend_id_from_cur): a tensor in a buffer runs where the buffer is; a view where its
//    source's buffer is; a graph input on the CPU; an op with a weight source (not ROPE, not
//    FLASH_ATTN_EXT) where the weight is — except that a weight in a host buffer lets the first
//    GPU take the op when ggml_backend_cuda_device_offload_op says so: get_op_batch_size >= 32,
//    with GET_ROWS 0, MUL_MAT ne[1], MUL_MAT_ID and ROPE ne[2], else ggml_nrows. That is why a
//    GPU compute buffer exists with 0 layers offloaded, and why CUDA0 grows with experts on the CPU.
//  * Pass 2: GPU backends expand down then up over unassigned nodes (a CPU node stops them), then
//    any backend down then up. Pass 3 gives a still unassigned node the backend that holds most of
//    its sources; pass 4 gives remaining sources their consumer's (views: their source's) backend.
//    Pass 3 also moves an assigned node up to a higher-priority backend of the same buffer type
//    that can run it on its sources (with a GPU present no two backends share a buffer type).
//  * Pass 5: a new split starts where the backend changes, or where a node of the current split
//    reads a weight from an incompatible buffer after the split already has inputs ("the memory
//    of the previously offloaded weights can be reused"), or when a split holds 30 inputs
//    (GGML_SCHED_MAX_SPLIT_INPUTS) and needs another. A source on an incompatible buffer gets a
//    copy in the split's backend (ggml_dup_tensor_layout: same type, shape and strides), one per
//    pipeline copy; the node reads the copy. With n_copies > 1 (pipeline parallelism) every graph
//    input also gets n_copies copies on its backend, and all copies are flagged input and output.
//  * The scheduler's graph: per split, for each input a dependency node (a view of the input, on
//    the input's backend, so the input lives until copied) and the copy (on the split's backend),
//    then the split's nodes; its leafs are, with n_copies > 1, every input copy first, then the
//    original leafs. (Backends' graph_optimize may add allocation dependencies; CUDA adds none
//    without GGML_CUDA_GRAPH_OPT, so none are modelled.)
//  * ggml_gallocr over it: one dynamic allocator per buffer type; a tensor is placed in the
//    buffer of its (node or leaf) backend, or, for a source first met as a consumer's input, of the
//    consumer; in-place reuse as for one buffer (graph_allocator.hpp). Sizes are
//    ggml_backend_buft_get_alloc_size: for CUDA a quantized tensor gets one row of padding up to a
//    multiple of MATRIX_ROW_PADDING (512) elements; alignment 128 for CUDA, 32 for host types.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "vramfit/engines/llama_cpp/detail/compute_graph.hpp"
#include "vramfit/engines/llama_cpp/detail/graph_allocator.hpp"

namespace vramfit::llama_cpp::detail {

struct sched_config {
    std::uint32_t n_gpus = 1;          // backends 0 .. n_gpus-1 are GPUs, then BLAS if any, then the CPU
    bool blas = false;                 // a GGML_BLAS build: the BLAS backend sits before the CPU
    std::uint32_t n_copies = 1;        // pipeline parallelism: GGML_SCHED_MAX_COPIES = 4 when on
    bool op_offload = true;            // llama_context_params::op_offload (--no-op-offload)
    std::int64_t offload_min_batch = 32;  // ggml-cuda's op_offload_min_batch_size default
};

struct sched_result {
    std::vector<std::uint64_t> buffer_size;  // per backend: the compute buffer it reserves
    std::size_t n_splits = 0;
    std::vector<std::size_t> split_starts;   // graph node index where each split begins
};

// The allocators' state where a layer's nodes begin (for folding repeated layers, as
// graph_allocator::layer_snapshot does for one buffer): per buffer, its free blocks and how many
// allocations and releases it had made.
struct sched_snapshot {
    std::vector<std::vector<dynamic_allocator::block>> free_blocks;
    std::vector<std::size_t> first_event;
};

// GGML_SCHED_MAX_SPLIT_INPUTS
inline constexpr std::uint32_t sched_split_inputs_capacity = 30;
// GGML_SCHED_MAX_COPIES
inline constexpr std::uint32_t sched_max_copies = 4;

class backend_scheduler {
public:
    constexpr backend_scheduler(compute_graph graph, sched_config config)
        : g_(std::move(graph)), cfg_(config), gpus_(static_cast<int>(config.n_gpus)),
          blas_(config.blas ? static_cast<int>(config.n_gpus) : -1),
          host_(static_cast<int>(config.n_gpus) + (config.blas ? 1 : 0)) {
        if (cfg_.n_copies == 0) cfg_.n_copies = 1;
        if (cfg_.n_copies > sched_max_copies) cfg_.n_copies = sched_max_copies;
        for (std::size_t i = 0; i < g_.tensors.size(); ++i) {
            bid_.push_back(-1);
            copy_head_.push_back(-1);
        }
    }

    // With `layer_starts` (graph node indices, ascending), also snapshot the allocators where
    // each layer begins (`snapshots`, see periods_repeat).
    constexpr sched_result run(const std::vector<std::uint32_t>* layer_starts = nullptr) {
        layer_starts_ = layer_starts;
        assign_backends();
        split_graph();
        return allocate();
    }

    std::vector<sched_snapshot> snapshots;

    // Do layers [first, first + period) and [first + period, first + 2 period) start from the same
    // free blocks in every buffer and allocate and release at the same offsets? Then every further
    // such period repeats them (see compute_buffer.hpp's folding).
    [[nodiscard]] constexpr bool periods_repeat(std::size_t first, std::size_t period) const {
        if (first + 2 * period >= snapshots.size()) return false;
        const auto& a = snapshots[first];
        const auto& b = snapshots[first + period];
        const auto& c = snapshots[first + 2 * period];
        for (std::size_t buf = 0; buf < a.free_blocks.size(); ++buf) {
            const auto& fa = a.free_blocks[buf];
            const auto& fb = b.free_blocks[buf];
            if (fa.size() != fb.size()) return false;
            for (std::size_t i = 0; i < fa.size(); ++i) {
                if (fa[i].offset != fb[i].offset || fa[i].size != fb[i].size) return false;
            }
            const std::size_t n = b.first_event[buf] - a.first_event[buf];
            if (c.first_event[buf] - b.first_event[buf] != n) return false;
            const auto& ev = events_[buf];
            for (std::size_t i = 0; i < n; ++i) {
                if (!(ev[a.first_event[buf] + i] == ev[b.first_event[buf] + i])) return false;
            }
        }
        return true;
    }

private:
    struct copy_entry {
        int backend = -1;
        int next = -1;  // next entry of the same source
        std::array<std::int32_t, sched_max_copies> ids{-1, -1, -1, -1};
    };
    struct split {
        int backend = -1;
        std::size_t start = 0;
        std::size_t end = 0;
        std::vector<std::int32_t> inputs;
    };

    compute_graph g_;
    sched_config cfg_;
    int gpus_;  // backends 0 .. gpus_-1
    int blas_;  // the BLAS backend, -1 without
    int host_;  // the CPU backend, always last
    std::vector<int> bid_;                 // hv_tensor_backend_ids
    std::vector<int> copy_head_;           // per source tensor: first copy_entry, -1 none
    std::vector<copy_entry> copies_;       // hv_tensor_copies
    std::vector<split> splits_;
    std::vector<std::int32_t> graph_inputs_;
    const std::vector<std::uint32_t>* layer_starts_ = nullptr;
    std::vector<std::vector<dynamic_allocator::event>> events_;  // per buffer, kept after allocate()

    [[nodiscard]] constexpr const graph_tensor& at(std::int32_t id) const { return g_.at(id); }
    constexpr int& backend(std::int32_t id) { return bid_[static_cast<std::size_t>(id)]; }

    // Buffer types: a GPU's is its index; the host types are negative. Every host type is usable
    // by the BLAS and the CPU backends (ggml_backend_buft_is_host), a GPU's only by that GPU.
    static constexpr int buft_cuda_host = -2;  // CUDA_Host: the CPU backend's with a GPU present
    static constexpr int buft_cpu = -3;        // CPU: the BLAS backend's; the CPU backend's without a GPU
    static constexpr int buft_weights_host = -4;  // where host weights and caches live (CPU, CPU_Mapped, CUDA_Host)
    [[nodiscard]] static constexpr bool buft_is_host(int buft) noexcept { return buft <= buft_cuda_host; }
    [[nodiscard]] constexpr int backend_buft(int b) const noexcept {
        if (b < gpus_) return b;
        if (b == blas_) return buft_cpu;
        return gpus_ > 0 ? buft_cuda_host : buft_cpu;
    }
    // ggml_backend_supports_buft: ggml_backend_cuda_device_supports_buft (its own device only),
    // ggml_backend_blas_device_supports_buft and the CPU's (any host type).
    [[nodiscard]] constexpr bool supports_buft(int b, int buft) const noexcept {
        return b < gpus_ ? buft == b : buft_is_host(buft);
    }
    // ggml_backend_supports_op: every modelled op runs on a GPU and on the CPU; the BLAS backend
    // (ggml_backend_blas_device_supports_op) takes the view ops and a MUL_MAT whose operands are
    // contiguous, src1 F32 and ne0, ne1 and src1's ne0 all at least 32 ("BLAS usually is only
    // faster for large matrices"; every modelled weight type has a to_float).
    [[nodiscard]] constexpr bool supports_op(int b, const graph_tensor& t) const {
        if (b != blas_) return true;
        if (t.op == graph_op::none || op_is_view(t.op)) return true;
        if (t.op != graph_op::mul_mat) return false;
        const graph_tensor& a = at(t.src[0]);
        const graph_tensor& x = at(t.src[1]);
        return ggml_contiguous(a) && ggml_contiguous(x) && x.type == ggml_type::f32 && t.ne[0] >= 32 && t.ne[1] >= 32 && x.ne[0] >= 32;
    }
    // The buffer type of an external tensor (-1 in the graph: a host buffer).
    [[nodiscard]] constexpr int external_buft(const graph_tensor& t) const noexcept { return t.backend < 0 ? buft_weights_host : t.backend; }
    // ggml_backend_sched_backend_from_buffer: the first backend that can use the buffer and run `op`.
    [[nodiscard]] constexpr int backend_from_buffer(int buft, const graph_tensor& op) const {
        for (int b = 0; b <= host_; ++b) {
            if (supports_buft(b, buft) && supports_op(b, op)) return b;
        }
        return -1;
    }
    // The tensor whose buffer `id` lives in, if it has one (ggml: view_src ? view_src->buffer : buffer).
    [[nodiscard]] constexpr std::int32_t buffer_owner(std::int32_t id) const {
        const graph_tensor& t = at(id);
        const std::int32_t root = t.view_src >= 0 ? t.view_src : id;
        return at(root).external ? root : -1;
    }

    // ggml_backend_cuda_device_offload_op / get_op_batch_size
    [[nodiscard]] constexpr bool offload_op(const graph_tensor& t) const {
        std::int64_t batch = 0;
        switch (t.op) {
            case graph_op::get_rows: batch = 0; break;
            case graph_op::mul_mat: batch = t.ne[1]; break;
            case graph_op::mul_mat_id: case graph_op::rope: batch = t.ne[2]; break;
            default: batch = t.ne[1] * t.ne[2] * t.ne[3]; break;
        }
        return batch >= cfg_.offload_min_batch;
    }

    // ggml_backend_sched_backend_id_from_cur
    [[nodiscard]] constexpr int backend_from_cur(std::int32_t id) const {
        const graph_tensor& t = at(id);
        const std::int32_t owner = buffer_owner(id);
        if (owner >= 0) return backend_from_buffer(external_buft(at(owner)), t);
        if (t.input) return host_;
        if (t.op == graph_op::rope || t.op == graph_op::flash_attn_ext) return -1;
        for (const std::int32_t s : t.src) {
            if (s < 0) continue;
            const graph_tensor& src = at(s);
            if (!src.weight || src.view_src >= 0) continue;
            const int src_backend = backend_from_buffer(external_buft(src), t);
            if (cfg_.op_offload && src_backend == host_ && gpus_ > 0 && offload_op(t)) return 0;
            return src_backend;
        }
        return -1;
    }

    // ggml_backend_sched_buffer_supported: is `id`'s buffer type usable by backend `b`?
    [[nodiscard]] constexpr bool buffer_supported(std::int32_t id, int b) const {
        const std::int32_t owner = buffer_owner(id);
        if (owner >= 0) return supports_buft(b, external_buft(at(owner)));
        int backend_id = bid_[static_cast<std::size_t>(id)];
        if (backend_id == -1 && at(id).view_src >= 0) backend_id = bid_[static_cast<std::size_t>(at(id).view_src)];
        return backend_id != -1 && supports_buft(b, backend_buft(backend_id));
    }

    constexpr void expand(bool gpu_only, bool down) {
        int cur = -1;
        const std::size_t n = g_.nodes.size();
        for (std::size_t k = 0; k < n; ++k) {
            const std::int32_t node = g_.nodes[down ? k : n - 1 - k];
            if (op_is_view(at(node).op)) continue;
            int& b = backend(node);
            if (b != -1) cur = gpu_only && b == host_ ? -1 : b;
            else if (cur != -1 && supports_op(cur, at(node))) b = cur;  // ggml_backend_sched_set_if_supported
        }
    }

    constexpr void assign_backends() {
        // user assignments first (pass 1 does not overwrite them)
        for (const std::int32_t node : g_.nodes) {
            const std::int8_t user = at(node).user_backend;
            if (user != -2) backend(node) = user < 0 ? host_ : (user < gpus_ ? user : -1);
        }
        for (const std::int32_t leaf : g_.leafs) if (backend(leaf) == -1) backend(leaf) = backend_from_cur(leaf);
        for (const std::int32_t node : g_.nodes) if (backend(node) == -1) backend(node) = backend_from_cur(node);
        expand(true, true);
        expand(true, false);
        expand(false, true);
        expand(false, false);
        // pass 3: an unassigned node goes where most of its sources are usable; an assigned one
        // moves up to a higher-priority backend of the same buffer type that can run it on its
        // sources (with a GPU present no two backends share a buffer type: BLAS's is CPU, the
        // CPU backend's CUDA_Host)
        for (const std::int32_t node : g_.nodes) {
            if (op_is_view(at(node).op)) continue;
            if (backend(node) != -1) {
                const int own = backend(node);
                for (int b = 0; b < own; ++b) {
                    if (backend_buft(b) != backend_buft(own) || !supports_op(b, at(node))) continue;
                    bool usable = true;
                    for (const std::int32_t s : at(node).src) {
                        if (s >= 0 && !buffer_supported(s, b)) { usable = false; break; }
                    }
                    if (usable) { backend(node) = b; break; }
                }
                continue;
            }
            int best = -1;
            for (int b = 0; b <= host_; ++b) {
                if (!supports_op(b, at(node))) continue;
                int supported = 0;
                for (const std::int32_t s : at(node).src) {
                    if (s < 0) continue;
                    const bool assigned = bid_[static_cast<std::size_t>(s)] != -1 ||
                                          (at(s).view_src >= 0 && bid_[static_cast<std::size_t>(at(s).view_src)] != -1);
                    if (assigned && buffer_supported(s, b)) ++supported;
                }
                if (supported > best) {
                    best = supported;
                    backend(node) = b;
                }
            }
        }
        // pass 4: sources and views follow their consumers / sources
        for (const std::int32_t node : g_.nodes) {
            const graph_tensor& t = at(node);
            if (t.view_src >= 0 && backend(node) == -1) backend(node) = bid_[static_cast<std::size_t>(t.view_src)];
            for (const std::int32_t s : t.src) {
                if (s < 0 || backend(s) != -1) continue;
                backend(s) = at(s).view_src >= 0 ? bid_[static_cast<std::size_t>(at(s).view_src)] : backend(node);
            }
            if (backend(node) == -1) backend(node) = 0;
        }
    }

    // tensor_id_copy(src, backend, c), or -1.
    [[nodiscard]] constexpr std::int32_t copy_of(std::int32_t src, int b, std::uint32_t c) const {
        for (int e = copy_head_[static_cast<std::size_t>(src)]; e >= 0; e = copies_[static_cast<std::size_t>(e)].next) {
            if (copies_[static_cast<std::size_t>(e)].backend == b) return copies_[static_cast<std::size_t>(e)].ids[c];
        }
        return -1;
    }

    // ggml_dup_tensor_layout, with the flags the scheduler sets.
    constexpr std::int32_t dup_layout(std::int32_t src, bool input_output) {
        graph_tensor t{};
        t.type = at(src).type;
        t.ne = at(src).ne;
        t.nb = at(src).nb;
        t.input = input_output;
        t.output = input_output;
        g_.tensors.push_back(t);
        bid_.push_back(-1);
        copy_head_.push_back(-1);
        return static_cast<std::int32_t>(g_.tensors.size() - 1);
    }

    constexpr void add_copies(std::int32_t src, int b, bool original_is_copy0) {
        copy_entry e{};
        e.backend = b;
        for (std::uint32_t c = 0; c < cfg_.n_copies; ++c) {
            std::int32_t id = -1;
            if (original_is_copy0 && c == 0) {
                id = src;  // the current copy of a graph input is the input itself
                g_.at(src).output = true;  // ggml_set_output: never overwritten
            } else {
                id = dup_layout(src, cfg_.n_copies > 1);
            }
            bid_[static_cast<std::size_t>(id)] = b;
            e.ids[c] = id;
        }
        e.next = copy_head_[static_cast<std::size_t>(src)];
        copies_.push_back(e);
        copy_head_[static_cast<std::size_t>(src)] = static_cast<int>(copies_.size() - 1);
    }

    // pass 5
    constexpr void split_graph() {
        std::size_t i = 0;
        split cur{};
        for (; i < g_.nodes.size(); ++i) {
            if (!op_is_view(at(g_.nodes[i]).op)) {
                cur.backend = backend(g_.nodes[i]);
                break;
            }
        }
        cur.start = 0;
        for (; i < g_.nodes.size(); ++i) {
            const std::int32_t node = g_.nodes[i];
            if (op_is_view(at(node).op)) continue;
            const int nb = backend(node);
            bool need_new = false;
            if (nb == cur.backend && !cur.inputs.empty()) {
                for (const std::int32_t s : at(node).src) {
                    if (s < 0) continue;
                    const graph_tensor& src = at(s);
                    if (src.weight && src.view_src < 0) {
                        if (bid_[static_cast<std::size_t>(s)] != cur.backend && !buffer_supported(s, cur.backend)) {
                            need_new = true;
                            break;
                        }
                    }
                    if (cur.inputs.size() >= sched_split_inputs_capacity) {
                        if (bid_[static_cast<std::size_t>(s)] != cur.backend && copy_of(s, cur.backend, 0) == -1 &&
                            !buffer_supported(s, cur.backend)) {
                            need_new = true;
                            break;
                        }
                    }
                }
            }
            if (nb != cur.backend || need_new) {
                cur.end = i;
                splits_.push_back(std::move(cur));
                cur = split{};
                cur.backend = nb;
                cur.start = i;
            }
            for (std::size_t j = 0; j < at(node).src.size(); ++j) {
                const std::int32_t s = at(node).src[j];
                if (s < 0) continue;
                const int sb = bid_[static_cast<std::size_t>(s)];
                if (at(s).input && cfg_.n_copies > 1 && copy_of(s, sb, 0) == -1) {
                    add_copies(s, sb, true);
                    graph_inputs_.push_back(s);
                }
                if (sb != cur.backend && !buffer_supported(s, cur.backend)) {
                    if (copy_of(s, cur.backend, 0) == -1) {
                        add_copies(s, cur.backend, false);
                        cur.inputs.push_back(s);
                    }
                    g_.at(node).src[j] = copy_of(s, cur.backend, 0);
                }
            }
        }
        cur.end = g_.nodes.size();
        splits_.push_back(std::move(cur));
    }

    // ---- ggml_gallocr_reserve_n over the scheduler's graph ----------------------------------

    struct tensor_state {
        int n_children = 0;
        int n_views = 0;
        bool allocated = false;
        bool dependency = false;  // a scheduler dependency node: never allocated, never a view
        int buffer = -1;
        std::uint64_t offset = 0;
    };

    [[nodiscard]] constexpr std::uint64_t alloc_size(const graph_tensor& t, int buffer) const {
        std::uint64_t size = tensor_nbytes(t);
        if (buffer < gpus_ && is_quantized(t.type) && t.ne[0] % 512 != 0) {
            size += row_size(t.type, 512 - t.ne[0] % 512).count();  // ggml_backend_cuda_buffer_type_get_alloc_size
        }
        return size;
    }

    constexpr sched_result allocate() {
        // The scheduler's graph.
        std::vector<std::int32_t> nodes;
        std::vector<int> node_buffer;
        std::vector<std::int32_t> leafs;
        std::vector<int> leaf_buffer;
        std::vector<tensor_state> st;
        std::vector<std::size_t> snapshot_at;  // position in `nodes` where each layer begins
        for (std::size_t k = 0; k < g_.tensors.size(); ++k) st.push_back({});
        for (const split& s : splits_) {
            for (const std::int32_t input : s.inputs) {
                graph_tensor dep{};  // ggml_view_tensor(input) with src[0] = input: op NONE
                dep.type = at(input).type;
                dep.ne = at(input).ne;
                dep.nb = at(input).nb;
                dep.view_src = input;
                dep.src[0] = input;
                g_.tensors.push_back(dep);
                tensor_state dep_state{};
                dep_state.dependency = true;
                st.push_back(dep_state);
                nodes.push_back(static_cast<std::int32_t>(g_.tensors.size() - 1));
                node_buffer.push_back(bid_[static_cast<std::size_t>(input)]);
                nodes.push_back(copy_of(input, s.backend, 0));
                node_buffer.push_back(s.backend);
            }
            for (std::size_t k = s.start; k < s.end; ++k) {
                while (layer_starts_ != nullptr && snapshot_at.size() < layer_starts_->size() &&
                       (*layer_starts_)[snapshot_at.size()] <= k) {
                    snapshot_at.push_back(nodes.size());
                }
                nodes.push_back(g_.nodes[k]);
                node_buffer.push_back(bid_[static_cast<std::size_t>(g_.nodes[k])]);
            }
        }
        if (cfg_.n_copies > 1) {
            for (const std::int32_t input : graph_inputs_) {
                const int b = bid_[static_cast<std::size_t>(input)];
                for (std::uint32_t c = 0; c < cfg_.n_copies; ++c) { leafs.push_back(copy_of(input, b, c)); leaf_buffer.push_back(b); }
            }
            for (const split& s : splits_) {
                for (const std::int32_t input : s.inputs) {
                    for (std::uint32_t c = 0; c < cfg_.n_copies; ++c) { leafs.push_back(copy_of(input, s.backend, c)); leaf_buffer.push_back(s.backend); }
                }
            }
        }
        for (const std::int32_t leaf : g_.leafs) { leafs.push_back(leaf); leaf_buffer.push_back(bid_[static_cast<std::size_t>(leaf)]); }

        std::vector<dynamic_allocator> buffers;
        for (int b = 0; b <= host_; ++b) {
            buffers.push_back(dynamic_allocator(b >= gpus_ ? compute_buffer_alignment : 128));
            if (layer_starts_ != nullptr) buffers.back().record_events(true);
        }

        const auto allocate_node = [&](std::int32_t id, int buffer) {
            const graph_tensor& t = at(id);
            tensor_state& hn = st[static_cast<std::size_t>(id)];
            if (t.external || hn.allocated || hn.dependency || op_is_view(t.op)) return;
            if (buffer < 0 || buffer > host_) buffer = host_;
            hn.allocated = true;
            if (op_can_inplace(t.op)) {
                for (const std::int32_t s : t.src) {
                    if (s < 0) continue;
                    const graph_tensor& parent = at(s);
                    tensor_state& p = st[static_cast<std::size_t>(s)];
                    if (!p.allocated) continue;
                    if (parent.output || (parent.view_src >= 0 && at(parent.view_src).output)) continue;
                    if (!(t.type == parent.type && t.ne == parent.ne && t.nb == parent.nb)) continue;
                    if (p.n_children != 1 || p.n_views != 0) continue;
                    if (op_is_view(parent.op)) {
                        tensor_state& root = st[static_cast<std::size_t>(parent.view_src)];
                        if (root.n_views == 1 && root.n_children == 0 && parent.view_offs == 0) {
                            hn.offset = p.offset;
                            hn.buffer = root.buffer;
                            p.allocated = false;
                            root.allocated = false;
                            auto& a = buffers[static_cast<std::size_t>(root.buffer)];
                            const std::uint64_t ps = a.aligned(alloc_size(at(parent.view_src), root.buffer));
                            const std::uint64_t ns = a.aligned(alloc_size(t, root.buffer));
                            if (ps > ns) a.free(p.offset + ns, ps - ns);
                            return;
                        }
                    } else {
                        hn.offset = p.offset;
                        hn.buffer = p.buffer;
                        p.allocated = false;
                        auto& a = buffers[static_cast<std::size_t>(p.buffer)];
                        const std::uint64_t ps = a.aligned(alloc_size(parent, p.buffer));
                        const std::uint64_t ns = a.aligned(alloc_size(t, p.buffer));
                        if (ps > ns) a.free(p.offset + ns, ps - ns);
                        return;
                    }
                }
            }
            hn.buffer = buffer;
            hn.offset = buffers[static_cast<std::size_t>(buffer)].alloc(alloc_size(t, buffer));
        };
        const auto release = [&](std::int32_t id) {
            const graph_tensor& t = at(id);
            if (t.output) return;
            tensor_state& hn = st[static_cast<std::size_t>(id)];
            buffers[static_cast<std::size_t>(hn.buffer)].free(hn.offset, alloc_size(t, hn.buffer));
            hn.allocated = false;
        };

        for (std::size_t k = 0; k < leafs.size(); ++k) allocate_node(leafs[k], leaf_buffer[k]);
        for (std::size_t k = 0; k < nodes.size(); ++k) {
            const graph_tensor& t = at(nodes[k]);
            if (op_is_view(t.op)) ++st[static_cast<std::size_t>(t.view_src)].n_views;
            if (t.input) allocate_node(nodes[k], node_buffer[k]);
            for (const std::int32_t s : t.src) {
                if (s < 0) continue;
                ++st[static_cast<std::size_t>(s)].n_children;
                if (at(s).input) allocate_node(s, node_buffer[k]);
            }
        }
        std::size_t next_snapshot = 0;
        for (std::size_t k = 0; k < nodes.size(); ++k) {
            while (next_snapshot < snapshot_at.size() && snapshot_at[next_snapshot] == k) {
                sched_snapshot snap{};
                for (const auto& a : buffers) {
                    snap.free_blocks.push_back(a.free_blocks());
                    snap.first_event.push_back(a.events().size());
                }
                snapshots.push_back(std::move(snap));
                ++next_snapshot;
            }
            const std::int32_t node = nodes[k];
            const graph_tensor& t = at(node);
            for (const std::int32_t s : t.src) if (s >= 0) allocate_node(s, node_buffer[k]);
            allocate_node(node, node_buffer[k]);
            for (const std::int32_t s : t.src) {
                if (s < 0) continue;
                tensor_state& p = st[static_cast<std::size_t>(s)];
                --p.n_children;
                if (p.n_children != 0 || p.n_views != 0) continue;
                const graph_tensor& parent = at(s);
                if (op_is_view(parent.op)) {
                    tensor_state& root = st[static_cast<std::size_t>(parent.view_src)];
                    --root.n_views;
                    if (root.n_views == 0 && root.n_children == 0 && root.allocated) release(parent.view_src);
                } else if (p.allocated) {
                    release(s);
                }
            }
        }

        sched_result out{};
        for (const auto& a : buffers) {
            out.buffer_size.push_back(a.max_size());
            if (layer_starts_ != nullptr) events_.push_back(a.events());
        }
        out.n_splits = splits_.size();
        for (const split& sp : splits_) out.split_starts.push_back(sp.start);
        return out;
    }
};

// Schedule `graph` over n_gpus GPUs and the CPU and measure each backend's compute buffer.
[[nodiscard]] constexpr sched_result schedule_graph(compute_graph graph, const sched_config& config) {
    backend_scheduler sched(std::move(graph), config);
    return sched.run();
}

} // namespace vramfit::llama_cpp::detail
