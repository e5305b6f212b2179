// vramfit/engines/transformers/detail/forward_gpt2.hpp — the forward of GPT2LMHeadModel (modeling_gpt2.py),
// replayed as activations.hpp describes. The config's GPT2Config defaults are assumed where the
// model config holds no field: activation_function "gelu_new", no reorder_and_upcast_attn, no
// cross-attention.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
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
    const std::uint64_t scores = s.batch * s.heads * s.q * s.kv_len() * s.e;
    // torch.matmul folds [batch, heads] into one bmm batch: the query's strides (a slice of the
    // fused [batch, q, 3·hidden]) allow that as a view only for batch 1, else it is copied
    const std::uint64_t qc = s.batch > 1 ? t.alloc(q_bytes) : 0;
    const std::uint64_t mm = t.alloc(scores);
    t.free(qc);
    const std::uint64_t scaled = t.alloc(scores);  // * scaling
    t.free(mm);
    std::uint64_t w = scaled;
    if (mask != 0) { w = t.alloc(scores); t.free(scaled); }  // + attention_mask
    // softmax in the scores' dtype; `.type(value.dtype)` and eval dropout return it unchanged
    const std::uint64_t probs = t.alloc(scores);
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
    t.alloc_kv(s.kv_tensor(s.kv_len()));
    t.free_kv(s.kv_tensor(s.past));
    t.alloc_kv(s.kv_tensor(s.kv_len()));
    t.free_kv(s.kv_tensor(s.past));
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
constexpr tracker forward(const shape& s, bool round512, std::uint64_t resident,
                         const device_share& d) noexcept {
    tracker t{round512};
    t.alloc(resident);
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    // the cache of every local layer before the last, as the last layer finds it
    if (d.count != 0) t.alloc_kv(2 * s.kv_tensor(s.past) * d.count);
    // GPT2Model.forward: inputs_embeds = wte(input_ids)
    const std::uint64_t embeds = d.embedding ? t.alloc(hb) : 0;
    // position ids: `arange(...) + past_seen_tokens` when not given (a forward); generate() passes its own
    std::uint64_t pos = 0;
    if (d.embedding && !s.decode) {
        const std::uint64_t ar = t.alloc(s.q * 8);
        pos = t.alloc(s.q * 8);
        t.free(ar);
    }
    // wpe(position_ids) over position_ids' batch (1 for the arange, `batch` in generate()), then
    // `inputs_embeds + position_embeds`; `self.drop` returns it unchanged in eval
    const std::uint64_t pids = (s.decode ? s.batch : 1) * s.q;
    const std::uint64_t pe = d.embedding ? t.alloc(pids * s.hidden * s.e) : 0;
    const std::uint64_t x0 = d.embedding ? t.alloc(hb) : 0;
    // create_causal_mask: None for sdpa without padding; eager adds a float [batch, 1, q, kv] mask
    const bool here = d.embedding || d.count != 0;
    const std::uint64_t mask = s.eager && here ? t.alloc(s.batch * s.q * s.kv_len() * s.e) : 0;
    std::uint64_t last = 0;
    if (d.count != 0) {
        // the local layers but the last leave their cache; the last one runs with its input (the
        // sum, the previous layer's output, or on a later device the copy its hook made, beside
        // the moved position_ids that GPT2Model.forward passes to every block)
        t.alloc_kv(2 * (s.kv_tensor(s.kv_len()) - s.kv_tensor(s.past)) * (d.count - 1));
        const std::uint64_t x = d.embedding ? x0 : t.alloc(hb);
        const std::uint64_t pos_copy = d.embedding ? 0 : t.alloc(pids * 8);
        block(t, s, mask);
        t.free(pos_copy);
        if (!d.embedding) t.free(mask);  // the hook's copies go when the block returns
        t.free(x);  // the loop variable moves to the last layer's output
        last = hb;
    } else {
        t.free(x0);  // the layers run elsewhere; their output replaces it
    }
    if (d.head) {
        if (last == 0) last = t.alloc(hb);  // moved here when the layers are elsewhere
        const std::uint64_t normed = layer_norm(t, s, rows, s.hidden);  // ln_f
        t.free(last);
        // GPT2Model.forward returns: its locals go
        t.free(pos);
        t.free(embeds);
        t.free(pe);
        if (d.embedding) t.free(mask);
        // GPT2LMHeadModel: lm_head (tied to wte) on the last logits_rows positions
        const std::uint64_t logits = t.alloc(s.batch * s.logits_rows * s.vocab * s.e);
        (void)normed; (void)logits;
    }
    return t;
}

}  // namespace gpt2

struct gpt2_rules {
    static constexpr bool modelled = true;
    [[nodiscard]] static constexpr tracker forward(const model_config&, const shape& s, bool round512,
                                                   std::uint64_t resident, const device_share& d) noexcept {
        return gpt2::forward(s, round512, resident, d);
    }
};

}  // namespace vramfit::transformers::detail::act
