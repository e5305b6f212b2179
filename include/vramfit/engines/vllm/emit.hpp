// vramfit/engines/vllm/emit.hpp — a planned layout (plan.hpp) as the commands that start it, ready to
// paste: `vllm serve` with the layout and the settings the estimate assumed; on more than one
// machine first the Ray cluster (`ray start --head` on the head node, `ray start --address` on the
// others) and `--distributed-executor-backend ray`, which spreads the workers over the cluster's GPUs
// (vLLM's multi-node serving documentation). Flags are `vllm serve`'s own (EngineArgs.add_cli_args,
// vllm/engine/arg_utils.py).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vramfit/engines/vllm/log.hpp"
#include "vramfit/engines/vllm/plan.hpp"
#include "vramfit/engines/vllm/settings.hpp"
#include "vramfit/engines/vllm/version.hpp"

namespace vramfit::vllm {

// The Ray head's port in the commands (Ray's default GCS port).
inline constexpr std::uint32_t ray_port = 6379;

// A fraction with the decimals it needs: 0.92, 0.855, 0.9.
[[nodiscard]] inline std::string short_fraction(double value) {
    std::string s{format_fixed(value, 4).view()};
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

// The `vllm serve` line for a layout. `user` carries the flags given to the plan that vLLM needs
// told again (the rest are the release's defaults, which the estimate already assumed).
[[nodiscard]] inline std::string serve_command(const layout_candidate& l, std::string_view model, const engine_args& user) {
    const auto& r = l.estimate->args;
    std::string out;
    if (r.engine == engine_kind::v0 && default_engine(r.version) == engine_kind::v1) out += "VLLM_USE_V1=0 ";
    out += "vllm serve ";
    out += model;
    out += " --tensor-parallel-size " + std::to_string(l.tp);
    out += " --pipeline-parallel-size " + std::to_string(l.pp);
    out += " --gpu-memory-utilization " + short_fraction(r.gpu_memory_utilization);
    out += " --max-model-len " + std::to_string(l.max_model_len);
    out += " --kv-cache-dtype " + std::string{to_string(r.cache_dtype)};
    out += " --max-num-seqs " + std::to_string(r.max_num_seqs);
    if (user.max_num_batched_tokens != 0) out += " --max-num-batched-tokens " + std::to_string(r.max_num_batched_tokens);
    if (user.serving_dtype) out += user.serving_dtype == dtype::f16 ? " --dtype float16" : " --dtype bfloat16";
    if (user.enable_expert_parallel) out += " --enable-expert-parallel";
    if (user.enforce_eager) out += " --enforce-eager";
    if (l.cpu_offload.count() != 0) out += " --cpu-offload-gb " + short_fraction(l.cpu_offload.gib());
    if (l.nodes > 1) out += " --distributed-executor-backend ray";
    return out;
}

// Every command, one per line, with `#` comments saying where each runs.
[[nodiscard]] inline std::string emit_commands(const layout_candidate& l, std::string_view model, const engine_args& user) {
    std::string out;
    if (l.nodes > 1) {
        out += "# on the head node:\n";
        out += "ray start --head --port=" + std::to_string(ray_port) + "\n";
        out += l.nodes == 2 ? std::string{"# on the other node"} : "# on each of the other " + std::to_string(l.nodes - 1) + " nodes";
        out += " (HEAD_IP: the head node's address):\n";
        out += "ray start --address=HEAD_IP:" + std::to_string(ray_port) + "\n";
        out += "# then, on the head node:\n";
    }
    out += serve_command(l, model, user) + "\n";
    return out;
}

} // namespace vramfit::vllm
