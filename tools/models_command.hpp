// tools/models_command.hpp — `vramfit models`: the built-in model catalog.
#pragma once

#include <cstdio>
#include <string>

#include "json_writer.hpp"
#include "vramfit/catalog/models.hpp"
#include "vramfit/engines/llama_cpp/architecture.hpp"

namespace vramfit::cli {

inline std::string render_model_table() {
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "%-22s %-14s %6s %7s %9s %8s  %s\n", "model", "architecture", "layers", "n_embd",
                  "heads/kv", "vocab", "name");
    out += line;
    for (const auto& m : catalog::models) {
        char heads[24];
        std::snprintf(heads, sizeof heads, "%u/%u", m.n_head, m.n_head_kv);
        std::snprintf(line, sizeof line, "%-22s %-14s %6u %7u %9s %8u  %s\n", std::string{m.key}.c_str(),
                      std::string{architecture_name(m.arch)}.c_str(), m.n_layer, m.n_embd, heads, m.n_vocab,
                      std::string{m.display_name}.c_str());
        out += line;
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
