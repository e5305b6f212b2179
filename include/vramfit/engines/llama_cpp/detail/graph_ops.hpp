// vramfit/engines/llama_cpp/detail/graph_ops.hpp — the ggml operators, shapes only.
//
// Each function mirrors the ggml.c constructor of the same name (llama.cpp 1425386f, ggml 0.17.0):
// the result's type and shape, which operands become src[0..], and whether the result is a new
// tensor, a copy of the first operand's shape (ggml_dup_tensor), or a view.
#pragma once

#include <cstdint>

#include "vramfit/engines/llama_cpp/detail/compute_graph.hpp"

namespace vramfit::llama_cpp::detail {

using tid = std::int32_t;

class graph_ops {
public:
    compute_graph& g;

    constexpr explicit graph_ops(compute_graph& graph) : g(graph) {}

    [[nodiscard]] constexpr const std::array<std::int64_t, 4>& ne(tid t) const { return g.at(t).ne; }
    [[nodiscard]] constexpr std::int64_t nelements(tid t) const { const auto& n = ne(t); return n[0] * n[1] * n[2] * n[3]; }

    // ggml_mul_mat: F32 [a.ne1, b.ne1, b.ne2, b.ne3].
    constexpr tid mul_mat(tid a, tid b) {
        const tid r = g.new_tensor(ggml_type::f32, {ne(a)[1], ne(b)[1], ne(b)[2], ne(b)[3]}, graph_op::mul_mat);
        g.set_src(r, a, b);
        return r;
    }
    // ggml_mul_mat_id(as, b, ids): F32 [as.ne1, ids.ne0, b.ne2, 1].
    constexpr tid mul_mat_id(tid as, tid b, tid ids) {
        const tid r = g.new_tensor(ggml_type::f32, {ne(as)[1], ne(ids)[0], ne(b)[2], 1}, graph_op::mul_mat_id);
        g.set_src(r, as, b, ids);
        return r;
    }
    // ggml_get_rows: [a.ne0, b.ne0, b.ne1, b.ne2], F32 unless `a` is I32.
    constexpr tid get_rows(tid a, tid b) {
        const ggml_type type = g.at(a).type == ggml_type::i32 ? ggml_type::i32 : ggml_type::f32;
        const tid r = g.new_tensor(type, {ne(a)[0], ne(b)[0], ne(b)[1], ne(b)[2]}, graph_op::get_rows);
        g.set_src(r, a, b);
        return r;
    }
    // ggml_set_rows: the result is a view of the destination (ggml_view_tensor(a)).
    constexpr tid set_rows(tid a, tid b, tid c) {
        const tid r = g.view_of(a, graph_op::none, ne(a), 0);
        g.at(r).op = graph_op::set_rows;
        g.at(r).nb = g.at(a).nb;
        g.set_src(r, a, b, c);
        return r;
    }
    // Element-wise binary ops (ggml_add_impl, ggml_mul_impl, ggml_div_impl): ggml_dup_tensor(a).
    constexpr tid add(tid a, tid b) { return g.like(a, graph_op::add, a, b); }
    constexpr tid mul(tid a, tid b) { return g.like(a, graph_op::mul, a, b); }
    constexpr tid div(tid a, tid b) { return g.like(a, graph_op::div, a, b); }
    constexpr tid add_id(tid a, tid b, tid ids) { return g.like(a, graph_op::add_id, a, b, ids); }
    // ggml_scale, ggml_clamp, ggml_unary (silu, gelu, tanh, sigmoid): ggml_dup_tensor(a).
    constexpr tid scale(tid a) { return g.like(a, graph_op::scale, a); }
    constexpr tid clamp(tid a) { return g.like(a, graph_op::clamp, a); }
    constexpr tid unary(tid a) { return g.like(a, graph_op::unary, a); }
    constexpr tid rms_norm(tid a) { return g.like(a, graph_op::rms_norm, a); }
    constexpr tid norm(tid a) { return g.like(a, graph_op::norm, a); }
    // ggml_rope_ext(a, pos, freq_factors): ggml_dup_tensor(a), src = {a, pos, freq_factors}.
    constexpr tid rope(tid a, tid pos, tid freq = -1) { return g.like(a, graph_op::rope, a, pos, freq); }
    // ggml_soft_max_ext(a, mask) (+ ggml_soft_max_add_sinks: src[2]).
    constexpr tid soft_max(tid a, tid mask = -1, tid sinks = -1) { return g.like(a, graph_op::soft_max, a, mask, sinks); }
    // ggml_flash_attn_ext: F32 [v.ne0, q.ne2, q.ne1, q.ne3] (+ sinks as src[4]).
    constexpr tid flash_attn_ext(tid q, tid k, tid v, tid mask, tid sinks = -1) {
        const tid r = g.new_tensor(ggml_type::f32, {ne(v)[0], ne(q)[2], ne(q)[1], ne(q)[3]}, graph_op::flash_attn_ext);
        g.set_src(r, q, k, v, mask, sinks);
        return r;
    }
    // ggml_cont_4d / ggml_cont_2d / ggml_cont: a contiguous copy of `a` with the given shape.
    constexpr tid cont(tid a, std::array<std::int64_t, 4> shape) {
        const tid r = g.new_tensor(g.at(a).type, shape, graph_op::cont);
        g.set_src(r, a);
        return r;
    }
    constexpr tid cont(tid a) { return cont(a, ne(a)); }
    constexpr tid cont_2d(tid a, std::int64_t ne0, std::int64_t ne1) { return cont(a, {ne0, ne1, 1, 1}); }
    // ggml_concat(a, b, dim): a.ne with ne[dim] = a.ne[dim] + b.ne[dim].
    constexpr tid concat(tid a, tid b, int dim) {
        auto shape = ne(a);
        shape[static_cast<std::size_t>(dim)] += ne(b)[static_cast<std::size_t>(dim)];
        const tid r = g.new_tensor(g.at(a).type, shape, graph_op::concat);
        g.set_src(r, a, b);
        return r;
    }
    // ggml_repeat(a, b): a's type in b's shape.
    constexpr tid repeat(tid a, tid b) {
        const tid r = g.new_tensor(g.at(a).type, ne(b), graph_op::repeat);
        g.set_src(r, a, b);
        return r;
    }
    // ggml_glu_impl with a second operand (swiglu_split, geglu_split, swiglu_oai): dup of a.
    constexpr tid glu_split(tid a, tid b) { return g.like(a, graph_op::glu, a, b); }
    // ggml_glu_impl without b (swiglu of a fused gate|up row): half the first dimension.
    constexpr tid glu(tid a) {
        const tid r = g.new_tensor(g.at(a).type, {ne(a)[0] / 2, ne(a)[1], ne(a)[2], ne(a)[3]}, graph_op::glu);
        g.set_src(r, a);
        return r;
    }
    // ggml_argsort: I32 of a's shape. ggml_argsort_top_k: a view of the first k columns.
    constexpr tid argsort_top_k(tid a, std::int64_t k) {
        const tid sorted = g.new_tensor(ggml_type::i32, ne(a), graph_op::argsort);
        g.set_src(sorted, a);
        const auto& s = g.at(sorted);
        return g.view(sorted, {k, s.ne[1], s.ne[2], s.ne[3]}, s.nb[1], s.nb[2], s.nb[3], 0);
    }
    // ggml_cpy(a, b): the result is a view of the destination b.
    constexpr tid cpy(tid a, tid b) {
        const tid r = g.view_of(b, graph_op::none, ne(b), 0);
        g.at(r).op = graph_op::cpy;
        g.at(r).nb = g.at(b).nb;
        g.set_src(r, a, b);
        return r;
    }
    // ggml_scale_inplace: a view of `a` (ggml_view_tensor) computed in place.
    constexpr tid scale_inplace(tid a) {
        const tid r = g.view_of(a, graph_op::none, ne(a), 0);
        g.at(r).op = graph_op::scale;
        g.at(r).nb = g.at(a).nb;
        g.set_src(r, a);
        return r;
    }
    // ggml_ssm_conv(sx, c): F32 [sx.ne1, sx.ne0 - c.ne0 + 1, sx.ne2].
    constexpr tid ssm_conv(tid sx, tid c) {
        const tid r = g.new_tensor(ggml_type::f32, {ne(sx)[1], ne(sx)[0] - ne(c)[0] + 1, ne(sx)[2], 1}, graph_op::ssm_conv);
        g.set_src(r, sx, c);
        return r;
    }
    // ggml_ssm_scan: F32 1-d, y (nelements(x)) followed by the final states (s.ne0*s.ne1*s.ne2*ids.ne0).
    constexpr tid ssm_scan(tid s, tid x, tid dt, tid A, tid B, tid C, tid ids) {
        const std::int64_t n = nelements(x) + ne(s)[0] * ne(s)[1] * ne(s)[2] * ne(ids)[0];
        const tid r = g.new_tensor(ggml_type::f32, {n, 1, 1, 1}, graph_op::ssm_scan);
        g.set_src(r, s, x, dt, A, B, C, ids);
        return r;
    }
    // ggml_sum_rows: F32 [1, a.ne1, a.ne2, a.ne3].
    constexpr tid sum_rows(tid a) {
        const tid r = g.new_tensor(ggml_type::f32, {1, ne(a)[1], ne(a)[2], ne(a)[3]}, graph_op::sum_rows);
        g.set_src(r, a);
        return r;
    }

    constexpr tid reshape(tid a, std::int64_t n0, std::int64_t n1 = 1, std::int64_t n2 = 1, std::int64_t n3 = 1) {
        return g.reshape(a, {n0, n1, n2, n3});
    }
    constexpr tid view(tid a, std::array<std::int64_t, 4> shape, std::uint64_t nb1, std::uint64_t nb2, std::uint64_t nb3,
                       std::uint64_t offset) {
        return g.view(a, shape, nb1, nb2, nb3, offset);
    }
    constexpr tid permute(tid a, int x0, int x1, int x2, int x3) { return g.permute(a, x0, x1, x2, x3); }
    constexpr tid transpose(tid a) { return g.transpose(a); }
    [[nodiscard]] constexpr std::uint64_t row_bytes(tid a, std::int64_t n) const { return row_size(g.at(a).type, n).count(); }
};

} // namespace vramfit::llama_cpp::detail
