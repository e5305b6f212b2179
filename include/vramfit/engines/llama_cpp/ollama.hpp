// vramfit/engines/llama_cpp/ollama.hpp — a plan (engines/llama_cpp/plan.hpp) as Ollama settings: Modelfile PARAMETERs
// and the server's environment (envconfig/config.go; prior-art notes §1.5):
//   num_ctx      context per sequence: Ollama asks llama.cpp for num_ctx x OLLAMA_NUM_PARALLEL
//                (llm/llama_server.go passes -c num_ctx*num_parallel -np N)
//   num_gpu      layers on the GPUs (-ngl); set only when the plan offloads, as Ollama lets
//                llama-server fit otherwise
//   CUDA_VISIBLE_DEVICES   the GPUs the plan uses
//   OLLAMA_SCHED_SPREAD=1  a split over several GPUs (otherwise Ollama keeps a model that fits
//                          one GPU on one GPU, which is what the plan wants anyway)
//   OLLAMA_KV_CACHE_TYPE   q8_0 / q4_0 (Ollama accepts f16, q8_0, q4_0), needs
//   OLLAMA_FLASH_ATTENTION=1
// Ollama has no tensor overrides: a plan that keeps experts on the CPU (--n-cpu-moe) cannot be
// expressed; the emitted text says so and gives the whole-layer count instead.
#pragma once

#include <string>
#include <string_view>

#include "vramfit/engines/llama_cpp/plan.hpp"

namespace vramfit::ollama {

[[nodiscard]] inline std::string emit_settings(const plan_result& p, std::string_view model_path) {
    std::string env;
    std::string visible;
    for (std::size_t j = 0; j < p.gpu_indices.size(); ++j) {
        if (!visible.empty()) visible += ',';
        visible += std::to_string(p.gpu_indices[j]);
    }
    env += "CUDA_VISIBLE_DEVICES=" + visible;
    if (p.gpus_used > 1) env += " OLLAMA_SCHED_SPREAD=1";
    if (p.engine.flash_attn) env += " OLLAMA_FLASH_ATTENTION=1";
    const bool quant_kv = p.engine.type_k != ggml_type::f16 || p.engine.type_v != ggml_type::f16;
    if (quant_kv) env += " OLLAMA_KV_CACHE_TYPE=" + std::string{type_name(p.engine.type_k)};
    if (p.n_seq != 1) env += " OLLAMA_NUM_PARALLEL=" + std::to_string(p.n_seq);
    std::string out = "# environment of `ollama serve`\n" + env + " ollama serve\n# Modelfile\nFROM " + std::string{model_path} + "\n";
    out += "PARAMETER num_ctx " + std::to_string(p.n_ctx / (p.n_seq == 0 ? 1 : p.n_seq)) + "\n";
    if (p.engine.n_cpu_moe != 0) {
        out += "# Ollama cannot keep only the expert tensors on the CPU (no -ot / --n-cpu-moe); use the\n"
               "# llama.cpp settings, or let Ollama offload whole layers (num_gpu) and expect it slower\n";
    } else if (p.engine.n_gpu_layers != p.n_layer + 1 || p.gpus_used == 0) {
        out += "PARAMETER num_gpu " + std::to_string(p.gpus_used == 0 ? 0 : p.engine.n_gpu_layers) + "\n";
    }
    if (p.nodes_used > 1) out += "# Ollama has no RPC: the multi-machine plan needs llama.cpp (--rpc)\n";
    if (quant_kv && p.engine.type_k != p.engine.type_v) out += "# Ollama sets one type for K and V: OLLAMA_KV_CACHE_TYPE applies to both\n";
    return out;
}

} // namespace vramfit::ollama
