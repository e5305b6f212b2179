// vramfit/engines/llama_cpp/detail/compute_graph.hpp — a shape-only model of a ggml graph.
//
// The compute buffer llama.cpp reports is the high-water mark of ggml's graph allocator over the
// graph the model builds. To reproduce it we rebuild that graph: tensors with their op, type,
// shape, strides, sources and view relation, and the node/leaf order that
// ggml_build_forward_expand produces. Nothing here holds data.
//
// What is mirrored (ggml/src/ggml.c and ggml/src/ggml-impl.h at llama.cpp 1425386f, ggml 0.17.0):
//  * ggml_new_tensor_impl: a view records the root tensor (view of a view points at the root,
//    offsets add up); new tensors get contiguous strides.
//  * the output shape and type of every op the supported models use (ggml_mul_mat: F32
//    [a.ne1, b.ne1, b.ne2, b.ne3]; ggml_get_rows: F32 [a.ne0, b.ne0, b.ne1, b.ne2]; element-wise
//    ops: ggml_dup_tensor of the first operand; ggml_flash_attn_ext: F32 [v.ne0, q.ne2, q.ne1, q.ne3];
//    ggml_set_rows: a view of the destination; ...).
//  * ggml_visit_parents_graph: depth first, sources in index order (GGML_CGRAPH_EVAL_ORDER_LEFT_TO_RIGHT),
//    a tensor is appended after its sources; op NONE tensors are leafs, all others nodes.
//  * ggml_impl_is_view: VIEW, RESHAPE, PERMUTE, TRANSPOSE.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "vramfit/model/dtype.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::llama_cpp::detail {

// The subset of `enum ggml_op` the modelled graphs use. Unary activations (silu, gelu, tanh,
// sigmoid, ...) are GGML_OP_UNARY in ggml and share one entry; the gated activations
// (swiglu, geglu, swiglu_oai) are GGML_OP_GLU.
enum class graph_op : std::uint8_t {
    none, view, reshape, permute, transpose,
    get_rows, set_rows, cpy, cont, concat, repeat,
    mul_mat, mul_mat_id, add, add_id, mul, div, scale, clamp,
    rms_norm, norm, rope, soft_max, flash_attn_ext,
    unary, glu, argsort, sum_rows, ssm_conv, ssm_scan,
};

// ggml_impl_is_view (ggml/src/ggml-impl.h).
[[nodiscard]] constexpr bool op_is_view(graph_op op) noexcept {
    return op == graph_op::view || op == graph_op::reshape || op == graph_op::permute || op == graph_op::transpose;
}

// ggml_op_can_inplace (ggml/src/ggml-alloc.c), restricted to the ops above: the allocator may give
// such a node the memory of a source that has no other consumer. NORM (layer norm), GLU, CPY,
// CONT, GET_ROWS, MUL_MAT... are not in the engine's list.
[[nodiscard]] constexpr bool op_can_inplace(graph_op op) noexcept {
    switch (op) {
        case graph_op::scale: case graph_op::add: case graph_op::add_id: case graph_op::mul:
        case graph_op::div: case graph_op::unary: case graph_op::rope: case graph_op::rms_norm:
        case graph_op::clamp: case graph_op::soft_max:
            return true;
        default:
            return false;
    }
}

// GGML_MAX_SRC is 10; the modelled ops use at most 7 (ggml_ssm_scan: s, x, dt, A, B, C, ids).
inline constexpr int graph_max_src = 7;

struct graph_tensor {
    graph_op op = graph_op::none;
    ggml_type type = ggml_type::f32;
    std::array<std::int64_t, 4> ne{1, 1, 1, 1};
    std::array<std::uint64_t, 4> nb{0, 0, 0, 0};
    std::array<std::int32_t, graph_max_src> src{-1, -1, -1, -1, -1, -1, -1};
    std::int32_t view_src = -1;        // root tensor this one views (ggml keeps the root)
    std::uint64_t view_offs = 0;
    bool input = false;                // GGML_TENSOR_FLAG_INPUT
    bool output = false;               // GGML_TENSOR_FLAG_OUTPUT
    bool external = false;             // has data outside the compute buffer (weights, KV cache)
    bool weight = false;               // in a weights buffer (GGML_BACKEND_BUFFER_USAGE_WEIGHTS)
    std::int8_t backend = -1;          // external tensors under a scheduler: the backend of their buffer
    // A node the engine assigns a backend before scheduling (ggml_backend_sched_set_tensor_backend):
    // -2 none, -1 the CPU, else that GPU backend.
    std::int8_t user_backend = -2;
};

