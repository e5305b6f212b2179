// vramfit/engines/transformers/detail/replay_rotary.hpp — the rotary embedding's cos/sin as the
// forward replays that count its temporaries make them on the embedding's device.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"

namespace vramfit::transformers::detail::act {

// <P>RotaryEmbedding.forward over `positions` position ids and `rot` rotary channels: float
// positions, the frequencies `inv_freq @ positions` (rot / 2 a position), cos and sin each scaled
// by attention_scaling, then cast to the model dtype (a no-op on float32, which keeps the scaled
// ones). The files differ in the channels cos/sin span: Gemma2/Gemma3RotaryEmbedding and
// Phi3RotaryEmbedding cat the frequencies with themselves (`cat`: cos/sin over all `rot`
// channels), GptOssRotaryEmbedding does not (half of them; its _apply_rotary_emb works on halves).
// Leaves cos and sin live.
struct cos_sin { std::uint64_t cos = 0, sin = 0; };

constexpr cos_sin rotary_embedding(tracker& t, const shape& s, std::uint64_t positions, std::uint64_t rot,
                                   bool cat) noexcept {
    const std::uint64_t n = positions * (cat ? rot : rot / 2);  // elements of cos (or sin)
    const std::uint64_t pf = t.alloc(positions * 4);
    const std::uint64_t freqs = t.alloc(positions * (rot / 2) * 4);
    t.free(pf);
    const std::uint64_t emb = cat ? t.alloc(n * 4) : 0;  // cat((freqs, freqs))
    const std::uint64_t c = t.alloc(n * 4);
    const std::uint64_t cs = t.alloc(n * 4);  // * attention_scaling
    t.free(c);
    const std::uint64_t si = t.alloc(n * 4);
    const std::uint64_t ss = t.alloc(n * 4);
    t.free(si);
    if (s.e == 4) { t.free(freqs); t.free(emb); return {cs, ss}; }
    const cos_sin out{t.alloc(n * s.e), t.alloc(n * s.e)};
    t.free(freqs);
    t.free(emb);
    t.free(cs);
    t.free(ss);
    return out;
}

}  // namespace vramfit::transformers::detail::act
