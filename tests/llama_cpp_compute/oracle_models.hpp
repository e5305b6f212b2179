// Hand-written hyper-parameters of the oracle's models (the table in tests/data/README.md,
// "Compute buffer oracle"), for the compute-buffer tests. Dimensions are the published
// config.json values the oracle's GGUF files carry.
#pragma once

#include <string_view>

#include "vramfit/model_description.hpp"

namespace compute_test {

using namespace vramfit;

struct dense_spec {
    architecture arch;
    std::uint32_t n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff, n_vocab;
};

constexpr model_description make_model(std::string_view name, const dense_spec& s) {
    model_description m{};
    m.name = name;
    auto& hp = m.hparams;
    hp.arch = s.arch;
    hp.n_layer = s.n_layer;
    hp.n_embd = s.n_embd;
    hp.n_vocab = s.n_vocab;
    hp.n_embd_head_k = s.head_dim;
    hp.n_embd_head_v = s.head_dim;
    hp.n_rot = s.head_dim;
    for (std::uint32_t il = 0; il < s.n_layer; ++il) {
        layer_params lp{};
        lp.n_head = s.n_head;
        lp.n_head_kv = s.n_head_kv;
        lp.n_ff = s.n_ff;
        hp.layers.push_back(lp);
    }
    return m;
}

// llama_hparams::set_swa_pattern(n): layer il uses SWA when il % n < n - 1.
constexpr void set_swa(model_description& m, std::uint32_t n_swa, std::uint32_t pattern) {
    m.hparams.swa_type = swa_kind::standard;
    m.hparams.n_swa = n_swa;
    for (std::uint32_t il = 0; il < m.hparams.n_layer; ++il) m.hparams.layers[il].swa = (il % pattern) < (pattern - 1);
}

constexpr void set_experts(model_description& m, std::uint32_t n_expert, std::uint32_t n_used, std::uint32_t n_ff_exp) {
    m.hparams.n_expert = n_expert;
    m.hparams.n_expert_used = n_used;
    m.hparams.n_ff_exp = n_ff_exp;
}

// Returns false for an unknown key.
constexpr bool oracle_model(std::string_view key, model_description& out) {
    if (key == "llama-3.1-8b") { out = make_model(key, {architecture::llama, 32, 4096, 32, 8, 128, 14336, 128256}); return true; }
    if (key == "llama-3.2-1b") { out = make_model(key, {architecture::llama, 16, 2048, 32, 8, 64, 8192, 128256}); return true; }
    if (key == "mistral-7b-v0.3") { out = make_model(key, {architecture::llama, 32, 4096, 32, 8, 128, 14336, 32768}); return true; }
    if (key == "qwen2.5-7b") { out = make_model(key, {architecture::qwen2, 28, 3584, 28, 4, 128, 18944, 152064}); return true; }
    if (key == "gemma-3-12b") {
        out = make_model(key, {architecture::gemma3, 48, 3840, 16, 8, 256, 15360, 262208});
        set_swa(out, 1024, 6);
        return true;
    }
    if (key == "gemma-2-9b") {
        out = make_model(key, {architecture::gemma2, 42, 3584, 16, 8, 256, 14336, 256000});
        set_swa(out, 4096, 2);
        return true;
    }
    if (key == "phi-3-mini-4k") { out = make_model(key, {architecture::phi3, 32, 3072, 32, 32, 96, 8192, 32064}); return true; }
    if (key == "qwen3-30b-a3b") {
        out = make_model(key, {architecture::qwen3moe, 48, 2048, 32, 4, 128, 0, 151936});
        set_experts(out, 128, 8, 768);
        return true;
    }
    if (key == "mixtral-8x7b") {
        out = make_model(key, {architecture::llama, 32, 4096, 32, 8, 128, 14336, 32000});
        set_experts(out, 8, 2, 14336);
        return true;
    }
    if (key == "gpt-oss-20b") {
        out = make_model(key, {architecture::gpt_oss, 24, 2880, 64, 8, 64, 0, 201088});
        set_experts(out, 32, 4, 2880);
        set_swa(out, 128, 2);
        return true;
    }
    if (key == "deepseek-v2-lite") {
        // MLA: the cache holds kv_lora (512) + rope (64) per token in one "head"
        out = make_model(key, {architecture::deepseek2, 27, 2048, 16, 16, 576, 10944, 102400});
        auto& hp = out.hparams;
        hp.n_embd_head_v = 512;
        hp.n_rot = 64;
        hp.n_lora_q = 0;
        hp.n_lora_kv = 512;
        hp.n_embd_head_k_mla = 192;
        hp.n_embd_head_v_mla = 128;
        hp.n_layer_dense_lead = 1;
        hp.n_expert_shared = 2;
        hp.n_ff_shexp = 2816;
        for (auto& l : hp.layers) l.n_head_kv = 1;
        set_experts(out, 64, 6, 1408);
        return true;
    }
    return false;
}

} // namespace compute_test
