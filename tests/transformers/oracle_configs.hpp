// The model_config of each oracle model: its config.json (tests/data/hf/configs/) read by the
// library's reader (formats/hf/config.hpp), so every device-map row also checks the reader.
#pragma once

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "vramfit/formats/hf/config.hpp"
#include "vramfit/model/config.hpp"

namespace oracle {

inline std::optional<vramfit::model_config> config_for(std::string_view model_id) {
    // "google/gemma-3-12b-it" in the oracle is Gemma3ForCausalLM built from the repo's text_config;
    // "#multimodal" the whole config as AutoModelForCausalLM.from_pretrained builds it.
    const bool multimodal = model_id.ends_with("#multimodal");
    std::string id{multimodal ? model_id.substr(0, model_id.size() - 11) : model_id};
    std::string dir;
    for (char c : id) dir += c == '/' ? std::string{"--"} : std::string(1, c);
    std::ifstream in(std::string(VRAMFIT_TEST_DATA) + "/hf/configs/" + dir + "/config.json", std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    auto config = vramfit::hf::parse_config(text.str(), dir + "/config.json");
    if (!config) return std::nullopt;
    if (config->multimodal && !multimodal) {  // the text model alone
        config->multimodal = false;
        config->model_type = "gemma3_text";
        config->vision = {};
    }
    return *config;
}

} // namespace oracle
