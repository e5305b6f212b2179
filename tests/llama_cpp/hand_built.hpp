// Hand-built model descriptions for the engine tests: the published hyper-parameters of the
// oracle's models (tests/data/README.md, cpu_oracle.csv), without tensors unless a test adds
// them. Constexpr so the same models feed static_asserts and run-time CHECKs.
#pragma once

#include <cstdint>

#include "vramfit/engines/llama_cpp/model.hpp"

namespace vramfit::test {

struct attention_shape {
    architecture arch = architecture::llama;
    std::uint32_t n_layer = 0, n_embd = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_vocab = 0;
    std::uint32_t n_swa = 0;
    std::uint32_t swa_period = 0;  // layers il with il % period < period - 1 are SWA (set_swa_pattern)
    std::uint32_t n_ctx_train = 131072;
};

constexpr model_description hand_built(const attention_shape& s, std::string_view name = "hand-built") {
    model_description m{};
    m.name = name;
    auto& hp = m.hparams;
    hp.arch = s.arch;
    hp.n_layer = s.n_layer;
    hp.n_embd = s.n_embd;
    hp.n_vocab = s.n_vocab;
    hp.n_ctx_train = s.n_ctx_train;
    hp.n_embd_head_k = s.head_dim;
    hp.n_embd_head_v = s.head_dim;
    hp.n_rot = s.head_dim;
    hp.n_swa = s.n_swa;
    hp.swa_type = s.swa_period != 0 ? swa_kind::standard : swa_kind::none;
    for (std::uint32_t il = 0; il < s.n_layer; ++il) {
        layer_params layer{};
        layer.n_head = s.n_head;
        layer.n_head_kv = s.n_head_kv;
        layer.swa = s.swa_period != 0 && il % s.swa_period < s.swa_period - 1;
        hp.layers.push_back(layer);
    }
    m.files.push_back(source_file{});
    return m;
}

constexpr model_description llama_3_1_8b() {
    return hand_built({.n_layer = 32, .n_embd = 4096, .n_head = 32, .n_head_kv = 8, .head_dim = 128, .n_vocab = 128256},
                      "llama-3.1-8b");
}
constexpr model_description gemma_3_12b() {
    return hand_built({.arch = architecture::gemma3, .n_layer = 48, .n_embd = 3840, .n_head = 16, .n_head_kv = 8,
                       .head_dim = 256, .n_vocab = 262208, .n_swa = 1024, .swa_period = 6},
                      "gemma-3-12b");
}
constexpr model_description gpt_oss_20b() {
    return hand_built({.arch = architecture::gpt_oss, .n_layer = 24, .n_embd = 2880, .n_head = 64, .n_head_kv = 8,
                       .head_dim = 64, .n_vocab = 201088, .n_swa = 128, .swa_period = 2},
                      "gpt-oss-20b");
}
// DeepSeek-V2-Lite as the engine sees it after conversion: MQA over the 576-wide latent
// (kv_lora 512 + rope 64), 512-wide V, MLA head sizes 192 / 128.
constexpr model_description deepseek_v2_lite() {
    auto m = hand_built({.arch = architecture::deepseek2, .n_layer = 27, .n_embd = 2048, .n_head = 16, .n_head_kv = 1,
                         .head_dim = 576, .n_vocab = 102400},
                        "deepseek-v2-lite");
    m.hparams.n_embd_head_v = 512;
    m.hparams.n_lora_kv = 512;
    m.hparams.n_embd_head_k_mla = 192;
    m.hparams.n_embd_head_v_mla = 128;
    return m;
}

// Append a tensor laid out like a GGUF writer would (offsets assigned by the caller).
constexpr void add_tensor(model_description& m, std::string_view name, std::array<std::int64_t, 4> ne, ggml_type type,
                          std::uint32_t n_dims = 2) {
    tensor_info t{};
    t.name = name;
    t.ne = ne;
    t.n_dims = n_dims;
    t.type = type;
    m.tensors.push_back(t);
}

} // namespace vramfit::test
