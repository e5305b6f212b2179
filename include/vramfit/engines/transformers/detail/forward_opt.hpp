// vramfit/engines/transformers/detail/forward_opt.hpp — the forward of OPTForCausalLM (modeling_opt.py),
// replayed as activations.hpp describes.
//
// Where OPT differs from the Llama replay:
//  * the residual stream starts as `inputs_embeds + pos_embeds` (OPTDecoder.forward), a tensor of
//    its own beside both, which stay referenced until the decoder returns; with
//    word_embed_proj_dim != hidden_size, project_in replaces inputs_embeds and project_out follows
//    final_layer_norm;
//  * positions come from the attention mask (OPTDecoder.forward: cumsum, `* mask - 1`, then
//    OPTLearnedPositionalEmbedding adds its offset 2); generate() passes position_ids and no
//    attention_mask (all ones), so the decoder makes a float32 ones mask of the whole length;
//  * nn.LayerNorm, pre- or post-attention by do_layer_norm_before; fc1 → activation → fc2;
//  * the query is scaled after q_proj (`* self.scaling`) and the kernel gets scaling 1.0, which
//    eager_attention_forward still multiplies by (replay_attention.hpp attention_core);
//  * no rotary embedding, no grouped heads.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/engines/transformers/detail/replay_attention.hpp"
#include "vramfit/engines/transformers/detail/replay_cache.hpp"
#include "vramfit/model/config.hpp"
#include "vramfit/model/dtype.hpp"

