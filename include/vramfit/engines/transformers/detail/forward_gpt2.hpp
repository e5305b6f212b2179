// vramfit/engines/transformers/detail/forward_gpt2.hpp — the forward of GPT2LMHeadModel (modeling_gpt2.py),
// replayed as activations.hpp describes. The config's GPT2Config defaults are assumed where the
// model config holds no field: activation_function "gelu_new", no reorder_and_upcast_attn, no
// cross-attention.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/detail/replay_attention.hpp"
#include "vramfit/engines/transformers/detail/replay_cache.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {
namespace gpt2 {

// activations.py NewGELUActivation.forward on `n` bytes, its input live (held by the caller):
// `0.5 * x * (1.0 + tanh(c * (x + 0.044715 * pow(x, 3.0))))`, every op a new tensor, the left
// factor `0.5 * x` held while the right one is built; leaves its output live.
constexpr std::uint64_t new_gelu(tracker& t, std::uint64_t n) noexcept {
    const std::uint64_t half = t.alloc(n);  // 0.5 * x
    const std::uint64_t pw = t.alloc(n);    // pow(x, 3.0)
    const std::uint64_t m1 = t.alloc(n);    // 0.044715 * ...
    t.free(pw);
    const std::uint64_t sum = t.alloc(n);   // x + ...
    t.free(m1);
    const std::uint64_t m2 = t.alloc(n);    // c * ...
    t.free(sum);
    const std::uint64_t th = t.alloc(n);    // tanh
    t.free(m2);
    const std::uint64_t one = t.alloc(n);   // 1.0 + ...
    t.free(th);
    const std::uint64_t out = t.alloc(n);   // half * ...
    t.free(half);
    t.free(one);
    return out;
}

// modeling_gpt2.py eager_attention_forward and the reshape in GPT2Attention.forward, from the
// cached keys/values and the query (a view of c_attn's fused output); returns the output
// `[batch, q, hidden]` and the softmax weights the block keeps (`attn_output, _ = self.attn(...)`).
constexpr attn_out eager(tracker& t, const shape& s, std::uint64_t mask) noexcept {
    const std::uint64_t q_bytes = s.batch * s.heads * s.q * s.head_dim * s.e;
    const std::uint64_t scores = s.batch * s.heads * s.q * s.kv_len();
    // torch.matmul folds [batch, heads] into one bmm batch: the query's strides (a slice of the
    // fused [batch, q, 3·hidden]) allow that as a view only for batch 1, else it is copied
    const std::uint64_t qc = s.batch > 1 ? t.alloc(q_bytes) : 0;
    const std::uint64_t mm = t.alloc(scores * s.e);
    t.free(qc);
    const std::uint64_t w = scale_and_mask(t, s, scores, mm, mask != 0);
    // softmax in the scores' dtype; `.type(value.dtype)` and eval dropout return it unchanged
    const std::uint64_t probs = t.alloc(scores * s.e);
    t.free(w);
    const std::uint64_t av = t.alloc(q_bytes);
    // `transpose(1, 2)` then GPT2Attention.forward's reshape: a copy unless one token
    const bool copy = s.q > 1 && s.heads > 1;
    const std::uint64_t out = copy ? t.alloc(q_bytes) : av;
    if (copy) t.free(av);
    return {out, probs};
}

// The last GPT2Block.forward, its input `x` live (held by the caller).
constexpr void block(tracker& t, const shape& s, std::uint64_t mask) noexcept {
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    const std::uint64_t n1 = layer_norm(t, s, rows, s.hidden);  // ln_1
    // GPT2Attention.forward: Conv1D c_attn (addmm) gives q, k, v as views of one tensor, which
    // the query keeps until the attention returns
    const std::uint64_t qkv = t.alloc(rows * 3 * s.hidden * s.e);
    // DynamicLayer.update: cat with what is cached (an empty tensor on the first update)
    dynamic_update(t, s);
    // sdpa: no mask without padding, heads = kv heads; the kernel's output is already in the
    // [batch, q, heads, head_dim] layout the reshape wants
    const auto a = s.eager ? eager(t, s, mask) : attention_core(t, s, 0);
    const std::uint64_t o = t.alloc(hb);  // c_proj
    t.free(a.out);
    t.free(qkv);
    const std::uint64_t h = t.alloc(hb);  // attn_output + residual
    t.free(n1);
    const std::uint64_t n2 = layer_norm(t, s, rows, s.hidden);  // ln_2
    // GPT2MLP.forward: c_fc, act, c_proj, each result rebinding `hidden_states`
    const std::uint64_t ib = rows * s.inter * s.e;
    const std::uint64_t fc = t.alloc(ib);
    const std::uint64_t act = new_gelu(t, ib);
    t.free(fc);
    const std::uint64_t ff = t.alloc(hb);
    t.free(act);
    const std::uint64_t out = t.alloc(hb);  // residual + feed_forward_hidden_states
    t.free(n2);
    t.free(h);
    t.free(ff);
    t.free(a.weights);
    t.free(o);
    (void)out;  // stays: the model's loop variable
}

// One forward of GPT2LMHeadModel from the inputs to the logits as one device sees it.
// `resident`: bytes already live there besides the weights and the cache.
constexpr tracker forward(const model_config&, const shape& s, bool round512, std::uint64_t resident,
                          const device_share& d) noexcept {
    auto t = tracker::starting(round512, resident);
    const std::uint64_t hb = s.tokens() * s.hidden * s.e;
    local_caches_before(t, d, 2 * s.kv_tensor(s.past));
    // GPT2Model.forward: inputs_embeds = wte(input_ids)
    const std::uint64_t embeds = d.embedding ? t.alloc(hb) : 0;
    const std::uint64_t pos = position_ids(t, s, d.embedding);
    // wpe(position_ids) over position_ids' batch (1 for the arange, `batch` in generate()), then
    // `inputs_embeds + position_embeds`; `self.drop` returns it unchanged in eval
    const std::uint64_t pids = (s.decode ? s.batch : 1) * s.q;
    const std::uint64_t pe = d.embedding ? t.alloc(pids * s.hidden * s.e) : 0;
    const std::uint64_t x0 = d.embedding ? t.alloc(hb) : 0;
    const std::uint64_t mask = eager_causal_mask(t, s, d.embedding || d.count != 0);
    if (d.count != 0) {
        // the last local layer runs with its input (the sum, the previous layer's output, or on a
        // later device the copy its hook made, beside the moved position_ids that
        // GPT2Model.forward passes to every block)
        earlier_layers_grown(t, d.count, 2 * s.kv_tensor(s.past), 2 * s.kv_tensor(s.kv_len()));
        const std::uint64_t x = d.embedding ? x0 : t.alloc(hb);
        const std::uint64_t pos_copy = d.embedding ? 0 : t.alloc(pids * 8);
        block(t, s, mask);
        t.free(pos_copy);
        if (!d.embedding) t.free(mask);  // the hook's copies go when the block returns
        t.free(x);  // the loop variable moves to the last layer's output
    } else {
        t.free(x0);  // the layers run elsewhere; their output replaces it
    }
    // ln_f, GPT2Model.forward returns, GPT2LMHeadModel's lm_head (tied to wte)
    if (d.head)
        norm_and_head(t, s, d.count != 0, [&] { return layer_norm(t, s, s.tokens(), s.hidden); },
                      {pos, embeds, pe, d.embedding ? mask : 0});
    return t;
}

}  // namespace gpt2

using gpt2_rules = replayed<gpt2::forward>;

}  // namespace vramfit::transformers::detail::act