// ggml_nbytes: the extent of a tensor with arbitrary strides (0 for an empty tensor).
[[nodiscard]] constexpr std::uint64_t tensor_nbytes(const graph_tensor& t) noexcept {
    for (const std::int64_t n : t.ne) if (n <= 0) return 0;
    const std::uint64_t blck = block_size(t.type);
    std::uint64_t size = 0;
    if (blck == 1) {
        size = bytes_per_block(t.type);
        for (int i = 0; i < 4; ++i) size += static_cast<std::uint64_t>(t.ne[i] - 1) * t.nb[i];
    } else {
        size = static_cast<std::uint64_t>(t.ne[0]) * t.nb[0] / blck;
        for (int i = 1; i < 4; ++i) size += static_cast<std::uint64_t>(t.ne[i] - 1) * t.nb[i];
    }
    return size;
}

// ggml_is_contiguous (ggml_is_contiguous_n(t, 0)): rows packed one after another, where a
// dimension of extent 1 may have any stride (compute_graph::is_contiguous is the stricter test
// that every stride is a fresh tensor's).
[[nodiscard]] constexpr bool ggml_contiguous(const graph_tensor& t) noexcept {
    const std::uint64_t blck = block_size(t.type);
    std::uint64_t next = bytes_per_block(t.type);
    if (static_cast<std::uint64_t>(t.ne[0]) != blck && t.nb[0] != next) return false;
    next *= static_cast<std::uint64_t>(t.ne[0]) / blck;
    for (std::size_t i = 1; i < 4; ++i) {
        if (t.ne[i] == 1) continue;
        if (t.nb[i] != next) return false;
        next *= static_cast<std::uint64_t>(t.ne[i]);
    }
    return true;
}

// A graph under construction: the tensor arena (ggml context) plus the node/leaf lists (cgraph).
class compute_graph {
public:
    std::vector<graph_tensor> tensors;
    std::vector<std::int32_t> nodes;
    std::vector<std::int32_t> leafs;

    constexpr compute_graph() { tensors.reserve(4096); }

    [[nodiscard]] constexpr const graph_tensor& at(std::int32_t id) const { return tensors[static_cast<std::size_t>(id)]; }
    [[nodiscard]] constexpr graph_tensor& at(std::int32_t id) { return tensors[static_cast<std::size_t>(id)]; }

    // ggml_new_tensor: contiguous strides (nb[0] = type size, nb[1] = row size, ...).
    constexpr std::int32_t new_tensor(ggml_type type, std::array<std::int64_t, 4> ne, graph_op op = graph_op::none) {
        graph_tensor t;
        t.op = op;
        t.type = type;
        t.ne = ne;
        set_contiguous_strides(t);
        return push(t);
    }

    // A tensor whose memory lives elsewhere: a weight or a KV cache tensor.
    constexpr std::int32_t external_tensor(ggml_type type, std::array<std::int64_t, 4> ne) {
        const std::int32_t id = new_tensor(type, ne);
        at(id).external = true;
        return id;
    }

    // ggml_new_tensor + ggml_set_input.
    constexpr std::int32_t input_tensor(ggml_type type, std::array<std::int64_t, 4> ne) {
        const std::int32_t id = new_tensor(type, ne);
        at(id).input = true;
        return id;
    }

    // ggml_dup_tensor(a) with an op and sources: same type and shape, contiguous.
    constexpr std::int32_t like(std::int32_t a, graph_op op, std::int32_t s0, std::int32_t s1 = -1, std::int32_t s2 = -1) {
        const std::int32_t id = new_tensor(at(a).type, at(a).ne, op);
        set_src(id, s0, s1, s2);
        return id;
    }

    // ggml_view_impl / ggml_new_tensor_impl with a view source: the view keeps the root tensor
    // and the accumulated offset; strides start contiguous and the callers overwrite them.
    constexpr std::int32_t view_of(std::int32_t a, graph_op op, std::array<std::int64_t, 4> ne, std::uint64_t offset) {
        graph_tensor t;
        t.op = op;
        t.type = at(a).type;
        t.ne = ne;
        set_contiguous_strides(t);
        std::int32_t root = a;
        std::uint64_t offs = offset;
        if (at(a).view_src >= 0) {
            root = at(a).view_src;
            offs += at(a).view_offs;
        }
        t.view_src = root;
        t.view_offs = offs;
        t.external = at(root).external;
        t.src[0] = a;
        return push(t);
    }

