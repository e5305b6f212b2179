// vramfit/engines/transformers/detail/replay_experts.hpp — the experts of a mixture-of-experts
// block through integrations/moe.py (the `@use_experts_implementation` classes: MixtralExperts,
// Qwen2MoeExperts, Qwen3MoeExperts, DeepseekV2Experts, GptOssExperts). A forward runs the
// default implementation, grouped_mm_experts_forward; generate()'s decode steps run
// batched_mm_experts_forward (generation/utils.py `_optimize_model_for_decode` swaps it in on
// any non-CPU device). Neither depends on how the tokens are routed.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"

namespace vramfit::transformers::detail::act {

// What the experts classes differ in.
enum class experts_gate : std::uint8_t {
    act_mul,      // _default_apply_gate: `act_fn(gate) * up` over the chunked gate_up output
    gpt_oss_glu,  // GptOssExperts._apply_gate: clamps, `gate * sigmoid(gate * alpha)`, `(up + 1) * glu`
};

struct experts_dims {
    std::uint64_t experts = 0, top_k = 0, inter = 0;  // num_experts, num_experts_per_tok, the experts' width
    std::uint64_t score_e = 4;  // bytes of one routing weight (the router's output dtype)
    bool bias = false;          // gate_up_proj_bias / down_proj_bias (has_bias)
    experts_gate gate = experts_gate::act_mul;

    // bytes of one element of `proj_out * sample_weights` (type promotion)
    [[nodiscard]] constexpr std::uint64_t weighted_e(const shape& s) const noexcept {
        return score_e > s.e ? score_e : s.e;
    }
};

// The gate on `n` bytes of the gate half (and of the up half) of the live gate_up output; returns
// the gated output (live).
constexpr std::uint64_t apply_gate(tracker& t, experts_gate g, std::uint64_t n) noexcept {
    if (g == experts_gate::act_mul) {
        const std::uint64_t act = t.alloc(n);
        const std::uint64_t gated = t.alloc(n);
        t.free(act);
        return gated;
    }
    const std::uint64_t gate = t.alloc(n), up = t.alloc(n);  // the clamps
    const std::uint64_t ga = t.alloc(n);                     // gate * alpha
    const std::uint64_t sg = t.alloc(n);
    t.free(ga);
    const std::uint64_t glu = t.alloc(n);
    t.free(sg);
    const std::uint64_t up1 = t.alloc(n);
    const std::uint64_t out = t.alloc(n);  // (up + 1) * glu
    t.free(up1);
    t.free(gate);
    t.free(up);
    t.free(glu);
    return out;
}

// Both implementations' projections of `S` (token, expert) pairs, their input live: the
// gate_up projection (`gathered`: batched_mm's gate_up_proj[expert_ids] first; the per-row bias
// gathered before it, added in place), the gate, then the down projection the same way. The
// selected down weights and biases and `proj_out` stay referenced to the end of the function.
struct projected { std::uint64_t down = 0, weights = 0, bias = 0; };

constexpr projected project(tracker& t, const shape& s, const experts_dims& m, std::uint64_t S, bool gathered) noexcept {
    const std::uint64_t H = s.hidden, I = m.inter, e = s.e;
    projected p{};
    const std::uint64_t w_up = gathered ? t.alloc(S * 2 * I * H * e) : 0;
    const std::uint64_t up_bias = m.bias ? t.alloc(S * 2 * I * e) : 0;
    const std::uint64_t gate_up = t.alloc(S * 2 * I * e);
    const std::uint64_t gated = apply_gate(t, m.gate, S * I * e);
    t.free(gate_up);
    p.weights = gathered ? t.alloc(S * H * I * e) : 0;
    t.free(w_up);
    p.bias = m.bias ? t.alloc(S * H * e) : 0;
    t.free(up_bias);
    p.down = t.alloc(S * H * e);
    t.free(gated);
    return p;
}

// `weighted_out.sum(dim=1)` over top_k in the weighting's dtype, then `.to(hidden_states.dtype)`
// (a no-op where they agree). Returns the output (live); the sum goes with the function.
struct reduced { std::uint64_t sum = 0, out = 0; };

constexpr reduced reduce(tracker& t, const shape& s, const experts_dims& m, std::uint64_t n) noexcept {
    const std::uint64_t we = m.weighted_e(s);
    const std::uint64_t sum = t.alloc(n * s.hidden * we);
    if (we == s.e) return {0, sum};
    return {sum, t.alloc(n * s.hidden * s.e)};
}

// grouped_mm_experts_forward on `n` tokens: sort the (token, expert) pairs by expert, gather their
// tokens and weights, histc/cumsum offsets (int32 on CUDA), the grouped projections, the
// weighting, the inverse permutation, the sum over top_k. Returns the output (live).
constexpr std::uint64_t grouped_mm(tracker& t, const shape& s, const experts_dims& m, std::uint64_t n) noexcept {
    const std::uint64_t S = n * m.top_k, H = s.hidden, we = m.weighted_e(s);
    const std::uint64_t sorted = t.alloc(S * 8), perm = t.alloc(S * 8);  // torch.sort
    const std::uint64_t src = t.alloc(S * 8);                           // perm // num_top_k
    const std::uint64_t gathered = t.alloc(S * H * s.e);
    t.free(src);
    const std::uint64_t w_g = t.alloc(S * m.score_e);  // sample_weights[perm]
    const std::uint64_t ids32 = t.alloc(S * 4);        // histc input
    const std::uint64_t hist = t.alloc(m.experts * 4), offsets = t.alloc(m.experts * 4);
    const projected p = project(t, s, m, S, false);
    const std::uint64_t weighted = t.alloc(S * H * we);
    const std::uint64_t inv = t.alloc(S * 8);
    t.free(t.alloc(S * 8));  // arange for inv_perm
    const std::uint64_t restored = t.alloc(S * H * we);  // weighted_out[inv_perm]
    t.free(weighted);
    const reduced r = reduce(t, s, m, n);
    t.free(sorted); t.free(perm); t.free(gathered); t.free(w_g); t.free(ids32);
    t.free(hist); t.free(offsets); t.free(p.bias); t.free(p.down); t.free(restored); t.free(inv);
    t.free(r.sum);
    return r.out;
}

// batched_mm_experts_forward on `n` tokens: every token repeated top_k times, each pair's
// gate_up_proj and down_proj (and biases) gathered, bmm. Returns the output (live).
constexpr std::uint64_t batched_mm(tracker& t, const shape& s, const experts_dims& m, std::uint64_t n) noexcept {
    const std::uint64_t S = n * m.top_k;
    const std::uint64_t rep = t.alloc(S * s.hidden * s.e);  // repeat_interleave
    const projected p = project(t, s, m, S, true);
    const std::uint64_t weighted = t.alloc(S * s.hidden * m.weighted_e(s));
    const reduced r = reduce(t, s, m, n);
    t.free(rep); t.free(p.weights); t.free(p.bias); t.free(p.down); t.free(weighted);
    t.free(r.sum);
    return r.out;
}

// The experts implementation the forward runs.
constexpr std::uint64_t experts(tracker& t, const shape& s, const experts_dims& m, std::uint64_t n) noexcept {
    return s.decode ? batched_mm(t, s, m, n) : grouped_mm(t, s, m, n);
}

}  // namespace vramfit::transformers::detail::act