namespace vramfit::transformers::detail::act {

// What of the config the OPT replay reads besides the shape.
struct opt_dims {
    std::uint64_t proj = 0;   // word_embed_proj_dim (embed_tokens' and lm_head's width)
    bool projected = false;   // project_in / project_out exist
    bool pre_norm = true;     // do_layer_norm_before, and with it OPTDecoder.final_layer_norm
                              // (_remove_final_layer_norm taken as false, its default)
};

[[nodiscard]] constexpr opt_dims opt_dims_of(const model_config& c, const shape& s) noexcept {
    opt_dims o{};
    o.proj = c.word_embed_proj_dim != 0 ? c.word_embed_proj_dim : s.hidden;
    o.projected = o.proj != s.hidden;
    o.pre_norm = c.do_layer_norm_before;
    return o;
}

// The last decoder layer (OPTDecoderLayer.forward), its input live (held by the caller); returns
// its output, left live.
constexpr std::uint64_t opt_layer(tracker& t, const shape& s, const opt_dims& o, std::uint64_t mask) noexcept {
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    // `residual = hidden_states`; self_attn_layer_norm before attention when do_layer_norm_before
    const std::uint64_t normed = o.pre_norm ? layer_norm(t, s, rows, s.hidden) : 0;
    // OPTAttention.forward: `q_proj(hidden_states) * self.scaling`, k_proj, v_proj
    const std::uint64_t qp = t.alloc(hb);
    const std::uint64_t q = t.alloc(hb);
    t.free(qp);
    const std::uint64_t k = t.alloc(rows * s.kv_heads * s.head_dim * s.e);
    const std::uint64_t v = t.alloc(rows * s.kv_heads * s.head_dim * s.e);
    // DynamicLayer.update; key_states/value_states then name the cache's tensors
    dynamic_update(t, s);
    t.free(k);
    t.free(v);
    // modeling_opt.py eager_attention_forward is the Llama one without grouped heads; the scaling
    // it multiplies by is 1.0 from OPTAttention
    const attn_out a = attention_core(t, s, mask);
    const std::uint64_t out_proj = t.alloc(hb);
    t.free(a.out);
    t.free(q);       // OPTAttention.forward returns
    t.free(normed);  // `hidden_states, _ = self.self_attn(...)`
    std::uint64_t h = t.alloc(hb);  // residual + hidden_states
    t.free(out_proj);
    if (!o.pre_norm) { const std::uint64_t n = layer_norm(t, s, rows, s.hidden); t.free(h); h = n; }
    // `residual = hidden_states` (reshaped); final_layer_norm before fc1 when do_layer_norm_before
    const std::uint64_t normed2 = o.pre_norm ? layer_norm(t, s, rows, s.hidden) : 0;
    const std::uint64_t ib = rows * s.inter * s.e;
    const std::uint64_t fc1 = t.alloc(ib);
    t.free(normed2);
    const std::uint64_t act = t.alloc(ib);  // activation_fn (ReLU)
    t.free(fc1);
    const std::uint64_t fc2 = t.alloc(hb);
    t.free(act);
    std::uint64_t out = t.alloc(hb);  // (residual + hidden_states).view(...)
    t.free(fc2);
    if (!o.pre_norm) { const std::uint64_t n = layer_norm(t, s, rows, s.hidden); t.free(out); out = n; }
    t.free(h);          // `residual`
    t.free(a.weights);  // `_` held to the end
    return out;
}

// One forward of OPTForCausalLM from the inputs to the logits as one device sees it.
// `resident`: bytes already live there besides the weights and the cache (inputs, generate()'s
// state). Positions: a plain forward gets the attention mask and takes the cumsum path; inside
// generate() (s.decode) position_ids are given and the mask is None.
constexpr tracker opt_forward(const model_config& c, const shape& s, bool round512, std::uint64_t resident,
                              const device_share& d) noexcept {
    const opt_dims o = opt_dims_of(c, s);
    auto t = tracker::starting(round512, resident);
    const std::uint64_t rows = s.tokens();
    const std::uint64_t hb = rows * s.hidden * s.e;
    const std::uint64_t kv = s.kv_len();
    local_caches_before(t, d, 2 * s.kv_tensor(s.past));
    const bool emb = d.embedding;
    const bool here = emb || d.count != 0;
    // OPTDecoder.forward: embed_tokens at word_embed_proj_dim
    std::uint64_t embeds = emb ? t.alloc(rows * o.proj * s.e) : 0;
    // positions: generate() gives position_ids and no mask, so `torch.ones(batch, past + q)` in
    // float32 stands in for it; a plain forward runs `cumsum(mask) * mask - 1` over the whole
    // mask and keeps the result (its `[:, past:]` slice is a view)
    std::uint64_t ones = 0, pos = 0;
    if (emb && s.decode) {
        ones = t.alloc(s.batch * kv * 4);
    } else if (emb) {
        const std::uint64_t cs = t.alloc(s.batch * kv * 8);
        const std::uint64_t mul = t.alloc(s.batch * kv * 8);
        pos = t.alloc(s.batch * kv * 8);
        t.free(mul);
        t.free(cs);
    }
    const std::uint64_t mask = eager_causal_mask(t, s, here);
    // the decoder layers' position_ids kwarg, copied to a device with layers but no embedding
    // (accelerate AlignDevicesHook) like the mask
    const std::uint64_t pos_copy = !emb && d.count != 0 ? t.alloc(s.batch * s.q * 8) : 0;
    std::uint64_t pe = 0;
    if (emb) {
        // OPTLearnedPositionalEmbedding.forward: `position_ids + self.offset`, then the lookup
        const std::uint64_t off = t.alloc(s.batch * s.q * 8);
        pe = t.alloc(hb);
        t.free(off);
        if (o.projected) { const std::uint64_t p = t.alloc(hb); t.free(embeds); embeds = p; }  // project_in
    }
    // the loop variable: `inputs_embeds + pos_embeds` (or a previous layer's output) on the
    // embedding's device, the moved copy on a later one
    std::uint64_t cur = here ? t.alloc(hb) : 0;
    if (d.count != 0) {
        earlier_layers_grown(t, d.count, 2 * s.kv_tensor(s.past), 2 * s.kv_tensor(kv));
        const std::uint64_t out = opt_layer(t, s, o, mask);
        t.free(cur);
        cur = out;
        if (!emb) { t.free(pos_copy); t.free(mask); }  // the hook's copies go with the layer call
    }
    if (d.head) {
        // final_layer_norm and project_out run with lm_head
        if (cur == 0) cur = t.alloc(hb);  // moved here when the layers are elsewhere
        if (o.pre_norm) { const std::uint64_t n = layer_norm(t, s, rows, s.hidden); t.free(cur); cur = n; }
        if (o.projected) { const std::uint64_t p = t.alloc(rows * o.proj * s.e); t.free(cur); cur = p; }
        // OPTDecoder.forward returns
        if (emb) { t.free(mask); t.free(pos); t.free(ones); t.free(pe); t.free(embeds); }
        // OPTForCausalLM.forward: lm_head on the last logits_rows positions (a view), contiguous already
        const std::uint64_t logits = t.alloc(s.batch * s.logits_rows * s.vocab * s.e);
        (void)logits;
    }
    return t;
}

using opt_rules = replayed<opt_forward>;

}  // namespace vramfit::transformers::detail::act
