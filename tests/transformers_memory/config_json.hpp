// The memory grid's config.json files, read by the library's reader (formats/hf/config.hpp).
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "vramfit/formats/hf/config.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::test {

inline model_config config_from_json(std::string_view json) {
    auto c = hf::parse_config(json);
    REQUIRE_MESSAGE(c.ok(), c.err().describe());
    return *c;
}

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace vramfit::test
