// tools/models_command.hpp — `vramfit models`: the built-in model catalog.
#pragma once

#include <iterator>
#include <string>

#include <fmt/format.h>

#include "json_writer.hpp"
#include "vramfit/catalog/models.hpp"
#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/transformers/modules.hpp"

namespace vramfit::cli {

// "llama.cpp,transformers": the engines vramfit models this entry for.
inline std::string engines_of(const catalog::model_entry& m) {
    std::string out;
    if (llama_cpp::architecture_of(m.config)) out = "llama.cpp";
    if (transformers::has_module_tree(m.config)) out += out.empty() ? "transformers" : ",transformers";
    return out.empty() ? std::string{"-"} : out;
}

inline std::string render_model_table() {
    std::string out;
    auto line = std::back_inserter(out);
    constexpr auto row = "{:<21} {:<12} {:>6} {:>6} {:>7} {:>7}  {:<22} {}\n";
    fmt::format_to(line, row, "model", "model_type", "layers", "hidden", "heads", "vocab", "engines", "Hugging Face id");
    for (const auto& m : catalog::models) {
        const auto& c = m.config;
        const std::string heads = c.num_attention_heads == 0 ? std::string{"-"} : fmt::format("{}/{}", c.num_attention_heads, c.kv_heads());
        fmt::format_to(line, row, m.key, c.model_type.view(), c.num_hidden_layers, c.hidden_size, heads, c.vocab_size, engines_of(m), m.hf_id);
    }
    out += "\nUse NAME or NAME:FTYPE (e.g. llama-3.1-8b:Q4_K_M) wherever a model is expected; with --engine transformers,\n"
           "NAME or its Hugging Face id (a model in the local Hugging Face cache is read from its own config.json).\n";
    return out;
}

inline std::string render_model_json() {
    json_writer json;
    json.begin_array();
    for (const auto& m : catalog::models) {
        const auto& c = m.config;
        const auto arch = llama_cpp::architecture_of(c);
        json.begin_object()
            .field("key", m.key)
            .field("name", m.display_name)
            .field("hf_id", m.hf_id)
            .field("tuned_hf_id", m.tuned_hf_id)
            .field("model_type", c.model_type.view())
            .field("hf_architecture", c.architecture.view());
        if (arch) json.field("architecture", architecture_name(*arch));
        else json.key("architecture").raw("null");
        json.field("n_layer", c.num_hidden_layers)
            .field("n_embd", c.hidden_size)
            .field("n_head", c.num_attention_heads)
            .field("n_head_kv", c.kv_heads())
            .field("n_vocab", c.vocab_size)
            .field("engines", std::string_view{engines_of(m)})
            .field("source", m.source)
            .end_object();
    }
    json.end_array();
    return json.str() + "\n";
}

} // namespace vramfit::cli
