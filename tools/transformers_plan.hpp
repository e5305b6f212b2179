// tools/transformers_plan.hpp — `vramfit plan MODEL --engine transformers`: the max_memory that
// makes accelerate produce a map generate() does not run out of memory with, and the dtype or
// bitsandbytes quantization that gives the fastest such map; `--emit accelerate` prints the
// from_pretrained(...) keyword arguments.
//
// The plan is engines/transformers/plan.hpp's; this file reads the model once, renders the plan and
// emits its keyword arguments.
#pragma once

#include <algorithm>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "json_writer.hpp"
#include "transformers_command.hpp"
#include "vramfit/catalog/models.hpp"
#include "vramfit/engines/transformers/plan.hpp"

namespace vramfit::cli {

namespace detail {

inline std::string rate_text(double tokens_per_s) {
    return tokens_per_s >= 0.1 ? fmt::format("{:.1f}", tokens_per_s) : fmt::format("{:.3f}", tokens_per_s);
}

inline std::string candidate_label(const transformers::plan_candidate& c) {
    std::string label{torch_dtype_name(c.type)};
    if (c.quant == transformers::quantization::bnb_8bit) label += " + bitsandbytes 8-bit";
    if (c.quant == transformers::quantization::bnb_4bit) label += " + bitsandbytes 4-bit";
    return label;
}

} // namespace detail

// The name from_pretrained is given: a catalog entry's Hub id, else what the user typed.
inline std::string pretrained_name(const std::string& model) {
    if (const auto* entry = catalog::find(model)) return std::string{entry->hf_id};
    return model;
}

// The from_pretrained(...) call that loads the model as placed: `max_memory` as given (a string
// as accelerate parses it) or chosen, the dtype, the quantization, an offload_folder when
// modules go to disk.
inline std::string emit_accelerate(const transformers_options& o, const std::vector<transformers::memory_spec>& max_memory, dtype type,
                                   transformers::quantization quant, bool disk) {
    std::string out = fmt::format("AutoModelForCausalLM.from_pretrained(\n    \"{}\",\n", pretrained_name(o.model));
    if (o.one_unbounded_gpu) {
        out += "    device_map={\"\": 0},\n";  // the whole model on GPU 0, as estimated
    } else {
        out += fmt::format("    device_map=\"{}\",\n    max_memory={{", transformers::to_string(o.strategy));
        bool first = true;
        for (const auto& m : max_memory) {
            out += first ? "" : ", ";
            first = false;
            // a string as accelerate parses it, or the byte count (an int) when built from --gpu/--ram
            const std::string amount = m.text.empty() ? std::to_string(m.amount) : fmt::format("\"{}\"", m.text);
            out += m.device.is_gpu() ? fmt::format("{}: {}", m.device.index, amount) : fmt::format("\"{}\": {}", transformers::to_string(m.device), amount);
        }
        out += "},\n";
    }
    out += fmt::format("    dtype=torch.{},\n", torch_dtype_name(type));
    if (quant == transformers::quantization::bnb_8bit) out += "    quantization_config=BitsAndBytesConfig(load_in_8bit=True),\n";
    if (quant == transformers::quantization::bnb_4bit) out += "    quantization_config=BitsAndBytesConfig(load_in_4bit=True),\n";
    if (disk) out += "    offload_folder=\"offload\",\n";
    out += ")\n";
    return out;
}

inline std::string emit_accelerate(const transformers_options& o, const transformers::plan_candidate& c) {
    return emit_accelerate(o, c.max_memory, c.type, c.quant, c.disk_weights != bytes{});
}

inline std::string render_transformers_plan_text(const detail::hf_input& in, const transformers::transformers_plan& p,
                                                 const transformers_options& o) {
    std::string out;
    auto line = std::back_inserter(out);
    if (const auto* c = p.best()) {
        auto shown = o;
        shown.quant = c->quant;
        out += render_transformers_text(in, c->type, c->estimate, shown);
        fmt::format_to(line, "\nplan: {}, {} layers on the GPUs, {} on the CPU, {} on disk, about {} tokens/s decoding\n",
                       detail::candidate_label(*c), c->gpu_layers, c->cpu_layers, c->disk_layers, detail::rate_text(c->decode_tokens_per_s));
        out += "max_memory that gives this map (accelerate fills each GPU to it with weights; the rest is generate()'s):\n";
        out += emit_accelerate(o, *c);
    }
    out += "\nalternatives (decode speed: weights read at GPU bandwidth, offloaded ones over PCIe every token, plan/speed.hpp)\n";
    constexpr std::string_view row = "  {:<1} {:<32} {:>5} {:>5} {:>5} {:>9} {:>9} {:>9} {:>10}  {}\n";
    fmt::format_to(line, row, "", "dtype", "GPU", "CPU", "disk", "GPU GiB", "host GiB", "disk GiB", "decode t/s", "");
    for (std::size_t i = 0; i < p.candidates.size(); ++i) {
        const auto& c = p.candidates[i];
        const auto gib = [](bytes b) { return fmt::format("{:.1f}", static_cast<double>(b.count()) / (1024.0 * 1024 * 1024)); };
        fmt::format_to(line, row, p.any_fits && i == p.chosen ? "*" : "", detail::candidate_label(c), c.gpu_layers, c.cpu_layers,
                       c.disk_layers, gib(c.gpu_weights), gib(c.cpu_weights), gib(c.disk_weights), detail::rate_text(c.decode_tokens_per_s),
                       c.why_not());
    }
    if (!p.any_fits) out += "\nnothing fits: more GPU memory, more --ram, or --disk for offloaded weights\n";
    return out;
}

inline std::string render_transformers_plan_json(const detail::hf_input& in, const transformers::transformers_plan& p) {
    json_writer json;
    json.begin_object();
    json.field("engine", "transformers");
    json.field("fits", p.any_fits);
    if (const auto* c = p.best()) {
        json.key("plan").raw(render_transformers_json(in, c->type, c->estimate));
        json.key("max_memory").begin_object();
        for (const auto& m : c->max_memory) json.field(transformers::to_string(m.device), m.text);
        json.end_object();
        json.field("label", detail::candidate_label(*c));
        json.field("decode_tokens_per_s", c->decode_tokens_per_s);
    }
    json.key("alternatives").begin_array();
    for (const auto& c : p.candidates) {
        json.begin_object()
            .field("label", detail::candidate_label(c))
            .field("fits", c.fits())
            .field("gpu_layers", c.gpu_layers)
            .field("cpu_layers", c.cpu_layers)
            .field("disk_layers", c.disk_layers)
            .field("gpu_weights_bytes", c.gpu_weights.count())
            .field("cpu_weights_bytes", c.cpu_weights.count())
            .field("disk_weights_bytes", c.disk_weights.count())
            .field("decode_tokens_per_s", c.decode_tokens_per_s);
        if (!c.fits()) json.field("why_not", c.why_not());
        json.end_object();
    }
    json.end_array();
    json.end_object();
    return json.str() + "\n";
}

// `vramfit plan MODEL --engine transformers ...` (args without --engine and its value).
inline int run_transformers_plan(std::span<const std::string_view> args, std::string& out, std::string& err) {
    // before parsing: the estimate's parser would ask for --max-memory where plan wants --gpu
    bool gpu_given = false, memory_given = false;
    for (auto a : args) { gpu_given = gpu_given || a == "--gpu"; memory_given = memory_given || a == "--max-memory"; }
    if (!gpu_given) { err += "vramfit plan: missing --gpu: name the GPUs (e.g. --gpu a100-40gbx2; vramfit gpus lists them)\n"; return 2; }
    if (memory_given) { err += "vramfit plan: --max-memory: plan chooses max_memory itself; give --gpu, --ram and --disk\n"; return 2; }
    auto options = parse_transformers_args(args);
    if (!options) { err += "vramfit plan: " + options.err().describe() + "\n"; return 2; }
    auto input = detail::read_hf_input(options->model);
    if (!input) { err += "vramfit plan: " + input.err().describe() + "\n"; return 2; }
    transformers::plan_request request{};
    request.asked_dtype = options->torch_dtype;
    request.checkpoint_dtype = input->checkpoint_dtype;
    request.asked_quant = options->quant;
    request.strategy = options->strategy;
    request.generate = detail::generate_settings_of(*options);
    request.resources = {options->gpus, options->ram, options->disk};
    auto p = transformers::plan_generate(input->config, request);
    if (!p) { err += "vramfit plan: " + p.err().describe() + "\n"; return 2; }
    if (options->emit == "accelerate") {
        if (!p->any_fits) {
            const std::string first = p->candidates.empty() ? std::string{"no candidate"} : p->candidates.front().why_not();
            err += "vramfit plan: nothing fits (" + first + ")\n";
            return 2;
        }
        out += emit_accelerate(*options, *p->best());
        return 0;
    }
    out += options->json ? render_transformers_plan_json(*input, *p) : render_transformers_plan_text(*input, *p, *options);
    return p->any_fits ? 0 : 1;
}

// `vramfit estimate MODEL --engine transformers ...` (args without --engine and its value): the
// estimate as a table or JSON, or with --emit accelerate the keyword arguments of the asked map.
inline int run_transformers_estimate_command(std::span<const std::string_view> args, std::string& out, std::string& err) {
    auto options = parse_transformers_args(args);
    if (!options) { err += "vramfit estimate: " + options.err().describe() + "\n"; return 2; }
    auto e = detail::estimate_transformers(*options);
    if (!e) { err += "vramfit estimate: " + e.err().describe() + "\n"; return 2; }
    if (options->emit.empty()) {
        out += options->json ? render_transformers_json(e->input, e->type, e->memory) : render_transformers_text(e->input, e->type, e->memory, *options);
        return 0;
    }
    const auto* disk = e->memory.row(transformers::device_id::disk());
    out += emit_accelerate(*options, options->max_memory, e->type, options->quant, disk != nullptr && disk->weights != bytes{});
    return 0;
}

} // namespace vramfit::cli
