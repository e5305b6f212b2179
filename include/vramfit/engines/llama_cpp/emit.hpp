// vramfit/engines/llama_cpp/emit.hpp — a plan (engines/llama_cpp/plan.hpp) as llama.cpp / llama-server flags,
// ready to paste. The flags are llama.cpp's own (common/arg.cpp at 1425386f):
//   -m FILE -c N -np N -fa on|off -ctk T -ctv T -ngl N -sm none|layer -ts A,B,... --n-cpu-moe N
//   --no-mmap --rpc HOST:PORT,...
// Device choice: a plan that uses some of the GPUs restricts the process to them with
// CUDA_VISIBLE_DEVICES (the CUDA runtime renumbers them from 0, so -ts lists the used GPUs in
// order); with one GPU the split mode is none (llama_model_load_from_file_impl then keeps only
// the main GPU). -ts carries layer counts, as llama.cpp's --fit writes it. The other machines of
// an RPC plan run one `rpc-server` (tools/rpc) per GPU, named by --rpc; llama.cpp puts RPC
// devices before the local ones, and the plan orders its layer split the same way.
#pragma once

#include <string>
#include <string_view>

#include "vramfit/engines/llama_cpp/plan.hpp"

namespace vramfit::llama_cpp {

[[nodiscard]] inline std::string emit_flags(const plan_result& p, std::string_view model_path, std::string_view program = "llama-server",
                                            bool all_gpus_used = false) {
    std::string out;
    std::string visible;
    std::uint32_t local = 0;
    for (std::size_t j = 0; j < p.gpu_indices.size(); ++j) {
        if (p.gpu_nodes[j] != 0) continue;
        if (!visible.empty()) visible += ',';
        visible += std::to_string(p.gpu_indices[j]);
        ++local;
    }
    if (p.gpus_used == 0) out += "CUDA_VISIBLE_DEVICES= ";
    else if (!all_gpus_used) out += "CUDA_VISIBLE_DEVICES=" + visible + " ";
    out += program;
    out += " -m ";
    out += model_path;
    out += " -c " + std::to_string(p.n_ctx);
    if (p.n_seq != 1) out += " -np " + std::to_string(p.n_seq);
    out += p.engine.flash_attn ? " -fa on" : " -fa off";
    if (p.engine.type_k != ggml_type::f16) out += " -ctk " + std::string{type_name(p.engine.type_k)};
    if (p.engine.type_v != ggml_type::f16) out += " -ctv " + std::string{type_name(p.engine.type_v)};
    out += " -ngl " + std::to_string(p.gpus_used == 0 ? 0 : p.engine.n_gpu_layers);
    if (p.gpus_used == 1) {
        out += " -sm none";
    } else if (p.gpus_used > 1) {
        out += " -sm layer -ts ";
        for (std::size_t j = 0; j < p.layers_per_gpu.size(); ++j) {
            if (j) out += ',';
            out += std::to_string(p.layers_per_gpu[j]);
        }
    }
    if (p.engine.n_cpu_moe != 0) {
        out += p.engine.n_cpu_moe >= p.n_layer ? std::string{" --cpu-moe"} : " --n-cpu-moe " + std::to_string(p.engine.n_cpu_moe);
    }
    if (!p.engine.context.use_mmap) out += " --no-mmap";
    if (p.nodes_used > 1) {
        // one rpc-server per remote GPU, in the plan's order (llama.cpp lists RPC devices first)
        std::string servers;
        std::string howto;
        for (std::size_t j = 0; j < p.gpu_indices.size(); ++j) {
            if (p.gpu_nodes[j] == 0) continue;
            const std::string host = "NODE" + std::to_string(p.gpu_nodes[j]);
            const std::string port = std::to_string(50052 + p.gpu_indices[j]);
            if (!servers.empty()) servers += ',';
            servers += host + ":" + port;
            howto += "\n# on " + host + ": CUDA_VISIBLE_DEVICES=" + std::to_string(p.gpu_indices[j]) + " rpc-server -H 0.0.0.0 -p " + port;
        }
        out += " --rpc " + servers + howto;
    }
    (void)local;
    return out;
}

} // namespace vramfit::llama_cpp
