// tools/cli.hpp — subcommand dispatch, kept apart from main() so tests can run the CLI in-process.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "estimate_command.hpp"
#include "vramfit/core/format.hpp"
#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#if defined(VRAMFIT_WITH_RUNTIME)
#include "vramfit/runtime/devices.hpp"
#endif
#include "gpus_command.hpp"
#include "models_command.hpp"
#include "plan_command.hpp"
#include "transformers_command.hpp"
#include "transformers_plan.hpp"
#include "vllm_command.hpp"
#include "vllm_plan.hpp"

namespace vramfit::cli {

// `vramfit help`: the commands, then the estimate flags from the flag table (arguments.hpp).
inline const std::string& usage_text() {
    static const std::string text =
        "usage: vramfit COMMAND [options]\n"
        "\n"
        "commands:\n"
        "  estimate MODEL [flags] [--json]   what llama.cpp allocates for MODEL (a .gguf file, or a catalog\n"
        "                                    name such as llama-3.1-8b:Q4_K_M), per buffer, on the CPU backend\n"
        "                                    or, with --gpu, per CUDA device\n"
        "  estimate MODEL --engine transformers [flags]\n"
        "                                    the device_map from_pretrained computes for a max_memory and what\n"
        "                                    generate() takes per device (MODEL: a Hugging Face model directory,\n"
        "                                    its config.json, a Hub id in the local cache, or a catalog name or\n"
        "                                    Hub id; estimate --engine transformers --help)\n"
        "  estimate MODEL --engine vllm --gpu G [-tp N] [-pp N] [...]\n"
        "                                    what vLLM's start-up finds on each GPU: weights, activation peak,\n"
        "                                    CUDA graphs, the KV blocks and the lines it prints (estimate\n"
        "                                    --engine vllm --help)\n"
        "  plan MODEL --gpu G [--ram SIZE] [...]  where MODEL should run: GPUs, split, CPU/disk offload, context,\n"
        "                                    quantization, speed, and the llama.cpp / Ollama settings (plan --help)\n"
        "  plan MODEL --engine transformers --gpu G [--ram SIZE] [--disk SIZE] [--emit accelerate]\n"
        "                                    the max_memory, dtype or bitsandbytes quantization whose device_map\n"
        "                                    generate() does not run out of memory with, and from_pretrained's\n"
        "                                    keyword arguments\n"
        "  plan MODEL --engine vllm --gpu G [--nodes N] [--max-model-len N | --max-ctx] [--emit vllm]\n"
        "                                    every TP x PP layout vLLM accepts, the KV each gets, the fastest\n"
        "                                    that serves the length, and the vllm serve (and Ray) commands\n"
        "                                    (plan --engine vllm --help)\n"
        "  models [--json]                   list the built-in model catalog\n"
        "  gpus [--json]                     list the built-in GPU catalog\n"
        "  devices                           the CUDA devices this machine sees, with live free memory\n"
        "  export MODEL FILE.gguf [--no-vocab]\n"
        "                                    write a catalog model as a shape-only GGUF (sparse: no disk for\n"
        "                                    the weights) that llama.cpp loads, to check an estimate for real\n"
        "  help                              this text\n"
        "\n" +
        estimate_flag_help();
    return text;
}

// `vramfit export llama-3.1-8b:Q4_K_M out.gguf`
inline int run_export(std::span<const std::string_view> args, std::string& out, std::string& err) {
    std::vector<std::string_view> positional;
    gguf_export_options options;
    for (auto a : args) {
        if (a == "--no-vocab") options.with_vocabulary = false;
        else if (a.starts_with("-")) { err += "vramfit export: unknown flag '" + std::string{a} + "'\n"; return 2; }
        else positional.push_back(a);
    }
    if (positional.size() != 2) {
        err += "vramfit export: expected MODEL and FILE.gguf, e.g. vramfit export llama-3.1-8b:Q4_K_M llama.gguf\n";
        return 2;
    }
    const std::string_view name = positional[0];
    const auto* entry = catalog::find(name.substr(0, name.find(':')));
    auto model = llama_cpp::describe(name);
    if (!model || entry == nullptr) {
        err += "vramfit export: " + (model ? std::string{"unknown catalog model"} : model.err().describe()) + "\n";
        return 2;
    }
    auto written = write_shape_only_gguf(*entry, *model, std::string{positional[1]}, options);
    if (!written) {
        err += "vramfit export: " + written.err().describe() + "\n";
        return 2;
    }
    out += "wrote " + std::string{positional[1]} + ": " + std::to_string(model->tensors.size()) + " tensors, " +
           format_bytes(*written) + " apparent size (sparse: the weights take no disk)\n";
    return 0;
}

inline int run(std::span<const std::string_view> args, std::string& out, std::string& err) {
    if (args.empty()) {
        err += usage_text();
        return 2;
    }
    const std::string_view command = args.front();
    const auto rest = args.subspan(1);
    if (command == "help" || command == "--help" || command == "-h") {
        out += usage_text();
        return 0;
    }
    if (command == "estimate" || command == "plan") {
        // --engine llama.cpp (the default) or transformers: each engine reads its own flags
        std::vector<std::string_view> engine_args;
        std::string_view engine = "llama.cpp";
        const std::string prefix = "vramfit " + std::string{command} + ": --engine: ";
        for (std::size_t i = 0; i < rest.size(); ++i) {
            if (rest[i] != "--engine") { engine_args.push_back(rest[i]); continue; }
            if (i + 1 >= rest.size()) { err += prefix + "missing value (llama.cpp, transformers or vllm)\n"; return 2; }
            engine = rest[++i];
        }
        if (engine != "llama.cpp" && engine != "transformers" && engine != "vllm") {
            err += prefix + "expects llama.cpp, transformers or vllm, got '" + std::string{engine} + "'\n";
            return 2;
        }
        if (engine == "vllm") {
            return command == "estimate" ? run_vllm_estimate(engine_args, out, err) : run_vllm_plan(engine_args, out, err);
        }
        const bool transformers = engine == "transformers";
        for (auto a : engine_args) {
            if (a != "--help" && a != "-h") continue;
            if (transformers) { out += transformers_flag_help(); return 0; }
            if (command == "estimate") { out += usage_text(); return 0; }
        }
        if (command == "estimate") return transformers ? run_transformers_estimate_command(engine_args, out, err) : run_estimate(engine_args, out, err);
        return transformers ? run_transformers_plan(engine_args, out, err) : run_plan(engine_args, out, err);
    }
    if (command == "models") {
        bool json = false;
        for (auto a : rest) {
            if (a == "--json") json = true;
            else { err += "vramfit models: unknown argument '" + std::string{a} + "'\n"; return 2; }
        }
        out += json ? render_model_json() : render_model_table();
        return 0;
    }
    if (command == "export") return run_export(rest, out, err);
    if (command == "devices") {
        if (!rest.empty()) { err += "vramfit devices: unknown argument '" + std::string{rest.front()} + "'\n"; return 2; }
#if defined(VRAMFIT_WITH_RUNTIME)
        const auto query = runtime::query_devices();
        auto table = runtime::format_device_table(query);
        if (!table.ends_with('\n')) table += '\n';
        (query.devices.empty() ? err : out) += table;
        return query.devices.empty() ? 1 : 0;
#else
        err += "vramfit devices: this build has no runtime library (configure with -Druntime=true)\n";
        return 1;
#endif
    }
    if (command == "gpus") {
        bool json = false;
        for (auto a : rest) {
            if (a == "--json") json = true;
            else { err += "vramfit gpus: unknown argument '" + std::string{a} + "'\n"; return 2; }
        }
        out += json ? render_gpu_json() : render_gpu_table();
        return 0;
    }
    err += "vramfit: unknown command '" + std::string{command} + "'\n\n";
    err += usage_text();
    return 2;
}

} // namespace vramfit::cli
