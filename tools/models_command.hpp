// tools/models_command.hpp — `vramfit models`: the built-in model catalog.
#pragma once

#include <iterator>
#include <string>

#include <fmt/format.h>

#include "json_writer.hpp"
#include "vramfit/catalog/models.hpp"
#include "vramfit/engines/llama_cpp/architecture.hpp"

namespace vramfit::cli {

inline std::string render_model_table() {
    std::string out;
    auto line = std::back_inserter(out);
    fmt::format_to(line, "{:<22} {:<14} {:>6} {:>7} {:>9} {:>8}  {}\n", "model", "architecture", "layers", "n_embd", "heads/kv", "vocab", "name");
    for (const auto& m : catalog::models) {
        fmt::format_to(line, "{:<22} {:<14} {:>6} {:>7} {:>9} {:>8}  {}\n", m.key, architecture_name(m.arch), m.n_layer, m.n_embd,
                       fmt::format("{}/{}", m.n_head, m.n_head_kv), m.n_vocab, m.display_name);
    }
    out += "\nUse NAME or NAME:FTYPE (e.g. llama-3.1-8b:Q4_K_M) wherever a model is expected.\n";
    return out;
}

inline std::string render_model_json() {
    json_writer json;
    json.begin_array();
    for (const auto& m : catalog::models) {
        json.begin_object()
            .field("key", m.key)
            .field("name", m.display_name)
            .field("architecture", architecture_name(m.arch))
            .field("n_layer", m.n_layer)
            .field("n_embd", m.n_embd)
            .field("n_head", m.n_head)
            .field("n_head_kv", m.n_head_kv)
            .field("n_vocab", m.n_vocab)
            .field("source", m.source)
            .end_object();
    }
    json.end_array();
    return json.str() + "\n";
}

} // namespace vramfit::cli