    // ggml_view_4d (and the 1d/2d/3d forms with trailing ones).
    constexpr std::int32_t view(std::int32_t a, std::array<std::int64_t, 4> ne, std::uint64_t nb1, std::uint64_t nb2,
                                std::uint64_t nb3, std::uint64_t offset) {
        const std::int32_t id = view_of(a, graph_op::view, ne, offset);
        at(id).nb[1] = nb1;
        at(id).nb[2] = nb2;
        at(id).nb[3] = nb3;
        return id;
    }

    // ggml_reshape_*: a contiguous view with a new shape.
    constexpr std::int32_t reshape(std::int32_t a, std::array<std::int64_t, 4> ne) {
        return view_of(a, graph_op::reshape, ne, 0);
    }

    // ggml_permute(a, axis0, axis1, axis2, axis3): dimension i of `a` becomes dimension axis_i.
    constexpr std::int32_t permute(std::int32_t a, int axis0, int axis1, int axis2, int axis3) {
        const std::int32_t id = view_of(a, graph_op::permute, at(a).ne, 0);
        const std::array<int, 4> axes{axis0, axis1, axis2, axis3};
        const auto src_ne = at(a).ne;
        const auto src_nb = at(a).nb;
        for (int i = 0; i < 4; ++i) {
            at(id).ne[static_cast<std::size_t>(axes[static_cast<std::size_t>(i)])] = src_ne[static_cast<std::size_t>(i)];
            at(id).nb[static_cast<std::size_t>(axes[static_cast<std::size_t>(i)])] = src_nb[static_cast<std::size_t>(i)];
        }
        return id;
    }

    // ggml_transpose: swap the first two dimensions.
    constexpr std::int32_t transpose(std::int32_t a) {
        const std::int32_t id = view_of(a, graph_op::transpose, at(a).ne, 0);
        auto& t = at(id);
        t.ne = {at(a).ne[1], at(a).ne[0], at(a).ne[2], at(a).ne[3]};
        t.nb = {at(a).nb[1], at(a).nb[0], at(a).nb[2], at(a).nb[3]};
        return id;
    }

    [[nodiscard]] constexpr bool is_contiguous(std::int32_t a) const {
        graph_tensor probe = at(a);
        set_contiguous_strides(probe);
        return probe.nb == at(a).nb;
    }

    // ggml_build_forward_expand: append every not yet visited ancestor of `root`, sources first
    // in index order, then the tensor itself (ggml_visit_parents_graph). Iterative, so deep chains
    // do not hit the constexpr recursion limit.
    constexpr void expand(std::int32_t root) {
        if (visited_.size() < tensors.size()) visited_.resize(tensors.size(), 0);
        if (visited_[static_cast<std::size_t>(root)]) return;
        struct frame { std::int32_t id; int next; };
        std::vector<frame> stack;
        visited_[static_cast<std::size_t>(root)] = 1;
        stack.push_back({root, 0});
        while (!stack.empty()) {
            frame& top = stack.back();
            if (top.next < graph_max_src) {
                const std::int32_t s = at(top.id).src[static_cast<std::size_t>(top.next)];
                ++top.next;
                if (s >= 0 && !visited_[static_cast<std::size_t>(s)]) {
                    visited_[static_cast<std::size_t>(s)] = 1;
                    stack.push_back({s, 0});
                }
                continue;
            }
            const std::int32_t id = top.id;
            stack.pop_back();
            if (at(id).op == graph_op::none) leafs.push_back(id);
            else nodes.push_back(id);
        }
    }

    constexpr void set_src(std::int32_t id, std::int32_t s0, std::int32_t s1 = -1, std::int32_t s2 = -1,
                           std::int32_t s3 = -1, std::int32_t s4 = -1, std::int32_t s5 = -1, std::int32_t s6 = -1) {
        at(id).src = {s0, s1, s2, s3, s4, s5, s6};
    }

private:
    std::vector<std::uint8_t> visited_;  // not vector<bool>: Clang 14 cannot evaluate it in constant expressions

    constexpr std::int32_t push(const graph_tensor& t) {
        tensors.push_back(t);
        visited_.push_back(0);
        return static_cast<std::int32_t>(tensors.size() - 1);
    }

    static constexpr void set_contiguous_strides(graph_tensor& t) {
        t.nb[0] = bytes_per_block(t.type);
        t.nb[1] = row_size(t.type, t.ne[0]).count();
        t.nb[2] = t.nb[1] * static_cast<std::uint64_t>(t.ne[1]);
        t.nb[3] = t.nb[2] * static_cast<std::uint64_t>(t.ne[2]);
    }
};

} // namespace vramfit::llama_cpp::detail
